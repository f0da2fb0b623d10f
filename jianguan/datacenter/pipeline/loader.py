"""Integrate: write a batch's plan into the operational database in one transaction, through the bulk path.

New master records go through ``core``'s bulk service (ids reserved up front so lineage can point at them; ``COPY``
on PostgreSQL, ``executemany`` on SQLite; for a load at least as large as the table its secondary indexes and foreign
keys are rebuilt once instead of maintained row by row — see :mod:`jianguan.core.bulkload`); changed records are
updated from a staging table. A record created from a single row keeps that row, its lineage, on itself
(``core.Subject.origin_*``, read through ``LineageEntry``); the other lineage rows go the bulk way too. Quarantined
rows, links and conflicts are few and use ``bulk_create``. Nothing is saved row by row through the ORM, and a
failure anywhere rolls the whole batch back.
"""

# ruff: noqa: S608 - this module builds SQL for the pipeline engines: values go through the dialect's literal
# helper, column names from delivered files through its identifier quoting; table names are fixed in code.

from __future__ import annotations

import json
import time
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection, transaction
from django.utils import timezone

from jianguan.core import bulkload
from jianguan.core import services as core_services
from jianguan.core.models import Subject
from jianguan.datacenter import conf, personal
from jianguan.datacenter.choices import ConflictStatus, LinkStatus, QuarantineStatus
from jianguan.datacenter.models import (
    Batch,
    Conflict,
    EntityLink,
    EntityRow,
    LineageRecord,
    LineageSteps,
    QuarantinedRow,
)
from jianguan.datacenter.pipeline.fields import FIELD_LABELS, problem_message
from jianguan.datacenter.pipeline.runner import MASTER_COLUMNS, PipelineResult, fingerprint

LINEAGE_COLUMNS = ("subject_id", "batch_id", "source_id", "row_no", "action", "field_steps", "duplicate_rows",
                   "recorded_at")
_ADVISORY_LOCK = 0x4A47_4443  # "JGDC": one entity load at a time


def bulk_insert(db_table: str, columns: tuple[str, ...], table: pa.Table) -> int:
    """Insert an Arrow table (columns in ``columns`` order) with COPY or executemany."""
    return bulkload.copy_rows(db_table, columns, table)


# --- the load -----------------------------------------------------------------------------------------------------


