"""Events the catalogue publishes (its public contract). Payloads carry codes and ids, never model instances."""

from __future__ import annotations

from dataclasses import dataclass

VERSION_PUBLISHED = "catalog.version_published"
ITEM_ABOLISHED = "catalog.item_abolished"
IMPLEMENTATION_CHANGED = "catalog.implementation_changed"


@dataclass(frozen=True)
class VersionPublished:
    """A version of an item went public (first publication or a revision replacing the previous one)."""

    item_id: int
    item_code: str
    main_code: str
    version: int
    name: str
    department_code: str
    method: str
    replaced_version: int | None


@dataclass(frozen=True)
class ItemAbolished:
    """An item was abolished (废止); its code stays issued and is never reused."""

    item_id: int
    item_code: str
    abolished_on: str
    reason: str


@dataclass(frozen=True)
class ImplementationChanged:
    """An implementation list was created, changed or withdrawn."""

    implementation_id: int
    code: str
    item_code: str
    region: str
    organization_id: int
    status: str
