"""Integrate: write a batch's plan into the operational database in one transaction, through the bulk path.

New master records are inserted with ids allocated up front (so lineage can point at them), with ``COPY`` on
PostgreSQL and ``executemany`` on SQLite; changed records are updated from a staging table (PostgreSQL) or with
``executemany`` (SQLite); lineage rows go the same way. Quarantined rows, links and conflicts are few and use
``bulk_create``. Nothing is saved row by row through the ORM, and a failure anywhere rolls the whole batch back.
"""

# ruff: noqa: S608 - this module builds SQL for the pipeline engines: values go through the dialect's literal
# helper, column names from delivered files through its identifier quoting; table names are fixed in code.

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.db import connection, transaction
from django.utils import timezone

from jianguan.core.models import Subject
from jianguan.datacenter.models import Batch, Conflict, EntityLink, LineageRecord, QuarantinedRow
from jianguan.datacenter.pipeline.fields import FIELD_LABELS, problem_message
from jianguan.datacenter.pipeline.runner import MASTER_COLUMNS, PipelineResult

SUBJECT_COLUMNS = (
    "id", "uscc", "name", "subject_type", "legal_representative", "address", "region_id", "industry_id",
    "registered_capital", "established_on", "status", "created_at", "updated_at",
)
LINEAGE_COLUMNS = ("subject_id", "batch_id", "source_id", "row_no", "action", "fields", "duplicate_rows",
                   "recorded_at")
_ADVISORY_LOCK = 0x4A47_4443  # "JGDC": one entity load at a time
CHUNK_ROWS = 100_000


def fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


# --- low-level bulk writers ---------------------------------------------------------------------------------------


def _csv_blocks(table: pa.Table) -> Iterator[bytes]:
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    for start in range(0, table.num_rows, CHUNK_ROWS):
        buffer = io.BytesIO()
        pacsv.write_csv(table.slice(start, CHUNK_ROWS), buffer, options)
        yield buffer.getvalue()


def bulk_insert(db_table: str, columns: tuple[str, ...], table: pa.Table) -> int:
    """Insert an Arrow table (columns in ``columns`` order) with COPY or executemany."""
    if table.num_rows == 0:
        return 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = f"COPY {db_table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
            with cursor.cursor.copy(sql) as copy:
                for block in _csv_blocks(table):
                    copy.write(block)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {db_table} ({', '.join(columns)}) VALUES ({placeholders})"  # noqa: S608
            for batch in table.to_batches(max_chunksize=20_000):
                cursor.executemany(sql, list(zip(*(batch.column(i).to_pylist() for i in range(len(columns))),
                                                 strict=True)))
    return int(table.num_rows)


def _allocate_subject_ids(count: int) -> list[int]:
    """Ids for ``count`` new subjects, taken inside the loading transaction."""
    if count == 0:
        return []
    table = Subject._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)", [count]
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the transaction already holds the write lock (the batch row was updated first).
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608
        start = int(cursor.fetchone()[0]) + 1
        return list(range(start, start + count))


def _update_subjects(updates: pa.Table, now: Any) -> int:
    if updates.num_rows == 0:
        return 0
    table = Subject._meta.db_table
    db_columns = [_db_column(f) for f in MASTER_COLUMNS]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE TEMP TABLE dc_subject_updates (id bigint, "
                + ", ".join(f"{c} text" for c in db_columns) + ") ON COMMIT DROP"
            )
            staged = pa.table({"id": updates.column("id"), **{c: updates.column(f)
                                                               for c, f in zip(db_columns, MASTER_COLUMNS,
                                                                               strict=True)}})
            bulk_insert("dc_subject_updates", ("id", *db_columns), staged)
            assignments = ", ".join(
                f"{c} = u.{c}::numeric" if c == "registered_capital" else
                f"{c} = u.{c}::date" if c == "established_on" else f"{c} = u.{c}"
                for c in db_columns
            )
            cursor.execute(
                f"UPDATE {table} s SET {assignments}, updated_at = %s FROM dc_subject_updates u "  # noqa: S608
                "WHERE s.id = u.id", [now],
            )
        else:
            sql = (f"UPDATE {table} SET " + ", ".join(f"{c} = %s" for c in db_columns)  # noqa: S608
                   + ", updated_at = %s WHERE id = %s")
            rows = updates.to_pylist()
            cursor.executemany(sql, [(*(r[f] for f in MASTER_COLUMNS), now, r["id"]) for r in rows])
    return int(updates.num_rows)


def _db_column(field: str) -> str:
    return {"region": "region_id", "industry": "industry_id"}.get(field, field)


# --- the load -----------------------------------------------------------------------------------------------------


