"""Django validators over ``jianguan.lib.validators``: a bad value becomes a ValidationError whose Chinese
message names the field."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError

from jianguan.lib import validators as v


def _wrap(check: Callable[[str], str]) -> Callable[[str], None]:
    def validator(value: str) -> None:
        if value in (None, ""):
            return
        try:
            check(value)
        except v.ValidationFailure as exc:
            raise ValidationError(exc.message, code=exc.code) from None

    validator.__name__ = f"validate_{check.__name__}"
    return validator


validate_uscc = _wrap(v.validate_uscc)
validate_id_number = _wrap(v.validate_id_number)
validate_region_code = _wrap(v.validate_region_code)
validate_mobile = _wrap(v.validate_mobile)


def normalise(check: Callable[[str], str], value: str) -> str:
    """Return the normalised form of ``value`` or raise ValidationError."""
    try:
        return check(value)
    except v.ValidationFailure as exc:
        raise ValidationError(exc.message, code=exc.code) from None
