"""Serializers of the catalogue API. They validate shape only; every rule lives in ``jianguan.catalog.services``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jianguan.catalog import services
from jianguan.catalog.choices import AdministrativeLevel, BasisLevel, BasisStatus, SupervisionMethod
from jianguan.catalog.models import (
    BasisCitation,
    ImplementationItem,
    ImportBatch,
    ItemEvent,
    ItemVersion,
    LegalBasis,
    NationalItem,
    NationalMapping,
    SupervisionItem,
)
from jianguan.core.models import DepartmentKind, Organization

# --- reading --------------------------------------------------------------------------------------------------------


class LegalBasisSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = LegalBasis
        fields = ["id", "name", "level", "issuing_body", "document_number", "effective_on", "amended_on",
                  "repealed_on", "status", "note"]
        read_only_fields = ["id"]
        extra_kwargs = {"name": {"validators": []}}


class LegalBasisUpdateSerializer(LegalBasisSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, write_only=True,
                                   help_text="Why the register changes (e.g. the amendment's document number)")

    class Meta(LegalBasisSerializer.Meta):
        fields = [*LegalBasisSerializer.Meta.fields, "reason"]


class CitationSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    basis_name = serializers.CharField(source="basis.name", read_only=True)
    basis_level = serializers.CharField(source="basis.level", read_only=True)

    class Meta:
        model = BasisCitation
        fields = ["basis", "basis_name", "basis_level", "article", "clause", "text"]


class ItemVersionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    item_code = serializers.CharField(source="item.code", read_only=True)
    levels = serializers.ListField(child=serializers.ChoiceField(choices=AdministrativeLevel.choices),
                                   read_only=True)
    citations = CitationSerializer(many=True, read_only=True)
    created_by = serializers.StringRelatedField()
    submitted_by = serializers.StringRelatedField()
    reviewed_by = serializers.StringRelatedField()
    published_by = serializers.StringRelatedField()

    class Meta:
        model = ItemVersion
        fields = ["id", "item", "item_code", "number", "status", "based_on", "name", "measures", "targets",
                  "citations", "process", "result", "levels", "change_reason", "created_by", "created_at",
                  "updated_at", "submitted_by", "submitted_at", "reviewed_by", "reviewed_at", "review_comment",
                  "published_by", "published_at", "closed_at"]


class ItemVersionBriefSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = ItemVersion
        fields = ["id", "number", "status", "name", "updated_at", "published_at"]


class SupervisionItemSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    department_code = serializers.CharField(source="department_kind_id", read_only=True)
    department = serializers.CharField(source="department_kind.province_name", read_only=True)
    method_name = serializers.CharField(read_only=True)
    main = serializers.PrimaryKeyRelatedField(read_only=True)
    main_name = serializers.SerializerMethodField()
    current_version = ItemVersionBriefSerializer(read_only=True)
    latest_version = ItemVersionBriefSerializer(read_only=True)

    class Meta:
        model = SupervisionItem
        fields = ["id", "code", "main_code", "main", "main_name", "name", "department_code", "department", "method",
                  "method_name", "state", "current_version", "latest_version", "abolished_on", "abolition_reason",
                  "created_at", "updated_at"]

    def get_main_name(self, item: SupervisionItem) -> str | None:
        return item.main.name if item.main_id is not None and item.main is not None else None


class ItemEventSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    version = serializers.IntegerField(source="version.number", read_only=True, allow_null=True)
    changes = serializers.ListField(child=serializers.DictField(child=serializers.CharField()), read_only=True)

    class Meta:
        model = ItemEvent
        fields = ["id", "at", "action", "version", "actor_name", "comment", "changes"]


class FieldChangeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    field = serializers.CharField()
    label = serializers.CharField()
    before = serializers.CharField(allow_blank=True)
    after = serializers.CharField(allow_blank=True)
    changed = serializers.BooleanField()


class DiffSerializer(serializers.Serializer):  # type: ignore[type-arg]
    version = serializers.IntegerField()
    based_on = serializers.IntegerField(allow_null=True)
    changes = FieldChangeSerializer(many=True)


class ImplementationItemSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    item_code = serializers.CharField(source="item.code", read_only=True)
    item_name = serializers.CharField(source="item.name", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)

    class Meta:
        model = ImplementationItem
        fields = ["id", "code", "item", "item_code", "item_name", "region", "organization", "organization_name",
                  "level", "status", "handling_unit", "contact_phone", "place", "local_basis", "notes",
                  "withdrawn_on", "withdrawal_reason", "created_at", "updated_at"]
        read_only_fields = ["id", "code", "region", "level", "status", "withdrawn_on", "withdrawal_reason",
                            "created_at", "updated_at"]


class ImportBatchSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    errors = serializers.ListField(child=serializers.DictField(), read_only=True)

    class Meta:
        model = ImportBatch
        fields = ["id", "file_name", "sha256", "actor_name", "created_at", "dry_run", "publish", "status",
                  "rows_total", "created_count", "updated_count", "unchanged_count", "error_count", "errors",
                  "message"]


class NationalItemSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = NationalItem
        fields = ["id", "code", "name", "main_code", "department", "method", "basis", "edition", "active"]


class NationalMappingSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    item_code = serializers.CharField(source="item.code", read_only=True)
    national_code = serializers.CharField(source="national_item.code", read_only=True)

    class Meta:
        model = NationalMapping
        fields = ["id", "item", "item_code", "national_item", "national_code", "note", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"item": {"validators": []}}


class AlignmentReportSerializer(serializers.Serializer):  # type: ignore[type-arg]
    mapped = serializers.IntegerField()
    local_total = serializers.IntegerField()
    national_total = serializers.IntegerField()
    local_unmapped = SupervisionItemSerializer(many=True)
    national_unmapped = NationalItemSerializer(many=True)


# --- writing --------------------------------------------------------------------------------------------------------


class CitationInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    basis = serializers.PrimaryKeyRelatedField(queryset=LegalBasis.objects.all(), help_text="Legal basis id")
    article = serializers.CharField(required=False, allow_blank=True, max_length=50, default="")
    clause = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    text = serializers.CharField(required=False, allow_blank=True, default="")


class ContentSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The editable fields of a version."""

    name = serializers.CharField(max_length=200)
    measures = serializers.CharField(required=False, allow_blank=True, default="")
    targets = serializers.CharField(required=False, allow_blank=True, default="")
    process = serializers.CharField(required=False, allow_blank=True, default="")
    result = serializers.CharField(required=False, allow_blank=True, default="")
    levels = serializers.MultipleChoiceField(choices=AdministrativeLevel.choices, required=False, default=list)
    citations = CitationInputSerializer(many=True, required=False, default=list)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")

    def content(self) -> services.ItemContent:
        data = self.validated_data
        return services.ItemContent(
            name=data["name"], measures=data["measures"], targets=data["targets"], process=data["process"],
            result=data["result"], levels=tuple(data["levels"]),
            citations=tuple(services.CitationData(c["basis"], c["article"], c["clause"], c["text"])
                            for c in data["citations"]),
        )


