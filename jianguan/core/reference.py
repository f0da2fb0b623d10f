"""Reference data shipped as files in ``jianguan/core/data``: regions (GB/T 2260), department kinds, industries
(GB/T 4754). Loaders are idempotent and take a model registry so data migrations can use them too."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.apps import apps as global_apps
from django.db import transaction

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_REGIONS = DATA_DIR / "regions" / "jiangsu-2023.csv"
DEFAULT_DEPARTMENT_KINDS = DATA_DIR / "department-kinds.csv"
DEFAULT_INDUSTRIES = DATA_DIR / "industry-gbt4754-2017.csv"

REGION_COLUMNS = ("code", "name", "short_name", "level", "kind", "parent_code")


class ReferenceDataError(ValueError):
    """A reference file is malformed; the message names the row and column."""


def _rows(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ReferenceDataError(f"{path.name}: 缺少列 {', '.join(missing)}")
        return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]


@transaction.atomic
def load_regions(path: Path = DEFAULT_REGIONS, *, edition: str = "", apps: Any = global_apps) -> dict[str, int]:
    """Load an edition of the division list: new codes are added, changed names updated, and codes no longer
    listed are marked inactive (never deleted: old records still point at them)."""
    from jianguan.lib.validators import ValidationFailure, validate_region_code

    Region = apps.get_model("core", "Region")
    rows = _rows(path, REGION_COLUMNS)
    edition = edition or path.stem
    seen: set[str] = set()
    for number, row in enumerate(rows, start=2):
        try:
            validate_region_code(row["code"])
        except ValidationFailure as exc:
            raise ReferenceDataError(f"{path.name} 第{number}行 code 列：{exc.message}") from None
        if row["level"] not in ("province", "city", "county"):
            raise ReferenceDataError(f"{path.name} 第{number}行 level 列：无效的层级 {row['level']!r}")
        if row["parent_code"] and row["parent_code"] not in seen:
            raise ReferenceDataError(f"{path.name} 第{number}行 parent_code 列：上级 {row['parent_code']} 未在前面出现")
        seen.add(row["code"])
    created = updated = 0
    for row in rows:
        _obj, was_created = Region.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "short_name": row["short_name"] or row["name"],
                "level": row["level"],
                "kind": row["kind"],
                "parent_id": row["parent_code"] or None,
                "edition": edition,
                "active": True,
            },
        )
        created += was_created
        updated += not was_created
    retired = 0
    for region in Region.objects.exclude(code__in=seen).filter(active=True):
        region.active = False
        region.save(update_fields=["active"])  # row by row, so each retirement is audited
        retired += 1
    return {"created": created, "updated": updated, "retired": retired}


@transaction.atomic
def load_department_kinds(path: Path = DEFAULT_DEPARTMENT_KINDS, *, apps: Any = global_apps) -> int:
    DepartmentKind = apps.get_model("core", "DepartmentKind")
    rows = _rows(path, ("code", "name", "province_name", "short_name", "en_name"))
    for row in rows:
        DepartmentKind.objects.update_or_create(
            code=row["code"],
            defaults={k: row[k] for k in ("name", "province_name", "short_name", "en_name")},
        )
    return len(rows)


@transaction.atomic
def load_industries(path: Path = DEFAULT_INDUSTRIES, *, apps: Any = global_apps) -> int:
    IndustryCode = apps.get_model("core", "IndustryCode")
    rows = _rows(path, ("code", "name", "level", "parent_code"))
    for row in rows:
        IndustryCode.objects.update_or_create(
            code=row["code"],
            defaults={"name": row["name"], "level": row["level"], "parent_id": row["parent_code"] or None},
        )
    return len(rows)


def ensure_loaded(**kwargs: Any) -> None:
    """post_migrate: reload the shipped reference data when its tables are empty (e.g. after a test flush).

    Empty tables are filled with one bulk insert each (parents before children), not row by row.
    """
    Region = global_apps.get_model("core", "Region")
    DepartmentKind = global_apps.get_model("core", "DepartmentKind")
    IndustryCode = global_apps.get_model("core", "IndustryCode")
    with transaction.atomic():
        if not Region.objects.exists():
            Region.objects.bulk_create(
                Region(
                    code=r["code"],
                    name=r["name"],
                    short_name=r["short_name"] or r["name"],
                    level=r["level"],
                    kind=r["kind"],
                    parent_id=r["parent_code"] or None,
                    edition="2023",
                    active=True,
                )
                for r in _rows(DEFAULT_REGIONS, REGION_COLUMNS)
            )
        if not DepartmentKind.objects.exists():
            DepartmentKind.objects.bulk_create(
                DepartmentKind(**{k: r[k] for k in ("code", "name", "province_name", "short_name", "en_name")})
                for r in _rows(DEFAULT_DEPARTMENT_KINDS, ("code", "name", "province_name", "short_name", "en_name"))
            )
        if not IndustryCode.objects.exists():
            IndustryCode.objects.bulk_create(
                IndustryCode(code=r["code"], name=r["name"], level=r["level"], parent_id=r["parent_code"] or None)
                for r in _rows(DEFAULT_INDUSTRIES, ("code", "name", "level", "parent_code"))
            )
