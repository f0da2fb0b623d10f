"""Request plumbing: request ids and the audit context, and the session security policy (second factor,
password age)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from csp.constants import HEADER as CSP_HEADER
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.urls import reverse
from django.utils.module_loading import import_string

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


#: The browser-session layer, in order: cookie session, CSRF check, session user, second factor, the policy above
#: (which also binds the audit context to the session user), flash messages.
BROWSER_SESSION_MIDDLEWARE = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "jianguan.core.middleware.SecurityPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
)


#: The schemes of ``core.api.authentication.ApiTokenAuthentication`` (``Bearer``, ``Token``), with their space.
_TOKEN_SCHEMES = ("bearer ", "token ")


def is_token_api_call(request: HttpRequest) -> bool:
    """A REST API call that authenticates with a token (other systems, the 12345 platform)."""
    if not request.path_info.startswith("/api/"):
        return False
    header = str(request.META.get("HTTP_AUTHORIZATION", ""))
    return header[:7].lower().startswith(_TOKEN_SCHEMES)


def _first_answer(hooks: list[Callable[..., Any]], *args: Any) -> Any:
    """The first response a middleware hook gives (Django stops at it), or None."""
    for hook in hooks:
        response = hook(*args)
        if response is not None:
            return response
    return None


class BrowserSessionMiddleware:
    """The browser-session layer (:data:`BROWSER_SESSION_MIDDLEWARE`) as one middleware, passed over by REST calls
    that carry a bearer token.

    Such a call is authenticated by its token inside the API view (``ApiTokenAuthentication``, which also sets the
    request's user and, through ``AuditedAPIMixin``, the audit context) and never by a cookie, so the cookie session,
    the CSRF check that protects cookie sessions, the session user, the second factor of a browser login and flash
    messages do nothing for it — yet they cost about a quarter of a millisecond per call on the intake path. A token
    that fails is answered 401 by the view; a call with a bearer header is never authenticated by its cookies, so
    skipping the CSRF check opens nothing. Every other request goes through the whole layer, in the same order as
    when the middlewares were listed one by one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        chain: Callable[[HttpRequest], HttpResponse] = get_response
        layer: list[Any] = []
        for path in reversed(BROWSER_SESSION_MIDDLEWARE):
            chain = import_string(path)(chain)
            layer.insert(0, chain)
        self.browser = chain
        # Django calls the view, exception and template-response hooks of the middlewares it lists itself, not of
        # ours: they are called here, in the order Django would (the CSRF check is a view hook).
        self._view_hooks = [m.process_view for m in layer if hasattr(m, "process_view")]
        self._exception_hooks = [m.process_exception for m in reversed(layer) if hasattr(m, "process_exception")]
        self._template_hooks = [m.process_template_response for m in reversed(layer)
                                if hasattr(m, "process_template_response")]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_token_api_call(request):
            return self.browser(request)
        # Until the view has authenticated the token (``AuditedAPIMixin`` binds the caller then), anything audited
        # is the anonymous caller at this address, as the session policy would have bound it — never "system".
        ctx = audit.context_for_user(None, ip=client_ip(request), request_id=request.request_id)  # type: ignore[attr-defined]
        token = audit._context.set(ctx)
        try:
            return self.get_response(request)
        finally:
            audit._context.reset(token)

    def process_view(self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        return None if is_token_api_call(request) else _first_answer(self._view_hooks, request, view, args, kwargs)

    def process_exception(self, request: HttpRequest, exception: Exception) -> Any:
        return None if is_token_api_call(request) else _first_answer(self._exception_hooks, request, exception)

    def process_template_response(self, request: HttpRequest, response: Any) -> Any:
        if is_token_api_call(request):
            return response
        for hook in self._template_hooks:
            response = hook(request, response)
        return response


class CSPMiddleware(DjangoCSPMiddleware):
    """django-csp's policy for pages; for bearer-token REST calls the fixed policy that suits an API answer (the
    OWASP REST recommendation: nothing may load and nothing may frame it), instead of the pages' policy, which
    django-csp builds anew for every response (about 35 µs of a 3 ms intake request)."""

    API_POLICY = "default-src 'none'; frame-ancestors 'none'"

    def process_request(self, request: HttpRequest) -> None:
        if not is_token_api_call(request):
            super().process_request(request)

    def process_response(self, request: HttpRequest, response: Any) -> Any:
        if is_token_api_call(request):
            if CSP_HEADER not in response:
                response[CSP_HEADER] = self.API_POLICY
            return response
        return super().process_response(request, response)
