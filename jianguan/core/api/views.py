"""Kernel API viewsets: thin classes over :mod:`jianguan.core.api.base`; every write calls a service."""

from __future__ import annotations

from typing import Any

import django_filters
from csp.constants import SELF as CSP_SELF
from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.templatetags.static import static
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import permissions
from rest_framework.decorators import action
from rest_framework.renderers import StaticHTMLRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jianguan.core import jobs, services
from jianguan.core.api import serializers as s
from jianguan.core.api.base import (
    AuditedAPIMixin,
    ScopedCreateReadUpdateViewSet,
    ScopedReadOnlyViewSet,
)
from jianguan.core.choices import RegionLevel
from jianguan.core.filtersets import (
    AuditEntryFilterSet,
    EnforcementOfficerFilterSet,
    JobFilterSet,
    OrganizationFilterSet,
    SubjectFilterSet,
    UserFilterSet,
)
from jianguan.core.models import (
    ApiToken,
    AuditEntry,
    DepartmentKind,
    EnforcementOfficer,
    Job,
    Organization,
    Region,
    Role,
    Subject,
    User,
)

UUID_PATTERN = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


# --- Me --------------------------------------------------------------------------------------------------------------


class MeView(AuditedAPIMixin, APIView):
    """Who am I: the caller's account, roles, data scope, permissions and (for token calls) the token's scopes.

    Any valid token may call it, whatever its scopes: it only describes the caller.
    """

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=s.MeSerializer, operation_id="me_retrieve", tags=["me"])
    def get(self, request: Request) -> Response:
        user = request.user
        token = request.auth if isinstance(request.auth, ApiToken) else None
        region = user.region
        department = user.organization
        data = {
            "id": user.pk,
            "username": user.username,
            "full_name": user.full_name,
            "roles": list(user.roles.all()),
            "region": region,
            "department": department,
            "permissions": sorted(user.get_all_permissions()),
            "token": {
                "authenticated": token is not None,
                "prefix": token.prefix if token else None,
                "scopes": list(token.scopes) if token else None,
                "expires_at": token.expires_at if token else None,
            },
        }
        return Response(s.MeSerializer(data).data)


# --- Reference tables ------------------------------------------------------------------------------------------------


class RegionFilterSet(django_filters.FilterSet):
    parent = django_filters.CharFilter(field_name="parent_id", label="上级地区代码")
    level = django_filters.ChoiceFilter(choices=RegionLevel.choices, label="层级")

    class Meta:
        model = Region
        fields = ["parent", "level"]


class RegionViewSet(ScopedReadOnlyViewSet):
    """行政区划 inside the caller's region subtree."""

    queryset = Region.objects.all()
    serializer_class = s.RegionSerializer
    filterset_class = RegionFilterSet
    lookup_value_regex = r"\d{6}"


class DepartmentKindViewSet(ScopedReadOnlyViewSet):
    """部门类别: reference data open to every signed-in account."""

    queryset = DepartmentKind.objects.all()
    serializer_class = s.DepartmentKindSerializer
    scoped = False
    lookup_value_regex = r"\d{3}"

    def get_model_permission(self, action: str) -> str | None:
        return None


# --- Organisations, users, roles -------------------------------------------------------------------------------------


@extend_schema_view(
    update=extend_schema(responses=s.OrganizationSerializer),
    partial_update=extend_schema(responses=s.OrganizationSerializer),
)
class OrganizationViewSet(ScopedCreateReadUpdateViewSet):
    """部门: create at a region and kind; rename, set USCC, (de)activate. Never deleted."""

    queryset = Organization.objects.select_related("region", "kind")
    serializer_class = s.OrganizationSerializer
    update_serializer_class = s.OrganizationUpdateSerializer
    filterset_class = OrganizationFilterSet

    def perform_service_create(self, data: dict[str, Any]) -> Organization:
        return services.create_organization(
            actor=self.request.user,
            region=data["region"],
            kind=data["kind"],
            name=data.get("name", ""),
            uscc=data.get("uscc"),
        )

    def perform_service_update(self, instance: Organization, data: dict[str, Any]) -> Organization:
        return services.update_organization(
            instance,
            actor=self.request.user,
            name=data.get("name", instance.name),
            uscc=data.get("uscc", instance.uscc),
            active=data.get("active", instance.active),
        )


@extend_schema_view(create=extend_schema(request=s.UserCreateSerializer, responses={201: s.UserCreatedSerializer}))
class UserViewSet(ScopedCreateReadUpdateViewSet):
    """用户: accounts inside the caller's scope. Create answers the initial password once."""

    queryset = User.objects.select_related("organization").prefetch_related("roles").order_by("id")
    serializer_class = s.UserSerializer
    create_serializer_class = s.UserCreateSerializer
    filterset_class = UserFilterSet

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.UserCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        user, initial = services.create_user(actor=request.user, **serializer.validated_data)
        user.initial_password = initial  # type: ignore[attr-defined]
        return Response(s.UserCreatedSerializer(user, context=self.get_serializer_context()).data, status=201)

    def perform_service_update(self, instance: User, data: dict[str, Any]) -> User:
        return services.update_user(
            instance,
            actor=self.request.user,
            full_name=data.get("full_name", instance.full_name),
            organization=data.get("organization", instance.organization),
            roles=data.get("roles", list(instance.roles.all())),
            phone=data.get("phone"),
            is_active=data.get("is_active", instance.is_active),
        )

    @extend_schema(request=None, responses=s.PasswordResetSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path="reset-password",
        permission_action="reset_password",
        required_scope="change",
    )
    def reset_password(self, request: Request, pk: str | None = None) -> Response:
        """Set a one-time password and unlock the account; the password is shown once."""
        user = self.get_object()
        temporary = services.reset_password(user, actor=request.user)
        return Response(s.PasswordResetSerializer({"temporary_password": temporary}).data)


