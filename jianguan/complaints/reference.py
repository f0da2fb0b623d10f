"""Reference data shipped with the module: the category tree and the default dispatch catalogue (派单目录).
Loaders are idempotent (codes are keys) and take a model registry so the data migration can use them."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.apps import apps as global_apps

DATA_DIR = Path(__file__).resolve().parent / "data"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(fh)]


def load_categories(path: Path = DATA_DIR / "categories.csv", *, apps: Any = global_apps) -> int:
    Category = apps.get_model("complaints", "Category")
    DepartmentKind = apps.get_model("core", "DepartmentKind")
    kinds = set(DepartmentKind.objects.values_list("code", flat=True))
    count = 0
    for row in _rows(path):
        parent = Category.objects.get(code=row["parent_code"]) if row["parent_code"] else None
        Category.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "parent": parent,
                "department_kind_id": row["department_kind"] if row["department_kind"] in kinds else None,
                "keywords": row["keywords"],
                "description": row["description"],
            },
        )
        count += 1
    return count


def load_dispatch_catalogue(path: Path = DATA_DIR / "dispatch-catalogue.csv", *, apps: Any = global_apps) -> int:
    """Add the default rules that are missing (rules edited by officials are left alone)."""
    Category = apps.get_model("complaints", "Category")
    DispatchRule = apps.get_model("complaints", "DispatchRule")
    Region = apps.get_model("core", "Region")
    if not Region.objects.exists():
        return 0
    count = 0
    for row in _rows(path):
        category = Category.objects.get(code=row["category_code"])
        _rule, created = DispatchRule.objects.get_or_create(
            category=category,
            region_id=row["region_code"],
            defaults={
                "lead_kind_id": row["lead_kind"],
                "level": row["level"] or "county",
                "co_kinds": [c for c in row["co_kinds"].split() if c],
                "note": row["note"],
            },
        )
        count += int(created)
    return count


def ensure_loaded(**kwargs: object) -> None:
    """After ``migrate`` (and after a test flush): load the shipped tree and catalogue if they are missing."""
    Category = global_apps.get_model("complaints", "Category")
    if not Category.objects.exists():
        load_categories()
        load_dispatch_catalogue()
