"""The indexes of the tables every request writes to (the outbox and the audit log): one per kind of query the
application runs, none that it does not — each is written once per event or entry, and again at its delivery or
sealing."""

from __future__ import annotations

import pytest
from django.db import connection

from jianguan.core.models import AuditEntry, OutboxEvent
from jianguan.core.testing.plans import index_names, query_plan

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL query plans")


@pytest.mark.django_db
def test_the_outbox_indexes_only_the_events_still_to_deliver() -> None:
    names = index_names("core_outboxevent")
    assert "core_outbox_pending" in names
    if connection.vendor == "postgresql":
        assert names == {"core_outboxevent_pkey", "core_outbox_pending"}


@pytest.mark.django_db
def test_audit_events_have_one_index() -> None:
    names = index_names("core_auditentry")
    assert "core_auditentry_event" in names
    assert not [n for n in names if n.startswith("core_auditentry_event_")]  # no plain one beside it, no twin
    assert not [n for n in names if n.startswith("core_auditentry_actor")]  # filtered by name, never by key


@postgres_only
@pytest.mark.django_db
def test_the_pending_events_and_event_prefixes_are_looked_up_by_index() -> None:
    pending = OutboxEvent.objects.filter(delivered_at__isnull=True, attempts__lt=5).order_by("created_at")
    assert "core_outbox_pending" in query_plan(pending)
    by_prefix = AuditEntry.objects.filter(event__startswith="complaints.").order_by()
    assert "core_auditentry_event" in query_plan(by_prefix)
    by_code = AuditEntry.objects.filter(event="complaints.complaint.received").order_by()
    assert "core_auditentry_event" in query_plan(by_code)
