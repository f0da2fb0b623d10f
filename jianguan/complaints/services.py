"""The write side of 投诉举报: one function per step of the work order's life.

Each service owns its transaction; checks the actor's permission and that the ticket is in the actor's scope; asks
``workflow.next_status`` whether the step is allowed; changes the status with a compare-and-swap update (the row must
still have the status the actor saw, else 409); writes a timeline step, a business audit event and an outbox event
(ids and codes only — never the reporter's identity); and returns the refreshed ticket.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber, Substr
from django.utils import timezone

from jianguan.complaints import calendar, events, params, places, workflow
from jianguan.complaints.choices import (
    COMPLAINT_AND_REPORT,
    INTAKE_KINDS,
    AssignmentRole,
    AssignmentStatus,
    Channel,
    ComplaintKind,
    ComplaintStatus,
    ExtensionStatus,
    ProposalStatus,
    Rating,
    RejectionGround,
    ReturnReason,
    Step,
    SubjectMatch,
    SupervisionKind,
    SupervisionStatus,
)
from jianguan.complaints.models import (
    Assignment,
    Attachment,
    Category,
    ClassificationFeedback,
    Complaint,
    ComplaintEvent,
    DeadlineExtension,
    DuplicateProposal,
    Reporter,
    Supervision,
)
from jianguan.core import audit, fastinsert
from jianguan.core.access import check_in_scope
from jianguan.core.crypto import field_cipher
from jianguan.core.errors import ConflictError, DomainError, ScopeViolation
from jianguan.core.events import publish, publish_many
from jianguan.core.fields import blind_indexes, index_value
from jianguan.core.groupcommit import GroupCommit
from jianguan.core.models import Organization, Subject
from jianguan.core.params import get as get_param
from jianguan.core.params import getter as param_getter
from jianguan.core.scope import user_sees_all_departments
from jianguan.lib import validators as v
from jianguan.lib.masking import mask_address, mask_id_number, mask_name, mask_phone, mask_text

PERM_ADD = "complaints.add_complaint"
PERM_DISPATCH = "complaints.dispatch_complaint"
PERM_HANDLE = "complaints.handle_complaint"
PERM_SUPERVISE = "complaints.supervise_complaint"
PERM_UNMASK = "complaints.unmask_complaint"

KIND_PREFIX = {
    ComplaintKind.COMPLAINT: "TS",
    ComplaintKind.REPORT: "JB",
    ComplaintKind.CONSULTATION: "ZX",
    ComplaintKind.SUGGESTION: "JY",
    ComplaintKind.HELP: "QZ",
}
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ATTACHMENT_TYPES = {"image/jpeg", "image/png", "application/pdf"}
TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


# --- helpers -------------------------------------------------------------------------------------------------------


logger = logging.getLogger(__name__)

def _require(actor: Any, perm: str) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.has_perm(perm):
        raise PermissionDenied(perm)


def _require_visible(actor: Any, complaint: Complaint) -> None:
    """The ticket must be inside the actor's scope (the views already checked; this keeps services honest)."""
    if not Complaint.objects.in_scope_of(actor).filter(pk=complaint.pk).exists():
        raise PermissionDenied("out of scope")


def _actor_name(actor: Any) -> str:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return "公众"
    return str(actor.display_name)


def _timeline(
    complaint: Complaint, step: str, *, actor: Any = None, note: str = "", public: bool = False,
    details: dict[str, Any] | None = None, system: str = "",
) -> ComplaintEvent:
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    event = ComplaintEvent(
        complaint=complaint, step=step, actor=user, actor_name=system or _actor_name(actor),
        organization_id=getattr(user, "organization_id", None), note=note, details=details or {}, public=public,
    )
    fastinsert.insert(event)
    return event


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _payload(complaint: Complaint, **extra: Any) -> events.ComplaintEventPayload:
    category_code = None
    if complaint.category_id:
        category_code = Category.objects.filter(pk=complaint.category_id).values_list("code", flat=True).first()
    org_code = None
    if complaint.handling_org_id:
        org_code = Organization.objects.filter(pk=complaint.handling_org_id).values_list("code", flat=True).first()
    uscc = None
    if complaint.subject_id:
        uscc = Subject.objects.filter(pk=complaint.subject_id).values_list("uscc", flat=True).first()
    return events.ComplaintEventPayload(
        complaint_id=complaint.pk, ticket_no=complaint.ticket_no, filing_no=complaint.filing_no, kind=complaint.kind,
        status=complaint.status, channel=complaint.channel, category_code=category_code,
        region_code=complaint.region_id, handling_region_code=complaint.handling_region_id,
        handling_org_code=org_code, subject_id=complaint.subject_id, subject_uscc=uscc or None,
        at=timezone.now().isoformat(), due_at=_iso(complaint.due_at), **extra,
    )


def _facts(complaint: Complaint, **overrides: Any) -> workflow.Facts:
    values: dict[str, Any] = {
        "kind": complaint.kind,
        "has_category": complaint.category_id is not None,
        "has_handling_org": complaint.handling_org_id is not None,
        "decision_made": complaint.decision_accepted is not None,
        "decision_accepted": complaint.decision_accepted,
        "rating": complaint.rating or None,
        "reply_text": complaint.reply,
    }
    values.update(overrides)
    return workflow.Facts(**values)


def _swap(complaint: Complaint, action: str, facts: workflow.Facts, **updates: Any) -> str:
    """Compare-and-swap: move the row to the action's target status only if it still has the status we read."""
    target = workflow.next_status(action, complaint.status, facts)
    now = timezone.now()
    changed = Complaint.objects.filter(pk=complaint.pk, status=complaint.status).update(
        status=target, updated_at=now, **updates
    )
    if changed != 1:
        raise ConflictError("complaint.conflict", "工单已被他人处理，请刷新后重试。")
    complaint.refresh_from_db()
    return target


def _audit(code: str, complaint: Complaint, **details: Any) -> None:
    audit.record_event(code, target=complaint, details={"ticket_no": complaint.ticket_no, **details})


# --- intake --------------------------------------------------------------------------------------------------------


@dataclass
class IntakeRecord:
    """One submission as it arrives from a channel (validated here, not in the channel)."""

    kind: str
    content: str
    title: str = ""
    region_code: str | None = None
    place_address: str = ""
    occurred_on: dt.date | None = None
    latitude: float | None = None
    longitude: float | None = None
    category_code: str | None = None
    subject_uscc: str = ""
    subject_name: str = ""
    subject_address: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    reporter_id_number: str = ""
    reporter_address: str = ""
    reporter_email: str = ""
    anonymous: bool = False
    external_id: str = ""
    default_region: str = places.PROVINCE


@dataclass
class UploadedFile:
    name: str
    content_type: str
    data: bytes


@dataclass
class IntakeResult:
    complaints: list[Complaint]
    created: bool
    tracking_code: str | None = None

    @property
    def ticket_numbers(self) -> list[str]:
        return [c.ticket_no for c in self.complaints]


@dataclass
class _Clean:
    kind: str
    title: str
    content: str
    region: str
    category: Category | None
    subject: Subject | None
    candidate: Subject | None
    match: str
    uscc: str
    phone: str
    id_number: str
    errors: dict[str, list[str]] = field(default_factory=dict)


def _clean_intake(record: IntakeRecord) -> _Clean:
    errors: dict[str, list[str]] = {}
    kind = (record.kind or "").strip()
    if kind not in INTAKE_KINDS:
        errors["kind"] = ["类型无效：应为投诉、举报、咨询、建议或求助。"]
    content = (record.content or "").strip()
    if len(content) < 5:
        errors["content"] = ["请详细描述诉求内容（至少 5 个字）。"]
    elif len(content) > 5000:
        errors["content"] = ["诉求内容不能超过 5000 字。"]
    title = (record.title or "").strip()[:200] or content[:30]
    uscc = ""
    if record.subject_uscc.strip():
        try:
            uscc = v.validate_uscc(record.subject_uscc)
        except v.ValidationFailure as exc:
            errors["subject_uscc"] = [exc.message]
    phone = ""
    anonymous = record.anonymous
    if record.reporter_phone.strip() and not anonymous:
        try:
            phone = v.validate_mobile(record.reporter_phone)
        except v.ValidationFailure:
            phone = record.reporter_phone.strip()[:20]
            if not phone.replace("-", "").isdigit() or len(phone) < 7:
                errors["reporter_phone"] = ["联系电话格式不正确。"]
    id_number = ""
    if record.reporter_id_number.strip() and not anonymous:
        try:
            id_number = v.validate_id_number(record.reporter_id_number)
        except v.ValidationFailure as exc:
            errors["reporter_id_number"] = [exc.message]
    if kind in (ComplaintKind.COMPLAINT, COMPLAINT_AND_REPORT):
        if anonymous:
            errors["anonymous"] = ["投诉需要调解，不能匿名；匿名反映问题请选择“举报”。"]
        if not record.reporter_name.strip():
            errors["reporter_name"] = ["投诉须留下投诉人姓名。"]
        if not record.reporter_phone.strip():
            errors["reporter_phone"] = ["投诉须留下联系电话。"]
    if record.region_code and not places.known_region(record.region_code):
        errors["region_code"] = ["不是本省有效的行政区划代码。"]
    category = None
    if record.category_code:
        category = Category.objects.filter(code=record.category_code, active=True).first()
        if category is None:
            errors["category_code"] = ["分类编码不存在。"]
    if errors:
        raise DomainError("complaint.invalid", "提交的内容有误，请修改后重新提交。", fields=errors)
    region = places.resolve(
        code=record.region_code, address=f"{record.place_address} {record.subject_address}",
        lat=record.latitude, lon=record.longitude, default=record.default_region,
    )
    subject = candidate = None
    match = SubjectMatch.NONE
    if uscc:
        subject = Subject.objects.filter(uscc=uscc).first()
        if subject is not None:
            match = SubjectMatch.USCC
    return _Clean(kind, title, content, region, category, subject, candidate, match, uscc, phone, id_number)


def new_ticket_no(kind: str, now: dt.datetime | None = None, *, day: str = "") -> str:
    """``TS20250317`` + 10 random digits: unguessable, unique by constraint (a clash retries the intake). ``day``
    (``YYYYMMDD`` in local time) saves the time-zone conversion when many tickets are numbered at once."""
    day = day or f"{timezone.localtime(now or timezone.now()):%Y%m%d}"
    return f"{KIND_PREFIX[ComplaintKind(kind)]}{day}{secrets.randbelow(10**10):010d}"


