"""Kernel models: where (Region), who (Organization, User, Role, ApiToken), master records (Subject,
EnforcementOfficer), and the mechanisms (AuditEntry, Job, OutboxEvent)."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, Permission
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jianguan.core.choices import (
    AuditAction,
    CompetenceField,
    JobStatus,
    RegionKind,
    RegionLevel,
    SubjectStatus,
    SubjectType,
)
from jianguan.core.fields import BlindIndex, EncryptedTextField
from jianguan.core.scope import ScopedQuerySet


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class AuditedModel(models.Model):
    """Opts a model into automatic before/after change logging (see ``jianguan.core.signals``)."""

    audit_exclude: ClassVar[tuple[str, ...]] = ("updated_at",)

    class Meta:
        abstract = True


class ScopedManager(models.Manager.from_queryset(ScopedQuerySet)):  # type: ignore[misc]
    pass


# --- Where


class Region(AuditedModel):
    """行政区划: a GB/T 2260 division. The 6-digit code is the key; its prefix gives the subtree."""

    code = models.CharField(_("code"), max_length=6, primary_key=True)
    name = models.CharField(_("name"), max_length=50)
    short_name = models.CharField(_("short name"), max_length=20)
    level = models.CharField(_("level"), max_length=10, choices=RegionLevel.choices)
    kind = models.CharField(_("kind"), max_length=12, choices=RegionKind.choices)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    edition = models.CharField(_("edition"), max_length=20, blank=True)
    active = models.BooleanField(_("active"), default=True)

    scope_region_field: ClassVar[str | None] = "code"
    scope_org_field: ClassVar[str | None] = None

    objects = ScopedManager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name

    @property
    def scope_prefix(self) -> str:
        """Code prefix shared by this region and every region below it."""
        if self.level == RegionLevel.PROVINCE:
            return self.code[:2]
        if self.level == RegionLevel.CITY:
            return self.code[:4]
        return self.code

    @property
    def full_name(self) -> str:
        if self.parent_id and self.level == RegionLevel.COUNTY and self.parent is not None:
            return f"{self.parent.name}{self.name}"
        return self.name


# --- Who


class DepartmentKind(models.Model):
    """部门类别: 市场监管, 生态环境 … with the stable 3-digit code used in catalogue item codes."""

    code = models.CharField(_("code"), max_length=3, primary_key=True)
    name = models.CharField(_("name"), max_length=50)
    province_name = models.CharField(_("province-level name"), max_length=60)
    short_name = models.CharField(_("short name"), max_length=20)
    en_name = models.CharField(_("English name"), max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = _("department kind")
        verbose_name_plural = _("department kinds")

    def __str__(self) -> str:
        return self.short_name


class Organization(AuditedModel, TimeStampedModel):
    """部门: one department at one region, e.g. 南京市市场监督管理局."""

    code = models.CharField(_("code"), max_length=9, unique=True, help_text=_("Region code + department kind code"))
    name = models.CharField(_("name"), max_length=100)
    kind = models.ForeignKey(DepartmentKind, on_delete=models.PROTECT, verbose_name=_("department kind"))
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("region"))
    uscc = models.CharField(_("unified social credit code"), max_length=18, blank=True, null=True, unique=True)
    active = models.BooleanField(_("active"), default=True)

    scope_region_field: ClassVar[str | None] = "region"
    scope_org_field: ClassVar[str | None] = "id"

    objects = ScopedManager()

    class Meta:
        ordering = ["region_id", "kind_id"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [
            models.UniqueConstraint(fields=["region", "kind"], name="core_organization_unique_region_kind"),
        ]

    def __str__(self) -> str:
        return self.name


class Role(AuditedModel):
    """角色: a named bundle of permissions. ``all_departments`` lifts the own-department restriction."""

    code = models.SlugField(_("code"), max_length=40, primary_key=True)
    name = models.CharField(_("name"), max_length=50)
    description = models.TextField(_("description"), blank=True)
    permissions = models.ManyToManyField(Permission, blank=True, verbose_name=_("permissions"))
    all_departments = models.BooleanField(_("sees all departments in its region"), default=False)
    mfa_required = models.BooleanField(_("two-factor login required"), default=False)
    builtin = models.BooleanField(_("built in"), default=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        permissions = [("manage_role", "Can edit role permissions")]

    def __str__(self) -> str:
        return self.name


class UserManager(DjangoUserManager["User"]):
    def get_queryset(self) -> ScopedQuerySet[User]:
        return ScopedQuerySet(self.model, using=self._db)

    def visible_to(self, user: Any, action: str = "view") -> ScopedQuerySet[User]:
        return self.get_queryset().visible_to(user, action)


class User(AuditedModel, AbstractUser):
    """An official, inspector, administrator or machine account, at one department of one region."""

    full_name = models.CharField(_("full name"), max_length=50, blank=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("region"))
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("department")
    )
    roles = models.ManyToManyField(Role, blank=True, verbose_name=_("roles"), related_name="users")
    phone = EncryptedTextField(_("mobile phone"), blank=True)
    is_machine = models.BooleanField(_("machine client"), default=False)
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True)
    failed_login_count = models.PositiveIntegerField(_("failed logins"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)

    audit_exclude: ClassVar[tuple[str, ...]] = (
        "last_login",
        "updated_at",
        "password",
        "failed_login_count",
        "locked_until",
        "password_changed_at",
    )

    scope_region_field: ClassVar[str | None] = "region"
    scope_org_field: ClassVar[str | None] = "organization"

    objects = UserManager()  # type: ignore[misc]

    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("unmask_user", "Can see users' personal data unmasked"),
            ("reset_password_user", "Can reset users' passwords and unlock them"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


class ApiToken(TimeStampedModel):
    """A scoped API token for a machine client or a user; only a hash of the secret is stored."""

    name = models.CharField(_("name"), max_length=100)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("account"))
    prefix = models.CharField(_("prefix"), max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(_("scopes"), default=list, help_text=_("Allowed actions, e.g. view, add, change"))
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, verbose_name=_("created by")
    )

    scope_region_field: ClassVar[str | None] = "user__region"
    scope_org_field: ClassVar[str | None] = "user__organization"

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now: Any = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now and self.user.is_active


# --- Master records


class IndustryCode(models.Model):
    """国民经济行业分类 GB/T 4754-2017: sections (letters), divisions (2 digits), groups (3 digits)."""

    code = models.CharField(_("code"), max_length=4, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("industry code")
        verbose_name_plural = _("industry codes")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Subject(AuditedModel, TimeStampedModel):
    """监管对象: the golden record of a supervised entity, keyed by its unified social credit code.

    Shared master data: visible to every department inside the viewer's region subtree.
    """

    # The indexes are declared in Meta (not with unique=/db_index= here): on PostgreSQL those would each add a
    # varchar_pattern_ops twin, and every index costs a write per row in the data centre's million-row loads.
    uscc = models.CharField(_("unified social credit code"), max_length=18, null=True, blank=True)
    name = models.CharField(_("name"), max_length=200)
    subject_type = models.CharField(_("type"), max_length=12, choices=SubjectType.choices)
    legal_representative = models.CharField(_("legal representative"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("region"), db_index=False)
    industry = models.ForeignKey(
        IndustryCode, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("industry"), db_index=False
    )
    registered_capital = models.DecimalField(
        _("registered capital (10k CNY)"), max_digits=16, decimal_places=4, null=True, blank=True
    )
    established_on = models.DateField(_("established on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=SubjectStatus.choices, default=SubjectStatus.ACTIVE)
    # The contact phone as the data centre matches records on it, as a keyed hash: rows without a credit code are
    # linked to this record by phone too, while the number itself stays in the source rows (lineage), not here.
    phone_index = models.CharField(_("phone match key"), max_length=64, blank=True, db_default="", editable=False)
    # Where the record came from when a bulk load created it from a single source row: the loading batch and row,
    # and the steps applied to each field as a code of the loader's own (opaque here: the data centre reads these as
    # the record's first lineage entry, see ``datacenter.models.LineageEntry``). Kept on the record itself, in 16
    # bytes, so that a load of a million new records writes a million narrow rows rather than a million records
    # plus a million lineage rows. Empty for records created any other way. No index: the loader notes the id range
    # it created, so a batch's records are found by primary key.
    origin_batch = models.BigIntegerField(_("created by batch"), null=True, blank=True, editable=False)
    origin_row = models.IntegerField(_("created from row"), null=True, blank=True, editable=False)
    origin_steps = models.IntegerField(_("steps at creation"), null=True, blank=True, editable=False)

    scope_region_field: ClassVar[str | None] = "region"
    scope_org_field: ClassVar[str | None] = None

    objects = ScopedManager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("supervised entity")
        verbose_name_plural = _("supervised entities")
        permissions = [("export_subject", "Can export supervised entities")]
        # What the application asks of master records, one index each (PostgreSQL; SQLite ignores the opclasses):
        # - the credit code: unique, looked up by equality (``uscc=``, ``uscc__in=``);
        # - the name: equality (complaints match a reported name inside a region); ``contains`` searches scan.
        #   Pattern ops: byte-wise comparison serves equality (and prefixes) as well, and a bulk load rebuilds it
        #   in two thirds of the time of the collation-aware default (0.68 s against 1.07 s for 1M names);
        # - the region: data scope and region filters are prefix queries (``region__code__startswith``, i.e.
        #   ``region_id::text LIKE '3201%'``), which outside the C locale only a pattern-ops index serves; it also
        #   serves equality (the PROTECT check when a region is deleted) and the type filter inside a region;
        # - the industry: prefix filter (``industry__code__startswith``) and equality (PROTECT on delete).
        constraints = [models.UniqueConstraint(fields=["uscc"], name="core_subject_unique_uscc")]
        indexes = [
            models.Index(fields=["name"], name="core_subject_name", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["region", "subject_type"], name="core_subject_region_scope",
                         opclasses=["varchar_pattern_ops", "varchar_pattern_ops"]),
            models.Index(fields=["industry"], name="core_subject_industry", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.name

    def personal_data_fields(self) -> tuple[str, ...]:
        """An individual business's owner name and address identify a person: masked on display and in audit."""
        return ("legal_representative", "address") if self.subject_type == SubjectType.INDIVIDUAL else ()

    @property
    def display_legal_representative(self) -> str:
        from jianguan.lib.masking import mask_name

        personal = "legal_representative" in self.personal_data_fields()
        return mask_name(self.legal_representative) if personal else self.legal_representative

    @property
    def display_address(self) -> str:
        from jianguan.lib.masking import mask_address

        return mask_address(self.address) if "address" in self.personal_data_fields() else self.address


