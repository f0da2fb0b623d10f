"""The push package for the national system (seed task 十二): the local catalogue in force as one versioned JSON
document, described by ``schemas/push-package-v1.schema.json``.

The bytes depend only on the stored catalogue: keys are sorted, separators fixed, lists ordered by code, and the
only times in it are publication times taken from the data. Sending it is the exchange module's job.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from jianguan.catalog.choices import BASIS_LEVEL_NAMES_ZH, METHOD_NAMES_ZH, ImplementationStatus, ItemState
from jianguan.catalog.exporter import canonical_json
from jianguan.catalog.models import PROVINCE_CODE, ImplementationItem, NationalMapping, SupervisionItem
from jianguan.core.models import Region

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "push-package-v1.schema.json"
PACKAGE = "jianguan.catalog.push"
PACKAGE_VERSION = "1.0"


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def validate_push_package(document: dict[str, Any]) -> list[str]:
    """Schema violations of ``document`` (empty when valid), as ``path: message`` lines."""
    from jsonschema import Draft202012Validator, FormatChecker

    validator = Draft202012Validator(schema(), format_checker=FormatChecker())
    return [f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
            for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))]


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def build_document() -> dict[str, Any]:
    """The package as a dict (see the schema for every field)."""
    items = list(
        SupervisionItem.objects.filter(state=ItemState.PUBLISHED)
        .select_related("department_kind", "current_version", "main", "main__current_version")
        .prefetch_related("current_version__citations__basis")
        .order_by("code")
    )
    mains_with_subs = {i.main_id for i in items if i.main_id is not None}
    mappings = dict(NationalMapping.objects.values_list("item_id", "national_item__code"))
    implementations: dict[int, list[dict[str, str]]] = {}
    for impl in (ImplementationItem.objects.filter(status=ImplementationStatus.ACTIVE)
                 .select_related("organization").order_by("code")):
        implementations.setdefault(impl.item_id, []).append({
            "code": impl.code, "region": impl.region_id, "agency": impl.organization.name,
            "agency_uscc": impl.organization.uscc or "", "level": impl.level,
        })
    entries = []
    latest: dt.datetime | None = None
    for item in items:
        if item.is_main and item.pk in mains_with_subs:
            continue
        version = item.current_version
        assert version is not None and version.published_at is not None
        if item.is_main:
            main_name, sub_name = version.name, None
        else:
            assert item.main is not None and item.main.current_version is not None
            main_name, sub_name = item.main.current_version.name, version.name
        latest = max(latest, version.published_at) if latest else version.published_at
        entries.append({
            "item_code": item.code,
            "main_code": item.main_code,
            "main_name": main_name,
            "sub_name": sub_name,
            "department": {"code": item.department_kind_id, "name": item.department_kind.province_name},
            "method": {"code": item.method, "name": METHOD_NAMES_ZH[item.method]},
            "version": version.number,
            "published_at": _utc(version.published_at),
            "measures": version.measures,
            "targets": version.targets,
            "basis": [
                {"name": c.basis.name, "level": c.basis.level, "level_name": BASIS_LEVEL_NAMES_ZH[c.basis.level],
                 "article": c.article, "clause": c.clause, "text": c.text, "status": c.basis.status}
                for c in version.citations.all()
            ],
            "process": version.process,
            "result": version.result,
            "levels": version.levels,
            "national_code": mappings.get(item.pk) or (mappings.get(item.main_id) if item.main_id else None),
            "implementations": implementations.get(item.pk, []),
        })
    abolished = [
        {"item_code": code, "name": name, "abolished_on": on.isoformat() if on else None, "reason": reason}
        for code, name, on, reason in SupervisionItem.objects.filter(state=ItemState.ABOLISHED)
        .order_by("code").values_list("code", "name", "abolished_on", "abolition_reason")
    ]
    digest = hashlib.sha256(canonical_json({"items": entries, "abolished": abolished})).hexdigest()
    province = Region.objects.filter(code=PROVINCE_CODE).values_list("name", flat=True).first() or "江苏省"
    return {
        "package": PACKAGE,
        "package_version": PACKAGE_VERSION,
        "province": {"code": PROVINCE_CODE, "name": province},
        "catalogue_digest": digest,
        "published_through": _utc(latest) if latest else None,
        "item_count": len(entries),
        "items": entries,
        "abolished": abolished,
    }


def build_push_package() -> bytes:
    """The package bytes; refuses to return a document that does not validate against its schema."""
    document = build_document()
    problems = validate_push_package(document)
    if problems:
        raise ValueError("push package does not validate: " + "; ".join(problems[:5]))
    return canonical_json(document)


def build_for(actor: Any) -> bytes:
    """Build the package on behalf of ``actor`` (export permission), recorded as an export in the audit log."""
    from django.core.exceptions import PermissionDenied

    from jianguan.core import audit

    if not actor.has_perm("catalog.export_supervisionitem"):
        raise PermissionDenied("catalog.export_supervisionitem")
    data = build_push_package()
    document = json.loads(data)
    audit.record_export("catalog.push_package.built", object_type="catalog.supervisionitem",
                        count=document["item_count"], filters={"digest": document["catalogue_digest"]}, fmt="json")
    return data
