"""Catalogue import from the spreadsheet (DOMAIN.md columns, one row per sub-item) or the JSON export.

1. The file is read and **every row is validated first**: format, department, method, levels, citations, codes,
   duplicates inside the file, the actor's edit scope, and what the row would do to the stored catalogue.
2. The valid rows are written **in one transaction** through the catalogue services (codes issued, versions,
   history, audit); an exception midway rolls everything back, so nothing is half-written.
3. Invalid rows are reported with row, column and a Chinese reason (``error_report_xlsx``).

A row whose content equals the stored version changes nothing, so importing the same file twice changes nothing.
Without ``publish`` new items and changes become drafts for review; with ``publish`` (review and publish permission)
the file is taken as an approved catalogue and published at once. ``dry_run`` does everything and rolls it back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q

from jianguan.catalog import codes, services
from jianguan.catalog.choices import (
    BASIS_LEVEL_NAMES_ZH,
    AdministrativeLevel,
    BasisStatus,
    ImportStatus,
    ItemState,
    VersionStatus,
)
from jianguan.catalog.exporter import (
    BASIS_COLUMNS,
    BASIS_SHEET,
    BASIS_STATUS_NAMES_ZH,
    COLUMNS,
    ITEM_SHEET,
    JSON_FORMAT,
    REQUIRED_COLUMNS,
)
from jianguan.catalog.formats import (
    CitationText,
    FormatError,
    infer_basis_level,
    normalise_basis_name,
    parse_citation,
    parse_citations,
    parse_levels,
    parse_method,
)
from jianguan.catalog.models import PROVINCE_CODE, ImportBatch, ItemVersion, LegalBasis, SupervisionItem
from jianguan.core.errors import DomainError
from jianguan.core.models import DepartmentKind, Organization
from jianguan.lib.validators import ValidationFailure

MAX_ROWS = 20_000
MAX_BYTES = 20 * 1024 * 1024
_LEVEL_BY_NAME = {name: code for code, name in BASIS_LEVEL_NAMES_ZH.items()}
_STATUS_BY_NAME = {name: code for code, name in BASIS_STATUS_NAMES_ZH.items()}
_JSON_KEYS = {
    "监管部门": "department",
    "监管事项主项名称": "main_name",
    "监管事项子项名称": "sub_name",
    "监管方式": "method",
    "监管措施": "measures",
    "监管对象": "targets",
    "设定依据": "basis",
    "监管流程": "process",
    "监管结果": "result",
    "监管层级": "levels",
    "主项编码": "main_code",
    "子项编码": "sub_code",
}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str
    sheet: str = ITEM_SHEET

    def as_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "reason": self.reason}


@dataclass
class SourceRow:
    number: int
    values: dict[str, Any]


@dataclass
class ParsedRow:
    number: int
    kind: DepartmentKind
    method: str
    main_name: str
    sub_name: str
    measures: str
    targets: str
    citations: list[CitationText]
    process: str
    result: str
    levels: list[str]
    main_code: str
    sub_code: str

    def content_key(self) -> tuple[Any, ...]:
        return (self.sub_name or self.main_name, self.measures, self.targets, self.process, self.result,
                tuple(sorted(self.levels)),
                tuple((c.name, c.article, c.clause, c.text) for c in self.citations))


@dataclass
class BasisRow:
    number: int
    name: str
    values: dict[str, Any]


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do)."""

    file_name: str
    rows_total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    bases_created: int = 0
    bases_updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    status: str = ImportStatus.SUCCEEDED
    message: str = ""
    batch: ImportBatch | None = None

    @property
    def error_rows(self) -> int:
        return len({(e.sheet, e.row) for e in self.errors})

    def summary(self) -> str:
        return (f"共{self.rows_total}行：新增{self.created}项，更新{self.updated}项，未变化{self.unchanged}项，"
                f"错误{self.error_rows}行")


