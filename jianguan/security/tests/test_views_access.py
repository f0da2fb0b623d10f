"""Every security administration page: login for anonymous users, 403 for signed-in users without the permission."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from jianguan.core.models import User

pytestmark = pytest.mark.django_db

PAGES = [
    ("get", "security:organization_list", []),
    ("get", "security:organization_create", []),
    ("get", "security:user_list", []),
    ("get", "security:user_create", []),
    ("get", "security:role_list", []),
    ("get", "security:role_edit", ["inspector"]),
    ("get", "security:token_list", []),
    ("get", "security:token_issue", []),
    ("post", "security:token_revoke", [1]),
    ("get", "security:audit_list", []),
    ("get", "security:audit_detail", [1]),
    ("post", "security:audit_verify", []),
    ("post", "security:user_reset_password", [1]),
]


@pytest.mark.parametrize(("method", "name", "args"), PAGES)
def test_it_sends_anonymous_users_to_login(client: Client, method: str, name: str, args: list) -> None:
    response = getattr(client, method)(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:login"))


@pytest.mark.parametrize(("method", "name", "args"), PAGES)
def test_it_refuses_a_user_without_the_permission(client: Client, public_user: User, method: str, name: str,
                                                  args: list) -> None:
    client.force_login(public_user)
    response = getattr(client, method)(reverse(name, args=args))
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()


def test_it_keeps_the_three_administrator_duties_apart(client: Client, audit_admin: User) -> None:
    from jianguan.core.testing.personas import login_verified

    login_verified(client, audit_admin)
    assert client.get(reverse("security:audit_list")).status_code == 200
    assert client.get(reverse("security:role_edit", args=["inspector"])).status_code == 403
    assert client.get(reverse("security:token_list")).status_code == 403
    assert client.get(reverse("security:user_create")).status_code == 403


def test_it_requires_the_second_factor_for_administrators(client: Client, security_admin: User) -> None:
    client.force_login(security_admin)
    response = client.get(reverse("security:role_list"))
    assert response["Location"] == reverse("core:otp_verify")


def test_it_shows_the_administration_entries_in_the_navigation(client: Client, audit_admin: User) -> None:
    from jianguan.core.testing.personas import login_verified
    from jianguan.security import navigation_entries

    navigation_entries.register()
    login_verified(client, audit_admin)
    response = client.get(reverse("core:home"))
    html = response.content.decode()
    assert "系统管理" in html
    assert reverse("security:audit_list") in html
    assert reverse("security:role_list") not in html  # the audit administrator holds no role permissions
