"""The data centre's API viewsets: thin classes over the scope layer and ``jianguan.datacenter.services``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from jianguan.core.api.base import ScopedCreateReadUpdateViewSet, ScopedReadOnlyViewSet
from jianguan.core.errors import DomainError
from jianguan.core.models import Organization
from jianguan.datacenter import collect, selectors, services
from jianguan.datacenter.api import serializers as s
from jianguan.datacenter.filtersets import (
    BatchFilterSet,
    ConflictFilterSet,
    EntityLinkFilterSet,
    LineageFilterSet,
    QuarantinedRowFilterSet,
    SourceFilterSet,
)
from jianguan.datacenter.models import (
    AdministrativeCoercion,
    AdministrativeInspection,
    AdministrativeLicense,
    AdministrativePenalty,
    Batch,
    CatalogEntry,
    ComplaintRecord,
    Conflict,
    CreditRecord,
    EntityLink,
    ImplementationEntry,
    InternetRecord,
    KnowledgeDocument,
    LineageEntry,
    QuarantinedRow,
    Source,
)


class SourceViewSet(ScopedCreateReadUpdateViewSet):
    """数据源: the registry of sources; ``push`` is the service interface, ``pull`` runs a collection now."""

    queryset = Source.objects.select_related("owner", "region")
    serializer_class = s.SourceSerializer
    create_serializer_class = s.SourceWriteSerializer
    update_serializer_class = s.SourceUpdateSerializer
    filterset_class = SourceFilterSet

    def perform_service_create(self, data: dict[str, Any]) -> Source:
        owner = Organization.objects.in_scope_of(self.request.user).filter(pk=data.pop("owner")).first()
        if owner is None:
            raise DomainError("validation", "所属部门不存在。", fields={"owner": ["所属部门不存在。"]})
        if "source_kind" in data:
            data["kind"] = data.pop("source_kind")
        return services.create_source(actor=self.request.user, owner=owner, **data)

    def perform_service_update(self, instance: Source, data: dict[str, Any]) -> Source:
        if "source_kind" in data:
            data["kind"] = data.pop("source_kind")
        return services.update_source(instance, actor=self.request.user, **data)

    @extend_schema(request=s.PushSerializer, responses={200: s.PushResponseSerializer, 201: s.PushResponseSerializer})
    @action(detail=True, methods=["post"], permission_action="ingest", required_scope="add")
    def push(self, request: Request, pk: str | None = None) -> Response:
        """Push a batch of records; processed at once, answered per record. Repeating a request with the same
        ``idempotency_key`` returns the first answer."""
        source = self.get_object()
        serializer = s.PushSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        batch, replayed = services.push_records(source, actor=request.user,
                                                idempotency_key=serializer.validated_data["idempotency_key"],
                                                records=serializer.validated_data["records"])
        results = batch.response
        body = {
            "batch": batch.pk, "replayed": replayed, "status": batch.status,
            "accepted": sum(1 for r in results if r.get("status") == "accepted"),
            "rejected": sum(1 for r in results if r.get("status") == "rejected"),
            "results": results,
        }
        return Response(body, status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={201: s.BatchSerializer, 204: None})
    @action(detail=True, methods=["post"], permission_action="ingest", required_scope="add")
    def pull(self, request: Request, pk: str | None = None) -> Response:
        """Collect what changed since the watermark now (paged HTTP API or SQL sources)."""
        source = self.get_object()
        batch = collect.pull_source(source, actor=request.user)
        if batch is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(s.BatchSerializer(batch).data, status=status.HTTP_201_CREATED)


class BatchViewSet(ScopedReadOnlyViewSet):
    """批次: deliveries with status, live progress, counts, step timings and the quality report."""

    queryset = Batch.objects.select_related("source", "job")
    serializer_class = s.BatchSerializer
    filterset_class = BatchFilterSet

    @extend_schema(request=None, responses={201: s.BatchSerializer})
    @action(detail=True, methods=["post"], permission_action="view", required_scope="add")
    def rerun(self, request: Request, pk: str | None = None) -> Response:
        """Re-run the corrected quarantined rows of this batch as a new batch."""
        batch = services.rerun_corrections(self.get_object(), actor=request.user)
        return Response(s.BatchSerializer(batch).data, status=status.HTTP_201_CREATED)


class QuarantinedRowViewSet(ScopedReadOnlyViewSet):
    """隔离区: rejected rows with their problems; correct or discard them."""

    queryset = QuarantinedRow.objects.select_related("batch", "batch__source")
    serializer_class = s.QuarantinedRowSerializer
    filterset_class = QuarantinedRowFilterSet

    @extend_schema(request=s.CorrectionSerializer, responses=s.QuarantinedRowSerializer)
    @action(detail=True, methods=["post"], permission_action="change")
    def correct(self, request: Request, pk: str | None = None) -> Response:
        serializer = s.CorrectionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = services.correct_row(self.get_object(), actor=request.user, values=serializer.validated_data["values"])
        return Response(self.represent(row))

    @extend_schema(request=s.DatacenterUnmaskSerializer, responses=s.DatacenterUnmaskedValuesSerializer)
    @action(detail=True, methods=["post"], permission_action="change", required_scope="export")
    def unmask(self, request: Request, pk: str | None = None) -> Response:
        """The row's personal values in clear, to correct them, for a stated reason; recorded as a read in the
        audit log."""
        serializer = s.DatacenterUnmaskSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = services.unmask_quarantined_row(self.get_object(), actor=request.user,
                                                 reason=serializer.validated_data["reason"])
        response = Response(s.DatacenterUnmaskedValuesSerializer({"values": values}).data)
        response["Cache-Control"] = "no-store, private"
        return response

    @extend_schema(request=s.DatacenterReasonSerializer, responses=s.QuarantinedRowSerializer)
    @action(detail=True, methods=["post"], permission_action="change")
    def discard(self, request: Request, pk: str | None = None) -> Response:
        serializer = s.DatacenterReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = services.discard_row(self.get_object(), actor=request.user,
                                   reason=serializer.validated_data.get("reason", ""))
        return Response(self.represent(row))


class EntityLinkViewSet(ScopedReadOnlyViewSet):
    """关联: probabilistic links with their weight and deciding fields; confirm or split them."""

    queryset = EntityLink.objects.select_related("subject")
    serializer_class = s.EntityLinkSerializer
    filterset_class = EntityLinkFilterSet

    @extend_schema(request=None, responses=s.EntityLinkSerializer)
    @action(detail=True, methods=["post"], permission_action="change")
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        return Response(self.represent(services.confirm_link(self.get_object(), actor=request.user)))

    @extend_schema(request=s.DatacenterReasonSerializer, responses=s.EntityLinkSerializer)
    @action(detail=True, methods=["post"], permission_action="change")
    def split(self, request: Request, pk: str | None = None) -> Response:
        serializer = s.DatacenterReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        link = services.split_link(self.get_object(), actor=request.user,
                                   reason=serializer.validated_data.get("reason", ""))
        return Response(self.represent(link))


class ConflictViewSet(ScopedReadOnlyViewSet):
    """比对冲突: disagreements between sources about a master record; apply the incoming value or keep."""

    queryset = Conflict.objects.select_related("source", "current_source")
    serializer_class = s.ConflictSerializer
    filterset_class = ConflictFilterSet

    @extend_schema(request=s.ResolveSerializer, responses=s.ConflictSerializer)
    @action(detail=True, methods=["post"], permission_action="change")
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        serializer = s.ResolveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        conflict = services.resolve_conflict(self.get_object(), actor=request.user,
                                             apply=serializer.validated_data["apply"],
                                             note=serializer.validated_data.get("note", ""))
        return Response(self.represent(conflict))


class LineageViewSet(ScopedReadOnlyViewSet):
    """血缘: which source rows set which fields of a master record, with the steps applied; ``explain`` gives,
    per field of one record, its current value, where it came from and the value as delivered."""

    queryset = LineageEntry.objects.select_related("source")
    serializer_class = s.LineageSerializer
    filterset_class = LineageFilterSet

    @extend_schema(responses=s.SubjectLineageSerializer)
    @action(detail=False, methods=["get"], permission_action="view", url_path=r"subject/(?P<subject_id>[0-9]+)")
    def subject(self, request: Request, subject_id: str) -> Response:
        data = selectors.explain_subject(request.user, int(subject_id))
        return Response(data)


# --- Libraries --------------------------------------------------------------------------------------------------------


def _library_viewset(model: type[Any], filter_fields: list[str], doc: str) -> type[ScopedReadOnlyViewSet]:
    attrs = {
        "__doc__": doc,
        "queryset": model.objects.all(),
        "serializer_class": s.library_serializer(model),
        "filterset_fields": filter_fields,
    }
    return type(f"{model.__name__}ViewSet", (ScopedReadOnlyViewSet,), attrs)


_BEHAVIOUR_FILTERS = ["item_code", "behaviour_no", "party_uscc", "region", "subject", "batch"]
CatalogEntryViewSet = _library_viewset(CatalogEntry, ["item_code", "main_code", "status", "department_code"],
                                       "目录清单库: published supervision items (fed by the catalogue).")
ImplementationEntryViewSet = _library_viewset(ImplementationEntry, ["item_code", "region", "status"],
                                              "目录清单库: implementation lists (fed by the catalogue).")
LicenseViewSet = _library_viewset(AdministrativeLicense, _BEHAVIOUR_FILTERS, "监管行为库: 行政许可.")
InspectionViewSet = _library_viewset(AdministrativeInspection, _BEHAVIOUR_FILTERS, "监管行为库: 行政检查.")
PenaltyViewSet = _library_viewset(AdministrativePenalty, _BEHAVIOUR_FILTERS, "监管行为库: 行政处罚.")
CoercionViewSet = _library_viewset(AdministrativeCoercion, _BEHAVIOUR_FILTERS, "监管行为库: 行政强制.")
ComplaintRecordViewSet = _library_viewset(ComplaintRecord, ["status", "kind", "region", "subject_uscc"],
                                          "投诉举报库: complaints and reports (fed by the complaints module).")
CreditRecordViewSet = _library_viewset(CreditRecord, ["kind", "uscc", "region", "subject"], "信用信息库.")
InternetRecordViewSet = _library_viewset(InternetRecord, ["provider", "uscc", "region", "subject"],
                                         "互联网及第三方信息库.")


class KnowledgeDocumentViewSet(_library_viewset(KnowledgeDocument, ["kind", "status", "doc_no"],  # type: ignore[misc]
                                                "监管知识库.")):
    """监管知识库: laws, regulations, rules, standards and typical cases; ``search`` is Chinese full-text search."""

    @extend_schema(parameters=[OpenApiParameter("q", str, required=True)],
                   responses=s.KnowledgeHitSerializer(many=True), filters=False)
    @action(detail=False, methods=["get"], permission_action="view", pagination_class=None, filter_backends=[])
    def search(self, request: Request) -> Response:
        from jianguan.datacenter import knowledge

        hits = knowledge.search(self.get_queryset(), request.query_params.get("q", ""))
        return Response(s.KnowledgeHitSerializer(hits, many=True).data)
