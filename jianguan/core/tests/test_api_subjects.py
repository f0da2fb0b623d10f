"""``/api/v1/subjects/``: the shared golden record, scoped by region subtree."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from jianguan.core.models import AuditEntry, Subject
from jianguan.core.testing.personas import make_subject, make_user
from jianguan.core.testing.scope_matrix import assert_error, assert_scope_matrix, call, list_ids

LIST = reverse("api:core-subject-list")


def detail(subject: Subject) -> str:
    return reverse("api:core-subject-detail", args=[subject.pk])


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def gulou_viewer(db):
    """In 鼓楼's scope, may view subjects but not change them."""
    return make_user("gulou_viewer", "320106", roles=["inspector"])


@pytest.fixture
def subjects(db):
    return {
        "gulou": make_subject("320106", industry_id="521"),
        "jiangning": make_subject("320115"),
        "suzhou": make_subject("320508"),
    }


def test_it_lists_only_the_callers_region_subtree(
    api_client, subjects, gulou_inspector, nanjing_officer, suzhou_officer, province_admin
) -> None:
    ids = {k: v.pk for k, v in subjects.items()}
    assert list_ids(api_client, gulou_inspector, LIST) == {ids["gulou"]}
    assert list_ids(api_client, nanjing_officer, LIST) == {ids["gulou"], ids["jiangning"]}
    assert list_ids(api_client, suzhou_officer, LIST) == {ids["suzhou"]}


def test_it_refuses_the_list_without_the_view_permission(api_client, public_user) -> None:
    assert_error(call(api_client, public_user, "get", LIST), 403, "permission.denied")


def test_it_exposes_region_and_industry_codes(api_client, subjects, gulou_inspector) -> None:
    body = call(api_client, gulou_inspector, "get", detail(subjects["gulou"])).json()
    assert body["region"] == "320106"
    assert body["region_name"] == "鼓楼区"
    assert body["industry"] == "521"
    assert body["uscc"] == subjects["gulou"].uscc


def test_it_reads_a_record_in_scope_and_hides_other_counties(
    api_client, subjects, gulou_inspector, jiangning_inspector, public_user
) -> None:
    gulou_public = make_user("gulou_public", "320106")
    assert_scope_matrix(
        api_client,
        method="get",
        url=detail(subjects["gulou"]),
        outsider=jiangning_inspector,
        without_permission=gulou_public,
        without_permission_status=404,
        with_permission=gulou_inspector,
    )


def test_it_lets_the_city_read_its_counties_records(api_client, subjects, nanjing_officer, suzhou_officer) -> None:
    assert call(api_client, nanjing_officer, "get", detail(subjects["jiangning"])).status_code == 200
    assert_error(call(api_client, suzhou_officer, "get", detail(subjects["jiangning"])), 404, "not_found")


def test_it_updates_through_the_service_with_the_scope_matrix(
    api_client, subjects, gulou_inspector, jiangning_inspector, gulou_viewer
) -> None:
    response = assert_scope_matrix(
        api_client,
        method="patch",
        url=detail(subjects["gulou"]),
        data={"name": "鼓楼新名称有限公司"},
        outsider=jiangning_inspector,
        without_permission=gulou_viewer,
        with_permission=gulou_inspector,
    )
    assert response.json()["name"] == "鼓楼新名称有限公司"
    subjects["gulou"].refresh_from_db()
    assert subjects["gulou"].name == "鼓楼新名称有限公司"
    assert AuditEntry.objects.filter(
        object_type="core.subject", object_id=str(subjects["gulou"].pk), action="update"
    ).exists()


