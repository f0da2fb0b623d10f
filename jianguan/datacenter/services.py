"""Write side of the data centre: sources, batches, quarantine corrections, links and conflicts.

Every function re-checks the actor's permission and scope, owns its transaction, and leaves an audit trail. Long work
(running a batch) happens in a ``core.Job`` started here and executed by :func:`process_batch`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import traceback
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from jianguan.core import audit, events, jobs
from jianguan.core import services as core_services
from jianguan.core.access import check_in_scope
from jianguan.core.errors import ConflictError, DomainError, ScopeViolation
from jianguan.core.models import Organization, Region, Subject
from jianguan.datacenter import conf, personal, store
from jianguan.datacenter.choices import (
    BatchKind,
    BatchStatus,
    Channel,
    ConflictStatus,
    FileFormat,
    Library,
    LineageAction,
    LinkMethod,
    LinkStatus,
    QuarantineStatus,
)
from jianguan.datacenter.events import BATCH_LOADED, BatchLoaded
from jianguan.datacenter.linkage.features import phone_key
from jianguan.datacenter.models import (
    Batch,
    Conflict,
    EntityLink,
    LineageEntry,
    LineageRecord,
    QuarantinedRow,
    Source,
)
from jianguan.datacenter.pipeline.fields import FIELD_NAMES, MASTER_FIELDS, step_mask
from jianguan.lib.masking import MASK_CHAR
from jianguan.lib.validators import ValidationFailure, validate_mobile

logger = logging.getLogger(__name__)
INGEST_JOB = "datacenter.ingest"
SOURCE_FIELDS = (
    "code", "name", "kind", "library", "channel", "file_format", "field_mapping", "options", "schedule_minutes",
    "priority", "freshness_days", "contact_name", "contact_phone", "enabled",
)


class SystemActor:
    """The data centre itself (scheduled pulls, command-line deliveries): every permission, no region limit; its
    actions are audited under the ``system:datacenter`` name set by the caller's audit context."""

    pk = None
    is_system = True
    is_authenticated = True
    is_active = True
    username = "system:datacenter"
    region = None
    region_id = None
    organization_id = None

    def has_perm(self, perm: str) -> bool:
        return True


def _require(actor: Any, perm: str) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied(perm)


def _recheck(actor: Any, obj: Any) -> None:
    if getattr(actor, "is_system", False):
        return
    if not check_in_scope(actor, obj):
        raise ScopeViolation("scope.violation", "操作结果超出您的数据范围，已撤销。")


# --- Sources ----------------------------------------------------------------------------------------------------------


