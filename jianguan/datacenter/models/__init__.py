"""Data centre models: the pipeline's (sources, batches, quarantine, lineage, links, conflicts) and the libraries'."""

from __future__ import annotations

from jianguan.datacenter.models.libraries import (
    AdministrativeCoercion,
    AdministrativeInspection,
    AdministrativeLicense,
    AdministrativePenalty,
    CatalogEntry,
    ComplaintRecord,
    CreditRecord,
    ImplementationEntry,
    InternetRecord,
    KnowledgeDocument,
    KnowledgeTerm,
)
from jianguan.datacenter.models.pipeline import (
    Batch,
    Conflict,
    EntityLink,
    EntityRow,
    LineageEntry,
    LineageRecord,
    LineageSteps,
    QuarantinedRow,
    Source,
)

__all__ = [
    "AdministrativeCoercion",
    "AdministrativeInspection",
    "AdministrativeLicense",
    "AdministrativePenalty",
    "Batch",
    "CatalogEntry",
    "ComplaintRecord",
    "Conflict",
    "CreditRecord",
    "EntityLink",
    "EntityRow",
    "ImplementationEntry",
    "InternetRecord",
    "KnowledgeDocument",
    "KnowledgeTerm",
    "LineageEntry",
    "LineageRecord",
    "LineageSteps",
    "QuarantinedRow",
    "Source",
]