def test_it_lets_the_city_change_a_county_record(api_client, subjects, nanjing_officer) -> None:
    response = call(
        api_client,
        nanjing_officer,
        "put",
        detail(subjects["jiangning"]),
        {"name": "全量更新有限公司", "subject_type": "enterprise", "region": "320115"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "全量更新有限公司"


def test_it_rolls_back_a_move_out_of_the_callers_scope(api_client, subjects, gulou_inspector) -> None:
    response = call(api_client, gulou_inspector, "patch", detail(subjects["gulou"]), {"region": "320115"})
    assert_error(response, 400, "validation")  # the region choice itself is scoped: 320115 "does not exist"
    subjects["gulou"].refresh_from_db()
    assert subjects["gulou"].region_id == "320106"


def test_it_creates_in_scope_and_audits(api_client, gulou_inspector, gulou_viewer) -> None:
    data = {
        "name": "鼓楼新设有限公司",
        "subject_type": "enterprise",
        "region": "320106",
        "industry": "521",
        "registered_capital": "100.5",
        "established_on": "2020-05-01",
    }
    assert_error(call(api_client, None, "post", LIST, data), 401, "auth.required")
    assert_error(call(api_client, gulou_viewer, "post", LIST, data), 403, "permission.denied")
    before = AuditEntry.objects.count()
    response = call(api_client, gulou_inspector, "post", LIST, data)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["region"] == "320106" and body["industry"] == "521"
    assert Subject.objects.get(pk=body["id"]).name == "鼓楼新设有限公司"
    assert AuditEntry.objects.count() > before


def test_it_refuses_to_create_in_another_county(api_client, gulou_inspector) -> None:
    data = {"name": "越界有限公司", "subject_type": "enterprise", "region": "320115"}
    body = assert_error(call(api_client, gulou_inspector, "post", LIST, data), 400, "validation")
    assert "region" in body["fields"]
    assert not Subject.objects.filter(name="越界有限公司").exists()


def test_it_checks_the_uscc_through_the_service(api_client, gulou_inspector) -> None:
    data = {"name": "坏代码有限公司", "subject_type": "enterprise", "region": "320106", "uscc": "91320106XXXXXXXX1"}
    body = assert_error(call(api_client, gulou_inspector, "post", LIST, data), 400)
    assert "uscc" in body["fields"]


def test_it_has_no_delete(api_client, subjects, gulou_inspector) -> None:
    assert_error(call(api_client, gulou_inspector, "delete", detail(subjects["gulou"])), 405, "method_not_allowed")
    assert Subject.objects.filter(pk=subjects["gulou"].pk).exists()


def test_it_filters_with_the_shared_filterset(api_client, subjects, nanjing_officer) -> None:
    assert list_ids(api_client, nanjing_officer, LIST, uscc=subjects["gulou"].uscc) == {subjects["gulou"].pk}
    assert list_ids(api_client, nanjing_officer, LIST, subject_type="individual") == set()
    assert list_ids(api_client, nanjing_officer, LIST, q=subjects["jiangning"].name) == {subjects["jiangning"].pk}


def test_it_filters_by_region_subtree_and_industry_prefix(api_client, subjects, nanjing_officer) -> None:
    assert list_ids(api_client, nanjing_officer, LIST, region="320115") == {subjects["jiangning"].pk}
    assert list_ids(api_client, nanjing_officer, LIST, region="320508") == set()
    assert list_ids(api_client, nanjing_officer, LIST, industry="52") == {subjects["gulou"].pk}


def test_it_lists_with_a_fixed_number_of_queries(api_client, nanjing_officer, django_assert_max_num_queries) -> None:
    for n in range(12):
        make_subject("320106")
        make_subject("320115", industry_id="521") if n % 2 else make_subject("320102")
    api_client.force_authenticate(nanjing_officer)
    with django_assert_max_num_queries(5):
        response = api_client.get(LIST)
    assert response.json()["count"] == 24
    assert len(response.json()["results"]) == 24


def test_it_never_answers_a_duplicate_uscc_with_a_server_error(api_client, subjects, gulou_inspector) -> None:
    other = make_subject("320106")
    response = call(api_client, gulou_inspector, "patch", detail(other), {"uscc": subjects["gulou"].uscc})
    body = assert_error(response, response.status_code)
    assert response.status_code in (400, 409), body
    other.refresh_from_db()
    assert other.uscc != subjects["gulou"].uscc