def tracking_code_for(filing_no: str, *, key_id: str | None = None) -> str:
    """The filing's 8-character verification code for the tracking page: derived with the platform's keyed hash, so
    a retried submission can be answered with the same code; only a keyed hash of it is stored on the ticket.
    ``key_id`` (default: the active key) gives the code a filing got before a key rotation."""
    digest = bytes.fromhex(field_cipher().blind_index(f"tracking-code:{filing_no}", key_id=key_id))
    return "".join(TRACKING_ALPHABET[b % len(TRACKING_ALPHABET)] for b in digest[:8])


def tracking_hash(ticket_no: str, code: str, *, key_id: str | None = None) -> str:
    return field_cipher().blind_index(f"track:{ticket_no}:{code.strip().upper()}", key_id=key_id)


def _tracking_hashes(ticket_no: str, code: str) -> list[str]:
    """The code's hash under every key of the ring: a ticket filed before the last key rotation keeps its hash."""
    return blind_indexes(f"track:{ticket_no}:{code.strip().upper()}")


def issued_tracking_code(complaint: Complaint) -> str | None:
    """The code the filing of ``complaint`` was given, if the ring still reproduces it: derived under the active
    key, else under an older one (filed before a rotation; ``jianguan keys rotate`` re-hashes such codes under
    the active key, see :mod:`jianguan.complaints.rotation`)."""
    stored = complaint.tracking_code_hash
    if not stored:
        return None
    cipher = field_cipher()
    for key_id in (cipher.active_key_id, *sorted(cipher.key_ids - {cipher.active_key_id})):
        code = tracking_code_for(complaint.filing_no, key_id=key_id)
        if any(hmac.compare_digest(stored, h) for h in _tracking_hashes(complaint.ticket_no, code)):
            return code
    return None


def _idempotency_key(actor: Any, key: str | None) -> str | None:
    if not key:
        return None
    key = key.strip()
    if not key or len(key) > 120:
        raise DomainError("complaint.idempotency_key", "幂等键长度应为 1–120 个字符。",
                          fields={"idempotency_key": ["长度应为 1–120 个字符。"]})
    client = f"u{actor.pk}" if getattr(actor, "pk", None) else "public"
    return f"{client}:{key}"


def _existing(idem: str) -> IntakeResult | None:
    first = Complaint.objects.filter(idempotency_key=idem).first()
    if first is None:
        return None
    siblings = list(Complaint.objects.filter(filing_no=first.filing_no).order_by("id"))
    return IntakeResult(siblings, created=False, tracking_code=issued_tracking_code(first))


def receive_complaint(
    record: IntakeRecord,
    *,
    actor: Any,
    channel: str,
    idempotency_key: str | None = None,
    attachments: Sequence[UploadedFile] = (),
) -> IntakeResult:
    """受理前登记: store a submission durably and answer with its ticket number(s) and a tracking code.

    A filing that is both a complaint and a report becomes two tickets sharing one filing number. With an
    idempotency key, a retry answers the tickets created the first time (never a duplicate), even when the first
    answer was lost. The row is committed before this returns, so a 2xx answer means the ticket is stored.
    """
    if actor is not None and getattr(actor, "is_authenticated", False):
        _require(actor, PERM_ADD)
    if channel not in Channel.values:
        raise DomainError("complaint.channel", "未知的受理渠道。")
    idem = _idempotency_key(actor, idempotency_key)
    # Insert first: on the happy path the unique key costs no look-up; a retry hits the constraint and is answered
    # with the tickets stored the first time.
    clean = _clean_intake(record)
    files = _check_files(attachments)
    for _attempt in range(3):
        try:
            return _store(record, clean, actor=actor, channel=channel, idem=idem, files=files)
        except IntegrityError:
            if idem is not None:
                found = _existing(idem)
                if found is not None:
                    return found  # a concurrent retry with the same key won the race
            # else: a ticket-number clash; try again with new numbers
    raise ConflictError("complaint.intake_retry", "系统繁忙，请稍后重试。")


def _write_group(key: Any, items: list[tuple[IntakeRecord, str | None, Any, audit.AuditContext]]
                 ) -> list[IntakeResult | DomainError]:
    _actor_pk, channel = key
    actor = items[0][2]
    return receive_batch([(record, idem) for record, idem, _a, _c in items], actor=actor, channel=channel,
                         contexts=[ctx for _r, _i, _a, ctx in items])


_intake_group: GroupCommit[tuple[IntakeRecord, str | None, Any, audit.AuditContext], IntakeResult | DomainError] = (
    GroupCommit(_write_group, max_batch=100))


def receive_complaint_grouped(record: IntakeRecord, *, actor: Any, channel: str,
                              idempotency_key: str | None = None) -> IntakeResult:
    """``receive_complaint`` for an authenticated client's single ticket without attachments, written together
    with the same client's concurrent submissions in one transaction (``core.groupcommit``): the same answers,
    validation, idempotency and per-ticket audit, at a fraction of the cost per ticket under load. The ticket is
    committed before this returns."""
    _require(actor, PERM_ADD)
    result = _intake_group.submit((actor.pk, channel), (record, idempotency_key, actor, audit.current_context()))
    if isinstance(result, DomainError):
        raise result
    return result


def _known_keys(keys: list[str]) -> set[str]:
    """The idempotency keys among ``keys`` that already have a ticket: one indexed look-up, only the key column
    (this runs for every intake group, so it skips loading and compiling whole ``Complaint`` rows)."""
    if not keys:
        return set()
    meta = Complaint._meta
    quote = connection.ops.quote_name
    sql = (f"SELECT {quote(meta.get_field('idempotency_key').column)} FROM {quote(meta.db_table)} "  # noqa: S608
           f"WHERE {quote(meta.get_field('idempotency_key').column)} IN ({', '.join(['%s'] * len(keys))})")
    with connection.cursor() as cursor:
        cursor.execute(sql, keys)
        return {row[0] for row in cursor.fetchall()}


def receive_batch(
    records: Sequence[tuple[IntakeRecord, str | None]], *, actor: Any, channel: str,
    contexts: Sequence[audit.AuditContext] | None = None,
) -> list[IntakeResult | DomainError]:
    """Batch intake from the 12345 platform or a department system: one answer per record, in order.

    Invalid records are answered with their error and do not hold up the others; records whose idempotency key was
    seen before are answered with their stored tickets; the new ones are written together in one transaction (one
    commit) — tickets, reporters, timeline steps, one outbox event per ticket and one audit event for the batch, or,
    with ``contexts`` (single requests written together, see ``receive_complaint_grouped``), one audit event per
    ticket carrying its own request's actor, address and request id.
    """
    _require(actor, PERM_ADD)
    if channel not in Channel.values:
        raise DomainError("complaint.channel", "未知的受理渠道。")
    results: list[IntakeResult | DomainError | None] = [None] * len(records)
    cleaned: list[tuple[int, IntakeRecord, _Clean, str | None]] = []
    for index, (record, key) in enumerate(records):
        try:
            idem = _idempotency_key(actor, key)
            cleaned.append((index, record, _clean_intake(record), idem))
        except DomainError as exc:
            results[index] = exc
    keys = [idem for _i, _r, _c, idem in cleaned if idem]
    # Optimistic first: nearly every key is new, so the records are written without looking their keys up first
    # (one round trip less per group); a key seen before fails the insert on its unique index, the attempt is
    # rolled back, and the records are answered again after the look-up.
    try:
        return _receive_cleaned(results, cleaned, set(), actor=actor, channel=channel, contexts=contexts,
                                optimistic=True)
    except IntegrityError:
        pass
    return _receive_cleaned(results, cleaned, _known_keys(keys), actor=actor, channel=channel, contexts=contexts)


def _receive_cleaned(
    answers: list[IntakeResult | DomainError | None], cleaned: list[tuple[int, IntakeRecord, _Clean, str | None]],
    known: set[str], *, actor: Any, channel: str, contexts: Sequence[audit.AuditContext] | None,
    optimistic: bool = False,
) -> list[IntakeResult | DomainError]:
    """``receive_batch`` after validation: ``known`` are the idempotency keys that already have tickets. With
    ``optimistic`` a failed write is raised (the caller looks the keys up and tries again) instead of being redone
    one record at a time."""
    results = list(answers)
    fresh: list[tuple[int, IntakeRecord, _Clean, str | None]] = []
    first_of_key: dict[str, int] = {}
    repeats: list[tuple[int, str]] = []
    for index, record, clean, idem in cleaned:
        if idem and idem in known:
            results[index] = _existing(idem)
        elif idem and idem in first_of_key:
            repeats.append((index, idem))  # the same key twice in one batch: answered like a retry
        else:
            if idem:
                first_of_key[idem] = index
            fresh.append((index, record, clean, idem))
    if fresh:
        try:
            stored = _store_many(fresh, actor=actor, channel=channel, contexts=contexts)
        except IntegrityError:  # a key seen before, a concurrent retry or a number clash: fall back to one by one
            if optimistic:
                raise
            stored = {}
            for index, record, _c, idem in fresh:
                with audit.use_context(contexts[index] if contexts else None):
                    stored[index] = receive_complaint(record, actor=actor, channel=channel,
                                                      idempotency_key=(idem or "").split(":", 1)[-1] or None)
        for index, result in stored.items():
            results[index] = result
    for index, idem in repeats:
        results[index] = _existing(idem)
    return [r if r is not None else DomainError("complaint.intake_retry", "系统繁忙，请稍后重试。") for r in results]


