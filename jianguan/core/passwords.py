"""Password policy (等保 grade 3): complexity here, length/common/similarity by Django's validators, age in
``jianguan.core.middleware``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _


class ComplexityValidator:
    """At least three of: lower-case letters, upper-case letters, digits, symbols."""

    def validate(self, password: str, user: Any = None) -> None:
        classes = sum(
            (
                any(c.islower() for c in password),
                any(c.isupper() for c in password),
                any(c.isdigit() for c in password),
                any(not c.isalnum() for c in password),
            )
        )
        if classes < 3:
            raise ValidationError(
                _(
                    "The password must contain at least three of: lower-case letters, upper-case letters, digits "
                    "and symbols."
                ),
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return _("At least three of: lower-case letters, upper-case letters, digits and symbols.")


def password_expired(user: Any, now: dt.datetime | None = None) -> bool:
    """A password older than PASSWORD_MAX_AGE_DAYS, or never set by its owner, must be changed."""
    if getattr(user, "is_machine", False):
        return False
    changed = getattr(user, "password_changed_at", None)
    if changed is None:
        return True
    now = now or timezone.now()
    return bool(now - changed > dt.timedelta(days=settings.PASSWORD_MAX_AGE_DAYS))