def _clean_source(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    mapping = data.get("field_mapping") or {}
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        errors["field_mapping"] = ["字段映射应为“标准字段: 源列名”的对应关系。"]
    elif data.get("library", Library.ENTITIES) == Library.ENTITIES:
        unknown = sorted(set(mapping) - set(FIELD_NAMES))
        if unknown:
            errors["field_mapping"] = ["未知的标准字段：" + "、".join(unknown)]
    if data.get("channel", Channel.FILE) == Channel.FILE and not data.get("file_format"):
        errors["file_format"] = ["文件交换方式须选择文件格式。"]
    if data.get("file_format") and data["file_format"] not in FileFormat.values:
        errors["file_format"] = ["不支持的文件格式。"]
    if not isinstance(data.get("options", {}), dict):
        errors["options"] = ["选项应为JSON对象。"]
    if data.get("contact_phone"):
        try:
            data["contact_phone"] = validate_mobile(data["contact_phone"])
        except ValidationFailure as exc:
            errors["contact_phone"] = [exc.message]
    if errors:
        raise DomainError("validation", "；".join(m for ms in errors.values() for m in ms), fields=errors)
    return data


@transaction.atomic
def create_source(*, actor: Any, owner: Organization, region: Region | None = None, **data: Any) -> Source:
    """Register a data source owned by ``owner`` (a department inside the actor's scope)."""
    _require(actor, "datacenter.add_source")
    data = _clean_source(data)
    region = region or owner.region
    core_services._check_target_in_scope(actor, region, owner)
    if Source.objects.filter(code=data["code"]).exists():
        raise DomainError("source.exists", "数据源代码已被使用。", fields={"code": ["数据源代码已被使用。"]})
    if data.get("schedule_minutes") and data.get("channel") in (Channel.HTTP_API, Channel.SQL):
        data["next_run_at"] = timezone.now()
    source: Source = Source.objects.create(owner=owner, region=region, **data)
    _recheck(actor, source)
    return source


@transaction.atomic
def update_source(source: Source, *, actor: Any, **data: Any) -> Source:
    """Change a source's settings (code, owner and region stay)."""
    _require(actor, "datacenter.change_source")
    _recheck(actor, source)
    unknown = set(data) - set(SOURCE_FIELDS) - {"code"}
    if unknown:
        raise DomainError("validation", "不能修改：" + "、".join(sorted(unknown)))
    merged = {f: getattr(source, f) for f in SOURCE_FIELDS}
    merged.update(data)
    merged = _clean_source(merged)
    for key in data:
        setattr(source, key, merged[key])
    source.save()
    _recheck(actor, source)
    return source


# --- Batches ----------------------------------------------------------------------------------------------------------


def check_ingest_allowed(actor: Any, source: Source) -> None:
    """The actor may deliver data for this source now (permission, scope, enabled, supported library)."""
    _require(actor, "datacenter.ingest_source")
    if not getattr(actor, "is_system", False) and not check_in_scope(actor, source):
        raise ScopeViolation("scope.violation", "数据源超出您的数据范围。")
    if not source.enabled:
        raise DomainError("source.disabled", "数据源已停用，不能接入数据。")
    if source.library in (Library.CATALOG, Library.COMPLAINTS):
        raise DomainError("source.library_event_fed",
                          "目录清单库和投诉举报库由目录清单、投诉举报模块的事件自动汇聚，不接收批量数据。")


def submit_file(source: Source, *, actor: Any, path: Path, file_name: str, file_format: str | None = None,
                force: bool = False) -> Batch:
    """Batch exchange: register a delivered file and start processing it in a background job.

    The file is kept unchanged in the batch store, encrypted (``store``: sealed in one pass that also computes the
    SHA-256 of the content as delivered). The same content delivered again by the same source — loaded, or still
    waiting or running — is not processed a second time (the new batch is marked as skipped) unless ``force`` is
    given.
    """
    check_ingest_allowed(actor, source)
    file_format = file_format or source.file_format or Path(file_name).suffix.lower().lstrip(".")
    if file_format not in FileFormat.values:
        raise DomainError("batch.format", "不支持的文件格式（CSV、XLSX、JSON Lines、Parquet）。",
                          fields={"file": ["不支持的文件格式。"]})
    with transaction.atomic():
        batch: Batch = Batch.objects.create(
            source=source, kind=BatchKind.FILE, file_name=Path(file_name).name[:255], file_format=file_format,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        stored, content_hash = store.store_input(batch.pk, path, file_name)
        batch.stored_path, batch.content_hash = str(stored), content_hash
        previous = (Batch.objects.filter(source=source, content_hash=content_hash,
                                         status__in=(BatchStatus.LOADED, BatchStatus.PENDING, BatchStatus.RUNNING))
                    .exclude(pk=batch.pk).order_by("id").first())
        if previous is not None and not force:
            batch.status = BatchStatus.SKIPPED
            batch.duplicate_of = previous
            batch.finished_at = timezone.now()
            batch.message = f"内容与批次#{previous.pk}相同，未重复处理。"
            batch.save()
            audit.record_event("datacenter.batch.skipped", target=batch,
                               details={"duplicate_of": previous.pk, "hash": content_hash})
            return batch
        batch.save()
        _start(batch, actor)
    return batch


def _start(batch: Batch, actor: Any) -> None:
    job = jobs.start_job(INGEST_JOB, actor=actor if getattr(actor, "pk", None) else None,
                         params={"batch_id": batch.pk})
    Batch.objects.filter(pk=batch.pk).update(job=job)
    batch.job = job
    audit.record_event("datacenter.batch.submitted", target=batch,
                       details={"source": batch.source.code, "kind": batch.kind, "file": batch.file_name})


def submit_records(source: Source, *, actor: Any, records: list[dict[str, Any]], kind: str,
                   idempotency_key: str = "", watermark_from: str = "", watermark_to: str = "",
                   parent: Batch | None = None, run_now: bool = False, content_hash: str = "") -> Batch:
    """A batch from records already in memory (a pull, a push, re-run corrections): stored as Parquet, encrypted
    (``store``; the Parquet file is built in memory, never written in clear)."""
    import hashlib
    import io

    from jianguan.datacenter.pipeline.extract import records_to_parquet

    buffer = io.BytesIO()
    records_to_parquet(records, buffer)
    data = buffer.getvalue()
    with transaction.atomic():
        batch: Batch = Batch.objects.create(
            source=source, kind=kind, file_name=f"{kind}.parquet", file_format=FileFormat.PARQUET,
            idempotency_key=idempotency_key, watermark_from=watermark_from, watermark_to=watermark_to,
            parent=parent, created_by=actor if getattr(actor, "pk", None) else None,
        )
        batch.stored_path = str(store.store_input_bytes(batch.pk, data))
        batch.content_hash = content_hash or hashlib.sha256(data).hexdigest()
        batch.save()
        if run_now:
            audit.record_event("datacenter.batch.submitted", target=batch,
                               details={"source": source.code, "kind": kind, "records": len(records)})
        else:
            _start(batch, actor)
    if run_now:
        try:
            process_batch(batch.pk)
        except Exception:  # the batch records the failure; the caller reads it from the batch
            logger.warning("batch %s failed", batch.pk)
        batch.refresh_from_db()
    return batch


def process_batch(batch_id: int, reporter: Any = None) -> dict[str, Any]:
    """Run one batch end to end (called by the ingest job). Claims the batch first, so a second delivery of the
    job does nothing; on failure nothing of the batch is loaded and the batch records why.

    The delivered file is decrypted into the batch's private ``work/`` for the run only, and ``work/`` is removed
    when it ends, either way (``store.opened_input``); a stored file that fails authentication fails the batch."""
    from jianguan.datacenter.pipeline import loader
    from jianguan.datacenter.pipeline.extract import ExtractError

    claimed = Batch.objects.filter(pk=batch_id, status=BatchStatus.PENDING).update(
        status=BatchStatus.RUNNING, started_at=timezone.now())
    if claimed != 1:
        return {"skipped": True}
    batch = Batch.objects.select_related("source", "source__region").get(pk=batch_id)
    source = batch.source
    if source.library != Library.ENTITIES:
        return _process_library_batch(batch, reporter)
    engine_name = conf.engine_name()
    labels = {"extract": "抽取", "clean": "清洗", "standardise": "标准化", "verify": "校核", "link": "关联",
              "dedup": "去重", "compare": "比对", "integrate": "整合"}
    if reporter is not None:
        reporter.total(len(labels) + 1)

    def progress(step: str, index: int) -> None:
        if reporter is not None:
            reporter.progress(index, labels.get(step, step))

    try:
        with store.opened_input(batch.pk, batch.stored_path) as (delivered, work):
            result, prepared = _run_entity_pipeline(batch, delivered, work, engine_name, progress)
        progress("integrate", len(labels))
        written = loader.write_result(batch, result)
    except Exception as exc:
        message = exc.args[0] if isinstance(exc, ExtractError) else (
            exc.message if isinstance(exc, DomainError) else f"处理失败：{exc}")
        logger.exception("batch %s failed", batch_id)
        Batch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.FAILED, finished_at=timezone.now(), message=str(message)[:500], engine=engine_name)
        audit.record_event("datacenter.batch.failed", target=batch, success=False,
                           details={"error": str(message)[:500], "trace": traceback.format_exc()[-1500:]})
        raise
    counts = result.counts
    with transaction.atomic():
        Batch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.LOADED, finished_at=timezone.now(), engine=engine_name,
            encoding=prepared.encoding, rows_total=result.rows_total, rows_loaded=counts["loaded"],
            rows_quarantined=counts["quarantined"], rows_duplicate=counts["duplicates"],
            created_count=written["created"], updated_count=written["updated"],
            unchanged_count=counts["unchanged"], linked_count=written["links"], conflict_count=written["conflicts"],
            quality=result.quality,
            steps=[*result.timings, *({"step": f"load: {k}", "seconds": v} for k, v in written["timings"].items())],
            message=f"共{result.rows_total}行：新增{written['created']}，更新{written['updated']}，"
                    f"未变{counts['unchanged']}，隔离{counts['quarantined']}。",
        )
        if source.channel in (Channel.HTTP_API, Channel.SQL) and batch.watermark_to:
            Source.objects.filter(pk=source.pk).update(watermark=batch.watermark_to)
        batch.refresh_from_db()
        audit.record_event("datacenter.batch.loaded", target=batch,
                           details={**{k: v for k, v in written.items() if k != "timings"},
                                    "rows": result.rows_total, "engine": engine_name})
        events.publish(BATCH_LOADED, BatchLoaded(
            batch_id=batch.pk, source_code=source.code, library=source.library, rows=result.rows_total,
            created=written["created"], updated=written["updated"], quarantined=counts["quarantined"],
        ))
    return {"batch": batch.pk, **{k: v for k, v in written.items() if k != "timings"}, "rows": result.rows_total,
            "engine": engine_name}


