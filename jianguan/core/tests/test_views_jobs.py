"""Job pages: scoped list, detail with a progress bar that polls itself while the job is active."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from jianguan.core.models import Job, User

pytestmark = pytest.mark.django_db


def _job(user: User, **kw) -> Job:  # type: ignore[no-untyped-def]
    defaults = {"kind": "audit.verify", "created_by": user, "region_id": user.region_id,
                "organization_id": user.organization_id}
    defaults.update(kw)
    return Job.objects.create(**defaults)


def test_it_lists_the_jobs_in_scope(client: Client, nanjing_officer: User, suzhou_officer: User) -> None:
    mine = _job(nanjing_officer, message="南京的任务")
    _job(suzhou_officer, message="苏州的任务")
    client.force_login(nanjing_officer)
    response = client.get(reverse("core:job_list"))
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == [mine]
    assert "苏州的任务" not in response.content.decode()


def test_it_polls_a_running_job_every_two_seconds(client: Client, nanjing_officer: User) -> None:
    job = _job(nanjing_officer, status="running", progress_done=30, progress_total=120, message="正在核验")
    client.force_login(nanjing_officer)
    html = client.get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in html
    assert f'hx-get="{reverse("core:job_detail", args=[job.pk])}"' in html
    assert '<progress max="120" value="30">' in html
    assert "正在核验" in html
    partial = client.get(reverse("core:job_detail", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and 'id="job-status"' in partial


def test_it_stops_polling_when_the_job_has_finished(client: Client, nanjing_officer: User) -> None:
    job = _job(nanjing_officer, status="failed", message="出错了",
               errors=[{"error": "boom", "trace": "Traceback (most recent call last): secret"}])
    client.force_login(nanjing_officer)
    html = client.get(reverse("core:job_detail", args=[job.pk])).content.decode()
    assert "every 2s" not in html
    assert "boom" in html and "Traceback" not in html


def test_it_hides_another_citys_job_as_not_found(client: Client, nanjing_officer: User, suzhou_officer: User) -> None:
    job = _job(suzhou_officer)
    client.force_login(nanjing_officer)
    assert client.get(reverse("core:job_detail", args=[job.pk])).status_code == 404


def test_it_keeps_the_job_list_within_its_query_budget(
    client: Client, nanjing_officer: User, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for _ in range(22):
        _job(nanjing_officer)
    client.force_login(nanjing_officer)
    client.get(reverse("core:job_list"))
    with django_assert_max_num_queries(16):
        response = client.get(reverse("core:job_list"))
    assert len(response.context["page"].object_list) == 22


def test_it_refuses_jobs_to_a_user_without_the_permission(client: Client, public_user: User) -> None:
    client.force_login(public_user)
    assert client.get(reverse("core:job_list")).status_code == 403