class ItemCreateSerializer(ContentSerializer):
    department_code = serializers.SlugRelatedField(slug_field="code", queryset=DepartmentKind.objects.all(),
                                                   help_text="3-digit department code")
    method = serializers.ChoiceField(choices=SupervisionMethod.choices)


class VersionUpdateSerializer(ContentSerializer):
    expected_updated_at = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                                    help_text="updated_at as last read (optimistic lock)")


class CommentSerializer(serializers.Serializer):  # type: ignore[type-arg]
    comment = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class ReasonSerializer(serializers.Serializer):  # type: ignore[type-arg]
    reason = serializers.CharField(max_length=500)


class AbolishSerializer(serializers.Serializer):  # type: ignore[type-arg]
    reason = serializers.CharField(max_length=500)
    abolished_on = serializers.DateField()


class ReviseCitingSerializer(serializers.Serializer):  # type: ignore[type-arg]
    reason = serializers.CharField(max_length=500)
    items = serializers.ListField(child=serializers.IntegerField(), required=False, allow_null=True, default=None)
    replace_with = serializers.PrimaryKeyRelatedField(queryset=LegalBasis.objects.all(), required=False,
                                                      allow_null=True, default=None)
    submit = serializers.BooleanField(required=False, default=False, help_text="submit the drafts for review")


class RevisionOutcomeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    item = serializers.IntegerField(source="item.pk")
    item_code = serializers.CharField(source="item.code")
    version = serializers.IntegerField(source="version.pk", allow_null=True, default=None)
    outcome = serializers.CharField()
    message = serializers.CharField(allow_blank=True)


class ImplementationCreateSerializer(serializers.Serializer):  # type: ignore[type-arg]
    item = serializers.PrimaryKeyRelatedField(queryset=SupervisionItem.objects.all())
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    handling_unit = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    contact_phone = serializers.CharField(required=False, allow_blank=True, max_length=50, default="")
    place = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    local_basis = serializers.CharField(required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")

    def validate_organization(self, value: Organization) -> Organization:
        request = self.context.get("request")
        if not Organization.objects.in_scope_of(getattr(request, "user", None)).filter(pk=value.pk).exists():
            raise serializers.ValidationError("实施机构不存在或不在您的数据范围内。")
        return value


class ImplementationUpdateSerializer(serializers.Serializer):  # type: ignore[type-arg]
    handling_unit = serializers.CharField(required=False, allow_blank=True, max_length=100)
    contact_phone = serializers.CharField(required=False, allow_blank=True, max_length=50)
    place = serializers.CharField(required=False, allow_blank=True, max_length=200)
    local_basis = serializers.CharField(required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)


class ImportRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    file = serializers.FileField(help_text="xlsx spreadsheet (DOMAIN.md columns) or the JSON export")
    dry_run = serializers.BooleanField(required=False, default=False)
    publish = serializers.BooleanField(required=False, default=False)


class NationalLoadSerializer(serializers.Serializer):  # type: ignore[type-arg]
    file = serializers.FileField(help_text="national catalogue, xlsx or JSON")
    edition = serializers.CharField(required=False, allow_blank=True, max_length=40, default="")


class NationalLoadResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    edition = serializers.CharField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    retired = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField())


# --- the public catalogue -------------------------------------------------------------------------------------------


class PublicCitationSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField(source="basis.name")
    level = serializers.ChoiceField(source="basis.level", choices=BasisLevel.choices)
    status = serializers.ChoiceField(source="basis.status", choices=BasisStatus.choices)
    article = serializers.CharField()
    clause = serializers.CharField()
    text = serializers.CharField()


class PublicItemSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """An item of the public catalogue in its published version (never a draft)."""

    code = serializers.CharField()
    main_code = serializers.CharField()
    main_name = serializers.SerializerMethodField()
    sub_name = serializers.SerializerMethodField()
    department_code = serializers.CharField(source="department_kind_id")
    department = serializers.CharField(source="department_kind.province_name")
    method = serializers.CharField()
    method_name = serializers.CharField()
    version = serializers.IntegerField(source="current_version.number")
    published_at = serializers.DateTimeField(source="current_version.published_at")
    measures = serializers.CharField(source="current_version.measures")
    targets = serializers.CharField(source="current_version.targets")
    basis = PublicCitationSerializer(source="current_version.citations", many=True)
    process = serializers.CharField(source="current_version.process")
    result = serializers.CharField(source="current_version.result")
    levels = serializers.SerializerMethodField()

    def get_main_name(self, item: SupervisionItem) -> str:
        if item.main is not None and item.main.current_version is not None:
            return item.main.current_version.name
        return item.current_version.name if item.current_version else ""

    def get_sub_name(self, item: SupervisionItem) -> str | None:
        return item.current_version.name if item.main_id and item.current_version else None

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=AdministrativeLevel.choices)))
    def get_levels(self, item: SupervisionItem) -> list[str]:
        return item.current_version.levels if item.current_version else []
