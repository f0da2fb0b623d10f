"""Base classes for every API viewset: scoped by action, token scopes enforced, writes through services.

How a request is decided (NetBox's ``BaseViewSet`` idea on top of our scope layer):

1. Anonymous → 401 (``auth.required``).
2. Token-authenticated and the token lacks the scope the action needs → 403 (``token.scope``).
3. Collection actions (list, create, custom ``detail=False`` actions) need the model permission → else 403.
4. Object actions go through :func:`jianguan.core.access.get_object_for`: not found / out of scope / not even
   viewable → 404; viewable but without the action → 403.
5. Lists come from ``Model.objects.visible_to(user, action)``.

The permission *action* of a DRF action is ``list``/``retrieve`` → ``view``, ``create`` → ``add``,
``update``/``partial_update`` → ``change``, ``destroy`` → ``delete``. Custom actions declare theirs::

    @action(detail=True, methods=["post"], permission_action="unmask", required_scope="export")

Serializers validate shape only; ``perform_service_create`` / ``perform_service_update`` call the service functions,
whose :class:`~jianguan.core.errors.DomainError` the exception handler turns into ``{code, message, fields}``.
"""

from __future__ import annotations

import contextvars
from dataclasses import replace
from typing import Any, ClassVar

from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.http import Http404
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from jianguan.core import audit
from jianguan.core.access import get_object_for
from jianguan.core.middleware import client_ip
from jianguan.core.models import ApiToken
from jianguan.core.scope import ScopedQuerySet, permission_name
from jianguan.core.services import TOKEN_ACTIONS

#: DRF action → permission action (``<app>.<action>_<model>``).
ACTION_PERMISSIONS: dict[str, str] = {
    "list": "view",
    "retrieve": "view",
    "metadata": "view",
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
}


class TokenScopeDenied(exceptions.PermissionDenied):
    """The bearer token is valid but was not issued for this kind of action."""

    error_code = "token.scope"
    default_detail = "令牌的权限范围不包含此操作。"
    default_code = "token_scope"


def required_token_scope(permission_action: str | None, declared: str | None) -> str | None:
    """The token scope an action needs: the declared one, else the permission action when it is a token scope.

    ``None`` means no token may call the action (fail closed for custom actions that forgot to declare one).
    """
    if declared:
        return declared
    if permission_action in TOKEN_ACTIONS:
        return permission_action
    return None


def check_token_scope(request: Request, needed: str | None) -> None:
    token = request.auth
    if not isinstance(token, ApiToken):
        return
    if needed is None or needed not in (token.scopes or []):
        raise TokenScopeDenied()


