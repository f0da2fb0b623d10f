"""Serializers of the data centre's API: shapes only; the rules live in ``jianguan.datacenter.services``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jianguan.datacenter import personal
from jianguan.datacenter.choices import BatchKind, Channel, ConflictKind, FileFormat, Library, LinkMethod, SourceKind
from jianguan.datacenter.models import Batch, Conflict, EntityLink, LineageEntry, QuarantinedRow, Source
from jianguan.datacenter.pipeline.fields import LINEAGE_LABELS, STEP_LABELS, decode_steps
from jianguan.lib.masking import mask_phone


class SourceSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    source_kind = serializers.ChoiceField(source="kind", choices=SourceKind.choices, read_only=True)
    owner = serializers.CharField(source="owner.code", read_only=True)
    owner_name = serializers.CharField(source="owner.name", read_only=True)
    contact_phone = serializers.SerializerMethodField()

    class Meta:
        model = Source
        fields = ["id", "code", "name", "source_kind", "library", "channel", "file_format", "field_mapping", "options",
                  "schedule_minutes", "next_run_at", "watermark", "priority", "freshness_days", "contact_name",
                  "contact_phone", "owner", "owner_name", "region", "enabled", "created_at", "updated_at"]
        read_only_fields = fields

    def get_contact_phone(self, obj: Source) -> str:
        return mask_phone(obj.contact_phone)


class SourceWriteSerializer(serializers.Serializer):  # type: ignore[type-arg]
    code = serializers.SlugField(max_length=40)
    name = serializers.CharField(max_length=100)
    source_kind = serializers.ChoiceField(choices=SourceKind.choices)
    library = serializers.ChoiceField(choices=Library.choices, default=Library.ENTITIES)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.FILE)
    file_format = serializers.ChoiceField(choices=FileFormat.choices, required=False, allow_blank=True)
    field_mapping = serializers.DictField(child=serializers.CharField(), required=False)
    options = serializers.DictField(required=False)
    schedule_minutes = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    priority = serializers.IntegerField(min_value=0, max_value=1000, required=False)
    freshness_days = serializers.IntegerField(min_value=1, required=False)
    contact_name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    enabled = serializers.BooleanField(required=False)
    owner = serializers.IntegerField(help_text="owning department id")


class SourceUpdateSerializer(SourceWriteSerializer):
    code = None  # type: ignore[assignment]
    owner = None  # type: ignore[assignment]


class BatchSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    source_code = serializers.CharField(source="source.code", read_only=True)
    batch_kind = serializers.ChoiceField(source="kind", choices=BatchKind.choices, read_only=True)
    job = serializers.UUIDField(source="job_id", read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Batch
        fields = ["id", "source", "source_code", "batch_kind", "status", "job", "progress", "parent", "duplicate_of",
                  "file_name", "file_format", "content_hash", "idempotency_key", "encoding", "engine",
                  "watermark_from", "watermark_to", "rows_total", "rows_loaded", "rows_quarantined",
                  "rows_duplicate", "created_count", "updated_count", "unchanged_count", "linked_count",
                  "conflict_count", "message", "steps", "quality", "created_at", "started_at", "finished_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_progress(self, obj: Batch) -> dict[str, Any]:
        job = obj.job
        if job is None:
            return {"done": None, "total": None, "percent": 100 if obj.is_finished else None, "step": ""}
        return {"done": job.progress_done, "total": job.progress_total, "percent": job.percent, "step": job.message}


class PushSerializer(serializers.Serializer):  # type: ignore[type-arg]
    idempotency_key = serializers.CharField(max_length=100)
    records = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=10_000)


class PushResponseSerializer(serializers.Serializer):  # type: ignore[type-arg]
    batch = serializers.IntegerField()
    replayed = serializers.BooleanField()
    status = serializers.CharField()
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = serializers.ListField(child=serializers.DictField())


class QuarantinedRowSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A quarantined row; its personal values (``personal``) masked — ``unmask`` shows them, audited."""

    record = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField()
    corrected = serializers.SerializerMethodField()
    masked_fields = serializers.SerializerMethodField()

    class Meta:
        model = QuarantinedRow
        fields = ["id", "batch", "row_no", "record", "errors", "corrected", "masked_fields", "status", "corrected_at",
                  "rerun_batch"]
        read_only_fields = fields

    def _names(self, obj: QuarantinedRow) -> dict[str, str]:
        return personal.names_for_source(obj.batch.source)

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_record(self, obj: QuarantinedRow) -> dict[str, Any] | None:
        """The values as delivered, personal ones masked."""
        return personal.masked_values(personal.open_values(obj.record, personal.QUARANTINE_RECORD_AAD),
                                      self._names(obj))

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_corrected(self, obj: QuarantinedRow) -> dict[str, Any] | None:
        """The corrected values (null before a correction), personal ones masked."""
        return personal.masked_values(personal.open_values(obj.corrected, personal.QUARANTINE_CORRECTED_AAD),
                                      self._names(obj))

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_errors(self, obj: QuarantinedRow) -> list[dict[str, Any]]:
        """Each problem: field, label, code, Chinese message and the delivered value (masked when personal)."""
        return personal.masked_errors(personal.open_errors(obj.errors or []), self._names(obj))

    def get_masked_fields(self, obj: QuarantinedRow) -> list[str]:
        """The fields of this row's schema that are shown masked."""
        return sorted(self._names(obj))


