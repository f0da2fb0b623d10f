"""Catalogue export: the spreadsheet (DOMAIN.md columns, one row per sub-item, plus the legal-basis register on a
second sheet) and the JSON document with the same rows. The JSON is byte-identical for the same data; both import
back without loss (``importer.py`` reads either).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from jianguan.catalog.choices import (
    BASIS_LEVEL_NAMES_ZH,
    METHOD_NAMES_ZH,
    ItemState,
)
from jianguan.catalog.formats import format_citation, format_levels
from jianguan.catalog.models import ItemVersion, LegalBasis, SupervisionItem

ITEM_SHEET = "监管事项目录清单"
BASIS_SHEET = "法律法规库"
COLUMNS = (
    "监管部门",
    "监管事项主项名称",
    "监管事项子项名称",
    "监管方式",
    "监管措施",
    "监管对象",
    "设定依据",
    "监管流程",
    "监管结果",
    "监管层级",
    "主项编码",
    "子项编码",
)
REQUIRED_COLUMNS = COLUMNS[:10]
BASIS_COLUMNS = ("名称", "效力层级", "制定机关", "文号", "施行日期", "修订日期", "废止日期", "状态")
BASIS_STATUS_NAMES_ZH = {"in_force": "现行有效", "amended": "已修订", "repealed": "已废止"}
JSON_FORMAT = "jianguan.catalog.export"
JSON_FORMAT_VERSION = 1
EXPORT_STATUSES = ("published", "latest")


@dataclass(frozen=True)
class ExportRow:
    """One leaf of the catalogue (a sub-item, or a main item without sub-items) in the chosen version."""

    department_code: str
    department: str
    main_code: str
    main_name: str
    sub_code: str
    sub_name: str
    method: str
    version: ItemVersion

    def as_json(self) -> dict[str, Any]:
        v = self.version
        return {
            "department_code": self.department_code,
            "department": self.department,
            "main_code": self.main_code,
            "main_name": self.main_name,
            "sub_code": self.sub_code,
            "sub_name": self.sub_name,
            "method_code": self.method,
            "method": METHOD_NAMES_ZH.get(self.method, self.method),
            "measures": v.measures,
            "targets": v.targets,
            "basis": [
                {"name": c.basis.name, "level": c.basis.level, "article": c.article, "clause": c.clause,
                 "text": c.text}
                for c in v.citations.all()
            ],
            "process": v.process,
            "result": v.result,
            "levels": v.levels,
        }

    def as_cells(self) -> list[str]:
        v = self.version
        basis = "\n".join(format_citation(c.basis.name, c.basis.level, c.article, c.clause, c.text)
                          for c in v.citations.all())
        return [self.department, self.main_name, self.sub_name, METHOD_NAMES_ZH.get(self.method, self.method),
                v.measures, v.targets, basis, v.process, v.result, format_levels(v.levels), self.main_code,
                self.sub_code]


def _version_of(item: SupervisionItem, status: str) -> ItemVersion | None:
    return item.current_version if status == "published" else item.latest_version


def export_rows(items: Iterable[SupervisionItem] | None = None, *, status: str = "published") -> list[ExportRow]:
    """Rows of the catalogue in code order. ``status="published"``: the public catalogue (versions in force);
    ``"latest"``: every item not abolished, in its newest version (drafts included)."""
    if status not in EXPORT_STATUSES:
        raise ValueError(status)
    queryset = SupervisionItem.objects.exclude(state=ItemState.ABOLISHED)
    if status == "published":
        queryset = queryset.filter(state=ItemState.PUBLISHED)
    if items is not None:
        queryset = queryset.filter(pk__in=[i.pk for i in items])
    version_field = "current_version" if status == "published" else "latest_version"
    loaded = list(
        queryset.select_related("department_kind", "main", f"main__{version_field}", version_field)
        .prefetch_related(f"{version_field}__citations__basis")
        .order_by("code")
    )
    with_subs = {i.main_id for i in loaded if i.main_id is not None}
    mains_with_any_sub = set(
        SupervisionItem.objects.filter(main__isnull=False).exclude(state=ItemState.ABOLISHED)
        .values_list("main_id", flat=True)
    )
    rows = []
    for item in loaded:
        version = _version_of(item, status)
        if version is None:
            continue
        if item.is_main:
            if item.pk in with_subs or item.pk in mains_with_any_sub:
                continue  # its sub-items carry the rows
            main_name, sub_name = version.name, ""
        else:
            assert item.main is not None
            main_version = _version_of(item.main, status)
            if main_version is None:
                continue
            main_name, sub_name = main_version.name, version.name
        rows.append(ExportRow(
            department_code=item.department_kind_id, department=item.department_kind.province_name,
            main_code=item.main_code, main_name=main_name, sub_code=item.code, sub_name=sub_name,
            method=item.method, version=version,
        ))
    return rows


def cited_bases(rows: list[ExportRow]) -> list[LegalBasis]:
    seen: dict[int, LegalBasis] = {}
    for row in rows:
        for citation in row.version.citations.all():
            seen[citation.basis.pk] = citation.basis
    return sorted(seen.values(), key=lambda b: b.name)


def _basis_json(basis: LegalBasis) -> dict[str, Any]:
    return {
        "name": basis.name,
        "level": basis.level,
        "issuing_body": basis.issuing_body,
        "document_number": basis.document_number,
        "effective_on": basis.effective_on.isoformat() if basis.effective_on else None,
        "amended_on": basis.amended_on.isoformat() if basis.amended_on else None,
        "repealed_on": basis.repealed_on.isoformat() if basis.repealed_on else None,
        "status": basis.status,
    }


def canonical_json(document: Any) -> bytes:
    """Byte-stable JSON: sorted keys, fixed separators, UTF-8, trailing newline."""
    return (json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"), indent=None) + "\n").encode(
        "utf-8")


def export_json(rows: list[ExportRow], *, status: str = "published") -> bytes:
    document = {
        "format": JSON_FORMAT,
        "format_version": JSON_FORMAT_VERSION,
        "status": status,
        "legal_bases": [_basis_json(b) for b in cited_bases(rows)],
        "rows": [r.as_json() for r in rows],
    }
    return canonical_json(document)


_FORMULA_PREFIXES = ("=", "+", "-", "@")


def _write_sheet(sheet: Any, header: tuple[str, ...], rows: Iterable[list[Any]], widths: dict[int, int]) -> None:
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in rows:
        sheet.append(["" if v is None else v for v in values])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith(_FORMULA_PREFIXES):
                cell.data_type = "s"  # keep "=…" text as text (no formula injection)
    for index, width in widths.items():
        sheet.column_dimensions[get_column_letter(index)].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"


def _fixed_properties(workbook: Workbook) -> None:
    """No wall-clock time in the document properties (the export says nothing about when it was made)."""
    import datetime as dt

    epoch = dt.datetime(2019, 2, 22)
    workbook.properties.created = epoch
    workbook.properties.modified = epoch
    workbook.properties.creator = "Jianguan"
    workbook.properties.lastModifiedBy = "Jianguan"


def export_xlsx(rows: list[ExportRow]) -> bytes:
    workbook = Workbook()
    _fixed_properties(workbook)
    sheet = workbook.active
    sheet.title = ITEM_SHEET
    _write_sheet(sheet, COLUMNS, (r.as_cells() for r in rows),
                 {1: 22, 2: 30, 3: 30, 4: 10, 5: 30, 6: 24, 7: 60, 8: 30, 9: 24, 10: 10, 11: 14, 12: 17})
    basis_sheet = workbook.create_sheet(BASIS_SHEET)
    _write_sheet(basis_sheet, BASIS_COLUMNS, (
        [b.name, BASIS_LEVEL_NAMES_ZH.get(b.level, b.level), b.issuing_body, b.document_number,
         b.effective_on.isoformat() if b.effective_on else "", b.amended_on.isoformat() if b.amended_on else "",
         b.repealed_on.isoformat() if b.repealed_on else "", BASIS_STATUS_NAMES_ZH.get(b.status, b.status)]
        for b in cited_bases(rows)
    ), {1: 40, 2: 14, 3: 24, 4: 24, 5: 12, 6: 12, 7: 12, 8: 10})
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def error_report_xlsx(errors: list[dict[str, Any]], *, file_name: str = "") -> bytes:
    """The rejected rows of an import: row, column and reason (Chinese), in row order."""
    workbook = Workbook()
    _fixed_properties(workbook)
    sheet = workbook.active
    sheet.title = "导入错误报告"
    ordered = sorted(errors, key=lambda e: (str(e.get("sheet", "")), int(e.get("row") or 0), str(e.get("column"))))
    _write_sheet(sheet, ("工作表", "行号", "列", "原因"),
                 ([e.get("sheet", ITEM_SHEET), e.get("row"), e.get("column", ""), e.get("reason", "")]
                  for e in ordered),
                 {1: 18, 2: 8, 3: 20, 4: 80})
    if file_name:
        sheet.append([])
        sheet.append(["文件", file_name])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
