"""The data-scope layer: every user-facing query passes through ``ScopedQuerySet.visible_to``.

A model declares two class attributes:

* ``scope_region_field``: path to the region code (a FK to ``Region`` or a char field holding a code); a user sees
  rows whose region code starts with their region's prefix (province: ``32``; city: ``3201``; county: ``320106``).
* ``scope_org_field``: path to the owning department, or ``None`` for shared master data. Unless one of the user's
  roles has ``all_departments``, a user sees only their own department's rows.

Actions map to Django permissions ``<app>.<action>_<model>`` granted through roles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from jianguan.core.models import User

_M = TypeVar("_M", bound=models.Model)


def permission_name(model: type[models.Model], action: str) -> str:
    """The permission ``action`` on ``model`` needs. A read model over another model's rows (a database view) names
    that model in ``permission_model`` and answers to its permissions."""
    name = getattr(model, "permission_model", None) or model._meta.model_name
    return f"{model._meta.app_label}.{action}_{name}"


def _region_lookup(model: type[models.Model], path: str) -> str:
    """Lookup whose value is a region code: a FK to Region is followed to its code (the join is trimmed)."""
    field = model._meta.get_field(path.split("__")[0])
    if len(path.split("__")) == 1 and field.is_relation:
        return f"{path}__code"
    if field.is_relation:
        target = field.related_model
        assert target is not None
        rest = "__".join(path.split("__")[1:])
        inner = _region_lookup(target, rest)  # type: ignore[arg-type]
        return f"{path.split('__')[0]}__{inner}"
    return path


def scope_filter(model: type[models.Model], user: User) -> Q | None:
    """The row filter for ``user``'s data scope on ``model``; ``None`` means nothing is visible."""
    region = getattr(user, "region", None)
    region_path: str | None = getattr(model, "scope_region_field", None)
    org_path: str | None = getattr(model, "scope_org_field", None)
    q = Q()
    if region_path is not None:
        if region is None:
            return None
        prefix = region.scope_prefix
        q &= Q(**{f"{_region_lookup(model, region_path)}__startswith": prefix})
    if org_path is not None and not user_sees_all_departments(user):
        if user.organization_id is None:
            return None
        q &= Q(**{org_path: user.organization_id})
    return q


def user_sees_all_departments(user: Any) -> bool:
    cached = getattr(user, "_all_departments_cache", None)
    if cached is None:
        cached = user.roles.filter(all_departments=True).exists()
        user._all_departments_cache = cached
    return bool(cached)


class ScopedQuerySet(models.QuerySet[_M]):
    """QuerySet that knows how to restrict itself to what a user may see or act on."""

    def visible_to(self, user: Any, action: str = "view") -> ScopedQuerySet[_M]:
        """Rows ``user`` may perform ``action`` on: permission first, then region subtree and department."""
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if not user.has_perm(permission_name(self.model, action)):
            return self.none()
        return self.in_scope_of(user)

    def in_scope_of(self, user: Any) -> ScopedQuerySet[_M]:
        """Rows inside ``user``'s region subtree and department, whatever their permissions."""
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        q = scope_filter(self.model, user)
        if q is None:
            return self.none()
        return self.filter(q)