@transaction.atomic
def _store_many(
    fresh: list[tuple[int, IntakeRecord, _Clean, str | None]], *, actor: Any, channel: str,
    contexts: Sequence[audit.AuditContext] | None = None,
) -> dict[int, IntakeResult]:
    now = timezone.now()
    day = f"{timezone.localtime(now):%Y%m%d}"
    primaries: list[Complaint] = []
    halves: list[tuple[int, Complaint]] = []
    plans: list[tuple[int, IntakeRecord, _Clean, str]] = []
    for index, record, clean, idem in fresh:
        kinds = [ComplaintKind.COMPLAINT, ComplaintKind.REPORT] if clean.kind == COMPLAINT_AND_REPORT else [clean.kind]
        anonymous = record.anonymous and ComplaintKind.COMPLAINT not in kinds
        ticket_no = new_ticket_no(kinds[0], day=day)
        code = tracking_code_for(ticket_no)
        common: dict[str, Any] = {
            "filing_no": ticket_no, "external_id": record.external_id[:64], "channel": channel,
            "status": ComplaintStatus.RECEIVED, "title": clean.title, "content": clean.content,
            "occurred_on": record.occurred_on, "place_address": record.place_address.strip()[:300],
            "latitude": record.latitude, "longitude": record.longitude, "region_id": clean.region,
            "category": clean.category, "subject": clean.subject, "subject_match": clean.match,
            "subject_name": record.subject_name.strip()[:200], "subject_uscc": clean.uscc,
            "subject_address": record.subject_address.strip()[:300], "handling_region_id": clean.region,
            "anonymous": anonymous, "submitted_at": now, "created_at": now,
        }
        primaries.append(Complaint(ticket_no=ticket_no, idempotency_key=idem, kind=kinds[0],
                                   tracking_code_hash=tracking_hash(ticket_no, code), **common))
        if len(kinds) == 2:
            second_no = new_ticket_no(kinds[1], day=day)
            halves.append((len(primaries) - 1, Complaint(
                ticket_no=second_no, idempotency_key=f"{idem}#2" if idem else None, kind=kinds[1],
                tracking_code_hash=tracking_hash(second_no, code), **common)))
        plans.append((index, record, clean, code))
    fastinsert.insert(*primaries)
    for position, half in halves:
        half.split_from = primaries[position]
    fastinsert.insert(*[h for _p, h in halves])
    by_primary: dict[int, list[Complaint]] = {i: [c] for i, c in enumerate(primaries)}
    for position, half in halves:
        by_primary[position].append(half)
    reporters, steps = [], []
    results: dict[int, IntakeResult] = {}
    for position, (index, record, clean, code) in enumerate(plans):
        tickets = by_primary[position]
        for n, complaint in enumerate(tickets):
            if not complaint.anonymous:
                reporters.append(Reporter(
                    complaint=complaint, name=record.reporter_name.strip()[:50], phone=clean.phone,
                    id_number=clean.id_number, address=record.reporter_address.strip()[:300],
                    email=record.reporter_email.strip()[:100],
                    phone_index=index_value(Reporter, "phone_index", clean.phone)))
            steps.append(ComplaintEvent(complaint=complaint, step=Step.RECEIVED, at=now, actor=actor,
                                        actor_name=_actor_name(actor), organization_id=actor.organization_id,
                                        note="已收到您的诉求，正在登记。", details={"channel": channel}, public=True))
            if n:
                steps.append(ComplaintEvent(complaint=complaint, step=Step.SPLIT, at=now, actor_name="系统",
                                            note="同一诉求既有投诉又有举报，已拆分为两件分别办理。",
                                            details={"from": tickets[0].ticket_no}, public=True))
        results[index] = IntakeResult(tickets, created=True, tracking_code=code)
    every = [c for tickets in by_primary.values() for c in tickets]
    with fastinsert.queued():  # reporters, steps, events and audit entries: one round trip
        fastinsert.insert(*reporters, *steps)
        publish_many(events.RECEIVED, [_payload(complaint) for complaint in every])
        _assist_later(every)
        if contexts is not None:
            audit.append_many([
                ("event", {"event": "complaints.complaint.received", "target": complaint,
                           "context": contexts[index],
                           "details": {"ticket_no": complaint.ticket_no, "channel": channel, "kind": complaint.kind,
                                       "region": complaint.region_id, "filing_no": complaint.filing_no}})
                for position, (index, _record, _clean, _code) in enumerate(plans)
                for complaint in by_primary[position]
            ])
        else:
            audit.record_event("complaints.complaint.received_batch", details={
                "channel": channel, "count": len(every), "tickets": [c.ticket_no for c in every]})
    return results


def _check_files(attachments: Sequence[UploadedFile]) -> list[UploadedFile]:
    if len(attachments) > 5:
        raise DomainError("complaint.attachments", "最多上传 5 个附件。",
                          fields={"attachments": ["最多上传 5 个附件。"]})
    for upload in attachments:
        if len(upload.data) > MAX_ATTACHMENT_BYTES:
            raise DomainError("complaint.attachment_size", "单个附件不能超过 10 MB。",
                              fields={"attachments": [f"{upload.name} 超过 10 MB。"]})
        if upload.content_type not in ATTACHMENT_TYPES or not _sniff_ok(upload):
            raise DomainError("complaint.attachment_type", "附件只能是 JPG、PNG 图片或 PDF 文件。",
                              fields={"attachments": [f"{upload.name} 的格式不受支持。"]})
    return list(attachments)


def _sniff_ok(upload: UploadedFile) -> bool:
    head = upload.data[:8]
    return {
        "image/jpeg": head.startswith(b"\xff\xd8\xff"),
        "image/png": head.startswith(b"\x89PNG\r\n\x1a\n"),
        "application/pdf": head.startswith(b"%PDF"),
    }.get(upload.content_type, False)


@transaction.atomic
def _store(
    record: IntakeRecord, clean: _Clean, *, actor: Any, channel: str, idem: str | None, files: list[UploadedFile]
) -> IntakeResult:
    now = timezone.now()
    kinds = [ComplaintKind.COMPLAINT, ComplaintKind.REPORT] if clean.kind == COMPLAINT_AND_REPORT else [clean.kind]
    anonymous = record.anonymous and ComplaintKind.COMPLAINT not in kinds
    created: list[Complaint] = []
    filing_no = ""
    for index, kind in enumerate(kinds):
        ticket_no = new_ticket_no(kind, now)
        filing_no = filing_no or ticket_no
        code = tracking_code_for(filing_no)
        complaint = Complaint(
            ticket_no=ticket_no, filing_no=filing_no,
            idempotency_key=idem if index == 0 else (f"{idem}#{index + 1}" if idem else None),
            external_id=record.external_id[:64], split_from=created[0] if index else None,
            kind=kind, channel=channel, status=ComplaintStatus.RECEIVED, title=clean.title, content=clean.content,
            occurred_on=record.occurred_on, place_address=record.place_address.strip()[:300],
            latitude=record.latitude, longitude=record.longitude, region_id=clean.region,
            category=clean.category, subject=clean.subject, subject_candidate=clean.candidate,
            subject_match=clean.match, subject_name=record.subject_name.strip()[:200], subject_uscc=clean.uscc,
            subject_address=record.subject_address.strip()[:300], handling_region_id=clean.region,
            anonymous=anonymous, tracking_code_hash=tracking_hash(ticket_no, code), submitted_at=now,
            created_at=now,
        )
        fastinsert.insert(complaint)
        if not anonymous:
            fastinsert.insert(Reporter(
                complaint=complaint, name=record.reporter_name.strip()[:50], phone=clean.phone,
                id_number=clean.id_number, address=record.reporter_address.strip()[:300],
                email=record.reporter_email.strip()[:100],
                phone_index=index_value(Reporter, "phone_index", clean.phone),
            ))
        for upload in files:
            Attachment.objects.create(
                complaint=complaint, file=ContentFile(upload.data, name=upload.name[-100:]), name=upload.name[:200],
                content_type=upload.content_type, size=len(upload.data),
                sha256=hashlib.sha256(upload.data).hexdigest(),
            )
        _timeline(complaint, Step.RECEIVED, actor=actor, public=True,
                  note="已收到您的诉求，正在登记。", details={"channel": channel}, system="" if actor else "公众")
        if index:
            _timeline(complaint, Step.SPLIT, system="系统", public=True,
                      note="同一诉求既有投诉又有举报，已拆分为两件分别办理。",
                      details={"from": created[0].ticket_no})
        created.append(complaint)
    for complaint in created:
        publish(events.RECEIVED, _payload(complaint))
    _assist_later(created)
    for complaint in created:
        _audit("complaints.complaint.received", complaint, channel=channel, kind=complaint.kind,
               region=complaint.region_id, filing_no=filing_no)
    return IntakeResult(created, created=True, tracking_code=tracking_code_for(filing_no))


def _assist_later(tickets: Sequence[Complaint]) -> None:
    """With a broker, the classifier's suggestion, the candidate entity and the duplicate proposals are prepared by
    a worker shortly after commit, for all new tickets at once (``assist_pending``); in embedded mode (eager tasks)
    they are computed when a handler first opens the ticket, so that intake stays light."""
    from django.conf import settings

    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", True) or not tickets:
        return
    transaction.on_commit(schedule_assist, robust=True)


def schedule_assist() -> None:
    """One ``assist_pending`` run per ``COMPLAINT_ASSIST_DELAY`` seconds, taking every ticket committed meanwhile;
    the beat schedule takes any that a lost task left behind."""
    from django.conf import settings

    from jianguan.complaints.tasks import assist_new_complaints
    from jianguan.core.deferred import run_soon

    run_soon(assist_new_complaints, "complaints-assist", settings.COMPLAINT_ASSIST_DELAY)


def assist_pending(*, batch: int = 200, now: dt.datetime | None = None) -> int:
    """Prepare the handler's aids for every ticket not yet assisted, ``batch`` at a time; returns how many.

    The classifier scores a whole batch in one pass; then the batch is claimed (compare-and-swap on
    ``assisted_at``, so parallel workers never do one twice) and assisted set-wise — one claim, one update of the
    suggestions, one look-up of candidate entities, one search for duplicates, one insert of the proposals — in one
    transaction with its claim. If that fails, the batch is redone one ticket at a time, each in its own
    transaction, so one bad ticket is logged and left unclaimed for the next run without holding up the others.
    """
    from jianguan.complaints import classifier

    done = 0
    failed: set[int] = set()
    while True:
        tickets = list(Complaint.objects.filter(assisted_at__isnull=True).exclude(pk__in=failed)
                       .order_by("id")[:batch])
        if not tickets:
            return done
        for name in (params.DUPLICATE_WINDOW, params.DUPLICATE_THRESHOLD, params.DUPLICATE_MAX):
            get_param(name)  # read outside the transactions, so this process's cache keeps them
        try:
            suggestions = classifier.suggest_many([f"{c.title}。{c.content}" for c in tickets])
        except Exception:  # a broken model artifact must not stop candidates and duplicates
            logger.exception("the classifier failed on a batch of new tickets")
            suggestions = [None] * len(tickets)
        categories = {c.code: c for c in Category.objects.filter(
            code__in={s.category_code for s in suggestions if s is not None})}
        plans = list(zip(tickets, suggestions, strict=True))
        try:
            done += _assist(plans, categories, now or timezone.now())
            continue
        except Exception:
            logger.warning("assisting a batch of %d tickets failed; redoing them one by one", len(plans),
                           exc_info=True)
        # each ticket as stored, not as the failed attempt left the instances
        fresh = {c.pk: c for c in Complaint.objects.filter(pk__in=[c.pk for c in tickets])}
        plans = [(fresh[c.pk], suggestion) for c, suggestion in plans if c.pk in fresh]
        for plan in plans:
            try:
                done += _assist([plan], categories, now or timezone.now())
            except Exception:
                logger.exception("preparing the aids of ticket %s failed", plan[0].ticket_no)
                failed.add(plan[0].pk)