class DatacenterUnmaskSerializer(serializers.Serializer):  # type: ignore[type-arg]
    reason = serializers.CharField(max_length=500, min_length=4)


class DatacenterUnmaskedValuesSerializer(serializers.Serializer):  # type: ignore[type-arg]
    values = serializers.DictField(child=serializers.CharField())


class CorrectionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    values = serializers.DictField(child=serializers.CharField(allow_blank=True))


class DatacenterReasonSerializer(serializers.Serializer):  # type: ignore[type-arg]
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class ResolveSerializer(serializers.Serializer):  # type: ignore[type-arg]
    apply = serializers.BooleanField()
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class EntityLinkSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    subject_name = serializers.CharField(source="subject.name", read_only=True)
    link_method = serializers.ChoiceField(source="method", choices=LinkMethod.choices, read_only=True)
    record = serializers.SerializerMethodField()

    class Meta:
        model = EntityLink
        fields = ["id", "subject", "subject_name", "batch", "row_no", "link_method", "match_weight",
                  "match_probability", "deciding_fields", "record", "status", "split_subject", "reviewed_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_record(self, obj: EntityLink) -> dict[str, Any] | None:
        """The linked row's standardised values, the phone masked (phone keys are hashes and stay)."""
        return personal.masked_values(personal.link_values(obj), personal.ENTITY_NAMES)


class ConflictSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    source_code = serializers.CharField(source="source.code", read_only=True)
    conflict_kind = serializers.ChoiceField(source="kind", choices=ConflictKind.choices, read_only=True)
    current_source_code = serializers.CharField(source="current_source.code", read_only=True, default=None)

    class Meta:
        model = Conflict
        fields = ["id", "subject", "field", "conflict_kind", "current_value", "incoming_value", "current_source",
                  "current_source_code", "source", "source_code", "batch", "row_no", "status", "resolved_at", "note"]
        read_only_fields = fields


class LineageSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    source_code = serializers.CharField(source="source.code", read_only=True)
    fields = serializers.SerializerMethodField(method_name="get_field_masks")  # get_fields is DRF's own
    steps = serializers.SerializerMethodField()

    class Meta:
        model = LineageEntry
        fields = ["id", "subject", "batch", "source", "source_code", "row_no", "action", "fields", "steps",
                  "duplicate_rows", "recorded_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_field_masks(self, obj: LineageEntry) -> dict[str, int]:
        """Per field this row set: the bit mask of the steps applied (``steps`` spells them out)."""
        return obj.fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_steps(self, obj: LineageEntry) -> dict[str, Any]:
        """Per field: its label and the steps applied, as codes and Chinese labels."""
        return {
            field: {"label": LINEAGE_LABELS.get(field, field),
                    "steps": [{"code": c, "label": STEP_LABELS.get(c, c)} for c in decode_steps(mask)]}
            for field, mask in obj.fields.items()
        }


class LineageStepSerializer(serializers.Serializer):  # type: ignore[type-arg]
    code = serializers.CharField()
    label = serializers.CharField()


class LineageOriginSerializer(serializers.Serializer):  # type: ignore[type-arg]
    lineage_id = serializers.IntegerField()
    batch = serializers.IntegerField()
    source = serializers.CharField()
    source_name = serializers.CharField()
    row = serializers.IntegerField()
    action = serializers.CharField()
    recorded_at = serializers.DateTimeField()
    delivered = serializers.CharField(allow_null=True)
    steps = LineageStepSerializer(many=True)


class FieldLineageSerializer(serializers.Serializer):  # type: ignore[type-arg]
    field = serializers.CharField()
    label = serializers.CharField()
    value = serializers.CharField()
    source = LineageOriginSerializer(allow_null=True)
    history = LineageOriginSerializer(many=True)


class SubjectLineageSerializer(serializers.Serializer):  # type: ignore[type-arg]
    subject = serializers.IntegerField()
    name = serializers.CharField()
    uscc = serializers.CharField(allow_null=True)
    fields = FieldLineageSerializer(many=True)


# --- Libraries --------------------------------------------------------------------------------------------------------


def library_serializer(model: type[Any]) -> type[serializers.ModelSerializer]:  # type: ignore[type-arg]
    """A read serializer for a library model; an ID number of a party is only ever shown masked."""
    from jianguan.lib.masking import mask_id_number

    excluded = [f for f in ("party_id_number", "party_id_index") if any(x.name == f for x in model._meta.fields)]

    class Meta:
        pass

    Meta.model = model  # type: ignore[attr-defined]
    Meta.exclude = excluded  # type: ignore[attr-defined]
    Meta.ref_name = f"Datacenter{model.__name__}"  # type: ignore[attr-defined]
    attrs: dict[str, Any] = {"Meta": Meta}
    if excluded:
        attrs["party_id_masked"] = serializers.CharField(source="party_id_number", read_only=True)

        def to_representation(self: Any, instance: Any) -> Any:
            data = serializers.ModelSerializer.to_representation(self, instance)
            data["party_id_masked"] = mask_id_number(instance.party_id_number)
            return data

        attrs["to_representation"] = to_representation
    return type(f"{model.__name__}Serializer", (serializers.ModelSerializer,), attrs)


class KnowledgeHitSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    doc_no = serializers.CharField()
    kind = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    matched = serializers.IntegerField()
    of = serializers.IntegerField()
    score = serializers.FloatField()
    excerpt = serializers.CharField()
