"""Unified item codes (DOMAIN.md "Our own conventions").

* main item: ``32`` + 3-digit department code + 2-digit method code + 4-digit serial = 11 digits;
* item code: main code + 3-digit sub-item serial (``000`` for the main item itself) = 14 digits;
* implementation list: agency USCC (18) + level digit + 14-digit item code = 33 characters.

Serials come from ``CodeSequence`` rows advanced by compare-and-swap, so two editors never get the same number, and
a sequence never goes back: together with items never being deleted, an issued code is never reused.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from jianguan.core.errors import ConflictError, DomainError
from jianguan.lib.validators import ValidationFailure, validate_catalog_code, validate_uscc

PROVINCE_PREFIX = "32"
MAIN_SERIAL_MAX = 9999
SUB_SERIAL_MAX = 999


@dataclass(frozen=True)
class CodeParts:
    department: str
    method: str
    serial: int
    sub_serial: int

    @property
    def main_code(self) -> str:
        return f"{PROVINCE_PREFIX}{self.department}{self.method}{self.serial:04d}"

    @property
    def item_code(self) -> str:
        return f"{self.main_code}{self.sub_serial:03d}"


def main_prefix(department_code: str, method: str) -> str:
    return f"{PROVINCE_PREFIX}{department_code}{method}"


def parse_code(code: str) -> CodeParts:
    """Split an 11- or 14-digit code; raises :class:`ValidationFailure` (Chinese message) when malformed."""
    code = code.strip()
    length = 11 if len(code) == 11 else 14
    code = validate_catalog_code(code, length=length)
    serial = int(code[7:11])
    if serial == 0:
        raise ValidationFailure("catalog_code.serial", "主项流水号不能为0000")
    return CodeParts(code[2:5], code[5:7], serial, int(code[11:14]) if length == 14 else 0)


def _advance(prefix: str, limit: int, *, at_least: int = 0) -> int:
    """Move the sequence of ``prefix`` to its next serial (or to ``at_least`` if that is higher) and return it."""
    from jianguan.catalog.models import CodeSequence

    for _attempt in range(20):
        try:
            with transaction.atomic():
                sequence, _created = CodeSequence.objects.get_or_create(prefix=prefix)
        except IntegrityError:  # created concurrently: read it on the next attempt
            continue
        current = sequence.last_serial
        if at_least:
            if current >= at_least:
                return current
            target = at_least
        else:
            target = current + 1
        if target > limit:
            raise DomainError("catalog.code_exhausted", f"编码前缀{prefix}下的流水号已用尽。")
        if CodeSequence.objects.filter(prefix=prefix, last_serial=current).update(last_serial=target) == 1:
            return target
    raise ConflictError("catalog.code_conflict", "编码分配冲突，请重试。")


def issue_main_code(department_code: str, method: str) -> str:
    """A new 11-digit main-item code (never issued before)."""
    from jianguan.catalog.models import SupervisionItem

    prefix = main_prefix(department_code, method)
    while True:
        serial = _advance(prefix, MAIN_SERIAL_MAX)
        code = f"{prefix}{serial:04d}"
        if not SupervisionItem.objects.filter(main_code=code).exists():
            return code


def issue_sub_code(main_code: str) -> str:
    """A new 14-digit sub-item code under ``main_code`` (serials from 001)."""
    from jianguan.catalog.models import SupervisionItem

    while True:
        serial = _advance(main_code, SUB_SERIAL_MAX)
        code = f"{main_code}{serial:03d}"
        if not SupervisionItem.objects.filter(code=code).exists():
            return code


def reserve_code(code: str) -> None:
    """Record that an explicitly given code (e.g. from an imported file) is in use: its sequence moves past it."""
    parts = parse_code(code)
    _advance(main_prefix(parts.department, parts.method), MAIN_SERIAL_MAX, at_least=parts.serial)
    if parts.sub_serial:
        _advance(parts.main_code, SUB_SERIAL_MAX, at_least=parts.sub_serial)


def implementation_code(uscc: str, level: str, item_code: str) -> str:
    """The implementation-list code: agency USCC + level digit (1–5) + 14-digit item code."""
    uscc = validate_uscc(uscc)
    if level not in ("1", "2", "3", "4", "5"):
        raise ValueError(f"level digit must be 1-5, not {level!r}")
    validate_catalog_code(item_code, length=14)
    return f"{uscc}{level}{item_code}"


def parse_implementation_code(code: str) -> tuple[str, str, str]:
    """``(uscc, level, item_code)`` of an implementation-list code; raises ValidationFailure when malformed."""
    code = code.strip().upper()
    if len(code) != 33:
        raise ValidationFailure("implementation_code.length", f"检查实施清单编码应为33位（当前为{len(code)}位）")
    uscc = validate_uscc(code[:18])
    level = code[18]
    if level not in "12345":
        raise ValidationFailure("implementation_code.level", "检查实施清单编码第19位应为1～5的层级码")
    return uscc, level, validate_catalog_code(code[19:], length=14)
