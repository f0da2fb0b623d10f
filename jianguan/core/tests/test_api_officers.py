"""``/api/v1/officers/``: personal data masked in every representation; ``unmask`` reveals it, audited."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from jianguan.core.models import AuditEntry, EnforcementOfficer
from jianguan.core.testing.personas import ECOLOGY, make_officer, make_org, make_user
from jianguan.core.testing.scope_matrix import assert_error, assert_scope_matrix, call, list_ids
from jianguan.lib.masking import mask_id_number, mask_phone
from jianguan.lib.validators import make_id_number

LIST = reverse("api:core-officer-list")


def detail(officer: EnforcementOfficer) -> str:
    return reverse("api:core-officer-detail", args=[officer.pk])


def unmask(officer: EnforcementOfficer) -> str:
    return reverse("api:core-officer-unmask", args=[officer.pk])


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def officers(db):
    return {
        "gulou": make_officer(make_org("320106")),
        "jiangning": make_officer(make_org("320115")),
        "suzhou": make_officer(make_org("320500")),
    }


@pytest.fixture
def gulou_viewer(db):
    """鼓楼 market inspector: may view the department's officers, not change or unmask them."""
    return make_user("gulou_viewer", "320106", roles=["inspector"])


def assert_masked(body: dict, officer: EnforcementOfficer) -> None:
    assert body["id_number"] == mask_id_number(officer.id_number)
    assert body["phone"] == mask_phone(officer.phone)
    assert officer.id_number not in json.dumps(body, ensure_ascii=False)
    assert officer.phone not in json.dumps(body, ensure_ascii=False)


def test_it_masks_personal_data_in_the_list(api_client, officers, nanjing_officer) -> None:
    api_client.force_authenticate(nanjing_officer)
    body = api_client.get(LIST).json()
    assert {row["id"] for row in body["results"]} == {officers["gulou"].pk, officers["jiangning"].pk}
    for row in body["results"]:
        assert_masked(row, EnforcementOfficer.objects.get(pk=row["id"]))


def test_it_masks_personal_data_in_the_detail(api_client, officers, gulou_inspector) -> None:
    body = call(api_client, gulou_inspector, "get", detail(officers["gulou"])).json()
    assert_masked(body, officers["gulou"])
    assert body["organization_code"] == "320106001"
    assert body["region"] == "320106"
    assert body["fields"] == ["market"]


def test_it_lists_only_the_callers_scope(api_client, officers, gulou_inspector, suzhou_officer) -> None:
    assert list_ids(api_client, gulou_inspector, LIST) == {officers["gulou"].pk}
    assert list_ids(api_client, suzhou_officer, LIST) == {officers["suzhou"].pk}


def test_it_limits_a_department_user_to_the_own_department(api_client, gulou_viewer) -> None:
    own = make_officer(make_org("320106"))
    other_department = make_officer(make_org("320106", ECOLOGY))
    assert list_ids(api_client, gulou_viewer, LIST) == {own.pk}
    assert_error(call(api_client, gulou_viewer, "get", detail(other_department)), 404, "not_found")


def test_it_reads_with_the_scope_matrix(api_client, officers, jiangning_inspector, gulou_inspector) -> None:
    no_role = make_user("gulou_nobody", "320106")
    assert_scope_matrix(
        api_client,
        method="get",
        url=detail(officers["gulou"]),
        outsider=jiangning_inspector,
        without_permission=no_role,
        without_permission_status=404,
        with_permission=gulou_inspector,
    )


def test_it_lets_the_city_read_its_counties_officers(api_client, officers, nanjing_officer) -> None:
    assert call(api_client, nanjing_officer, "get", detail(officers["jiangning"])).status_code == 200


def test_it_updates_with_the_scope_matrix_and_stays_masked(
    api_client, officers, jiangning_inspector, gulou_viewer, gulou_inspector
) -> None:
    response = assert_scope_matrix(
        api_client,
        method="patch",
        url=detail(officers["gulou"]),
        data={"phone": "13912345678", "name": "改名"},
        outsider=jiangning_inspector,
        without_permission=gulou_viewer,
        with_permission=gulou_inspector,
    )
    officers["gulou"].refresh_from_db()
    assert officers["gulou"].phone == "13912345678"
    assert response.json()["phone"] == "139****5678"
    assert response.json()["name"] == "改名"