@transaction.atomic
def _assist(plans: Sequence[tuple[Complaint, Any]], categories: dict[str, Category], stamp: dt.datetime) -> int:
    """Claim the tickets of ``plans`` (ticket, suggestion or None) not yet claimed and prepare their aids."""
    suggested = []  # set on the instances first, written with the claim (an unclaimed ticket's instance is dropped)
    for complaint, suggestion in plans:
        if suggestion is not None and complaint.suggestion_model is None:
            _apply_suggestion(complaint, suggestion, categories.get(suggestion.category_code))
            suggested.append(complaint)
    claimed = _claim_unassisted([c.pk for c, _s in plans], stamp, suggested)
    tickets = [c for c, _s in plans if c.pk in claimed]
    find_subject_candidates(tickets)
    # only the reporters' blind indexes: loading the reporters would decrypt their names and phones for nothing
    phones = dict(Reporter.objects.filter(complaint__in=[c.pk for c in tickets])
                  .values_list("complaint_id", "phone_index"))
    _propose_many(tickets, {c.pk: phones.get(c.pk, "") for c in tickets})
    return len(tickets)


def _claim_unassisted(pks: list[int], stamp: dt.datetime, suggested: Sequence[Complaint] = ()) -> set[int]:
    """Mark the tickets among ``pks`` that nobody has assisted yet as assisted at ``stamp``, writing the classifier's
    suggestion (``_SUGGESTION_FIELDS`` as set on the instances of ``suggested``) in the same statement; returns
    those claimed (one statement: a worker that lost the race to another gets none of them, and writes nothing).

    One statement rather than a claim and then an update of the suggestions: each is a new version of the ticket's
    row, and with the claim's column in the predicate of an index (``complaints_unassisted``) neither can be a
    heap-only update, so each would write an entry into every index of the table."""
    if not pks:
        return set()
    meta = Complaint._meta
    quote = connection.ops.quote_name
    pk_column = quote(meta.pk.column)
    assisted = quote(meta.get_field("assisted_at").column)
    sets: list[str] = [f"{assisted} = %s"]
    params_: list[Any] = [connection.ops.adapt_datetimefield_value(stamp)]
    if suggested:
        for name in _SUGGESTION_FIELDS:
            field_ = meta.get_field(name)
            assert isinstance(field_, models.Field)
            column = quote(field_.column)
            cases = []
            for complaint in suggested:
                cases.append("WHEN %s THEN %s")
                params_ += [complaint.pk, field_.get_db_prep_save(getattr(complaint, field_.attname), connection)]
            cast = field_.db_type(connection)
            sets.append(f"{column} = CAST(CASE {pk_column} {' '.join(cases)} ELSE {column} END AS {cast})")
    sql = (f"UPDATE {quote(meta.db_table)} SET {', '.join(sets)} "  # noqa: S608 - names from the model, values bound
           f"WHERE {pk_column} IN ({', '.join(['%s'] * len(pks))}) AND {assisted} IS NULL RETURNING {pk_column}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params_, *pks])
        return {row[0] for row in cursor.fetchall()}


def track_complaint(ticket_no: str, code: str) -> Complaint | None:
    """The ticket for the public tracking page, if the verification code matches (constant-time)."""
    complaint = Complaint.objects.filter(ticket_no=(ticket_no or "").strip().upper()).first()
    if complaint is None or not complaint.tracking_code_hash:
        _tracking_hashes("x", code or "")  # same work either way
        return None
    stored = complaint.tracking_code_hash
    # every key compared, not the first match returned: the time taken says nothing about which key matched
    matches = [hmac.compare_digest(stored, h) for h in _tracking_hashes(complaint.ticket_no, code or "")]
    return complaint if any(matches) else None


# --- 12345 centre: register (受理), refuse, merge, split, classify, link, dispatch ------------------------------------


def _start_clock(complaint: Complaint, category: Category | None, now: dt.datetime) -> dict[str, Any]:
    limit = params.handling_limit(complaint.kind, category.code if category else None, at=now)
    fraction = float(get_param(params.REMINDER_FRACTION, at=now))
    return {
        "clock_started_at": now,
        "due_at": calendar.deadline(now, limit.days),
        "due_days": limit.days,
        "due_param": limit.param,
        "due_param_version": limit.version,
        "remind_at": calendar.reminder_point(now, limit.days, fraction),
        "reminded_at": None,
        "overdue_supervised_at": None,
    }


def _keep_feedback(complaint: Complaint, category: Category, actor: Any) -> None:
    if complaint.suggested_category_id and complaint.suggested_category_id != category.pk:
        ClassificationFeedback.objects.create(
            complaint=complaint, suggested_category_id=complaint.suggested_category_id, chosen_category=category,
            confidence=complaint.suggestion_confidence, model_version=complaint.suggestion_model, actor=actor,
        )


@transaction.atomic
def accept_complaint(
    complaint: Complaint, *, actor: Any, category: Category | None = None, kind: str | None = None, note: str = ""
) -> Complaint:
    """受理: register the submission as a work order with its category (confirming or correcting the suggestion);
    the handling clock starts now, from the time limit in force now (its version is stored on the ticket)."""
    _require(actor, PERM_DISPATCH)
    _require_visible(actor, complaint)
    category = category or complaint.category
    if kind and kind not in ComplaintKind.values:
        raise DomainError("complaint.kind", "类型无效。", fields={"kind": ["类型无效。"]})
    kind = kind or complaint.kind
    if category is not None:
        _keep_feedback(complaint, category, actor)
    now = timezone.now()
    probe = Complaint(kind=kind)
    updates = {"category": category, "kind": kind, "registered_at": now, **_start_clock(probe, category, now)}
    _swap(complaint, "accept", _facts(complaint, has_category=category is not None, kind=kind), **updates)
    _timeline(complaint, Step.REGISTERED, actor=actor, note=note or "已受理，正在派单。", public=True,
              details={"category": category.code if category else None, "due_at": _iso(complaint.due_at),
                       "limit_days": complaint.due_days, "setting": complaint.due_param,
                       "setting_version": complaint.due_param_version})
    publish(events.ACCEPTED, _payload(complaint))
    _audit("complaints.complaint.accepted", complaint, category=category.code if category else None,
           due_at=complaint.due_at, setting=complaint.due_param, setting_version=complaint.due_param_version)
    return complaint


@transaction.atomic
def classify_complaint(complaint: Complaint, *, actor: Any, category: Category, note: str = "") -> Complaint:
    """Correct the category before the department takes the ticket (the correction is kept for retraining)."""
    _require(actor, PERM_DISPATCH)
    _require_visible(actor, complaint)
    workflow.next_status("classify", complaint.status, _facts(complaint))
    _keep_feedback(complaint, category, actor)
    old = complaint.category.code if complaint.category else None
    Complaint.objects.filter(pk=complaint.pk).update(category=category, updated_at=timezone.now())
    complaint.refresh_from_db()
    _timeline(complaint, Step.CLASSIFIED, actor=actor, note=note, details={"from": old, "to": category.code})
    _audit("complaints.complaint.classified", complaint, old=old, new=category.code)
    return complaint


@transaction.atomic
def reject_intake(complaint: Complaint, *, actor: Any, ground: str, note: str = "") -> Complaint:
    """不予受理 by the centre (no actionable content, handled elsewhere …); the public note says why."""
    _require(actor, PERM_DISPATCH)
    _require_visible(actor, complaint)
    if ground not in RejectionGround.values:
        raise DomainError("complaint.ground", "请选择不予受理的理由。", fields={"ground": ["请选择理由。"]})
    _swap(complaint, "reject_intake", _facts(complaint), decision_ground=ground, closed_at=timezone.now())
    _timeline(complaint, Step.REJECTED, actor=actor, note=note or str(RejectionGround(ground).label), public=True,
              details={"ground": ground})
    publish(events.REJECTED, _payload(complaint))
    _audit("complaints.complaint.rejected", complaint, ground=ground)
    return complaint


@transaction.atomic
def merge_complaint(complaint: Complaint, *, actor: Any, into: Complaint, note: str = "") -> Complaint:
    """并单: this ticket is a duplicate of ``into`` and is answered with it."""
    _require(actor, PERM_DISPATCH)
    _require_visible(actor, complaint)
    _require_visible(actor, into)
    if into.pk == complaint.pk or into.status in (ComplaintStatus.MERGED, ComplaintStatus.INVALID):
        raise DomainError("complaint.merge_target", "不能并入该工单。",
                          fields={"into": ["请选择一件未办结的其他工单。"]})
    _swap(complaint, "merge", _facts(complaint), merged_into=into, closed_at=timezone.now())
    DuplicateProposal.objects.filter(complaint=complaint, candidate=into).update(status=ProposalStatus.MERGED)
    _timeline(complaint, Step.MERGED, actor=actor, public=True, note=note or f"与工单 {into.ticket_no} 合并办理。",
              details={"into": into.ticket_no})
    _timeline(into, Step.MERGED, actor=actor, note=f"并入工单 {complaint.ticket_no}。",
              details={"merged": complaint.ticket_no})
    publish(events.MERGED, _payload(complaint, merged_into=into.ticket_no))
    _audit("complaints.complaint.merged", complaint, into=into.ticket_no)
    return complaint


@transaction.atomic
def dismiss_duplicate(proposal: DuplicateProposal, *, actor: Any) -> DuplicateProposal:
    _require(actor, PERM_DISPATCH)
    _require_visible(actor, proposal.complaint)
    DuplicateProposal.objects.filter(pk=proposal.pk).update(status=ProposalStatus.DISMISSED)
    proposal.refresh_from_db()
    return proposal


@transaction.atomic
def split_complaint(complaint: Complaint, *, actor: Any, note: str = "") -> Complaint:
    """Split a filing that is both a complaint and a report: a second ticket of the other type is created with the
    same content, filing number and reporter. Returns the new ticket."""
    _require(actor, PERM_DISPATCH)
    _require_visible(actor, complaint)
    workflow.next_status("split", complaint.status, _facts(complaint))
    other = ComplaintKind.REPORT if complaint.kind == ComplaintKind.COMPLAINT else ComplaintKind.COMPLAINT
    now = timezone.now()
    sibling_no = new_ticket_no(other, now)
    sibling = Complaint.objects.create(
        ticket_no=sibling_no, filing_no=complaint.filing_no, split_from=complaint,
        kind=other, channel=complaint.channel, title=complaint.title, content=complaint.content,
        occurred_on=complaint.occurred_on, place_address=complaint.place_address, latitude=complaint.latitude,
        longitude=complaint.longitude, region_id=complaint.region_id, category=complaint.category,
        subject=complaint.subject, subject_candidate=complaint.subject_candidate,
        subject_match=complaint.subject_match, subject_name=complaint.subject_name,
        subject_uscc=complaint.subject_uscc, subject_address=complaint.subject_address,
        handling_region_id=complaint.handling_region_id, anonymous=complaint.anonymous,
        tracking_code_hash=tracking_hash(sibling_no, tracking_code_for(complaint.filing_no)),
        submitted_at=complaint.submitted_at,
    )
    reporter = Reporter.objects.filter(complaint=complaint).first()
    if reporter is not None:
        Reporter.objects.create(
            complaint=sibling, name=reporter.name, phone=reporter.phone, id_number=reporter.id_number,
            address=reporter.address, email=reporter.email, phone_index=reporter.phone_index,
        )
    notes = ((complaint, f"拆分出工单 {sibling.ticket_no}。"), (sibling, f"由工单 {complaint.ticket_no} 拆分。"))
    for target, text in notes:
        _timeline(target, Step.SPLIT, actor=actor, note=note or text, public=True,
                  details={"complaint": complaint.ticket_no, "report": sibling.ticket_no})
    publish(events.RECEIVED, _payload(sibling))
    _audit("complaints.complaint.split", complaint, sibling=sibling.ticket_no)
    return sibling


@transaction.atomic
def link_subject(complaint: Complaint, *, actor: Any, subject: Subject) -> Complaint:
    """Confirm the entity concerned (e.g. the candidate found by name and address)."""
    if not (actor.has_perm(PERM_DISPATCH) or actor.has_perm(PERM_HANDLE)):
        raise PermissionDenied(PERM_DISPATCH)
    _require_visible(actor, complaint)
    workflow.next_status("link_subject", complaint.status, _facts(complaint))
    Complaint.objects.filter(pk=complaint.pk).update(subject=subject, subject_match=SubjectMatch.CONFIRMED,
                                                     updated_at=timezone.now())
    complaint.refresh_from_db()
    _timeline(complaint, Step.SUBJECT_LINKED, actor=actor, details={"subject_id": subject.pk, "uscc": subject.uscc})
    _audit("complaints.complaint.subject_linked", complaint, subject_id=subject.pk)
    return complaint


@transaction.atomic
def answer_directly(complaint: Complaint, *, actor: Any, reply: str) -> Complaint:
    """The centre answers a consultation, suggestion or request for help itself and closes it (直接办结)."""
    _require(actor, PERM_DISPATCH)
    _require_visible(actor, complaint)
    if not reply.strip():
        raise DomainError("complaint.reply_required", "请填写答复内容。", fields={"reply": ["请填写答复内容。"]})
    now = timezone.now()
    _swap(complaint, "answer_directly", _facts(complaint), reply=reply.strip(), replied_at=now, closed_at=now)
    _timeline(complaint, Step.CLOSED, actor=actor, note=reply.strip(), public=True, details={"direct": True})
    publish(events.CLOSED, _payload(complaint))
    _audit("complaints.complaint.closed", complaint, direct=True)
    return complaint


def _check_org_in_reach(actor: Any, org: Organization) -> None:
    prefix = actor.region.scope_prefix if getattr(actor, "region", None) else None
    if prefix is None or not org.region_id.startswith(prefix):
        raise ScopeViolation("scope.region", "所选部门超出您的数据范围。")


@transaction.atomic
def dispatch_complaint(
    complaint: Complaint,
    *,
    actor: Any,
    lead_org: Organization | None = None,
    co_orgs: Iterable[Organization] | None = None,
    note: str = "",
) -> Complaint:
    """派单 (or 改派 when already dispatched): to the lead unit and co-units from the dispatch catalogue, unless the
    dispatcher names them. A complaint's 7-working-day acceptance-decision clock starts at the department."""
    from jianguan.complaints.routing import route

    _require(actor, PERM_DISPATCH)
    _require_visible(actor, complaint)
    reassign = complaint.status != ComplaintStatus.REGISTERED
    routed = None
    if lead_org is None:
        routed = route(complaint.category, complaint.region, kind_hint=complaint.suggested_kind_id)
        lead_org = routed.lead
        if co_orgs is None:
            co_orgs = routed.co_units
    co_list = [o for o in (co_orgs or []) if lead_org is None or o.pk != lead_org.pk]
    for org in [lead_org, *co_list]:
        if org is not None:
            _check_org_in_reach(actor, org)
    now = timezone.now()
    updates: dict[str, Any] = {"dispatched_at": now, "accepted_at": None}
    if lead_org is not None:
        updates.update(handling_org=lead_org, handling_region_id=lead_org.region_id)
    if complaint.kind == ComplaintKind.COMPLAINT:
        days = int(get_param(params.ACCEPT_DECISION, at=now))
        from jianguan.core.params import reading

        updates.update(decision_due_at=calendar.deadline(now, days),
                       decision_due_param_version=reading(params.ACCEPT_DECISION, at=now).version)
    action = "reassign" if reassign else "dispatch"
    _swap(complaint, action, _facts(complaint, has_handling_org=lead_org is not None), **updates)
    assert lead_org is not None
    Assignment.objects.filter(complaint=complaint, active=True).update(
        active=False, status=AssignmentStatus.WITHDRAWN, closed_at=now
    )
    Assignment.objects.create(complaint=complaint, organization=lead_org, role=AssignmentRole.LEAD,
                              assigned_by=actor, note=note[:500])
    for org in co_list:
        Assignment.objects.create(complaint=complaint, organization=org, role=AssignmentRole.CO,
                                  assigned_by=actor, note=note[:500])
    if not check_in_scope(actor, complaint):
        raise ScopeViolation("scope.violation", "操作结果超出您的数据范围，已撤销。")
    _timeline(
        complaint, Step.REASSIGNED if reassign else Step.DISPATCHED, actor=actor, note=note, public=True,
        details={"lead": lead_org.name, "co_units": [o.name for o in co_list],
                 "rule": routed.rule.pk if routed and routed.rule else None},
    )
    publish(events.DISPATCHED, _payload(complaint))
    _audit("complaints.complaint.dispatched", complaint, lead=lead_org.code, co_units=[o.code for o in co_list],
           reassigned=reassign)
    return complaint


# --- department: return (退单), sign off, decide, investigate, reply -------------------------------------------------


def _require_lead_unit(actor: Any, complaint: Complaint) -> None:
    _require(actor, PERM_HANDLE)
    _require_visible(actor, complaint)
    if complaint.handling_org_id != actor.organization_id and not user_sees_all_departments(actor):
        raise DomainError("complaint.not_lead_unit", "只有承办单位可以办理此步骤；协办单位请通过办理意见反馈。")


@transaction.atomic
def return_complaint(complaint: Complaint, *, actor: Any, reason: str, note: str = "") -> Complaint:
    """退单: the department says the ticket is not theirs (with a reason code); the centre re-dispatches (改派)."""
    _require_lead_unit(actor, complaint)
    if reason not in ReturnReason.values:
        raise DomainError("complaint.return_reason", "请选择退单原因。", fields={"reason": ["请选择退单原因。"]})
    if reason == ReturnReason.OTHER and not note.strip():
        raise DomainError("complaint.return_note", "选择“其他”时须说明退单理由。", fields={"note": ["请说明理由。"]})
    org_id = complaint.handling_org_id
    _swap(complaint, "return", _facts(complaint), handling_org=None, dispatched_at=None)
    Assignment.objects.filter(complaint=complaint, active=True).update(
        active=False, status=AssignmentStatus.RETURNED, return_reason=reason, closed_at=timezone.now()
    )
    _timeline(complaint, Step.RETURNED, actor=actor, note=note, details={"reason": reason, "org": org_id})
    _audit("complaints.complaint.returned", complaint, reason=reason, org=org_id)
    return complaint  # the ticket has left the returning department's scope, by design


@transaction.atomic
def sign_for_complaint(complaint: Complaint, *, actor: Any, note: str = "") -> Complaint:
    """签收: the lead unit takes the ticket on."""
    _require_lead_unit(actor, complaint)
    now = timezone.now()
    _swap(complaint, "sign", _facts(complaint), accepted_at=now)
    Assignment.objects.filter(complaint=complaint, active=True, role=AssignmentRole.LEAD).update(
        status=AssignmentStatus.ACCEPTED
    )
    _timeline(complaint, Step.ACCEPTED, actor=actor, note=note or "承办单位已签收。", public=True)
    _audit("complaints.complaint.signed", complaint)
    return complaint


@transaction.atomic
def decide_complaint(
    complaint: Complaint, *, actor: Any, accepted: bool, ground: str = "", note: str = "",
    case_opened: bool | None = None,
) -> Complaint:
    """受理决定: a complaint is accepted for mediation or not (with a ground); a report's verification ends in opening
    a case (立案) or not. A real-name reporter must be told within the notice limit (5 working days)."""
    _require_lead_unit(actor, complaint)
    if not accepted and ground not in RejectionGround.values:
        raise DomainError("complaint.ground", "不予受理须选择理由。", fields={"ground": ["请选择理由。"]})
    now = timezone.now()
    updates: dict[str, Any] = {"decision_accepted": accepted, "decision_ground": "" if accepted else ground,
                               "decided_at": now, "case_opened": case_opened}
    named = Reporter.objects.filter(complaint=complaint).exclude(name="").exists()
    if complaint.kind == ComplaintKind.REPORT and named:
        updates["notify_due_at"] = calendar.deadline(now, int(get_param(params.REPORTER_NOTICE, at=now)))
    _swap(complaint, "decide", _facts(complaint), **updates)
    _timeline(complaint, Step.DECIDED, actor=actor, note=note, public=True,
              details={"accepted": accepted, "ground": ground, "case_opened": case_opened})
    _audit("complaints.complaint.decided", complaint, accepted=accepted, ground=ground, case_opened=case_opened)
    return complaint


@transaction.atomic
def tell_reporter(complaint: Complaint, *, actor: Any, method: str, note: str = "") -> Complaint:
    """告知举报人: the lead unit records that the real-name reporter was told whether a case was opened (立案),
    how (phone, letter, SMS…) — due within 5 working days of the decision (总局令第20号)."""
    _require_lead_unit(actor, complaint)
    workflow.next_status("tell_reporter", complaint.status, _facts(complaint))
    if complaint.notify_due_at is None:
        raise DomainError("complaint.no_notice_due", "本工单无需告知举报人（非实名举报或尚未作出立案决定）。")
    if complaint.reporter_told_at is not None:
        raise ConflictError("complaint.reporter_told", "已登记告知举报人，无需重复登记。")
    method = method.strip()
    if not method:
        raise DomainError("complaint.notice_method", "请填写告知方式。", fields={"method": ["请填写告知方式。"]})
    now = timezone.now()
    if Complaint.objects.filter(pk=complaint.pk, reporter_told_at__isnull=True).update(reporter_told_at=now) != 1:
        raise ConflictError("complaint.reporter_told", "已登记告知举报人，无需重复登记。")
    complaint.reporter_told_at = now
    on_time = now <= complaint.notify_due_at
    _timeline(complaint, Step.REPORTER_TOLD, actor=actor, public=True,
              note="已告知举报人是否立案。" + (f"（{note.strip()}）" if note.strip() else ""),
              details={"method": method[:50], "on_time": on_time})
    _audit("complaints.complaint.reporter_told", complaint, method=method[:50], on_time=on_time)
    return complaint


@transaction.atomic
def record_progress(complaint: Complaint, *, actor: Any, note: str) -> Complaint:
    """办理过程: an investigation note (a co-unit may add one too)."""
    _require(actor, PERM_HANDLE)
    _require_visible(actor, complaint)
    if not note.strip():
        raise DomainError("complaint.note_required", "请填写办理情况。", fields={"note": ["请填写办理情况。"]})
    workflow.next_status("progress", complaint.status, _facts(complaint))
    _timeline(complaint, Step.PROGRESS, actor=actor, note=note.strip())
    _audit("complaints.complaint.progress", complaint)
    return complaint


@transaction.atomic
def reply_complaint(complaint: Complaint, *, actor: Any, reply: str, result: str = "") -> Complaint:
    """回复: the lead unit answers the person (the reply is shown on the tracking page) and reports the result."""
    _require_lead_unit(actor, complaint)
    reply = reply.strip()
    now = timezone.now()
    _swap(complaint, "reply", _facts(complaint, reply_text=reply), reply=reply, result=result.strip(), replied_at=now)
    _timeline(complaint, Step.REPLIED, actor=actor, note=reply, public=True, details={"result": result.strip()})
    publish(events.REPLIED, _payload(complaint))
    _audit("complaints.complaint.replied", complaint, on_time=bool(complaint.due_at and now <= complaint.due_at))
    return complaint


# --- centre: send back, close (办结), follow-up and rating (回访/评价) ----------------------------------------------


@transaction.atomic
def send_back_complaint(complaint: Complaint, *, actor: Any, note: str) -> Complaint:
    """The centre finds the reply insufficient and sends the ticket back to the department."""
    _require(actor, PERM_DISPATCH)
    _require_visible(actor, complaint)
    if not note.strip():
        raise DomainError("complaint.note_required", "请说明退回理由。", fields={"note": ["请说明退回理由。"]})
    _swap(complaint, "send_back", _facts(complaint), replied_at=None)
    _timeline(complaint, Step.SENT_BACK, actor=actor, note=note.strip())
    _audit("complaints.complaint.sent_back", complaint)
    return complaint


@transaction.atomic
def close_complaint(complaint: Complaint, *, actor: Any, note: str = "") -> Complaint:
    """办结: the centre checks the reply and closes the ticket; the follow-up call (回访) comes next."""
    _require(actor, PERM_DISPATCH)
    _require_visible(actor, complaint)
    _swap(complaint, "close", _facts(complaint), closed_at=timezone.now())
    Supervision.objects.filter(complaint=complaint, status=SupervisionStatus.OPEN).exclude(
        kind=SupervisionKind.MANUAL
    ).update(status=SupervisionStatus.ANSWERED, answer="工单已办结。", answered_at=timezone.now())
    _timeline(complaint, Step.CLOSED, actor=actor, note=note or "已办结。", public=True)
    publish(events.CLOSED, _payload(complaint))
    _audit("complaints.complaint.closed", complaint,
           on_time=bool(complaint.due_at and complaint.replied_at and complaint.replied_at <= complaint.due_at))
    return complaint


@transaction.atomic
def rate_complaint(
    complaint: Complaint, *, actor: Any, rating: str, comment: str = "", via: str = "visit"
) -> Complaint:
    """评价: from the follow-up call (回访, by the centre) or from the person on the tracking page. Satisfied → the
    ticket is archived; dissatisfied → it is reopened (重办) with a fresh handling clock."""
    if via == "visit":
        _require(actor, PERM_DISPATCH)
        _require_visible(actor, complaint)
    if rating not in Rating.values:
        raise DomainError("complaint.rating", "请选择评价。", fields={"rating": ["请选择评价。"]})
    action = workflow.rating_action(rating)
    now = timezone.now()
    updates: dict[str, Any] = {"rating": rating, "rating_comment": comment.strip()[:300], "rated_at": now}
    if action == "reopen":
        updates.update(_start_clock(complaint, complaint.category, now))
        updates.update(reopen_count=complaint.reopen_count + 1, replied_at=None, closed_at=None)
    _swap(complaint, action, _facts(complaint, rating=rating), **updates)
    if via == "visit":
        _timeline(complaint, Step.VISITED, actor=actor, note=comment, details={"rating": rating})
    _timeline(complaint, Step.RATED, actor=actor if via == "visit" else None, public=True,
              note=str(Rating(rating).label), details={"rating": rating, "via": via},
              system="" if via == "visit" else "诉求人")
    if action == "reopen":
        Assignment.objects.filter(complaint=complaint, active=True, role=AssignmentRole.LEAD).update(
            status=AssignmentStatus.ACCEPTED
        )
        _timeline(complaint, Step.REOPENED, system="系统", public=True, note="诉求人不满意，工单重办。",
                  details={"due_at": _iso(complaint.due_at), "cycle": complaint.reopen_count})
        publish(events.REOPENED, _payload(complaint, rating=rating))
    else:
        publish(events.RATED, _payload(complaint, rating=rating))
    _audit("complaints.complaint.rated", complaint, rating=rating, via=via, reopened=action == "reopen")
    return complaint


def rate_by_reporter(ticket_no: str, code: str, *, rating: str, comment: str = "") -> Complaint:
    """The person rates their closed ticket on the tracking page (ticket number + verification code)."""
    complaint = track_complaint(ticket_no, code)
    if complaint is None:
        raise DomainError("complaint.tracking", "工单编号或查询码不正确。")
    return rate_complaint(complaint, actor=None, rating=rating, comment=comment, via="portal")


@transaction.atomic
def add_public_update(complaint: Complaint, *, description: str) -> ComplaintEvent:
    """A follow-up from the person (Open311 ``servicerequestupdates`` POST): kept on the timeline."""
    workflow.next_status("public_update", complaint.status, _facts(complaint))
    text = description.strip()
    if not text:
        raise DomainError("complaint.update_empty", "补充内容不能为空。", fields={"description": ["不能为空。"]})
    event = _timeline(complaint, Step.PUBLIC_UPDATE, note=text[:2000], public=True, system="诉求人")
    _audit("complaints.complaint.public_update", complaint)
    return event


# --- 督办 and extensions ----------------------------------------------------------------------------------------------


@transaction.atomic
def supervise_complaint(
    complaint: Complaint, *, actor: Any, instructions: str, reply_days: int | None = None
) -> Supervision:
    """人工督办: a supervisor's instruction with a deadline for the department's answer."""
    _require(actor, PERM_SUPERVISE)
    _require_visible(actor, complaint)
    if not instructions.strip():
        raise DomainError("complaint.instructions", "请填写督办意见。", fields={"instructions": ["请填写督办意见。"]})
    workflow.next_status("supervise", complaint.status, _facts(complaint))
    now = timezone.now()
    days = reply_days if reply_days is not None else int(get_param(params.SUPERVISION_REPLY, at=now))
    if not 1 <= days <= 30:
        raise DomainError("complaint.reply_days", "回复时限应为 1–30 个工作日。", fields={"reply_days": ["1–30。"]})
    supervision = Supervision.objects.create(
        complaint=complaint, kind=SupervisionKind.MANUAL, cycle=complaint.reopen_count,
        instructions=instructions.strip(), reply_due_at=calendar.deadline(now, days), created_by=actor,
    )
    _timeline(complaint, Step.SUPERVISED, actor=actor, note=instructions.strip(),
              details={"kind": SupervisionKind.MANUAL, "reply_due_at": _iso(supervision.reply_due_at)})
    publish(events.SUPERVISED, _payload(complaint, supervision_kind=SupervisionKind.MANUAL))
    _audit("complaints.complaint.supervised", complaint, kind=SupervisionKind.MANUAL)
    return supervision


@transaction.atomic
def answer_supervision(supervision: Supervision, *, actor: Any, answer: str) -> Supervision:
    """The department answers a 督办 (reminders and automatic ones too)."""
    complaint = supervision.complaint
    _require_lead_unit(actor, complaint)
    if not answer.strip():
        raise DomainError("complaint.answer", "请填写督办回复。", fields={"answer": ["请填写回复。"]})
    changed = Supervision.objects.filter(pk=supervision.pk, status=SupervisionStatus.OPEN).update(
        status=SupervisionStatus.ANSWERED, answer=answer.strip(), answered_at=timezone.now(), answered_by=actor
    )
    if changed != 1:
        raise ConflictError("complaint.supervision_answered", "该督办已回复。")
    supervision.refresh_from_db()
    _timeline(complaint, Step.SUPERVISION_ANSWERED, actor=actor, note=answer.strip(),
              details={"supervision": supervision.pk})
    _audit("complaints.supervision.answered", complaint, supervision=supervision.pk)
    return supervision


@transaction.atomic
def request_extension(complaint: Complaint, *, actor: Any, days: int, reason: str) -> DeadlineExtension:
    """延期申请: before the deadline, within the maximum for the ticket's type; a supervisor decides."""
    _require_lead_unit(actor, complaint)
    workflow.next_status("request_extension", complaint.status, _facts(complaint))
    now = timezone.now()
    if complaint.due_at is None or now > complaint.due_at:
        raise DomainError("complaint.extension_late", "已超过办理期限，不能再申请延期。")
    limit_param = params.REPORT_EXTENSION_MAX if complaint.kind == ComplaintKind.REPORT else params.EXTENSION_MAX
    maximum = int(get_param(limit_param, at=now))
    if days < 1 or complaint.extension_days + days > maximum:
        raise DomainError("complaint.extension_days", f"延期累计不能超过 {maximum} 个工作日。",
                          fields={"days": [f"最多还可延长 {max(0, maximum - complaint.extension_days)} 个工作日。"]})
    if not reason.strip():
        raise DomainError("complaint.extension_reason", "请说明延期理由。", fields={"reason": ["请说明理由。"]})
    try:
        with transaction.atomic():
            extension = DeadlineExtension.objects.create(complaint=complaint, days=days, reason=reason.strip(),
                                                         requested_by=actor)
    except IntegrityError:
        raise ConflictError("complaint.extension_pending", "已有一个待审批的延期申请。") from None
    _timeline(complaint, Step.EXTENSION_REQUESTED, actor=actor, note=reason.strip(), details={"days": days})
    _audit("complaints.extension.requested", complaint, days=days)
    return extension


@transaction.atomic
def decide_extension(extension: DeadlineExtension, *, actor: Any, approve: bool, note: str = "") -> DeadlineExtension:
    """Approve (the due date moves on by the working days asked) or refuse an extension."""
    complaint = extension.complaint
    _require(actor, PERM_SUPERVISE)
    _require_visible(actor, complaint)
    workflow.next_status("decide_extension", complaint.status, _facts(complaint))
    now = timezone.now()
    updates: dict[str, Any] = {"status": ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED,
                               "decided_at": now, "decided_by": actor, "decision_note": note[:500]}
    if approve:
        assert complaint.due_at is not None
        new_due = calendar.extend(complaint.due_at, extension.days)
        updates.update(previous_due_at=complaint.due_at, new_due_at=new_due)
    changed = DeadlineExtension.objects.filter(pk=extension.pk, status=ExtensionStatus.PENDING).update(**updates)
    if changed != 1:
        raise ConflictError("complaint.extension_decided", "该延期申请已处理。")
    if approve:
        moved = Complaint.objects.filter(pk=complaint.pk, due_at=complaint.due_at).update(
            due_at=updates["new_due_at"], extension_days=complaint.extension_days + extension.days, updated_at=now
        )
        if moved != 1:
            raise ConflictError("complaint.conflict", "工单期限已被他人修改，请刷新后重试。")
    extension.refresh_from_db()
    complaint.refresh_from_db()
    _timeline(complaint, Step.EXTENSION_DECIDED, actor=actor, note=note, public=approve,
              details={"approved": approve, "days": extension.days, "due_at": _iso(complaint.due_at)})
    _audit("complaints.extension.decided", complaint, approved=approve, days=extension.days, due_at=complaint.due_at)
    return extension


@dataclass
class SweepResult:
    reminded: list[str] = field(default_factory=list)
    supervised: list[str] = field(default_factory=list)
    decision_supervised: list[str] = field(default_factory=list)
    notice_supervised: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"催办提醒 {len(self.reminded)} 件，超期自动督办 {len(self.supervised)} 件，"
                f"受理决定超期督办 {len(self.decision_supervised)} 件，"
                f"告知举报人超期督办 {len(self.notice_supervised)} 件")


