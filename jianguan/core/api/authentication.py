"""API authentication: scoped bearer tokens for machine clients, and the browser session for the UI."""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions

from jianguan.core.passwords import password_expired
from jianguan.core.services import authenticate_token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer jg_<prefix>_<secret>`` (or ``Token …``)."""

    keywords = ("bearer", "token")

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="ignore").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("令牌格式错误。")
        token = authenticate_token(header[1].decode(errors="ignore"))
        if token is None:
            raise exceptions.AuthenticationFailed("令牌无效、已过期或已被吊销。")
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """Browser session, with the same second-factor rule as the pages."""

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        from jianguan.core.middleware import mfa_required

        user = result[0]
        django_request = request._request
        if mfa_required(user) and not getattr(django_request.user, "is_verified", lambda: False)():
            raise exceptions.PermissionDenied("需要完成双因素认证。")
        if password_expired(user):
            raise exceptions.PermissionDenied("密码已过期或为初始密码，请先在页面上修改密码。")
        return result
