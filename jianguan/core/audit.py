"""Append-only, hash-chained audit log.

Three kinds of records share one chain: automatic before/after diffs (``record_change``, fed by
``jianguan.core.signals``), explicit business events (``record_event``) and reads of sensitive data
(``record_read``). Each entry's hash covers its content and the previous entry's hash; the algorithm (SM3 where the
platform's OpenSSL has it, else SHA-256) is stored per entry so a chain can span a change of algorithm.

Writing and chaining are two steps (ADR 0005). ``append`` inserts the entry in the caller's transaction with a keyed
MAC of its content (``entry_mac``) and no place in the chain yet, so concurrent transactions never wait for each
other on the audit log. ``seal_pending`` then gives committed entries their sequence numbers and chain hashes in
one short transaction under the chain lock: right after the commit in embedded mode, in a worker shortly after it
when a broker is configured, and from the beat schedule as a safety net. An entry is tamper-evident from its insert
(its MAC) and order- and deletion-evident once sealed.

The actor comes from an explicit ``audit_context`` entered by the request middleware, Celery tasks and management
commands, so imports and background work are audited as well as web requests.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from jianguan.core import fastinsert
from jianguan.core.deferred import on_commit_once
from jianguan.lib.crypto import CryptoError, preferred_hash_algorithm

GENESIS_HASH = "0" * 64
_ADVISORY_LOCK_KEY = 0x4A47_4155  # "JGAU"


@dataclass(frozen=True)
class AuditContext:
    """Who is acting, from where, under which request or job."""

    actor_id: int | None = None
    actor_name: str = "system"
    actor_region: str = ""
    ip: str = ""
    request_id: str = ""
    reason: str = ""


_SYSTEM = AuditContext()
_context: contextvars.ContextVar[AuditContext] = contextvars.ContextVar("audit_context", default=_SYSTEM)  # noqa: B039 - frozen


def current_context() -> AuditContext:
    return _context.get()


def context_for_user(user: Any, *, ip: str = "", request_id: str = "", reason: str = "") -> AuditContext:
    if user is None or not getattr(user, "is_authenticated", False):
        return AuditContext(actor_name="anonymous", ip=ip, request_id=request_id, reason=reason)
    return AuditContext(
        actor_id=user.pk,
        actor_name=f"{user.username}({user.display_name})",
        actor_region=user.region_id or "",
        ip=ip,
        request_id=request_id,
        reason=reason,
    )


@contextlib.contextmanager
def audit_context(
    user: Any = None, *, actor_name: str | None = None, ip: str = "", request_id: str = "", reason: str = ""
) -> Iterator[AuditContext]:
    """Run a block with the given actor; ``actor_name`` alone names a system account (e.g. ``system:demo``)."""
    if user is not None:
        ctx = context_for_user(user, ip=ip, request_id=request_id or uuid.uuid4().hex, reason=reason)
    else:
        ctx = AuditContext(
            actor_name=actor_name or "system", ip=ip, request_id=request_id or uuid.uuid4().hex, reason=reason
        )
    token = _context.set(ctx)
    try:
        yield ctx
    finally:
        _context.reset(token)


@contextlib.contextmanager
def use_context(ctx: AuditContext | None) -> Iterator[None]:
    """Run a block under an already built context (e.g. another request's, written on its behalf); None keeps the
    current one."""
    if ctx is None:
        yield
        return
    token = _context.set(ctx)
    try:
        yield
    finally:
        _context.reset(token)


@contextlib.contextmanager
def audit_reason(reason: str) -> Iterator[None]:
    token = _context.set(replace(_context.get(), reason=reason))
    try:
        yield
    finally:
        _context.reset(token)


def _jsonable(value: Any) -> Any:
    """JSON-safe and canonical on both databases: PostgreSQL's jsonb rewrites floats (1e16, -0.0), so floats are
    stored as their repr strings; integers, strings and booleans round-trip exactly."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:  # most values: no conversion, no more tests
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value


def _content_body(entry: Any) -> dict[str, Any]:
    body = {
        "timestamp": entry.timestamp.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "actor_region": entry.actor_region,
        "ip": entry.ip,
        "action": entry.action,
        "event": entry.event,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "before": entry.before,
        "after": entry.after,
        "details": entry.details,
        "reason": entry.reason,
        "success": entry.success,
        "request_id": entry.request_id,
        "algorithm": entry.algorithm,
    }
    if getattr(entry, "nonce", ""):  # entries from before nonces hash as they always did
        body["nonce"] = entry.nonce
    return body


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(_jsonable(body), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def canonical_payload(entry: Any) -> bytes:
    """The bytes an entry's hash covers: every content field plus the previous hash, in a fixed order."""
    return _canonical({**_content_body(entry), "seq": entry.seq, "prev_hash": entry.prev_hash})


def _audit_key() -> bytes:
    configured = settings.AUDIT_KEY
    if configured:
        return configured.encode("utf-8")
    return hashlib.sha256(b"jianguan-audit-key:" + settings.SECRET_KEY.encode("utf-8")).digest()


def chain_algorithm() -> str:
    """The keyed hash for new entries: HMAC-SM3 where OpenSSL offers SM3, else HMAC-SHA256."""
    return f"hmac-{preferred_hash_algorithm()}"


def mac(algorithm: str, data: bytes) -> str:
    """Keyed digest used by the chain; ``algorithm`` is the name stored on the entry."""
    name = algorithm.removeprefix("hmac-")
    if not algorithm.startswith("hmac-") or name not in ("sm3", "sha256"):
        raise CryptoError(f"unknown audit algorithm {algorithm!r}")
    try:
        return hmac.new(_audit_key(), data, name).hexdigest()
    except ValueError as exc:
        raise CryptoError(str(exc)) from exc


def _anchor_mac(anchor: Any) -> str:
    return mac(chain_algorithm(), f"anchor|{anchor.pruned_through_seq}|{anchor.last_hash}".encode())


def content_payload(entry: Any) -> bytes:
    """The bytes an entry's insert-time MAC covers: its content, without its place in the chain (the same bytes as
    :func:`canonical_payload` without ``seq`` and ``prev_hash``: keys sorted, values made JSON-safe alike)."""
    return _canonical(_content_body(entry))


def _lock_chain() -> None:
    """Serialise chain changes: PostgreSQL takes a transaction-scoped advisory lock; SQLite writers are serial."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])


def _try_lock_chain() -> bool:
    """Like ``_lock_chain`` but without waiting: False when another sealer holds the chain."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
        row = cursor.fetchone()
    return bool(row and row[0])


def _chain_head() -> tuple[int, str]:
    from jianguan.core.models import AuditAnchor, AuditEntry

    last = AuditEntry.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", "hash").first()
    if last is not None and last[0] is not None:
        return last[0], last[1]
    anchor = AuditAnchor.objects.order_by("-pruned_through_seq").first()
    if anchor is not None:
        return anchor.pruned_through_seq, anchor.last_hash
    return 0, GENESIS_HASH


def append(action: str, **fields: Any) -> Any:
    """Write one entry inside the caller's transaction; ``seal_pending`` chains it after the commit.

    Fields: ``event``, ``target`` (or ``object_type``/``object_id``/``object_repr``), ``before``, ``after``,
    ``details``, ``reason``, ``success``, ``context`` (default: the current audit context)."""
    [entry] = append_many([(action, fields)])
    return entry


def append_many(entries: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Write several entries (each ``(action, fields)`` as for ``append``) with one statement."""
    built = [_build_entry(action, **fields) for action, fields in entries]
    fastinsert.insert(*built)
    on_commit_once(schedule_seal)
    return built


def _build_entry(
    action: str,
    *,
    event: str = "",
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    reason: str = "",
    success: bool = True,
    context: AuditContext | None = None,
) -> Any:
    from jianguan.core.models import AuditEntry

    ctx = context or _context.get()
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or str(target.pk)
        object_repr = object_repr or str(target)[:200]
    algorithm = chain_algorithm()
    entry = AuditEntry(
        seq=None,
        timestamp=timezone.now(),
        actor_id=ctx.actor_id,
        actor_name=ctx.actor_name[:150],
        actor_region=ctx.actor_region,
        ip=ctx.ip,
        action=action,
        event=event,
        object_type=object_type,
        object_id=object_id[:64],
        object_repr=object_repr[:200],
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        details=_jsonable(details or {}),
        reason=(reason or ctx.reason)[:500],
        success=success,
        request_id=ctx.request_id,
        prev_hash="",
        algorithm=algorithm,
        nonce=secrets.token_hex(16),
    )
    entry.entry_mac = mac(algorithm, content_payload(entry))
    return entry


# --- sealing: chain committed entries in order


def schedule_seal() -> None:
    """After a commit that wrote audit entries: seal them now (embedded mode) or soon in a worker (broker mode)."""
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", True):
        seal_pending()
        return
    from jianguan.core.deferred import run_soon
    from jianguan.core.tasks import seal_audit

    run_soon(seal_audit, "audit-seal", settings.AUDIT_SEAL_DELAY)


def seal_pending(*, batch: int = 2000) -> int:
    """Give committed, unsealed entries their sequence numbers and chain hashes; returns how many were sealed.

    Runs in short transactions of ``batch`` entries under the chain lock. When another process is sealing it
    returns at once: that sealer takes these entries too, and the beat schedule catches any it just missed.
    """
    from jianguan.core.models import AuditEntry

    total = 0
    while True:
        try:
            with transaction.atomic():
                if not _try_lock_chain():
                    return total
                pending = list(AuditEntry.objects.filter(seq__isnull=True).order_by("id")[:batch])
                if not pending:
                    return total
                seq, prev_hash = _chain_head()
                rows = []
                for entry in pending:
                    seq += 1
                    entry.seq, entry.prev_hash = seq, prev_hash
                    entry.hash = mac(entry.algorithm, canonical_payload(entry))
                    rows.append((entry.seq, entry.prev_hash, entry.hash, entry.pk))
                    prev_hash = entry.hash
                _write_seals(rows)
        except IntegrityError:  # SQLite: another process sealed the same head first; its work stands
            return total
        total += len(pending)
        if len(pending) < batch:
            return total


def _write_seals(rows: list[tuple[int, str, str, int]]) -> None:
    """Write ``(seq, prev_hash, hash, id)`` onto unsealed entries: one ``UPDATE … FROM (VALUES …)`` per few hundred
    entries (PostgreSQL and SQLite ≥ 3.33) rather than one statement per entry, which made the seal the database's
    largest single cost per ticket under intake load."""
    from jianguan.core.models import AuditEntry

    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    step = 500
    with connection.cursor() as cursor:
        for start in range(0, len(rows), step):
            chunk = rows[start:start + step]
            values = ", ".join(["(CAST(%s AS bigint), %s, %s, CAST(%s AS bigint))"] * len(chunk))
            cursor.execute(
                f"UPDATE {table} AS t SET seq = v.column1, prev_hash = v.column2, hash = v.column3 "  # noqa: S608 - table name from the model
                f"FROM (VALUES {values}) AS v WHERE t.id = v.column4 AND t.seq IS NULL",
                [value for row in chunk for value in row],
            )


def record_event(
    code: str,
    *,
    target: models.Model | None = None,
    details: dict[str, Any] | None = None,
    reason: str = "",
    success: bool = True,
    **kwargs: Any,
) -> Any:
    """A business audit event with a stable code such as ``core.user.password_reset``."""
    return append("event", event=code, target=target, details=details, reason=reason, success=success, **kwargs)


def record_read(code: str, *, target: models.Model | None = None, fields: list[str], reason: str, **kwargs: Any) -> Any:
    """A read of sensitive data (unmasked personal data): which fields, why."""
    return append("read", event=code, target=target, details={"fields": fields}, reason=reason, **kwargs)


def record_export(code: str, *, object_type: str, count: int, filters: dict[str, Any], fmt: str) -> Any:
    return append(
        "export", event=code, object_type=object_type, details={"count": count, "filters": filters, "format": fmt}
    )


# --- verification and retention


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    problem: str = ""
    seq: int | None = None


def verify_chain(progress: Any = None, *, seal: bool = True) -> VerifyResult:
    """Recompute the keyed chain; report the first altered or missing entry.

    Seals what is pending first (unless ``seal=False``). Checks, in order: the prune anchor's own MAC; that sequence
    numbers are contiguous from the anchor; that each entry links to the previous hash and that both its chain hash
    and its insert-time content MAC match its content; that the newest checkpoint (written outside the database) is
    still present with the same hash, so that removing the newest entries shows; and the content MAC of every entry
    still waiting to be sealed.
    """
    from jianguan.core.models import AuditAnchor, AuditEntry

    if seal:
        seal_pending()
    anchor = AuditAnchor.objects.order_by("-pruned_through_seq").first()
    if anchor is not None and not hmac.compare_digest(anchor.mac, _anchor_mac(anchor)):
        return VerifyResult(False, 0, f"the prune anchor at #{anchor.pruned_through_seq} was forged",
                            anchor.pruned_through_seq)
    expected_seq = (anchor.pruned_through_seq if anchor else 0) + 1
    prev_hash = anchor.last_hash if anchor else GENESIS_HASH
    checkpoint = read_checkpoint()
    checked = 0
    seen_checkpoint = False
    for entry in AuditEntry.objects.filter(seq__isnull=False).order_by("seq").iterator(chunk_size=2000):
        if entry.seq != expected_seq:
            return VerifyResult(False, checked, f"entry #{expected_seq} is missing", expected_seq)
        if entry.prev_hash != prev_hash:
            return VerifyResult(False, checked, f"entry #{entry.seq} does not link to the previous entry", entry.seq)
        problem = _content_problem(entry)
        if problem:
            return VerifyResult(False, checked, f"entry #{entry.seq} {problem}", entry.seq)
        if checkpoint is not None and entry.seq == checkpoint[0]:
            if entry.hash != checkpoint[1]:
                return VerifyResult(False, checked, f"entry #{entry.seq} differs from the checkpoint", entry.seq)
            seen_checkpoint = True
        prev_hash = entry.hash
        expected_seq += 1
        checked += 1
        if progress is not None and checked % 2000 == 0:
            progress(checked)
    if checkpoint is not None and not seen_checkpoint and checkpoint[0] >= expected_seq:
        return VerifyResult(False, checked, f"entries #{expected_seq}–#{checkpoint[0]} are missing (the chain was "
                            "cut back behind its last checkpoint)", expected_seq)
    for entry in AuditEntry.objects.filter(seq__isnull=True).order_by("id").iterator(chunk_size=2000):
        problem = _content_problem(entry, chained=False)
        if problem:
            return VerifyResult(False, checked, f"unsealed entry id {entry.pk} {problem}", None)
        checked += 1
    return VerifyResult(True, checked)


def _content_problem(entry: Any, *, chained: bool = True) -> str:
    """Why an entry's stored hashes do not match its content, or "" when they do."""
    try:
        content_ok = hmac.compare_digest(mac(entry.algorithm, content_payload(entry)), entry.entry_mac)
        chain_ok = not chained or hmac.compare_digest(mac(entry.algorithm, canonical_payload(entry)), entry.hash)
    except CryptoError:
        return "names an unknown algorithm"
    return "" if content_ok and chain_ok else "was altered"


def _checkpoint_path() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_FILE)


def read_checkpoint() -> tuple[int, str] | None:
    """The newest checkpoint whose MAC is valid, as (seq, hash)."""
    path = _checkpoint_path()
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        parts = line.split()
        if len(parts) != 4:
            continue
        seq, entry_hash, _when, tag = parts
        if hmac.compare_digest(tag, mac(chain_algorithm(), f"checkpoint|{seq}|{entry_hash}".encode())):
            return int(seq), entry_hash
    return None


def write_checkpoint() -> int:
    """Append the current chain head to the checkpoint file; returns its sequence number (0 for an empty chain)."""
    from jianguan.core.models import AuditEntry

    head = AuditEntry.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", "hash").first()
    if head is None:
        return 0
    seq, entry_hash = head
    assert seq is not None
    tag = mac(chain_algorithm(), f"checkpoint|{seq}|{entry_hash}".encode())
    path = _checkpoint_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="ascii") as fh:
        fh.write(f"{seq} {entry_hash} {timezone.now():%Y-%m-%dT%H:%M:%S%z} {tag}\n")
    return int(seq)


def prune_expired(*, now: dt.datetime | None = None, dry_run: bool = False) -> int:
    """Delete entries older than the retention period, keeping the chain verifiable through an anchor."""
    from jianguan.core.models import AuditAnchor, AuditEntry

    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS)
    seal_pending()
    with transaction.atomic():
        _lock_chain()
        expired = (AuditEntry.objects.filter(timestamp__lt=cutoff, seq__isnull=False).order_by("-seq")
                   .values_list("seq", "hash").first())
        if expired is None:
            return 0
        last_seq, last_hash = expired
        assert last_seq is not None
        # Only a contiguous prefix of the chain may go.
        count = AuditEntry.objects.filter(seq__lte=last_seq).count()
        if dry_run:
            return count
        anchor = AuditAnchor(pruned_through_seq=last_seq, last_hash=last_hash, pruned_count=count)
        anchor.mac = _anchor_mac(anchor)
        anchor.save()
        # Bypass the append-only guard: retention is the one sanctioned removal, and it is itself audited.
        models.QuerySet(AuditEntry).filter(seq__lte=last_seq)._raw_delete(using="default")
        append(
            "event",
            event="core.audit.pruned",
            details={"through_seq": last_seq, "count": count, "retention_days": settings.AUDIT_RETENTION_DAYS},
        )
    return count