#: automatic supervision kind → the ticket's once-per-cycle flag
_SWEEP_FLAGS: dict[str, str] = {
    SupervisionKind.REMINDER: "reminded_at",
    SupervisionKind.OVERDUE: "overdue_supervised_at",
    SupervisionKind.DECISION: "decision_supervised_at",
    SupervisionKind.NOTICE: "notice_supervised_at",
}


_SWEEP_AUDIT_CODES: dict[str, str] = {
    SupervisionKind.REMINDER: "reminded",
    SupervisionKind.OVERDUE: "auto_supervised",
    SupervisionKind.DECISION: "decision_supervised",
    SupervisionKind.NOTICE: "notice_supervised",
}


def sweep_deadlines(*, now: dt.datetime | None = None, dry_run: bool = False, limit: int = 2000) -> SweepResult:
    """The scheduled sweep: a reminder (催办) for tickets past the reminder point, an automatic 督办 for overdue ones,
    for complaints whose acceptance decision is late (7 working days) and for reports whose real-name reporter was
    not told of the decision in time (5 working days) — each at most once per handling cycle (compare-and-swap on
    the ticket, unique per cycle)."""
    now = now or timezone.now()
    found = {
        SupervisionKind.REMINDER: Complaint.objects.due_for_reminder(now).order_by("due_at"),
        SupervisionKind.OVERDUE: Complaint.objects.overdue(now).filter(overdue_supervised_at__isnull=True)
        .order_by("due_at"),
        SupervisionKind.DECISION: Complaint.objects.decision_overdue(now).order_by("decision_due_at"),
        SupervisionKind.NOTICE: Complaint.objects.notice_overdue(now).order_by("notify_due_at"),
    }
    due = {kind: list(qs.values_list("pk", "ticket_no")[:limit]) for kind, qs in found.items()}
    result = SweepResult()
    lists = {SupervisionKind.REMINDER: result.reminded, SupervisionKind.OVERDUE: result.supervised,
             SupervisionKind.DECISION: result.decision_supervised, SupervisionKind.NOTICE: result.notice_supervised}
    with audit.audit_context(actor_name="system:complaints-sweep"):
        for kind, tickets in due.items():
            for pk, ticket_no in tickets:
                if dry_run or _auto_supervise(pk, kind, now):
                    lists[kind].append(ticket_no)
    return result