def _run_entity_pipeline(batch: Batch, delivered: Path, work: Path, engine_name: str,
                         progress: Any) -> tuple[Any, Any]:
    """Extract and run the entity pipeline over the batch's delivered file (in clear in ``work/`` for the run);
    the engine's raw copy is sealed into the store before anything is loaded."""
    from jianguan.datacenter.pipeline import runner
    from jianguan.datacenter.pipeline.engines import make_engine
    from jianguan.datacenter.pipeline.extract import prepare
    from jianguan.datacenter.pipeline.master import DatabaseMasterData
    from jianguan.datacenter.pipeline.reference import load_reference

    source = batch.source
    prepared = prepare(delivered, batch.file_format, work)
    steps = ["extract", *prepared.steps]
    if batch.kind == BatchKind.CORRECTION:
        steps.append("correction")
    today = timezone.localdate()
    raw_copy = store.raw_copy_target(work)
    spec = runner.BatchSpec(
        batch_id=batch.pk, source_id=source.pk, priority=source.priority,
        scope_prefix=source.region.scope_prefix, today=today.isoformat(),
        fresh_from=(today - dt.timedelta(days=source.freshness_days)).isoformat(),
        mapping=(None if batch.kind == BatchKind.CORRECTION else (source.field_mapping or None)),
        null_markers=tuple(source.options["null_markers"]) if source.options.get("null_markers") else None,
        capital_unit=source.options.get("capital_unit", "10k"),
        batch_steps=tuple(steps),
        raw_copy=str(raw_copy),
        phone_pepper=conf.phone_pepper(),
        fingerprint_keys=conf.fingerprint_keys(),
    )
    with make_engine(engine_name) as engine:
        result = runner.run_entities(engine, prepared, spec, load_reference(), DatabaseMasterData(), progress)
    if raw_copy.exists():
        started = time.perf_counter()
        store.seal_raw_copy(batch.pk, raw_copy)
        result.timings.append({"step": "seal raw copy", "seconds": round(time.perf_counter() - started, 3)})
    return result, prepared