def write_result(batch: Batch, result: PipelineResult) -> dict[str, Any]:
    """Apply ``result`` for ``batch`` atomically; returns what was written."""
    now = timezone.now()
    # Fingerprints from the plaintext values, keyed (``runner.fingerprint``); the values are sealed only as they are
    # written (``personal``), and ``personal.refingerprint_rows`` recomputes the same from the stored copies. Stored
    # under the active key; compared under every key of the ring (``prints``), so rows stored before the active key
    # changed are recognised until ``keys rotate`` has recomputed them.
    keys = conf.fingerprint_keys()
    for row in (*result.quarantine, *result.links, *result.own_rows):
        if row.get("keys") != keys:  # the run computed an own row's already, under the same keys
            row["prints"] = [fingerprint(key, batch.source_id, row["record"]) for key in keys]
        row["fingerprint"] = row["prints"][0]
    timings: dict[str, float] = {}
    clock = [time.perf_counter()]

    def lap(name: str) -> None:
        now_ = time.perf_counter()
        timings[name] = round(now_ - clock[0], 3)
        clock[0] = now_

    with transaction.atomic():
        # Take the write lock first (SQLite) / the data-centre load lock (PostgreSQL).
        Batch.objects.filter(pk=batch.pk).update(updated_at=now)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK])

        _mark_known_links(result)
        inserts = result.inserts
        with core_services.bulk_loading_subjects(inserts.num_rows) as rebuild:
            id_array = pa.array(core_services.reserve_subject_ids(inserts.num_rows), type=pa.int64())
            if inserts.num_rows:
                origin_row = inserts.column("origin_row")
                subjects = pa.table({"id": id_array, "uscc": inserts.column("uscc"),
                                     **{f: inserts.column(f) for f in MASTER_COLUMNS},
                                     "phone_index": inserts.column("phone_index"),
                                     # a record created from one row: that row, its lineage, kept on the record
                                     "origin_batch": pc.if_else(pc.is_valid(origin_row),
                                                                pa.scalar(batch.pk, pa.int64()),
                                                                pa.scalar(None, pa.int64())),
                                     "origin_row": origin_row,
                                     "origin_steps": _steps_codes(batch, inserts.column("origin_steps"))})
                # where this batch's records are: its creation entries are found by primary key (LineageEntry)
                Batch.objects.filter(pk=batch.pk).update(created_first_id=pc.min(id_array).as_py(),
                                                         created_last_id=pc.max(id_array).as_py())
                lap("prepare subjects")
                core_services.bulk_insert_subjects(subjects, now=now)
            lap("insert subjects")
            adopted = core_services.set_subject_codes(result.adoptions, now=now)
            updated = core_services.bulk_update_subjects(result.updates, now=now)
            lap("update subjects")
        # a large load leaves the planner's statistics of the table behind: refreshed once it commits
        bulkload.analyze_after_commit(Subject._meta.db_table, inserts.num_rows + updated + adopted)
        if rebuild.active:
            lap("rebuild subject indexes")

        subject_ids = _subject_ids(result.lineage, inserts, id_array)
        lineage = _lineage_rows(batch, result, subject_ids, now)
        lap("prepare lineage")
        with bulkload.rebuilding_indexes(LineageRecord._meta.db_table, lineage.num_rows) as lineage_rebuild:
            ids = pa.array(bulkload.reserve_ids(LineageRecord._meta.db_table, lineage.num_rows), pa.int64())
            lineage = lineage.add_column(0, "id", ids)
            written_lineage = bulk_insert(LineageRecord._meta.db_table, ("id", *LINEAGE_COLUMNS), lineage)
            lap("insert lineage")
        if lineage_rebuild.active:
            lap("rebuild lineage indexes")
        bulkload.analyze_after_commit(LineageRecord._meta.db_table, written_lineage)

        key_ids = _KeyIds(inserts, id_array)
        links = _write_links(batch, result, key_ids)
        _write_own_rows(batch, result, key_ids)
        lap("links and own rows")
        conflicts = _write_conflicts(batch, result, key_ids)
        quarantined = _write_quarantine(batch, result, now)
        lap("conflicts, quarantine")
    lap("commit, statistics")  # the commit runs the on-commit ANALYZE of a large load
    origins = inserts.num_rows - inserts.column("origin_row").null_count if inserts.num_rows else 0
    return {"created": inserts.num_rows, "updated": updated, "codes_adopted": adopted,
            "lineage": written_lineage + origins,
            "links": links,
            "conflicts": conflicts, "quarantined": quarantined, "timings": timings}


def _steps_codes(batch: Batch, steps: pa.ChunkedArray) -> pa.Array:
    """The batch's code of each row's steps (NULL stays NULL), the codes written as the batch's ``LineageSteps``."""
    encoded = pc.dictionary_encode(steps.combine_chunks())  # one pass; NULL stays NULL
    LineageSteps.objects.bulk_create([LineageSteps(batch=batch, code=code, field_steps=text)
                                      for code, text in enumerate(encoded.dictionary.to_pylist())], batch_size=1000)
    return pc.cast(encoded.indices, pa.int32())


class _KeyIds:
    """The master-record id of an entity key: existing records carry theirs, new ones got one from the id range."""

    def __init__(self, inserts: pa.Table, id_array: pa.Array) -> None:
        self.keys = inserts.column("target_key") if inserts.num_rows else pa.array([], pa.string())
        self.ids = id_array

    def lookup(self, wanted: list[str]) -> dict[str, int]:
        if not wanted or len(self.ids) == 0:
            return {}
        ids = _ids_for(pa.array(wanted, pa.string()), self.keys, self.ids)
        return {key: int(i) for key, i in zip(wanted, ids.to_pylist(), strict=True) if i is not None}


def _ids_for(wanted: pa.Array | pa.ChunkedArray, keys: pa.Array | pa.ChunkedArray,
             ids: pa.Array) -> pa.Array | pa.ChunkedArray:
    """The id of each key in ``wanted`` (NULL where it is not one of ``keys``), ``ids`` aligned with ``keys``. The
    hash tables are built on the smaller side: the keys asked for are usually a few hundred, the new records a
    million."""
    distinct = pc.unique(wanted)
    if len(distinct) < len(keys):
        found = pc.is_in(keys, value_set=distinct)
        keys, ids = pc.filter(keys, found), pc.filter(ids, found)
    return pc.take(ids, pc.index_in(wanted, value_set=keys))