class ImportAborted(Exception):
    """The file cannot be read at all (not a spreadsheet, required columns missing …)."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(errors[0].reason if errors else "无法读取文件")
        self.errors = errors


# --- reading --------------------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _sheet_rows(sheet: Any, wanted: tuple[str, ...], required: tuple[str, ...], sheet_name: str) -> list[SourceRow]:
    rows = sheet.iter_rows(values_only=True)
    try:
        header = next(rows)
    except StopIteration:
        raise ImportAborted([RowError(1, "", "工作表为空", sheet_name)]) from None
    names = [_text(h).replace("*", "").replace("＊", "").strip() for h in header]
    missing = [c for c in required if c not in names]
    if missing:
        raise ImportAborted([RowError(1, c, f"缺少必需的列“{c}”", sheet_name) for c in missing])
    index = {name: names.index(name) for name in wanted if name in names}
    out = []
    for number, values in enumerate(rows, start=2):
        if number - 1 > MAX_ROWS:
            raise ImportAborted([RowError(number, "", f"行数超过上限{MAX_ROWS}行", sheet_name)])
        cells = {name: _text(values[i]) if i < len(values) else "" for name, i in index.items()}
        if any(cells.values()):
            out.append(SourceRow(number, cells))
    return out


def read_xlsx(data: bytes) -> tuple[list[SourceRow], list[SourceRow]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportAborted([RowError(0, "", f"无法读取xlsx文件：{exc}")]) from None
    try:
        sheet = workbook[ITEM_SHEET] if ITEM_SHEET in workbook.sheetnames else workbook.worksheets[0]
        items = _sheet_rows(sheet, COLUMNS, REQUIRED_COLUMNS, ITEM_SHEET)
        bases = []
        if BASIS_SHEET in workbook.sheetnames:
            bases = _sheet_rows(workbook[BASIS_SHEET], BASIS_COLUMNS, ("名称",), BASIS_SHEET)
    finally:
        workbook.close()
    return items, bases


def read_json(data: bytes) -> tuple[list[SourceRow], list[SourceRow]]:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportAborted([RowError(0, "", f"无法读取JSON文件：{exc}")]) from None
    if not isinstance(document, dict) or document.get("format") != JSON_FORMAT or not isinstance(
            document.get("rows"), list):
        raise ImportAborted([RowError(0, "", f"JSON文件不是监管事项目录导出格式（format应为{JSON_FORMAT}）")])
    if len(document["rows"]) > MAX_ROWS:
        raise ImportAborted([RowError(0, "", f"行数超过上限{MAX_ROWS}行")])
    items = []
    for number, row in enumerate(document["rows"], start=1):
        if not isinstance(row, dict):
            items.append(SourceRow(number, {"__invalid__": "该条不是对象"}))
            continue
        values = {column: row.get(key) for column, key in _JSON_KEYS.items()}
        if row.get("department_code"):
            values["监管部门"] = row["department_code"]
        if row.get("method_code"):
            values["监管方式"] = row["method_code"]
        items.append(SourceRow(number, values))
    bases = []
    for number, basis in enumerate(document.get("legal_bases") or [], start=1):
        if isinstance(basis, dict):
            bases.append(SourceRow(number, {
                "名称": basis.get("name") or "", "效力层级": basis.get("level") or "",
                "制定机关": basis.get("issuing_body") or "", "文号": basis.get("document_number") or "",
                "施行日期": basis.get("effective_on") or "", "修订日期": basis.get("amended_on") or "",
                "废止日期": basis.get("repealed_on") or "", "状态": basis.get("status") or "",
            }))
    return items, bases


def read_file(data: bytes, file_name: str) -> tuple[list[SourceRow], list[SourceRow]]:
    if len(data) > MAX_BYTES:
        raise ImportAborted([RowError(0, "", "文件超过20MB上限")])
    if data[:2] == b"PK":
        return read_xlsx(data)
    if data.lstrip()[:1] in (b"{", b"\xef"):
        return read_json(data)
    raise ImportAborted([RowError(0, "", "文件应为xlsx表格或JSON")])


# --- validation -----------------------------------------------------------------------------------------------------


class _Context:
    """Lookups loaded once per import."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor
        self.kinds: dict[str, DepartmentKind] = {}
        for kind in DepartmentKind.objects.all():
            for key in (kind.code, kind.name, kind.province_name, kind.short_name):
                self.kinds.setdefault(key, kind)
        self.bases = {b.name: b for b in LegalBasis.objects.all()}
        self.sheet_bases: dict[str, BasisRow] = {}
        provincial = {o.kind_id: o for o in Organization.objects.filter(region_id=PROVINCE_CODE)}
        self.editable: set[str] = set()
        for code, org in provincial.items():
            try:
                services._require_placement(actor, org)
            except DomainError:
                continue
            self.editable.add(code)
        self.provincial = provincial
        self.can_add_basis = actor.has_perm("catalog.add_legalbasis")
        self.can_change_basis = actor.has_perm("catalog.change_legalbasis")