def _process_library_batch(batch: Batch, reporter: Any = None) -> dict[str, Any]:
    """A record library's batch: extract, check every row against the library's schema, quarantine the rows that
    fail, and write the others (insert or update on the key) with their batch and row — all in one transaction."""
    from jianguan.datacenter import libraries
    from jianguan.datacenter.pipeline.engines import make_engine
    from jianguan.datacenter.pipeline.extract import ExtractError, load_source_table, prepare

    source = batch.source
    engine_name = conf.engine_name()
    try:
        if reporter is not None:
            reporter.total(3)
            reporter.progress(0, "抽取")
        with store.opened_input(batch.pk, batch.stored_path) as (delivered, work):
            prepared = prepare(delivered, batch.file_format, work)
            with make_engine(engine_name) as engine:
                headers = load_source_table(engine, prepared)
                rows = engine.fetch_rows("SELECT * FROM dc_src ORDER BY row_no")
        spec = libraries.spec_for(source.library, source.options or {})
        mapping = spec.mapping(headers, None if batch.kind == BatchKind.CORRECTION else (source.field_mapping or None))
        if reporter is not None:
            reporter.progress(1, "校核")
        good, result = libraries.validate_rows(spec, rows, mapping, source.region.scope_prefix)
        if reporter is not None:
            reporter.progress(2, "整合")
        with transaction.atomic():
            libraries.write(spec, good, batch, result)
            names = personal.names_for_source(source)  # ID numbers and phones as tokens (``personal``)
            QuarantinedRow.objects.bulk_create([
                QuarantinedRow(batch=batch, row_no=q["row_no"],
                               record=personal.seal_values(q["record"], names, personal.QUARANTINE_RECORD_AAD),
                               errors=personal.seal_errors(q["errors"], names))
                for q in result.quarantine
            ], batch_size=1000)
            Batch.objects.filter(pk=batch.pk).update(
                status=BatchStatus.LOADED, finished_at=timezone.now(), engine=engine_name,
                encoding=prepared.encoding, rows_total=result.rows, rows_loaded=result.written,
                rows_quarantined=len(result.quarantine), created_count=result.created,
                updated_count=result.updated, unchanged_count=result.unchanged,
                quality=libraries.quality(spec, mapping, result),
                message=f"共{result.rows}行（{spec.model._meta.verbose_name}）：新增{result.created}，"
                        f"更新{result.updated}，未变{result.unchanged}，隔离{len(result.quarantine)}。",
            )
            audit.record_event("datacenter.batch.loaded", target=batch, details={
                "library": source.library, "rows": result.rows, "created": result.created,
                "updated": result.updated, "unchanged": result.unchanged, "quarantined": len(result.quarantine)})
            events.publish(BATCH_LOADED, BatchLoaded(
                batch_id=batch.pk, source_code=source.code, library=source.library, rows=result.rows,
                created=result.created, updated=result.updated, quarantined=len(result.quarantine)))
    except Exception as exc:
        message = exc.args[0] if isinstance(exc, ExtractError) else (
            exc.message if isinstance(exc, DomainError) else f"处理失败：{exc}")
        Batch.objects.filter(pk=batch.pk).update(status=BatchStatus.FAILED, finished_at=timezone.now(),
                                                 message=str(message)[:500], engine=engine_name)
        audit.record_event("datacenter.batch.failed", target=batch, success=False, details={"error": str(message)})
        raise
    return {"batch": batch.pk, "rows": result.rows, "created": result.created, "updated": result.updated,
            "quarantined": len(result.quarantine)}