def _sweep_text(complaint: Complaint, kind: str) -> str:
    def day(value: dt.datetime | None) -> str:
        return f"{timezone.localtime(value):%Y-%m-%d}" if value else ""

    if kind == SupervisionKind.REMINDER:
        return f"办理期限 {day(complaint.due_at)} 即将届满，请抓紧办理。"
    if kind == SupervisionKind.OVERDUE:
        return f"工单已超过办理期限（{day(complaint.due_at)}），自动督办，请说明情况并尽快办结。"
    if kind == SupervisionKind.DECISION:
        return (f"投诉应于 {day(complaint.decision_due_at)} 前作出是否受理的决定，现已超期，自动督办，"
                "请尽快作出受理决定。")
    return (f"应于 {day(complaint.notify_due_at)} 前告知实名举报人是否立案，现已超期，自动督办，"
            "请尽快告知并在系统中登记。")


@transaction.atomic
def _auto_supervise(pk: int, kind: str, now: dt.datetime) -> bool:
    flag = _SWEEP_FLAGS[kind]
    changed = Complaint.objects.filter(pk=pk, **{f"{flag}__isnull": True}).update(**{flag: now})
    if changed != 1:
        return False  # another sweep got there first
    complaint = Complaint.objects.get(pk=pk)
    text = _sweep_text(complaint, kind)
    reply_due = (None if kind == SupervisionKind.REMINDER
                 else calendar.deadline(now, int(get_param(params.SUPERVISION_REPLY, at=now))))
    try:
        with transaction.atomic():
            Supervision.objects.create(complaint=complaint, kind=kind, cycle=complaint.reopen_count,
                                       instructions=text, reply_due_at=reply_due)
    except IntegrityError:
        return False
    step = Step.REMINDED if kind == SupervisionKind.REMINDER else Step.SUPERVISED
    _timeline(complaint, step, system="系统", note=text, details={"kind": kind, "cycle": complaint.reopen_count})
    if kind != SupervisionKind.REMINDER:
        publish(events.SUPERVISED, _payload(complaint, supervision_kind=kind))
    _audit(f"complaints.complaint.{_SWEEP_AUDIT_CODES[kind]}", complaint, due_at=complaint.due_at,
           decision_due_at=complaint.decision_due_at, notify_due_at=complaint.notify_due_at)
    return True


