"""``/api/v1/audit-entries/``: read-only, for holders of ``core.view_auditentry``, scoped by the actor's region."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from jianguan.core import audit
from jianguan.core.models import AuditEntry
from jianguan.core.testing.personas import make_user
from jianguan.core.testing.scope_matrix import assert_error, assert_scope_matrix, call, list_ids

LIST = reverse("api:core-auditentry-list")


def detail(entry: AuditEntry) -> str:
    return reverse("api:core-auditentry-detail", args=[entry.pk])


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def event_by(user, event: str = "test.api.touched") -> AuditEntry:
    with audit.audit_context(user):
        return audit.record_event(event, details={"by": user.username})


@pytest.fixture
def auditors(db):
    return {
        "gulou": make_user("gulou_auditor", "320106", roles=["audit_admin"]),
        "jiangning": make_user("jiangning_auditor", "320115", roles=["audit_admin"]),
        "nanjing": make_user("nanjing_auditor", "320100", roles=["audit_admin"]),
    }


@pytest.fixture
def entries(gulou_inspector, jiangning_inspector, suzhou_officer):
    return {
        "gulou": event_by(gulou_inspector),
        "jiangning": event_by(jiangning_inspector),
        "suzhou": event_by(suzhou_officer),
    }


def test_it_lists_entries_of_actors_in_scope(api_client, entries, auditors, audit_admin) -> None:
    ids = {k: v.pk for k, v in entries.items()}
    assert list_ids(api_client, auditors["gulou"], LIST, event="test.api") == {ids["gulou"]}
    assert list_ids(api_client, auditors["nanjing"], LIST, event="test.api") == {ids["gulou"], ids["jiangning"]}
    assert list_ids(api_client, audit_admin, LIST, event="test.api") == set(ids.values())


def test_it_reads_an_entry_with_the_scope_matrix(api_client, entries, auditors, gulou_inspector) -> None:
    response = assert_scope_matrix(
        api_client,
        method="get",
        url=detail(entries["gulou"]),
        outsider=auditors["jiangning"],
        without_permission=gulou_inspector,
        without_permission_status=404,
        with_permission=auditors["gulou"],
    )
    body = response.json()
    assert body["event"] == "test.api.touched" and body["actor_region"] == "320106"
    assert body["hash"] == entries["gulou"].hash


def test_it_refuses_the_list_without_the_permission(api_client, entries, gulou_inspector) -> None:
    assert_error(call(api_client, gulou_inspector, "get", LIST), 403, "permission.denied")


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_it_has_no_write_methods_on_an_entry(api_client, entries, audit_admin, method) -> None:
    assert_error(call(api_client, None, method, detail(entries["gulou"]), {}), 401, "auth.required")
    assert_error(
        call(api_client, audit_admin, method, detail(entries["gulou"]), {"reason": "x"}), 405, "method_not_allowed"
    )
    entries["gulou"].refresh_from_db()
    assert entries["gulou"].reason == ""


def test_it_has_no_create(api_client, audit_admin) -> None:
    before = AuditEntry.objects.count()
    assert_error(call(api_client, audit_admin, "post", LIST, {"event": "forged"}), 405, "method_not_allowed")
    assert AuditEntry.objects.count() == before


def test_it_filters_with_the_shared_filterset(api_client, entries, audit_admin, gulou_inspector) -> None:
    assert list_ids(api_client, audit_admin, LIST, actor="gulou_inspector", event="test.api") == {entries["gulou"].pk}
    assert list_ids(api_client, audit_admin, LIST, action="event", object_type="nothing") == set()


def test_it_lists_entries_with_a_fixed_number_of_queries(
    api_client, audit_admin, gulou_inspector, django_assert_max_num_queries
) -> None:
    for n in range(22):
        event_by(gulou_inspector, f"test.api.bulk{n}")
    api_client.force_authenticate(audit_admin)
    with django_assert_max_num_queries(5):
        response = api_client.get(LIST)
    assert response.json()["count"] >= 22
