"""Display masking for personal information (names, ID numbers, phone numbers, addresses).

Masking is for display and export only; it is not a security boundary on its own (see DOMAIN.md §6.2 and §8).
Every function accepts ``None`` and returns ``""`` for it. Lengths are counted in Unicode code points, so a Chinese
character counts as one character.
"""

from __future__ import annotations

__all__ = ["MASK_CHAR", "mask_address", "mask_id_number", "mask_name", "mask_phone", "mask_text"]

MASK_CHAR = "*"
"""The character that replaces hidden characters."""

_ADDRESS_KEEP = 6
_ADDRESS_SUFFIX = MASK_CHAR * 4


def mask_text(value: str | None, keep_start: int, keep_end: int) -> str:
    """Keep ``keep_start`` leading and ``keep_end`` trailing characters and replace the rest with ``*``.

    The output has the same length as the input. When the value is too short to hide anything while keeping both
    ends (``len(value) <= keep_start + keep_end``), every character is masked rather than revealing the whole value.
    """
    if keep_start < 0 or keep_end < 0:
        raise ValueError("keep_start and keep_end must not be negative")
    if not value:
        return ""
    length = len(value)
    if length <= keep_start + keep_end:
        return MASK_CHAR * length
    tail = value[length - keep_end :] if keep_end else ""
    return value[:keep_start] + MASK_CHAR * (length - keep_start - keep_end) + tail


def mask_name(value: str | None) -> str:
    """Keep the first character of a name and mask the rest: 张三 → 张*, 欧阳娜娜 → 欧***.

    A one-character name is returned unchanged; surrounding whitespace is removed.
    """
    if not value:
        return ""
    name = value.strip()
    if len(name) <= 1:
        return name
    return name[0] + MASK_CHAR * (len(name) - 1)


def mask_id_number(value: str | None) -> str:
    """Keep the first 4 and last 4 characters of an ID number: ``3201**********123X``."""
    if not value:
        return ""
    return mask_text(value.strip(), 4, 4)


def mask_phone(value: str | None) -> str:
    """Keep the first 3 and last 4 characters of a phone number: ``138****5678``."""
    if not value:
        return ""
    return mask_text(value.strip(), 3, 4)


def mask_address(value: str | None) -> str:
    """Keep the first 6 characters of an address and append ``****`` (the suffix hides the real length)."""
    if not value:
        return ""
    address = value.strip()
    if not address:
        return ""
    return address[:_ADDRESS_KEEP] + _ADDRESS_SUFFIX
