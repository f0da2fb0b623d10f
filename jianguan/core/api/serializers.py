"""Serializers for the kernel's API. They validate shape only: business rules live in ``jianguan.core.services``.

FK inputs are limited to the caller's data scope (NetBox's ``restrict_form_fields``): an id outside the scope reads
as "does not exist", exactly like the 404 of the detail endpoints. Personal data (ID numbers, phone numbers) is
masked in every representation; plaintext comes only from the audited ``unmask`` action.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from django.contrib.auth.models import Permission
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jianguan.core.choices import CompetenceField
from jianguan.core.models import (
    AuditEntry,
    DepartmentKind,
    EnforcementOfficer,
    IndustryCode,
    Job,
    Organization,
    Region,
    Role,
    Subject,
    User,
)
from jianguan.lib.masking import mask_id_number, mask_phone

# --- Hot-path input -----------------------------------------------------------------------------------------------


class SharedFieldsSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """An input serializer whose fields are built once per class, not deep-copied for every instance.

    DRF deep-copies every declared field (and re-creates its validators) each time a serializer is instantiated:
    for a twenty-field intake record that is more CPU than the rest of the validation. The fields of a flat input
    record do not depend on the instance or its context, so one bound set can serve every request; validation
    itself does not change a field. Only plain fields are allowed (no nested serializers, relations or
    context-dependent defaults), checked when the fields are first built.
    """

    _shared: ClassVar[dict[type, Any]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    @property
    def fields(self) -> Any:  # type: ignore[override]
        cls = type(self)
        fields = SharedFieldsSerializer._shared.get(cls)
        if fields is None:
            with SharedFieldsSerializer._shared_lock:
                fields = SharedFieldsSerializer._shared.get(cls)
                if fields is None:
                    fields = cls._build_shared_fields()
                    SharedFieldsSerializer._shared[cls] = fields
        return fields

    @classmethod
    def _build_shared_fields(cls) -> Any:
        template = cls.__new__(cls)
        serializers.Serializer.__init__(template)
        fields = serializers.BindingDict(template)
        for name, field in template.get_fields().items():
            default = getattr(field, "default", serializers.empty)
            if isinstance(field, serializers.BaseSerializer | serializers.RelatedField | serializers.ManyRelatedField) \
                    or getattr(default, "requires_context", False):
                raise TypeError(f"{cls.__name__}.{name}: only plain fields can be shared between requests")
            fields[name] = field
            _ = field.validators  # built now, not lazily by two requests at once
        return fields


# --- Fields ------------------------------------------------------------------------------------------------------


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """An FK input whose choices are the rows inside the requesting user's data scope."""

    def get_queryset(self) -> Any:
        queryset = super().get_queryset()
        request = self.context.get("request")
        return queryset.in_scope_of(getattr(request, "user", None))


class MaskedCharField(serializers.CharField):
    """Accepts plaintext, always represents the masked value."""

    def __init__(self, *, mask: Any, **kwargs: Any) -> None:
        self.mask = mask
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str:
        return str(self.mask(value or ""))


@extend_schema_field(OpenApiTypes.STR)
class PermissionNameField(serializers.RelatedField):  # type: ignore[type-arg]
    """A Django permission as ``app_label.codename`` (the string ``user.has_perm`` takes)."""

    default_error_messages = {
        "does_not_exist": "权限“{value}”不存在。",
        "invalid": "权限应写作 app_label.codename。",
    }

    def to_representation(self, value: Permission) -> str:
        return f"{value.content_type.app_label}.{value.codename}"

    def to_internal_value(self, data: Any) -> Permission:
        if not isinstance(data, str) or data.count(".") != 1:
            self.fail("invalid")
        app_label, codename = data.split(".")
        try:
            return self.get_queryset().get(content_type__app_label=app_label, codename=codename)  # type: ignore[no-any-return]
        except Permission.DoesNotExist:
            self.fail("does_not_exist", value=data)


# --- Brief (nested) serializers --------------------------------------------------------------------------------------


class RegionBriefSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Region
        fields = ["code", "name", "level"]


class OrganizationBriefSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Organization
        fields = ["id", "code", "name"]


class RoleBriefSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Role
        fields = ["code", "name"]


# --- Me --------------------------------------------------------------------------------------------------------------


