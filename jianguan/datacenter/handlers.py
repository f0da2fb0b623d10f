"""Reactions to other modules' events (idempotent: the outbox runs each handler once per event, and every handler
keeps the newest state, so a redelivery or an out-of-order delivery changes nothing)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from jianguan.core import fastinsert
from jianguan.core.models import Organization, Region, Subject
from jianguan.datacenter.choices import CatalogEntryStatus
from jianguan.datacenter.models import CatalogEntry, ComplaintRecord, ImplementationEntry

CATALOG_TOPICS = ("catalog.version_published", "catalog.item_abolished", "catalog.implementation_changed")
COMPLAINT_TOPICS = (
    "complaints.complaint_received", "complaints.complaint_accepted", "complaints.complaint_dispatched",
    "complaints.complaint_replied", "complaints.complaint_supervised", "complaints.complaint_closed",
    "complaints.complaint_rated", "complaints.complaint_reopened", "complaints.complaint_merged",
    "complaints.complaint_rejected",
)


def on_version_published(event_id: str, payload: dict[str, Any]) -> None:
    """目录清单库: a (newer) version of an item is the item's entry; an older version never overwrites it."""
    entry = CatalogEntry.objects.filter(item_code=payload["item_code"]).first()
    if entry is not None and entry.version > int(payload["version"]):
        return
    CatalogEntry.objects.update_or_create(item_code=payload["item_code"], defaults={
        "main_code": payload["main_code"], "catalog_item_id": payload["item_id"], "name": payload["name"][:300],
        "department_code": payload["department_code"], "method": payload["method"],
        "version": int(payload["version"]), "status": CatalogEntryStatus.PUBLISHED, "abolished_on": None,
        "last_event": event_id,
    })


def on_item_abolished(event_id: str, payload: dict[str, Any]) -> None:
    CatalogEntry.objects.filter(item_code=payload["item_code"]).update(
        status=CatalogEntryStatus.ABOLISHED, abolished_on=dt.date.fromisoformat(payload["abolished_on"][:10]),
        last_event=event_id, updated_at=timezone.now())


def on_implementation_changed(event_id: str, payload: dict[str, Any]) -> None:
    region = payload.get("region") or "320000"
    if not Region.objects.filter(code=region).exists():
        region = "320000"
    org_id = payload.get("organization_id")
    ImplementationEntry.objects.update_or_create(code=payload["code"], defaults={
        "catalog_implementation_id": payload["implementation_id"], "item_code": payload["item_code"],
        "region_id": region, "status": payload["status"], "last_event": event_id,
        "organization_id": org_id if org_id and Organization.objects.filter(pk=org_id).exists() else None,
    })


def on_complaint_events(topic: str) -> Any:
    def handler(batch: list[tuple[str, dict[str, Any]]]) -> None:
        """投诉举报库: keep the newest state of each complaint (no reporter data is ever in the payload).

        Takes a batch of one topic's events: a few queries for the whole batch, then bulk writes.
        """
        newest: dict[int, tuple[dt.datetime, dict[str, Any]]] = {}
        counts: dict[int, int] = {}
        for _event_id, payload in batch:
            complaint_id = int(payload["complaint_id"])
            at = parse_datetime(payload["at"]) or timezone.now()
            counts[complaint_id] = counts.get(complaint_id, 0) + 1
            if complaint_id not in newest or at >= newest[complaint_id][0]:
                newest[complaint_id] = (at, payload)
        records = {r.complaint_id: r for r in ComplaintRecord.objects.filter(complaint_id__in=list(newest))}
        payloads = [payload for _at, payload in newest.values()]
        regions = set(Region.objects.filter(code__in={p.get("region_code") or "320000" for p in payloads})
                      .values_list("code", flat=True))
        subjects = set(Subject.objects.filter(pk__in={p["subject_id"] for p in payloads if p.get("subject_id")})
                       .values_list("pk", flat=True))
        now = timezone.now()
        created: list[ComplaintRecord] = []
        changed: list[ComplaintRecord] = []
        for complaint_id, (at, payload) in newest.items():
            record = records.get(complaint_id)
            if record is not None and record.last_event_at > at:
                record.events += counts[complaint_id]  # an older state arriving late only counts
                record.updated_at = now
                changed.append(record)
                continue
            region = payload.get("region_code") or "320000"
            values: dict[str, Any] = {
                "ticket_no": payload["ticket_no"], "filing_no": payload.get("filing_no") or "",
                "kind": payload["kind"], "status": payload["status"], "channel": payload["channel"],
                "category_code": payload.get("category_code") or "",
                "region_id": region if region in regions else "320000",
                "handling_region_code": payload.get("handling_region_code") or "",
                "handling_org_code": payload.get("handling_org_code") or "",
                "subject_id": payload.get("subject_id") if payload.get("subject_id") in subjects else None,
                "subject_uscc": payload.get("subject_uscc") or "", "last_event_at": at, "last_topic": topic,
                "due_at": parse_datetime(payload["due_at"]) if payload.get("due_at") else None,
                "rating": payload.get("rating") or "", "merged_into": payload.get("merged_into") or "",
                "events": (record.events if record else 0) + counts[complaint_id], "updated_at": now,
            }
            if record is None:
                created.append(ComplaintRecord(complaint_id=complaint_id, received_at=at, created_at=now, **values))
                continue
            for name, value in values.items():
                setattr(record, name, value)
            changed.append(record)
        # values bound once per statement (``fastinsert``) instead of Django's UNNEST arrays, which psycopg quotes
        # element by element: this runs for every new ticket
        fastinsert.insert(*created)
        if changed:
            ComplaintRecord.objects.bulk_update(changed, [*RECORD_FIELDS, "events", "updated_at"])

    handler.__qualname__ = f"on_complaint_events[{topic}]"
    return handler


RECORD_FIELDS = (
    "ticket_no", "filing_no", "kind", "status", "channel", "category_code", "region_id", "handling_region_code",
    "handling_org_code", "subject_id", "subject_uscc", "last_event_at", "last_topic", "due_at", "rating",
    "merged_into",
)


def register() -> None:
    from jianguan.core.events import subscribe

    subscribe("catalog.version_published", on_version_published, name="datacenter.catalog_entry")
    subscribe("catalog.item_abolished", on_item_abolished, name="datacenter.catalog_abolished")
    subscribe("catalog.implementation_changed", on_implementation_changed, name="datacenter.implementation_entry")
    for topic in COMPLAINT_TOPICS:
        subscribe(topic, on_complaint_events(topic), name=f"datacenter.complaint_record:{topic}", batch=True)
