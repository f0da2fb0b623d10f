"""Sign-in pages: password, second factor (enrol/verify), forced password change, logout, language switch."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from jianguan.core.models import AuditEntry, User
from jianguan.core.testing.personas import TEST_PASSWORD, login_verified

pytestmark = pytest.mark.django_db

LOGIN = reverse("core:login")


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift):06d}"


def _login(client: Client, username: str, password: str = TEST_PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def test_it_shows_the_login_page_in_chinese_by_default(client: Client) -> None:
    response = client.get(LOGIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert "登录" in html
    assert "江苏省“互联网+监管”系统" in html
    assert '<form method="post" action="/accounts/login/"' in html  # a plain form: works without JavaScript
    assert "<script>" not in html and "style=" not in html


def test_it_redirects_anonymous_users_to_the_login_page(client: Client) -> None:
    response = client.get(reverse("core:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=/")


def test_it_logs_an_inspector_in_and_goes_home(client: Client, gulou_inspector: User) -> None:
    response = _login(client, "gulou_inspector")
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    home = client.get(reverse("core:home"))
    assert home.status_code == 200
    assert "鼓楼检查员" in home.content.decode()


def test_it_returns_to_the_page_the_user_asked_for(client: Client, gulou_inspector: User) -> None:
    response = _login(client, "gulou_inspector", next="/subjects/")
    assert response["Location"] == "/subjects/"


def test_it_ignores_an_offsite_next_url(client: Client, gulou_inspector: User) -> None:
    response = _login(client, "gulou_inspector", next="https://evil.example/")
    assert response["Location"] == reverse("core:home")


def test_it_shows_a_chinese_error_for_a_wrong_password(client: Client, gulou_inspector: User) -> None:
    response = _login(client, "gulou_inspector", password="wrong-password")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_locks_the_account_after_repeated_failures(client: Client, gulou_inspector: User, settings) -> None:  # type: ignore[no-untyped-def]
    for _ in range(settings.LOGIN_MAX_FAILURES):
        response = _login(client, "gulou_inspector", password="wrong-password")
    assert "锁定" in response.content.decode()
    response = _login(client, "gulou_inspector")
    assert "锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_requires_csrf_on_login(gulou_inspector: User) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(LOGIN, {"username": "gulou_inspector", "password": TEST_PASSWORD})
    assert response.status_code == 403


def test_it_sends_a_new_administrator_to_enrol_a_second_factor(client: Client, province_admin: User) -> None:
    response = _login(client, "province_admin")
    assert response["Location"] == reverse("core:otp_enrol")
    # Until the second factor is done, business pages send the user back to it.
    assert client.get(reverse("core:home"))["Location"] == reverse("core:otp_verify")
    page = client.get(reverse("core:otp_enrol"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "<?xml" not in html
    device = TOTPDevice.objects.get(user=province_admin, confirmed=False)
    assert page.context["secret"] in html
    response = client.post(reverse("core:otp_enrol"), {"code": _code(device)})
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("core:home")).status_code == 200


def test_it_rejects_a_wrong_enrolment_code(client: Client, province_admin: User) -> None:
    _login(client, "province_admin")
    client.get(reverse("core:otp_enrol"))
    response = client.post(reverse("core:otp_enrol"), {"code": "000000"})
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=province_admin, confirmed=True).exists()


def test_it_verifies_an_enrolled_administrator_with_a_totp_code(client: Client, audit_admin: User) -> None:
    device = TOTPDevice.objects.create(user=audit_admin, name="phone", confirmed=True)
    response = _login(client, "audit_admin")
    assert response["Location"] == reverse("core:otp_verify")
    assert client.get(reverse("core:otp_verify")).status_code == 200
    response = client.post(reverse("core:otp_verify"), {"code": _code(device)})
    assert response["Location"] == reverse("core:home")
    assert client.get(reverse("core:home")).status_code == 200


def test_it_rejects_a_wrong_totp_code(client: Client, audit_admin: User) -> None:
    TOTPDevice.objects.create(user=audit_admin, name="phone", confirmed=True)
    _login(client, "audit_admin")
    response = client.post(reverse("core:otp_verify"), {"code": "123456"})
    assert response.status_code == 200
    assert "验证码" in response.content.decode()
    assert client.get(reverse("core:home"))["Location"] == reverse("core:otp_verify")


def test_it_does_not_let_a_password_holder_enrol_another_device(client: Client, audit_admin: User) -> None:
    TOTPDevice.objects.create(user=audit_admin, name="phone", confirmed=True)
    _login(client, "audit_admin")
    response = client.get(reverse("core:otp_enrol"))
    assert response["Location"] == reverse("core:otp_verify")
    assert not TOTPDevice.objects.filter(user=audit_admin, confirmed=False).exists()


def test_it_forces_a_password_change_for_an_initial_password(client: Client, gulou_inspector: User) -> None:
    User.objects.filter(pk=gulou_inspector.pk).update(password_changed_at=None)
    response = _login(client, "gulou_inspector")
    assert response["Location"] == reverse("core:password_change")
    assert client.get(reverse("core:subject_list"))["Location"] == reverse("core:password_change")
    response = client.post(reverse("core:password_change"), {
        "old_password": TEST_PASSWORD, "new_password": "Gulou-2024-Xyz!", "confirm_password": "Gulou-2024-Xyz!",
    })
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    # Still signed in after the change, and the new password works.
    assert client.get(reverse("core:home")).status_code == 200
    gulou_inspector.refresh_from_db()
    assert gulou_inspector.check_password("Gulou-2024-Xyz!")
    assert gulou_inspector.password_changed_at is not None


def test_it_shows_password_validator_messages_in_chinese(client: Client, gulou_inspector: User) -> None:
    client.force_login(gulou_inspector)
    response = client.post(reverse("core:password_change"), {
        "old_password": TEST_PASSWORD, "new_password": "12345", "confirm_password": "12345",
    })
    assert response.status_code == 200
    html = response.content.decode()
    assert "密码长度太短" in html
    assert "全部为数字" in html or "全都是数字" in html or "数字" in html


def test_it_refuses_a_wrong_current_password(client: Client, gulou_inspector: User) -> None:
    client.force_login(gulou_inspector)
    response = client.post(reverse("core:password_change"), {
        "old_password": "nope", "new_password": "Gulou-2024-Xyz!", "confirm_password": "Gulou-2024-Xyz!",
    })
    assert "原密码不正确" in response.content.decode()


def test_it_refuses_mismatched_new_passwords(client: Client, gulou_inspector: User) -> None:
    client.force_login(gulou_inspector)
    response = client.post(reverse("core:password_change"), {
        "old_password": TEST_PASSWORD, "new_password": "Gulou-2024-Xyz!", "confirm_password": "Gulou-2024-Abc!",
    })
    assert "两次输入的新密码不一致" in response.content.decode()


def test_it_logs_out_only_by_post(client: Client, gulou_inspector: User) -> None:
    client.force_login(gulou_inspector)
    assert client.get(reverse("core:logout")).status_code == 405
    response = client.post(reverse("core:logout"))
    assert response["Location"] == LOGIN
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="logout").exists()


def test_it_switches_the_interface_to_english(client: Client, gulou_inspector: User) -> None:
    client.force_login(gulou_inspector)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get(reverse("core:home")).content.decode()
    assert "Jiangsu Internet + Supervision System" in html
    assert "Log out" in html
    assert 'lang="en"' in html
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    html = client.get(reverse("core:home")).content.decode()
    assert "退出" in html


def test_it_shows_the_dashboard_with_the_users_place_and_counts(client: Client, nanjing_officer: User) -> None:
    from jianguan.core.testing.personas import make_officer, make_org, make_subject

    make_subject("320106")
    make_subject("320115")
    make_subject("320500")
    make_officer(make_org("320106"))
    client.force_login(nanjing_officer)
    response = client.get(reverse("core:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "南京市" in html and "南京市市场监督管理局" in html
    assert "数据管理员" in html
    counts = {c["code"]: c["value"] for c in response.context["counts"]}
    assert counts["subjects"] == 2
    assert counts["officers"] == 1
    assert reverse("core:subject_list") in html


def test_it_lets_a_verified_administrator_in(client: Client, security_admin: User) -> None:
    login_verified(client, security_admin)
    assert client.get(reverse("core:home")).status_code == 200


def test_it_sends_an_expired_password_to_the_change_page(client: Client, gulou_inspector: User) -> None:
    User.objects.filter(pk=gulou_inspector.pk).update(password_changed_at=timezone.now() - timezone.timedelta(days=400))
    client.force_login(gulou_inspector)
    assert client.get(reverse("core:home"))["Location"] == reverse("core:password_change")


def test_it_renders_the_server_error_page_without_a_request_context(rf) -> None:  # type: ignore[no-untyped-def]
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "服务器错误" in response.content.decode()


def test_it_sends_the_content_security_policy_and_loads_only_local_scripts(client: Client) -> None:
    response = client.get(LOGIN)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    html = response.content.decode()
    assert '<script src="/static/vendor/htmx.min.js" defer></script>' in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html
