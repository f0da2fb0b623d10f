"""Models of the supervision item catalogue (监管事项目录清单).

* ``SupervisionItem`` is the stable identity of a main item (主项) or a sub-item (子项) and its code; what it says
  (the plan's ten fields) lives in ``ItemVersion`` rows, one per revision, with a status from ``workflow.py``.
* ``LegalBasis`` is the register of laws and regulations; ``BasisCitation`` ties a version to an article of one.
* ``ImplementationItem`` (检查实施清单) is one agency's use of an item in its region.
* ``CodeSequence`` issues serial numbers; items are never deleted, so an issued code is never reused.
* ``NationalItem``/``NationalMapping`` align local items with the national catalogue.
* ``ItemEvent`` is the viewable history timeline of an item; ``ImportBatch`` records each spreadsheet import.

State changes happen only in ``services.py``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jianguan.catalog.choices import (
    LEVEL_NAMES_ZH,
    METHOD_NAMES_ZH,
    OPEN_STATUSES,
    BasisLevel,
    BasisStatus,
    HistoryAction,
    ImplementationLevel,
    ImplementationStatus,
    ImportStatus,
    ItemState,
    SupervisionMethod,
    VersionStatus,
)
from jianguan.catalog.querysets import CatalogueQuerySet, ItemVersionQuerySet, SupervisionItemQuerySet
from jianguan.core.models import AuditedModel, DepartmentKind, Organization, Region, ScopedManager, TimeStampedModel

PROVINCE_CODE = "320000"


class LegalBasis(AuditedModel, TimeStampedModel):
    """法律法规: one law, regulation, rule or normative document that items cite as their 设定依据."""

    name = models.CharField(_("name"), max_length=200, unique=True, help_text=_("Without the book-title marks"))
    level = models.CharField(_("level"), max_length=20, choices=BasisLevel.choices)
    issuing_body = models.CharField(_("issuing body"), max_length=100, blank=True)
    document_number = models.CharField(_("document number"), max_length=100, blank=True)
    effective_on = models.DateField(_("in force since"), null=True, blank=True)
    amended_on = models.DateField(_("last amended on"), null=True, blank=True)
    repealed_on = models.DateField(_("repealed on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=BasisStatus.choices, default=BasisStatus.IN_FORCE)
    note = models.TextField(_("note"), blank=True)

    scope_region_field: ClassVar[str | None] = None
    scope_org_field: ClassVar[str | None] = None

    objects = ScopedManager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("legal basis")
        verbose_name_plural = _("legal bases")

    def __str__(self) -> str:
        return f"《{self.name}》"


class CodeSequence(models.Model):
    """The last serial issued under a code prefix: ``32`` + department + method (7 digits) for main items, the
    11-digit main code for sub-items. Only ever increases (compare-and-swap in ``codes.py``)."""

    prefix = models.CharField(_("prefix"), max_length=11, primary_key=True)
    last_serial = models.PositiveIntegerField(_("last serial"), default=0)

    scope_region_field: ClassVar[str | None] = None
    scope_org_field: ClassVar[str | None] = None

    class Meta:
        verbose_name = _("code sequence")
        verbose_name_plural = _("code sequences")

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last_serial}"


class SupervisionItem(AuditedModel, TimeStampedModel):
    """监管事项: a main item (主项, ``main`` empty) or a sub-item (子项) with its unified 14-digit code.

    ``code`` is the 14-digit item code behaviour records cite: a main item's 11-digit code + ``000``, a sub-item's
    main code + its 3-digit serial. Department and method are part of the code, so they never change. Items are
    never deleted; abolition (废止) keeps the row and its code.
    """

    code = models.CharField(_("item code"), max_length=14, unique=True)
    main_code = models.CharField(_("main item code"), max_length=11, db_index=True)
    main = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="sub_items", verbose_name=_("main item")
    )
    department_kind = models.ForeignKey(DepartmentKind, on_delete=models.PROTECT, verbose_name=_("department"))
    method = models.CharField(_("supervision method"), max_length=2, choices=SupervisionMethod.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("region"))
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, verbose_name=_("owning department"))
    name = models.CharField(_("working name"), max_length=200, help_text=_("Name in the latest version"))
    state = models.CharField(_("state"), max_length=10, choices=ItemState.choices, default=ItemState.NEW)
    current_version = models.ForeignKey(
        "ItemVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("published version"),
    )
    latest_version = models.ForeignKey(
        "ItemVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("latest version"),
    )
    abolished_on = models.DateField(_("abolished on"), null=True, blank=True)
    abolition_reason = models.CharField(_("reason for abolition"), max_length=500, blank=True)

    scope_region_field: ClassVar[str | None] = "region"
    scope_org_field: ClassVar[str | None] = "organization"

    objects = models.Manager.from_queryset(SupervisionItemQuerySet)()

    class Meta:
        ordering = ["code"]
        verbose_name = _("supervision item")
        verbose_name_plural = _("supervision items")
        permissions = [
            ("review_supervisionitem", "Can approve or return catalogue item versions"),
            ("publish_supervisionitem", "Can publish catalogue item versions"),
            ("abolish_supervisionitem", "Can abolish catalogue items"),
            ("import_supervisionitem", "Can import catalogue spreadsheets"),
            ("export_supervisionitem", "Can export the catalogue and build push packages"),
            ("map_supervisionitem", "Can map items to the national catalogue"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(main__isnull=True, code__endswith="000") | Q(main__isnull=False)
                & ~Q(code__endswith="000"),
                name="catalog_supervisionitem_sub_serial",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("supervision items are never deleted: abolish them (their codes are never reused)")

    @property
    def is_main(self) -> bool:
        return self.main_id is None

    @property
    def method_name(self) -> str:
        return METHOD_NAMES_ZH.get(self.method, self.method)

    @property
    def display_code(self) -> str:
        """The code as people write it: 11 digits for a main item, 14 for a sub-item."""
        return self.main_code if self.is_main else self.code

    @property
    def sub_serial(self) -> str:
        return self.code[11:]


class ItemVersion(AuditedModel):
    """One version of an item's content: the plan's ten fields (department, method and, for sub-items, the main
    item's name come from the item) and its status in the review workflow.

    A published version is never edited; a revision is a new version ``based_on`` it. Fields of a main item that has
    sub-items other than its name are left empty: the sub-items carry them.
    """

    item = models.ForeignKey(SupervisionItem, on_delete=models.PROTECT, related_name="versions",
                             verbose_name=_("item"))
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    based_on = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("based on"))
    name = models.CharField(_("name"), max_length=200)
    measures = models.TextField(_("supervision measures"), blank=True)
    targets = models.TextField(_("supervised objects"), blank=True)
    process = models.TextField(_("supervision process"), blank=True)
    result = models.TextField(_("supervision result"), blank=True)
    level_province = models.BooleanField(_("province level"), default=False)
    level_city = models.BooleanField(_("city level"), default=False)
    level_county = models.BooleanField(_("county level"), default=False)
    change_reason = models.CharField(_("reason for the change"), max_length=500, blank=True)
    search_text = models.TextField(editable=False, blank=True)
    created_by = models.ForeignKey("core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    submitted_by = models.ForeignKey("core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_by = models.ForeignKey("core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_comment = models.CharField(_("review comment"), max_length=500, blank=True)
    published_by = models.ForeignKey("core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("superseded or abolished at"), null=True, blank=True)

    audit_exclude: ClassVar[tuple[str, ...]] = ("search_text", "updated_at")
    scope_region_field: ClassVar[str | None] = "item__region"
    scope_org_field: ClassVar[str | None] = "item__organization"
    scope_permission_model: ClassVar[str] = "catalog.SupervisionItem"

    objects = models.Manager.from_queryset(ItemVersionQuerySet)()

    class Meta:
        ordering = ["item_id", "-number"]
        verbose_name = _("item version")
        verbose_name_plural = _("item versions")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="catalog_itemversion_unique_number"),
            models.UniqueConstraint(
                fields=["item"], condition=Q(status__in=OPEN_STATUSES), name="catalog_itemversion_one_open"
            ),
            models.UniqueConstraint(
                fields=["item"], condition=Q(status=VersionStatus.PUBLISHED), name="catalog_itemversion_one_published"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.code} v{self.number}"

    @property
    def levels(self) -> list[str]:
        return [code for code, flag in (("province", self.level_province), ("city", self.level_city),
                                        ("county", self.level_county)) if flag]

    @property
    def levels_display(self) -> str:
        return "、".join(LEVEL_NAMES_ZH[level] for level in self.levels)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class BasisCitation(models.Model):
    """设定依据: one version's citation of an article (and clause) of a legal basis, with the cited text."""

    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="citations")
    basis = models.ForeignKey(LegalBasis, on_delete=models.PROTECT, related_name="citations",
                              verbose_name=_("legal basis"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    article = models.CharField(_("article"), max_length=50, blank=True, help_text=_("e.g. 第一百一十条"))
    clause = models.CharField(_("clause"), max_length=100, blank=True, help_text=_("e.g. 第一款第（二）项"))
    text = models.TextField(_("text"), blank=True)

    scope_region_field: ClassVar[str | None] = "version__item__region"
    scope_org_field: ClassVar[str | None] = "version__item__organization"
    scope_permission_model: ClassVar[str] = "catalog.SupervisionItem"

    objects = models.Manager.from_queryset(CatalogueQuerySet)()

    class Meta:
        ordering = ["version_id", "position", "id"]
        verbose_name = _("basis citation")
        verbose_name_plural = _("basis citations")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.basis}{self.article}{self.clause}"

    @property
    def locator(self) -> str:
        return f"{self.article}{self.clause}"


class ItemEvent(models.Model):
    """One entry of an item's history: who did what, when, why, and which fields changed. Append-only."""

    item = models.ForeignKey(SupervisionItem, on_delete=models.PROTECT, related_name="history")
    version = models.ForeignKey(ItemVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="history")
    action = models.CharField(_("action"), max_length=20, choices=HistoryAction.choices)
    actor = models.ForeignKey("core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor_name = models.CharField(_("by"), max_length=150)
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    comment = models.CharField(_("reason or comment"), max_length=500, blank=True)
    changes = models.JSONField(_("changes"), default=list, blank=True)

    scope_region_field: ClassVar[str | None] = "item__region"
    scope_org_field: ClassVar[str | None] = "item__organization"
    scope_permission_model: ClassVar[str] = "catalog.SupervisionItem"

    objects = models.Manager.from_queryset(CatalogueQuerySet)()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("item history entry")
        verbose_name_plural = _("item history")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.item_id} {self.action} {self.at:%Y-%m-%d}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("item history is append-only")
        super().save(*args, **kwargs)


class ImplementationItem(AuditedModel, TimeStampedModel):
    """检查实施清单: one agency's use of a provincial item in its region.

    It adds local detail (contact, place, local basis, notes) but never changes the item's name, code, basis or
    method, which are always read from the item. Its code is the agency's USCC + level digit + 14-digit item code.
    """

    code = models.CharField(_("implementation-list code"), max_length=33, unique=True)
    item = models.ForeignKey(SupervisionItem, on_delete=models.PROTECT, related_name="implementations",
                             verbose_name=_("supervision item"))
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("region"))
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, verbose_name=_("implementing agency"))
    level = models.CharField(_("level"), max_length=1, choices=ImplementationLevel.choices)
    status = models.CharField(_("status"), max_length=10, choices=ImplementationStatus.choices,
                              default=ImplementationStatus.ACTIVE)
    handling_unit = models.CharField(_("handling unit"), max_length=100, blank=True,
                                     help_text=_("The division that does the work, e.g. 食品生产监督管理处"))
    contact_phone = models.CharField(_("contact telephone"), max_length=50, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    local_basis = models.TextField(_("local basis"), blank=True)
    notes = models.TextField(_("local notes"), blank=True)
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    withdrawal_reason = models.CharField(_("reason for withdrawal"), max_length=500, blank=True)

    scope_region_field: ClassVar[str | None] = "region"
    scope_org_field: ClassVar[str | None] = "organization"

    objects = ScopedManager()

    class Meta:
        ordering = ["region_id", "item__code"]
        verbose_name = _("implementation list")
        verbose_name_plural = _("implementation lists")
        constraints = [
            models.UniqueConstraint(fields=["organization", "item"],
                                    name="catalog_implementationitem_unique_agency_item"),
        ]

    def __str__(self) -> str:
        return self.code

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("implementation lists are withdrawn, never deleted (their codes stay issued)")


class NationalItem(TimeStampedModel):
    """An item of the national catalogue (国家监管事项目录清单), as loaded from the national system's file."""

    code = models.CharField(_("national code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=300)
    main_code = models.CharField(_("national main item code"), max_length=40, blank=True)
    department = models.CharField(_("national department"), max_length=100, blank=True)
    method = models.CharField(_("supervision method"), max_length=30, blank=True)
    basis = models.TextField(_("basis"), blank=True)
    edition = models.CharField(_("edition"), max_length=40, blank=True)
    active = models.BooleanField(_("in the current edition"), default=True)

    scope_region_field: ClassVar[str | None] = None
    scope_org_field: ClassVar[str | None] = None

    objects = ScopedManager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("national item")
        verbose_name_plural = _("national items")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class NationalMapping(AuditedModel, TimeStampedModel):
    """A local item's counterpart in the national catalogue. Many local items may map to one national item."""

    item = models.OneToOneField(SupervisionItem, on_delete=models.PROTECT, related_name="national_mapping",
                                verbose_name=_("local item"))
    national_item = models.ForeignKey(NationalItem, on_delete=models.PROTECT, related_name="mappings",
                                      verbose_name=_("national item"))
    mapped_by = models.ForeignKey("core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.CharField(_("note"), max_length=300, blank=True)

    scope_region_field: ClassVar[str | None] = "item__region"
    scope_org_field: ClassVar[str | None] = "item__organization"

    objects = models.Manager.from_queryset(CatalogueQuerySet)()

    class Meta:
        ordering = ["item__code"]
        verbose_name = _("national mapping")
        verbose_name_plural = _("national mappings")

    def __str__(self) -> str:
        return f"{self.item_id} → {self.national_item_id}"


class ImportBatch(models.Model):
    """One catalogue spreadsheet import: counts, and the rejected rows (row, column, reason in Chinese)."""

    file_name = models.CharField(_("file"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_by = models.ForeignKey("core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor_name = models.CharField(_("by"), max_length=150)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, null=True, blank=True)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, null=True, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    dry_run = models.BooleanField(_("dry run"), default=False)
    publish = models.BooleanField(_("published on import"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    error_count = models.PositiveIntegerField(_("rejected rows"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)

    scope_region_field: ClassVar[str | None] = "region"
    scope_org_field: ClassVar[str | None] = "organization"

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def error_rows(self) -> int:
        return len({e.get("row") for e in self.errors})