def _str(values: dict[str, Any], column: str) -> str:
    value = values.get(column)
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return ""
    return " ".join(str(value).split()) if column in ("监管事项主项名称", "监管事项子项名称") else str(value).strip()


def _parse_date(value: str) -> dt.date | None:
    value = value.strip()
    if not value:
        return None
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise FormatError(f"日期“{value}”格式不正确，应如2021-04-29")


def _parse_basis_rows(rows: list[SourceRow], ctx: _Context, errors: list[RowError]) -> list[BasisRow]:
    out = []
    seen: dict[str, int] = {}
    for row in rows:
        row_errors: list[RowError] = []
        name = normalise_basis_name(str(row.values.get("名称") or ""))
        if not name:
            row_errors.append(RowError(row.number, "名称", "请填写法律法规名称", BASIS_SHEET))
        elif name in seen:
            row_errors.append(RowError(row.number, "名称", f"与第{seen[name]}行重复", BASIS_SHEET))
        values: dict[str, Any] = {}
        level_text = str(row.values.get("效力层级") or "").strip()
        level = _LEVEL_BY_NAME.get(level_text, level_text if level_text in BASIS_LEVEL_NAMES_ZH else "")
        if not level:
            row_errors.append(RowError(row.number, "效力层级", f"效力层级“{level_text}”无法识别（应为"
                                       f"{'、'.join(BASIS_LEVEL_NAMES_ZH.values())}之一）", BASIS_SHEET))
        values["level"] = level
        values["issuing_body"] = str(row.values.get("制定机关") or "").strip()
        values["document_number"] = str(row.values.get("文号") or "").strip()
        for column, key in (("施行日期", "effective_on"), ("修订日期", "amended_on"), ("废止日期", "repealed_on")):
            try:
                values[key] = _parse_date(str(row.values.get(column) or ""))
            except FormatError as exc:
                row_errors.append(RowError(row.number, column, str(exc), BASIS_SHEET))
        status_text = str(row.values.get("状态") or "").strip()
        status = _STATUS_BY_NAME.get(status_text, status_text if status_text in BasisStatus.values else "")
        if status_text and not status:
            row_errors.append(RowError(row.number, "状态",
                                       f"状态“{status_text}”无法识别（应为现行有效、已修订、已废止）", BASIS_SHEET))
        values["status"] = status or (BasisStatus.REPEALED if values.get("repealed_on") else BasisStatus.IN_FORCE)
        existing = ctx.bases.get(name)
        if existing is None and not ctx.can_add_basis:
            row_errors.append(RowError(row.number, "名称", f"《{name}》尚未登记，您无权登记新的法律法规", BASIS_SHEET))
        if existing is not None and _basis_differs(existing, values) and not ctx.can_change_basis:
            row_errors.append(RowError(row.number, "名称", f"《{name}》与法律法规库不一致，您无权修改", BASIS_SHEET))
        if row_errors:
            errors.extend(row_errors)
            continue
        seen[name] = row.number
        basis_row = BasisRow(row.number, name, values)
        ctx.sheet_bases[name] = basis_row
        out.append(basis_row)
    return out


def _basis_differs(basis: LegalBasis, values: dict[str, Any]) -> bool:
    return any(getattr(basis, k) != v for k, v in values.items())


def _citations_of(row: SourceRow) -> list[CitationText]:
    value = row.values.get("设定依据")
    if isinstance(value, list):
        out = []
        for entry in value:
            if not isinstance(entry, dict):
                raise FormatError("设定依据的每一项应为对象")
            name = normalise_basis_name(str(entry.get("name") or ""))
            if not name:
                raise FormatError("设定依据缺少法律法规名称")
            level = str(entry.get("level") or "")
            if level and level not in BASIS_LEVEL_NAMES_ZH:
                raise FormatError(f"设定依据《{name}》的效力层级“{level}”无法识别")
            locator = f"{entry.get('article') or ''}{entry.get('clause') or ''}"
            parsed = parse_citation(f"《{name}》{locator}")  # checks the locator
            out.append(CitationText(name, level, parsed.article, parsed.clause, str(entry.get("text") or "").strip()))
        return out
    return parse_citations(str(value or ""))


