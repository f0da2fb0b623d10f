"""Template filters for the Jianguan UI: masking of personal data, region names, role/permission labels, and small
display helpers. Load with ``{% load jianguan %}``."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.contrib.auth.models import Permission
from django.utils.translation import gettext_lazy as _

from jianguan.core.roles import ROLE_LABELS_EN
from jianguan.lib import masking

register = template.Library()


@register.filter
def mask_phone(value: Any) -> str:
    return masking.mask_phone(None if value is None else str(value))


@register.filter
def mask_id(value: Any) -> str:
    return masking.mask_id_number(None if value is None else str(value))


@register.filter
def mask_name(value: Any) -> str:
    return masking.mask_name(None if value is None else str(value))


@register.filter
def mask_address(value: Any) -> str:
    return masking.mask_address(None if value is None else str(value))


@register.filter
def region_name(value: Any) -> str:
    """A Region's full name (南京市鼓楼区). A bare code is looked up (one query): use it on detail pages only."""
    if value is None or value == "":
        return ""
    if hasattr(value, "full_name"):
        return str(value.full_name)
    from jianguan.core.models import Region

    region = Region.objects.select_related("parent").filter(code=str(value)).first()
    return region.full_name if region is not None else str(value)


@register.filter
def role_label(role: Any) -> str:
    """A built-in role's translated label (its stored name is Chinese); custom roles show their own name."""
    code = getattr(role, "code", role)
    label = ROLE_LABELS_EN.get(str(code))
    return str(label) if label is not None else str(getattr(role, "name", role))


_ACTION_LABELS = {
    "view": _("View"),
    "add": _("Add"),
    "change": _("Change"),
    "delete": _("Delete"),
    "export": _("Export"),
    "unmask": _("View unmasked"),
    "reset_password": _("Reset password"),
    "manage": _("Manage"),
}


@register.filter
def permission_label(permission: Permission) -> str:
    """``core.export_subject`` → “导出 · 监管对象” (translated action and model), whatever the stored name."""
    model = permission.content_type.model_class()
    for action, label in _ACTION_LABELS.items():
        prefix = f"{action}_"
        if permission.codename.startswith(prefix) and model is not None:
            rest = permission.codename[len(prefix):]
            if rest == model._meta.model_name:
                return f"{label} · {model._meta.verbose_name}"
    return str(permission.name)


@register.filter
def lookup(mapping: Any, key: Any) -> Any:
    """``{{ names|lookup:code }}``: a dictionary entry, or the key itself when absent."""
    if isinstance(mapping, dict):
        return mapping.get(key, mapping.get(str(key), key))
    return key


@register.filter
def pretty_json(value: Any) -> str:
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


@register.filter
def json_value(value: Any) -> str:
    """One value of an audit diff, as compact text."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


@register.filter
def nav_active(path: str, url: str) -> bool:
    """Is ``url`` the current page or one of its ancestors (``/subjects/12/`` is under ``/subjects/``)?"""
    return bool(url) and url != "/" and str(path).startswith(str(url))


@register.filter
def nav_group(entries: Any, group: str) -> list[Any]:
    """The navigation entries of one group (``business`` or ``admin``), in registry order."""
    return [e for e in entries or () if e.get("group") == group]


@register.filter
def page_window(paginator: Any, number: int) -> list[int | None]:
    """Page numbers to show around ``number``: 1 … 4 5 [6] 7 8 … 20 (``None`` marks a gap)."""
    return [
        n if isinstance(n, int) else None
        for n in paginator.get_elided_page_range(number, on_each_side=2, on_ends=1)
    ]