def _key_to_id(keys: pa.Array | pa.ChunkedArray, existing: pa.Array | pa.ChunkedArray, inserts: pa.Table,
               id_array: pa.Array) -> pa.ChunkedArray:
    if inserts.num_rows == 0:
        return pa.chunked_array([pc.cast(existing, pa.int64())])
    new_ids = _ids_for(keys, inserts.column("target_key"), id_array)
    return pc.coalesce(pc.cast(existing, pa.int64()), new_ids)


def _subject_ids(lineage: pa.Table, inserts: pa.Table, id_array: pa.Array) -> pa.ChunkedArray:
    return _key_to_id(lineage.column("target_key"), lineage.column("existing_id"), inserts, id_array)


def _lineage_rows(batch: Batch, result: PipelineResult, subject_ids: pa.ChunkedArray, now: Any) -> pa.Table:
    lineage = result.lineage
    n = lineage.num_rows
    keep = pc.invert(pc.equal(lineage.column("role"), "link"))
    link_rows = {link["row_no"] for link in result.links if link.get("new", True)}
    if link_rows:
        keep = pc.or_(keep, pc.is_in(lineage.column("row_no"), value_set=pa.array(sorted(link_rows), pa.int64())))
    dups = pc.if_else(
        pc.equal(lineage.column("duplicate_rows"), ""), "[]",
        pc.binary_join_element_wise("[", lineage.column("duplicate_rows"), "]", ""),
    )
    return pa.table({
        "subject_id": subject_ids,
        "batch_id": bulkload.repeat(batch.pk, n),
        "source_id": bulkload.repeat(batch.source_id, n),
        "row_no": lineage.column("row_no"),
        "action": lineage.column("action"),
        "field_steps": lineage.column("field_steps"),
        "duplicate_rows": dups,
        "recorded_at": bulkload.repeat_timestamp(now, n),
    }).filter(keep)


def _mark_known_links(result: PipelineResult) -> None:
    """A row linked to the same record before (same values, same source) is not linked again while that link
    stands (automatic or confirmed: the confirmed link stays as the data manager left it; the run already sent the
    row to that record, ``runner._respect_earlier_decisions``). A split link is not one that stands: the run sends
    such rows to the record the split gave them; should one still arrive here, it is linked anew, for review."""
    existing = [link for link in result.links if link["existing_id"] is not None]
    if not existing:
        return
    known = set(EntityLink.objects.filter(
        subject_id__in={link["existing_id"] for link in existing},
        fingerprint__in={p for link in existing for p in link["prints"]},
        status__in=(LinkStatus.AUTO, LinkStatus.CONFIRMED),
    ).values_list("subject_id", "fingerprint"))
    for link in existing:
        link["new"] = not any((link["existing_id"], p) in known for p in link["prints"])


def _write_links(batch: Batch, result: PipelineResult, key_ids: _KeyIds) -> int:
    new_links = [link for link in result.links if link.get("new", True)]
    new_ids = key_ids.lookup([link["target_key"] for link in new_links if link["existing_id"] is None])
    objs = []
    for link in new_links:
        subject_id = int(link["existing_id"]) if link["existing_id"] is not None else new_ids[link["target_key"]]
        objs.append(EntityLink(
            subject_id=subject_id,
            batch=batch,
            row_no=link["row_no"],
            method="probabilistic",
            match_weight=link["weight"],
            match_probability=link["probability"],
            deciding_fields=link["deciding"],
            record=personal.seal_values(link["record"], personal.ENTITY_NAMES, personal.LINK_AAD),
            fingerprint=link["fingerprint"],
        ))
    EntityLink.objects.bulk_create(objs, batch_size=1000)
    return len(objs)


def _write_own_rows(batch: Batch, result: PipelineResult, key_ids: _KeyIds) -> int:
    """The rows without a code that made a new record, kept as that record's own rows (``EntityRow``), so the same
    row delivered again is recognised as the record's and not matched anew (``runner._respect_earlier_decisions``).
    A row whose entity was not created (out of the source's scope) has no record to belong to."""
    if not result.own_rows:
        return 0
    ids = key_ids.lookup(sorted({row["target_key"] for row in result.own_rows}))
    rows = [row for row in result.own_rows if row["target_key"] in ids]
    if not rows:
        return 0
    # through the bulk path (COPY on PostgreSQL): a first registry delivery brings some 15,000 such rows a million
    table = pa.table({
        "subject_id": pa.array([ids[row["target_key"]] for row in rows], pa.int64()),
        "batch_id": bulkload.repeat(batch.pk, len(rows)),
        "row_no": pa.array([row["row_no"] for row in rows], pa.int64()),
        "record": pa.array([json.dumps(personal.seal_values(row["record"], personal.ENTITY_NAMES,
                                                            personal.OWN_ROW_AAD), ensure_ascii=False)
                            for row in rows], pa.string()),
        "fingerprint": pa.array([row["fingerprint"] for row in rows], pa.string()),
    })
    return bulk_insert(EntityRow._meta.db_table, tuple(table.column_names), table)


