"""The data centre's libraries besides the entity library (whose master records are ``core.Subject``).

* 目录清单库 — :class:`CatalogEntry`, :class:`ImplementationEntry`, fed by the catalogue's events;
* 执法人员信息库 — ``core.EnforcementOfficer`` itself (filled through ``libraries.OFFICERS``);
* 监管行为信息库 — :class:`AdministrativeLicense`, :class:`AdministrativeInspection`,
  :class:`AdministrativePenalty`, :class:`AdministrativeCoercion` (fields of DOMAIN.md §2, each citing the 14-digit
  item code);
* 监管投诉举报信息库 — :class:`ComplaintRecord`, fed by ``complaints.*`` events;
* 信用信息库 — :class:`CreditRecord`; 互联网及第三方信息库 — :class:`InternetRecord`;
* 监管知识库 — :class:`KnowledgeDocument` with the inverted index :class:`KnowledgeTerm` for Chinese full-text search.

Every record delivered through a batch carries its provenance (``batch``, ``row_no``).
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jianguan.core.fields import BlindIndex, EncryptedTextField
from jianguan.core.models import ScopedManager, TimeStampedModel
from jianguan.datacenter.choices import (
    CatalogEntryStatus,
    CreditKind,
    KnowledgeKind,
    KnowledgeStatus,
    PartyNature,
)


class Provenance(models.Model):
    """Which batch and row delivered a library record (过程可追溯)."""

    batch = models.ForeignKey("datacenter.Batch", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    row_no = models.PositiveIntegerField(_("row"), null=True, blank=True)

    class Meta:
        abstract = True


# --- 目录清单库 ------------------------------------------------------------------------------------------------------


class CatalogEntry(TimeStampedModel):
    """目录清单库: the published version of a supervision item, as announced by the catalogue (province-wide)."""

    item_code = models.CharField(_("item code"), max_length=14, unique=True)
    main_code = models.CharField(_("main item code"), max_length=11, db_index=True)
    catalog_item_id = models.BigIntegerField(_("catalogue item id"))
    name = models.CharField(_("name"), max_length=300)
    department_code = models.CharField(_("department code"), max_length=3)
    method = models.CharField(_("supervision method"), max_length=20)
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=10, choices=CatalogEntryStatus.choices,
                              default=CatalogEntryStatus.PUBLISHED)
    abolished_on = models.DateField(_("abolished on"), null=True, blank=True)
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+", default="320000")
    last_event = models.UUIDField(null=True, blank=True)

    # The catalogue is one list for the whole province: everyone with the permission sees all of it.
    scope_region_field: ClassVar[str | None] = None
    scope_org_field: ClassVar[str | None] = None

    objects = ScopedManager()

    class Meta:
        ordering = ["item_code"]
        verbose_name = _("catalogue entry")
        verbose_name_plural = _("catalogue entries")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.item_code} {self.name}"


class ImplementationEntry(TimeStampedModel):
    """目录清单库: an implementation list (检查实施清单) of an agency, as announced by the catalogue."""

    code = models.CharField(_("implementation code"), max_length=80, unique=True)
    catalog_implementation_id = models.BigIntegerField(_("catalogue implementation id"))
    item_code = models.CharField(_("item code"), max_length=14, db_index=True)
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey("core.Organization", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    status = models.CharField(_("status"), max_length=20)
    last_event = models.UUIDField(null=True, blank=True)

    scope_region_field: ClassVar[str | None] = "region"
    scope_org_field: ClassVar[str | None] = None

    objects = ScopedManager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("implementation entry")
        verbose_name_plural = _("implementation entries")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return self.code


# --- 监管行为信息库 --------------------------------------------------------------------------------------------------


class BehaviourRecord(Provenance, TimeStampedModel):
    """Fields shared by every 监管行为 record (DOMAIN.md §2): the item it cites, who acted, on whom, where."""

    item_code = models.CharField(_("item code"), max_length=14, db_index=True,
                                 help_text=_("监管事项目录编码, 14 digits"))
    implementation_code = models.CharField(_("implementation list code"), max_length=800, blank=True)
    behaviour_no = models.CharField(_("behaviour number"), max_length=50, unique=True)
    behaviour_name = models.CharField(_("behaviour name"), max_length=500)
    agency_name = models.CharField(_("implementing agency"), max_length=100)
    agency_code = models.CharField(_("implementing agency code"), max_length=20, blank=True)
    entrusted_name = models.CharField(_("entrusted department"), max_length=100, blank=True)
    entrusted_code = models.CharField(_("entrusted department code"), max_length=20, blank=True)
    object_type = models.CharField(_("supervised object type"), max_length=20, blank=True)
    object_name = models.CharField(_("supervised object"), max_length=200, blank=True)
    party_name = models.CharField(_("party"), max_length=200)
    party_nature = models.CharField(_("party nature"), max_length=20, choices=PartyNature.choices)
    credential_type = models.CharField(_("credential type"), max_length=20)
    # 行政相对人编码: a credit code (kept in clear) or an ID number (personal data: encrypted, blind index).
    party_uscc = models.CharField(_("party credit code"), max_length=18, blank=True, db_index=True)
    party_id_number = EncryptedTextField(_("party ID number"), blank=True)
    party_id_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    subject = models.ForeignKey("core.Subject", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    registered_address = models.CharField(_("registered address"), max_length=400, blank=True)
    business_address = models.CharField(_("business address"), max_length=400, blank=True)
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey("core.Organization", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("implementing department"))
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    reporter = models.CharField(_("reported by"), max_length=50, blank=True)

    sensitive_fields: ClassVar[tuple[str, ...]] = ("party_id_number",)
    # the ID number is validated before it is stored and hashed as it is (``libraries.py``); ``jianguan keys
    # rotate`` recomputes the index from it under the active key
    blind_index_columns: ClassVar[tuple[BlindIndex, ...]] = (BlindIndex("party_id_index", of="party_id_number"),)
    scope_region_field: ClassVar[str | None] = "region"
    scope_org_field: ClassVar[str | None] = "organization"

    objects = ScopedManager()

    class Meta:
        abstract = True
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.behaviour_no} {self.behaviour_name}"


class AdministrativeLicense(BehaviourRecord):
    """行政许可."""

    license_no = models.CharField(_("licence number"), max_length=100, blank=True)
    license_kind = models.CharField(_("licence kind"), max_length=50, blank=True)
    content = models.TextField(_("licensed content"), blank=True)
    decided_on = models.DateField(_("decided on"))
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta(BehaviourRecord.Meta):
        verbose_name = _("administrative licence")
        verbose_name_plural = _("administrative licences")


class AdministrativeInspection(BehaviourRecord):
    """行政检查."""

    plan_id = models.CharField(_("random-inspection plan"), max_length=50, blank=True)
    inspection_form = models.CharField(_("inspection form"), max_length=20)
    inspection_category = models.CharField(_("inspection category"), max_length=20)
    inspection_manner = models.CharField(_("inspection manner"), max_length=20, blank=True)
    inspection_result = models.CharField(_("inspection result"), max_length=20)
    inspected_at = models.DateTimeField(_("inspected at"))
    inspectors = models.JSONField(_("inspectors"), default=list)
    certificate_nos = models.JSONField(_("enforcement certificate numbers"), default=list, blank=True)

    class Meta(BehaviourRecord.Meta):
        verbose_name = _("administrative inspection")
        verbose_name_plural = _("administrative inspections")


class AdministrativePenalty(BehaviourRecord):
    """行政处罚."""

    case_source = models.CharField(_("case source"), max_length=20, blank=True)
    inspection_no = models.CharField(_("inspection behaviour number"), max_length=50)
    facts = models.TextField(_("illegal facts"), blank=True)
    basis = models.TextField(_("penalty basis"), blank=True)
    procedure = models.CharField(_("procedure"), max_length=10, blank=True)
    hearing = models.BooleanField(_("hearing held"), default=False)
    filed_at = models.DateTimeField(_("case filed at"), null=True, blank=True)
    criminal = models.BooleanField(_("criminal case"), default=False)
    major = models.BooleanField(_("major case"), default=False)
    legal_review = models.BooleanField(_("legal review"), default=False)
    legal_review_on = models.DateField(_("legal review on"), null=True, blank=True)
    legal_review_opinion = models.TextField(_("legal review opinion"), blank=True)
    collective = models.BooleanField(_("collective discussion"), default=False)
    collective_on = models.DateField(_("collective discussion on"), null=True, blank=True)
    collective_conclusion = models.TextField(_("collective discussion conclusion"), blank=True)
    decision_no = models.CharField(_("decision document number"), max_length=100)
    decided_on = models.DateField(_("decided on"))
    penalty_kind = models.CharField(_("penalty kind"), max_length=50)
    fine_amount = models.DecimalField(_("fine (CNY)"), max_digits=16, decimal_places=2, null=True, blank=True)
    penalty_result = models.TextField(_("penalty result"), blank=True)
    reconsideration = models.CharField(_("reconsideration / litigation"), max_length=20, blank=True)
    execution_manner = models.CharField(_("execution manner"), max_length=50, blank=True)
    execution_result = models.CharField(_("execution result"), max_length=200, blank=True)
    fine_paid = models.DecimalField(_("fine paid (CNY)"), max_digits=16, decimal_places=2, null=True, blank=True)
    no_penalty = models.BooleanField(_("no penalty imposed"), default=False)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    other_handling = models.TextField(_("other handling"), blank=True)
    transferred_at = models.DateTimeField(_("transferred at"), null=True, blank=True)

    class Meta(BehaviourRecord.Meta):
        verbose_name = _("administrative penalty")
        verbose_name_plural = _("administrative penalties")


class AdministrativeCoercion(BehaviourRecord):
    """行政强制."""

    inspection_no = models.CharField(_("inspection behaviour number"), max_length=50)
    matter_source = models.CharField(_("matter source"), max_length=20, blank=True)
    measure = models.CharField(_("coercive measure"), max_length=50)
    decided_on = models.DateField(_("decided on"))
    lifted_on = models.DateField(_("lifted on"), null=True, blank=True)
    coercion_result = models.TextField(_("result"), blank=True)

    class Meta(BehaviourRecord.Meta):
        verbose_name = _("administrative coercion")
        verbose_name_plural = _("administrative coercions")


# --- 监管投诉举报信息库 ----------------------------------------------------------------------------------------------


class ComplaintRecord(TimeStampedModel):
    """投诉举报库: the state of one complaint or report as the complaints module announced it (no reporter data)."""

    complaint_id = models.BigIntegerField(_("complaint id"), unique=True)
    ticket_no = models.CharField(_("ticket number"), max_length=40)
    filing_no = models.CharField(_("filing number"), max_length=40, blank=True)
    kind = models.CharField(_("kind"), max_length=20)
    status = models.CharField(_("status"), max_length=20)
    channel = models.CharField(_("channel"), max_length=20)
    category_code = models.CharField(_("category"), max_length=20, blank=True)
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+", db_index=False)
    handling_region_code = models.CharField(_("handling region"), max_length=6, blank=True)
    handling_org_code = models.CharField(_("handling department"), max_length=9, blank=True)
    subject = models.ForeignKey("core.Subject", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    subject_uscc = models.CharField(_("entity credit code"), max_length=18, blank=True)  # indexed in Meta
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    last_event_at = models.DateTimeField(_("last event at"))
    last_topic = models.CharField(_("last event"), max_length=60)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    rating = models.CharField(_("rating"), max_length=20, blank=True)
    merged_into = models.CharField(_("merged into"), max_length=40, blank=True)
    events = models.PositiveIntegerField(_("events"), default=0)

    scope_region_field: ClassVar[str | None] = "region"
    scope_org_field: ClassVar[str | None] = None

    objects = ScopedManager()

    class Meta:
        ordering = ["-last_event_at"]
        verbose_name = _("complaint record")
        verbose_name_plural = _("complaint records")
        default_permissions = ("view",)
        # One index per column (PostgreSQL; SQLite ignores the opclasses), where ``db_index`` gave each a plain
        # one and a pattern-ops twin, all written for every ticket: the data scope is a prefix filter on the region
        # (``region_id LIKE '3201%'``), which only the pattern-ops index serves and which serves equality too;
        # the credit code is matched by equality only.
        indexes = [
            models.Index(fields=["region"], name="datacenter_complaint_region", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["subject_uscc"], name="datacenter_complaint_uscc"),
        ]

    def __str__(self) -> str:
        return self.ticket_no


# --- 信用信息库 ------------------------------------------------------------------------------------------------------


class CreditRecord(Provenance, TimeStampedModel):
    """信用信息库: a listing, publication, commitment, risk class, reward or repair concerning an entity."""

    record_no = models.CharField(_("record number"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=24, choices=CreditKind.choices)
    uscc = models.CharField(_("unified social credit code"), max_length=18, db_index=True)
    party_name = models.CharField(_("party"), max_length=200)
    subject = models.ForeignKey("core.Subject", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reason = models.TextField(_("reason"), blank=True)
    authority = models.CharField(_("deciding authority"), max_length=100)
    decided_on = models.DateField(_("decided on"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    removed_on = models.DateField(_("removed on"), null=True, blank=True)
    risk_class = models.CharField(_("risk class"), max_length=1, blank=True)
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+")

    scope_region_field: ClassVar[str | None] = "region"
    scope_org_field: ClassVar[str | None] = None

    objects = ScopedManager()

    class Meta:
        ordering = ["-decided_on", "-id"]
        verbose_name = _("credit record")
        verbose_name_plural = _("credit records")

    def __str__(self) -> str:
        return f"{self.record_no} {self.get_kind_display()}"


# --- 互联网及第三方信息库 --------------------------------------------------------------------------------------------


class InternetRecord(Provenance, TimeStampedModel):
    """互联网及第三方信息库: a news item, post, review or third-party finding, optionally about an entity."""

    record_no = models.CharField(_("record number"), max_length=100, unique=True)
    provider = models.CharField(_("provider"), max_length=100)
    url = models.URLField(_("address"), max_length=500, blank=True)
    title = models.CharField(_("title"), max_length=300)
    content = models.TextField(_("content"), blank=True)
    published_at = models.DateTimeField(_("published at"))
    uscc = models.CharField(_("unified social credit code"), max_length=18, blank=True, db_index=True)
    party_name = models.CharField(_("entity named"), max_length=200, blank=True)
    subject = models.ForeignKey("core.Subject", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    sentiment = models.SmallIntegerField(_("sentiment (-1, 0, 1)"), default=0)
    keywords = models.JSONField(_("keywords"), default=list, blank=True)
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+")

    scope_region_field: ClassVar[str | None] = "region"
    scope_org_field: ClassVar[str | None] = None

    objects = ScopedManager()

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("internet record")
        verbose_name_plural = _("internet records")

    def __str__(self) -> str:
        return self.title


# --- 监管知识库 ------------------------------------------------------------------------------------------------------


class KnowledgeDocument(Provenance, TimeStampedModel):
    """监管知识库: a law, regulation, rule, normative document, standard or typical case (province-wide)."""

    doc_no = models.CharField(_("document number"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=KnowledgeKind.choices)
    title = models.CharField(_("title"), max_length=300)
    issuer = models.CharField(_("issued by"), max_length=200, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    effective_on = models.DateField(_("in force from"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=KnowledgeStatus.choices,
                              default=KnowledgeStatus.EFFECTIVE)
    body = models.TextField(_("text"))
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+", default="320000")
    indexed_at = models.DateTimeField(_("indexed at"), default=timezone.now)

    # Laws, standards and cases are shared knowledge: no region restriction.
    scope_region_field: ClassVar[str | None] = None
    scope_org_field: ClassVar[str | None] = None

    objects = ScopedManager()

    class Meta:
        ordering = ["-issued_on", "title"]
        verbose_name = _("knowledge document")
        verbose_name_plural = _("knowledge documents")

    def __str__(self) -> str:
        return self.title


class KnowledgeTerm(models.Model):
    """Inverted index of the knowledge library: a term (jieba word) and how often it occurs in a document."""

    document = models.ForeignKey(KnowledgeDocument, on_delete=models.CASCADE, related_name="terms")
    term = models.CharField(max_length=40)
    count = models.PositiveIntegerField(default=1)
    in_title = models.BooleanField(default=False)

    scope_region_field: ClassVar[str | None] = None
    scope_org_field: ClassVar[str | None] = None

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["term", "document"], name="datacenter_knowledgeterm_unique_term"),
        ]

    def __str__(self) -> str:
        return f"{self.term}@{self.document_id}"
