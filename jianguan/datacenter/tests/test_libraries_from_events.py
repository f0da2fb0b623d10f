"""目录清单库 and 投诉举报库 are filled from the catalogue's and the complaints module's outbox events."""

from __future__ import annotations

from django.db import transaction

from jianguan.core import events
from jianguan.core.models import OutboxEvent
from jianguan.datacenter.models import CatalogEntry, ComplaintRecord, ImplementationEntry


def _publish(capture, topic, payload):
    with capture(execute=True), transaction.atomic():
        return events.publish(topic, payload)


def test_published_and_abolished_items_reach_the_catalogue_library(db, django_capture_on_commit_callbacks) -> None:
    base = {"item_id": 7, "item_code": "32001030010001", "main_code": "32001030010", "name": "食品经营许可检查",
            "department_code": "001", "method": "03", "replaced_version": None}
    _publish(django_capture_on_commit_callbacks, "catalog.version_published", {**base, "version": 2})
    old = _publish(django_capture_on_commit_callbacks, "catalog.version_published",
                   {**base, "version": 1, "name": "旧名称"})
    entry = CatalogEntry.objects.get(item_code="32001030010001")
    assert entry.version == 2 and entry.name == "食品经营许可检查"  # an older version never wins
    events.deliver(str(old.id))  # a redelivery changes nothing
    assert CatalogEntry.objects.count() == 1
    _publish(django_capture_on_commit_callbacks, "catalog.item_abolished",
             {"item_id": 7, "item_code": "32001030010001", "abolished_on": "2026-12-01", "reason": "合并"})
    entry.refresh_from_db()
    assert entry.status == "abolished" and entry.abolished_on.isoformat() == "2026-12-01"
    _publish(django_capture_on_commit_callbacks, "catalog.implementation_changed", {
        "implementation_id": 3, "code": "11320106MB1234567X332001030010001", "item_code": "32001030010001",
        "region": "320106", "organization_id": None, "status": "published"})
    assert ImplementationEntry.objects.get().region_id == "320106"
    assert not OutboxEvent.objects.filter(delivered_at__isnull=True).exists()


def test_complaint_events_keep_the_newest_state_without_reporter_data(db, django_capture_on_commit_callbacks) -> None:
    payload = {"complaint_id": 41, "ticket_no": "TS202611280001", "filing_no": "", "kind": "complaint",
               "status": "received", "channel": "12345", "category_code": "0101", "region_code": "320106",
               "handling_region_code": "320106", "handling_org_code": None, "subject_id": None,
               "subject_uscc": None, "at": "2026-11-28T09:00:00+08:00"}
    _publish(django_capture_on_commit_callbacks, "complaints.complaint_received", payload)
    _publish(django_capture_on_commit_callbacks, "complaints.complaint_closed",
             {**payload, "status": "closed", "at": "2026-11-30T09:00:00+08:00"})
    _publish(django_capture_on_commit_callbacks, "complaints.complaint_accepted",
             {**payload, "status": "accepted", "at": "2026-11-29T09:00:00+08:00"})  # arrives late
    record = ComplaintRecord.objects.get(complaint_id=41)
    assert record.status == "closed" and record.last_topic == "complaints.complaint_closed"
    assert record.events == 3 and record.received_at.isoformat().startswith("2026-11-28T01:00")
    assert not {f.name for f in ComplaintRecord._meta.get_fields()} & {"reporter", "reporter_name", "phone"}
