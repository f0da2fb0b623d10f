"""Single-object access: out of scope looks exactly like not found."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404

from jianguan.core.scope import ScopedQuerySet, permission_name

_M = TypeVar("_M", bound=models.Model)


def get_object_for(user: Any, model: type[_M], pk: Any, action: str = "view") -> _M:
    """Return the ``model`` row ``pk`` if ``user`` may do ``action`` on it.

    404 when the row does not exist, is outside the user's scope, or the user may not even view such rows;
    403 when the user may view it but not perform ``action``.
    """
    manager = model._default_manager
    queryset = manager.get_queryset()
    if not isinstance(queryset, ScopedQuerySet):
        raise TypeError(f"{model.__name__} has no scoped manager")
    try:
        obj: _M = queryset.in_scope_of(user).get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError, ValidationError):  # type: ignore[attr-defined]
        raise Http404 from None
    if not user.has_perm(permission_name(model, "view")):
        raise Http404
    if action != "view" and not user.has_perm(permission_name(model, action)):
        raise PermissionDenied
    return obj


def check_in_scope(user: Any, obj: models.Model) -> bool:
    """Post-save re-check: is ``obj`` (as stored now) still inside ``user``'s scope?"""
    model = type(obj)
    queryset = model._default_manager.get_queryset()
    assert isinstance(queryset, ScopedQuerySet)
    return queryset.in_scope_of(user).filter(pk=obj.pk).exists()
