"""API authentication, token scopes, the stable error shape and ``me/``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from jianguan.core.models import ApiToken, AuditEntry, Subject
from jianguan.core.testing.personas import make_officer, make_org, make_subject, make_token, make_user
from jianguan.core.testing.scope_matrix import assert_error

SUBJECTS = reverse("api:core-subject-list")
ME = reverse("api:core-me")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def bearer(client: APIClient, secret: str) -> APIClient:
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def new_subject(region: str = "320106") -> dict[str, str]:
    return {"name": "接口新建企业有限公司", "subject_type": "enterprise", "region": region}


# --- anonymous and broken credentials --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url_name",
    [
        "api:core-me",
        "api:core-subject-list",
        "api:core-region-list",
        "api:core-departmentkind-list",
        "api:core-organization-list",
        "api:core-user-list",
        "api:core-role-list",
        "api:core-officer-list",
        "api:core-job-list",
        "api:core-auditentry-list",
        "api:security-token-list",
    ],
)
def test_it_answers_anonymous_callers_with_401_in_the_stable_shape(db, api_client, url_name) -> None:
    response = api_client.get(reverse(url_name))
    assert_error(response, 401, "auth.required")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_rejects_an_unknown_token(db, api_client) -> None:
    assert_error(bearer(api_client, "jg_deadbeef_nope").get(SUBJECTS), 401, "auth.failed")


def test_it_rejects_a_malformed_authorization_header(db, api_client) -> None:
    api_client.credentials(HTTP_AUTHORIZATION="Bearer two parts")
    assert_error(api_client.get(SUBJECTS), 401, "auth.failed")


def test_it_rejects_an_expired_token(gulou_inspector, api_client) -> None:
    secret = make_token(gulou_inspector, ["view"], days=-1)
    assert_error(bearer(api_client, secret).get(SUBJECTS), 401, "auth.failed")


def test_it_rejects_a_revoked_token(gulou_inspector, api_client, settings) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 0  # revoked behind this process's back: seen at the next look-up
    secret = make_token(gulou_inspector, ["view"])
    assert bearer(api_client, secret).get(SUBJECTS).status_code == 200
    ApiToken.objects.filter(user=gulou_inspector).update(revoked_at=timezone.now())
    assert_error(api_client.get(SUBJECTS), 401, "auth.failed")


def test_it_rejects_a_token_of_a_disabled_account(gulou_inspector, api_client) -> None:
    secret = make_token(gulou_inspector, ["view"])
    gulou_inspector.is_active = False
    gulou_inspector.save()
    assert_error(bearer(api_client, secret).get(SUBJECTS), 401, "auth.failed")


# --- token scopes ----------------------------------------------------------------------------------------------------


def test_it_lets_a_view_token_read_but_not_write(gulou_inspector, api_client) -> None:
    make_subject("320106")
    bearer(api_client, make_token(gulou_inspector, ["view"]))
    assert api_client.get(SUBJECTS).json()["count"] == 1
    body = assert_error(api_client.post(SUBJECTS, new_subject(), format="json"), 403, "token.scope")
    assert body["fields"] == {}
    assert not Subject.objects.filter(name="接口新建企业有限公司").exists()


def test_it_lets_an_add_token_create_but_not_read(gulou_inspector, api_client) -> None:
    subject = make_subject("320106")
    bearer(api_client, make_token(gulou_inspector, ["add"]))
    assert api_client.post(SUBJECTS, new_subject(), format="json").status_code == 201
    assert_error(api_client.get(SUBJECTS), 403, "token.scope")
    assert_error(api_client.get(reverse("api:core-subject-detail", args=[subject.pk])), 403, "token.scope")


def test_it_needs_the_change_scope_to_update(gulou_inspector, api_client) -> None:
    subject = make_subject("320106")
    url = reverse("api:core-subject-detail", args=[subject.pk])
    bearer(api_client, make_token(gulou_inspector, ["view", "add"]))
    assert_error(api_client.patch(url, {"name": "改名"}, format="json"), 403, "token.scope")
    bearer(api_client, make_token(gulou_inspector, ["change"]))
    assert api_client.patch(url, {"name": "改名"}, format="json").status_code == 200


def test_it_needs_the_export_scope_to_unmask(gulou_inspector, api_client) -> None:
    officer = make_officer(make_org("320106"))
    url = reverse("api:core-officer-unmask", args=[officer.pk])
    bearer(api_client, make_token(gulou_inspector, ["view", "change"]))
    assert_error(api_client.post(url, {"reason": "核对身份"}, format="json"), 403, "token.scope")
    bearer(api_client, make_token(gulou_inspector, ["export"]))
    assert api_client.post(url, {"reason": "核对身份"}, format="json").json()["id_number"] == officer.id_number


def test_it_never_widens_the_accounts_own_permissions(db, api_client) -> None:
    viewer = make_user("gulou_viewer", "320106", roles=["inspector"])
    bearer(api_client, make_token(viewer, ["view", "add", "change"]))
    assert_error(api_client.post(SUBJECTS, new_subject(), format="json"), 403, "permission.denied")


def test_it_keeps_the_data_scope_for_token_calls(gulou_inspector, api_client) -> None:
    jiangning = make_subject("320115")
    bearer(api_client, make_token(gulou_inspector, ["view", "change"]))
    assert api_client.get(SUBJECTS).json()["count"] == 0
    url = reverse("api:core-subject-detail", args=[jiangning.pk])
    assert_error(api_client.get(url), 404, "not_found")
    assert_error(api_client.patch(url, {"name": "x"}, format="json"), 404, "not_found")


def test_it_audits_token_calls_as_the_tokens_account(gulou_inspector, api_client) -> None:
    secret = make_token(gulou_inspector, ["add"])
    response = bearer(api_client, secret).post(SUBJECTS, new_subject(), format="json")
    assert response.status_code == 201
    entry = AuditEntry.objects.filter(object_type="core.subject", object_id=str(response.json()["id"])).get()
    prefix = secret.split("_")[1]
    assert entry.actor_id == gulou_inspector.pk
    assert entry.actor_name.startswith("gulou_inspector(")
    assert f"[token:{prefix}]" in entry.actor_name
    assert entry.actor_region == "320106"


def test_it_audits_session_calls_as_the_signed_in_user(gulou_inspector, api_client) -> None:
    api_client.force_authenticate(gulou_inspector)
    response = api_client.post(SUBJECTS, new_subject(), format="json")
    entry = AuditEntry.objects.filter(object_type="core.subject", object_id=str(response.json()["id"])).get()
    assert entry.actor_id == gulou_inspector.pk
    assert "[token:" not in entry.actor_name


# --- the one error shape ---------------------------------------------------------------------------------------------


def test_it_reports_validation_errors_per_field(gulou_inspector, api_client) -> None:
    api_client.force_authenticate(gulou_inspector)
    body = assert_error(api_client.post(SUBJECTS, {"subject_type": "nonsense"}, format="json"), 400, "validation")
    assert {"name", "subject_type", "region"} <= set(body["fields"])


def test_it_reports_domain_errors_with_their_stable_code(gulou_inspector, api_client) -> None:
    existing = make_subject("320106")
    api_client.force_authenticate(gulou_inspector)
    body = assert_error(
        api_client.post(SUBJECTS, {**new_subject(), "uscc": existing.uscc}, format="json"), 400, "subject.exists"
    )
    assert "uscc" in body["fields"]


def test_it_reports_unsupported_methods_as_405(gulou_inspector, api_client) -> None:
    subject = make_subject("320106")
    api_client.force_authenticate(gulou_inspector)
    assert_error(api_client.delete(reverse("api:core-subject-detail", args=[subject.pk])), 405, "method_not_allowed")


def test_it_reports_unparseable_bodies(gulou_inspector, api_client) -> None:
    api_client.force_authenticate(gulou_inspector)
    response = api_client.post(SUBJECTS, "{not json", content_type="application/json")
    assert_error(response, 400, "parse_error")


# --- me/ -------------------------------------------------------------------------------------------------------------


def test_it_describes_the_session_caller(gulou_inspector, api_client) -> None:
    api_client.force_authenticate(gulou_inspector)
    body = api_client.get(ME).json()
    assert body["username"] == "gulou_inspector"
    assert body["full_name"] == "鼓楼检查员"
    assert {r["code"] for r in body["roles"]} == {"inspector", "data_admin"}
    assert all(r["name"] for r in body["roles"])
    assert body["region"] == {"code": "320106", "name": "鼓楼区", "level": "county"}
    org = make_org("320106")
    assert body["department"] == {"id": org.pk, "code": org.code, "name": org.name}
    assert "core.view_subject" in body["permissions"]
    assert "core.manage_role" not in body["permissions"]
    assert body["token"] == {"authenticated": False, "prefix": None, "scopes": None, "expires_at": None}


def test_it_describes_the_token_caller_whatever_the_tokens_scopes(gulou_inspector, api_client) -> None:
    secret = make_token(gulou_inspector, ["add"], days=7)
    body = bearer(api_client, secret).get(ME).json()
    assert body["username"] == "gulou_inspector"
    assert body["token"]["authenticated"] is True
    assert body["token"]["prefix"] == secret.split("_")[1]
    assert body["token"]["scopes"] == ["add"]
    expires = dt.datetime.fromisoformat(body["token"]["expires_at"])
    assert dt.timedelta(days=6) < expires - timezone.now() <= dt.timedelta(days=7)


def test_it_answers_me_for_an_account_without_region(db, api_client) -> None:
    user = make_user("nowhere", "320000")
    user.region = None
    user.organization = None
    user.save()
    api_client.force_authenticate(user)
    body = api_client.get(ME).json()
    assert body["region"] is None and body["department"] is None and body["roles"] == []


# --- the browser-session layer and token calls -----------------------------------------------------------------------


def test_a_token_call_passes_the_browser_session_layer_by(gulou_inspector, api_client) -> None:
    """No cookie session is opened or read for a bearer-token call: no cookie set, no ``Vary: Cookie``; the
    caller is the token's account (``core.middleware.BrowserSessionMiddleware``)."""
    response = bearer(api_client, make_token(gulou_inspector, ["view"])).get(ME)
    assert response.status_code == 200 and response.json()["username"] == gulou_inspector.username
    assert not response.cookies and "Cookie" not in response.get("Vary", "")


