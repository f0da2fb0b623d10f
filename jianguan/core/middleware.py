"""Request plumbing: request ids and the audit context, and the session security policy (second factor,
password age)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.urls import reverse

from jianguan.core import audit
from jianguan.core.passwords import password_expired


class RequestIdMiddleware:
    """Tags each request with an id (echoed in ``X-Request-ID``) and opens the audit context for it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = uuid.uuid4().hex  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response


def client_ip(request: Any) -> str:
    """The client's address: the socket peer, or behind ``TRUSTED_PROXY_HOPS`` proxies the entry they appended."""
    if request is None:
        return ""
    hops = settings.TRUSTED_PROXY_HOPS
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        parts = [p.strip() for p in forwarded.split(",") if p.strip()]
        if len(parts) >= hops:
            return str(parts[-hops])[:45]
    return str(request.META.get("REMOTE_ADDR", ""))[:45]


# Paths a signed-in user may reach before finishing the second factor or a forced password change.
_EXEMPT_PREFIXES = ("/static/", "/accounts/", "/i18n/", "/api/", "/open311/", "/portal/", "/catalog/public/")


class SecurityPolicyMiddleware:
    """After authentication: bind the audit context to the user; enforce second factor and password age."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        redirect = self._policy_redirect(request, user)
        if redirect is not None:
            return redirect
        ctx = audit.context_for_user(user, ip=client_ip(request), request_id=request.request_id)  # type: ignore[attr-defined]
        token = audit._context.set(ctx)
        try:
            response = self.get_response(request)
        finally:
            audit._context.reset(token)
        if user.is_authenticated and "Cache-Control" not in response:
            response["Cache-Control"] = "no-store, private"  # signed-in pages hold scoped data: never cache them
        return response

    def _policy_redirect(self, request: HttpRequest, user: Any) -> HttpResponse | None:
        if not user.is_authenticated or request.path.startswith(_EXEMPT_PREFIXES):
            return None
        if mfa_required(user) and not user.is_verified():
            return HttpResponseRedirect(reverse("core:otp_verify"))
        if password_expired(user):
            return HttpResponseRedirect(reverse("core:password_change"))
        return None


def mfa_required(user: Any) -> bool:
    """Administrators and auditors must log in with a second factor (等保 grade 3)."""
    roles = getattr(user, "_mfa_roles_cache", None)
    if roles is None:
        roles = list(user.roles.values_list("code", "mfa_required"))
        user._mfa_roles_cache = roles
    return any(flag or code in settings.MFA_REQUIRED_ROLES for code, flag in roles)


class LocaleMiddleware(DjangoLocaleMiddleware):
    """Simplified Chinese first: pages ignore the browser's Accept-Language and follow only the user's explicit
    choice (the language cookie); the API still honours Accept-Language for its error messages."""

    def process_request(self, request: HttpRequest) -> None:
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        super().process_request(request)
