"""Catalogue API: thin viewsets over the core base classes; every write calls a catalogue service.

Items and versions are readable by every account with the view permission (the catalogue is province-wide reference
data); every other action needs the permission (403) and the item inside the caller's edit scope (404). The public
catalogue (``catalog/public/items/``) is open to anonymous callers, throttled, and shows published versions only.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jianguan.catalog import access, exporter, importer, push, services
from jianguan.catalog.api import serializers as s
from jianguan.catalog.filtersets import (
    ImplementationItemFilterSet,
    ImportBatchFilterSet,
    ItemVersionFilterSet,
    LegalBasisFilterSet,
    PublicItemFilterSet,
    SupervisionItemFilterSet,
    public_items,
)
from jianguan.catalog.models import (
    BasisCitation,
    ImplementationItem,
    ImportBatch,
    ItemVersion,
    LegalBasis,
    NationalItem,
    NationalMapping,
    SupervisionItem,
)
from jianguan.core import audit
from jianguan.core.api.base import (
    AuditedAPIMixin,
    ScopedActionPermission,
    ScopedCreateReadUpdateViewSet,
    ScopedReadOnlyViewSet,
    ScopedViewSetMixin,
    check_token_scope,
)
from jianguan.core.api.throttling import AnonRateThrottle, UserRateThrottle

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ITEM_PERMISSION = "catalog.{action}_supervisionitem"


class ItemPermissionMixin:
    """Viewsets of records that belong to items (versions, imports, mappings): the item's permissions decide."""

    def get_model_permission(self, action: str) -> str | None:
        return ITEM_PERMISSION.format(action=action)


def _file_response(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store, private"
    return response


# --- items ----------------------------------------------------------------------------------------------------------


@extend_schema_view(create=extend_schema(request=s.ItemCreateSerializer, responses={201: s.SupervisionItemSerializer}))
class SupervisionItemViewSet(ScopedReadOnlyViewSet):
    """监管事项: main items and sub-items with their codes; create a main item (draft), add sub-items, start a
    revision of a published item, abolish."""

    queryset = SupervisionItem.objects.select_related("department_kind", "main", "current_version", "latest_version")
    serializer_class = s.SupervisionItemSerializer
    filterset_class = SupervisionItemFilterSet

    def get_object(self) -> SupervisionItem:
        return access.get_item_for(self.request.user, self.kwargs["pk"], self.get_permission_action() or "view")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.ItemCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        item = services.create_item(actor=request.user, department_kind=serializer.validated_data["department_code"],
                                    method=serializer.validated_data["method"], content=serializer.content(),
                                    reason=serializer.validated_data["reason"])
        return Response(self.represent(item), status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ContentSerializer, responses={201: s.SupervisionItemSerializer})
    @action(detail=True, methods=["post"], url_path="sub-items", permission_action="add")
    def sub_items(self, request: Request, pk: str | None = None) -> Response:
        """Add a sub-item (draft) under this main item; its 14-digit code is issued now."""
        main = self.get_object()
        serializer = s.ContentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.create_sub_item(main, actor=request.user, content=serializer.content(),
                                        reason=serializer.validated_data["reason"])
        return Response(self.represent(item), status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ReasonSerializer, responses={201: s.ItemVersionSerializer})
    @action(detail=True, methods=["post"], permission_action="change")
    def revise(self, request: Request, pk: str | None = None) -> Response:
        """Start a revision of a published item: a new draft version copied from the published one."""
        item = self.get_object()
        serializer = s.ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = services.start_revision(item, actor=request.user, reason=serializer.validated_data["reason"])
        return Response(s.ItemVersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.AbolishSerializer, responses=s.SupervisionItemSerializer)
    @action(detail=True, methods=["post"], permission_action="abolish", required_scope="change")
    def abolish(self, request: Request, pk: str | None = None) -> Response:
        """废止 with reason and date; sub-items, open versions and implementation lists follow."""
        item = self.get_object()
        serializer = s.AbolishSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.abolish_item(item, actor=request.user, **serializer.validated_data)
        return Response(self.represent(item))

    @extend_schema(responses=s.ItemEventSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], permission_action="view", pagination_class=None, filterset_class=None)
    def history(self, request: Request, pk: str | None = None) -> Response:
        """The item's whole history: who, when, why, what changed."""
        item = self.get_object()
        events = item.history.select_related("version").order_by("at", "id")
        return Response(s.ItemEventSerializer(events, many=True).data)

    @extend_schema(responses=s.ItemVersionSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], permission_action="view", pagination_class=None, filterset_class=None)
    def versions(self, request: Request, pk: str | None = None) -> Response:
        """Every version of the item, newest first."""
        item = self.get_object()
        versions = item.versions.select_related("item", "created_by", "submitted_by", "reviewed_by",
                                                "published_by").prefetch_related("citations__basis")
        return Response(s.ItemVersionSerializer(versions.order_by("-number"), many=True).data)


