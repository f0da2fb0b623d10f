"""``/api/v1/users/`` and ``/api/v1/roles/``."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from rest_framework.test import APIClient

from jianguan.core.models import AuditEntry, Role, User
from jianguan.core.testing.personas import make_org, make_user
from jianguan.core.testing.scope_matrix import assert_error, assert_scope_matrix, call, list_ids

USERS = reverse("api:core-user-list")
ROLES = reverse("api:core-role-list")


def user_url(user: User) -> str:
    return reverse("api:core-user-detail", args=[user.pk])


def reset_url(user: User) -> str:
    return reverse("api:core-user-reset-password", args=[user.pk])


def role_url(code: str) -> str:
    return reverse("api:core-role-detail", args=[code])


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def staff(db):
    """Department administrators of 鼓楼 and 江宁, a 鼓楼 leader (may view users, not change them) and the users
    they administer."""
    return {
        "gulou_admin": make_user("gulou_admin", "320106", roles=["dept_admin"]),
        "jiangning_admin": make_user("jiangning_admin", "320115", roles=["dept_admin"]),
        "gulou_leader": make_user("gulou_leader", "320106", roles=["leader"]),
        "gulou_clerk": make_user("gulou_clerk", "320106", roles=["inspector"], phone="13812345678"),
        "jiangning_clerk": make_user("jiangning_clerk", "320115", roles=["inspector"]),
        "suzhou_clerk": make_user("suzhou_clerk", "320500", roles=["inspector"]),
    }


# --- users -----------------------------------------------------------------------------------------------------------


def test_it_lists_users_in_scope(api_client, staff, nanjing_officer) -> None:
    gulou = list_ids(api_client, staff["gulou_admin"], USERS, "username")
    assert gulou == {"gulou_admin", "gulou_leader", "gulou_clerk"}
    city = list_ids(api_client, nanjing_officer, USERS, "username")
    assert {"gulou_clerk", "jiangning_clerk", "nanjing_officer"} <= city
    assert "suzhou_clerk" not in city


def test_it_masks_the_phone_number(api_client, staff) -> None:
    body = call(api_client, staff["gulou_admin"], "get", user_url(staff["gulou_clerk"])).json()
    assert body["phone"] == "138****5678"
    assert body["roles"] == ["inspector"]
    assert body["region"] == "320106" and body["organization_code"] == "320106001"
    assert "password" not in body


def test_it_reads_with_the_scope_matrix(api_client, staff) -> None:
    no_role = make_user("gulou_nobody", "320106")
    assert_scope_matrix(
        api_client,
        method="get",
        url=user_url(staff["gulou_clerk"]),
        outsider=staff["jiangning_admin"],
        without_permission=no_role,
        without_permission_status=404,
        with_permission=staff["gulou_admin"],
    )


def test_it_updates_with_the_scope_matrix(api_client, staff) -> None:
    clerk = staff["gulou_clerk"]
    response = assert_scope_matrix(
        api_client,
        method="patch",
        url=user_url(clerk),
        data={"full_name": "鼓楼办事员"},
        outsider=staff["jiangning_admin"],
        without_permission=staff["gulou_leader"],
        with_permission=staff["gulou_admin"],
    )
    assert response.json()["full_name"] == "鼓楼办事员"
    clerk.refresh_from_db()
    assert clerk.full_name == "鼓楼办事员" and clerk.phone == "13812345678"
    assert list(clerk.roles.values_list("code", flat=True)) == ["inspector"]


def test_it_lets_the_city_change_a_county_user(api_client, staff, nanjing_officer) -> None:
    response = call(api_client, nanjing_officer, "patch", user_url(staff["jiangning_clerk"]), {"is_active": False})
    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is False


def test_it_refuses_to_grant_an_administrator_role(api_client, staff) -> None:
    response = call(
        api_client,
        staff["gulou_admin"],
        "patch",
        user_url(staff["gulou_clerk"]),
        {"roles": ["inspector", "security_admin"]},
    )
    assert_error(response, 400, "role.forbidden")
    assert list(staff["gulou_clerk"].roles.values_list("code", flat=True)) == ["inspector"]


def test_it_creates_a_user_and_shows_the_initial_password_once(api_client, staff) -> None:
    data = {
        "username": "gulou_new",
        "full_name": "新同事",
        "region": "320106",
        "organization": make_org("320106").pk,
        "roles": ["inspector"],
        "phone": "13900001111",
    }
    assert_error(call(api_client, None, "post", USERS, data), 401, "auth.required")
    assert_error(call(api_client, staff["gulou_leader"], "post", USERS, data), 403, "permission.denied")
    before = AuditEntry.objects.count()
    response = call(api_client, staff["gulou_admin"], "post", USERS, data)
    assert response.status_code == 201, response.content
    body = response.json()
    user = User.objects.get(username="gulou_new")
    assert user.check_password(body["initial_password"])
    assert body["phone"] == "139****1111" and body["roles"] == ["inspector"]
    assert AuditEntry.objects.count() > before
    assert "initial_password" not in call(api_client, staff["gulou_admin"], "get", user_url(user)).json()


def test_it_refuses_to_create_a_user_in_another_county(api_client, staff) -> None:
    data = {"username": "x", "full_name": "x", "region": "320115", "organization": make_org("320115").pk}
    body = assert_error(call(api_client, staff["gulou_admin"], "post", USERS, data), 400, "validation")
    assert {"region", "organization"} <= set(body["fields"])


def test_it_reports_a_taken_username(api_client, staff) -> None:
    data = {"username": "gulou_clerk", "full_name": "重名", "region": "320106", "organization": make_org("320106").pk}
    body = assert_error(call(api_client, staff["gulou_admin"], "post", USERS, data), 400, "user.exists")
    assert "username" in body["fields"]


def test_it_resets_a_password_with_the_scope_matrix(api_client, staff) -> None:
    clerk = staff["gulou_clerk"]
    response = assert_scope_matrix(
        api_client,
        method="post",
        url=reset_url(clerk),
        outsider=staff["jiangning_admin"],
        without_permission=staff["gulou_leader"],
        with_permission=staff["gulou_admin"],
    )
    clerk.refresh_from_db()
    assert clerk.check_password(response.json()["temporary_password"])
    assert clerk.password_changed_at is None
    assert AuditEntry.objects.filter(event="core.user.password_reset", object_id=str(clerk.pk)).exists()


def test_it_has_no_user_delete(api_client, staff) -> None:
    assert_error(call(api_client, staff["gulou_admin"], "delete", user_url(staff["gulou_clerk"])), 405)


def test_it_lists_users_with_a_fixed_number_of_queries(
    api_client, province_admin, django_assert_max_num_queries
) -> None:
    for n in range(22):
        make_user(f"bulk{n}", ("320106", "320115", "320500")[n % 3], roles=["inspector", "leader"])
    api_client.force_authenticate(province_admin)
    with django_assert_max_num_queries(7):
        response = api_client.get(USERS)
    assert response.json()["count"] >= 22


# --- roles -----------------------------------------------------------------------------------------------------------


def test_it_lists_roles_with_their_permission_names(api_client, province_admin) -> None:
    body = call(api_client, province_admin, "get", ROLES).json()
    roles = {row["code"]: row for row in body["results"]}
    assert "core.view_subject" in roles["inspector"]["permissions"]
    assert roles["security_admin"]["mfa_required"] is True


def test_it_hides_roles_from_accounts_without_the_view_permission(api_client, gulou_inspector) -> None:
    assert_error(call(api_client, gulou_inspector, "get", ROLES), 403, "permission.denied")
    assert_error(call(api_client, gulou_inspector, "get", role_url("inspector")), 404, "not_found")


def test_it_lets_only_the_security_administrator_change_a_role(api_client, security_admin, province_admin) -> None:
    data = {"permissions": ["core.view_region", "core.view_subject", "core.export_subject"], "all_departments": True}
    assert_error(call(api_client, None, "patch", role_url("inspector"), data), 401, "auth.required")
    assert_error(call(api_client, province_admin, "patch", role_url("inspector"), data), 403, "permission.denied")
    before = AuditEntry.objects.count()
    response = call(api_client, security_admin, "patch", role_url("inspector"), data)
    assert response.status_code == 200, response.content
    assert sorted(response.json()["permissions"]) == sorted(data["permissions"])
    role = Role.objects.get(code="inspector")
    assert role.all_departments is True
    assert role.permissions.filter(codename="export_subject").exists()
    assert AuditEntry.objects.count() > before


def test_it_keeps_unsent_role_fields(api_client, security_admin) -> None:
    before = set(Role.objects.get(code="leader").permissions.values_list("pk", flat=True))
    call(api_client, security_admin, "patch", role_url("leader"), {"all_departments": False})
    role = Role.objects.get(code="leader")
    assert set(role.permissions.values_list("pk", flat=True)) == before and role.all_departments is False


def test_it_rejects_unknown_permission_names(api_client, security_admin) -> None:
    body = assert_error(
        call(
            api_client,
            security_admin,
            "patch",
            role_url("leader"),
            {"permissions": ["core.fly_to_the_moon", "nonsense"]},
        ),
        400,
        "validation",
    )
    assert any(key.startswith("permissions") for key in body["fields"])


def test_it_has_no_role_put_post_or_delete(api_client, security_admin) -> None:
    assert_error(call(api_client, security_admin, "put", role_url("leader"), {}), 405)
    assert_error(call(api_client, security_admin, "delete", role_url("leader")), 405)
    assert_error(call(api_client, security_admin, "post", ROLES, {"code": "x"}), 405)


def test_it_treats_roles_as_region_less_reference_data(api_client, suzhou_officer, nanjing_officer) -> None:
    # Roles carry no region: the same definitions are visible to every account allowed to view roles.
    assert list_ids(api_client, suzhou_officer, ROLES, "code") == list_ids(api_client, nanjing_officer, ROLES, "code")


def test_it_lists_roles_with_a_fixed_number_of_queries(
    api_client, province_admin, django_assert_max_num_queries
) -> None:
    perms = list(Permission.objects.filter(content_type__app_label="core")[:5])
    for n in range(15):
        Role.objects.create(code=f"extra{n}", name=f"额外{n}").permissions.set(perms)
    api_client.force_authenticate(province_admin)
    with django_assert_max_num_queries(6):
        response = api_client.get(ROLES)
    assert response.json()["count"] >= 20
