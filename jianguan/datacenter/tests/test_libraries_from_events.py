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


def test_a_burst_of_complaint_events_delivered_as_one_batch_gives_the_same_records(
    db, django_capture_on_commit_callbacks
) -> None:
    base = {"filing_no": "", "kind": "report", "channel": "api", "category_code": "", "handling_region_code": "",
            "handling_org_code": None, "subject_id": 999999, "subject_uscc": None}
    with django_capture_on_commit_callbacks(execute=False):  # as with a broker: delivered later, in one drain
        for n in range(3):
            events.publish("complaints.complaint_received", {
                **base, "complaint_id": 70 + n, "ticket_no": f"JB2026120100000000{n}", "status": "received",
                "region_code": "320106" if n else "999999", "at": f"2026-12-01T09:0{n}:00+08:00"})
        events.publish("complaints.complaint_accepted", {
            **base, "complaint_id": 70, "ticket_no": "JB20261201000000000", "status": "accepted",
            "region_code": "320106", "at": "2026-12-01T10:00:00+08:00"})
        events.publish("complaints.complaint_accepted", {  # older than the state already kept: only counted
            **base, "complaint_id": 71, "ticket_no": "JB20261201000000001", "status": "accepted",
            "region_code": "320106", "at": "2026-12-01T08:00:00+08:00"})
    assert events.deliver_pending() == 5
    records = {r.complaint_id: r for r in ComplaintRecord.objects.all()}
    assert sorted(records) == [70, 71, 72]
    assert records[70].status == "accepted" and records[70].events == 2 and records[70].region_id == "320106"
    assert records[71].status == "received" and records[71].events == 2
    assert records[72].events == 1 and records[72].subject_id is None  # unknown entity id dropped
    assert not OutboxEvent.objects.filter(delivered_at__isnull=True).exists()


def test_complaint_records_have_one_index_per_filtered_column(db) -> None:
    """Written for every ticket: the region (a prefix filter: one pattern-ops index on PostgreSQL) and the credit
    code (equality) have one index each, no plain-and-twin pairs."""
    from django.db import connection

    from jianguan.core.testing.plans import query_plan

    constraints = connection.introspection.get_constraints(connection.cursor(), ComplaintRecord._meta.db_table)
    names = {name for name, info in constraints.items() if info["index"]}
    assert {"datacenter_complaint_region", "datacenter_complaint_uscc"} <= names
    region_indexes = [name for name, info in constraints.items() if info["index"] and info["columns"] == ["region_id"]]
    assert region_indexes == ["datacenter_complaint_region"]
    if connection.vendor == "postgresql":
        scoped = ComplaintRecord.objects.filter(region__code__startswith="3201").order_by()  # as the scope layer
        plan = query_plan(scoped)
        assert "datacenter_complaint_region" in plan, plan
