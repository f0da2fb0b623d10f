"""Domain errors with stable codes, turned into ``{code, message, fields}`` by the API exception handler."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business-rule violation. ``code`` is stable; ``message`` is shown to users (Chinese first)."""

    status_code = 400

    def __init__(self, code: str, message: str, *, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "fields": self.fields}


class ConflictError(DomainError):
    """Someone else changed the record first (compare-and-swap lost)."""

    status_code = 409


class ScopeViolation(DomainError):
    """A write would leave the actor's data scope; the transaction is rolled back."""

    status_code = 403
