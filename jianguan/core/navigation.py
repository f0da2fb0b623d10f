"""The module registry behind the navigation: only working modules a user may open are shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse


@dataclass(frozen=True)
class Module:
    code: str
    label: str  # lazily translated label
    url_name: str
    permission: str  # any one of the permissions, comma separated
    group: str = "business"
    order: int = 100


_modules: dict[str, Module] = {}


def register_module(module: Module) -> None:
    """Called from an app's ``ready()``: add a working module to the navigation."""
    _modules[module.code] = module


PUBLIC = "public"  # permission value of a portal entry anyone may open


def portal_modules() -> list[dict[str, Any]]:
    """Entries of the public portal (group "portal"), shown to everyone."""
    return [
        {"code": m.code, "label": m.label, "url": reverse(m.url_name), "group": m.group}
        for m in sorted(_modules.values(), key=lambda m: (m.order, m.code))
        if m.group == "portal"
    ]


def modules_for(user: Any) -> list[dict[str, Any]]:
    entries = []
    for module in sorted(_modules.values(), key=lambda m: (m.order, m.code)):
        if module.group == "portal":
            continue
        if any(user.has_perm(p.strip()) for p in module.permission.split(",")):
            entries.append(
                {"code": module.code, "label": module.label, "url": reverse(module.url_name), "group": module.group}
            )
    return entries
