"""``/api/v1/organizations/``: departments, scoped by region subtree (and own department without all-departments)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from jianguan.core.models import DepartmentKind, Organization
from jianguan.core.testing.personas import ECOLOGY, make_org, make_user
from jianguan.core.testing.scope_matrix import assert_error, assert_scope_matrix, call, list_ids

LIST = reverse("api:core-organization-list")


def detail(org: Organization) -> str:
    return reverse("api:core-organization-detail", args=[org.pk])


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def orgs(db):
    return {
        "gulou": make_org("320106"),
        "jiangning": make_org("320115"),
        "nanjing": make_org("320100"),
        "suzhou": make_org("320500"),
    }


@pytest.fixture
def gulou_sysadmin(db):
    return make_user("gulou_sysadmin", "320106", roles=["system_admin"])


@pytest.fixture
def jiangning_sysadmin(db):
    return make_user("jiangning_sysadmin", "320115", roles=["system_admin"])


def test_it_lists_the_region_subtree(api_client, orgs, nanjing_officer, gulou_inspector, suzhou_officer) -> None:
    assert list_ids(api_client, nanjing_officer, LIST) == {orgs["gulou"].pk, orgs["jiangning"].pk, orgs["nanjing"].pk}
    assert list_ids(api_client, gulou_inspector, LIST) == {orgs["gulou"].pk}
    assert list_ids(api_client, suzhou_officer, LIST) == {orgs["suzhou"].pk}


def test_it_shows_a_department_user_only_the_own_department(api_client, orgs) -> None:
    make_org("320106", ECOLOGY)
    viewer = make_user("gulou_viewer", "320106", roles=["inspector"])
    assert list_ids(api_client, viewer, LIST) == {orgs["gulou"].pk}


def test_it_reads_with_the_scope_matrix(api_client, orgs, jiangning_sysadmin, gulou_sysadmin) -> None:
    no_role = make_user("gulou_nobody", "320106")
    response = assert_scope_matrix(
        api_client,
        method="get",
        url=detail(orgs["gulou"]),
        outsider=jiangning_sysadmin,
        without_permission=no_role,
        without_permission_status=404,
        with_permission=gulou_sysadmin,
    )
    body = response.json()
    assert body["code"] == "320106001" and body["region"] == "320106" and body["kind"] == "001"
    assert body["region_name"] == "鼓楼区"


def test_it_updates_with_the_scope_matrix(
    api_client, orgs, jiangning_sysadmin, gulou_inspector, gulou_sysadmin
) -> None:
    response = assert_scope_matrix(
        api_client,
        method="patch",
        url=detail(orgs["gulou"]),
        data={"name": "鼓楼区市场监管局（新）"},
        outsider=jiangning_sysadmin,
        without_permission=gulou_inspector,
        with_permission=gulou_sysadmin,
    )
    assert response.json()["name"] == "鼓楼区市场监管局（新）"
    orgs["gulou"].refresh_from_db()
    assert orgs["gulou"].name == "鼓楼区市场监管局（新）" and orgs["gulou"].active


def test_it_never_moves_a_department(api_client, orgs, province_admin) -> None:
    response = call(
        api_client,
        province_admin,
        "put",
        detail(orgs["gulou"]),
        {"name": "改", "uscc": None, "active": False, "region": "320500", "kind": "002"},
    )
    assert response.status_code == 200, response.content
    orgs["gulou"].refresh_from_db()
    assert (orgs["gulou"].region_id, orgs["gulou"].kind_id, orgs["gulou"].active) == ("320106", "001", False)


def test_it_lets_the_city_change_its_counties_departments(api_client, orgs) -> None:
    nanjing_sysadmin = make_user("nanjing_sysadmin", "320100", roles=["system_admin"])
    assert call(api_client, nanjing_sysadmin, "patch", detail(orgs["jiangning"]), {"active": False}).status_code == 200


def test_it_creates_in_scope(api_client, gulou_sysadmin, gulou_inspector) -> None:
    data = {"region": "320106", "kind": ECOLOGY}
    assert_error(call(api_client, None, "post", LIST, data), 401, "auth.required")
    assert_error(call(api_client, gulou_inspector, "post", LIST, data), 403, "permission.denied")
    response = call(api_client, gulou_sysadmin, "post", LIST, data)
    assert response.status_code == 201, response.content
    kind = DepartmentKind.objects.get(code=ECOLOGY)
    assert response.json()["code"] == f"320106{ECOLOGY}"
    assert response.json()["name"] == f"南京市鼓楼区{kind.name}"


def test_it_refuses_a_region_outside_the_scope(api_client, gulou_sysadmin) -> None:
    body = assert_error(
        call(api_client, gulou_sysadmin, "post", LIST, {"region": "320115", "kind": ECOLOGY}), 400, "validation"
    )
    assert "region" in body["fields"]


def test_it_reports_a_duplicate_department_with_the_service_code(api_client, orgs, gulou_sysadmin) -> None:
    assert_error(
        call(api_client, gulou_sysadmin, "post", LIST, {"region": "320106", "kind": "001"}), 400, "organization.exists"
    )


def test_it_has_no_delete(api_client, orgs, province_admin) -> None:
    assert_error(call(api_client, province_admin, "delete", detail(orgs["gulou"])), 405)


def test_it_lists_with_a_fixed_number_of_queries(api_client, province_admin, django_assert_max_num_queries) -> None:
    for kind in DepartmentKind.objects.all()[:22]:
        make_org("320106", kind.code)
    api_client.force_authenticate(province_admin)
    with django_assert_max_num_queries(6):
        response = api_client.get(LIST)
    assert response.json()["count"] >= 22