def test_it_creates_masked_and_audited(api_client, gulou_inspector, gulou_viewer) -> None:
    org = make_org("320106")
    id_number = make_id_number("32010619900101123")
    data = {
        "name": "新执法员",
        "id_number": id_number,
        "certificate_no": "JS320106999999",
        "organization": org.pk,
        "fields": ["market", "food"],
        "phone": "13800001111",
    }
    assert_error(call(api_client, gulou_viewer, "post", LIST, data), 403, "permission.denied")
    response = call(api_client, gulou_inspector, "post", LIST, data)
    assert response.status_code == 201, response.content
    officer = EnforcementOfficer.objects.get(pk=response.json()["id"])
    assert officer.id_number == id_number and officer.region_id == "320106"
    assert_masked(response.json(), officer)
    entry = AuditEntry.objects.get(object_type="core.enforcementofficer", object_id=str(officer.pk), action="create")
    assert id_number not in json.dumps(entry.after, ensure_ascii=False)


def test_it_refuses_a_department_outside_the_scope(api_client, gulou_inspector) -> None:
    data = {
        "name": "越界",
        "id_number": make_id_number("32011519900101123"),
        "certificate_no": "JS1",
        "organization": make_org("320115").pk,
    }
    body = assert_error(call(api_client, gulou_inspector, "post", LIST, data), 400, "validation")
    assert "organization" in body["fields"]


def test_it_validates_the_id_number_in_the_service(api_client, gulou_inspector) -> None:
    data = {
        "name": "坏证件",
        "id_number": "320106199001011230",
        "certificate_no": "JS2",
        "organization": make_org("320106").pk,
    }
    body = assert_error(call(api_client, gulou_inspector, "post", LIST, data), 400)
    assert "id_number" in body["fields"]


def test_it_unmasks_with_the_scope_matrix_and_a_read_audit(
    api_client, officers, jiangning_inspector, gulou_viewer, gulou_inspector
) -> None:
    officer = officers["gulou"]
    response = assert_scope_matrix(
        api_client,
        method="post",
        url=unmask(officer),
        data={"reason": "核对执法证件"},
        outsider=jiangning_inspector,
        without_permission=gulou_viewer,
        with_permission=gulou_inspector,
    )
    assert response.json() == {"id_number": officer.id_number, "phone": officer.phone}
    entry = AuditEntry.objects.filter(action="read", object_id=str(officer.pk)).get()
    assert entry.reason == "核对执法证件"
    assert entry.actor_id == gulou_inspector.pk


def test_it_needs_a_reason_to_unmask(api_client, officers, gulou_inspector) -> None:
    assert_error(call(api_client, gulou_inspector, "post", unmask(officers["gulou"]), {}), 400, "validation")
    body = assert_error(call(api_client, gulou_inspector, "post", unmask(officers["gulou"]), {"reason": " "}), 400)
    assert "reason" in body["fields"]
    assert not AuditEntry.objects.filter(action="read").exists()


def test_it_has_no_delete(api_client, officers, gulou_inspector) -> None:
    assert_error(call(api_client, gulou_inspector, "delete", detail(officers["gulou"])), 405)


def test_it_lists_with_a_fixed_number_of_queries(api_client, nanjing_officer, django_assert_max_num_queries) -> None:
    for region in ("320106", "320115", "320102") * 7:
        make_officer(make_org(region))
    api_client.force_authenticate(nanjing_officer)
    with django_assert_max_num_queries(6):
        response = api_client.get(LIST)
    assert response.json()["count"] == 21


def test_it_never_answers_a_duplicate_certificate_with_a_server_error(api_client, officers, gulou_inspector) -> None:
    existing = officers["gulou"]
    data = {
        "name": "重复证号",
        "id_number": make_id_number("32010619900101123"),
        "certificate_no": existing.certificate_no,
        "organization": existing.organization_id,
    }
    response = call(api_client, gulou_inspector, "post", LIST, data)
    assert response.status_code in (400, 409), response.content
    assert_error(response, response.status_code)
    assert EnforcementOfficer.objects.filter(certificate_no=existing.certificate_no).count() == 1
