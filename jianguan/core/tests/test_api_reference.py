"""``/api/v1/regions/`` (scoped to the caller's subtree) and ``/api/v1/department-kinds/`` (open reference)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from jianguan.core.models import DepartmentKind, Region
from jianguan.core.testing.personas import make_token, make_user
from jianguan.core.testing.scope_matrix import assert_error, assert_scope_matrix, call, list_ids

REGIONS = reverse("api:core-region-list")
KINDS = reverse("api:core-departmentkind-list")


def region_url(code: str) -> str:
    return reverse("api:core-region-detail", args=[code])


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def test_it_shows_a_county_only_its_own_region(api_client, gulou_inspector) -> None:
    assert list_ids(api_client, gulou_inspector, REGIONS, "code") == {"320106"}


def test_it_shows_a_city_its_counties(api_client, nanjing_officer) -> None:
    codes = list_ids(api_client, nanjing_officer, REGIONS, "code")
    assert {"320100", "320106", "320115"} <= codes
    assert all(code.startswith("3201") for code in codes)


def test_it_reads_a_region_with_the_scope_matrix(api_client, gulou_inspector, jiangning_inspector) -> None:
    no_role = make_user("gulou_nobody", "320106")
    response = assert_scope_matrix(
        api_client,
        method="get",
        url=region_url("320106"),
        outsider=jiangning_inspector,
        without_permission=no_role,
        without_permission_status=404,
        with_permission=gulou_inspector,
    )
    assert response.json() == {
        "code": "320106",
        "name": "鼓楼区",
        "short_name": response.json()["short_name"],
        "level": "county",
        "kind": "district",
        "parent": "320100",
        "edition": "2023",
        "active": True,
    }


def test_it_filters_regions_by_parent_and_level(api_client, province_admin) -> None:
    counties = list_ids(api_client, province_admin, REGIONS, "code", parent="320100")
    assert counties == set(Region.objects.filter(parent_id="320100").values_list("code", flat=True))
    assert "320106" in counties
    cities = list_ids(api_client, province_admin, REGIONS, "code", level="city")
    assert len(cities) == 13 and "320500" in cities


def test_it_has_no_region_writes(api_client, province_admin) -> None:
    assert_error(call(api_client, province_admin, "post", REGIONS, {"code": "329999"}), 405)
    assert_error(call(api_client, province_admin, "patch", region_url("320106"), {"name": "x"}), 405)
    assert_error(call(api_client, province_admin, "delete", region_url("320106")), 405)


def test_it_lists_regions_with_a_fixed_number_of_queries(
    api_client, province_admin, django_assert_max_num_queries
) -> None:
    api_client.force_authenticate(province_admin)
    with django_assert_max_num_queries(5):
        response = api_client.get(REGIONS)
    assert response.json()["count"] > 100


def test_it_lists_department_kinds_for_every_signed_in_account(api_client, public_user) -> None:
    # Region-less reference data: there is no out-of-scope kind, so every account sees the same list.
    assert list_ids(api_client, public_user, KINDS, "code") == set(
        DepartmentKind.objects.values_list("code", flat=True)
    )
    body = call(api_client, public_user, "get", reverse("api:core-departmentkind-detail", args=["001"])).json()
    assert body["code"] == "001" and body["name"]
    assert_error(call(api_client, None, "get", KINDS), 401, "auth.required")
    assert_error(call(api_client, public_user, "get", reverse("api:core-departmentkind-detail", args=["999"])), 404)
    assert_error(call(api_client, public_user, "post", KINDS, {"code": "999"}), 405)


def test_it_needs_the_view_scope_for_department_kinds(api_client, public_user) -> None:
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(public_user, ['add'])}")
    assert_error(api_client.get(KINDS), 403, "token.scope")


def test_it_lists_department_kinds_with_a_fixed_number_of_queries(
    api_client, public_user, django_assert_max_num_queries
) -> None:
    api_client.force_authenticate(public_user)
    with django_assert_max_num_queries(2):
        response = api_client.get(KINDS)
    assert response.json()["count"] >= 20
