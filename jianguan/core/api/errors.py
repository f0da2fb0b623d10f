"""One JSON error shape for the whole API: ``{"code", "message", "fields"}``; messages in Chinese by default."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from jianguan.core.errors import DomainError

_CODES = {
    exceptions.NotAuthenticated: ("auth.required", "需要登录或提供令牌。"),
    exceptions.AuthenticationFailed: ("auth.failed", "认证失败。"),
    exceptions.PermissionDenied: ("permission.denied", "您没有执行此操作的权限。"),
    exceptions.NotFound: ("not_found", "未找到。"),
    exceptions.MethodNotAllowed: ("method_not_allowed", "不支持该请求方法。"),
    exceptions.Throttled: ("throttled", "请求过于频繁，请稍后再试。"),
    exceptions.ParseError: ("parse_error", "请求内容无法解析。"),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "不支持的内容类型。"),
}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            fields.update(_flatten(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            fields[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                fields.update(_flatten(item, f"{prefix}[{index}]"))
    else:
        fields[prefix or "non_field_errors"] = [str(detail)]
    return fields


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status_code)
    if isinstance(exc, IntegrityError):
        # Safety net: a unique constraint the service did not check first, or a concurrent write that won the race.
        # The service's transaction has rolled back; constraint names and values are not echoed.
        return Response(
            {"code": "conflict.integrity", "message": "数据冲突：该记录已存在或已被他人修改。", "fields": {}},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = "；".join(f"{k}: {m}" if k != "non_field_errors" else m for k, ms in fields.items() for m in ms)
        response.data = {"code": "validation", "message": message or "输入有误。", "fields": fields}
        return response
    code, message = next(((c, m) for cls, (c, m) in _CODES.items() if isinstance(exc, cls)), ("error", "请求失败。"))
    # An exception class may carry a more precise stable code (e.g. ``token.scope`` for a token lacking a scope).
    code = getattr(exc, "error_code", None) or code
    detail = getattr(exc, "detail", None)
    if isinstance(detail, str) and detail and not detail.isascii():
        message = detail
    response.data = {"code": code, "message": message, "fields": {}}
    if response.status_code == status.HTTP_401_UNAUTHORIZED and "WWW-Authenticate" not in response:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
