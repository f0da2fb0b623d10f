"""Querysets of the catalogue.

The provincial catalogue is reference data for the whole province: every account that may view items sees all of
them, wherever it sits (an inspector in 苏州 cites the same items as one in 南京). The region and department scope
declared on the models applies to every *other* action: only the owning provincial department (or a role with
``all_departments`` at the province) edits, submits, reviews or abolishes an item. This is NetBox's
"restrict by action" with a wider read scope; the decision is recorded in ``docs/modules/catalog.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models
from django.db.models import Q

from jianguan.catalog.choices import OPEN_STATUSES, ItemState, VersionStatus
from jianguan.core.scope import ScopedQuerySet, permission_name

if TYPE_CHECKING:
    from jianguan.catalog.models import ItemVersion, SupervisionItem  # noqa: F401

_M = TypeVar("_M", bound=models.Model)


class CatalogueQuerySet(ScopedQuerySet[_M]):
    """``visible_to(user, "view")`` is the whole catalogue; other actions keep the declared region/department scope.

    ``scope_permission_model`` names the model whose permissions decide (versions and history follow their item).
    """

    def visible_to(self, user: Any, action: str = "view") -> ScopedQuerySet[_M]:
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        model = getattr(self.model, "scope_permission_model", None) or self.model
        if isinstance(model, str):
            from django.apps import apps

            model = apps.get_model(model)
        if not user.has_perm(permission_name(model, action)):
            return self.none()
        if action == "view":
            return self.all()
        return self.in_scope_of(user)


class SupervisionItemQuerySet(CatalogueQuerySet["SupervisionItem"]):
    def main_items(self) -> SupervisionItemQuerySet:
        return self.filter(main__isnull=True)

    def sub_items(self) -> SupervisionItemQuerySet:
        return self.filter(main__isnull=False)

    def published(self) -> SupervisionItemQuerySet:
        """Items in force (they have a published version)."""
        return self.filter(state=ItemState.PUBLISHED)

    def not_abolished(self) -> SupervisionItemQuerySet:
        return self.exclude(state=ItemState.ABOLISHED)

    def leaves(self) -> SupervisionItemQuerySet:
        """Items that carry the 14-digit code cited by behaviour records: sub-items, and main items without any."""
        return self.filter(Q(main__isnull=False) | Q(sub_items__isnull=True)).distinct()

    def with_open_version(self) -> SupervisionItemQuerySet:
        return self.filter(versions__status__in=OPEN_STATUSES).distinct()

    def citing(self, basis_id: int) -> SupervisionItemQuerySet:
        """Items whose published or open version cites ``basis_id``."""
        live = (*OPEN_STATUSES, VersionStatus.PUBLISHED)
        return self.filter(versions__status__in=live, versions__citations__basis_id=basis_id).distinct()

    def search(self, keyword: str) -> SupervisionItemQuerySet:
        """Chinese keyword search: a substring of any name, measure, object or basis text (SQLite and PostgreSQL)."""
        keyword = keyword.strip()
        if not keyword:
            return self
        return self.filter(Q(code__startswith=keyword) | Q(versions__search_text__contains=keyword)).distinct()


class ItemVersionQuerySet(CatalogueQuerySet["ItemVersion"]):
    def open(self) -> ItemVersionQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def published(self) -> ItemVersionQuerySet:
        return self.filter(status=VersionStatus.PUBLISHED)

    def awaiting_review(self) -> ItemVersionQuerySet:
        return self.filter(status__in=(VersionStatus.SUBMITTED, VersionStatus.APPROVED))

    def search(self, keyword: str) -> ItemVersionQuerySet:
        keyword = keyword.strip()
        if not keyword:
            return self
        return self.filter(Q(item__code__startswith=keyword) | Q(search_text__contains=keyword))
