"""Re-key the phones of master records after the phone pepper changed (``jianguan datacenter rekey-phones``).

``core.Subject.phone_index`` is SHA-256 of a pepper and the phone's digits (:func:`conf.phone_pepper`, derived from
the platform's blind-index key, i.e. the active key of ``JIANGUAN_FIELD_KEYS``). A hash cannot be turned back into
the number and the master record does not keep it, so a rotation re-keys from the stored source data: every lineage
record that names ``phone_index`` points at the source row (batch, row) whose phone set the key, and the batch store
keeps each batch's delivered rows (``raw.parquet.sealed``, decrypted in memory, see :mod:`jianguan.datacenter.store`).
Each such phone gives its key under the old pepper (the key id the keys were made with, still in the key ring) and
under the new one; a record's key is replaced by the new key of the phone whose old key it is — so a phone is only
ever trusted when it reproduces the stored key. A record whose key no stored row reproduces (its batch files were
removed) has its key cleared: a stale key matches nothing, and the next batch that brings the phone sets it again.

The keys the data centre keeps beside the records are translated the same way: those in the values of links not
split (``EntityLink.record``: ``phone_index`` and ``replaced.phone_index``, used by a split; the link's fingerprint
follows its values) and those of open conflicts on ``phone_index``. Everything is written in one transaction (under
the entity load lock on PostgreSQL), in bulk, with one audit event; a crash leaves every key as it was. Running it
again changes nothing (keys already made with the new pepper are recognised).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Q

from jianguan.core import audit
from jianguan.core.models import Subject
from jianguan.datacenter import conf, personal
from jianguan.datacenter.choices import ConflictStatus, LinkStatus
from jianguan.datacenter.linkage.features import phone_key, phone_match
from jianguan.datacenter.models import Conflict, EntityLink, LineageEntry
from jianguan.datacenter.pipeline.fields import LINEAGE_FIELDS, decode_field_steps
from jianguan.datacenter.pipeline.runner import fingerprint
from jianguan.lib.validators import to_half_width

CHUNK = 2000
_PHONE_SLOT = LINEAGE_FIELDS.index("phone_index")


@dataclass
class RekeyResult:
    """What a re-key did (or, with ``dry_run``, would do)."""

    rekeyed: int = 0  # master records given the key of their phone under the new pepper
    current: int = 0  # master records whose key was made with the new pepper already
    cleared: int = 0  # master records whose phone no stored source row reproduces: key removed
    links: int = 0  # links whose kept keys were translated (or removed)
    conflicts: int = 0  # open phone-key conflicts translated
    rows_read: int = 0  # source rows whose phone was read back from the batch store
    cleared_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"rekeyed": self.rekeyed, "current": self.current, "cleared": self.cleared, "links": self.links,
                "conflicts": self.conflicts, "rows_read": self.rows_read,
                "cleared_ids": self.cleared_ids[:100]}


class RekeyError(ValueError):
    """The re-key cannot go ahead (nothing was written)."""


def _phone_rows() -> dict[int, set[int]]:
    """Per batch, the rows whose phone set a key (every lineage record naming ``phone_index``)."""
    rows: dict[int, set[int]] = defaultdict(set)
    # The compact text has one slot per field in LINEAGE_FIELDS order: the phone key's slot is not empty.
    named = LineageEntry.objects.filter(field_steps__regex=rf"^([^,]*,){{{_PHONE_SLOT}}}[0-9]")
    for batch_id, row_no, field_steps in named.values_list("batch_id", "row_no", "field_steps").iterator(
            chunk_size=10_000):
        if "phone_index" in decode_field_steps(field_steps):
            rows[batch_id].add(row_no)
    return rows


def _read_phones(rows: dict[int, set[int]]) -> dict[tuple[int, int], str]:
    """The phone of each (batch, row) as delivered, from the batch's copy of its rows (those still stored)."""
    from jianguan.datacenter import store

    phones: dict[tuple[int, int], str] = {}
    for batch_id, wanted in sorted(rows.items()):
        try:  # decrypted in memory; a copy that fails authentication stops the re-key (StoreError)
            table = store.read_raw_table(batch_id, columns=["row_no", "phone"],
                                         filters=[("row_no", "in", sorted(wanted))])
        except (KeyError, ValueError):  # no phone column in this delivery
            continue
        if table is None:  # the batch's files were removed from the store
            continue
        for row_no, phone in zip(table.column("row_no").to_pylist(), table.column("phone").to_pylist(),
                                 strict=True):
            if phone:
                phones[(batch_id, int(row_no))] = str(phone)
    return phones