def _levels_of(row: SourceRow) -> list[str]:
    value = row.values.get("监管层级")
    if isinstance(value, list):
        bad = [v for v in value if v not in AdministrativeLevel.values]
        if bad:
            raise FormatError(f"监管层级“{bad[0]}”无法识别（应为province、city、county）")
        return [lv for lv in AdministrativeLevel.values if lv in value]
    return parse_levels(str(value or ""))


def _parse_row(row: SourceRow, ctx: _Context) -> ParsedRow | list[RowError]:
    errors: list[RowError] = []
    n = row.number
    if "__invalid__" in row.values:
        return [RowError(n, "", row.values["__invalid__"])]

    def err(column: str, reason: str) -> None:
        errors.append(RowError(n, column, reason))

    department = _str(row.values, "监管部门")
    kind = ctx.kinds.get(department)
    if not department:
        err("监管部门", "请填写监管部门")
    elif kind is None:
        err("监管部门", f"监管部门“{department}”不在部门代码表中")
    elif kind.code not in ctx.provincial:
        err("监管部门", f"省级{kind.name}尚未登记")
    elif kind.code not in ctx.editable:
        err("监管部门", f"您无权编辑{kind.province_name}的监管事项")
    method = ""
    try:
        method = parse_method(_str(row.values, "监管方式"))
    except FormatError as exc:
        err("监管方式", str(exc))
    main_name, sub_name = _str(row.values, "监管事项主项名称"), _str(row.values, "监管事项子项名称")
    if not main_name:
        err("监管事项主项名称", "请填写监管事项主项名称")
    for column, value in (("监管事项主项名称", main_name), ("监管事项子项名称", sub_name)):
        if len(value) > 200:
            err(column, "名称不能超过200个字")
    texts = {}
    for column in ("监管措施", "监管对象", "监管流程", "监管结果"):
        texts[column] = services._clean(_str(row.values, column))
        if not texts[column]:
            err(column, f"请填写{column}")
    citations: list[CitationText] = []
    try:
        citations = _citations_of(row)
    except FormatError as exc:
        err("设定依据", str(exc))
    else:
        if not citations:
            err("设定依据", "请填写至少一条设定依据")
        for citation in citations:
            reason = _check_citation(citation, ctx)
            if reason:
                err("设定依据", reason)
    levels: list[str] = []
    try:
        levels = _levels_of(row)
        if not levels:
            err("监管层级", "请填写监管层级（省、市、县）")
    except FormatError as exc:
        err("监管层级", str(exc))
    main_code, sub_code = _str(row.values, "主项编码"), _str(row.values, "子项编码")
    if main_code:
        try:
            parts = codes.parse_code(main_code)
            if len(main_code) != 11:
                err("主项编码", f"主项编码应为11位数字（当前为{len(main_code)}位）")
            elif kind is not None and method and (parts.department != kind.code or parts.method != method):
                err("主项编码", f"主项编码{main_code}与监管部门（{kind.code}）或监管方式（{method}）不一致")
        except ValidationFailure as exc:
            err("主项编码", exc.message)
    if sub_code:
        try:
            parts = codes.parse_code(sub_code)
            if len(sub_code) != 14:
                err("子项编码", f"子项编码应为14位数字（当前为{len(sub_code)}位）")
            elif main_code and not sub_code.startswith(main_code):
                err("子项编码", f"子项编码{sub_code}应以主项编码{main_code}开头")
            elif sub_name and parts.sub_serial == 0:
                err("子项编码", "子项的编码末三位不能为000")
            elif not sub_name and parts.sub_serial != 0:
                err("子项编码", "没有子项名称的行，子项编码末三位应为000")
            elif kind is not None and method and (parts.department != kind.code or parts.method != method):
                err("子项编码", f"子项编码{sub_code}与监管部门或监管方式不一致")
        except ValidationFailure as exc:
            err("子项编码", exc.message)
        if not main_code and not errors:
            main_code = sub_code[:11]
    if errors:
        return errors
    assert kind is not None
    return ParsedRow(n, kind, method, main_name, sub_name, texts["监管措施"], texts["监管对象"], citations,
                     texts["监管流程"], texts["监管结果"], levels, main_code, sub_code)


