"""投诉举报 data: work orders (工单) and what hangs off them, the category tree, the dispatch catalogue (派单目录), and
the classifier's artifacts. No workflow here: every state change goes through ``services.py``."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jianguan.complaints.choices import (
    AssignmentRole,
    AssignmentStatus,
    Channel,
    ComplaintKind,
    ComplaintStatus,
    ExtensionStatus,
    ProposalStatus,
    Rating,
    ReturnReason,
    Step,
    SubjectMatch,
    SupervisionKind,
    SupervisionStatus,
)
from jianguan.complaints.querysets import ComplaintChildQuerySet, ComplaintQuerySet
from jianguan.core.fields import BlindIndex, EncryptedTextField
from jianguan.core.models import AuditedModel, ScopedManager, TimeStampedModel


class Category(AuditedModel):
    """投诉举报分类: a maintained two-level tree (e.g. 食品安全 › 餐饮服务). ``code`` is stable; the Open311 service
    code of a leaf."""

    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=60)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("parent"))
    department_kind = models.ForeignKey("core.DepartmentKind", on_delete=models.PROTECT, null=True, blank=True,
                                        verbose_name=_("usual department kind"))
    keywords = models.CharField(_("keywords"), max_length=200, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    active = models.BooleanField(_("active"), default=True)

    scope_region_field: ClassVar[str | None] = None  # shared reference data
    scope_org_field: ClassVar[str | None] = None

    objects = ScopedManager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("complaint category")
        verbose_name_plural = _("complaint categories")

    def __str__(self) -> str:
        return self.name

    @property
    def full_name(self) -> str:
        if self.parent_id and self.parent is not None:
            return f"{self.parent.name} › {self.name}"
        return self.name


class DispatchRule(AuditedModel, TimeStampedModel):
    """派单目录: which department (by kind, at which level) handles a category in a region and its subtree.

    The most specific rule wins: the ticket's category before its parent, then the ticket's county before its city
    before the province. ``co_kinds`` lists the department kinds of co-units (协办单位).
    """

    class Level(models.TextChoices):
        COUNTY = "county", _("County")
        CITY = "city", _("City")
        PROVINCE = "province", _("Province")

    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="rules", verbose_name=_("category"))
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, verbose_name=_("region"))
    lead_kind = models.ForeignKey("core.DepartmentKind", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("lead department kind"))
    level = models.CharField(_("handling level"), max_length=10, choices=Level.choices, default=Level.COUNTY)
    co_kinds = models.JSONField(_("co-unit department kinds"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    scope_region_field: ClassVar[str | None] = "region"
    scope_org_field: ClassVar[str | None] = None

    objects = ScopedManager()

    class Meta:
        ordering = ["category__code", "region_id"]
        verbose_name = _("dispatch rule")
        verbose_name_plural = _("dispatch catalogue")
        constraints = [
            models.UniqueConstraint(fields=["category", "region"],
                                    name="complaints_dispatchrule_unique_category_region"),
        ]

    def __str__(self) -> str:
        return f"{self.category} @ {self.region_id} → {self.lead_kind_id}"


class Complaint(TimeStampedModel):
    """工单: one complaint, report, consultation, suggestion or request for help, from intake to rating.

    Belongs to its handling region and department (``handling_region``/``handling_org``). The reporter's identity is
    kept apart, encrypted, in :class:`Reporter`.
    """

    # Unique by constraint and indexed in Meta (not ``unique=``/``db_index=``), so PostgreSQL gets one index per
    # column instead of an extra pattern-matching twin that no query uses: every ticket insert maintains them all.
    ticket_no = models.CharField(_("ticket number"), max_length=24)
    filing_no = models.CharField(_("filing number"), max_length=24,
                                 help_text=_("The submission's number; both halves of a split filing share it."))
    idempotency_key = models.CharField(_("idempotency key"), max_length=160, null=True, blank=True)
    external_id = models.CharField(_("external id"), max_length=64, blank=True)
    split_from = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("split from"), db_index=False)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="merged_tickets", verbose_name=_("merged into"), db_index=False)

    kind = models.CharField(_("type"), max_length=16, choices=ComplaintKind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=12, choices=ComplaintStatus.choices,
                              default=ComplaintStatus.RECEIVED)
    title = models.CharField(_("title"), max_length=200)
    content = models.TextField(_("content"))
    occurred_on = models.DateField(_("occurred on"), null=True, blank=True)
    place_address = models.CharField(_("place of the matter"), max_length=300, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("place region"), db_index=False)  # see Meta.indexes

    category = models.ForeignKey(Category, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("category"), db_index=False)  # (category, submitted_at) below
    suggested_category = models.ForeignKey(Category, on_delete=models.SET_NULL, null=True, blank=True,
                                           related_name="+", verbose_name=_("suggested category"), db_index=False)
    suggested_kind = models.ForeignKey("core.DepartmentKind", on_delete=models.SET_NULL, null=True, blank=True,
                                       related_name="+", verbose_name=_("suggested department kind"),
                                       db_index=False)
    suggestion_confidence = models.FloatField(_("suggestion confidence"), null=True, blank=True)
    suggestion_model = models.PositiveIntegerField(_("classifier version"), null=True, blank=True)
    assisted_at = models.DateTimeField(_("aids prepared at"), null=True, blank=True,
                                       help_text=_("When a worker prepared the suggestion, candidate and duplicates"))

    subject = models.ForeignKey("core.Subject", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("entity concerned"), db_index=False)  # (subject, submitted_at) below
    subject_candidate = models.ForeignKey("core.Subject", on_delete=models.SET_NULL, null=True, blank=True,
                                          related_name="+", verbose_name=_("candidate entity"), db_index=False)
    subject_match = models.CharField(_("entity link"), max_length=10, choices=SubjectMatch.choices,
                                     default=SubjectMatch.NONE)
    subject_name = models.CharField(_("entity name as reported"), max_length=200, blank=True)
    subject_uscc = models.CharField(_("credit code as reported"), max_length=18, blank=True)
    subject_address = models.CharField(_("entity address as reported"), max_length=300, blank=True)

    handling_region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+",
                                        verbose_name=_("handling region"), db_index=False)  # see Meta.indexes
    handling_org = models.ForeignKey("core.Organization", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("handling department"))

    anonymous = models.BooleanField(_("anonymous"), default=False)
    tracking_code_hash = models.CharField(max_length=64, blank=True)

    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now, db_index=True)
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("signed off at"), null=True, blank=True)
    decision_accepted = models.BooleanField(_("accepted for handling"), null=True, blank=True)
    decision_ground = models.CharField(_("ground for not accepting"), max_length=20, blank=True)
    case_opened = models.BooleanField(_("case opened (立案)"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    reply = models.TextField(_("reply"), blank=True)
    result = models.TextField(_("handling result"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    rating = models.CharField(_("rating"), max_length=20, choices=Rating.choices, blank=True)
    rating_comment = models.CharField(_("rating comment"), max_length=300, blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)

    # The handling clock (frozen at the moment it starts: the parameter and its version are stored with it).
    clock_started_at = models.DateTimeField(_("clock started at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)  # indexed with the status (sweeps)
    due_days = models.PositiveSmallIntegerField(_("time limit (working days)"), null=True, blank=True)
    due_param = models.CharField(_("time-limit setting"), max_length=80, blank=True)
    due_param_version = models.PositiveIntegerField(_("setting version"), null=True, blank=True)
    remind_at = models.DateTimeField(_("reminder at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    overdue_supervised_at = models.DateTimeField(_("automatic supervision at"), null=True, blank=True)
    extension_days = models.PositiveSmallIntegerField(_("extension (working days)"), default=0)
    decision_due_at = models.DateTimeField(_("acceptance decision due at"), null=True, blank=True)
    decision_due_param_version = models.PositiveIntegerField(null=True, blank=True)
    notify_due_at = models.DateTimeField(_("reporter to be told by"), null=True, blank=True)
    reporter_told_at = models.DateTimeField(_("reporter told at"), null=True, blank=True)
    decision_supervised_at = models.DateTimeField(_("automatic supervision of the decision at"), null=True,
                                                  blank=True)
    notice_supervised_at = models.DateTimeField(_("automatic supervision of the notice at"), null=True, blank=True)

    scope_region_field: ClassVar[str | None] = "handling_region"
    scope_org_field: ClassVar[str | None] = "handling_org"

    objects = ComplaintQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        default_permissions = ("view", "add")
        permissions = [
            ("dispatch_complaint", "Can register, dispatch, close and follow up work orders (12345 centre)"),
            ("handle_complaint", "Can sign off, handle and reply to work orders (department)"),
            ("supervise_complaint", "Can supervise work orders and approve extensions"),
            ("unmask_complaint", "Can see the reporter's identity (with a reason, audited)"),
            ("export_complaint", "Can export work orders"),
            ("manage_complaint", "Can maintain categories, the dispatch catalogue and the classifier"),
        ]
        # Every index is written for each new ticket and again when the worker assists it, so the regions have
        # one each (PostgreSQL; SQLite ignores the opclasses): the data scope and region filters are prefix
        # queries (``handling_region_id LIKE '3201%'``), which only a pattern-ops index serves, and it serves
        # equality too; the handling region's (region, status) index covers it for the lists.
        indexes = [
            models.Index(fields=["handling_region"], name="complaints_handling_prefix",
                         opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["region"], name="complaints_place_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["status", "due_at"], name="complaints_status_due"),
            models.Index(fields=["handling_region", "status"], name="complaints_region_status"),
            models.Index(fields=["subject", "submitted_at"], name="complaints_subject_time"),
            # The duplicate search (并单): the tickets sharing a key with a new one, within the window.
            models.Index(fields=["category", "submitted_at"], name="complaints_category_time"),
            models.Index(fields=["subject_name", "submitted_at"], condition=~models.Q(subject_name=""),
                         name="complaints_subject_name_time"),
            models.Index(fields=["place_address", "submitted_at"], condition=~models.Q(place_address=""),
                         name="complaints_place_time"),
            models.Index(fields=["id"], condition=models.Q(assisted_at__isnull=True), name="complaints_unassisted"),
            models.Index(fields=["filing_no"], name="complaints_filing_no"),
            models.Index(fields=["subject_uscc"], name="complaints_subject_uscc"),
            # Sparse references: only the rows that have one are indexed.
            models.Index(fields=["merged_into"], condition=models.Q(merged_into__isnull=False),
                         name="complaints_merged_into"),
            models.Index(fields=["split_from"], condition=models.Q(split_from__isnull=False),
                         name="complaints_split_from"),
            models.Index(fields=["subject_candidate"], condition=models.Q(subject_candidate__isnull=False),
                         name="complaints_subject_candidate"),
            # What the deadline sweep still has to chase (a ticket leaves the index once decided or told).
            models.Index(fields=["decision_due_at"], name="complaints_decision_chase",
                         condition=models.Q(decision_due_at__isnull=False, decided_at__isnull=True,
                                            decision_supervised_at__isnull=True)),
            models.Index(fields=["notify_due_at"], name="complaints_notice_chase",
                         condition=models.Q(notify_due_at__isnull=False, reporter_told_at__isnull=True,
                                            notice_supervised_at__isnull=True)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["ticket_no"], name="complaints_complaint_unique_ticket_no"),
            models.UniqueConstraint(fields=["idempotency_key"], name="complaints_complaint_unique_idempotency_key"),
        ]

    def __str__(self) -> str:
        return self.ticket_no

    @property
    def is_open(self) -> bool:
        return self.status in (ComplaintStatus.RECEIVED, ComplaintStatus.REGISTERED, ComplaintStatus.DISPATCHED,
                               ComplaintStatus.HANDLING, ComplaintStatus.REPLIED)

    def is_overdue(self, now: object = None) -> bool:
        from jianguan.complaints.choices import CLOCK_STATUSES

        now = now or timezone.now()
        return bool(self.due_at and self.status in CLOCK_STATUSES and self.due_at < now)  # type: ignore[operator]


class Reporter(models.Model):
    """投诉举报人: who filed the ticket. Every identifying field is encrypted at rest (SM4-GCM where OpenSSL has it,
    else AES-256-GCM), bound to its table and column; only ``unmask_reporter`` shows it in clear, with an audited
    reason. ``phone_index`` is a keyed blind index for finding repeat filers without decrypting."""

    complaint = models.OneToOneField(Complaint, on_delete=models.CASCADE, primary_key=True, related_name="reporter")
    name = EncryptedTextField(_("name"), blank=True)
    phone = EncryptedTextField(_("phone"), blank=True)
    id_number = EncryptedTextField(_("ID number"), blank=True)
    address = EncryptedTextField(_("address"), blank=True)
    email = EncryptedTextField(_("email"), blank=True)
    phone_index = models.CharField(max_length=64, blank=True)  # indexed in Meta (equality only)

    sensitive_fields: ClassVar[tuple[str, ...]] = ("name", "phone", "id_number", "address", "email")
    # intake stores the cleaned phone and hashes that same string ("" without a phone): nothing to normalise again
    blind_index_columns: ClassVar[tuple[BlindIndex, ...]] = (BlindIndex("phone_index", of="phone"),)
    scope_region_field: ClassVar[str | None] = "complaint__handling_region"
    scope_org_field: ClassVar[str | None] = "complaint__handling_org"

    objects = ScopedManager()

    class Meta:
        verbose_name = _("reporter")
        verbose_name_plural = _("reporters")
        default_permissions = ()
        # exact matches only (repeat filers): a plain index, without the pattern-ops twin ``db_index`` adds
        indexes = [models.Index(fields=["phone_index"], name="complaints_reporter_phone")]

    def __str__(self) -> str:
        return f"reporter of {self.complaint_id}"

    @property
    def real_name(self) -> bool:
        return bool(self.name and self.phone)


class Attachment(models.Model):
    """A file sent with the ticket (photo, receipt, contract). Stored under MEDIA_ROOT; never shown publicly."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="complaints/%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=timezone.now)

    scope_region_field: ClassVar[str | None] = "complaint__handling_region"
    scope_org_field: ClassVar[str | None] = "complaint__handling_org"

    objects = ComplaintChildQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        default_permissions = ()

    def __str__(self) -> str:
        return self.name