class ScopedActionPermission(permissions.BasePermission):
    """Authentication, token scope and (for collection actions) the model permission; objects are checked in
    ``get_object``."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if user is None or not user.is_authenticated or not user.is_active:
            return False  # DRF answers 401 because the request carries no credentials
        action = view.get_permission_action()
        if action is None:
            return True  # no handler for this method: the view answers 405
        check_token_scope(request, view.get_token_scope())
        if not getattr(view, "detail", False):
            perm = view.get_model_permission(action)
            if perm is not None and not user.has_perm(perm):
                raise exceptions.PermissionDenied()
        return True


class AuditedAPIMixin:
    """Binds the audit context to the DRF-authenticated caller.

    The request middleware runs before DRF authenticates a bearer token, so without this a token call would be
    recorded as ``anonymous``. The token prefix is added to the actor name so machine calls are traceable.
    """

    _audit_token: contextvars.Token[audit.AuditContext] | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        django_request = request._request
        ctx = audit.context_for_user(
            request.user, ip=client_ip(django_request), request_id=getattr(django_request, "request_id", "")
        )
        if isinstance(request.auth, ApiToken):
            ctx = replace(ctx, actor_name=f"{ctx.actor_name}[token:{request.auth.prefix}]"[:150])
        self._audit_token = audit._context.set(ctx)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        finally:
            if self._audit_token is not None:
                audit._context.reset(self._audit_token)
                self._audit_token = None


class ScopedViewSetMixin(AuditedAPIMixin):
    """Everything but the HTTP verbs: queryset from the scope layer, object access, service-backed writes.

    Subclasses set ``queryset`` (a ``ScopedQuerySet``, with the ``select_related``/``prefetch_related`` the list
    needs) and ``serializer_class``; optionally ``create_serializer_class`` / ``update_serializer_class`` for input
    shapes that differ from the representation.
    """

    permission_classes: ClassVar[list[type[permissions.BasePermission]]] = [ScopedActionPermission]
    #: Set on a custom action through ``@action(..., permission_action=...)``.
    permission_action: str | None = None
    #: The token scope a custom action needs, ``@action(..., required_scope=...)``; defaults to the permission action.
    required_scope: str | None = None
    #: False for reference tables without a region (roles, department kinds): only the model permission applies.
    scoped: ClassVar[bool] = True
    create_serializer_class: ClassVar[type[serializers.BaseSerializer] | None] = None
    update_serializer_class: ClassVar[type[serializers.BaseSerializer] | None] = None

    action: str | None
    request: Request
    kwargs: dict[str, Any]
    queryset: Any
    serializer_class: Any

    # --- permission model ----------------------------------------------------------------------------------------

    @property
    def model(self) -> type[models.Model]:
        return self.queryset.model  # type: ignore[no-any-return]

    def get_permission_action(self) -> str | None:
        if self.permission_action:
            return self.permission_action
        if self.action is None:
            return None
        try:
            return ACTION_PERMISSIONS[self.action]
        except KeyError:
            raise ImproperlyConfigured(
                f"{type(self).__name__}.{self.action} must declare permission_action in @action(...)"
            ) from None

    def get_token_scope(self) -> str | None:
        return required_token_scope(self.get_permission_action(), self.required_scope)

    def get_model_permission(self, action: str) -> str | None:
        """The Django permission for ``action`` on this viewset's model (``None``: any signed-in user)."""
        return permission_name(self.model, action)

    # --- reading -------------------------------------------------------------------------------------------------

    def get_queryset(self) -> Any:
        queryset = self.queryset.all()
        user = getattr(self.request, "user", None) if getattr(self, "request", None) is not None else None
        action = self.get_permission_action() or "view"
        if self.scoped:
            if not isinstance(queryset, ScopedQuerySet):
                raise ImproperlyConfigured(f"{type(self).__name__}: {self.model.__name__} has no scoped queryset")
            return queryset.visible_to(user, action)
        perm = self.get_model_permission(action)
        if user is None or not user.is_authenticated or (perm is not None and not user.has_perm(perm)):
            return queryset.none()
        return queryset

    def get_object(self) -> Any:
        lookup = self.kwargs[self.lookup_url_kwarg or self.lookup_field]  # type: ignore[attr-defined]
        action = self.get_permission_action() or "view"
        user = self.request.user
        if self.scoped:
            try:
                obj = get_object_for(user, self.model, lookup, action)
            except DjangoValidationError:  # e.g. a malformed UUID: as good as not found
                raise Http404 from None
        else:
            obj = self._get_unscoped_object(user, lookup, action)
        self.check_object_permissions(self.request, obj)  # type: ignore[attr-defined]
        return obj

    def _get_unscoped_object(self, user: Any, lookup: Any, action: str) -> Any:
        """``get_object_for`` semantics for tables without a data scope."""
        try:
            obj = self.queryset.all().get(pk=lookup)
        except (self.model.DoesNotExist, ValueError, TypeError, DjangoValidationError):  # type: ignore[attr-defined]
            raise Http404 from None
        view_perm = self.get_model_permission("view")
        if view_perm is not None and not user.has_perm(view_perm):
            raise Http404
        perm = self.get_model_permission(action)
        if action != "view" and perm is not None and not user.has_perm(perm):
            raise exceptions.PermissionDenied()
        return obj

    def get_serializer_class(self) -> Any:
        if self.action == "create" and self.create_serializer_class is not None:
            return self.create_serializer_class
        if self.action in ("update", "partial_update") and self.update_serializer_class is not None:
            return self.update_serializer_class
        return self.serializer_class

    def represent(self, obj: Any) -> Any:
        """The representation of ``obj`` returned after a write (always the read serializer)."""
        return self.serializer_class(obj, context=self.get_serializer_context()).data  # type: ignore[attr-defined]


class ServiceWriteMixin:
    """create / update / partial_update: validate the shape, then call the service; answer with the read shape."""

    get_serializer: Any
    get_object: Any
    represent: Any

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)  # type: ignore[attr-defined]
        serializer.is_valid(raise_exception=True)
        obj = self.perform_service_create(dict(serializer.validated_data))
        return Response(self.represent(obj), status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)  # type: ignore[attr-defined]
        serializer.is_valid(raise_exception=True)
        obj = self.perform_service_update(instance, dict(serializer.validated_data))
        return Response(self.represent(obj))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    def perform_service_create(self, data: dict[str, Any]) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must call its create service")

    def perform_service_update(self, instance: Any, data: dict[str, Any]) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must call its update service")


class ScopedReadOnlyViewSet(
    ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):  # type: ignore[type-arg]
    """list + retrieve; every other method answers 405."""


class ScopedCreateReadUpdateViewSet(
    ServiceWriteMixin, ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):  # type: ignore[type-arg]
    """list, retrieve, create, update, partial update (master data is never deleted through the API)."""


class ScopedModelViewSet(ScopedCreateReadUpdateViewSet):
    """Full CRUD; ``perform_service_destroy`` calls the delete service."""

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        self.perform_service_destroy(instance)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def perform_service_destroy(self, instance: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must call its delete service")


# --- OpenAPI: the two authentication schemes ------------------------------------------------------------------------


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "jianguan.core.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        definition = build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Bearer")  # noqa: S106 - header keyword
        definition["description"] = "Bearer jg_<prefix>_<secret>; scopes: view, add, change, delete, export"
        return definition  # type: ignore[no-any-return]


class JianguanSessionScheme(OpenApiAuthenticationExtension):
    target_class = "jianguan.core.api.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        from django.conf import settings

        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
