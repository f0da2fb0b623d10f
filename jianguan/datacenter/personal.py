"""Personal data in the data centre's copies of delivered rows: which values are personal, and how they are kept.

The master records keep personal data in one of two ways: encrypted (``EncryptedTextField``) or only as a keyed
hash (a blind index). The data centre also keeps copies of delivered rows beside them — a quarantined row as
delivered and as corrected (``QuarantinedRow.record``, ``.corrected`` and the delivered value of each problem in
``.errors``) and a linked row's or a record's own row's standardised values (``EntityLink.record``,
``EntityRow.record``). In those JSON copies the same values
are personal: :data:`PERSONAL_FIELDS` declares them per delivery schema, derived from the master models:

============  ==============  ======================================================================================
schema        row field       kept on the master record as
============  ==============  ======================================================================================
entities      ``phone``       ``core.Subject.phone_index`` (keyed hash; the number is not kept)
inspections,  ``party_code``  ``party_id_number`` (encrypted) + ``party_id_index`` (blind index) of the behaviour
penalties,                    record when it is an ID number; a credit code goes to ``party_uscc`` in clear — the
coercions,                    copy is encrypted either way (a rejected code may be a mistyped ID number), and shown
licenses                      in clear only when it is a valid credit code
officers      ``id_number``   ``core.EnforcementOfficer.id_number`` (encrypted) + ``id_number_index``
officers      ``phone``       ``core.EnforcementOfficer.phone`` (encrypted)
credit, internet, knowledge   none (credit codes and names of entities only)
============  ==============  ======================================================================================

(An individual business's legal representative and address are masked on display but stored in clear on
``core.Subject``; their copies are kept as the master keeps them.)

At rest each personal value in a copy is a token of ``field_cipher()`` bound to its model and JSON field
(``associated_data=b"datacenter.<model>.<field>"``, e.g. ``b"datacenter.quarantinedrow.record"``); the other values
stay in clear. Keys such as ``phone_index`` kept on links are hashes, not numbers, and stay as they are. The
fingerprints that recognise a row delivered again (``runner.fingerprint``) are keyed hashes (HMAC-SHA256 under
``conf.fingerprint_key()``, derived from the blind-index key) of the plaintext, computed before the values are
sealed; :func:`refingerprint_rows` recomputes them under the active key after a key rotation.

Code that needs the plaintext (a split creating a record from a link, a re-run of corrections, the correction
itself) opens the copies with :func:`open_values` / :func:`row_values` / :func:`link_values`; display code masks
them (:func:`masked_values`, the ``mask_phone`` / ``mask_id`` template filters); only
``services.unmask_quarantined_row`` shows them in clear, recording a read event.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction

from jianguan.core.crypto import field_cipher
from jianguan.lib.crypto import CryptoError, FieldCipher, token_key_id
from jianguan.lib.masking import MASK_CHAR, mask_id_number, mask_phone
from jianguan.lib.validators import is_valid_uscc

if TYPE_CHECKING:
    from jianguan.datacenter.models import EntityLink, QuarantinedRow, Source

__all__ = [
    "CHUNK",
    "ERRORS_AAD",
    "FINGERPRINTS_EVENT",
    "LINK_AAD",
    "PERSONAL_FIELDS",
    "QUARANTINE_CORRECTED_AAD",
    "QUARANTINE_RECORD_AAD",
    "REENCRYPTED_EVENT",
    "PersonalField",
    "display_kind",
    "is_masked_form",
    "link_values",
    "mask",
    "masked_errors",
    "masked_values",
    "names_for",
    "names_for_schema",
    "names_for_source",
    "open_errors",
    "open_values",
    "reencrypt_records",
    "refingerprint_rows",
    "row_values",
    "schema_for",
    "seal_errors",
    "seal_values",
    "token_key_id",
]

PHONE = "phone"
ID_NUMBER = "id_number"
PARTY_CODE = "party_code"  # a credit code or an ID number


@dataclass(frozen=True)
class PersonalField:
    """A personal value in a delivered row: its field name in the row and how it is masked (``kind``)."""

    name: str
    kind: str  # PHONE, ID_NUMBER or PARTY_CODE
    master: str  # where the master record keeps it, and how


_PARTY = (PersonalField("party_code", PARTY_CODE, "party_id_number (encrypted) + party_id_index; or party_uscc"),)

#: Per delivery schema (``entities`` or a record library's schema name, ``libraries.SPECS``): its personal fields.
PERSONAL_FIELDS: Mapping[str, tuple[PersonalField, ...]] = {
    "entities": (PersonalField("phone", PHONE, "core.Subject.phone_index (keyed hash)"),),
    "inspections": _PARTY,
    "penalties": _PARTY,
    "coercions": _PARTY,
    "licenses": _PARTY,
    "officers": (
        PersonalField("id_number", ID_NUMBER, "core.EnforcementOfficer.id_number (encrypted) + id_number_index"),
        PersonalField("phone", PHONE, "core.EnforcementOfficer.phone (encrypted)"),
    ),
    "credit": (),
    "internet": (),
    "knowledge": (),
}

QUARANTINE_RECORD_AAD = b"datacenter.quarantinedrow.record"
QUARANTINE_CORRECTED_AAD = b"datacenter.quarantinedrow.corrected"
ERRORS_AAD = b"datacenter.quarantinedrow.errors"
LINK_AAD = b"datacenter.entitylink.record"
OWN_ROW_AAD = b"datacenter.entityrow.record"
REENCRYPTED_EVENT = "datacenter.personal_copies.reencrypted"
FINGERPRINTS_EVENT = "datacenter.row_fingerprints.recomputed"
CHUNK = 2000


# --- which fields -------------------------------------------------------------------------------------------------


def schema_for(library: str, options: Mapping[str, Any] | None) -> str:
    """The delivery schema of a source of ``library`` (the behaviour library's kind comes from its options)."""
    if library == "behaviours":
        return str((options or {}).get("behaviour") or "inspections")
    return library


def names_for_schema(schema: str) -> dict[str, str]:
    """The personal fields of a delivery schema's rows: field name → kind."""
    return {f.name: f.kind for f in PERSONAL_FIELDS.get(schema, ())}


def names_for(library: str, options: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The personal fields of the rows of a source of ``library`` (with its options): field name → kind."""
    return names_for_schema(schema_for(library, options))


def names_for_source(source: Source) -> dict[str, str]:
    """:func:`names_for` of a ``Source``."""
    return names_for(source.library, source.options)


ENTITY_NAMES = names_for("entities")


# --- sealing and opening ------------------------------------------------------------------------------------------


def _seal(cipher: FieldCipher, value: Any, aad: bytes) -> Any:
    if not isinstance(value, str) or value == "" or cipher.is_token(value):
        return value
    return cipher.encrypt(value, associated_data=aad)


def _open(cipher: FieldCipher, value: Any, aad: bytes) -> Any:
    if isinstance(value, str) and cipher.is_token(value):
        return cipher.decrypt(value, associated_data=aad)
    return value


def seal_values(values: Mapping[str, Any] | None, names: Collection[str], aad: bytes) -> dict[str, Any] | None:
    """A copy of ``values`` with the personal ones (non-empty text, not a token already) encrypted."""
    if values is None:
        return None
    cipher = field_cipher()
    return {k: (_seal(cipher, v, aad) if k in names else v) for k, v in values.items()}


def open_values(values: Mapping[str, Any] | None, aad: bytes) -> dict[str, Any] | None:
    """A copy of ``values`` with every token decrypted (whatever field holds it)."""
    if values is None:
        return None
    cipher = field_cipher()
    return {k: _open(cipher, v, aad) for k, v in values.items()}


def seal_errors(errors: Iterable[Mapping[str, Any]], names: Collection[str]) -> list[dict[str, Any]]:
    """The problems of a row with the delivered value of each problem on a personal field encrypted."""
    cipher = field_cipher()
    return [{**e, "value": _seal(cipher, e.get("value", ""), ERRORS_AAD)} if e.get("field") in names else dict(e)
            for e in errors]


def open_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The problems of a row with the delivered values decrypted."""
    cipher = field_cipher()
    return [{**e, "value": _open(cipher, e.get("value", ""), ERRORS_AAD)} for e in errors]


def row_values(row: QuarantinedRow) -> dict[str, Any]:
    """The values a re-run of ``row`` uses (its correction, else the delivered values), decrypted."""
    if row.corrected is not None:
        return open_values(row.corrected, QUARANTINE_CORRECTED_AAD) or {}
    return open_values(row.record, QUARANTINE_RECORD_AAD) or {}


def link_values(link: EntityLink) -> dict[str, Any]:
    """A link's values (the linked row as standardised, ``replaced`` of an adopted code), decrypted."""
    return open_values(link.record, LINK_AAD) or {}


# --- display ------------------------------------------------------------------------------------------------------


def display_kind(kind: str | None, value: Any) -> str | None:
    """How a plaintext value is shown: ``"phone"`` or ``"id_number"`` (masked), None (in clear). A party code is
    shown in clear only when it is a valid credit code (the master record keeps those in clear)."""
    if kind is None or value in (None, ""):
        return None
    if kind == PARTY_CODE:
        return None if is_valid_uscc(str(value)) else ID_NUMBER
    return kind


def mask(kind: str | None, value: Any) -> Any:
    """``value`` (plaintext) as it may be shown: masked for a personal field."""
    shown = display_kind(kind, value)
    if shown == PHONE:
        return mask_phone(str(value))
    if shown == ID_NUMBER:
        return mask_id_number(str(value))
    return value


def masked_values(values: Mapping[str, Any] | None, names: Mapping[str, str]) -> dict[str, Any] | None:
    """Plaintext ``values`` with the personal ones masked."""
    if values is None:
        return None
    return {k: mask(names.get(k), v) for k, v in values.items()}


def masked_errors(errors: Iterable[Mapping[str, Any]], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """Plaintext problems with the delivered value of a personal field masked."""
    return [{**e, "value": mask(names.get(str(e.get("field"))), e.get("value", ""))} for e in errors]


def is_masked_form(kind: str | None, submitted: str, plain: Any) -> bool:
    """``submitted`` is the masked form of ``plain`` (what a form shows for a value the user has not revealed)."""
    return bool(plain) and MASK_CHAR in submitted and submitted == mask(kind, plain)


# --- key rotation -------------------------------------------------------------------------------------------------


def _rewrap(value: Any, aad: bytes, cipher: FieldCipher, counts: dict[str, int], seal: bool) -> Any:
    """``value`` under the active key: a token under another key re-encrypted, a personal value in clear (``seal``)
    encrypted; anything else unchanged."""
    if not isinstance(value, str) or value == "":
        return value
    if cipher.is_token(value):
        key_id = token_key_id(value)
        if key_id == cipher.active_key_id:
            return value
        if key_id not in cipher.key_ids:
            raise CryptoError(f"a token under key id {key_id!r}, which the key ring lacks")
        counts["tokens"] += 1
        return cipher.encrypt(cipher.decrypt(value, associated_data=aad), associated_data=aad)
    if seal:
        counts["sealed"] += 1
        return cipher.encrypt(value, associated_data=aad)
    return value


def _rewrap_values(values: Mapping[str, Any] | None, names: Collection[str], aad: bytes, cipher: FieldCipher,
                   counts: dict[str, int]) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: _rewrap(v, aad, cipher, counts, k in names) for k, v in values.items()}


def reencrypt_records(dry_run: bool = False) -> dict[str, int]:
    """Re-encrypt every personal value embedded in the data centre's JSON copies (quarantined rows: record,
    correction, problems; links and own rows: record) that is not under the active key
    (``field_cipher().active_key_id``), so an old key can leave the ring; a personal value still in clear is
    encrypted too.

    For key rotation (``jianguan keys rotate`` calls it with ``dry_run``). Rows are read in primary-key order, a
    chunk at a time, and written with ``bulk_update``, all in one transaction: a crash or a token under a key the ring
    lacks (``CryptoError``) leaves everything as it was. Returns the rows changed per model and the tokens
    re-encrypted (``tokens``) and values encrypted (``sealed``); running it again returns zeros. One audit event
    (counts and key id only) when something changed.
    """
    from jianguan.core import audit
    from jianguan.datacenter.models import EntityLink, EntityRow, QuarantinedRow

    cipher = field_cipher()
    counts = {"quarantined_rows": 0, "links": 0, "own_rows": 0, "tokens": 0, "sealed": 0}
    with transaction.atomic():
        last = 0
        while True:
            chunk = list(QuarantinedRow.objects.filter(pk__gt=last).order_by("pk")
                         .only("pk", "record", "corrected", "errors", "batch__source__library",
                               "batch__source__options")
                         .select_related("batch__source")[:CHUNK])
            if not chunk:
                break
            last = chunk[-1].pk
            changed = []
            for row in chunk:
                names = names_for_source(row.batch.source)
                record = _rewrap_values(row.record, names, QUARANTINE_RECORD_AAD, cipher, counts)
                corrected = _rewrap_values(row.corrected, names, QUARANTINE_CORRECTED_AAD, cipher, counts)
                errors = [{**e, "value": _rewrap(e.get("value", ""), ERRORS_AAD, cipher, counts,
                                                 e.get("field") in names)} if "value" in e else e
                          for e in (row.errors or [])]
                if (record, corrected, errors) != (row.record, row.corrected, row.errors):
                    row.record, row.corrected, row.errors = record or {}, corrected, errors
                    changed.append(row)
            counts["quarantined_rows"] += len(changed)
            if changed and not dry_run:
                QuarantinedRow.objects.bulk_update(changed, ["record", "corrected", "errors"], batch_size=CHUNK)
        entity_rows: tuple[tuple[type[EntityLink] | type[EntityRow], bytes, str], ...] = (
            (EntityLink, LINK_AAD, "links"), (EntityRow, OWN_ROW_AAD, "own_rows"))
        for model, aad, label in entity_rows:
            last = 0
            while True:
                rows = list(model.objects.filter(pk__gt=last).order_by("pk").only("pk", "record")[:CHUNK])
                if not rows:
                    break
                last = rows[-1].pk
                changed_rows = []
                for row in rows:
                    record = _rewrap_values(row.record, ENTITY_NAMES, aad, cipher, counts)
                    if record != row.record:
                        row.record = record or {}
                        changed_rows.append(row)
                counts[label] += len(changed_rows)
                if changed_rows and not dry_run:
                    model.objects.bulk_update(changed_rows, ["record"], batch_size=CHUNK)
        if not dry_run and (counts["tokens"] or counts["sealed"]):
            audit.record_event(REENCRYPTED_EVENT, details={"key_id": cipher.active_key_id, **counts})
    return counts


def refingerprint_rows(dry_run: bool = False) -> dict[str, int]:
    """Recompute every stored fingerprint (``QuarantinedRow.fingerprint``, ``EntityLink.fingerprint``,
    ``EntityRow.fingerprint``) under the active key, from the stored row (``record`` decrypted, the batch's source
    id) with ``runner.fingerprint`` — what the load computed from the same plaintext — so a row delivered again
    after a key rotation is still recognised (not quarantined twice; a link or a split still stands; a record's own
    row stays its own). Rows without a fingerprint (record libraries) are left out.

    For key rotation (``jianguan keys rotate`` calls it with ``dry_run``; registered as
    ``datacenter.row_fingerprints``). Rows are read in primary-key order, a chunk at a time, and only the
    fingerprint column is written (``bulk_update``), all in one transaction: a record that does not decrypt (a
    token under a key the ring lacks) raises ``CryptoError`` and leaves everything as it was. Returns the
    fingerprints changed per model; running it again returns zeros. One audit event (counts and key id only) when
    something changed.
    """
    from jianguan.core import audit
    from jianguan.datacenter import conf
    from jianguan.datacenter.models import EntityLink, EntityRow, QuarantinedRow
    from jianguan.datacenter.pipeline.runner import fingerprint

    cipher = field_cipher()
    key = conf.fingerprint_key()
    counts = {"quarantined_rows": 0, "links": 0, "own_rows": 0}
    targets: tuple[tuple[type[QuarantinedRow] | type[EntityLink] | type[EntityRow], bytes, str], ...] = (
        (QuarantinedRow, QUARANTINE_RECORD_AAD, "quarantined_rows"), (EntityLink, LINK_AAD, "links"),
        (EntityRow, OWN_ROW_AAD, "own_rows"))
    with transaction.atomic():
        for model, aad, label in targets:
            last = 0
            while True:
                chunk = list(model.objects.filter(pk__gt=last).exclude(fingerprint="").order_by("pk")
                             .values_list("pk", "record", "fingerprint", "batch__source_id")[:CHUNK])
                if not chunk:
                    break
                last = chunk[-1][0]
                changed: list[Any] = []  # of ``model``
                for pk, record, stored, source_id in chunk:
                    try:
                        values = open_values(record, aad) or {}
                    except CryptoError as exc:
                        raise CryptoError(f"{model._meta.label} {pk}: the record does not decrypt ({exc}); "
                                          "no fingerprint was changed") from None
                    new = fingerprint(key, source_id, values)
                    if new != stored:
                        changed.append(model(pk=pk, fingerprint=new))
                counts[label] += len(changed)
                if changed and not dry_run:
                    model.objects.bulk_update(changed, ["fingerprint"], batch_size=CHUNK)
        if not dry_run and any(counts.values()):
            audit.record_event(FINGERPRINTS_EVENT, details={"key_id": cipher.active_key_id, **counts})
    return counts
