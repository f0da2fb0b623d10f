"""Single-object access for the data centre's pages and API: out of scope looks exactly like not found."""

from __future__ import annotations

from typing import Any

from jianguan.core.access import get_object_for
from jianguan.datacenter.models import Batch, Conflict, EntityLink, QuarantinedRow, Source


def get_source_for(user: Any, pk: Any, action: str = "view") -> Source:
    return get_object_for(user, Source, pk, action)


def get_batch_for(user: Any, pk: Any, action: str = "view") -> Batch:
    return get_object_for(user, Batch, pk, action)


def get_quarantined_row_for(user: Any, pk: Any, action: str = "view") -> QuarantinedRow:
    return get_object_for(user, QuarantinedRow, pk, action)


def get_link_for(user: Any, pk: Any, action: str = "view") -> EntityLink:
    return get_object_for(user, EntityLink, pk, action)


def get_conflict_for(user: Any, pk: Any, action: str = "view") -> Conflict:
    return get_object_for(user, Conflict, pk, action)