def _check_citation(citation: CitationText, ctx: _Context) -> str:
    basis = ctx.bases.get(citation.name)
    sheet = ctx.sheet_bases.get(citation.name)
    level = sheet.values["level"] if sheet is not None else basis.level if basis is not None else ""
    status = sheet.values["status"] if sheet is not None else basis.status if basis is not None else ""
    if basis is None and sheet is None and not ctx.can_add_basis:
        return f"设定依据《{citation.name}》尚未登记，您无权登记新的法律法规"
    if citation.level and level and citation.level != level:
        return (f"设定依据《{citation.name}》的效力层级“{BASIS_LEVEL_NAMES_ZH[citation.level]}”与法律法规库中的"
                f"“{BASIS_LEVEL_NAMES_ZH[level]}”不一致")
    if status == BasisStatus.REPEALED:
        return f"设定依据《{citation.name}》已废止，不能作为设定依据"
    return ""


# --- planning -------------------------------------------------------------------------------------------------------


@dataclass
class _SubPlan:
    row: ParsedRow
    existing: SupervisionItem | None = None
    action: str = "create"  # create | update | unchanged


@dataclass
class _MainPlan:
    kind: DepartmentKind
    method: str
    name: str
    code: str = ""
    own_row: ParsedRow | None = None
    subs: list[_SubPlan] = field(default_factory=list)
    existing: SupervisionItem | None = None
    action: str = "create"
    rows: list[ParsedRow] = field(default_factory=list)


def _version_key(version: ItemVersion | None) -> tuple[Any, ...] | None:
    if version is None:
        return None
    citations = tuple((c.basis.name, c.article, c.clause, c.text)
                      for c in sorted(version.citations.all(), key=lambda c: (c.position, c.pk)))
    return (version.name, version.measures, version.targets, version.process, version.result,
            tuple(sorted(version.levels)), citations)


def _open(item: SupervisionItem) -> ItemVersion | None:
    return item.versions.filter(status__in=(VersionStatus.DRAFT, VersionStatus.SUBMITTED, VersionStatus.APPROVED,
                                            VersionStatus.REJECTED)).prefetch_related("citations__basis").first()


def _decide(item: SupervisionItem, *, publish: bool, same: Any) -> str | RowError | None:
    """``create``/``update``/``unchanged`` for an existing item, given ``same(version) -> bool``; or a reason."""
    current = item.current_version
    open_version = _open(item)
    if publish:
        if current is not None and same(current):
            return "unchanged"  # the file's approved content is what is public (a pending draft is left alone)
    else:
        target = open_version or current
        if target is not None and same(target):
            return "unchanged"
    if open_version is not None and open_version.status in (VersionStatus.SUBMITTED, VersionStatus.APPROVED):
        return None  # under review: cannot be changed by an import
    return "update"


def _plan(rows: list[ParsedRow], *, publish: bool, errors: list[RowError]) -> list[_MainPlan]:
    groups: dict[tuple[str, str, str], _MainPlan] = {}
    for row in rows:
        key = (row.kind.code, row.method, row.main_name)
        plan = groups.setdefault(key, _MainPlan(row.kind, row.method, row.main_name))
        plan.rows.append(row)
    bad_rows: set[int] = set()

    def reject(row: ParsedRow, column: str, reason: str) -> None:
        errors.append(RowError(row.number, column, reason))
        bad_rows.add(row.number)

    plans = []
    for plan in groups.values():
        first_code_row: ParsedRow | None = None
        for row in plan.rows:
            if row.main_code:
                if first_code_row is None:
                    first_code_row = row
                    plan.code = row.main_code
                elif row.main_code != plan.code:
                    reject(row, "主项编码", f"同一主项的主项编码与第{first_code_row.number}行（{plan.code}）不一致")
        own = [r for r in plan.rows if not r.sub_name and r.number not in bad_rows]
        subs = [r for r in plan.rows if r.sub_name and r.number not in bad_rows]
        if own and subs:
            for row in own:
                reject(row, "监管事项子项名称",
                       f"主项“{plan.name}”在第{subs[0].number}行有子项，本行应填写子项名称")
            own = []
        for row in own[1:]:
            reject(row, "监管事项主项名称", f"与第{own[0].number}行重复")
        plan.own_row = own[0] if own else None
        seen_subs: dict[str, int] = {}
        seen_codes: dict[str, int] = {}
        for row in subs:
            if row.sub_name in seen_subs:
                reject(row, "监管事项子项名称", f"与第{seen_subs[row.sub_name]}行重复")
                continue
            if row.sub_code and row.sub_code in seen_codes:
                reject(row, "子项编码", f"与第{seen_codes[row.sub_code]}行编码重复")
                continue
            seen_subs[row.sub_name] = row.number
            if row.sub_code:
                seen_codes[row.sub_code] = row.number
            plan.subs.append(_SubPlan(row))
        if plan.own_row is None and not plan.subs:
            continue
        _match_main(plan, publish=publish, reject=reject)
        if plan.action == "error":
            continue
        plans.append(plan)
    return plans