class ComplaintEvent(models.Model):
    """One step of the timeline: who, when, what, with a note. ``public`` steps show on the tracking page (their
    note is the public text; internal notes stay internal)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events",
                                  db_index=False)  # (complaint, at) serves it
    step = models.CharField(_("step"), max_length=24, choices=Step.choices)
    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey("core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor_name = models.CharField(_("done by"), max_length=150, blank=True)
    organization = models.ForeignKey("core.Organization", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    note = models.TextField(_("note"), blank=True)
    details = models.JSONField(default=dict, blank=True)
    public = models.BooleanField(default=False)

    scope_region_field: ClassVar[str | None] = "complaint__handling_region"
    scope_org_field: ClassVar[str | None] = "complaint__handling_org"

    objects = ComplaintChildQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("timeline step")
        verbose_name_plural = _("timeline")
        default_permissions = ()
        indexes = [models.Index(fields=["complaint", "at"], name="complaints_event_at")]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.step}"


class Assignment(models.Model):
    """A department's part in a ticket: the lead unit (承办) or a co-unit (协办). Returned (退单) and withdrawn
    assignments stay for the record."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="assignments")
    organization = models.ForeignKey("core.Organization", on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("department"))
    role = models.CharField(_("role"), max_length=4, choices=AssignmentRole.choices)
    status = models.CharField(_("status"), max_length=10, choices=AssignmentStatus.choices,
                              default=AssignmentStatus.PENDING)
    active = models.BooleanField(default=True)
    assigned_at = models.DateTimeField(default=timezone.now)
    assigned_by = models.ForeignKey("core.User", on_delete=models.PROTECT, null=True, related_name="+")
    return_reason = models.CharField(_("return reason"), max_length=20, choices=ReturnReason.choices, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    scope_region_field: ClassVar[str | None] = "complaint__handling_region"
    scope_org_field: ClassVar[str | None] = "complaint__handling_org"

    objects = ComplaintChildQuerySet.as_manager()

    class Meta:
        ordering = ["assigned_at", "id"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["complaint", "organization"], condition=Q(active=True),
                                    name="complaints_assignment_unique_active_org"),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} → {self.organization_id} ({self.role})"


