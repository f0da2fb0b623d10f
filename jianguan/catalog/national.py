"""Reading the national catalogue file (国家监管事项目录清单) in xlsx or JSON.

xlsx: a sheet whose header has 国家监管事项编码 (or 事项编码), 监管事项名称 (or 事项名称), and optionally 主项编码,
国务院主管部门 (or 主管部门), 监管方式, 设定依据. JSON: ``{"edition": "2024", "items": [{"code", "name",
"main_code", "department", "method", "basis"}]}`` (or a bare list of such objects).
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from jianguan.catalog.importer import RowError, _text
from jianguan.catalog.services import NationalRow

_ALIASES = {
    "code": ("国家监管事项编码", "事项编码", "监管事项编码", "code"),
    "name": ("监管事项名称", "事项名称", "name"),
    "main_code": ("主项编码", "国家主项编码", "main_code"),
    "department": ("国务院主管部门", "主管部门", "监管部门", "department"),
    "method": ("监管方式", "method"),
    "basis": ("设定依据", "basis"),
}


def _rows_from_records(records: list[dict[str, Any]], first_row: int, errors: list[RowError],
                       sheet: str) -> list[NationalRow]:
    rows: list[NationalRow] = []
    seen: dict[str, int] = {}
    for number, record in enumerate(records, start=first_row):
        values = {key: _text(next((record.get(a) for a in aliases if record.get(a) not in (None, "")), ""))
                  for key, aliases in _ALIASES.items()}
        if not any(values.values()):
            continue
        if not values["code"]:
            errors.append(RowError(number, "国家监管事项编码", "请填写国家监管事项编码", sheet))
            continue
        if len(values["code"]) > 40:
            errors.append(RowError(number, "国家监管事项编码", "编码不能超过40个字符", sheet))
            continue
        if not values["name"]:
            errors.append(RowError(number, "监管事项名称", "请填写监管事项名称", sheet))
            continue
        if values["code"] in seen:
            errors.append(RowError(number, "国家监管事项编码", f"与第{seen[values['code']]}行重复", sheet))
            continue
        seen[values["code"]] = number
        rows.append(NationalRow(code=values["code"], name=values["name"][:300], main_code=values["main_code"][:40],
                                department=values["department"][:100], method=values["method"][:30],
                                basis=values["basis"]))
    return rows


def read_national_file(data: bytes, *, edition: str = "") -> tuple[str, list[NationalRow], list[RowError]]:
    """``(edition, rows, errors)``; a file that cannot be read gives no rows and one error."""
    errors: list[RowError] = []
    sheet = "国家目录"
    if data[:2] == b"PK":
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            return edition, [], [RowError(0, "", f"无法读取xlsx文件：{exc}", sheet)]
        try:
            values = list(workbook.worksheets[0].iter_rows(values_only=True))
        finally:
            workbook.close()
        if not values:
            return edition, [], [RowError(1, "", "工作表为空", sheet)]
        header = [_text(h) for h in values[0]]
        if not any(h in header for h in _ALIASES["code"]) or not any(h in header for h in _ALIASES["name"]):
            return edition, [], [RowError(1, "", "缺少“国家监管事项编码”或“监管事项名称”列", sheet)]
        records = [dict(zip(header, row, strict=False)) for row in values[1:]]
        return edition, _rows_from_records(records, 2, errors, sheet), errors
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return edition, [], [RowError(0, "", f"文件应为xlsx或JSON：{exc}", sheet)]
    items = document.get("items") if isinstance(document, dict) else document
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return edition, [], [RowError(0, "", "JSON中应有items数组，每项为对象", sheet)]
    if isinstance(document, dict) and document.get("edition") and not edition:
        edition = str(document["edition"])[:40]
    return edition, _rows_from_records(items, 1, errors, sheet), errors
