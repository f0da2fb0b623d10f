"""Role pages: the list with permissions; only the security administrator edits permissions and data scope."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from jianguan.core.models import Role, User
from jianguan.core.testing.personas import login_verified

pytestmark = pytest.mark.django_db


def test_it_lists_roles_with_their_permissions(client: Client, security_admin: User) -> None:
    login_verified(client, security_admin)
    response = client.get(reverse("security:role_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "数据管理员" in html and "导出 · 监管对象" in html
    assert reverse("security:role_edit", args=["data_admin"]) in html


def test_it_keeps_the_role_list_within_its_query_budget(
    client: Client, security_admin: User, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, security_admin)
    client.get(reverse("security:role_list"))
    with django_assert_max_num_queries(16):
        client.get(reverse("security:role_list"))


def test_it_edits_a_roles_permissions_and_scope(client: Client, security_admin: User) -> None:
    login_verified(client, security_admin)
    page = client.get(reverse("security:role_edit", args=["inspector"]))
    assert page.status_code == 200
    wanted = Permission.objects.filter(content_type__app_label="core",
                                       codename__in=["view_subject", "export_subject"])
    response = client.post(reverse("security:role_edit", args=["inspector"]), {
        "permissions": [p.pk for p in wanted], "all_departments": "on",
    })
    assert response.status_code == 302
    role = Role.objects.get(code="inspector")
    assert set(role.permissions.values_list("codename", flat=True)) == {"view_subject", "export_subject"}
    assert role.all_departments is True


def test_it_shows_roles_read_only_to_the_system_administrator(client: Client, province_admin: User) -> None:
    login_verified(client, province_admin)
    response = client.get(reverse("security:role_list"))
    assert response.status_code == 200
    assert reverse("security:role_edit", args=["inspector"]) not in response.content.decode()
    assert client.post(reverse("security:role_edit", args=["inspector"]), {"permissions": []}).status_code == 403


def test_it_answers_not_found_for_an_unknown_role(client: Client, security_admin: User) -> None:
    login_verified(client, security_admin)
    assert client.get(reverse("security:role_edit", args=["no-such-role"])).status_code == 404
