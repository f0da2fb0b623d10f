"""Audit log browser: filters, detail with before/after side by side, no edit or delete, chain verification job."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from jianguan.core import audit
from jianguan.core.models import AuditEntry, Job, User
from jianguan.core.testing.personas import login_verified, make_subject

pytestmark = pytest.mark.django_db


def test_it_lists_audit_entries_for_the_audit_administrator(client: Client, audit_admin: User,
                                                            nanjing_officer: User) -> None:
    with audit.audit_context(nanjing_officer):
        subject = make_subject("320106", name="审计测试公司")
    login_verified(client, audit_admin)
    response = client.get(reverse("security:audit_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "审计测试公司" in html
    assert "南京市" in html  # actor region shown by name
    response = client.get(reverse("security:audit_list"), {"object_type": "core.subject", "action": "create"})
    entries = list(response.context["page"].object_list)
    assert entries and all(e.object_id == str(subject.pk) for e in entries)


def test_it_keeps_the_audit_list_within_its_query_budget(
    client: Client, audit_admin: User, nanjing_officer: User, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    with audit.audit_context(nanjing_officer):
        for _ in range(22):
            make_subject("320106")
    login_verified(client, audit_admin)
    client.get(reverse("security:audit_list"))
    with django_assert_max_num_queries(16):
        response = client.get(reverse("security:audit_list"))
    assert len(response.context["page"].object_list) >= 22


def test_it_shows_before_and_after_side_by_side(client: Client, audit_admin: User, nanjing_officer: User) -> None:
    with audit.audit_context(nanjing_officer):
        subject = make_subject("320106", name="改名前公司")
        subject.name = "改名后公司"
        subject.save()
    entry = AuditEntry.objects.filter(action="update", object_id=str(subject.pk), after__name="改名后公司").get()
    login_verified(client, audit_admin)
    response = client.get(reverse("security:audit_detail", args=[entry.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "改名前公司" in html and "改名后公司" in html
    assert '<tr class="changed">' in html
    assert entry.hash in html


def test_it_offers_no_way_to_change_an_entry(client: Client, audit_admin: User) -> None:
    entry = audit.record_event("core.test.event")
    login_verified(client, audit_admin)
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)(reverse("security:audit_detail", args=[entry.pk])).status_code == 405
    assert AuditEntry.objects.filter(pk=entry.pk, hash=entry.hash).exists()


def test_it_hides_entries_outside_the_viewers_region(client: Client, nanjing_officer: User) -> None:
    from jianguan.core.testing.personas import make_user

    city_auditor = make_user("nj_auditor", "320100", roles=["audit_admin"])
    with audit.audit_context(make_user("sz_user", "320505")):
        entry = audit.record_event("core.test.event")
    login_verified(client, city_auditor)
    assert client.get(reverse("security:audit_detail", args=[entry.pk])).status_code == 404


def test_it_starts_a_chain_verification_job(client: Client, audit_admin: User,
                                            django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    audit.record_event("core.test.event")
    login_verified(client, audit_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("security:audit_verify"))
    job = Job.objects.get(kind="audit.verify")
    assert response.status_code == 302
    assert response["Location"] == reverse("core:job_detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == "succeeded" and job.result["ok"] is True
    page = client.get(response["Location"])
    assert page.status_code == 200


def test_it_verifies_only_by_post(client: Client, audit_admin: User) -> None:
    login_verified(client, audit_admin)
    assert client.get(reverse("security:audit_verify")).status_code == 405
