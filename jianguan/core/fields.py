"""Model fields for personal data: encrypted at rest, with a keyed blind index for equality lookups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models

from jianguan.core.crypto import field_cipher


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Stores an authenticated-encryption token; Python code sees the plaintext.

    Display code must go through the masking template filters, and unmasking through a selector that records a read
    event (``jianguan.core.audit.record_read``). The token's algorithm and key id travel with it, so rotated keys
    still decrypt.
    """

    description = "Encrypted text"

    def associated_data(self) -> bytes:
        """Binds each token to its table and column, so a ciphertext cannot be moved to another field unnoticed."""
        return f"{self.model._meta.label_lower}.{self.name}".encode()

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value  # type: ignore[no-any-return]
        return field_cipher().decrypt(value, associated_data=self.associated_data())

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        cipher = field_cipher()
        if cipher.is_token(value):
            return value
        return cipher.encrypt(str(value), associated_data=self.associated_data())


def blind_index(value: str) -> str:
    """Keyed hash of a normalised value, stored beside an encrypted column for exact-match search."""
    return field_cipher().blind_index(value)


def blind_indexes(value: str) -> list[str]:
    """``blind_index`` of ``value`` under every key of the ring, the active key's first: what a hash stored before
    the last key rotation may equal."""
    cipher = field_cipher()
    active = cipher.active_key_id
    return [cipher.blind_index(value, key_id=k) for k in (active, *sorted(cipher.key_ids - {active}))]


@dataclass(frozen=True)
class BlindIndex:
    """Declares that the model's column ``column`` holds the blind index of its encrypted field ``of``.

    A model lists its declarations in ``blind_index_columns`` (a class attribute, no migration), e.g.
    ``blind_index_columns = (BlindIndex("phone_index", of="phone"),)``. ``jianguan keys`` reads them to recompute
    each index from the decrypted value under the active key after a key rotation (``jianguan.core.keyring``), so
    they must reproduce exactly what the services store: ``normalise`` is applied to the decrypted value before
    hashing (None: the field already holds the normalised value, hashed as it is), and a value that is empty after
    normalising gets an empty index unless ``index_empty`` (then the hash of ``""``, as a service that always
    hashes stores).
    """

    column: str
    of: str
    normalise: Callable[[str], str] | None = None
    index_empty: bool = False

    def compute(self, value: str | None, *, key_id: str | None = None) -> str:
        """The index of the field's (decrypted) ``value`` under ``key_id`` (default: the active key)."""
        text = value or ""
        if self.normalise is not None and text:
            text = self.normalise(text)
        if not text and not self.index_empty:
            return ""
        return field_cipher().blind_index(text, key_id=key_id)


def declared_blind_indexes(model: type[models.Model]) -> tuple[BlindIndex, ...]:
    """The model's ``blind_index_columns`` declarations (none when it declares nothing)."""
    return tuple(getattr(model, "blind_index_columns", ()))


def index_value(model: type[models.Model], column: str, value: str | None) -> str:
    """The value a service stores in the blind-index ``column`` of ``model`` for the plain ``value``: the
    declaration's own formula (:meth:`BlindIndex.compute`), so what services write and what ``jianguan keys
    rotate`` recomputes cannot drift apart."""
    for declared in declared_blind_indexes(model):
        if declared.column == column:
            return declared.compute(value)
    raise LookupError(f"{model.__name__} declares no blind index column {column!r}")