def test_a_bearer_header_is_ignored_by_the_pages_and_a_session_api_post_still_needs_csrf(gulou_inspector) -> None:
    """Only REST calls skip the session layer: a page with a bearer header still needs a signed-in session, and a
    cookie-authenticated API write still needs the CSRF token."""
    from django.test import Client

    token = make_token(gulou_inspector, ["view", "add"])
    page = Client().get(reverse("core:subject_list"), HTTP_AUTHORIZATION=f"Bearer {token}")
    assert page.status_code == 302 and "/accounts/login/" in page["Location"]
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(gulou_inspector)
    response = browser.post(SUBJECTS, new_subject(), content_type="application/json")
    assert response.status_code == 403 and not Subject.objects.filter(name=new_subject()["name"]).exists()
    assert browser.get(ME).json()["username"] == gulou_inspector.username  # the session itself works


def test_a_token_call_with_a_session_cookie_is_the_tokens_caller(gulou_inspector, api_client) -> None:
    other = make_user("gl_other_for_token", "320106", roles=["inspector"])
    api_client.force_login(gulou_inspector)
    response = bearer(api_client, make_token(other, ["view"])).get(ME)
    assert response.json()["username"] == "gl_other_for_token"


def test_a_token_call_gets_the_apis_fixed_content_security_policy_and_pages_their_own(gulou_inspector,
                                                                                       api_client) -> None:
    from django.test import Client

    from jianguan.core.middleware import CSPMiddleware

    response = bearer(api_client, make_token(gulou_inspector, ["view"])).get(ME)
    assert response["Content-Security-Policy"] == CSPMiddleware.API_POLICY
    page = Client().get(reverse("core:login"))
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assert "form-action 'self'" in page["Content-Security-Policy"]


def test_a_token_call_is_audited_as_anonymous_at_its_address_until_its_token_is_checked(db, api_client,
                                                                                        monkeypatch) -> None:
    """Before the view authenticates the token, the audit context is the anonymous caller at the request's address
    (as the session policy bound it before token calls skipped it), never the system account."""
    from jianguan.core import audit
    from jianguan.core.api import authentication

    seen = []

    def spy(secret: str) -> None:  # no token matches
        seen.append(audit._context.get())

    monkeypatch.setattr(authentication, "authenticate_token", spy)
    response = api_client.get(ME, HTTP_AUTHORIZATION="Token jg_abcd1234_secret", REMOTE_ADDR="10.1.2.3")
    assert_error(response, 401, "auth.failed")
    assert seen and seen[0].actor_name == "anonymous" and seen[0].ip == "10.1.2.3" and seen[0].request_id