def _match_main(plan: _MainPlan, *, publish: bool, reject: Any) -> None:
    rows = [plan.own_row] if plan.own_row is not None else [s.row for s in plan.subs]

    def fail(column: str, reason: str) -> None:
        for row in rows:
            reject(row, column, reason)
        plan.action = "error"

    base = SupervisionItem.objects.filter(main__isnull=True).select_related("current_version")
    if plan.code:
        existing = base.filter(code=f"{plan.code}000").first()
        if existing is not None and existing.state == ItemState.ABOLISHED:
            return fail("主项编码", f"主项编码{plan.code}已废止，编码不能重复使用")
        if existing is None:
            same_name = base.exclude(state=ItemState.ABOLISHED).filter(
                department_kind=plan.kind, method=plan.method, name=plan.name).first()
            if same_name is not None:
                return fail("主项编码", f"同名主项已存在，编码为{same_name.main_code}")
    else:
        candidates = list(base.exclude(state=ItemState.ABOLISHED).filter(
            department_kind=plan.kind, method=plan.method).filter(
            Q(name=plan.name) | Q(current_version__name=plan.name)).distinct()[:2])
        if len(candidates) > 1:
            codes_text = f"{candidates[0].main_code}、{candidates[1].main_code}"
            return fail("监管事项主项名称", f"有多个同名主项（{codes_text}），请填写主项编码")
        existing = candidates[0] if candidates else None
    plan.existing = existing
    if existing is None:
        plan.action = "create"
    else:
        has_subs = existing.sub_items.exclude(state=ItemState.ABOLISHED).exists()
        if plan.own_row is not None and has_subs:
            return fail("监管事项子项名称", f"主项“{plan.name}”已有子项，请按子项逐行导入")
        if plan.own_row is not None:
            key = plan.own_row.content_key()
            decision = _decide(existing, publish=publish, same=lambda v: _version_key(v) == key)
        else:
            decision = _decide(existing, publish=publish, same=lambda v: v.name == plan.name)
        if decision is None:
            return fail("监管事项主项名称", f"主项“{plan.name}”正在审核中，不能通过导入修改")
        plan.action = decision if isinstance(decision, str) else "error"
    for sub in plan.subs:
        _match_sub(plan, sub, publish=publish, reject=reject)
    plan.subs = [s for s in plan.subs if s.action != "error"]
    if plan.own_row is None and not plan.subs:
        plan.action = "error"
    return None


def _match_sub(plan: _MainPlan, sub: _SubPlan, *, publish: bool, reject: Any) -> None:
    row = sub.row
    existing: SupervisionItem | None = None
    if row.sub_code:
        existing = SupervisionItem.objects.filter(code=row.sub_code).select_related("current_version").first()
        if existing is not None and existing.state == ItemState.ABOLISHED:
            reject(row, "子项编码", f"子项编码{row.sub_code}已废止，编码不能重复使用")
            sub.action = "error"
            return
        if existing is not None and plan.existing is not None and existing.main_id != plan.existing.pk:
            reject(row, "子项编码", f"子项编码{row.sub_code}属于其他主项")
            sub.action = "error"
            return
    elif plan.existing is not None:
        matches = list(plan.existing.sub_items.exclude(state=ItemState.ABOLISHED).filter(
            Q(name=row.sub_name) | Q(current_version__name=row.sub_name)).select_related("current_version")
            .distinct()[:2])
        if len(matches) > 1:
            reject(row, "监管事项子项名称", "有多个同名子项，请填写子项编码")
            sub.action = "error"
            return
        existing = matches[0] if matches else None
    sub.existing = existing
    if existing is None:
        sub.action = "create"
        return
    key = row.content_key()
    decision = _decide(existing, publish=publish, same=lambda v: _version_key(v) == key)
    if decision is None:
        reject(row, "监管事项子项名称", f"子项“{row.sub_name}”正在审核中，不能通过导入修改")
        sub.action = "error"
        return
    sub.action = decision if isinstance(decision, str) else "error"


