"""Tracking codes across a key rotation (registered with :func:`jianguan.core.keyring.register_rotation`).

A filing's verification code is derived from its filing number with the keyed hash of the key active when it was
filed, and only a keyed hash of the code is stored (``Complaint.tracking_code_hash``). The tracking page compares
under every key of the ring, so an old code keeps working while its key is in the ring; once the old key is
removed, neither the code nor its hash could be reproduced. :func:`rehash_tracking_codes` therefore re-derives each
old code under the key it was made with and stores its hash under the active key: the reporter's code stays the
same and keeps working after the old key is gone.
"""

from __future__ import annotations

import hmac

from django.db import connection, transaction

from jianguan.core import audit
from jianguan.core.crypto import field_cipher

from .models import Complaint
from .services import tracking_code_for, tracking_hash

REHASHED_EVENT = "complaints.tracking_codes.rehashed"
CHUNK = 2000


def rehash_tracking_codes(dry_run: bool) -> dict[str, int]:
    """Store every ticket's tracking-code hash under the active key; returns the counts (``rehashed``: changed or,
    with ``dry_run``, to change; ``current``: already under the active key; ``unverifiable``: reproduced by no key
    of the ring — filed under a key already removed)."""
    cipher = field_cipher()
    active = cipher.active_key_id
    older = sorted(cipher.key_ids - {active})
    counts = {"rehashed": 0, "current": 0, "unverifiable": 0}
    by_key: dict[str, int] = {}
    table = Complaint._meta.db_table
    with transaction.atomic():
        rows = (Complaint.objects.exclude(tracking_code_hash="").order_by("pk")
                .values_list("pk", "ticket_no", "filing_no", "tracking_code_hash"))
        if not dry_run and connection.vendor == "postgresql":
            rows = rows.select_for_update()
        changes: list[tuple[str, int]] = []
        for pk, ticket_no, filing_no, stored in rows.iterator(chunk_size=CHUNK):
            if hmac.compare_digest(stored, tracking_hash(ticket_no, tracking_code_for(filing_no))):
                counts["current"] += 1
                continue
            new = None
            for key_id in older:
                code = tracking_code_for(filing_no, key_id=key_id)
                rehashed = tracking_hash(ticket_no, code)
                if hmac.compare_digest(stored, rehashed):  # done by an earlier run
                    break
                if hmac.compare_digest(stored, tracking_hash(ticket_no, code, key_id=key_id)):
                    new = rehashed
                    by_key[key_id] = by_key.get(key_id, 0) + 1
                    break
            else:
                counts["unverifiable"] += 1
                continue
            if new is None:
                counts["current"] += 1
                continue
            counts["rehashed"] += 1
            changes.append((new, pk))
        if dry_run or not changes:
            return counts
        with connection.cursor() as cursor:
            for start in range(0, len(changes), CHUNK):
                cursor.executemany(f"UPDATE {table} SET tracking_code_hash = %s WHERE id = %s",  # noqa: S608
                                   changes[start:start + CHUNK])
        audit.record_event(REHASHED_EVENT, object_type=Complaint._meta.label_lower, details={
            "active_key": active, "rehashed": counts["rehashed"], "from_keys": dict(sorted(by_key.items())),
            "unverifiable": counts["unverifiable"],
        })
    return counts