class EnforcementOfficer(AuditedModel, TimeStampedModel):
    """执法人员: a law-enforcement officer with a certificate, at one department of one region."""

    name = models.CharField(_("name"), max_length=50)
    id_number = EncryptedTextField(_("ID number"))
    id_number_index = models.CharField(max_length=64, unique=True, editable=False)
    certificate_no = models.CharField(_("certificate number"), max_length=30, unique=True)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, verbose_name=_("department"))
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("region"))
    fields = models.JSONField(_("fields of competence"), default=list)
    phone = EncryptedTextField(_("mobile phone"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    sensitive_fields: ClassVar[tuple[str, ...]] = ("id_number", "phone")
    # create_officer/update_officer store the validated number and always hash that same string
    blind_index_columns: ClassVar[tuple[BlindIndex, ...]] = (
        BlindIndex("id_number_index", of="id_number", index_empty=True),
    )
    scope_region_field: ClassVar[str | None] = "region"
    scope_org_field: ClassVar[str | None] = "organization"

    objects = ScopedManager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("enforcement officer")
        verbose_name_plural = _("enforcement officers")
        permissions = [("unmask_enforcementofficer", "Can see officers' personal data unmasked")]

    def __str__(self) -> str:
        return self.name

    @property
    def field_labels(self) -> list[str]:
        labels = dict(CompetenceField.choices)
        return [str(labels.get(code, code)) for code in self.fields]


# --- Mechanisms


class AuditEntryQuerySet(ScopedQuerySet["AuditEntry"]):
    """Append-only: bulk update and delete are refused (the retention prune is the single exception)."""

    def update(self, **kwargs: Any) -> int:
        raise PermissionError("audit entries are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit entries are append-only")

    def in_scope_of(self, user: Any) -> ScopedQuerySet[AuditEntry]:
        """Province-level readers see every entry, including system and anonymous ones (no actor region)."""
        region = getattr(user, "region", None)
        if region is not None and region.level == RegionLevel.PROVINCE and user.is_authenticated:
            return self.all()
        return super().in_scope_of(user)


class AuditEntry(models.Model):
    """One hash-chained audit record. Never updated or deleted through the application.

    Written with a keyed MAC of its content (``entry_mac``); its place in the chain (``seq``, ``prev_hash``, ``hash``)
    is filled in after the writing transaction commits, by ``audit.seal_pending`` (ADR 0005).
    """

    seq = models.BigIntegerField(_("sequence"), unique=True, null=True, blank=True)
    timestamp = models.DateTimeField(_("time"), db_index=True)
    # no index: the browser filters by actor name, and nothing deletes through this key (DO_NOTHING)
    actor = models.ForeignKey(User, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+",
                              db_index=False)
    actor_name = models.CharField(_("actor"), max_length=150)
    actor_region = models.CharField(_("actor region"), max_length=6, blank=True)
    ip = models.CharField(_("from"), max_length=45, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=AuditAction.choices)  # eight values: no index
    event = models.CharField(_("event"), max_length=80, blank=True)  # one pattern-ops index in Meta
    object_type = models.CharField(_("object type"), max_length=60, blank=True)  # indexed in Meta (equality only)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    success = models.BooleanField(_("success"), default=True)
    request_id = models.CharField(_("request or job id"), max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)
    entry_mac = models.CharField(max_length=64, blank=True)
    nonce = models.CharField(max_length=32, blank=True, help_text="Random per entry, so that no two MACs are equal")
    algorithm = models.CharField(_("hash algorithm"), max_length=16)

    scope_region_field: ClassVar[str | None] = "actor_region"
    scope_org_field: ClassVar[str | None] = None

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="core_auditentry_pending"),
            models.Index(fields=["object_type", "object_id"], name="core_auditentry_object"),
            models.Index(fields=["action", "-id"], name="core_auditentry_action"),
            # The browser filters events by prefix (``event LIKE 'complaints.%'``), which only a pattern-ops index
            # serves, and it serves equality too: one index (PostgreSQL; SQLite ignores the opclasses) where
            # ``db_index`` made a plain one and its pattern-ops twin, both written for each entry and again when
            # it is sealed.
            models.Index(fields=["event"], name="core_auditentry_event", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [
            # A copy of an entry re-inserted as new carries the same MAC: refused, so it cannot be sealed.
            models.UniqueConstraint(fields=["entry_mac"], condition=~models.Q(nonce=""),
                                    name="core_auditentry_unique_mac"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq if self.seq is not None else '-'} {self.action} {self.object_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit entries are append-only")


class AuditAnchor(models.Model):
    """Where the chain resumes after a retention prune: the last pruned entry's sequence and hash."""

    pruned_through_seq = models.BigIntegerField()
    last_hash = models.CharField(max_length=64)
    pruned_at = models.DateTimeField(default=timezone.now)
    pruned_count = models.BigIntegerField()
    mac = models.CharField(max_length=64, default="")

    class Meta:
        ordering = ["-pruned_through_seq"]

    def __str__(self) -> str:
        return f"pruned through #{self.pruned_through_seq}"


class Job(models.Model):
    """A long-running piece of work (import, export, verification) with state, progress and a log."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=60)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    progress_done = models.BigIntegerField(_("done"), default=0)
    progress_total = models.BigIntegerField(_("total"), null=True, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, null=True)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, null=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    scope_region_field: ClassVar[str | None] = "region"
    scope_org_field: ClassVar[str | None] = "organization"

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("job")
        verbose_name_plural = _("jobs")

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return None
        return min(100, int(self.progress_done * 100 / self.progress_total))


class OutboxEvent(models.Model):
    """An event written in the publishing transaction and delivered after commit (at least once)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    topic = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True,
                                           help_text="After a failed delivery: not retried before this time")

    class Meta:
        ordering = ["created_at"]
        # Only the events still to deliver are ever looked up (by the drains, the sweep and ``outbox status``), so
        # one small partial index holds just those, in delivery order. An event's delivery then writes no index
        # entry but its key's, where indexes on ``topic`` (a plain one and its pattern-ops twin) and on
        # ``delivered_at`` took one each for every event at publication and again at delivery.
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(delivered_at__isnull=True),
                         name="core_outbox_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.id}"


class ProcessedEvent(models.Model):
    """Idempotency record: handler ``handler`` has processed event ``event_id``."""

    event_id = models.UUIDField()
    handler = models.CharField(max_length=200)
    processed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event_id", "handler"], name="core_processedevent_unique_handler"),
        ]

    def __str__(self) -> str:
        return f"{self.handler} {self.event_id}"


class ParameterValue(models.Model):
    """One version of a domain parameter (see ``jianguan.core.params``): append-only, effective-dated."""

    name = models.CharField(_("parameter"), max_length=80, db_index=True)
    value = models.JSONField(_("value"))
    version = models.PositiveIntegerField(_("version"))
    effective_from = models.DateTimeField(_("effective from"))
    author = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    reason = models.CharField(_("reason or legal basis"), max_length=500)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "-version"]
        verbose_name = _("parameter value")
        verbose_name_plural = _("parameter values")
        default_permissions = ("view", "add")
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="core_parametervalue_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
