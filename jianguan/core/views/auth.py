"""Sign-in at /accounts/: password, then (for administrators) the TOTP second factor, then a forced password change
when one is due. The steps are decided by ``jianguan.core.login``; these views only show forms and redirect."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from jianguan.core import login as login_flow
from jianguan.core import services
from jianguan.core.errors import DomainError
from jianguan.core.forms import LoginForm, OtpForm, PasswordChangeForm
from jianguan.core.middleware import mfa_required
from jianguan.core.views.base import apply_domain_error, login_required

NEXT_SESSION_KEY = "jianguan_next"
_STEP_URLS = {
    "otp_verify": "core:otp_verify",
    "otp_enrol": "core:otp_enrol",
    "password_change": "core:password_change",
}


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return ""


def _continue(request: HttpRequest) -> HttpResponse:
    """Go to the next pending step, or to where the user was heading, or home."""
    step = login_flow.next_step(request.user, request)
    if step:
        return redirect(_STEP_URLS[step])
    target = _safe_next(request, request.session.pop(NEXT_SESSION_KEY, ""))
    return HttpResponseRedirect(target or reverse("core:home"))


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "GET" and request.user.is_authenticated:
        return _continue(request)
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = login_flow.attempt_login(request, form.cleaned_data["username"], form.cleaned_data["password"])
        if outcome.ok:
            if next_url:
                request.session[NEXT_SESSION_KEY] = next_url
            return _continue(request)
        form.add_error(None, outcome.error)
    return render(request, "core/login.html", {"form": form, "next": next_url})


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not mfa_required(user) or user.is_verified():  # type: ignore[union-attr]
        return _continue(request)
    if not login_flow.has_confirmed_device(user):
        return redirect("core:otp_enrol")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if login_flow.verify_otp(request, form.cleaned_data["code"]):
            return _continue(request)
        form.add_error("code", _("The code is wrong or has expired. Check the time on your phone and try again."))
    return render(request, "core/otp_verify.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def otp_enrol(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not mfa_required(user) or user.is_verified():  # type: ignore[union-attr]
        return _continue(request)
    if login_flow.has_confirmed_device(user):
        # A second device may only be added by an administrator, never by someone who knows just the password.
        return redirect("core:otp_verify")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if login_flow.confirm_enrolment(request, form.cleaned_data["code"]):
            messages.success(request, _("Your authenticator app is set up."))
            return _continue(request)
        form.add_error("code", _("The code is wrong or has expired. Check the time on your phone and try again."))
    device = login_flow.pending_device(user)
    svg = login_flow.enrolment_qr_svg(device)
    if svg.startswith("<?xml"):
        svg = svg.split("?>", 1)[1]
    context = {
        "form": form,
        # SVG markup produced by our own code from the device's otpauth:// URL, not user input.
        "qr_svg": mark_safe(svg),  # noqa: S308
        "secret": login_flow.device_secret_base32(device),
    }
    response = render(request, "core/otp_enrol.html", context)
    response["Cache-Control"] = "no-store, private"
    return response


@sensitive_post_parameters("old_password", "new_password", "confirm_password")
@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    user = request.user
    if mfa_required(user) and not user.is_verified():  # type: ignore[union-attr]
        return redirect("core:otp_verify")
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_own_password(user, old_password=form.cleaned_data["old_password"],  # type: ignore[arg-type]
                                         new_password=form.cleaned_data["new_password"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            update_session_auth_hash(request, user)  # type: ignore[arg-type]
            messages.success(request, _("Your password has been changed."))
            return _continue(request)
    return render(request, "core/password_change.html",
                  {"form": form, "password_max_age": settings.PASSWORD_MAX_AGE_DAYS})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    return redirect("core:login")
