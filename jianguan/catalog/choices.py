"""Stable codes of the catalogue (labels are translated, codes never change).

``SupervisionMethod`` codes are the two digits after the department code in every item code (see
``docs/modules/catalog.md``); they are part of issued codes and must never be renumbered.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SupervisionMethod(models.TextChoices):
    """监管方式, with the 2-digit code used inside item codes."""

    INSPECTION = "01", _("Administrative inspection")  # 行政检查
    PENALTY = "02", _("Administrative penalty")  # 行政处罚
    COERCION = "03", _("Administrative coercion")  # 行政强制
    POST_LICENSING = "04", _("Post-licensing supervision")  # 行政许可后监管
    OTHER = "99", _("Other")  # 其他


#: The Chinese names used in spreadsheets and the national catalogue (import accepts these and the codes).
METHOD_NAMES_ZH: dict[str, str] = {
    SupervisionMethod.INSPECTION: "行政检查",
    SupervisionMethod.PENALTY: "行政处罚",
    SupervisionMethod.COERCION: "行政强制",
    SupervisionMethod.POST_LICENSING: "行政许可后监管",
    SupervisionMethod.OTHER: "其他",
}


class VersionStatus(models.TextChoices):
    """Life cycle of one version of an item (see ``workflow.py``)."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Returned")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded")
    ABOLISHED = "abolished", _("Abolished")


#: Versions still being worked on: an item has at most one of these at a time.
OPEN_STATUSES = (VersionStatus.DRAFT, VersionStatus.SUBMITTED, VersionStatus.APPROVED, VersionStatus.REJECTED)


class ItemState(models.TextChoices):
    """Where an item as a whole stands: never published yet, in force, or abolished (废止)."""

    NEW = "new", _("Not yet published")
    PUBLISHED = "published", _("In force")
    ABOLISHED = "abolished", _("Abolished")


class BasisLevel(models.TextChoices):
    """效力层级 of a legal basis."""

    LAW = "law", _("Law")  # 法律
    ADMINISTRATIVE_REGULATION = "admin_regulation", _("Administrative regulation")  # 行政法规
    DEPARTMENT_RULE = "dept_rule", _("Departmental rule")  # 部门规章
    LOCAL_REGULATION = "local_regulation", _("Local regulation")  # 地方性法规
    LOCAL_GOVERNMENT_RULE = "local_gov_rule", _("Local government rule")  # 地方政府规章
    NORMATIVE_DOCUMENT = "normative", _("Normative document")  # 规范性文件


BASIS_LEVEL_NAMES_ZH: dict[str, str] = {
    BasisLevel.LAW: "法律",
    BasisLevel.ADMINISTRATIVE_REGULATION: "行政法规",
    BasisLevel.DEPARTMENT_RULE: "部门规章",
    BasisLevel.LOCAL_REGULATION: "地方性法规",
    BasisLevel.LOCAL_GOVERNMENT_RULE: "地方政府规章",
    BasisLevel.NORMATIVE_DOCUMENT: "规范性文件",
}


class BasisStatus(models.TextChoices):
    IN_FORCE = "in_force", _("In force")
    AMENDED = "amended", _("Amended")
    REPEALED = "repealed", _("Repealed")


class AdministrativeLevel(models.TextChoices):
    """监管层级: which levels exercise an item (a version stores the subset)."""

    PROVINCE = "province", pgettext_lazy("supervision level", "Province")
    CITY = "city", pgettext_lazy("supervision level", "City")
    COUNTY = "county", pgettext_lazy("supervision level", "County")


LEVEL_NAMES_ZH: dict[str, str] = {
    AdministrativeLevel.PROVINCE: "省",
    AdministrativeLevel.CITY: "市",
    AdministrativeLevel.COUNTY: "县",
}


class ImplementationLevel(models.TextChoices):
    """The level digit inside an implementation-list code (DOMAIN.md: 1 国家 … 5 乡镇)."""

    NATIONAL = "1", _("National")
    PROVINCE = "2", _("Province")
    CITY = "3", _("City")
    COUNTY = "4", _("County")
    TOWNSHIP = "5", _("Township")


class ImplementationStatus(models.TextChoices):
    ACTIVE = "active", _("In use")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ImportStatus(models.TextChoices):
    SUCCEEDED = "succeeded", _("Imported")
    PARTIAL = "partial", _("Imported with errors")
    REJECTED = "rejected", _("Nothing imported")
    FAILED = "failed", _("Failed, rolled back")
    DRY_RUN = "dry_run", _("Checked only (dry run)")


class HistoryAction(models.TextChoices):
    """What one entry of an item's history timeline records."""

    CREATED = "created", _("Created")
    EDITED = "edited", _("Edited")
    REVISION_STARTED = "revision_started", _("Revision started")
    SUBMITTED = "submitted", _("Submitted for review")
    WITHDRAWN = "withdrawn", _("Withdrawn from review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Returned")
    REOPENED = "reopened", _("Reopened for editing")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded")
    ABOLISHED = "abolished", _("Abolished")
    IMPORTED = "imported", _("Imported")
    MAPPED = "mapped", _("Mapped to the national catalogue")
    UNMAPPED = "unmapped", _("National mapping removed")
