"""``/api/v1/complaints/``: intake (single and batch, idempotent), the scoped list and detail, and one action per
workflow step — each calling the same service as the pages."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from jianguan.complaints import services, stats
from jianguan.complaints.api import serializers as s
from jianguan.complaints.choices import Channel
from jianguan.complaints.filtersets import ComplaintFilterSet
from jianguan.complaints.models import Category, Complaint, DeadlineExtension, DuplicateProposal, Supervision
from jianguan.complaints.routing import route
from jianguan.core.api.base import ScopedReadOnlyViewSet
from jianguan.core.errors import DomainError
from jianguan.core.models import Organization


def _category(code: str | None) -> Category | None:
    if not code:
        return None
    category = Category.objects.filter(code=code, active=True).first()
    if category is None:
        raise DomainError("complaint.category", "分类编码不存在。", fields={"category_code": ["分类编码不存在。"]})
    return category


def _org(code: str) -> Organization:
    org = Organization.objects.filter(code=code, active=True).first()
    if org is None:
        raise DomainError("complaint.org", f"部门代码 {code} 不存在。", fields={"lead_org_code": ["部门代码不存在。"]})
    return org


IDEMPOTENCY_HEADER = OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
                                      description="Same key, same answer: a retry never creates a second ticket.")


class ComplaintViewSet(ScopedReadOnlyViewSet):
    """工单 in the caller's scope (handling region subtree and department; co-units included)."""

    queryset = Complaint.objects.select_related("category", "handling_org")
    serializer_class = s.ComplaintListSerializer
    filterset_class = ComplaintFilterSet

    def get_serializer_class(self) -> Any:
        if self.action == "retrieve":
            return s.ComplaintDetailSerializer
        return super().get_serializer_class()

    def get_queryset(self) -> Any:
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.select_related("suggested_category", "reporter").prefetch_related(
                "events", "assignments__organization", "supervisions", "extensions"
            )
        return queryset

    def _detail(self, complaint: Complaint, code: int = 200) -> Response:
        complaint = (
            Complaint.objects.select_related("category", "handling_org", "suggested_category", "reporter")
            .prefetch_related("events", "assignments__organization", "supervisions", "extensions")
            .get(pk=complaint.pk)
        )
        return Response(s.ComplaintDetailSerializer(complaint, context=self.get_serializer_context()).data,
                        status=code)

    # --- intake ----------------------------------------------------------------------------------------------------

    @extend_schema(request=s.IntakeSerializer, responses={201: s.IntakeResultSerializer, 200: s.IntakeResultSerializer},
                   parameters=[IDEMPOTENCY_HEADER])
    @action(detail=False, methods=["post"], permission_action="add", required_scope="add", url_path="intake")
    def intake(self, request: Request) -> Response:
        """Submit one ticket. 201 when stored now, 200 when the idempotency key was seen before (same tickets)."""
        serializer = s.IntakeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key") or serializer.validated_data.get("idempotency_key")
        result = services.receive_complaint_grouped(serializer.record(), actor=request.user, channel=Channel.API,
                                                    idempotency_key=key)
        return Response(s.intake_payload(result), status=201 if result.created else 200)

    @extend_schema(request=s.BatchIntakeSerializer, responses=s.BatchResultSerializer)
    @action(detail=False, methods=["post"], permission_action="add", required_scope="add", url_path="intake/batch")
    def intake_batch(self, request: Request) -> Response:
        """Submit up to 500 tickets; each record is stored (or refused) on its own and answered with its result."""
        batch = s.BatchIntakeSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        from jianguan.core.api.errors import _flatten

        results: list[dict[str, Any] | None] = []
        records: list[tuple[Any, str | None]] = []
        positions: list[int] = []
        for index, raw in enumerate(batch.validated_data["records"]):
            record = s.IntakeSerializer(data=raw)
            if not record.is_valid():
                results.append({"index": index, "status": "error", "result": None,
                                "error": {"code": "validation", "message": "输入有误。",
                                          "fields": _flatten(record.errors)}})
                continue
            results.append(None)
            positions.append(index)
            records.append((record.record(), record.validated_data.get("idempotency_key") or None))
        answers = services.receive_batch(records, actor=request.user, channel=Channel.API) if records else []
        for index, answer in zip(positions, answers, strict=True):
            if isinstance(answer, DomainError):
                results[index] = {"index": index, "status": "error", "result": None, "error": answer.as_dict()}
            else:
                results[index] = {"index": index, "status": "created" if answer.created else "existing",
                                  "result": s.intake_payload(answer), "error": None}
        counts = {
            "created": sum(1 for r in results if r and r["status"] == "created"),
            "existing": sum(1 for r in results if r and r["status"] == "existing"),
            "errors": sum(1 for r in results if r and r["status"] == "error"),
        }
        return Response({**counts, "results": results})

    # --- 12345 centre ----------------------------------------------------------------------------------------------

    @extend_schema(request=s.AcceptSerializer, responses=s.ComplaintDetailSerializer)
    @action(detail=True, methods=["post"], permission_action="dispatch", required_scope="change")
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """受理: register as a work order with a category; the handling clock starts."""
        complaint = self.get_object()
        data = self._valid(s.AcceptSerializer, request)
        services.accept_complaint(complaint, actor=request.user, category=_category(data.get("category_code")),
                                  kind=data.get("kind") or None, note=data["note"])
        return self._detail(complaint)

    @extend_schema(request=s.ClassifySerializer, responses=s.ComplaintDetailSerializer)
    @action(detail=True, methods=["post"], permission_action="dispatch", required_scope="change")
    def classify(self, request: Request, pk: str | None = None) -> Response:
        complaint = self.get_object()
        data = self._valid(s.ClassifySerializer, request)
        category = _category(data["category_code"])
        assert category is not None
        services.classify_complaint(complaint, actor=request.user, category=category, note=data["note"])
        return self._detail(complaint)

    @extend_schema(request=s.RejectSerializer, responses=s.ComplaintDetailSerializer)
    @action(detail=True, methods=["post"], permission_action="dispatch", required_scope="change")
    def reject(self, request: Request, pk: str | None = None) -> Response:
        complaint = self.get_object()
        data = self._valid(s.RejectSerializer, request)
        services.reject_intake(complaint, actor=request.user, ground=data["ground"], note=data["note"])
        return self._detail(complaint)

    @extend_schema(request=s.MergeSerializer, responses=s.ComplaintDetailSerializer)
    @action(detail=True, methods=["post"], permission_action="dispatch", required_scope="change")
    def merge(self, request: Request, pk: str | None = None) -> Response:
        """并单 into another ticket (by number or id)."""
        complaint = self.get_object()
        data = self._valid(s.MergeSerializer, request)
        ref = data["into"].strip()
        into_pk = Complaint.objects.filter(ticket_no=ref).values_list("pk", flat=True).first()
        if into_pk is None and ref.isdigit():
            into_pk = int(ref)
        from jianguan.complaints.access import get_complaint_for

        try:
            into = get_complaint_for(request.user, into_pk or 0, "dispatch")
        except Http404:
            raise DomainError("complaint.merge_target", "目标工单不存在。",
                              fields={"into": ["目标工单不存在。"]}) from None
        services.merge_complaint(complaint, actor=request.user, into=into, note=data["note"])
        return self._detail(complaint)

    @extend_schema(request=s.NoteSerializer, responses={201: s.ComplaintDetailSerializer})
    @action(detail=True, methods=["post"], permission_action="dispatch", required_scope="change")
    def split(self, request: Request, pk: str | None = None) -> Response:
        """Split a filing that is both a complaint and a report; answers the new ticket."""
        complaint = self.get_object()
        data = self._valid(s.NoteSerializer, request)
        sibling = services.split_complaint(complaint, actor=request.user, note=data["note"])
        return self._detail(sibling, 201)

    @extend_schema(request=s.DispatchSerializer, responses=s.ComplaintDetailSerializer)
    @action(detail=True, methods=["post"], permission_action="dispatch", required_scope="change",
            url_path="dispatch", url_name="dispatch")
    def dispatch_to(self, request: Request, pk: str | None = None) -> Response:
        """派单 (or 改派): by the dispatch catalogue unless lead/co-unit department codes are given."""
        complaint = self.get_object()
        data = self._valid(s.DispatchSerializer, request)
        lead = _org(data["lead_org_code"]) if data.get("lead_org_code") else None
        co = [_org(c) for c in data.get("co_org_codes", [])] if "co_org_codes" in data else None
        services.dispatch_complaint(complaint, actor=request.user, lead_org=lead, co_orgs=co, note=data["note"])
        return self._detail(complaint)

    @extend_schema(request=s.NoteSerializer, responses=s.ComplaintDetailSerializer)
    @action(detail=True, methods=["post"], permission_action="dispatch", required_scope="change")
    def close(self, request: Request, pk: str | None = None) -> Response:
        complaint = self.get_object()
        data = self._valid(s.NoteSerializer, request)
        services.close_complaint(complaint, actor=request.user, note=data["note"])
        return self._detail(complaint)

    @extend_schema(request=s.NoteSerializer, responses=s.ComplaintDetailSerializer)
    @action(detail=True, methods=["post"], permission_action="dispatch", required_scope="change", url_path="send-back")
    def send_back(self, request: Request, pk: str | None = None) -> Response:
        complaint = self.get_object()
        data = self._valid(s.NoteSerializer, request)
        services.send_back_complaint(complaint, actor=request.user, note=data["note"])
        return self._detail(complaint)

    @extend_schema(request=s.ReplySerializer, responses=s.ComplaintDetailSerializer)
    @action(detail=True, methods=["post"], permission_action="dispatch", required_scope="change",
            url_path="answer-directly")
    def answer_directly(self, request: Request, pk: str | None = None) -> Response:
        complaint = self.get_object()
        data = self._valid(s.ReplySerializer, request)
        services.answer_directly(complaint, actor=request.user, reply=data["reply"])
        return self._detail(complaint)

    @extend_schema(request=s.RateSerializer, responses=s.ComplaintDetailSerializer)
    @action(detail=True, methods=["post"], permission_action="dispatch", required_scope="change")
    def visit(self, request: Request, pk: str | None = None) -> Response:
        """回访: record the person's rating; dissatisfied reopens the ticket."""
        complaint = self.get_object()
        data = self._valid(s.RateSerializer, request)
        services.rate_complaint(complaint, actor=request.user, rating=data["rating"], comment=data["note"])
        return self._detail(complaint)

    # --- department ------------------------------------------------------------------------------------------------

    @extend_schema(request=s.ReturnSerializer, responses={204: None})
    @action(detail=True, methods=["post"], url_path="return", url_name="return", permission_action="handle",
            required_scope="change")
    def return_(self, request: Request, pk: str | None = None) -> Response:
        """退单 with a reason code; the ticket leaves the department's scope (so no body is returned)."""
        complaint = self.get_object()
        data = self._valid(s.ReturnSerializer, request)
        services.return_complaint(complaint, actor=request.user, reason=data["reason"], note=data["note"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.NoteSerializer, responses=s.ComplaintDetailSerializer)
    @action(detail=True, methods=["post"], permission_action="handle", required_scope="change")
    def sign(self, request: Request, pk: str | None = None) -> Response:
        complaint = self.get_object()
        data = self._valid(s.NoteSerializer, request)
        services.sign_for_complaint(complaint, actor=request.user, note=data["note"])
        return self._detail(complaint)

    @extend_schema(request=s.DecideSerializer, responses=s.ComplaintDetailSerializer)
    @action(detail=True, methods=["post"], permission_action="handle", required_scope="change")
    def decide(self, request: Request, pk: str | None = None) -> Response:
        complaint = self.get_object()
        data = self._valid(s.DecideSerializer, request)
        services.decide_complaint(complaint, actor=request.user, accepted=data["accepted"], ground=data["ground"],
                                  note=data["note"], case_opened=data["case_opened"])
        return self._detail(complaint)

    @extend_schema(request=s.TellReporterSerializer, responses=s.ComplaintDetailSerializer)
    @action(detail=True, methods=["post"], permission_action="handle", required_scope="change",
            url_path="tell-reporter")
    def tell_reporter(self, request: Request, pk: str | None = None) -> Response:
        """告知举报人: record that the real-name reporter was told whether a case was opened (5 working days)."""
        complaint = self.get_object()
        data = self._valid(s.TellReporterSerializer, request)
        services.tell_reporter(complaint, actor=request.user, method=data["method"], note=data["note"])
        return self._detail(complaint)

    @extend_schema(request=s.NoteSerializer, responses=s.ComplaintDetailSerializer)
    @action(detail=True, methods=["post"], permission_action="handle", required_scope="change")
    def progress(self, request: Request, pk: str | None = None) -> Response:
        complaint = self.get_object()
        data = self._valid(s.NoteSerializer, request)
        services.record_progress(complaint, actor=request.user, note=data["note"])
        return self._detail(complaint)

    @extend_schema(request=s.ReplySerializer, responses=s.ComplaintDetailSerializer)
    @action(detail=True, methods=["post"], permission_action="handle", required_scope="change")
    def reply(self, request: Request, pk: str | None = None) -> Response:
        complaint = self.get_object()
        data = self._valid(s.ReplySerializer, request)
        services.reply_complaint(complaint, actor=request.user, reply=data["reply"], result=data["result"])
        return self._detail(complaint)

    @extend_schema(request=s.AnswerSupervisionSerializer, responses=s.ComplaintDetailSerializer)
    @action(detail=True, methods=["post"], permission_action="handle", required_scope="change",
            url_path="answer-supervision")
    def answer_supervision(self, request: Request, pk: str | None = None) -> Response:
        complaint = self.get_object()
        data = self._valid(s.AnswerSupervisionSerializer, request)
        supervision = Supervision.objects.filter(pk=data["supervision_id"], complaint=complaint).first()
        if supervision is None:
            raise Http404
        services.answer_supervision(supervision, actor=request.user, answer=data["answer"])
        return self._detail(complaint)

    @extend_schema(request=s.ExtensionRequestSerializer, responses={201: s.ExtensionSerializer})
    @action(detail=True, methods=["post"], permission_action="handle", required_scope="change",
            url_path="request-extension")
    def request_extension(self, request: Request, pk: str | None = None) -> Response:
        complaint = self.get_object()
        data = self._valid(s.ExtensionRequestSerializer, request)
        extension = services.request_extension(complaint, actor=request.user, days=data["days"],
                                               reason=data["reason"])
        return Response(s.ExtensionSerializer(extension).data, status=201)

    # --- supervisor ------------------------------------------------------------------------------------------------

    @extend_schema(request=s.SuperviseSerializer, responses={201: s.SupervisionSerializer})
    @action(detail=True, methods=["post"], permission_action="supervise", required_scope="change")
    def supervise(self, request: Request, pk: str | None = None) -> Response:
        """人工督办 with instructions and a reply deadline."""
        complaint = self.get_object()
        data = self._valid(s.SuperviseSerializer, request)
        supervision = services.supervise_complaint(complaint, actor=request.user, instructions=data["instructions"],
                                                   reply_days=data.get("reply_days"))
        return Response(s.SupervisionSerializer(supervision).data, status=201)

    @extend_schema(request=s.ExtensionDecisionSerializer, responses=s.ExtensionSerializer)
    @action(detail=True, methods=["post"], permission_action="supervise", required_scope="change",
            url_path="decide-extension")
    def decide_extension(self, request: Request, pk: str | None = None) -> Response:
        complaint = self.get_object()
        data = self._valid(s.ExtensionDecisionSerializer, request)
        extension = DeadlineExtension.objects.filter(pk=data["extension_id"], complaint=complaint).first()
        if extension is None:
            raise Http404
        extension = services.decide_extension(extension, actor=request.user, approve=data["approve"],
                                              note=data["note"])
        return Response(s.ExtensionSerializer(extension).data)

    # --- reporter identity and assistance --------------------------------------------------------------------------

    @extend_schema(request=s.UnmaskSerializer, responses=s.MaskedReporterSerializer)
    @action(detail=True, methods=["post"], permission_action="unmask", required_scope="export")
    def unmask(self, request: Request, pk: str | None = None) -> Response:
        """The reporter's identity in clear, for a stated reason; recorded as a read in the audit log."""
        complaint = self.get_object()
        data = self._valid(s.UnmaskSerializer, request)
        plain = services.unmask_reporter(complaint, actor=request.user, reason=data["reason"])
        response = Response(s.MaskedReporterSerializer(plain).data)
        response["Cache-Control"] = "no-store, private"
        return response

    @extend_schema(request=None, responses=s.SuggestionSerializer)
    @action(detail=True, methods=["get"], permission_action="view")
    def suggestion(self, request: Request, pk: str | None = None) -> Response:
        """The classifier's suggested category and department (with confidence) and the catalogue's routing."""
        complaint = services.find_subject_candidate(services.suggest_classification(self.get_object()))
        category = complaint.category or complaint.suggested_category
        routed = route(category, complaint.region, kind_hint=complaint.suggested_kind_id)
        data = {
            "category": complaint.suggested_category,
            "department_kind": complaint.suggested_kind_id,
            "confidence": complaint.suggestion_confidence,
            "model_version": complaint.suggestion_model,
            "route": {
                "lead": {"code": routed.lead.code, "name": routed.lead.name} if routed.lead else None,
                "co_units": [{"code": o.code, "name": o.name} for o in routed.co_units],
                "rule": routed.rule.pk if routed.rule else None,
            },
        }
        return Response(s.SuggestionSerializer(data).data)

    @extend_schema(request=None, responses=s.DuplicateSerializer(many=True))
    @action(detail=True, methods=["get"], permission_action="view")
    def duplicates(self, request: Request, pk: str | None = None) -> Response:
        """Proposed duplicates and related tickets (并单建议), scoped to what the caller may see."""
        complaint = self.get_object()
        with transaction.atomic():
            services.propose_duplicates(complaint)
        # Every stored proposal (a dispatcher's earlier decisions included) whose candidate the caller may see.
        proposals = (DuplicateProposal.objects.filter(complaint=complaint,
                                                      candidate__in=Complaint.objects.visible_to(request.user, "view"))
                     .select_related("candidate").order_by("-score", "id"))
        data = [{"id": p.pk, "candidate": p.candidate.ticket_no, "score": p.score, "reasons": p.reasons,
                 "status": p.status} for p in proposals]
        return Response(s.DuplicateSerializer(data, many=True).data)

    @extend_schema(request=None, responses=dict)
    @action(detail=False, methods=["get"], permission_action="view", pagination_class=None, filterset_class=None)
    def stats(self, request: Request) -> Response:
        """Volumes by type, category, region, department and entity over time; on-time, closure and satisfaction
        rates; top entities and rising categories — over the caller's scope."""
        return Response(stats.compute(Complaint.objects.visible_to(request.user, "view"),
                                      months=int(request.query_params.get("months", 12) or 12)))

    def _valid(self, serializer_class: Any, request: Request) -> dict[str, Any]:
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


class CategoryViewSet(ScopedReadOnlyViewSet):
    """投诉举报分类 (the Open311 service list is the leaves of this tree)."""

    queryset = Category.objects.select_related("parent").filter(active=True)
    serializer_class = s.CategorySerializer
    scoped = False

    def get_model_permission(self, action: str) -> str | None:
        return "complaints.view_complaint" if action == "view" else None