def write_result(batch: Batch, result: PipelineResult) -> dict[str, Any]:
    """Apply ``result`` for ``batch`` atomically; returns what was written."""
    now = timezone.now()
    for q in result.quarantine:
        q["fingerprint"] = fingerprint(batch.source_id, q["record"])
    for link in result.links:
        link["fingerprint"] = fingerprint(batch.source_id, link["record"])
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
        ids = _allocate_subject_ids(inserts.num_rows)
        id_array = pa.array(ids, type=pa.int64())
        if inserts.num_rows:
            subjects = pa.table({
                "id": id_array,
                "uscc": inserts.column("uscc"),
                **{_db_column(f): inserts.column(f) for f in MASTER_COLUMNS},
                "created_at": _repeat(now, inserts.num_rows, pa.timestamp("us", tz="UTC")),
                "updated_at": _repeat(now, inserts.num_rows, pa.timestamp("us", tz="UTC")),
            }).select(list(SUBJECT_COLUMNS))
            if connection.vendor != "postgresql":
                subjects = _sqlite_subject_types(subjects)
            lap("prepare subjects")
            bulk_insert(Subject._meta.db_table, SUBJECT_COLUMNS, subjects)
        lap("insert subjects")
        updated = _update_subjects(result.updates, now)
        lap("update subjects")

        subject_ids = _subject_ids(result.lineage, inserts, id_array)
        lineage = _lineage_rows(batch, result, subject_ids, now)
        lap("prepare lineage")
        written_lineage = bulk_insert(LineageRecord._meta.db_table, LINEAGE_COLUMNS, lineage)
        lap("insert lineage")

        links = _write_links(batch, result, inserts, ids)
        conflicts = _write_conflicts(batch, result, inserts, ids)
        quarantined = _write_quarantine(batch, result)
        lap("links, conflicts, quarantine")
    lap("commit")
    return {"created": inserts.num_rows, "updated": updated, "lineage": written_lineage, "links": links,
            "conflicts": conflicts, "quarantined": quarantined, "timings": timings}


def _repeat(value: Any, n: int, type_: pa.DataType) -> pa.Array:
    """``n`` copies of one value, built by Arrow rather than a Python list."""
    import numpy as np

    return pa.array([value], type=type_).take(pa.array(np.zeros(n, dtype=np.int64)))


def _sqlite_subject_types(table: pa.Table) -> pa.Table:
    """SQLite stores datetimes as ISO text (Django's format)."""
    out = {}
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_timestamp(column.type):
            out[name] = pa.array([v.replace(tzinfo=None).isoformat(sep=" ") if v else None
                                  for v in column.to_pylist()], type=pa.string())
        else:
            out[name] = column
    return pa.table(out)


def _key_to_id(keys: pa.Array | pa.ChunkedArray, existing: pa.Array | pa.ChunkedArray, inserts: pa.Table,
               id_array: pa.Array) -> pa.ChunkedArray:
    if inserts.num_rows == 0:
        return pa.chunked_array([pc.cast(existing, pa.int64())])
    position = pc.index_in(keys, value_set=inserts.column("target_key"))
    new_ids = pc.take(id_array, position)
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
    recorded = _repeat(now, n, pa.timestamp("us", tz="UTC"))
    table = pa.table({
        "subject_id": subject_ids,
        "batch_id": _repeat(batch.pk, n, pa.int64()),
        "source_id": _repeat(batch.source_id, n, pa.int64()),
        "row_no": lineage.column("row_no"),
        "action": lineage.column("action"),
        "fields": lineage.column("fields"),
        "duplicate_rows": dups,
        "recorded_at": recorded,
    }).filter(keep)
    if connection.vendor != "postgresql":
        table = _sqlite_subject_types(table)
    return table


def _new_subject_id(target_key: str, existing_id: Any, inserts: pa.Table, ids: list[int]) -> int:
    if existing_id is not None:
        return int(existing_id)
    keys = inserts.column("target_key").to_pylist()
    return int(ids[keys.index(target_key)])


def _mark_known_links(result: PipelineResult) -> None:
    """A row linked to the same record before (same values, same source) is not linked again."""
    existing = [link for link in result.links if link["existing_id"] is not None]
    if not existing:
        return
    known = set(EntityLink.objects.filter(
        subject_id__in={link["existing_id"] for link in existing},
        fingerprint__in={link["fingerprint"] for link in existing},
    ).values_list("subject_id", "fingerprint"))
    for link in existing:
        link["new"] = (link["existing_id"], link["fingerprint"]) not in known


def _write_links(batch: Batch, result: PipelineResult, inserts: pa.Table, ids: list[int]) -> int:
    objs = []
    for link in result.links:
        if not link.get("new", True):
            continue
        objs.append(EntityLink(
            subject_id=_new_subject_id(link["target_key"], link["existing_id"], inserts, ids),
            batch=batch,
            row_no=link["row_no"],
            method="probabilistic",
            match_weight=link["weight"],
            match_probability=link["probability"],
            deciding_fields=link["deciding"],
            record=link["record"],
            fingerprint=link["fingerprint"],
        ))
    EntityLink.objects.bulk_create(objs, batch_size=1000)
    return len(objs)


def _write_conflicts(batch: Batch, result: PipelineResult, inserts: pa.Table, ids: list[int]) -> int:
    rows = result.conflicts.to_pylist()
    if not rows:
        return 0
    key_to_id = dict(zip(inserts.column("target_key").to_pylist(), ids, strict=True))
    objs = []
    for row in rows:
        subject_id = row["existing_id"] if row["existing_id"] is not None else key_to_id.get(row["target_key"])
        if subject_id is None:
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


def _write_quarantine(batch: Batch, result: PipelineResult) -> int:
    if not result.quarantine:
        return 0
    open_prints = set(QuarantinedRow.objects.filter(
        batch__source_id=batch.source_id, status__in=("open", "corrected"),
        fingerprint__in=[q["fingerprint"] for q in result.quarantine],
    ).values_list("fingerprint", flat=True))
    objs = []
    for q in result.quarantine:
        if q["fingerprint"] in open_prints:
            continue  # the same row is already waiting for correction
        errors = []
        for code in q["codes"]:
            field = code.split(".")[0]
            errors.append({"field": field, "label": FIELD_LABELS.get(field, field), "code": code,
                           "message": problem_message(code), "value": q["record"].get(field, "")})
        objs.append(QuarantinedRow(batch=batch, row_no=q["row_no"], record=q["record"], errors=errors,
                                   fingerprint=q["fingerprint"]))
    QuarantinedRow.objects.bulk_create(objs, batch_size=1000)
    return len(objs)
