"""Stable codes of the data centre's enumerations (labels are translated, codes never change)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Library(models.TextChoices):
    """The eight libraries (库) of the regulatory data centre (苏政办发〔2019〕21号 task 三)."""

    CATALOG = "catalog", _("Catalogue library")  # 监管事项目录清单库
    ENTITIES = "entities", _("Supervised entity library")  # 监管对象信息库
    OFFICERS = "officers", _("Enforcement officer library")  # 执法人员信息库
    BEHAVIOURS = "behaviours", _("Supervision behaviour library")  # 监管行为信息库
    COMPLAINTS = "complaints", _("Complaint and report library")  # 监管投诉举报信息库
    CREDIT = "credit", _("Credit information library")  # 信用信息库
    INTERNET = "internet", _("Internet and third-party library")  # 互联网及第三方信息库
    KNOWLEDGE = "knowledge", _("Supervision knowledge library")  # 监管知识库


class SourceKind(models.TextChoices):
    DEPARTMENT = "department", _("Department business system")
    CITY_CENTRE = "city_centre", _("City data centre")
    THIRD_PARTY = "third_party", _("Third party")
    NATIONAL = "national", _("National system")


class Channel(models.TextChoices):
    """The plan's three ways of ingestion: batch exchange, dynamic collection, service interface."""

    FILE = "file", _("Batch exchange (file)")
    HTTP_API = "http_api", _("Dynamic collection (paged HTTP API)")
    SQL = "sql", _("Dynamic collection (SQL database)")
    PUSH = "push", _("Service interface (push API)")


class FileFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"
    JSONL = "jsonl", "JSON Lines"
    PARQUET = "parquet", "Parquet"


class BatchKind(models.TextChoices):
    FILE = "file", _("File")
    PULL = "pull", _("Scheduled pull")
    PUSH = "push", _("Pushed")
    CORRECTION = "correction", _("Corrected rows")


class BatchStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    LOADED = "loaded", _("Loaded")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped (already loaded)")


class QuarantineStatus(models.TextChoices):
    OPEN = "open", _("Awaiting correction")
    CORRECTED = "corrected", _("Corrected, awaiting re-run")
    RESUBMITTED = "resubmitted", _("Re-run")
    DISCARDED = "discarded", _("Discarded")


class LinkMethod(models.TextChoices):
    USCC = "uscc", _("Credit code (deterministic)")
    PROBABILISTIC = "probabilistic", _("Probabilistic match")
    MANUAL = "manual", _("Manual")


class LinkStatus(models.TextChoices):
    AUTO = "auto", _("Automatic")
    CONFIRMED = "confirmed", _("Confirmed")
    SPLIT = "split", _("Split")


class LineageAction(models.TextChoices):
    CREATED = "created", _("Created the record")
    UPDATED = "updated", _("Changed values")
    LINKED = "linked", _("Linked")
    MANUAL = "manual", _("Manual change")


class ConflictKind(models.TextChoices):
    WITHIN_BATCH = "within_batch", _("Within one batch")
    CROSS_SOURCE = "cross_source", _("Between sources")


class ConflictStatus(models.TextChoices):
    OPEN = "open", _("Open")
    APPLIED = "applied", _("Incoming value applied")
    KEPT = "kept", _("Current value kept")


class CatalogEntryStatus(models.TextChoices):
    PUBLISHED = "published", _("Published")
    ABOLISHED = "abolished", _("Abolished")


class PartyNature(models.TextChoices):
    """行政相对人性质."""

    LEGAL_PERSON = "legal_person", _("Legal person")
    OTHER_ORGANISATION = "other_org", _("Other organisation")
    INDIVIDUAL_BUSINESS = "individual_business", _("Individual business")
    NATURAL_PERSON = "natural_person", _("Natural person")


class CreditKind(models.TextChoices):
    """信用信息的类别."""

    ABNORMAL_LIST = "abnormal_list", _("Abnormal-operation list")  # 经营异常名录
    SERIOUS_LIST = "serious_list", _("Serious illegal and dishonest list")  # 严重违法失信名单
    PENALTY_PUBLICATION = "penalty_publication", _("Published administrative penalty")
    COMMITMENT = "commitment", _("Credit commitment")  # 信用承诺
    RISK_CLASS = "risk_class", _("Credit-risk class")  # 企业信用风险分类 A–D
    REWARD = "reward", _("Joint reward")  # 联合激励
    REPAIR = "repair", _("Credit repair")  # 信用修复


class KnowledgeKind(models.TextChoices):
    LAW = "law", _("Law")
    REGULATION = "regulation", _("Administrative regulation")
    RULE = "rule", _("Departmental rule")
    NORMATIVE = "normative", _("Normative document")
    STANDARD = "standard", _("Standard")
    CASE = "case", _("Typical case")


class KnowledgeStatus(models.TextChoices):
    EFFECTIVE = "effective", _("In force")
    AMENDED = "amended", _("Amended")
    REPEALED = "repealed", _("Repealed")