# --- reporter protection (举报人保密) --------------------------------------------------------------------------------


def reporter_masked(complaint: Complaint) -> dict[str, str]:
    """The reporter's identity as every page shows it by default."""
    if complaint.anonymous:
        return {"name": "匿名", "phone": "", "id_number": "", "address": "", "email": ""}
    reporter = getattr(complaint, "reporter", None)
    if reporter is None:
        return {"name": "", "phone": "", "id_number": "", "address": "", "email": ""}
    email = reporter.email
    return {
        "name": mask_name(reporter.name),
        "phone": mask_phone(reporter.phone),
        "id_number": mask_id_number(reporter.id_number),
        "address": mask_address(reporter.address),
        "email": _mask_email(email),
    }


def _mask_email(email: str) -> str:
    if "@" not in email:
        return mask_text(email, 1, 0)
    local, _at, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


@transaction.atomic
def unmask_reporter(complaint: Complaint, *, actor: Any, reason: str) -> dict[str, str]:
    """Show the reporter's identity in clear to a handling role, once, for a stated reason (audited as a read)."""
    _require(actor, PERM_UNMASK)
    _require_visible(actor, complaint)
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise DomainError("unmask.reason_required", "查看举报人信息必须填写事由（至少 4 个字）。",
                          fields={"reason": ["请填写查看事由。"]})
    if complaint.anonymous:
        raise DomainError("unmask.anonymous", "匿名工单没有举报人信息。")
    reporter = Reporter.objects.filter(complaint=complaint).first()
    if reporter is None:
        raise DomainError("unmask.none", "该工单没有登记诉求人信息。")
    audit.record_read("complaints.reporter.unmasked", target=complaint,
                      fields=["name", "phone", "id_number", "address", "email"], reason=reason)
    return {"name": reporter.name, "phone": reporter.phone, "id_number": reporter.id_number,
            "address": reporter.address, "email": reporter.email}


# --- assistance: classification suggestion and duplicates ------------------------------------------------------------


def find_subject_candidate(complaint: Complaint) -> Complaint:
    """An entity named without a credit code: propose the 监管对象 with that name in the same city (shown to the
    handler to confirm). Prepared by the worker shortly after intake, or when a handler first looks at the ticket."""
    find_subject_candidates([complaint])
    return complaint


def find_subject_candidates(tickets: Sequence[Complaint]) -> None:
    """``find_subject_candidate`` for many tickets with one look-up: a ticket gets a candidate when exactly one
    entity of its city (the province for a province-level ticket) bears the reported name."""
    wanted = [c for c in tickets if not c.subject_id and not c.subject_candidate_id and c.subject_name.strip()]
    if not wanted:
        return
    by_name: dict[str, list[tuple[int, str]]] = {}
    for pk, name, region in (Subject.objects.filter(name__in={c.subject_name.strip() for c in wanted},
                                                    region__isnull=False)
                             .order_by("id").values_list("pk", "name", "region_id")):
        by_name.setdefault(name, []).append((pk, region))
    chosen: dict[int, list[Complaint]] = {}
    for complaint in wanted:
        prefix = complaint.region_id[:4] if complaint.region_id != places.PROVINCE else "32"
        found = [pk for pk, region in by_name.get(complaint.subject_name.strip(), []) if region.startswith(prefix)]
        if len(found) == 1:
            chosen.setdefault(found[0], []).append(complaint)
    for subject_pk, complaints in chosen.items():
        Complaint.objects.filter(pk__in=[c.pk for c in complaints], subject__isnull=True).update(
            subject_candidate_id=subject_pk, subject_match=SubjectMatch.CANDIDATE)
        for complaint in complaints:
            complaint.subject_candidate_id = subject_pk
            complaint.subject_match = SubjectMatch.CANDIDATE


