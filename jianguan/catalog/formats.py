"""Text forms shared by the spreadsheet, the JSON export and the UI: citations, levels, methods, departments.

A citation is written ``《name》（level）第X条第Y款：text``; the level in brackets, the locator and the text are each
optional on input. Each citation starts on a new line; further lines continue its text. Levels are written
``省、市、县`` (any of 省/市/县, 省级/市级/县级, separated by 、，, ; or spaces).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jianguan.catalog.choices import (
    BASIS_LEVEL_NAMES_ZH,
    LEVEL_NAMES_ZH,
    METHOD_NAMES_ZH,
    AdministrativeLevel,
    BasisLevel,
)

_CITATION_RE = re.compile(
    r"^《(?P<name>[^《》]+)》"
    r"(?:[（(](?P<level>[^）)]*)[）)])?"
    r"(?P<locator>[^：:]*)"
    r"(?:[：:](?P<text>.*))?$",
    re.DOTALL,
)
_ARTICLE_RE = re.compile(r"^(第[〇零一二三四五六七八九十百千两\d]+条(?:之[一二三四五六七八九十]+)?)(.*)$")
_LOCATOR_RE = re.compile(r"^(?:第[〇零一二三四五六七八九十百千两\d（）()]+[条款项目](?:之[一二三四五六七八九十]+)?)*$")
_LEVEL_NAMES = {name: code for code, name in BASIS_LEVEL_NAMES_ZH.items()}
_LEVEL_SPLIT = re.compile(r"[、，,；;/\s]+")
_ADMIN_LEVEL_ALIASES = {
    "省": AdministrativeLevel.PROVINCE, "省级": AdministrativeLevel.PROVINCE,
    "市": AdministrativeLevel.CITY, "市级": AdministrativeLevel.CITY, "设区市": AdministrativeLevel.CITY,
    "县": AdministrativeLevel.COUNTY, "县级": AdministrativeLevel.COUNTY, "县（市、区）": AdministrativeLevel.COUNTY,
    "区": AdministrativeLevel.COUNTY, "县区": AdministrativeLevel.COUNTY,
}


class FormatError(ValueError):
    """A value that cannot be read; ``str()`` is a Chinese sentence."""


@dataclass(frozen=True)
class CitationText:
    """A citation as written, before the basis is looked up in the register."""

    name: str
    level: str  # a BasisLevel code, or "" when not given
    article: str
    clause: str
    text: str


def normalise_basis_name(name: str) -> str:
    return name.strip().strip("《》").strip()


def format_citation(name: str, level: str, article: str, clause: str, text: str) -> str:
    level_name = BASIS_LEVEL_NAMES_ZH.get(level, "")
    head = f"《{name}》" + (f"（{level_name}）" if level_name else "") + f"{article}{clause}"
    return f"{head}：{text}" if text else head


def parse_citation(line: str) -> CitationText:
    """Read one citation line; raises :class:`FormatError`."""
    line = line.strip()
    match = _CITATION_RE.match(line)
    if match is None:
        raise FormatError(f"设定依据“{line[:30]}”格式不正确，应为“《法规名称》第X条第X款：条文内容”")
    name = normalise_basis_name(match["name"])
    level = ""
    if match["level"]:
        level_text = match["level"].strip()
        if level_text not in _LEVEL_NAMES:
            raise FormatError(f"设定依据“{name}”的效力层级“{level_text}”无法识别（应为{'、'.join(_LEVEL_NAMES)}之一）")
        level = _LEVEL_NAMES[level_text]
    locator = re.sub(r"\s+", "", match["locator"] or "")
    if locator and not _LOCATOR_RE.match(locator):
        raise FormatError(f"设定依据“{name}”的条款“{locator}”格式不正确，应如“第十条第一款”")
    article, clause = "", ""
    if locator:
        found = _ARTICLE_RE.match(locator)
        if found is None:
            raise FormatError(f"设定依据“{name}”的条款“{locator}”应以“第X条”开头")
        article, clause = found.group(1), found.group(2)
    return CitationText(name, level, article, clause, (match["text"] or "").strip())


def parse_citations(value: str) -> list[CitationText]:
    """Citations, each starting on a new line with ``《``; a line that does not start a citation continues the
    previous citation's text (cited articles often have several paragraphs)."""
    blocks: list[str] = []
    for line in (value or "").splitlines():
        if not line.strip():
            continue
        starts = line.lstrip().startswith("《")
        if starts and blocks:
            try:
                parse_citation(line)
            except FormatError:
                starts = False
        if starts or not blocks:
            blocks.append(line.strip())
        else:
            blocks[-1] += "\n" + line.strip()
    return [parse_citation(block) for block in blocks]


def infer_basis_level(name: str) -> str:
    """The level of a basis not yet in the register, from its name (the register can correct it later)."""
    local = name.startswith(("江苏省", "南京市", "苏州市", "无锡市", "常州市", "南通市", "徐州市"))
    rule = name.endswith(("办法", "规定", "细则", "规则"))
    if name.startswith("全国人民代表大会") or name.endswith("法") and not rule and not local:
        return BasisLevel.LAW
    if name.endswith("条例"):
        return BasisLevel.LOCAL_REGULATION if local else BasisLevel.ADMINISTRATIVE_REGULATION
    if rule:
        return BasisLevel.LOCAL_GOVERNMENT_RULE if local else BasisLevel.DEPARTMENT_RULE
    return BasisLevel.NORMATIVE_DOCUMENT


def parse_levels(value: str) -> list[str]:
    """监管层级 text → level codes in a fixed order; raises :class:`FormatError`."""
    tokens = [t for t in _LEVEL_SPLIT.split((value or "").strip()) if t]
    found: set[str] = set()
    for token in tokens:
        code = _ADMIN_LEVEL_ALIASES.get(token)
        if code is None:
            raise FormatError(f"监管层级“{token}”无法识别（应为省、市、县）")
        found.add(code)
    return [code for code in AdministrativeLevel.values if code in found]


def format_levels(levels: list[str] | tuple[str, ...]) -> str:
    return "、".join(LEVEL_NAMES_ZH[code] for code in AdministrativeLevel.values if code in levels)


def parse_method(value: str) -> str:
    """监管方式 name (行政检查 …) or 2-digit code → code; raises :class:`FormatError`."""
    text = (value or "").strip()
    if text in METHOD_NAMES_ZH:
        return text
    for code, name in METHOD_NAMES_ZH.items():
        if text == name:
            return code
    raise FormatError(f"监管方式“{text}”无法识别（应为{'、'.join(METHOD_NAMES_ZH.values())}之一）")
