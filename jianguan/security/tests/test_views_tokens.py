"""API token pages: list with status, issue (secret shown once), revoke."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jianguan.core.models import ApiToken, AuditEntry, User
from jianguan.core.services import authenticate_token
from jianguan.core.testing.personas import login_verified, make_token, make_user

pytestmark = pytest.mark.django_db


def test_it_lists_tokens_with_their_status(client: Client, security_admin: User) -> None:
    machine = make_user("hotline", "320100", is_machine=True)
    make_token(machine)
    make_token(machine)
    make_token(machine)
    tokens = list(ApiToken.objects.order_by("pk"))
    ApiToken.objects.filter(pk=tokens[1].pk).update(expires_at=timezone.now() - dt.timedelta(days=1))
    ApiToken.objects.filter(pk=tokens[2].pk).update(revoked_at=timezone.now())
    login_verified(client, security_admin)
    response = client.get(reverse("security:token_list"))
    assert response.status_code == 200
    statuses = {token.pk: status for token, status in response.context["rows"]}
    assert statuses == {tokens[0].pk: "active", tokens[1].pk: "expired", tokens[2].pk: "revoked"}
    html = response.content.decode()
    assert "已过期" in html and "已吊销" in html


def test_it_issues_a_token_and_shows_the_secret_once(client: Client, security_admin: User) -> None:
    machine = make_user("hotline", "320100", is_machine=True)
    login_verified(client, security_admin)
    assert client.get(reverse("security:token_issue")).status_code == 200
    response = client.post(reverse("security:token_issue"), {
        "user": machine.pk, "name": "南京市12345热线", "scopes": ["view"], "days": "30",
    })
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = response.context["secret"]
    assert secret in response.content.decode()
    token = authenticate_token(secret)
    assert token is not None and token.user == machine and token.scopes == ["view"]
    assert secret not in client.get(reverse("security:token_list")).content.decode()
    assert AuditEntry.objects.filter(event="core.api_token.issued").exists()


def test_it_validates_the_token_lifetime(client: Client, security_admin: User) -> None:
    machine = make_user("hotline", "320100", is_machine=True)
    login_verified(client, security_admin)
    response = client.post(reverse("security:token_issue"), {
        "user": machine.pk, "name": "x", "scopes": ["view"], "days": "999",
    })
    assert response.status_code == 200
    assert "days" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_it_revokes_a_token(client: Client, security_admin: User) -> None:
    machine = make_user("hotline", "320100", is_machine=True)
    secret = make_token(machine)
    token = ApiToken.objects.get()
    login_verified(client, security_admin)
    response = client.post(reverse("security:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert authenticate_token(secret) is None
    assert AuditEntry.objects.filter(event="core.api_token.revoked").exists()


def test_it_revokes_only_by_post(client: Client, security_admin: User) -> None:
    machine = make_user("hotline", "320100", is_machine=True)
    make_token(machine)
    login_verified(client, security_admin)
    assert client.get(reverse("security:token_revoke", args=[ApiToken.objects.get().pk])).status_code == 405