def correction_fields(source: Source) -> list[tuple[str, str]]:
    """(name, label) of the values a quarantined row of this source can be corrected in."""
    from jianguan.datacenter import libraries
    from jianguan.datacenter.pipeline.fields import ENTITY_FIELDS

    if source.library == Library.ENTITIES:
        return [(f.name, f.label) for f in ENTITY_FIELDS]
    return [(c.name, c.label) for c in libraries.spec_for(source.library, source.options or {}).columns]


def run_ingest_job(params: dict[str, Any], reporter: Any) -> dict[str, Any]:
    return process_batch(int(params["batch_id"]), reporter)


# --- Push (service interface) -------------------------------------------------------------------------------------

MAX_PUSH_RECORDS = 10_000


def push_records(source: Source, *, actor: Any, idempotency_key: str,
                 records: list[dict[str, Any]]) -> tuple[Batch, bool]:
    """Service interface: a pushed batch, processed at once; returns the batch and whether it is a replay.

    The same idempotency key with the same records returns the first answer and processes nothing again; the same
    key with different records is refused.
    """
    import hashlib
    import json

    from django.db import IntegrityError

    check_ingest_allowed(actor, source)
    key = (idempotency_key or "").strip()
    if not 1 <= len(key) <= 100:
        raise DomainError("push.key", "须提供1至100个字符的幂等键（idempotency_key）。",
                          fields={"idempotency_key": ["须提供幂等键。"]})
    if not records or len(records) > MAX_PUSH_RECORDS or not all(isinstance(r, dict) for r in records):
        raise DomainError("push.records", f"records 须为1至{MAX_PUSH_RECORDS}条记录（JSON对象）。",
                          fields={"records": ["记录格式不正确。"]})
    digest = hashlib.sha256(json.dumps(records, ensure_ascii=False, sort_keys=True).encode()).hexdigest()

    def replay() -> tuple[Batch, bool]:
        earlier = Batch.objects.get(source=source, idempotency_key=key)
        if earlier.content_hash != digest:
            raise ConflictError("push.key_reused", "该幂等键已用于内容不同的批次。",
                                fields={"idempotency_key": ["该幂等键已使用。"]})
        return earlier, True

    if Batch.objects.filter(source=source, idempotency_key=key).exists():
        return replay()
    numbered = [{"__row_no": i + 1, **record} for i, record in enumerate(records)]
    try:
        batch = submit_records(source, actor=actor, records=numbered, kind=BatchKind.PUSH, idempotency_key=key,
                               run_now=True, content_hash=digest)
    except IntegrityError:
        return replay()  # a concurrent request with the same key won
    outcomes = record_outcomes(batch, records)
    Batch.objects.filter(pk=batch.pk).update(response=outcomes)
    batch.response = outcomes
    return batch, False