class Supervision(models.Model):
    """督办: a reminder, an automatic supervision when overdue, or a supervisor's instruction with a reply deadline.
    At most one reminder and one automatic supervision per handling cycle (``cycle`` = times reopened)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="supervisions")
    kind = models.CharField(_("kind"), max_length=10, choices=SupervisionKind.choices)
    cycle = models.PositiveSmallIntegerField(default=0)
    instructions = models.TextField(_("instructions"))
    reply_due_at = models.DateTimeField(_("answer due at"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey("core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=SupervisionStatus.choices,
                              default=SupervisionStatus.OPEN)
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey("core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    scope_region_field: ClassVar[str | None] = "complaint__handling_region"
    scope_org_field: ClassVar[str | None] = "complaint__handling_org"

    objects = ComplaintChildQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("supervision")
        verbose_name_plural = _("supervisions")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["complaint", "kind", "cycle"], condition=~Q(kind="manual"),
                                    name="complaints_supervision_unique_automatic"),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.kind}"


class DeadlineExtension(models.Model):
    """延期申请: the department asks, a supervisor decides; approval moves the due date."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="extensions")
    days = models.PositiveSmallIntegerField(_("working days"))
    reason = models.TextField(_("reason"))
    requested_at = models.DateTimeField(default=timezone.now)
    requested_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=ExtensionStatus.choices,
                              default=ExtensionStatus.PENDING)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey("core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decision_note = models.CharField(_("decision note"), max_length=500, blank=True)
    previous_due_at = models.DateTimeField(null=True, blank=True)
    new_due_at = models.DateTimeField(null=True, blank=True)

    scope_region_field: ClassVar[str | None] = "complaint__handling_region"
    scope_org_field: ClassVar[str | None] = "complaint__handling_org"

    objects = ComplaintChildQuerySet.as_manager()

    class Meta:
        ordering = ["requested_at", "id"]
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["complaint"], condition=Q(status="pending"),
                                    name="complaints_extension_one_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} +{self.days}"


class DuplicateProposal(models.Model):
    """并单建议: a possibly duplicate or related earlier ticket, with a score and the reasons."""

    # the unique (complaint, candidate) index serves look-ups by complaint: no second index on it
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="duplicate_proposals",
                                  db_index=False)
    candidate = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    reasons = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.PROPOSED)
    created_at = models.DateTimeField(default=timezone.now)

    scope_region_field: ClassVar[str | None] = "complaint__handling_region"
    scope_org_field: ClassVar[str | None] = "complaint__handling_org"

    objects = ComplaintChildQuerySet.as_manager()

    class Meta:
        ordering = ["-score", "id"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["complaint", "candidate"], name="complaints_duplicate_unique_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} ~ {self.candidate_id} ({self.score:.2f})"


class ClassifierModel(models.Model):
    """A trained category/department classifier: a versioned artifact file under VAR_DIR plus its figures."""

    version = models.PositiveIntegerField(unique=True)
    path = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    trained_on = models.PositiveIntegerField()
    held_out = models.PositiveIntegerField()
    category_accuracy = models.FloatField()
    department_accuracy = models.FloatField()
    corrections_used = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    scope_region_field: ClassVar[str | None] = None  # one artifact for the whole province
    scope_org_field: ClassVar[str | None] = None

    class Meta:
        ordering = ["-version"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"classifier v{self.version}"


class ClassificationFeedback(models.Model):
    """A handler's correction of the suggested category (kept and used, with extra weight, in retraining)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="+")
    suggested_category = models.ForeignKey(Category, on_delete=models.SET_NULL, null=True, related_name="+")
    chosen_category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    confidence = models.FloatField(null=True)
    model_version = models.PositiveIntegerField(null=True)
    actor = models.ForeignKey("core.User", on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    scope_region_field: ClassVar[str | None] = "complaint__handling_region"
    scope_org_field: ClassVar[str | None] = "complaint__handling_org"

    class Meta:
        ordering = ["-created_at"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.complaint_id}: {self.suggested_category_id} → {self.chosen_category_id}"