# --- versions -------------------------------------------------------------------------------------------------------


@extend_schema_view(partial_update=extend_schema(request=s.VersionUpdateSerializer,
                                                 responses=s.ItemVersionSerializer))
class ItemVersionViewSet(ItemPermissionMixin, ScopedReadOnlyViewSet):
    """Versions of items: edit a draft (PATCH), submit, withdraw, approve, return, publish, and the review diff."""

    queryset = ItemVersion.objects.select_related("item", "created_by", "submitted_by", "reviewed_by",
                                                  "published_by").prefetch_related(
        Prefetch("citations", queryset=BasisCitation.objects.select_related("basis")))
    serializer_class = s.ItemVersionSerializer
    filterset_class = ItemVersionFilterSet

    def get_object(self) -> ItemVersion:
        return access.get_version_for(self.request.user, self.kwargs["pk"], self.get_permission_action() or "view")

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change the fields given; the others keep their current values."""
        version = self.get_object()
        serializer = s.VersionUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        current = services.content_of(version)
        content = services.ItemContent(
            name=data.get("name", current.name), measures=data.get("measures", current.measures),
            targets=data.get("targets", current.targets), process=data.get("process", current.process),
            result=data.get("result", current.result), levels=tuple(data.get("levels", current.levels)),
            citations=tuple(services.CitationData(c["basis"], c["article"], c["clause"], c["text"])
                            for c in data["citations"]) if "citations" in data else current.citations,
        )
        version = services.update_draft(version, actor=request.user, content=content,
                                        reason=data.get("reason", ""),
                                        expected_updated_at=data.get("expected_updated_at"))
        return Response(self.represent(version))

    def _step(self, request: Request, service: Any, **extra: Any) -> Response:
        version = self.get_object()
        serializer = s.CommentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = service(version, actor=request.user, comment=serializer.validated_data["comment"], **extra)
        return Response(self.represent(version))

    @extend_schema(request=s.CommentSerializer, responses=s.ItemVersionSerializer)
    @action(detail=True, methods=["post"], permission_action="change")
    def submit(self, request: Request, pk: str | None = None) -> Response:
        """Send a complete draft for review."""
        return self._step(request, services.submit_version)

    @extend_schema(request=s.CommentSerializer, responses=s.ItemVersionSerializer)
    @action(detail=True, methods=["post"], permission_action="change")
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        """Take a submitted version back to draft."""
        return self._step(request, services.withdraw_version)

    @extend_schema(request=s.CommentSerializer, responses=s.ItemVersionSerializer)
    @action(detail=True, methods=["post"], permission_action="review", required_scope="change")
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve a submitted version (not by its author or submitter)."""
        return self._step(request, services.approve_version)

    @extend_schema(request=s.CommentSerializer, responses=s.ItemVersionSerializer)
    @action(detail=True, methods=["post"], permission_action="review", required_scope="change")
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Return a submitted or approved version with a comment."""
        return self._step(request, services.reject_version)

    @extend_schema(request=s.CommentSerializer, responses=s.ItemVersionSerializer)
    @action(detail=True, methods=["post"], permission_action="publish", required_scope="change")
    def publish(self, request: Request, pk: str | None = None) -> Response:
        """Publish an approved version; it replaces the published one."""
        return self._step(request, services.publish_version)

    @extend_schema(responses=s.DiffSerializer, filters=False)
    @action(detail=True, methods=["get"], permission_action="view", filterset_class=None)
    def diff(self, request: Request, pk: str | None = None) -> Response:
        """Field-by-field comparison with the version it revises."""
        version = self.get_object()
        data = {"version": version.number, "based_on": version.based_on.number if version.based_on else None,
                "changes": [vars(c) for c in services.version_diff(version)]}
        return Response(s.DiffSerializer(data).data)


# --- legal bases ----------------------------------------------------------------------------------------------------


class LegalBasisViewSet(ScopedCreateReadUpdateViewSet):
    """法律法规库: the register of laws and regulations; find the items citing one and revise them together."""

    queryset = LegalBasis.objects.all()
    serializer_class = s.LegalBasisSerializer
    update_serializer_class = s.LegalBasisUpdateSerializer
    filterset_class = LegalBasisFilterSet

    def perform_service_create(self, data: dict[str, Any]) -> LegalBasis:
        return services.create_legal_basis(actor=self.request.user, **data)

    def perform_service_update(self, instance: LegalBasis, data: dict[str, Any]) -> LegalBasis:
        reason = data.pop("reason", "")
        return services.update_legal_basis(instance, actor=self.request.user, reason=reason, **data)

    @extend_schema(responses=s.SupervisionItemSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], url_path="citing-items", permission_action="view",
            pagination_class=None, filterset_class=None)
    def citing_items(self, request: Request, pk: str | None = None) -> Response:
        """Every item whose published or open version cites this basis."""
        basis = self.get_object()
        items = services.items_citing(basis).select_related("department_kind", "main", "current_version",
                                                            "latest_version").order_by("code")
        return Response(s.SupervisionItemSerializer(items, many=True).data)

    @extend_schema(request=s.ReviseCitingSerializer, responses=s.RevisionOutcomeSerializer(many=True))
    @action(detail=True, methods=["post"], url_path="revise-citing", permission_action="view",
            required_scope="change")
    def revise_citing(self, request: Request, pk: str | None = None) -> Response:
        """Open draft revisions of the citing items (optionally pointing them to a replacement basis) and, with
        ``submit``, send them for review together. Needs the item change permission."""
        basis = self.get_object()
        serializer = s.ReviseCitingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        outcomes = services.revise_citing_items(basis, actor=request.user, reason=data["reason"],
                                                item_ids=data["items"], replace_with=data["replace_with"])
        if data["submit"]:
            services.submit_many([o.version for o in outcomes if o.version is not None and o.outcome != "skipped"],
                                 actor=request.user, comment=data["reason"])
        return Response(s.RevisionOutcomeSerializer(outcomes, many=True).data)


# --- implementation lists -------------------------------------------------------------------------------------------


@extend_schema_view(
    create=extend_schema(request=s.ImplementationCreateSerializer, responses={201: s.ImplementationItemSerializer}),
    update=extend_schema(request=s.ImplementationUpdateSerializer, responses=s.ImplementationItemSerializer),
    partial_update=extend_schema(request=s.ImplementationUpdateSerializer, responses=s.ImplementationItemSerializer),
)
class ImplementationItemViewSet(ScopedCreateReadUpdateViewSet):
    """检查实施清单 of the caller's region and department: local detail only, never the item's content."""

    queryset = ImplementationItem.objects.select_related("item", "organization", "region")
    serializer_class = s.ImplementationItemSerializer
    create_serializer_class = s.ImplementationCreateSerializer
    update_serializer_class = s.ImplementationUpdateSerializer
    filterset_class = ImplementationItemFilterSet

    def perform_service_create(self, data: dict[str, Any]) -> ImplementationItem:
        return services.create_implementation(actor=self.request.user, **data)

    def perform_service_update(self, instance: ImplementationItem, data: dict[str, Any]) -> ImplementationItem:
        return services.update_implementation(instance, actor=self.request.user, **data)

    @extend_schema(request=s.ReasonSerializer, responses=s.ImplementationItemSerializer)
    @action(detail=True, methods=["post"], permission_action="change")
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        """Stop using this implementation list (its code stays issued)."""
        implementation = self.get_object()
        serializer = s.ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        implementation = services.withdraw_implementation(implementation, actor=request.user,
                                                          reason=serializer.validated_data["reason"])
        return Response(self.represent(implementation))


# --- imports and exports --------------------------------------------------------------------------------------------


@extend_schema_view(create=extend_schema(request={"multipart/form-data": s.ImportRequestSerializer},
                                         responses={201: s.ImportBatchSerializer}))
class ImportBatchViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         viewsets.GenericViewSet):  # type: ignore[type-arg]
    """Catalogue imports: upload a spreadsheet (valid rows import, invalid rows are reported), list past imports,
    download a batch's error report."""

    queryset = ImportBatch.objects.all()
    serializer_class = s.ImportBatchSerializer
    filterset_class = ImportBatchFilterSet
    parser_classes = [MultiPartParser, FormParser]

    def get_model_permission(self, action: str) -> str | None:
        if action == "add":
            return ITEM_PERMISSION.format(action="import")
        return f"catalog.{action}_importbatch"

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.ImportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        try:
            result = importer.import_catalogue(upload.read(), file_name=upload.name, actor=request.user,
                                               dry_run=serializer.validated_data["dry_run"],
                                               publish=serializer.validated_data["publish"])
        except importer.ImportFailed as failed:
            result = failed.result
        return Response(self.represent(result.batch), status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, XLSX): OpenApiTypes.BINARY}, filters=False)
    @action(detail=True, methods=["get"], permission_action="view", filterset_class=None)
    def report(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The rejected rows as an xlsx: row, column and reason in Chinese."""
        batch = self.get_object()
        return _file_response(exporter.error_report_xlsx(batch.errors, file_name=batch.file_name), XLSX,
                              f"import-{batch.pk}-errors.xlsx")


class _ItemCollectionView(AuditedAPIMixin, APIView):
    permission_classes = [ScopedActionPermission]
    permission_action = "view"
    required_scope: str | None = None

    def get_permission_action(self) -> str:
        return self.permission_action

    def get_token_scope(self) -> str | None:
        return self.required_scope or ("view" if self.permission_action == "view" else "export")

    def get_model_permission(self, action: str) -> str | None:
        return ITEM_PERMISSION.format(action=action)


class ExportView(_ItemCollectionView):
    """The catalogue as xlsx (DOMAIN.md columns + the legal-basis register) or JSON; the import reads either."""

    permission_action = "export"
    required_scope = "export"

    @extend_schema(
        parameters=[
            OpenApiParameter("file_type", str, enum=["xlsx", "json"], default="xlsx"),
            OpenApiParameter("status", str, enum=list(exporter.EXPORT_STATUSES), default="published",
                             description="published: the public catalogue; latest: newest versions incl. drafts"),
        ],
        responses={(200, XLSX): OpenApiTypes.BINARY, (200, "application/json"): OpenApiTypes.OBJECT},
        operation_id="catalog_export",
    )
    def get(self, request: Request) -> HttpResponse:
        file_type = request.query_params.get("file_type", "xlsx")
        export_status = request.query_params.get("status", "published")
        if file_type not in ("xlsx", "json") or export_status not in exporter.EXPORT_STATUSES:
            return Response({"code": "validation", "message": "file_type应为xlsx或json，status应为published或latest。",
                             "fields": {}}, status=400)
        rows = exporter.export_rows(status=export_status)
        audit.record_export("catalog.item.exported", object_type="catalog.supervisionitem", count=len(rows),
                            filters={"status": export_status}, fmt=file_type)
        if file_type == "json":
            return _file_response(exporter.export_json(rows, status=export_status), "application/json",
                                  "catalogue.json")
        return _file_response(exporter.export_xlsx(rows), XLSX, "catalogue.xlsx")


# --- national alignment ---------------------------------------------------------------------------------------------


class NationalItemViewSet(ScopedReadOnlyViewSet):
    """国家监管事项目录: the loaded national catalogue; ``load`` reads a new edition (xlsx or JSON)."""

    queryset = NationalItem.objects.all()
    serializer_class = s.NationalItemSerializer

    def get_model_permission(self, action: str) -> str | None:
        if action == "map":
            return ITEM_PERMISSION.format(action="map")
        return f"catalog.{action}_nationalitem"

    @extend_schema(request={"multipart/form-data": s.NationalLoadSerializer},
                   responses={200: s.NationalLoadResultSerializer, 400: OpenApiResponse(description="nothing read")})
    @action(detail=False, methods=["post"], permission_action="map", required_scope="change",
            parser_classes=[MultiPartParser, FormParser])
    def load(self, request: Request) -> Response:
        """Load an edition: new national items are added, missing ones marked as no longer current."""
        from jianguan.catalog.national import read_national_file

        serializer = s.NationalLoadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        edition, rows, errors = read_national_file(upload.read(), edition=serializer.validated_data["edition"])
        if not rows:
            return Response({"code": "catalog.national_empty", "message": "文件中没有可读取的国家监管事项。",
                             "fields": {"file": [e.reason for e in errors][:20]}}, status=400)
        edition = edition or upload.name.rsplit(".", 1)[0]
        result = services.load_national_catalogue(rows, actor=request.user, edition=edition)
        data = {"edition": edition, "created": result.created, "updated": result.updated,
                "unchanged": result.unchanged, "retired": result.retired, "errors": [e.as_dict() for e in errors]}
        return Response(s.NationalLoadResultSerializer(data).data)


@extend_schema_view(create=extend_schema(request=s.NationalMappingSerializer,
                                         responses={201: s.NationalMappingSerializer}))
class NationalMappingViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             viewsets.GenericViewSet):  # type: ignore[type-arg]
    """Local item → national item (one-to-one or many-to-one). POST maps (or re-maps), DELETE unmaps."""

    queryset = NationalMapping.objects.select_related("item", "national_item")
    serializer_class = s.NationalMappingSerializer

    def get_model_permission(self, action: str) -> str | None:
        if action in ("add", "delete"):
            return ITEM_PERMISSION.format(action="map")
        return f"catalog.{action}_nationalmapping"

    def get_object(self) -> NationalMapping:
        """Readable like the items; removing one needs the map permission on its item (else 403 / 404)."""
        from django.http import Http404

        try:
            mapping = self.get_queryset().get(pk=int(self.kwargs["pk"]))
        except (NationalMapping.DoesNotExist, ValueError, TypeError):
            raise Http404 from None
        if self.get_permission_action() != "view":
            access.get_item_for(self.request.user, mapping.item_id, "map")
        return mapping

    def get_queryset(self) -> Any:
        return self.queryset.visible_to(self.request.user, "view")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.NationalMappingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = access.get_item_for(request.user, serializer.validated_data["item"].pk, "map")
        mapping = services.map_item(item, serializer.validated_data["national_item"], actor=request.user,
                                    note=serializer.validated_data.get("note", ""))
        return Response(self.represent(mapping), status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        mapping = self.get_object()
        services.unmap_item(mapping.item, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AlignmentReportView(_ItemCollectionView):
    """Local items in force without a national counterpart, national items without a local one."""

    @extend_schema(responses=s.AlignmentReportSerializer, operation_id="catalog_alignment_report")
    def get(self, request: Request) -> Response:
        report = services.alignment_report()
        return Response(s.AlignmentReportSerializer(report).data)

    def get_model_permission(self, action: str) -> str | None:
        return "catalog.view_nationalmapping"


class PushPackageView(_ItemCollectionView):
    """The push package for the national system (JSON Schema: ``schemas/push-package-v1.schema.json``)."""

    permission_action = "export"
    required_scope = "export"

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT}, operation_id="catalog_push_package")
    def get(self, request: Request) -> HttpResponse:
        return _file_response(push.build_for(request.user), "application/json", "push-package-v1.json")


# --- the public catalogue -------------------------------------------------------------------------------------------


@extend_schema(tags=["catalog-public"], auth=[])
@extend_schema_view(list=extend_schema(tags=["catalog-public"], auth=[]),
                    retrieve=extend_schema(tags=["catalog-public"], auth=[]))
class PublicItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):  # type: ignore[type-arg]
    """The public catalogue: published versions only, no sign-in, throttled. Search by department (code), method,
    supervised object, level and keyword (a Chinese substring of names and bases)."""

    permission_classes = [permissions.AllowAny]
    throttle_classes = [AnonRateThrottle, UserRateThrottle]
    serializer_class = s.PublicItemSerializer
    filterset_class = PublicItemFilterSet
    lookup_field = "code"
    lookup_value_regex = r"32\d{12}"

    def get_queryset(self) -> Any:
        return (public_items()
                .select_related("department_kind", "current_version", "main", "main__current_version")
                .prefetch_related(Prefetch("current_version__citations",
                                           queryset=BasisCitation.objects.select_related("basis")))
                .order_by("code"))

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        check_token_scope(request, "view")
