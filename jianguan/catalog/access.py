"""Single-object access for the catalogue: out of scope looks exactly like not found.

Items (and their versions) are readable by every account with the view permission; any other action needs the
permission (else 403) and the item inside the actor's edit scope (else 404, NetBox's restrict-by-action).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from jianguan.catalog.models import ImplementationItem, ImportBatch, ItemVersion, LegalBasis, SupervisionItem
from jianguan.core.access import get_object_for


def _item_action(user: Any, item_pk: Any, action: str) -> None:
    if action == "view":
        return
    if not user.has_perm(f"catalog.{action}_supervisionitem"):
        raise PermissionDenied
    if not SupervisionItem.objects.in_scope_of(user).filter(pk=item_pk).exists():
        raise Http404


def get_item_for(user: Any, pk: Any, action: str = "view") -> SupervisionItem:
    """The item ``pk`` if ``user`` may do ``action`` on it (404 / 403 as described above)."""
    try:
        item = (SupervisionItem.objects.visible_to(user, "view")
                .select_related("department_kind", "main", "current_version", "latest_version", "organization")
                .get(pk=pk))
    except (SupervisionItem.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404 from None
    _item_action(user, item.pk, action)
    return item


def get_item_by_code_for(user: Any, code: str) -> SupervisionItem:
    item = SupervisionItem.objects.visible_to(user, "view").filter(code=code).first()
    if item is None:
        raise Http404
    return item


def get_version_for(user: Any, pk: Any, action: str = "view") -> ItemVersion:
    """A version, with the permission and scope of its item."""
    try:
        version = (ItemVersion.objects.visible_to(user, "view")
                   .select_related("item", "item__department_kind", "item__main", "based_on", "created_by",
                                   "submitted_by", "reviewed_by", "published_by")
                   .get(pk=pk))
    except (ItemVersion.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404 from None
    _item_action(user, version.item_id, action)
    return version


def get_basis_for(user: Any, pk: Any, action: str = "view") -> LegalBasis:
    return get_object_for(user, LegalBasis, pk, action)


def get_implementation_for(user: Any, pk: Any, action: str = "view") -> ImplementationItem:
    return get_object_for(user, ImplementationItem, pk, action)


def get_import_for(user: Any, pk: Any) -> ImportBatch:
    return get_object_for(user, ImportBatch, pk, "view")
