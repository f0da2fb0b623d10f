"""``/api/v1/tokens/``: security administrators issue (secret shown once), list and revoke API tokens."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from jianguan.core.models import ApiToken, AuditEntry, Role
from jianguan.core.services import issue_token
from jianguan.core.testing.personas import make_user
from jianguan.core.testing.scope_matrix import assert_error, assert_scope_matrix, call, list_ids

LIST = reverse("api:security-token-list")


def detail(token: ApiToken) -> str:
    return reverse("api:security-token-detail", args=[token.pk])


def revoke(token: ApiToken) -> str:
    return reverse("api:security-token-revoke", args=[token.pk])


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def admins(db):
    viewer_role = Role.objects.create(code="token_viewer", name="令牌查看", all_departments=True)
    viewer_role.permissions.set(Permission.objects.filter(codename__in=["view_apitoken", "view_user"]))
    return {
        "gulou": make_user("gulou_secadmin", "320106", roles=["security_admin"]),
        "jiangning": make_user("jiangning_secadmin", "320115", roles=["security_admin"]),
        "nanjing": make_user("nanjing_secadmin", "320100", roles=["security_admin"]),
        "gulou_viewer": make_user("gulou_token_viewer", "320106", roles=["token_viewer"]),
    }


@pytest.fixture
def tokens(admins, security_admin):
    machines = {
        "gulou": make_user("gulou_machine", "320106", roles=["api_client"], is_machine=True),
        "jiangning": make_user("jiangning_machine", "320115", roles=["api_client"], is_machine=True),
        "suzhou": make_user("suzhou_machine", "320500", roles=["api_client"], is_machine=True),
    }
    return {
        key: issue_token(actor=security_admin, user=user, name=f"{key} 数据交换", scopes=["view"], days=30)[0]
        for key, user in machines.items()
    }


def test_it_lists_tokens_of_accounts_in_scope(api_client, tokens, admins, security_admin) -> None:
    ids = {k: t.pk for k, t in tokens.items()}
    assert list_ids(api_client, admins["gulou"], LIST) == {ids["gulou"]}
    assert list_ids(api_client, admins["nanjing"], LIST) == {ids["gulou"], ids["jiangning"]}
    assert list_ids(api_client, security_admin, LIST) == set(ids.values())


def test_it_never_shows_the_secret_or_its_hash_when_reading(api_client, tokens, admins) -> None:
    body = call(api_client, admins["gulou"], "get", detail(tokens["gulou"])).json()
    assert "secret" not in body and "secret_hash" not in body
    assert body["prefix"] == tokens["gulou"].prefix and body["scopes"] == ["view"]
    assert body["username"] == "gulou_machine" and body["usable"] is True


def test_it_reads_with_the_scope_matrix(api_client, tokens, admins, gulou_inspector) -> None:
    assert_scope_matrix(
        api_client,
        method="get",
        url=detail(tokens["gulou"]),
        outsider=admins["jiangning"],
        without_permission=gulou_inspector,
        without_permission_status=404,
        with_permission=admins["gulou_viewer"],
    )


def test_it_issues_a_token_and_shows_the_secret_once(api_client, admins) -> None:
    machine = make_user("gulou_machine2", "320106", roles=["api_client"], is_machine=True)
    data = {"name": "鼓楼数据交换", "user": machine.pk, "scopes": ["view", "add"], "days": 10}
    assert_error(call(api_client, None, "post", LIST, data), 401, "auth.required")
    assert_error(call(api_client, admins["gulou_viewer"], "post", LIST, data), 403, "permission.denied")
    response = call(api_client, admins["gulou"], "post", LIST, data)
    assert response.status_code == 201, response.content
    body = response.json()
    token = ApiToken.objects.get(pk=body["id"])
    assert body["secret"].startswith(f"jg_{token.prefix}_")
    assert token.secret_hash not in body.values()
    assert token.scopes == ["add", "view"] and token.created_by == admins["gulou"]
    assert dt.timedelta(days=9) < token.expires_at - timezone.now() <= dt.timedelta(days=10)
    assert AuditEntry.objects.filter(event="core.api_token.issued", object_id=str(token.pk)).exists()
    assert "secret" not in call(api_client, admins["gulou"], "get", detail(token)).json()
    # … and the secret works.
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['secret']}")
    me = api_client.get(reverse("api:core-me")).json()
    assert me["username"] == "gulou_machine2" and me["token"]["scopes"] == ["add", "view"]


def test_it_refuses_a_token_for_an_account_outside_the_scope(api_client, admins) -> None:
    stranger = make_user("jiangning_machine2", "320115", roles=["api_client"], is_machine=True)
    data = {"name": "越界", "user": stranger.pk, "scopes": ["view"]}
    body = assert_error(call(api_client, admins["gulou"], "post", LIST, data), 400, "validation")
    assert "user" in body["fields"]
    assert not ApiToken.objects.filter(user=stranger).exists()


def test_it_validates_scopes_and_days(api_client, admins) -> None:
    machine = make_user("gulou_machine3", "320106", is_machine=True)
    body = assert_error(
        call(api_client, admins["gulou"], "post", LIST, {"name": "x", "user": machine.pk, "scopes": ["root"]}),
        400,
        "validation",
    )
    assert any(key.startswith("scopes") for key in body["fields"])
    assert_error(
        call(
            api_client,
            admins["gulou"],
            "post",
            LIST,
            {"name": "x", "user": machine.pk, "scopes": ["view"], "days": 1000},
        ),
        400,
        "token.days",
    )


def test_it_revokes_with_the_scope_matrix(api_client, tokens, admins) -> None:
    response = assert_scope_matrix(
        api_client,
        method="post",
        url=revoke(tokens["gulou"]),
        outsider=admins["jiangning"],
        without_permission=admins["gulou_viewer"],
        with_permission=admins["gulou"],
    )
    assert response.json()["revoked_at"] is not None and response.json()["usable"] is False
    tokens["gulou"].refresh_from_db()
    assert tokens["gulou"].revoked_at is not None
    assert AuditEntry.objects.filter(event="core.api_token.revoked", object_id=str(tokens["gulou"].pk)).exists()


def test_it_stops_a_revoked_token_at_once(api_client, admins, security_admin) -> None:
    machine = make_user("gulou_machine4", "320106", roles=["api_client"], is_machine=True)
    token, secret = issue_token(actor=security_admin, user=machine, name="t", scopes=["view"], days=5)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get(reverse("api:core-subject-list")).status_code == 200
    assert call(api_client, admins["gulou"], "post", revoke(token)).status_code == 200
    assert_error(client.get(reverse("api:core-subject-list")), 401, "auth.failed")


def test_it_needs_the_change_scope_to_revoke_with_a_token(api_client, tokens, admins) -> None:
    robot = make_user("robot", "320106", roles=["security_admin"], is_machine=True)
    _token, secret = issue_token(actor=admins["gulou"], user=robot, name="robot", scopes=["view"], days=1)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert_error(api_client.post(revoke(tokens["gulou"])), 403, "token.scope")


def test_it_has_no_update_or_delete(api_client, tokens, admins) -> None:
    assert_error(call(api_client, admins["gulou"], "patch", detail(tokens["gulou"]), {"scopes": ["delete"]}), 405)
    assert_error(call(api_client, admins["gulou"], "delete", detail(tokens["gulou"])), 405)


def test_it_lists_tokens_with_a_fixed_number_of_queries(
    api_client, security_admin, django_assert_max_num_queries
) -> None:
    for n in range(22):
        machine = make_user(f"machine{n}", ("320106", "320115", "320500")[n % 3], is_machine=True)
        issue_token(actor=security_admin, user=machine, name=f"t{n}", scopes=["view"], days=30)
    api_client.force_authenticate(security_admin)
    with django_assert_max_num_queries(6):
        response = api_client.get(LIST)
    assert response.json()["count"] == 22
