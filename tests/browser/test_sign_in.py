"""Signing in through the real pages: the administrator's TOTP enrolment and verification, the lockout after
repeated wrong passwords, and the forced change of an initial password."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from jianguan.core.models import User
from jianguan.core.testing.personas import TEST_PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def totp_code(secret_base32: str, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app would show for this secret (30-second steps, 6 digits)."""
    key = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    return f"{TOTP(key, step=30, t0=0, digits=6, drift=steps_ahead).token():06d}"


def test_it_enrols_an_administrator_in_totp_then_asks_for_the_code(page: Any, sign_in: Any, live_server: Any) -> None:
    admin = make_user("province_sysadmin", "320000", roles=["system_admin"], full_name="省系统管理员")

    # First sign-in: the password alone leads to enrolment, not to the dashboard.
    sign_in("province_sysadmin", TEST_PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/accounts/otp/enrol/")
    expect(page.get_by_role("heading", name="设置双因素登录")).to_be_visible()
    expect(page.locator(".qr svg")).to_be_visible()
    secret = page.locator("code.secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret

    page.get_by_label("验证码").fill(totp_code(secret))
    with page.expect_navigation():
        page.get_by_role("button", name="确认", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator(".messages")).to_contain_text("身份验证器已设置完成。")
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_role("heading", name="系统管理")).to_be_visible()
    for label in ("部门管理", "用户账号", "角色与权限"):
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    expect(nav).not_to_contain_text("审计日志")  # the audit log belongs to the audit administrator
    assert TOTPDevice.objects.filter(user=admin, confirmed=True).count() == 1

    # Second sign-in: the confirmed device is asked for; the dashboard only after the code.
    with page.expect_navigation():
        page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    sign_in("province_sysadmin", TEST_PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/accounts/otp/")
    expect(page.get_by_role("heading", name="双因素认证")).to_be_visible()
    expect(page.locator("code.secret")).to_have_count(0)  # the secret is never shown again
    # The code of the enrolment step has been used up (replay protection); the next step's code is within tolerance.
    page.get_by_label("验证码").fill(totp_code(secret, steps_ahead=1))
    with page.expect_navigation():
        page.get_by_role("button", name="验证", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("navigation", name="主导航").get_by_role("link", name="用户账号")).to_be_visible()


def test_it_locks_the_account_after_five_wrong_passwords(
    page: Any, sign_in: Any, live_server: Any, settings: Any
) -> None:
    settings.LOGIN_MAX_FAILURES = 5  # the default, pinned against an environment override
    user = make_user("gulou_locked", "320106", roles=["inspector"])
    errors = page.locator(".errorlist.nonfield")

    # An unknown name and a wrong password get the same answer (no account enumeration); it warns of the lock.
    sign_in("nobody_here", "Wrong-Passw0rd")
    expect(errors).to_contain_text("用户名或密码错误")
    expect(errors).to_contain_text("锁定")
    generic = errors.inner_text()
    for _attempt in range(4):
        sign_in("gulou_locked", "Wrong-Passw0rd")
        expect(errors).to_have_text(generic)
    user.refresh_from_db()
    assert user.locked_until is None, "locked before the fifth wrong password"
    sign_in("gulou_locked", "Wrong-Passw0rd")
    expect(errors).to_have_text(generic)
    user.refresh_from_db()
    assert user.locked_until is not None, "five wrong passwords did not lock the account"

    # The right password no longer opens the account, and the page still says nothing more specific.
    sign_in("gulou_locked", TEST_PASSWORD)
    expect(errors).to_have_text(generic)
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))


def test_it_forces_a_new_password_on_first_sign_in(page: Any, sign_in: Any, live_server: Any) -> None:
    user = make_user("gulou_newcomer", "320106", roles=["inspector"], full_name="鼓楼新人")
    User.objects.filter(pk=user.pk).update(password_changed_at=None)

    sign_in("gulou_newcomer", TEST_PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/accounts/password/")
    expect(page.locator(".card")).to_contain_text("您正在使用初始密码或重置后的密码登录，请设置自己的新密码后继续。")
    # Nothing else opens until the password is changed.
    page.goto("/subjects/")
    expect(page).to_have_url(f"{live_server.url}/accounts/password/")

    def change(new: str) -> None:
        page.get_by_label("原密码").fill(TEST_PASSWORD)
        page.get_by_label("新密码", exact=True).fill(new)
        page.get_by_label("确认新密码").fill(new)
        with page.expect_navigation():
            page.get_by_role("button", name="修改密码").click()

    change("abc12345")
    expect(page).to_have_url(f"{live_server.url}/accounts/password/")
    messages = page.locator(".form-row.has-error .errorlist")
    expect(messages).to_contain_text("密码长度太短。密码必须包含至少 10 个字符。")
    expect(messages).to_contain_text("密码必须至少包含小写字母、大写字母、数字和符号中的三种。")
    english = re.findall(r"[A-Za-z]{3,}", messages.inner_text())
    assert not english, f"validator messages not translated: {messages.inner_text()!r}"

    change("Gulou#Secure2026")
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator(".messages")).to_contain_text("密码已修改。")
    expect(page.locator(".welcome")).to_contain_text("您好，鼓楼新人")
    user.refresh_from_db()
    assert user.password_changed_at is not None
    assert user.check_password("Gulou#Secure2026")