# --- writing --------------------------------------------------------------------------------------------------------


def _content(row: ParsedRow, name: str, bases: dict[str, LegalBasis]) -> services.ItemContent:
    citations = tuple(services.CitationData(bases[c.name], c.article, c.clause, c.text) for c in row.citations)
    return services.ItemContent(name=name, measures=row.measures, targets=row.targets, process=row.process,
                                result=row.result, levels=tuple(row.levels), citations=citations)


class _Writer:
    def __init__(self, actor: Any, *, publish: bool, reason: str, result: ImportResult) -> None:
        self.actor = actor
        self.publish = publish
        self.reason = reason
        self.result = result
        self.bases: dict[str, LegalBasis] = {b.name: b for b in LegalBasis.objects.all()}

    def write_bases(self, basis_rows: list[BasisRow], rows: list[ParsedRow]) -> None:
        for basis_row in basis_rows:
            existing = self.bases.get(basis_row.name)
            if existing is None:
                self.bases[basis_row.name] = services.create_legal_basis(actor=self.actor, name=basis_row.name,
                                                                         **basis_row.values)
                self.result.bases_created += 1
            elif _basis_differs(existing, basis_row.values):
                self.bases[basis_row.name] = services.update_legal_basis(existing, actor=self.actor,
                                                                         reason=self.reason, **basis_row.values)
                self.result.bases_updated += 1
        for row in rows:
            for citation in row.citations:
                if citation.name not in self.bases:
                    level = citation.level or infer_basis_level(citation.name)
                    self.bases[citation.name] = services.create_legal_basis(actor=self.actor, name=citation.name,
                                                                            level=level)
                    self.result.bases_created += 1

    def _count(self, action: str) -> None:
        if action == "create":
            self.result.created += 1
        elif action == "update":
            self.result.updated += 1
        else:
            self.result.unchanged += 1

    def _apply(self, item: SupervisionItem, content: services.ItemContent, *, keep_rest: bool = False) -> ItemVersion:
        """Bring ``item`` to ``content``: edit its open draft, or start a revision of the published version."""
        item.refresh_from_db()
        version = services.open_version(item)
        if version is None:
            version = services.start_revision(item, actor=self.actor, reason=self.reason)
        if keep_rest:  # a main item with sub-items: only its name comes from the file
            old = services.content_of(version)
            content = services.ItemContent(content.name, old.measures, old.targets, old.process, old.result,
                                           old.levels, old.citations)
        return services.update_draft(version, actor=self.actor, content=content, reason=self.reason)

    def _publish(self, item: SupervisionItem) -> None:
        item.refresh_from_db()
        version = services.open_version(item)
        if version is not None:
            services.publish_imported(version, actor=self.actor, comment=self.reason)

    def write(self, plan: _MainPlan) -> None:
        has_subs = plan.own_row is None
        if has_subs:
            main_content = services.ItemContent(name=plan.name)
        else:
            assert plan.own_row is not None
            main_content = _content(plan.own_row, plan.name, self.bases)
        main = plan.existing
        if main is None:
            main = services.create_item(actor=self.actor, department_kind=plan.kind, method=plan.method,
                                        content=main_content, reason=self.reason, code=plan.code or None,
                                        imported=True)
        elif plan.action == "update":
            self._apply(main, main_content, keep_rest=has_subs)
        self._count(plan.action)
        sub_items = []
        for sub in plan.subs:
            content = _content(sub.row, sub.row.sub_name, self.bases)
            if sub.existing is None:
                item = services.create_sub_item(main, actor=self.actor, content=content, reason=self.reason,
                                                code=sub.row.sub_code or None, imported=True)
            else:
                item = sub.existing
                if sub.action == "update":
                    self._apply(item, content)
            self._count(sub.action)
            sub_items.append((item, sub.action))
        if self.publish:
            if plan.action != "unchanged" or main.state != ItemState.PUBLISHED:
                self._publish(main)
            for item, action in sub_items:
                if action != "unchanged" or item.state != ItemState.PUBLISHED:
                    self._publish(item)


# --- entry point ----------------------------------------------------------------------------------------------------


