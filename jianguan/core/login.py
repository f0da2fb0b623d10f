"""Login flow services: password step with lockout, TOTP second factor (enrolment and verification)."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth import authenticate, login, user_logged_in
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from jianguan.core import audit, services
from jianguan.core.middleware import client_ip, mfa_required
from jianguan.core.models import User
from jianguan.core.passwords import password_expired

GENERIC_FAILURE = "用户名或密码错误；连续失败多次后账号将被临时锁定，请稍后再试或联系管理员。"


@dataclass(frozen=True)
class LoginOutcome:
    ok: bool
    next_step: str = ""  # "", "otp_verify", "otp_enrol", "password_change"
    error: str = ""


def attempt_login(request: HttpRequest, username: str, password: str) -> LoginOutcome:
    """Check the password, honouring lockout; on success log the user in and say which step comes next."""
    ip_key = f"login-failures:{client_ip(request)}"
    if cache.get(ip_key, 0) >= settings.LOGIN_MAX_FAILURES_PER_IP:
        user_login_failed.send(sender=__name__, credentials={"username": username}, request=request,
                               reason="ip_throttled")
        return LoginOutcome(False, error=GENERIC_FAILURE)
    user = User.objects.filter(username=username).first()
    if user is not None and services.is_locked(user):
        user_login_failed.send(sender=__name__, credentials={"username": username}, request=request, reason="locked")
        return LoginOutcome(False, error=GENERIC_FAILURE)
    authenticated = authenticate(request, username=username, password=password)
    if authenticated is None:
        # Django has already sent user_login_failed (audited); count the failure against the account and the address.
        try:
            cache.incr(ip_key)
        except ValueError:
            cache.set(ip_key, 1, timeout=15 * 60)
        if user is not None:
            services.register_login_failure(user)
        # One message whether the name exists, the password is wrong or the account is locked (no enumeration).
        return LoginOutcome(False, error=GENERIC_FAILURE)
    services.register_login_success(authenticated)
    login(request, authenticated)
    return LoginOutcome(True, next_step=next_step(authenticated, request))


def next_step(user: Any, request: HttpRequest) -> str:
    if mfa_required(user) and not getattr(request.user, "is_verified", lambda: False)():
        return "otp_verify" if has_confirmed_device(user) else "otp_enrol"
    if password_expired(user):
        return "password_change"
    return ""


def has_confirmed_device(user: Any) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def verify_otp(request: HttpRequest, token: str) -> bool:
    """Check a TOTP code against the user's confirmed devices; on success mark the session verified."""
    user: Any = request.user
    device = match_token(user, token.strip())
    if device is None:
        audit.append("login_failed", target=user, success=False, details={"reason": "otp_invalid"})
        return False
    otp_login(request, device)
    audit.record_event("core.user.otp_verified", target=user)
    return True


def pending_device(user: Any) -> TOTPDevice:
    """The unconfirmed TOTP device being enrolled (created on first call)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def enrolment_qr_svg(device: TOTPDevice) -> str:
    """An inline SVG QR code of the device's otpauth:// URL (rendered locally, no external service)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode("utf-8")


def device_secret_base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


@transaction.atomic
def confirm_enrolment(request: HttpRequest, token: str) -> bool:
    """Confirm the pending device with a first code; the session then counts as verified."""
    user: Any = request.user
    device = pending_device(user)
    if not device.verify_token(token.strip()):
        return False
    device.confirmed = True
    device.save()
    TOTPDevice.objects.filter(user=user, confirmed=False).exclude(pk=device.pk).delete()
    otp_login(request, device)
    audit.record_event("core.user.otp_enrolled", target=user)
    return True


__all__ = [
    "LoginOutcome",
    "attempt_login",
    "confirm_enrolment",
    "device_secret_base32",
    "enrolment_qr_svg",
    "has_confirmed_device",
    "next_step",
    "pending_device",
    "user_logged_in",
    "verify_otp",
]
