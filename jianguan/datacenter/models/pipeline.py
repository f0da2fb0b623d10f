"""Pipeline models: the source registry, ingest batches, quarantine, lineage, links and conflicts.

The master records themselves (``core.Subject``, ``core.EnforcementOfficer``) live in ``core``; the data centre fills
them in bulk and keeps here everything needed to explain where each value came from.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jianguan.core.fields import EncryptedTextField
from jianguan.core.models import AuditedModel, ScopedManager, TimeStampedModel
from jianguan.datacenter.choices import (
    BatchKind,
    BatchStatus,
    Channel,
    ConflictKind,
    ConflictStatus,
    FileFormat,
    Library,
    LineageAction,
    LinkMethod,
    LinkStatus,
    QuarantineStatus,
    SourceKind,
)


class Source(AuditedModel, TimeStampedModel):
    """数据源: a department system, city data centre or third party that feeds one library.

    ``field_mapping`` maps the library's canonical field names onto the source's column names (an empty mapping means
    "recognise the usual Chinese and English headers"); ``options`` holds channel settings (API URL and paging, SQL
    query, null markers, capital unit). ``priority`` decides between sources that disagree (higher wins).
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=SourceKind.choices)
    library = models.CharField(_("library"), max_length=12, choices=Library.choices, default=Library.ENTITIES)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.FILE)
    file_format = models.CharField(_("file format"), max_length=8, choices=FileFormat.choices, blank=True)
    field_mapping = models.JSONField(_("field mapping"), default=dict, blank=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    schedule_minutes = models.PositiveIntegerField(
        _("pull every (minutes)"), null=True, blank=True, help_text=_("Empty: pulled only on demand")
    )
    next_run_at = models.DateTimeField(_("next pull"), null=True, blank=True)
    watermark = models.CharField(_("watermark"), max_length=100, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), default=50)
    freshness_days = models.PositiveIntegerField(_("data is timely for (days)"), default=30)
    contact_name = models.CharField(_("contact"), max_length=50, blank=True)
    contact_phone = EncryptedTextField(_("contact phone"), blank=True)
    owner = models.ForeignKey(
        "core.Organization", on_delete=models.PROTECT, related_name="+", verbose_name=_("owning department")
    )
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region"))
    enabled = models.BooleanField(_("enabled"), default=True)

    scope_region_field: ClassVar[str | None] = "region"
    scope_org_field: ClassVar[str | None] = "owner"

    objects = ScopedManager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("data source")
        verbose_name_plural = _("data sources")
        permissions = [("ingest_source", "Can submit batches and run pulls for a data source")]

    def __str__(self) -> str:
        return self.name