def import_catalogue(data: bytes, *, file_name: str, actor: Any, dry_run: bool = False,
                     publish: bool = False) -> ImportResult:
    """Validate every row, write the valid ones in one transaction, record an :class:`ImportBatch`."""
    if not actor.has_perm("catalog.import_supervisionitem"):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("catalog.import_supervisionitem")
    if publish and not (actor.has_perm("catalog.publish_supervisionitem")
                        and actor.has_perm("catalog.review_supervisionitem")):
        raise DomainError("catalog.publish_permission", "导入并直接发布需要审核和发布权限。")
    result = ImportResult(file_name=file_name)
    sha = hashlib.sha256(data).hexdigest()
    try:
        source_rows, source_bases = read_file(data, file_name)
    except ImportAborted as aborted:
        result.errors = aborted.errors
        result.status = ImportStatus.REJECTED
        result.message = aborted.errors[0].reason if aborted.errors else "无法读取文件"
        result.batch = _record(result, actor, sha, dry_run=dry_run, publish=publish)
        return result
    result.rows_total = len(source_rows)
    ctx = _Context(actor)
    errors: list[RowError] = []
    basis_rows = _parse_basis_rows(source_bases, ctx, errors)
    parsed: list[ParsedRow] = []
    for row in source_rows:
        outcome = _parse_row(row, ctx)
        if isinstance(outcome, list):
            errors.extend(outcome)
        else:
            parsed.append(outcome)
    plans = _plan(parsed, publish=publish, errors=errors)
    errors.sort(key=lambda e: (e.sheet != ITEM_SHEET, e.sheet, e.row, COLUMNS.index(e.column)
                               if e.column in COLUMNS else 99))
    result.errors = errors
    reason = f"导入文件“{file_name}”"
    writer = _Writer(actor, publish=publish, reason=reason, result=result)
    valid_rows = [r for p in plans for r in ([p.own_row] if p.own_row else [s.row for s in p.subs])]
    try:
        with transaction.atomic():
            writer.write_bases(basis_rows, valid_rows)
            for plan in sorted(plans, key=lambda p: min(r.number for r in p.rows)):
                writer.write(plan)
            if dry_run:
                transaction.set_rollback(True)
    except Exception as exc:
        failed = ImportResult(file_name=file_name, rows_total=result.rows_total, errors=errors,
                              status=ImportStatus.FAILED,
                              message=f"导入中途失败，已全部回滚，未写入任何数据：{getattr(exc, 'message', exc)}")
        failed.batch = _record(failed, actor, sha, dry_run=dry_run, publish=publish)
        if isinstance(exc, DomainError):
            return failed
        raise ImportFailed(failed) from exc
    if dry_run:
        result.status = ImportStatus.DRY_RUN
    elif errors and (result.created or result.updated or result.unchanged):
        result.status = ImportStatus.PARTIAL
    elif errors:
        result.status = ImportStatus.REJECTED
    result.message = result.summary()
    result.batch = _record(result, actor, sha, dry_run=dry_run, publish=publish)
    return result


class ImportFailed(Exception):
    """An unexpected error stopped the import; everything was rolled back and the batch records the failure."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__(result.message)
        self.result = result


def _record(result: ImportResult, actor: Any, sha: str, *, dry_run: bool, publish: bool) -> ImportBatch:
    from jianguan.core import audit

    user = None if isinstance(actor, services.SystemActor) else actor
    with transaction.atomic():
        batch: ImportBatch = ImportBatch.objects.create(
            file_name=result.file_name[:255], sha256=sha, created_by=user, actor_name=services.actor_label(actor),
            region_id=getattr(actor, "region_id", None) or PROVINCE_CODE,
            organization_id=getattr(actor, "organization_id", None), dry_run=dry_run, publish=publish,
            status=result.status, rows_total=result.rows_total, created_count=result.created,
            updated_count=result.updated, unchanged_count=result.unchanged, error_count=result.error_rows,
            errors=[e.as_dict() for e in result.errors], message=result.message[:500],
        )
        audit.record_event("catalog.item.imported", target=batch, success=result.status != ImportStatus.FAILED,
                           details={"file": result.file_name, "sha256": sha, "dry_run": dry_run, "publish": publish,
                                    "created": result.created, "updated": result.updated,
                                    "unchanged": result.unchanged, "error_rows": result.error_rows,
                                    "status": result.status})
    return batch


def group_errors(errors: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for error in errors:
        out[int(error.get("row") or 0)].append(error)
    return dict(out)