def _write_conflicts(batch: Batch, result: PipelineResult, key_ids: _KeyIds) -> int:
    """The batch's conflicts. One the same source raised before on the same record and field, between the same two
    values, is not raised again while it is open or after a data manager kept the current value: delivering the same
    rows again changes nothing, and a decision stands."""
    rows = result.conflicts.to_pylist()
    if not rows:
        return 0
    key_to_id = key_ids.lookup(sorted({row["target_key"] for row in rows if row["existing_id"] is None}))
    standing = set(Conflict.objects.filter(
        source_id=batch.source_id, status__in=(ConflictStatus.OPEN, ConflictStatus.KEPT),
        subject_id__in={row["existing_id"] for row in rows if row["existing_id"] is not None},
    ).values_list("subject_id", "field", "current_value", "incoming_value"))
    objs = []
    for row in rows:
        subject_id = row["existing_id"] if row["existing_id"] is not None else key_to_id.get(row["target_key"])
        if subject_id is None:
            continue
        values = ((row["current_value"] or "")[:300], (row["incoming_value"] or "")[:300])
        if (subject_id, row["field"], *values) in standing:
            continue
        objs.append(Conflict(
            subject_id=subject_id,
            field=row["field"],
            kind=row["kind"],
            current_value=(row["current_value"] or "")[:300],
            incoming_value=(row["incoming_value"] or "")[:300],
            current_source_id=row["current_source_id"],
            source_id=batch.source_id,
            batch=batch,
            row_no=row["row_no"],
            status=row["status"],
        ))
    Conflict.objects.bulk_create(objs, batch_size=1000)
    return len(objs)


def _write_quarantine(batch: Batch, result: PipelineResult, now: Any) -> int:
    """The rows that cannot be accepted, with each problem's field, code and Chinese reason, through the bulk path
    (COPY on PostgreSQL); a row of this source already waiting for correction is not quarantined twice."""
    if not result.quarantine:
        return 0
    # Every row of this source still waiting (one query, compared here: a list of thousands of fingerprints as a
    # query parameter costs more than reading the source's open rows).
    open_prints = set(QuarantinedRow.objects.filter(
        batch__source_id=batch.source_id, status__in=(QuarantineStatus.OPEN, QuarantineStatus.CORRECTED),
    ).values_list("fingerprint", flat=True))
    rows: dict[str, list[Any]] = {"row_no": [], "record": [], "errors": [], "fingerprint": []}
    for q in result.quarantine:
        if any(p in open_prints for p in q["prints"]):
            continue  # the same row is already waiting for correction
        errors = []
        for code in q["codes"]:
            field = code.split(".")[0]
            errors.append({"field": field, "label": FIELD_LABELS.get(field, field), "code": code,
                           "message": problem_message(code), "value": q["record"].get(field, "")})
        # personal values (the phone) as tokens, in the record and in the problems that quote them
        errors = personal.seal_errors(errors, personal.ENTITY_NAMES)
        record = personal.seal_values(q["record"], personal.ENTITY_NAMES, personal.QUARANTINE_RECORD_AAD)
        rows["row_no"].append(q["row_no"])
        rows["record"].append(json.dumps(record, ensure_ascii=False))
        rows["errors"].append(json.dumps(errors, ensure_ascii=False))
        rows["fingerprint"].append(q["fingerprint"])
    n = len(rows["row_no"])
    if n == 0:
        return 0
    table = pa.table({
        "created_at": bulkload.repeat_timestamp(now, n), "updated_at": bulkload.repeat_timestamp(now, n),
        "batch_id": bulkload.repeat(batch.pk, n), "row_no": pa.array(rows["row_no"], pa.int64()),
        "record": pa.array(rows["record"], pa.string()), "errors": pa.array(rows["errors"], pa.string()),
        "fingerprint": pa.array(rows["fingerprint"], pa.string()),
        "status": bulkload.repeat(QuarantineStatus.OPEN.value, n),
    })
    return bulk_insert(QuarantinedRow._meta.db_table, tuple(table.column_names), table)