class MeTokenSerializer(serializers.Serializer):  # type: ignore[type-arg]
    authenticated = serializers.BooleanField(help_text="Whether this request was authenticated by an API token")
    prefix = serializers.CharField(allow_null=True)
    scopes = serializers.ListField(child=serializers.CharField(), allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)


class MeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()
    roles = RoleBriefSerializer(many=True)
    region = RegionBriefSerializer(allow_null=True)
    department = OrganizationBriefSerializer(allow_null=True)
    permissions = serializers.ListField(child=serializers.CharField())
    token = MeTokenSerializer()


# --- Reference tables ----------------------------------------------------------------------------------------------


class RegionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    parent = serializers.CharField(source="parent_id", allow_null=True, read_only=True)

    class Meta:
        model = Region
        fields = ["code", "name", "short_name", "level", "kind", "parent", "edition", "active"]
        read_only_fields = fields


class DepartmentKindSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = DepartmentKind
        fields = ["code", "name", "province_name", "short_name", "en_name"]
        read_only_fields = fields


# --- Organisations -------------------------------------------------------------------------------------------------


class OrganizationSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """Representation and create input: a department is placed at a region (code) and a kind (code)."""

    region = ScopedPrimaryKeyRelatedField(queryset=Region.objects.all(), help_text="Region code (GB/T 2260)")
    region_name = serializers.CharField(source="region.name", read_only=True)
    kind = serializers.PrimaryKeyRelatedField(queryset=DepartmentKind.objects.all(), help_text="Department kind code")
    kind_name = serializers.CharField(source="kind.short_name", read_only=True)

    class Meta:
        model = Organization
        fields = [
            "id",
            "code",
            "name",
            "region",
            "region_name",
            "kind",
            "kind_name",
            "uscc",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "code", "active", "created_at", "updated_at"]
        extra_kwargs = {
            "name": {"required": False, "help_text": "Defaults to the region's name + the kind's name"},
            "uscc": {"validators": []},
        }
        validators: list[Any] = []  # uniqueness is the service's business (organization.exists)


class OrganizationUpdateSerializer(OrganizationSerializer):
    """Update input: name, USCC and active; a department never moves to another region or kind."""

    region = serializers.CharField(source="region_id", read_only=True)  # type: ignore[assignment]
    kind = serializers.CharField(source="kind_id", read_only=True)  # type: ignore[assignment]

    class Meta(OrganizationSerializer.Meta):
        read_only_fields = ["id", "code", "created_at", "updated_at"]
        extra_kwargs = {"uscc": {"validators": []}}


# --- Users and roles -----------------------------------------------------------------------------------------------


class UserSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """Representation and update input. The phone number is masked."""

    region = serializers.CharField(source="region_id", read_only=True, allow_null=True)
    organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all(), help_text="Department id")
    organization_code = serializers.CharField(source="organization.code", read_only=True, allow_null=True)
    roles = serializers.PrimaryKeyRelatedField(queryset=Role.objects.all(), many=True, help_text="Role codes")
    phone = MaskedCharField(mask=mask_phone, required=False, allow_blank=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "full_name",
            "region",
            "organization",
            "organization_code",
            "roles",
            "phone",
            "is_active",
            "is_machine",
            "last_login",
            "date_joined",
        ]
        read_only_fields = ["id", "username", "is_machine", "last_login", "date_joined"]


class UserCreateSerializer(serializers.Serializer):  # type: ignore[type-arg]
    username = serializers.CharField(max_length=150)
    full_name = serializers.CharField(max_length=50)
    region = ScopedPrimaryKeyRelatedField(queryset=Region.objects.all(), help_text="Region code")
    organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all(), help_text="Department id")
    roles = serializers.PrimaryKeyRelatedField(
        queryset=Role.objects.all(), many=True, required=False, help_text="Role codes"
    )
    phone = serializers.CharField(required=False, allow_blank=True, default="")
    password = serializers.CharField(
        required=False, write_only=True, style={"input_type": "password"}, help_text="Leave out to generate one"
    )
    is_machine = serializers.BooleanField(required=False, default=False)


class UserCreatedSerializer(UserSerializer):
    initial_password = serializers.CharField(read_only=True, help_text="Shown once; must be changed at first login")

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "initial_password"]