class Batch(TimeStampedModel):
    """批次: one delivery from a source (a file, a pull, a push or re-run corrections), processed as a whole.

    A batch is loaded all or nothing; its counts and quality report describe what happened to every row.
    """

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="batches", verbose_name=_("source"))
    kind = models.CharField(_("kind"), max_length=12, choices=BatchKind.choices, default=BatchKind.FILE)
    status = models.CharField(_("status"), max_length=10, choices=BatchStatus.choices, default=BatchStatus.PENDING)
    job = models.ForeignKey("core.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reruns", verbose_name=_("re-run of")
    )
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("same content as")
    )
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    file_format = models.CharField(_("file format"), max_length=8, choices=FileFormat.choices, blank=True)
    stored_path = models.CharField(_("stored file"), max_length=500, blank=True)
    content_hash = models.CharField(_("content hash"), max_length=64, blank=True, db_index=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, blank=True)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    engine = models.CharField(_("engine"), max_length=10, blank=True)
    watermark_from = models.CharField(_("watermark from"), max_length=100, blank=True)
    watermark_to = models.CharField(_("watermark to"), max_length=100, blank=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_loaded = models.PositiveIntegerField(_("rows accepted"), default=0)
    rows_quarantined = models.PositiveIntegerField(_("rows quarantined"), default=0)
    rows_duplicate = models.PositiveIntegerField(_("duplicate rows"), default=0)
    created_count = models.PositiveIntegerField(_("records created"), default=0)
    # The ids of the master records the batch created lie in [first, last] (reserved as one range by the load): the
    # records that keep their creation entry on themselves are found by primary key (``LineageEntry``).
    created_first_id = models.BigIntegerField(_("first record id created"), null=True, blank=True, editable=False)
    created_last_id = models.BigIntegerField(_("last record id created"), null=True, blank=True, editable=False)
    updated_count = models.PositiveIntegerField(_("records changed"), default=0)
    unchanged_count = models.PositiveIntegerField(_("records unchanged"), default=0)
    linked_count = models.PositiveIntegerField(_("probabilistic links"), default=0)
    conflict_count = models.PositiveIntegerField(_("conflicts"), default=0)
    quality = models.JSONField(_("quality report"), default=dict, blank=True)
    response = models.JSONField(_("answer per record"), default=list, blank=True)
    steps = models.JSONField(_("steps"), default=list, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    created_by = models.ForeignKey("core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    scope_region_field: ClassVar[str | None] = "source__region"
    scope_org_field: ClassVar[str | None] = "source__owner"

    objects = ScopedManager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="datacenter_batch_unique_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name or self.get_kind_display()}"

    @property
    def is_finished(self) -> bool:
        return self.status in (BatchStatus.LOADED, BatchStatus.FAILED, BatchStatus.SKIPPED)


class QuarantinedRow(TimeStampedModel):
    """隔离区: a rejected row with the fields and reasons (Chinese) why, awaiting correction and a re-run.

    ``record``, ``corrected`` and the delivered ``value`` of each problem keep the row's personal values (phones, ID
    numbers: ``jianguan.datacenter.personal``) as encryption tokens; ``personal.row_values`` decrypts them.
    """

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="quarantined", verbose_name=_("batch"))
    row_no = models.PositiveIntegerField(_("row"))
    record = models.JSONField(_("values as delivered"), default=dict)
    errors = models.JSONField(_("problems"), default=list)
    corrected = models.JSONField(_("corrected values"), null=True, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=12, choices=QuarantineStatus.choices, default=QuarantineStatus.OPEN
    )
    corrected_by = models.ForeignKey("core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    corrected_at = models.DateTimeField(_("corrected at"), null=True, blank=True)
    rerun_batch = models.ForeignKey(
        Batch, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("re-run in")
    )

    scope_region_field: ClassVar[str | None] = "batch__source__region"
    scope_org_field: ClassVar[str | None] = "batch__source__owner"

    objects = ScopedManager()

    class Meta:
        ordering = ["batch_id", "row_no"]
        verbose_name = _("quarantined row")
        verbose_name_plural = _("quarantined rows")
        constraints = [
            models.UniqueConstraint(fields=["batch", "row_no"], name="datacenter_quarantinedrow_unique_row"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row_no}"

    @property
    def values(self) -> dict[str, str]:
        """The values a re-run uses, as stored: the correction where there is one, else the delivered values
        (personal values as tokens; ``personal.row_values`` gives them decrypted)."""
        return dict(self.corrected if self.corrected is not None else self.record)


class LineageFieldSteps:
    """``fields`` and ``steps`` read from the positional ``field_steps`` text of a lineage entry."""

    field_steps: str

    @property
    def fields(self) -> dict[str, int]:
        """Each field this row set or changed → the bit mask of the steps applied to its value."""
        from jianguan.datacenter.pipeline.fields import decode_field_steps

        return decode_field_steps(self.field_steps)

    @fields.setter
    def fields(self, value: dict[str, int]) -> None:
        from jianguan.datacenter.pipeline.fields import encode_field_steps

        self.field_steps = encode_field_steps(value)

    def steps(self, field: str) -> list[str]:
        """Step codes applied to ``field`` on its way from the source row."""
        from jianguan.datacenter.pipeline.fields import decode_steps

        return decode_steps(self.fields.get(field))


class LineageRecord(LineageFieldSteps, models.Model):
    """血缘: which source row (batch, row) set which fields of a master record, and the steps applied to each.

    ``fields`` maps each field this row set or changed to the steps applied to its value, as a bit mask over
    ``jianguan.datacenter.pipeline.fields.STEP_CODES`` (use :meth:`steps`). Written in bulk with the load, never
    edited; a field's current value comes from the newest record naming it.
    """

    # Written a million at a time by COPY in the loading transaction, which allocates the subject ids itself: the
    # database-level constraints (one deferred trigger check per row and key) are left out; Django still cascades.
    # Looked up by subject (explanations, provenance) and by batch; never by source, so that key has no index.
    subject = models.ForeignKey("core.Subject", on_delete=models.CASCADE, related_name="+", db_index=True,
                                db_constraint=False)
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="lineage", db_constraint=False)
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="+", db_constraint=False,
                               db_index=False)
    row_no = models.PositiveIntegerField(_("row"))
    action = models.CharField(_("action"), max_length=10, choices=LineageAction.choices)
    # The step mask of each field this row set, by position in ``pipeline.fields.LINEAGE_FIELDS`` ("1,,,,257"):
    # a few bytes instead of a JSON object per row, read and written as the ``fields`` mapping.
    field_steps = models.CharField(_("fields and steps"), max_length=200, blank=True, default="")
    duplicate_rows = models.JSONField(_("identical rows"), default=list, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    scope_region_field: ClassVar[str | None] = "subject__region"
    scope_org_field: ClassVar[str | None] = None

    objects = ScopedManager()

    class Meta:
        ordering = ["subject_id", "id"]
        verbose_name = _("lineage record")
        verbose_name_plural = _("lineage records")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.subject_id} ← {self.batch_id}:{self.row_no}"


class LineageSteps(models.Model):
    """The steps applied to each field of a row (``LineageRecord.field_steps`` text) under a code of its batch:
    the records a batch created from one row name their steps by this code (``core.Subject.origin_steps``), a
    few bytes per record where a batch's rows share a few hundred combinations at most."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="+")
    code = models.IntegerField(_("code"))
    field_steps = models.CharField(_("fields and steps"), max_length=200, blank=True, default="")

    # Not listed to users: read through LineageEntry, which carries the records' scope.
    scope_region_field: ClassVar[str | None] = None
    scope_org_field: ClassVar[str | None] = None

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "code"], name="datacenter_lineagesteps_code")]
        verbose_name = _("lineage steps")
        verbose_name_plural = _("lineage steps")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.code} {self.field_steps}"


class LineageEntry(LineageFieldSteps, models.Model):
    """Every lineage entry as readers see it (read-only; a database view, ``datacenter_lineageentry``):

    - the rows of :class:`LineageRecord`, under their own ids;
    - for each master record a batch created from a single source row, its creation entry, which the load keeps on
      the record itself (``core.Subject.origin_batch``, ``origin_row``, ``origin_steps``: a :class:`LineageSteps`
      code) rather than as a second row per record: id ``-subject id``, action ``created``, no identical rows,
      recorded when the record was.

    The creation is a record's first entry, so ordering by id keeps it first (``-id``: last), as a
    :class:`LineageRecord` of the creation would be. Answers to :class:`LineageRecord`'s permissions.
    """

    id = models.BigIntegerField(primary_key=True)
    subject = models.ForeignKey("core.Subject", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    batch = models.ForeignKey(Batch, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    source = models.ForeignKey(Source, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    row_no = models.IntegerField(_("row"))
    action = models.CharField(_("action"), max_length=10, choices=LineageAction.choices)
    field_steps = models.CharField(_("fields and steps"), max_length=200, blank=True, default="")
    duplicate_rows = models.JSONField(_("identical rows"), default=list, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))

    scope_region_field: ClassVar[str | None] = "subject__region"
    scope_org_field: ClassVar[str | None] = None
    permission_model: ClassVar[str] = "lineagerecord"

    objects = ScopedManager()

    class Meta:
        managed = False
        db_table = "datacenter_lineageentry"
        ordering = ["subject_id", "id"]
        verbose_name = _("lineage record")
        verbose_name_plural = _("lineage records")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.subject_id} ← {self.batch_id}:{self.row_no}"


class EntityLink(TimeStampedModel):
    """关联: a source row without a usable credit code linked to a master record by probabilistic matching.

    Keeps the match weight, the probability and the fields that decided it; a data manager confirms or splits it.
    ``record`` is the row's standardised values, from which a split creates the separate master record; its phone is
    kept as an encryption token (``personal.link_values`` decrypts it), the phone keys it holds as they are.
    """

    subject = models.ForeignKey("core.Subject", on_delete=models.CASCADE, related_name="+")
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="links")
    row_no = models.PositiveIntegerField(_("row"))
    method = models.CharField(_("method"), max_length=14, choices=LinkMethod.choices)
    match_weight = models.FloatField(_("match weight"), null=True, blank=True)
    match_probability = models.FloatField(_("match probability"), null=True, blank=True)
    deciding_fields = models.JSONField(_("deciding fields"), default=list, blank=True)
    record = models.JSONField(_("linked values"), default=dict)
    fingerprint = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=LinkStatus.choices, default=LinkStatus.AUTO)
    split_subject = models.ForeignKey(
        "core.Subject", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("split into"),
    )
    reviewed_by = models.ForeignKey("core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    scope_region_field: ClassVar[str | None] = "subject__region"
    scope_org_field: ClassVar[str | None] = None

    objects = ScopedManager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("entity link")
        verbose_name_plural = _("entity links")
        constraints = [
            models.UniqueConstraint(fields=["batch", "row_no"], name="datacenter_entitylink_unique_row"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row_no} → {self.subject_id}"


class EntityRow(models.Model):
    """A source row without a credit code that a master record holds as its own: the record was created from it
    (alone, or with other rows of its entity). Kept so that the same row delivered again by the same source is
    recognised as that record's row (``runner._respect_earlier_decisions``) instead of being matched anew — which
    would link it to the record it created, or, with a borderline match, create a second record.

    ``record`` is the row's standardised values, its phone as an encryption token (``personal.OWN_ROW_AAD``);
    ``fingerprint`` is keyed like a link's (``runner.fingerprint``), recomputed from ``record`` when the key
    rotates (``personal.refingerprint_rows``)."""

    subject = models.ForeignKey("core.Subject", on_delete=models.CASCADE, related_name="+")
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="+")
    row_no = models.PositiveIntegerField(_("row"))
    record = models.JSONField(_("row values"), default=dict)
    fingerprint = models.CharField(max_length=64, db_index=True)

    # Not listed to users: bookkeeping of the pipeline (the record's lineage shows the row).
    scope_region_field: ClassVar[str | None] = None
    scope_org_field: ClassVar[str | None] = None

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "row_no"], name="datacenter_entityrow_unique_row")]
        verbose_name = _("own row")
        verbose_name_plural = _("own rows")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row_no} = {self.subject_id}"


class Conflict(TimeStampedModel):
    """比对冲突: two sources (or two rows of one batch) disagree about a field of one master record."""

    subject = models.ForeignKey("core.Subject", on_delete=models.CASCADE, related_name="+")
    field = models.CharField(_("field"), max_length=40)
    kind = models.CharField(_("kind"), max_length=14, choices=ConflictKind.choices)
    current_value = models.CharField(_("current value"), max_length=300, blank=True)
    incoming_value = models.CharField(_("incoming value"), max_length=300, blank=True)
    current_source = models.ForeignKey(Source, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="conflicts")
    row_no = models.PositiveIntegerField(_("row"))
    status = models.CharField(_("status"), max_length=10, choices=ConflictStatus.choices, default=ConflictStatus.OPEN)
    resolved_by = models.ForeignKey("core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    scope_region_field: ClassVar[str | None] = "subject__region"
    scope_org_field: ClassVar[str | None] = None

    objects = ScopedManager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("conflict")
        verbose_name_plural = _("conflicts")
        indexes = [models.Index(fields=["subject", "field"], name="datacenter_conflict_subject")]

    def __str__(self) -> str:
        return f"{self.subject_id}.{self.field}"