def record_outcomes(batch: Batch, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answer for each pushed record: accepted (with the master record and what happened) or rejected (with
    the fields and reasons)."""
    from jianguan.lib.validators import to_half_width

    if batch.status != BatchStatus.LOADED:
        return [{"index": i, "status": "failed", "message": batch.message} for i in range(len(records))]
    rejected = {q.row_no: q for q in batch.quarantined.all()}
    lineage: dict[int, tuple[int, str]] = {}
    for subject_id, row_no, action in LineageEntry.objects.filter(batch=batch).values_list(
            "subject_id", "row_no", "action").order_by("id"):
        lineage.setdefault(row_no, (subject_id, action))
    codes = {}
    for i, record in enumerate(records):
        raw = next((str(v) for k, v in record.items() if k in ("uscc", "统一社会信用代码") and v), "")
        codes[i] = to_half_width(raw).strip().upper()
    by_code = dict(Subject.objects.filter(uscc__in=[c for c in codes.values() if c]).values_list("uscc", "id"))
    out = []
    for i in range(len(records)):
        row = i + 1
        if row in rejected:
            out.append({"index": i, "status": "rejected", "errors": [
                {"field": e["field"], "code": e["code"], "message": e["message"]} for e in rejected[row].errors]})
            continue
        subject_id, action = lineage.get(row, (by_code.get(codes[i]), "unchanged"))
        out.append({"index": i, "status": "accepted", "action": action, "subject_id": subject_id})
    return out


# --- Quarantine -------------------------------------------------------------------------------------------------------


def _unmasked_input(row: QuarantinedRow, values: dict[str, str], names: dict[str, str]) -> dict[str, str]:
    """The submitted values, with a personal value given in its masked form (as the page and the API show it when
    it was not revealed) or as its stored token replaced by the value it stands for. Any other value with the mask
    character or shaped like a token is refused, so a masked form never overwrites a value."""
    current = personal.row_values(row)
    delivered = personal.open_values(row.record, personal.QUARANTINE_RECORD_AAD) or {}
    out = dict(values)
    refused = []
    for name, kind in names.items():
        submitted = (values.get(name) or "").strip()
        if not submitted:
            continue
        if personal.token_key_id(submitted) is not None:
            if submitted == (row.corrected or {}).get(name):
                out[name] = current.get(name) or ""
            elif submitted == (row.record or {}).get(name):
                out[name] = delivered.get(name) or ""
            else:
                refused.append(name)
        elif personal.is_masked_form(kind, submitted, current.get(name)):
            out[name] = current[name]
        elif personal.is_masked_form(kind, submitted, delivered.get(name)):
            out[name] = delivered[name]
        elif MASK_CHAR in submitted:
            refused.append(name)
    if refused:
        message = "个人信息显示为遮蔽形式，须先“显示”原值后再修改。"
        raise DomainError("quarantine.masked_value", message, fields={name: [message] for name in refused})
    return out


@transaction.atomic
def correct_row(row: QuarantinedRow, *, actor: Any, values: dict[str, str]) -> QuarantinedRow:
    """Record a data manager's correction of a quarantined row (applied when the batch's corrections are re-run).

    Personal values (``personal``) are stored encrypted; one submitted in its masked form keeps the value it masks
    (the user did not reveal or change it), and another value with the mask character in it is refused."""
    _require(actor, "datacenter.change_quarantinedrow")
    _recheck(actor, row)
    if row.status not in (QuarantineStatus.OPEN, QuarantineStatus.CORRECTED):
        raise ConflictError("quarantine.closed", "该行已重跑或已舍弃，不能再更正。")
    source = row.batch.source
    unknown = sorted(set(values) - {name for name, _label in correction_fields(source)})
    if unknown:
        raise DomainError("validation", "未知字段：" + "、".join(unknown))
    names = personal.names_for_source(source)
    values = _unmasked_input(row, values, names)
    delivered = personal.open_values(row.record, personal.QUARANTINE_RECORD_AAD) or {}
    plain = {k: (v or "").strip() for k, v in {**delivered, **values}.items() if (v or "").strip()}
    before = personal.row_values(row)
    corrected = personal.seal_values(plain, names, personal.QUARANTINE_CORRECTED_AAD)
    updated = QuarantinedRow.objects.filter(pk=row.pk, status=row.status).update(
        corrected=corrected, status=QuarantineStatus.CORRECTED, corrected_by=actor, corrected_at=timezone.now())
    if updated != 1:
        raise ConflictError("quarantine.changed", "该行已被他人处理，请刷新后重试。")
    row.refresh_from_db()
    audit.record_event("datacenter.quarantine.corrected", target=row,
                       details={"batch": row.batch_id, "row": row.row_no,
                                "changed": sorted(k for k in set(before) | set(plain)
                                                  if before.get(k) != plain.get(k))})
    return row


UNMASK_READ_EVENT = "datacenter.quarantine.unmasked"


@transaction.atomic
def unmask_quarantined_row(row: QuarantinedRow, *, actor: Any, reason: str) -> dict[str, str]:
    """Show a data manager the personal values of a quarantined row in clear, to correct them, for a stated reason
    (recorded as a read of sensitive data); returns field → plaintext of the values a correction starts from."""
    _require(actor, "datacenter.change_quarantinedrow")
    _recheck(actor, row)
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise DomainError("unmask.reason_required", "查看个人信息必须填写事由（至少 4 个字）。",
                          fields={"reason": ["请填写查看事由。"]})
    if row.status not in (QuarantineStatus.OPEN, QuarantineStatus.CORRECTED):
        raise ConflictError("quarantine.closed", "该行已重跑或已舍弃，不能再更正。")
    names = personal.names_for_source(row.batch.source)
    values = personal.row_values(row)
    plain = {name: str(values[name]) for name in names if values.get(name)}
    if not plain:
        raise DomainError("unmask.none", "该行没有个人信息。")
    audit.record_read(UNMASK_READ_EVENT, target=row, fields=sorted(plain), reason=reason[:500])
    return plain


@transaction.atomic
def discard_row(row: QuarantinedRow, *, actor: Any, reason: str) -> QuarantinedRow:
    _require(actor, "datacenter.change_quarantinedrow")
    _recheck(actor, row)
    if not (reason or "").strip():
        raise DomainError("quarantine.reason", "舍弃须填写理由。", fields={"reason": ["请填写理由。"]})
    updated = QuarantinedRow.objects.filter(
        pk=row.pk, status__in=(QuarantineStatus.OPEN, QuarantineStatus.CORRECTED)
    ).update(status=QuarantineStatus.DISCARDED)
    if updated != 1:
        raise ConflictError("quarantine.closed", "该行已重跑或已舍弃。")
    row.refresh_from_db()
    audit.record_event("datacenter.quarantine.discarded", target=row, reason=reason.strip()[:500],
                       details={"batch": row.batch_id, "row": row.row_no})
    return row


def rerun_corrections(batch: Batch, *, actor: Any) -> Batch:
    """Re-run the corrected rows of ``batch`` through the whole pipeline as a new batch (kind "correction");
    the rows keep their original row numbers, and the new batch points back at this one."""
    _require(actor, "datacenter.ingest_source")
    _recheck(actor, batch)
    rows = list(batch.quarantined.filter(status=QuarantineStatus.CORRECTED).order_by("row_no"))
    if not rows:
        raise DomainError("quarantine.nothing", "没有已更正待重跑的行。")
    names = [name for name, _label in correction_fields(batch.source)]
    plain = {r.pk: personal.row_values(r) for r in rows}  # the personal values decrypted for the pipeline
    records = [{"__row_no": r.row_no, **{f: plain[r.pk].get(f) for f in names}} for r in rows]
    with transaction.atomic():
        claimed = QuarantinedRow.objects.filter(pk__in=[r.pk for r in rows],
                                                status=QuarantineStatus.CORRECTED).update(
            status=QuarantineStatus.RESUBMITTED)
        if claimed != len(rows):
            raise ConflictError("quarantine.changed", "部分行已被他人处理，请刷新后重试。")
        new = submit_records(batch.source, actor=actor, records=records, kind=BatchKind.CORRECTION, parent=batch)
        QuarantinedRow.objects.filter(pk__in=[r.pk for r in rows]).update(rerun_batch=new)
    return new


# --- Links and conflicts ----------------------------------------------------------------------------------------------


@transaction.atomic
def confirm_link(link: EntityLink, *, actor: Any) -> EntityLink:
    """A data manager confirms a probabilistic link."""
    _require(actor, "datacenter.change_entitylink")
    _recheck(actor, link)
    updated = EntityLink.objects.filter(pk=link.pk, status=LinkStatus.AUTO).update(
        status=LinkStatus.CONFIRMED, reviewed_by=actor, reviewed_at=timezone.now())
    if updated != 1:
        raise ConflictError("link.reviewed", "该关联已被确认或拆分。")
    link.refresh_from_db()
    audit.record_event("datacenter.link.confirmed", target=link,
                       details={"subject": link.subject_id, "batch": link.batch_id, "row": link.row_no})
    return link


def _master_value(subject: Subject, field: str) -> str:
    value = getattr(subject, {"region": "region_id", "industry": "industry_id"}.get(field, field))
    if value is None:
        return ""
    if field == "registered_capital":
        return f"{value:.4f}"
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


@transaction.atomic
def split_link(link: EntityLink, *, actor: Any, reason: str = "") -> EntityLink:
    """Undo a probabilistic link: the linked row becomes a master record of its own, and the values it filled into
    the record it was linked to are removed again (when still unchanged). Both changes are recorded in lineage."""
    _require(actor, "datacenter.change_entitylink")
    _recheck(actor, link)
    if link.status == LinkStatus.SPLIT:
        raise ConflictError("link.split", "该关联已拆分。")
    subject = Subject.objects.select_for_update().get(pk=link.subject_id)
    record = personal.link_values(link)  # the phone decrypted: the new record gets its key
    if "replaced" in record:
        # The record took this row's credit code (``runner._adopt``): the batch's rows of the code updated it like
        # any rows of the entity, and the link kept what each changed field held before.
        replaced = dict(record.pop("replaced"))
        record.pop("matched_row", None)
        replaced["uscc"] = ""
    else:
        replaced = {}
        for lineage in LineageEntry.objects.filter(subject=subject, batch=link.batch, row_no=link.row_no):
            replaced.update({field: "" for field in lineage.fields})  # a link only fills empty fields
    phone_index = record.pop("phone_index", None) or phone_key(record.get("phone"), conf.phone_pepper())
    reverts: dict[str, Any] = {}
    for field, before in replaced.items():
        if field == "phone_index":  # the phone's key this row set (filled in or replaced): the one before is back
            if subject.phone_index and subject.phone_index == phone_index:
                reverts["phone_index"] = before or ""
            continue
        if _master_value(subject, field) != str(record.get(field, "")):
            continue  # changed since: left as it is
        if before:
            reverts.update(_master_assignment(field, before))
        elif field not in ("region", "subject_type", "name", "status"):  # required on a master record: kept
            reverts[field] = None if field in ("industry", "registered_capital", "established_on", "uscc") else ""
    if reverts:
        with audit.audit_reason(f"拆分关联#{link.pk}"):
            core_services.update_subject(subject, actor=actor, **reverts)
        LineageRecord.objects.create(subject=subject, batch=link.batch, source=link.batch.source, row_no=link.row_no,
                                     action=LineageAction.MANUAL,
                                     fields={f: step_mask("manual") for f in reverts})
    data = _subject_data(record)
    if data.get("uscc") and Subject.objects.filter(uscc=data["uscc"]).exists():
        del data["uscc"]  # the record kept the code (it was changed since): the split-off one goes without
    if phone_index:
        data["phone_index"] = phone_index
    new_subject = core_services.create_subject(actor=actor, **data)
    LineageRecord.objects.create(
        subject=new_subject, batch=link.batch, source=link.batch.source, row_no=link.row_no,
        action=LineageAction.CREATED,
        fields={**{f: step_mask("manual") for f in MASTER_FIELDS
                   if (f != "uscc" or data.get("uscc")) and record.get(f)},
                **({"phone_index": step_mask("manual")} if phone_index else {})},
    )
    updated = EntityLink.objects.filter(pk=link.pk, status=link.status).update(
        status=LinkStatus.SPLIT, split_subject=new_subject, reviewed_by=actor, reviewed_at=timezone.now())
    if updated != 1:
        raise ConflictError("link.reviewed", "该关联已被他人处理，请刷新后重试。")
    link.refresh_from_db()
    audit.record_event("datacenter.link.split", target=link, reason=(reason or "")[:500],
                       details={"from": subject.pk, "to": new_subject.pk, "reverted": sorted(reverts)})
    return link


def _master_assignment(field: str, text: str) -> dict[str, Any]:
    """A master field's value from its text form (as lineage and conflicts keep it), ready for ``update_subject``;
    "" clears a field that may be empty."""
    from decimal import Decimal

    from jianguan.core.models import IndustryCode

    if field == "region":
        return {field: Region.objects.get(code=text)}
    if field == "industry":
        return {field: IndustryCode.objects.get(code=text) if text else None}
    if field == "registered_capital":
        return {field: Decimal(text) if text else None}
    if field == "established_on":
        return {field: dt.date.fromisoformat(text) if text else None}
    return {field: text}


def _subject_data(record: dict[str, Any]) -> dict[str, Any]:
    from decimal import Decimal

    from jianguan.core.models import IndustryCode

    data: dict[str, Any] = {
        "name": record.get("name", ""),
        "subject_type": record.get("subject_type") or "individual",
        "legal_representative": record.get("legal_representative", ""),
        "address": record.get("address", ""),
        "region": Region.objects.get(code=record["region"]),
        "status": record.get("status") or "active",
    }
    if record.get("uscc"):  # a link that gave the record this row's code (``runner._adopt``)
        data["uscc"] = record["uscc"]
    if record.get("industry"):
        data["industry"] = IndustryCode.objects.get(code=record["industry"])
    if record.get("registered_capital"):
        data["registered_capital"] = Decimal(record["registered_capital"])
    if record.get("established_on"):
        data["established_on"] = dt.date.fromisoformat(record["established_on"])
    return data


@transaction.atomic
def resolve_conflict(conflict: Conflict, *, actor: Any, apply: bool, note: str = "") -> Conflict:
    """Decide an open conflict: apply the incoming value to the master record, or keep the current one."""
    _require(actor, "datacenter.change_conflict")
    _recheck(actor, conflict)
    if conflict.status != ConflictStatus.OPEN:
        raise ConflictError("conflict.resolved", "该冲突已处理。")
    status = ConflictStatus.APPLIED if apply else ConflictStatus.KEPT
    updated = Conflict.objects.filter(pk=conflict.pk, status=ConflictStatus.OPEN).update(
        status=status, resolved_by=actor, resolved_at=timezone.now(), note=(note or "")[:300])
    if updated != 1:
        raise ConflictError("conflict.resolved", "该冲突已被他人处理。")
    if apply:
        subject = Subject.objects.get(pk=conflict.subject_id)
        data = _master_assignment(conflict.field, conflict.incoming_value)
        with audit.audit_reason(f"处理比对冲突#{conflict.pk}"):
            core_services.update_subject(subject, actor=actor, **data)
        LineageRecord.objects.create(subject=subject, batch=conflict.batch, source=conflict.source,
                                     row_no=conflict.row_no, action=LineageAction.MANUAL,
                                     fields={conflict.field: step_mask("survivor", "manual")})
    conflict.refresh_from_db()
    audit.record_event("datacenter.conflict.resolved", target=conflict,
                       details={"subject": conflict.subject_id, "field": conflict.field, "applied": apply})
    return conflict


def link_method_label(method: str) -> str:
    return str(dict(LinkMethod.choices).get(method, method))
