"""``/api/v1/jobs/``: jobs in scope; start one of the registered kinds."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from jianguan.core import jobs
from jianguan.core.models import AuditEntry, Job
from jianguan.core.testing.personas import make_org, make_token, make_user
from jianguan.core.testing.scope_matrix import assert_error, assert_scope_matrix, call, list_ids

LIST = reverse("api:core-job-list")
KINDS = reverse("api:core-job-kinds")


def detail(job: Job) -> str:
    return reverse("api:core-job-detail", args=[job.pk])


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def echo_kind():
    def runner(params, reporter):
        if params.get("fail"):
            raise RuntimeError("boom")
        return {"echo": params}

    jobs.register_job("test.echo", runner, label="回显测试")
    yield "test.echo"
    jobs._runners.pop("test.echo", None)


def job_for(user, **kw) -> Job:
    return Job.objects.create(
        kind="test.echo", created_by=user, region_id=user.region_id, organization_id=user.organization_id, **kw
    )


@pytest.fixture
def job_rows(gulou_inspector, jiangning_inspector, suzhou_officer):
    return {
        "gulou": job_for(gulou_inspector),
        "jiangning": job_for(jiangning_inspector),
        "suzhou": job_for(suzhou_officer),
    }


def test_it_lists_jobs_in_scope(api_client, job_rows, gulou_inspector, nanjing_officer) -> None:
    assert list_ids(api_client, gulou_inspector, LIST) == {str(job_rows["gulou"].pk)}
    assert list_ids(api_client, nanjing_officer, LIST) == {str(job_rows["gulou"].pk), str(job_rows["jiangning"].pk)}


def test_it_reads_a_job_with_the_scope_matrix(api_client, job_rows, jiangning_inspector, gulou_inspector) -> None:
    no_role = make_user("gulou_nobody", "320106")
    response = assert_scope_matrix(
        api_client,
        method="get",
        url=detail(job_rows["gulou"]),
        outsider=jiangning_inspector,
        without_permission=no_role,
        without_permission_status=404,
        with_permission=gulou_inspector,
    )
    assert response.json()["kind"] == "test.echo" and response.json()["created_by"] == "gulou_inspector"


def test_it_lets_the_city_follow_its_counties_jobs(api_client, job_rows, nanjing_officer, suzhou_officer) -> None:
    assert call(api_client, nanjing_officer, "get", detail(job_rows["jiangning"])).status_code == 200
    assert_error(call(api_client, suzhou_officer, "get", detail(job_rows["jiangning"])), 404)


def test_it_answers_404_for_a_malformed_job_id(api_client, gulou_inspector) -> None:
    assert call(api_client, gulou_inspector, "get", f"{LIST}not-a-uuid/").status_code == 404
    assert_error(call(api_client, gulou_inspector, "get", reverse("api:core-job-detail", args=[uuid.uuid4()])), 404)


def test_it_starts_a_registered_kind(
    api_client, echo_kind, gulou_inspector, audit_admin, django_capture_on_commit_callbacks
) -> None:
    data = {"kind": echo_kind, "params": {"n": 1}}
    assert_error(call(api_client, None, "post", LIST, data), 401, "auth.required")
    assert_error(call(api_client, audit_admin, "post", LIST, data), 403, "permission.denied")
    with django_capture_on_commit_callbacks(execute=True):
        response = call(api_client, gulou_inspector, "post", LIST, data)
    assert response.status_code == 201, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert (job.region_id, job.organization_id, job.created_by) == ("320106", make_org("320106").pk, gulou_inspector)
    assert AuditEntry.objects.filter(
        event="core.job.started", object_id=str(job.pk), actor_id=gulou_inspector.pk
    ).exists()
    assert job.status == "succeeded" and job.result == {"echo": {"n": 1}}


def test_it_rejects_an_unknown_kind_with_the_service_code(api_client, gulou_inspector) -> None:
    assert_error(call(api_client, gulou_inspector, "post", LIST, {"kind": "no.such.kind"}), 400, "job.unknown_kind")
    assert_error(call(api_client, gulou_inspector, "post", LIST, {}), 400, "validation")


def test_it_keeps_stack_traces_out_of_the_api(
    api_client, echo_kind, gulou_inspector, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = call(api_client, gulou_inspector, "post", LIST, {"kind": echo_kind, "params": {"fail": True}})
    body = call(api_client, gulou_inspector, "get", reverse("api:core-job-detail", args=[response.json()["id"]]))
    body = body.json()
    assert body["status"] == "failed"
    assert body["errors"] and all("trace" not in item for item in body["errors"])
    assert "trace" in Job.objects.get(pk=body["id"]).errors[-1]


def test_it_lists_the_kinds(api_client, echo_kind, gulou_inspector, public_user) -> None:
    body = call(api_client, gulou_inspector, "get", KINDS).json()
    assert {"kind": "test.echo", "label": "回显测试"} in body
    assert_error(call(api_client, public_user, "get", KINDS), 403, "permission.denied")


def test_it_needs_the_add_scope_to_start_a_job(api_client, echo_kind, gulou_inspector) -> None:
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(gulou_inspector, ['view'])}")
    assert_error(api_client.post(LIST, {"kind": echo_kind}, format="json"), 403, "token.scope")


def test_it_has_no_job_update_or_delete(api_client, job_rows, gulou_inspector) -> None:
    assert_error(call(api_client, gulou_inspector, "patch", detail(job_rows["gulou"]), {"status": "succeeded"}), 405)
    assert_error(call(api_client, gulou_inspector, "delete", detail(job_rows["gulou"])), 405)


def test_it_lists_jobs_with_a_fixed_number_of_queries(
    api_client, nanjing_officer, gulou_inspector, jiangning_inspector, django_assert_max_num_queries
) -> None:
    for n in range(22):
        job_for((gulou_inspector, jiangning_inspector, nanjing_officer)[n % 3], errors=[{"row": n, "trace": "x"}])
    api_client.force_authenticate(nanjing_officer)
    with django_assert_max_num_queries(6):
        response = api_client.get(LIST)
    assert response.json()["count"] == 22