def rekey_subject_phones(*, from_key: str, dry_run: bool = False) -> RekeyResult:
    """Re-key every master record's ``phone_index`` (and the keys kept on links and open conflicts) from the pepper
    of key id ``from_key`` to the current pepper, in one transaction; see the module docstring."""
    old_pepper, new_pepper = conf.phone_pepper(key_id=from_key), conf.phone_pepper()
    result = RekeyResult()
    with transaction.atomic():
        if connection.vendor == "postgresql":  # no batch loads meanwhile (they take the same lock)
            from jianguan.datacenter.pipeline.loader import _ADVISORY_LOCK

            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK])
        rows = _phone_rows()
        open_conflicts = list(Conflict.objects.filter(field="phone_index", status=ConflictStatus.OPEN))
        for conflict in open_conflicts:  # the incoming key's row (a kept value is in no lineage record)
            rows[conflict.batch_id].add(conflict.row_no)
        phones = _read_phones(rows)
        result.rows_read = len(phones)
        # old key → new key of every phone read back; keys made with the new pepper already map to themselves
        translate: dict[str, str] = {}
        for phone in phones.values():
            delivered = to_half_width(phone)  # as the clean step reads it; the key takes the digits only
            if phone_match(delivered):
                new = phone_key(delivered, new_pepper)
                translate[phone_key(delivered, old_pepper)] = new
                translate[new] = new

        changed: list[Subject] = []
        keyed = Subject.objects.exclude(phone_index="").order_by("id").values_list("id", "phone_index")
        for subject_id, stored in keyed.iterator(chunk_size=CHUNK):
            new = translate.get(stored, "")
            if new == stored:
                result.current += 1
                continue
            if new:
                result.rekeyed += 1
            else:
                result.cleared += 1
                result.cleared_ids.append(subject_id)
            changed.append(Subject(pk=subject_id, phone_index=new))
        if result.cleared and not (result.rekeyed or result.current):
            raise RekeyError(f"none of the {result.cleared} phone keys is reproduced with key {from_key!r} or the "
                             "current key: wrong key id, or the batch store is not mounted; nothing was changed")
        links = _translated_links(translate)
        conflicts = _translated_conflicts(open_conflicts, translate)
        result.links, result.conflicts = len(links), len(conflicts)
        if dry_run:
            return result
        # Bulk writes (one UPDATE per chunk): no per-row diffs, the event below tells what happened (ADR 0003).
        Subject.objects.bulk_update(changed, ["phone_index"], batch_size=CHUNK)
        EntityLink.objects.bulk_update(links, ["record", "fingerprint"], batch_size=CHUNK)
        Conflict.objects.bulk_update(conflicts, ["current_value", "incoming_value"], batch_size=CHUNK)
        audit.record_event("datacenter.subject_phone.rekeyed", details={"from_key": from_key, **result.as_dict()})
    return result


def _translated_links(translate: dict[str, str]) -> list[EntityLink]:
    """Links not split whose values keep a phone key (``phone_index``, ``replaced.phone_index``), translated; a key
    no stored row reproduces is dropped (a split then works from the row's phone, as for links without one). Their
    fingerprint is recomputed from the translated values, as a load with the current pepper computes it (and as
    ``personal.refingerprint_rows`` checks it)."""
    out = []
    key = conf.fingerprint_key()
    candidates = EntityLink.objects.exclude(status=LinkStatus.SPLIT).filter(
        Q(record__has_key="phone_index") | Q(record__replaced__has_key="phone_index"))
    for link in candidates.select_related("batch").only("id", "record", "fingerprint", "batch__source_id").iterator(
            chunk_size=CHUNK):
        record = dict(link.record)
        replaced = dict(record.get("replaced") or {})
        touched = False
        for holder in (record, replaced):
            stored = holder.get("phone_index")
            if not stored or translate.get(stored) == stored:
                continue
            touched = True
            if stored in translate:
                holder["phone_index"] = translate[stored]
            elif holder is record:
                del holder["phone_index"]
            else:
                holder["phone_index"] = ""  # what the record held before: unknown now, so nothing to put back
        if touched:
            if "replaced" in record:
                record["replaced"] = replaced
            link.record = record
            if link.fingerprint:
                link.fingerprint = fingerprint(key, link.batch.source_id, personal.link_values(link))
            out.append(link)
    return out


def _translated_conflicts(conflicts: list[Conflict], translate: dict[str, str]) -> list[Conflict]:
    """Open conflicts on the phone's key with both keys translated ("" for a key no stored row reproduces)."""
    out = []
    for conflict in conflicts:
        before = (conflict.current_value, conflict.incoming_value)
        conflict.current_value = translate.get(conflict.current_value, "") if conflict.current_value else ""
        conflict.incoming_value = translate.get(conflict.incoming_value, "") if conflict.incoming_value else ""
        if (conflict.current_value, conflict.incoming_value) != before:
            out.append(conflict)
    return out