class RoleViewSet(ScopedReadOnlyViewSet):
    """角色: permission bundles. Security administrators change permissions and the all-departments flag (PATCH)."""

    queryset = Role.objects.prefetch_related("permissions__content_type")
    serializer_class = s.RoleSerializer
    scoped = False

    @extend_schema(request=s.RoleSerializer, responses=s.RoleSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        role = self.get_object()
        serializer = self.get_serializer(role, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        role = services.update_role(
            role,
            actor=request.user,
            permissions=data.get("permissions", list(role.permissions.all())),
            all_departments=data.get("all_departments", role.all_departments),
        )
        return Response(self.represent(role))


# --- Master records ------------------------------------------------------------------------------------------------


class SubjectViewSet(ScopedCreateReadUpdateViewSet):
    """监管对象: the shared golden record, visible in the caller's region subtree. Never deleted."""

    queryset = Subject.objects.select_related("region")
    serializer_class = s.SubjectSerializer
    filterset_class = SubjectFilterSet

    def perform_service_create(self, data: dict[str, Any]) -> Subject:
        return services.create_subject(actor=self.request.user, **data)

    def perform_service_update(self, instance: Subject, data: dict[str, Any]) -> Subject:
        return services.update_subject(instance, actor=self.request.user, **data)


class EnforcementOfficerViewSet(ScopedCreateReadUpdateViewSet):
    """执法人员: ID number and phone are masked everywhere; ``unmask`` reveals them with a reason (audited)."""

    queryset = EnforcementOfficer.objects.select_related("organization")
    serializer_class = s.EnforcementOfficerSerializer
    filterset_class = EnforcementOfficerFilterSet

    def perform_service_create(self, data: dict[str, Any]) -> EnforcementOfficer:
        return services.create_officer(actor=self.request.user, **data)

    def perform_service_update(self, instance: EnforcementOfficer, data: dict[str, Any]) -> EnforcementOfficer:
        return services.update_officer(instance, actor=self.request.user, **data)

    # Plaintext personal data leaving the platform is a disclosure, so a token needs the ``export`` scope.
    @extend_schema(request=s.UnmaskRequestSerializer, responses=s.UnmaskedOfficerSerializer)
    @action(detail=True, methods=["post"], permission_action="unmask", required_scope="export")
    def unmask(self, request: Request, pk: str | None = None) -> Response:
        """Reveal the ID number and phone in clear; needs the unmask permission and a reason, recorded as a read."""
        officer = self.get_object()
        serializer = s.UnmaskRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plain = services.unmask_officer(officer, actor=request.user, reason=serializer.validated_data["reason"])
        return Response(s.UnmaskedOfficerSerializer(plain).data)


# --- Jobs and audit ------------------------------------------------------------------------------------------------


@extend_schema_view(create=extend_schema(request=s.JobCreateSerializer, responses={201: s.JobSerializer}))
class JobViewSet(ScopedReadOnlyViewSet):
    """后台任务: list and follow jobs in scope; start one of the registered kinds."""

    queryset = Job.objects.select_related("created_by")
    serializer_class = s.JobSerializer
    filterset_class = JobFilterSet
    lookup_value_regex = UUID_PATTERN

    def get_serializer_class(self) -> Any:
        if self.action == "create":
            return s.JobCreateSerializer
        return super().get_serializer_class()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.JobCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = jobs.start_job(
            serializer.validated_data["kind"], actor=request.user, params=serializer.validated_data["params"]
        )
        return Response(self.represent(job), status=201)

    @extend_schema(responses=s.JobKindSerializer(many=True), filters=False)
    @action(detail=False, methods=["get"], permission_action="view", pagination_class=None, filterset_class=None)
    def kinds(self, request: Request) -> Response:
        """The job kinds that can be started."""
        data = [{"kind": kind, "label": str(label)} for kind, label in sorted(jobs.job_kinds().items())]
        return Response(s.JobKindSerializer(data, many=True).data)


class AuditEntryViewSet(ScopedReadOnlyViewSet):
    """审计日志: read-only; there are no write methods at all."""

    queryset = AuditEntry.objects.all()
    serializer_class = s.AuditEntrySerializer
    filterset_class = AuditEntryFilterSet


# --- API documentation pages (vendored assets from drf-spectacular-sidecar; no CDN) --------------------------------

# Swagger UI and Redoc set element styles from script (Redoc also runs its search in a blob: worker); the relaxation
# applies to these two documentation pages only.
_DOCS_CSP = {"style-src": [CSP_SELF, UNSAFE_INLINE], "worker-src": [CSP_SELF, "blob:"]}


@method_decorator(csp_update(_DOCS_CSP), name="dispatch")
class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI; the init script is a separate request, so no inline script is needed."""

    url_name = "api:schema"


@method_decorator(csp_update(_DOCS_CSP), name="dispatch")
class RedocView(APIView):
    """Redoc from the sidecar bundle (drf-spectacular's own template pulls web fonts from a CDN)."""

    permission_classes = [permissions.IsAuthenticated]
    renderer_classes = [StaticHTMLRenderer]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        page = format_html(
            '<!DOCTYPE html><html lang="zh-Hans"><head><meta charset="utf-8"><title>{}</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
            '<body><redoc spec-url="{}"></redoc><script src="{}"></script></body></html>',
            "Jianguan API",
            reverse("api:schema"),
            static("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"),
        )
        return Response(page)
