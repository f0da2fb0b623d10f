"""Read side of the data centre that needs more than a queryset: the lineage explanation of a master record."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jianguan.core.access import get_object_for
from jianguan.core.models import Subject
from jianguan.datacenter import store
from jianguan.datacenter.linkage.features import phone_match
from jianguan.datacenter.models import LineageEntry
from jianguan.datacenter.pipeline.fields import LINEAGE_LABELS, MASTER_FIELDS, STEP_LABELS, decode_steps
from jianguan.lib.masking import mask_address, mask_name, mask_phone

logger = logging.getLogger(__name__)
RAW_COPY = store.RAW_COPY  # kept sealed as ``raw.parquet.sealed`` (see ``store``)
#: The fields a master record's explanation lists: its master fields, then the phone's keyed hash.
EXPLAINED_FIELDS = (*MASTER_FIELDS, "phone_index")


def raw_rows(batch_id: int, row_nos: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Rows as delivered (canonical field names, values before any step) by row number, from the batch's raw copy
    (decrypted in memory, once per call). A raw copy that fails authentication is logged and read as missing."""
    wanted = sorted(set(row_nos))
    try:
        table = store.read_raw_table(batch_id, filters=[("row_no", "in", wanted)]) if wanted else None
    except store.StoreError as exc:
        logger.error("batch %s: the raw copy cannot be read: %s", batch_id, exc.message)
        return {}
    if table is None:
        return {}
    return {int(row["row_no"]): {k: v for k, v in row.items() if k != "row_no" and v is not None}
            for row in table.to_pylist()}


def raw_row(batch_id: int, row_no: int) -> dict[str, Any] | None:
    """The row as delivered (canonical field names, values before any step), from the batch's raw copy."""
    return raw_rows(batch_id, [row_no]).get(row_no)


def _value(subject: Subject, field: str) -> str:
    value = getattr(subject, {"region": "region_id", "industry": "industry_id"}.get(field, field))
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _masked(field: str, value: Any) -> Any:
    """A personal field's value (an individual business's owner or address) masked, as every page shows it."""
    if not value:
        return value
    return mask_address(str(value)) if field == "address" else mask_name(str(value))


def _delivered(raw: dict[str, Any], field: str, personal: tuple[str, ...]) -> Any:
    """The value as delivered that a field came from; for the phone's key, the delivered phone masked, and a
    personal field's value masked."""
    if field == "phone_index":
        phone = raw.get("phone")
        return mask_phone(phone_match(str(phone)) or str(phone)) if phone else None
    return _masked(field, raw.get(field)) if field in personal else raw.get(field)


def explain_subject(user: Any, subject_id: int) -> dict[str, Any]:
    """Per field of one master record (in the user's scope): the current value, the lineage record that set it
    (batch, source, row, steps with labels), the value as delivered, and every earlier record naming the field.

    The phone is listed as its keyed hash (``phone_index``: the value is the key, the delivered phone is masked);
    the number itself is never returned. An individual business's owner and address come masked, current and
    delivered values alike."""
    subject = get_object_for(user, Subject, subject_id, "view")
    records = list(LineageEntry.objects.filter(subject=subject).select_related("source", "batch").order_by("-id"))
    wanted: dict[int, set[int]] = {}
    for record in records:
        wanted.setdefault(record.batch_id, set()).add(record.row_no)
    raw_cache = {(batch_id, row_no): row for batch_id, rows in wanted.items()
                 for row_no, row in raw_rows(batch_id, rows).items()}
    fields = []
    personal = subject.personal_data_fields()
    for field in EXPLAINED_FIELDS:
        history = [r for r in records if field in r.fields]
        value = _value(subject, field)
        entry: dict[str, Any] = {"field": field, "label": LINEAGE_LABELS.get(field, field),
                                 "value": _masked(field, value) if field in personal else value, "source": None,
                                 "history": []}
        for position, record in enumerate(history):
            raw = raw_cache.get((record.batch_id, record.row_no)) or {}
            item = {
                "lineage_id": record.pk, "batch": record.batch_id, "source": record.source.code,
                "source_name": record.source.name, "row": record.row_no, "action": record.action,
                "recorded_at": record.recorded_at.isoformat(), "delivered": _delivered(raw, field, personal),
                "steps": [{"code": c, "label": STEP_LABELS.get(c, c)} for c in decode_steps(record.fields[field])],
            }
            if position == 0:
                entry["source"] = item
            else:
                entry["history"].append(item)
        fields.append(entry)
    return {"subject": subject.pk, "name": subject.name, "uscc": subject.uscc, "fields": fields}


def raw_copy_path(batch_id: int) -> Path:
    """The batch's raw copy in the store (sealed; in clear only in a store not converted yet)."""
    return store.raw_copy_path(batch_id)
