"""Versioned, effective-dated domain parameters (time limits, ratios, thresholds).

Apps declare definitions in code (``register_parameter``); values are stored as ``ParameterValue`` rows with an
``effective_from`` date and an author. ``get(name, at=...)`` returns the value in force at that moment together with
its version, so a record can store which version it used and history is never recomputed.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from jianguan.core.errors import DomainError


@dataclass(frozen=True)
class ParameterDefinition:
    """What a parameter means: its type, unit, default and the legal source of the default."""

    name: str
    label: str
    kind: type  # int, float, str, bool
    default: Any
    unit: str = ""
    source: str = ""
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class ParameterReading:
    name: str
    value: Any
    version: int  # 0 = the coded default
    effective_from: dt.datetime | None


_definitions: dict[str, ParameterDefinition] = {}


def register_parameter(definition: ParameterDefinition) -> None:
    _definitions[definition.name] = definition


def definitions() -> dict[str, ParameterDefinition]:
    return dict(_definitions)


def definition(name: str) -> ParameterDefinition:
    try:
        return _definitions[name]
    except KeyError:
        raise DomainError("parameter.unknown", f"未知参数：{name}") from None


#: name → (monotonic expiry, versions newest first as (effective_from, version, value)).
_versions: dict[str, tuple[float, list[tuple[dt.datetime, int, Any]]]] = {}
_CACHE_SECONDS = 30.0


_generation = 0  # bumped by every forget: a read from before a change is not stored after it


def forget_cached_values() -> None:
    """Drop this process's cached parameter versions (after a change; other processes see it within 30 s, and a
    new version normally takes effect at a future ``effective_from`` anyway)."""
    global _generation
    _generation += 1
    _versions.clear()


def _all_versions(name: str) -> list[tuple[dt.datetime, int, Any]]:
    from jianguan.core.models import ParameterValue

    cached = _versions.get(name)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    generation = _generation
    rows = list(ParameterValue.objects.filter(name=name).order_by("-effective_from", "-version")
                .values_list("effective_from", "version", "value"))
    # Only what is committed is kept (a transaction may still roll back), and only if nothing changed meanwhile.
    if not connection.in_atomic_block and generation == _generation:
        _versions[name] = (time.monotonic() + _CACHE_SECONDS, rows)
    return rows


def reading(name: str, *, at: dt.datetime | None = None) -> ParameterReading:
    """The value of ``name`` in force at ``at`` (default: now), with its version."""
    spec = definition(name)
    at = at or timezone.now()
    for effective_from, version, value in _all_versions(name):
        if effective_from <= at:
            return ParameterReading(name, spec.kind(value), version, effective_from)
    return ParameterReading(name, spec.default, 0, None)


def get(name: str, *, at: dt.datetime | None = None) -> Any:
    return reading(name, at=at).value


def getter(name: str) -> Callable[[dt.datetime], Any]:
    """``get(name, at=...)`` for many moments with one read of the versions (e.g. one per ticket of a batch)."""
    spec = definition(name)
    versions = _all_versions(name)

    def value_at(at: dt.datetime) -> Any:
        for effective_from, _version, value in versions:
            if effective_from <= at:
                return spec.kind(value)
        return spec.default

    return value_at


@transaction.atomic
def set_value(name: str, value: Any, *, actor: Any, effective_from: dt.datetime, reason: str) -> Any:
    """Add a new version of ``name`` taking effect at ``effective_from``; earlier versions stay for history."""
    from jianguan.core import audit
    from jianguan.core.models import ParameterValue

    if not actor.has_perm("core.add_parametervalue"):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("core.add_parametervalue")
    spec = definition(name)
    try:
        typed = spec.kind(value)
    except (TypeError, ValueError):
        raise DomainError(
            "parameter.type", f"参数“{spec.label}”的值类型不正确。", fields={"value": ["类型不正确。"]}
        ) from None
    if spec.minimum is not None and typed < spec.minimum or spec.maximum is not None and typed > spec.maximum:
        raise DomainError(
            "parameter.range", f"参数“{spec.label}”超出允许范围（{spec.minimum}～{spec.maximum}）。",
            fields={"value": ["超出允许范围。"]},
        )
    if not reason.strip():
        raise DomainError("parameter.reason", "修改参数必须说明依据或理由。", fields={"reason": ["请填写理由。"]})
    last = ParameterValue.objects.filter(name=name).order_by("-version").first()
    row = ParameterValue.objects.create(
        name=name, value=typed, version=(last.version + 1) if last else 1, effective_from=effective_from,
        author=actor if getattr(actor, "pk", None) else None, reason=reason,
    )
    forget_cached_values()
    transaction.on_commit(forget_cached_values, robust=True)
    audit.record_event("core.parameter.changed", target=row, details={"name": name, "value": typed,
                                                                       "effective_from": effective_from})
    return row