def suggest_classification(complaint: Complaint, *, force: bool = False) -> Complaint:
    """Store the classifier's suggestion (category, department kind, confidence) on the ticket, if a model exists."""
    from jianguan.complaints import classifier

    if complaint.suggestion_model is not None and not force:
        return complaint
    suggestion = classifier.suggest(f"{complaint.title}。{complaint.content}")
    if suggestion is None:
        return complaint
    _apply_suggestion(complaint, suggestion, Category.objects.filter(code=suggestion.category_code).first())
    Complaint.objects.bulk_update([complaint], _SUGGESTION_FIELDS)
    complaint.refresh_from_db()
    return complaint


_SUGGESTION_FIELDS = ["suggested_category", "suggested_kind", "suggestion_confidence", "suggestion_model"]


def _apply_suggestion(complaint: Complaint, suggestion: Any, category: Category | None) -> None:
    """Set the classifier's suggestion on the instance (written with ``_SUGGESTION_FIELDS`` by the caller)."""
    complaint.suggested_category = category
    complaint.suggested_kind_id = suggestion.department_kind
    complaint.suggestion_confidence = suggestion.confidence
    complaint.suggestion_model = suggestion.model_version


def propose_duplicates(complaint: Complaint, *, now: dt.datetime | None = None) -> list[DuplicateProposal]:
    """并单建议: earlier open or recent tickets (the latest 100) in the same city about the same entity, address,
    reporter or category within the window (parameter ``complaints.duplicate.window_days``), scored by text
    similarity; the best few (``complaints.duplicate.max_proposals``) above the threshold are stored as proposals
    for the dispatcher to merge or dismiss, and returned."""
    reporter = Reporter.objects.filter(complaint=complaint).only("phone_index").first()
    best = _propose_many([complaint], {complaint.pk: reporter.phone_index if reporter else ""}, now=now)
    chosen = [candidate.pk for candidate, _s, _r in best.get(complaint.pk, [])]
    if not chosen:
        return []
    return list(DuplicateProposal.objects.filter(complaint=complaint, candidate_id__in=chosen)
                .select_related("candidate"))


#: how many of the latest matching tickets are scored for each new one
DUPLICATE_CANDIDATES = 100


def _propose_many(tickets: Sequence[Complaint], reporter_indexes: dict[int, str], *,
                  now: dt.datetime | None = None) -> dict[int, list[tuple[Any, float, list[str]]]]:
    """``propose_duplicates`` for many tickets at once (``reporter_indexes``: ticket → the reporter's phone index,
    "" for none): one indexed search for the tickets sharing any of their keys, one read of the texts of the
    latest candidates of each, one insert of all proposals. Returns ticket → (candidate, score, reasons) stored."""
    from jianguan.complaints.similarity import Candidate, TextCache, score_candidates

    if not tickets:
        return {}
    window_at, threshold_at, most_at = (param_getter(name) for name in (
        params.DUPLICATE_WINDOW, params.DUPLICATE_THRESHOLD, params.DUPLICATE_MAX))
    plans: list[tuple[Complaint, dt.datetime, dt.datetime, float, int]] = []
    for complaint in tickets:
        at = now or complaint.submitted_at
        plans.append((complaint, at - dt.timedelta(days=int(window_at(at))), at, float(threshold_at(at)),
                      int(most_at(at))))
    start, end = min(p[1] for p in plans), max(p[2] for p in plans)
    keys: dict[str, set[Any]] = {"subject_id": {c.subject_id for c in tickets if c.subject_id},
                                 "subject_name": {c.subject_name for c in tickets if c.subject_name},
                                 "place_address": {c.place_address for c in tickets if c.place_address}}
    categories = {c.category_id for c in tickets if c.category_id}
    phones = {i for i in reporter_indexes.values() if i}
    same = Q(pk__in=[])
    for column, values in keys.items():
        if values:  # the text keys repeat the indexes' condition, which the planner must see to use them
            same |= Q(**{f"{column}__in": values}) & (~Q(**{column: ""}) if column in ("subject_name",
                                                                                       "place_address") else Q())
    # Each candidate's reporter phone index, for the tickets of this batch's phones only: no other candidate's can
    # equal a ticket's, so the candidate queries need not join the reporters (a scan of them while the planner's
    # statistics are small).
    phone_of: dict[int, str] = {}
    if phones:
        # The reporters' earlier tickets by primary key, so the search below stays one use of indexes. Looked up by
        # the phone's index alone (the window is applied below): joined with the tickets' window, the planner
        # walked every ticket of the window whenever the statistics were behind (a new or fast-growing table).
        # A repeat filer's latest tickets only, as many as one ticket may consider.
        by_phone: dict[str, list[int]] = {}
        for phone_index, complaint_id in Reporter.objects.filter(phone_index__in=phones).values_list(
                "phone_index", "complaint_id"):
            by_phone.setdefault(phone_index, []).append(complaint_id)
            phone_of[complaint_id] = phone_index
        same |= Q(pk__in=[pk for pks in by_phone.values()
                          for pk in sorted(pks, reverse=True)[:DUPLICATE_CANDIDATES + len(tickets)]])
    in_cities = Q()
    for prefix in {c.region_id[:4] for c in tickets}:
        in_cities |= Q(region__code__startswith=prefix)
    columns = ("pk", "submitted_at", "region_id", "subject_id", "subject_name", "place_address", "category_id")
    candidates = (Complaint.objects.filter(in_cities, submitted_at__gte=start, submitted_at__lte=end)
                  .exclude(status__in=(ComplaintStatus.MERGED, ComplaintStatus.INVALID)).order_by())
    rows = [(*row, phone_of.get(row[0], "")) for row in candidates.filter(same).values_list(*columns)]
    if categories:
        # The category is a broad key: a city's tickets of one category in the window run into thousands, and
        # only the latest few can be a ticket's candidates. So per category and city only the latest come back:
        # as many as a ticket may consider, plus this batch's own tickets (newer than some of the batch).
        cap = DUPLICATE_CANDIDATES + len(tickets)
        latest_of_kind = (candidates.filter(category_id__in=categories)
                          .annotate(kind_rank=Window(RowNumber(), partition_by=[F("category_id"),
                                                                                Substr("region_id", 1, 4)],
                                                     order_by=[F("submitted_at").desc(), F("pk").desc()]))
                          .filter(kind_rank__lte=cap).values_list(*columns))
        known = {row[0] for row in rows}
        rows += [(*row, phone_of.get(row[0], "")) for row in latest_of_kind if row[0] not in known]
    index: dict[tuple[int, Any], list[tuple[Any, ...]]] = {}
    for row in rows:  # each key → its rows
        for position in (3, 4, 5, 6, 7):
            if row[position]:
                index.setdefault((position, row[position]), []).append(row)
    latest: dict[int, list[int]] = {}
    for complaint, since, at, _threshold, _most in plans:
        mine = (3, complaint.subject_id), (4, complaint.subject_name), (5, complaint.place_address), \
            (6, complaint.category_id), (7, reporter_indexes.get(complaint.pk, ""))
        seen = {r[0]: r for position, value in mine if value for r in index.get((position, value), [])}
        ordered = sorted((r for r in seen.values() if r[0] != complaint.pk and since <= r[1] <= at
                          and r[2].startswith(complaint.region_id[:4])), key=lambda r: (r[1], r[0]), reverse=True)
        latest[complaint.pk] = [r[0] for r in ordered[:DUPLICATE_CANDIDATES]]
    details = {row[0]: row for row in rows}
    read: dict[int, Candidate] = {}
    for pk, title, content in Complaint.objects.filter(
            pk__in={pk for pks in latest.values() for pk in pks}).values_list("pk", "title", "content"):
        _pk, _at, _region, subject_id, subject_name, place_address, category_id, phone_index = details[pk]
        read[pk] = Candidate(pk, title, content, subject_id, subject_name, place_address, category_id,
                             phone_index=phone_index or "")
    best: dict[int, list[tuple[Any, float, list[str]]]] = {}
    proposals = []
    texts = TextCache()  # a candidate of many tickets in the batch is cut into bigrams once
    for complaint, _since, _at, threshold, most in plans:
        scored = score_candidates(complaint, [read[pk] for pk in latest[complaint.pk] if pk in read],
                                  reporter_index=reporter_indexes.get(complaint.pk, ""), texts=texts)
        best[complaint.pk] = [item for item in scored if item[1] >= threshold][:most]
        proposals += [DuplicateProposal(complaint=complaint, candidate_id=candidate.pk, score=round(score, 3),
                                        reasons=reasons) for candidate, score, reasons in best[complaint.pk]]
    # a second look updates the scores and keeps a dispatcher's decision; values bound once per statement
    # (``fastinsert``) instead of Django's UNNEST arrays, which psycopg quotes element by element
    fastinsert.insert(*proposals, upsert=(("complaint", "candidate"), ("score", "reasons")))
    return best


# --- the dispatch catalogue -------------------------------------------------------------------------------------------


@transaction.atomic
def save_dispatch_rule(
    *, actor: Any, category: Category, region: Any, lead_kind: Any, level: str, active: bool = True, note: str = "",
    co_kinds: Sequence[str] = (),
) -> Any:
    """Add or change the rule for (category, region); the change is captured by the automatic audit diff."""
    from jianguan.complaints.models import DispatchRule
    from jianguan.core.models import DepartmentKind

    _require(actor, "complaints.manage_complaint")
    prefix = actor.region.scope_prefix if getattr(actor, "region", None) else None
    if prefix is None or not region.code.startswith(prefix):
        raise ScopeViolation("scope.region", "所选地区超出您的数据范围。")
    unknown = [k for k in co_kinds if not DepartmentKind.objects.filter(code=k).exists()]
    if unknown:
        raise DomainError("complaint.co_kinds", "协办部门类别代码不存在：" + "、".join(unknown),
                          fields={"co_kinds_text": ["代码不存在。"]})
    rule, _created = DispatchRule.objects.update_or_create(
        category=category, region=region,
        defaults={"lead_kind": lead_kind, "level": level, "active": active, "note": note, "co_kinds": list(co_kinds)},
    )
    return rule
