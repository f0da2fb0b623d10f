"""API shapes for 投诉举报. Serializers validate shape only; the services decide."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import serializers

from jianguan.complaints.choices import (
    INTAKE_KINDS,
    Rating,
    RejectionGround,
    ReturnReason,
)
from jianguan.complaints.models import (
    Assignment,
    Category,
    Complaint,
    ComplaintEvent,
    DeadlineExtension,
    Supervision,
)
from jianguan.complaints.services import IntakeRecord
from jianguan.core.api.serializers import SharedFieldsSerializer


class IntakeSerializer(SharedFieldsSerializer):
    """One submission from the 12345 platform or a department system."""

    idempotency_key = serializers.CharField(required=False, allow_blank=True, max_length=120,
                                            help_text="Retries with the same key return the same tickets.")
    kind = serializers.ChoiceField(choices=[(k, k) for k in INTAKE_KINDS], label="intake kind",
                                   help_text="complaint, report, consultation, suggestion, help, or complaint_report "
                                             "(split into one complaint and one report)")
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    content = serializers.CharField(max_length=5000)
    region_code = serializers.CharField(required=False, allow_blank=True, max_length=6)
    place_address = serializers.CharField(required=False, allow_blank=True, max_length=300)
    occurred_on = serializers.DateField(required=False, allow_null=True)
    latitude = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    longitude = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    category_code = serializers.CharField(required=False, allow_blank=True, max_length=12)
    subject_uscc = serializers.CharField(required=False, allow_blank=True, max_length=18)
    subject_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    subject_address = serializers.CharField(required=False, allow_blank=True, max_length=300)
    reporter_name = serializers.CharField(required=False, allow_blank=True, max_length=50)
    reporter_phone = serializers.CharField(required=False, allow_blank=True, max_length=20)
    reporter_id_number = serializers.CharField(required=False, allow_blank=True, max_length=18)
    reporter_address = serializers.CharField(required=False, allow_blank=True, max_length=300)
    reporter_email = serializers.EmailField(required=False, allow_blank=True, max_length=100)
    anonymous = serializers.BooleanField(required=False, default=False)
    external_id = serializers.CharField(required=False, allow_blank=True, max_length=64)

    def record(self) -> IntakeRecord:
        data = dict(self.validated_data)
        data.pop("idempotency_key", None)
        return IntakeRecord(**{k: ("" if v is None and k not in ("occurred_on", "latitude", "longitude") else v)
                               for k, v in data.items()})


class BatchIntakeSerializer(serializers.Serializer):
    records = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=500)


class IntakeTicketSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ticket_no = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()


class IntakeResultSerializer(serializers.Serializer):
    filing_no = serializers.CharField()
    created = serializers.BooleanField()
    tickets = IntakeTicketSerializer(many=True)
    tracking_code = serializers.CharField(allow_null=True)


class BatchRecordResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.CharField(help_text="created, existing or error")
    result = IntakeResultSerializer(allow_null=True)
    error = serializers.DictField(allow_null=True)


class BatchResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    existing = serializers.IntegerField()
    errors = serializers.IntegerField()
    results = BatchRecordResultSerializer(many=True)


class CategoryBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["code", "name"]


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent.code", allow_null=True, default=None)
    department_kind = serializers.CharField(source="department_kind_id", allow_null=True)

    class Meta:
        model = Category
        fields = ["code", "name", "parent", "department_kind", "keywords", "description", "active"]


class OrgBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class ComplaintListSerializer(serializers.ModelSerializer):
    """A row of the list: no reporter fields at all."""

    kind = serializers.CharField(help_text="complaint, report, consultation, suggestion, help")
    status = serializers.CharField(help_text="received, registered, dispatched, handling, replied, closed, evaluated, "
                                             "merged, invalid")
    channel = serializers.CharField(help_text="portal, hotline, api, open311, staff")
    rating = serializers.CharField(help_text="satisfied, basically_satisfied, dissatisfied, or empty")
    category = CategoryBriefSerializer(allow_null=True)
    handling_org = OrgBriefSerializer(allow_null=True)
    region = serializers.CharField(source="region_id")
    handling_region = serializers.CharField(source="handling_region_id")
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Complaint
        fields = ["id", "ticket_no", "filing_no", "kind", "status", "channel", "title", "category", "region",
                  "handling_region", "handling_org", "subject_id", "subject_name", "subject_uscc", "submitted_at",
                  "due_at", "overdue", "rating", "reopen_count"]

    def get_overdue(self, obj: Complaint) -> bool:
        return obj.is_overdue(timezone.now())


class EventSerializer(serializers.ModelSerializer):
    step = serializers.CharField(help_text="timeline step code")

    class Meta:
        model = ComplaintEvent
        fields = ["id", "step", "at", "actor_name", "organization_id", "note", "details", "public"]


class AssignmentSerializer(serializers.ModelSerializer):
    organization = OrgBriefSerializer()
    role = serializers.CharField(help_text="lead or co")
    status = serializers.CharField(help_text="pending, accepted, returned, withdrawn")
    return_reason = serializers.CharField(help_text="退单 reason code, or empty")

    class Meta:
        model = Assignment
        fields = ["id", "organization", "role", "status", "active", "assigned_at", "return_reason", "note"]


class SupervisionSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(help_text="reminder, overdue or manual")
    status = serializers.CharField(help_text="open or answered")

    class Meta:
        model = Supervision
        fields = ["id", "kind", "cycle", "instructions", "reply_due_at", "created_at", "status", "answer",
                  "answered_at"]


class ExtensionSerializer(serializers.ModelSerializer):
    status = serializers.CharField(help_text="pending, approved or rejected")

    class Meta:
        model = DeadlineExtension
        fields = ["id", "days", "reason", "requested_at", "status", "decided_at", "decision_note", "previous_due_at",
                  "new_due_at"]


class MaskedReporterSerializer(serializers.Serializer):
    name = serializers.CharField()
    phone = serializers.CharField()
    id_number = serializers.CharField()
    address = serializers.CharField()
    email = serializers.CharField()


class ComplaintDetailSerializer(ComplaintListSerializer):
    """The full ticket: reporter masked; timeline, assignments, supervisions, extensions."""

    suggested_category = CategoryBriefSerializer(allow_null=True)
    reporter = serializers.SerializerMethodField()
    events = EventSerializer(many=True)
    assignments = AssignmentSerializer(many=True)
    supervisions = SupervisionSerializer(many=True)
    extensions = ExtensionSerializer(many=True)

    class Meta(ComplaintListSerializer.Meta):
        fields = [*ComplaintListSerializer.Meta.fields, "content", "place_address", "occurred_on", "latitude",
                  "longitude", "split_from_id", "merged_into_id", "suggested_category", "suggested_kind_id",
                  "suggestion_confidence", "suggestion_model", "subject_candidate_id", "subject_match",
                  "subject_address", "anonymous", "registered_at", "dispatched_at", "accepted_at",
                  "decision_accepted", "decision_ground", "case_opened", "decided_at", "replied_at", "reply", "result",
                  "closed_at", "rating_comment", "rated_at", "clock_started_at", "due_days", "due_param",
                  "due_param_version", "remind_at", "extension_days", "decision_due_at", "notify_due_at", "reporter",
                  "events", "assignments", "supervisions", "extensions"]

    subject_match = serializers.CharField(help_text="none, uscc, candidate, confirmed")

    def get_reporter(self, obj: Complaint) -> dict[str, str]:
        from jianguan.complaints.services import reporter_masked

        return reporter_masked(obj)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class AcceptSerializer(NoteSerializer):
    category_code = serializers.CharField(required=False, allow_blank=True)
    kind = serializers.CharField(required=False, allow_blank=True)


class ClassifySerializer(NoteSerializer):
    category_code = serializers.CharField()


class RejectSerializer(NoteSerializer):
    ground = serializers.ChoiceField(choices=RejectionGround.choices)


class MergeSerializer(NoteSerializer):
    into = serializers.CharField(help_text="ticket number or id of the ticket to merge into")


class DispatchSerializer(NoteSerializer):
    lead_org_code = serializers.CharField(required=False, allow_blank=True)
    co_org_codes = serializers.ListField(child=serializers.CharField(), required=False)


class ReturnSerializer(NoteSerializer):
    reason = serializers.ChoiceField(choices=ReturnReason.choices, help_text="退单 reason code")


class DecideSerializer(NoteSerializer):
    accepted = serializers.BooleanField()
    ground = serializers.CharField(required=False, allow_blank=True, default="")
    case_opened = serializers.BooleanField(required=False, allow_null=True, default=None)


class TellReporterSerializer(NoteSerializer):
    method = serializers.CharField(max_length=50, help_text="How the reporter was told: phone, letter, SMS…")


class ReplySerializer(serializers.Serializer):
    reply = serializers.CharField(max_length=5000)
    result = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class RateSerializer(NoteSerializer):
    rating = serializers.ChoiceField(choices=Rating.choices)


class SuperviseSerializer(serializers.Serializer):
    instructions = serializers.CharField(max_length=2000)
    reply_days = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=30)


class AnswerSupervisionSerializer(serializers.Serializer):
    supervision_id = serializers.IntegerField()
    answer = serializers.CharField(max_length=2000)


class ExtensionRequestSerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=60)
    reason = serializers.CharField(max_length=2000)


class ExtensionDecisionSerializer(NoteSerializer):
    extension_id = serializers.IntegerField()
    approve = serializers.BooleanField()


class UnmaskSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class SuggestionSerializer(serializers.Serializer):
    category = CategoryBriefSerializer(allow_null=True)
    department_kind = serializers.CharField(allow_null=True)
    confidence = serializers.FloatField(allow_null=True)
    model_version = serializers.IntegerField(allow_null=True)
    route = serializers.DictField()


class DuplicateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    candidate = serializers.CharField()
    score = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField(help_text="proposed, merged or dismissed")


def intake_payload(result: Any) -> dict[str, Any]:
    return {
        "filing_no": result.complaints[0].filing_no,
        "created": result.created,
        "tickets": [{"id": c.pk, "ticket_no": c.ticket_no, "kind": c.kind, "status": c.status}
                    for c in result.complaints],
        "tracking_code": result.tracking_code,
    }