class PasswordResetSerializer(serializers.Serializer):  # type: ignore[type-arg]
    temporary_password = serializers.CharField(read_only=True, help_text="Shown once; must be changed at login")


class RoleSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    permissions = PermissionNameField(
        many=True,
        queryset=Permission.objects.select_related("content_type"),
        help_text="Permission names as app_label.codename",
    )

    class Meta:
        model = Role
        fields = ["code", "name", "description", "permissions", "all_departments", "mfa_required", "builtin"]
        read_only_fields = ["code", "name", "description", "mfa_required", "builtin"]


# --- Master records ------------------------------------------------------------------------------------------------


class SubjectSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    region = ScopedPrimaryKeyRelatedField(queryset=Region.objects.all(), help_text="Region code (GB/T 2260)")
    region_name = serializers.CharField(source="region.name", read_only=True)
    industry = serializers.PrimaryKeyRelatedField(
        queryset=IndustryCode.objects.all(), required=False, allow_null=True, help_text="GB/T 4754 industry code"
    )

    class Meta:
        model = Subject
        fields = [
            "id",
            "uscc",
            "name",
            "subject_type",
            "legal_representative",
            "address",
            "region",
            "region_name",
            "industry",
            "registered_capital",
            "established_on",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"uscc": {"validators": []}}

    def to_representation(self, instance: Subject) -> dict[str, Any]:
        """An individual business's owner name and address are personal data: always shown masked."""
        data: dict[str, Any] = super().to_representation(instance)
        data["legal_representative"] = instance.display_legal_representative
        data["address"] = instance.display_address
        return data


class EnforcementOfficerSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """ID number and phone are accepted in clear and always shown masked."""

    id_number = MaskedCharField(mask=mask_id_number, max_length=18, help_text="Shown masked; see the unmask action")
    phone = MaskedCharField(mask=mask_phone, required=False, allow_blank=True, help_text="Shown masked")
    organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all(), help_text="Department id")
    organization_code = serializers.CharField(source="organization.code", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    region = serializers.CharField(source="region_id", read_only=True)

    class Meta:
        model = EnforcementOfficer
        fields = [
            "id",
            "name",
            "id_number",
            "certificate_no",
            "organization",
            "organization_code",
            "organization_name",
            "region",
            "fields",
            "phone",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"certificate_no": {"validators": []}}

    def get_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        fields = super().get_fields()
        # Declared here: a class attribute named ``fields`` would shadow ``Serializer.fields``.
        fields["fields"] = serializers.ListField(
            child=serializers.ChoiceField(choices=CompetenceField.choices),
            required=False,
            help_text="Fields of competence",
        )
        return fields


class UnmaskRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    reason = serializers.CharField(max_length=500, help_text="Why the plaintext is needed (audited)")


class UnmaskedOfficerSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id_number = serializers.CharField()
    phone = serializers.CharField()


# --- Jobs and audit ------------------------------------------------------------------------------------------------


class JobSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True)
    errors = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "params",
            "status",
            "progress_done",
            "progress_total",
            "percent",
            "message",
            "result",
            "errors",
            "created_by",
            "region",
            "organization",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_errors(self, job: Job) -> list[dict[str, Any]]:
        """Problems reported by the runner; stack traces stay on the server."""
        return [
            {k: v for k, v in item.items() if k != "trace"} if isinstance(item, dict) else item
            for item in job.errors or []
        ]


class JobCreateSerializer(serializers.Serializer):  # type: ignore[type-arg]
    kind = serializers.CharField(max_length=60, help_text="One of the kinds listed at jobs/kinds/")
    params = serializers.DictField(required=False, default=dict)


class JobKindSerializer(serializers.Serializer):  # type: ignore[type-arg]
    kind = serializers.CharField()
    label = serializers.CharField()


class AuditEntrySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "seq",
            "timestamp",
            "actor",
            "actor_name",
            "actor_region",
            "ip",
            "action",
            "event",
            "object_type",
            "object_id",
            "object_repr",
            "before",
            "after",
            "details",
            "reason",
            "success",
            "request_id",
            "prev_hash",
            "entry_mac",
            "hash",
            "algorithm",
        ]
        read_only_fields = fields
