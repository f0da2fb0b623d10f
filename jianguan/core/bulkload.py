"""The bulk path into the operational database: binary ``COPY`` on PostgreSQL, ``executemany`` on SQLite.

For a load that is large relative to its table, PostgreSQL's documented bulk-load practice ("Populating a
Database": remove indexes and foreign-key constraints, load, recreate them) is applied *inside the loading
transaction*: :func:`rebuilding_indexes` takes the table's ``ACCESS EXCLUSIVE`` lock, drops its secondary indexes,
its foreign-key constraints and the unique / primary-key constraints no other table's foreign key depends on, and
recreates all of them from their own definitions once the rows are in. Each index is then built by one sort
instead of a million scattered insertions, each foreign key is checked by one join instead of one trigger per row,
and each unique constraint is checked over the whole table when it is re-added. PostgreSQL's DDL is transactional:
if anything fails before the commit (a duplicate, a dangling reference), the rollback restores every index and
constraint as it was, so no reader ever sees the table without them. While the load runs, readers of the table wait
for the lock (that is the price, paid only for loads at least as large as the table).

The practice's last step, ``ANALYZE`` afterwards, is :func:`analyze_after_commit`: after the commit, outside the
table's lock, for a load that changed a large share of the table.

Rows that may already exist are merged with :func:`copy_upsert` (PostgreSQL): COPY into a temporary staging table,
then one ``INSERT … SELECT … ON CONFLICT DO UPDATE``. :func:`instances_table` turns unsaved model instances into the
Arrow table these functions take, each value prepared by its field exactly as the ORM prepares it.
"""

# ruff: noqa: S608 - table and index names come from the model's metadata and the catalogue, never from input.

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from django.db import DatabaseError, NotSupportedError, connection, models, transaction

from jianguan.core import fastinsert

logger = logging.getLogger(__name__)

CHUNK_ROWS = 100_000
#: Rebuild only for loads of at least this many rows …
REBUILD_MIN_ROWS = 100_000
#: … that are at least this large relative to the rows already in the table (1.0: the load at least doubles it).
REBUILD_RATIO = 1.0
#: How long to wait for the table's exclusive lock before loading the ordinary way instead.
LOCK_TIMEOUT = "5s"


def repeat(value: str | int, n: int) -> pa.Array:
    """``n`` copies of one value as an Arrow array, built by Arrow rather than a Python list."""
    import numpy as np

    return pa.array([value]).take(pa.array(np.zeros(n, dtype=np.int64)))


def repeat_timestamp(value: dt.datetime, n: int) -> pa.Array:
    """``n`` copies of one moment, as the bulk path writes it: an Arrow timestamp for PostgreSQL's binary COPY,
    Django's ISO text for SQLite."""
    if connection.vendor == "postgresql":
        import numpy as np

        return pa.array([value], type=pa.timestamp("us", tz="UTC")).take(pa.array(np.zeros(n, dtype=np.int64)))
    return repeat(sqlite_datetime(value), n)


def sqlite_datetime(value: dt.datetime) -> str:
    """SQLite stores datetimes as ISO text in UTC without offset (Django's format)."""
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")


def csv_blocks(table: pa.Table, chunk_rows: int = CHUNK_ROWS) -> Iterator[bytes]:
    """The rows of ``table`` as CSV without header, in blocks of ``chunk_rows`` rows (COPY's ``FORMAT csv``:
    NULL is the empty unquoted field, an empty string is written quoted)."""
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    for start in range(0, table.num_rows, chunk_rows):
        buffer = io.BytesIO()
        pacsv.write_csv(table.slice(start, chunk_rows), buffer, options)
        yield buffer.getvalue()


def _quoted(name: str) -> str:
    """A table or column name as an SQL identifier (a column may be named like a reserved word)."""
    return str(connection.ops.quote_name(name))


def copy_rows(db_table: str, columns: Sequence[str], table: pa.Table) -> int:
    """Insert an Arrow table whose columns are ``columns`` in that order: binary COPY on PostgreSQL (each column cast
    to its database type first, so values are neither formatted as text nor parsed back), executemany on SQLite.
    Runs in the caller's transaction."""
    if table.num_rows == 0:
        return 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            types = _column_types(cursor, db_table)
            arrow_types = [_ARROW_TYPES.get(types[c][0]) for c in columns]
            if all(t is not None for t in arrow_types):
                _copy_binary(cursor, db_table, columns, table, types)
            else:
                sql = f"COPY {_quoted(db_table)} ({', '.join(map(_quoted, columns))}) FROM STDIN WITH (FORMAT csv)"
                with _copy(cursor, sql) as copy:
                    for block in csv_blocks(table):
                        copy.write(block)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {db_table} ({', '.join(columns)}) VALUES ({placeholders})"
            for batch in table.to_batches(max_chunksize=20_000):
                cursor.executemany(sql, list(zip(*(batch.column(i).to_pylist() for i in range(len(columns))),
                                                 strict=True)))
    return int(table.num_rows)


@contextmanager
def _copy(cursor: Any, sql: str) -> Iterator[Any]:
    """psycopg's COPY of ``sql`` on the driver's cursor, recorded in Django's query log like any other statement
    when queries are logged (``DEBUG``, ``CaptureQueriesContext``): the driver's cursor, which COPY needs, bypasses
    Django's own recording."""
    started = time.monotonic()
    try:
        with cursor.cursor.copy(sql) as copy:
            yield copy
    finally:
        if connection.queries_logged:
            connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})


#: PostgreSQL column types the binary path writes, with the Arrow type each column is cast to first.
_ARROW_TYPES: dict[str, pa.DataType] = {
    "bigint": pa.int64(), "integer": pa.int32(), "smallint": pa.int16(), "boolean": pa.bool_(),
    "text": pa.string(), "character varying": pa.string(), "jsonb": pa.string(), "date": pa.date32(),
    "timestamp with time zone": pa.timestamp("us", tz="UTC"), "timestamp without time zone": pa.timestamp("us"),
    "double precision": pa.float64(), "numeric": pa.string(),  # numeric: precision and scale from the column
}


def _column_types(cursor: Any, db_table: str) -> dict[str, tuple[str, int, int]]:
    """Column → (base type name, numeric precision, numeric scale)."""
    cursor.execute(
        "SELECT a.attname, format_type(a.atttypid, NULL), information_schema._pg_numeric_precision(a.atttypid, "
        "a.atttypmod), information_schema._pg_numeric_scale(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
        [db_table],
    )
    return {str(name): (str(kind), int(precision or 0), int(scale or 0))
            for name, kind, precision, scale in cursor.fetchall()}


def _copy_binary(cursor: Any, db_table: str, columns: Sequence[str], table: pa.Table,
                 types: dict[str, tuple[str, int, int]]) -> None:
    import pgpq
    import pgpq.encoders
    import pgpq.schema
    import pyarrow.compute as pc

    arrays = []
    for i, name in enumerate(columns):
        kind, precision, scale = types[name]
        target = pa.decimal128(precision or 38, scale) if kind == "numeric" else _ARROW_TYPES[kind]
        column = table.column(i)
        if kind == "date" and pa.types.is_string(column.type):
            column = pc.cast(pc.strptime(column, format="%Y-%m-%d", unit="s"), pa.date32())
        elif kind.startswith("timestamp") and pa.types.is_string(column.type):
            raise TypeError(f"{db_table}.{name}: pass timestamps as Arrow timestamps")
        arrays.append(column if column.type == target else pc.cast(column, target))
    typed = pa.table(arrays, names=list(columns))
    encoders: dict[str, Any] = {}
    for field_ in typed.schema:
        if types[field_.name][0] == "jsonb":
            encoders[field_.name] = pgpq.encoders.StringEncoderBuilder.new_with_output(field_, pgpq.schema.Jsonb())
        else:
            encoders[field_.name] = pgpq.ArrowToPostgresBinaryEncoder.infer_encoder(field_)
    encoder = pgpq.ArrowToPostgresBinaryEncoder.new_with_encoders(typed.schema, encoders)
    sql = f"COPY {_quoted(db_table)} ({', '.join(map(_quoted, columns))}) FROM STDIN WITH (FORMAT binary)"
    with _copy(cursor, sql) as copy:
        copy.write(encoder.write_header())
        for batch in typed.to_batches(max_chunksize=CHUNK_ROWS):
            copy.write(encoder.write_batch(batch))
        copy.write(encoder.finish())


def instances_table(model: type[models.Model], objs: list[models.Model]) -> tuple[list[str], pa.Table]:
    """The columns an INSERT of these unsaved instances writes (all but an auto-generated primary key) and their
    values as an Arrow table, for :func:`copy_rows` and :func:`copy_upsert` on PostgreSQL.

    Each value is prepared by its field exactly as ``save()`` and ``bulk_create`` prepare it
    (:func:`jianguan.core.fastinsert.prepared_rows`): defaults and ``auto_now`` applied, encrypted fields as their
    tokens, foreign keys as ``<name>_id``, JSON as the text psycopg would send. Datetimes go as UTC timestamps,
    decimals at the field's precision and scale, rounded half away from zero as PostgreSQL rounds them."""
    fields, rows = fastinsert.prepared_rows(model, objs)
    columns = [f.column for f in fields]
    values = list(zip(*rows, strict=True)) if rows else [() for _f in fields]
    arrays = [_arrow_array(f, list(column)) for f, column in zip(fields, values, strict=True)]
    return columns, pa.table(arrays, names=columns)


def _arrow_array(model_field: Any, values: list[Any]) -> pa.Array:
    """One column of prepared values as Arrow; ``copy_rows`` casts it to the database column's own type."""
    target = model_field.target_field if model_field.is_relation else model_field
    if isinstance(target, models.JSONField):
        return pa.array([_json_text(v) for v in values], pa.string())
    if isinstance(target, models.DateTimeField):
        return pa.array([None if v is None else v.astimezone(dt.UTC) for v in values], pa.timestamp("us", tz="UTC"))
    if isinstance(target, models.DateField):
        return pa.array(values, pa.date32())
    if isinstance(target, models.DecimalField):
        step = Decimal(1).scaleb(-target.decimal_places)
        return pa.array([None if v is None else v.quantize(step, rounding=ROUND_HALF_UP) for v in values],
                        pa.decimal128(target.max_digits, target.decimal_places))
    if isinstance(target, models.BooleanField):
        return pa.array(values, pa.bool_())
    if isinstance(target, models.IntegerField):  # small, big, positive and auto fields too
        return pa.array(values, pa.int64())
    if isinstance(target, models.CharField | models.TextField):
        return pa.array(values, pa.string())
    return pa.array(values)


def _json_text(value: Any) -> str | None:
    """The JSON text of a JSON field's prepared value: PostgreSQL's backend wraps the value for psycopg, which
    dumps it with the wrapper's function; other backends prepare the text itself."""
    if value is None or isinstance(value, str):
        return value
    from psycopg.types.json import Json, Jsonb

    if isinstance(value, Json | Jsonb):
        text = (value.dumps or json.dumps)(value.obj)
        return text.decode() if isinstance(text, bytes) else text
    raise TypeError(f"unexpected prepared JSON value {type(value).__name__}")


def copy_upsert(db_table: str, columns: Sequence[str], table: pa.Table, key: str,
                update_columns: Sequence[str]) -> tuple[int, int]:
    """Insert the rows of ``table`` (its columns are ``columns``, in that order) into ``db_table``, or update the
    row with the same ``key`` (a column with a unique constraint) in its ``update_columns``; returns how many rows
    were (created, updated). PostgreSQL only, in the caller's transaction.

    PostgreSQL's bulk upsert: the rows are COPYed (:func:`copy_rows`) into a temporary table shaped like the
    target's written columns, then merged with one ``INSERT … SELECT … ON CONFLICT (key) DO UPDATE``, in the
    order of ``table`` (auto-generated ids follow it). A row whose ``xmax`` is 0 after the statement was inserted
    by it, any other one updated (PostgreSQL marks the row version an ``ON CONFLICT`` update writes with the
    updating transaction). ``key`` must be unique within ``table``: PostgreSQL refuses to update one row twice in
    one statement, and the whole statement fails. The staging table is dropped at the end, so the function can
    run again in the same transaction; if anything fails, the rollback takes it away with the rows."""
    if connection.vendor != "postgresql":
        raise NotSupportedError("copy_upsert needs PostgreSQL's COPY; use bulk_create(update_conflicts=True)")
    if not update_columns:
        raise ValueError("copy_upsert needs at least one column to update")
    if table.num_rows == 0:
        return 0, 0
    quote = connection.ops.quote_name
    staging = f"{db_table}_staging"[:63]
    ordinal = "jg_ordinal"
    names = ", ".join(quote(c) for c in columns)
    assignments = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in update_columns)
    numbered = table.rename_columns(list(columns)).append_column(ordinal, pa.array(range(table.num_rows),
                                                                                 pa.int64()))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE {quote(staging)} ON COMMIT DROP AS SELECT {names}, "
                       f"0::bigint AS {ordinal} FROM {quote(db_table)} WITH NO DATA")
        copy_rows(staging, [*columns, ordinal], numbered)
        cursor.execute(
            f"WITH upserted AS (INSERT INTO {quote(db_table)} ({names}) SELECT {names} FROM {quote(staging)} "
            f"ORDER BY {ordinal} ON CONFLICT ({quote(key)}) DO UPDATE SET {assignments} "
            "RETURNING (xmax = 0) AS created) "
            "SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM upserted"
        )
        created, updated = cursor.fetchone()
        cursor.execute(f"DROP TABLE {quote(staging)}")
    return int(created), int(updated)


#: From this many ids on, :func:`reserve_ids` takes them as one range.
ID_RANGE_FROM = 10_000


def reserve_ids(db_table: str, count: int) -> list[int]:
    """``count`` new ids of ``db_table`` (an auto-increment ``id``), taken in the caller's transaction so rows can be
    written with their ids (and referred to) in bulk.

    PostgreSQL, many ids: one range from the table's own sequence — ``ALTER SEQUENCE … INCREMENT BY count`` then one
    ``nextval``. ``ALTER SEQUENCE`` blocks every other ``nextval`` of that sequence until the caller's transaction
    ends (documented behaviour), so no other session can draw a value inside the range; it is transactional, so a
    rolled-back load leaves the sequence as it was. PostgreSQL, few ids: ``nextval`` per id, returned as the runs
    of consecutive values drawn (one run unless another session drew meanwhile). SQLite: the next ids after the
    largest, safe because the caller's transaction already holds SQLite's write lock."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [db_table])
            row = cursor.fetchone()
            sequence = str(row[0]) if row else ""
            if count >= ID_RANGE_FROM:
                state = ("SELECT increment_by, last_value IS NOT NULL FROM pg_sequences WHERE "
                         "format('%%I.%%I', schemaname, sequencename)::regclass = %s::regclass")
                cursor.execute(state, [sequence])
                increment = cursor.fetchone()
                step = int(increment[0]) if increment else 1
                cursor.execute(f"ALTER SEQUENCE {sequence} INCREMENT BY {int(count)}")
                cursor.execute(state, [sequence])  # again, now that no other session can draw from it
                drawn = cursor.fetchone()
                cursor.execute("SELECT nextval(%s::regclass)", [sequence])
                if drawn is not None and not drawn[1]:
                    # A sequence never drawn from (a new table) hands out its start value first, without the
                    # increment; the range is what the second call ends (its start value is left unused).
                    cursor.execute("SELECT nextval(%s::regclass)", [sequence])
                last = cursor.fetchone()
                cursor.execute(f"ALTER SEQUENCE {sequence} INCREMENT BY {step}")
                end = int(last[0]) if last else 0
                return list(range(end - count + 1, end + 1))
            cursor.execute(
                "SELECT min(v), count(*) FROM (SELECT v, v - row_number() OVER (ORDER BY v) AS run FROM "
                "(SELECT nextval(%s::regclass) AS v FROM generate_series(1, %s)) s) r GROUP BY run ORDER BY 1",
                [sequence, count],
            )
            ids: list[int] = []
            for start, length in cursor.fetchall():
                ids.extend(range(int(start), int(start) + int(length)))
            return ids
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {db_table}")
        found = cursor.fetchone()
        first = int(found[0] if found else 0) + 1
        return list(range(first, first + count))


@dataclass
class Rebuild:
    """What :func:`rebuilding_indexes` took off a table, to put back (names with their full definitions)."""

    table: str
    active: bool = False
    reason: str = ""
    keys: list[tuple[str, str]] = field(default_factory=list)  # unique / primary-key constraints
    indexes: list[tuple[str, str]] = field(default_factory=list)
    foreign_keys: list[tuple[str, str]] = field(default_factory=list)


#: A load that changed at least this many rows of a table …
ANALYZE_MIN_ROWS = 10_000
#: … and at least this share of the rows the planner believes it holds refreshes the table's statistics.
ANALYZE_SHARE = 0.1


def analyze_after_commit(db_table: str, changed_rows: int) -> bool:
    """PostgreSQL's bulk-load practice, last step ("Populating a Database": run ``ANALYZE`` afterwards): once the
    caller's transaction commits, refresh the planner's statistics of ``db_table`` if the load changed at least
    :data:`ANALYZE_MIN_ROWS` rows and :data:`ANALYZE_SHARE` of the rows it was last counted with (always for a
    table never analysed). Returns whether it will.

    Autovacuum would do it too, a while later, and not at all where it is turned off; until then the planner
    plans for the table as it was. On a million master records loaded into an empty table, a batch's lineage list
    took 82 s instead of 0.9 s (a nested loop chosen for what it believed was one row), and a name search 2.0 s
    instead of 0.26 s. It runs after the commit, so the load's exclusive lock is not held for it (a million rows:
    about 0.6 s); a failure is logged, the load stands. SQLite: nothing."""
    if connection.vendor != "postgresql" or changed_rows < ANALYZE_MIN_ROWS:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [db_table])
        row = cursor.fetchone()
    counted = float(row[0]) if row is not None and row[0] is not None else -1.0
    if counted >= 0 and changed_rows < ANALYZE_SHARE * counted:
        return False
    transaction.on_commit(lambda: _analyze(db_table))
    return True


def _analyze(db_table: str) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {_quoted(db_table)}")
    except DatabaseError:
        logger.warning("ANALYZE %s after a bulk load failed", db_table, exc_info=True)


def table_rows(db_table: str) -> int:
    """The rows in a table: PostgreSQL's planner estimate when the table was ever analysed, else a count."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [db_table])
            row = cursor.fetchone()
            if row is not None and row[0] is not None and float(row[0]) >= 0:
                return int(row[0])
        cursor.execute(f"SELECT count(*) FROM {db_table}")
        counted = cursor.fetchone()
        return int(counted[0]) if counted else 0


def wants_rebuild(db_table: str, incoming_rows: int, *, min_rows: int | None = None,
                  ratio: float | None = None) -> bool:
    """Whether a load of ``incoming_rows`` into ``db_table`` should drop and recreate its secondary indexes
    (defaults: :data:`REBUILD_MIN_ROWS`, :data:`REBUILD_RATIO`)."""
    min_rows = REBUILD_MIN_ROWS if min_rows is None else min_rows
    ratio = REBUILD_RATIO if ratio is None else ratio
    if connection.vendor != "postgresql" or incoming_rows < min_rows:
        return False
    return incoming_rows >= ratio * table_rows(db_table)


def _secondary_indexes(cursor: Any, db_table: str) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT i.indisunique AND NOT i.indisexclusion "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY c.relname",
        [db_table],
    )
    return [(str(name), str(definition)) for name, definition in cursor.fetchall()]


def _unreferenced_keys(cursor: Any, db_table: str) -> list[tuple[str, str]]:
    """Unique and primary-key constraints of the table that no foreign key (of any table) relies on."""
    cursor.execute(
        "SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c WHERE c.conrelid = %s::regclass "
        "AND c.contype IN ('p', 'u') AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' "
        "AND f.confrelid = c.conrelid AND f.conindid = c.conindid) ORDER BY c.contype, c.conname",
        [db_table],
    )
    return [(str(name), str(definition)) for name, definition in cursor.fetchall()]


def _foreign_keys(cursor: Any, db_table: str) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
        "AND contype = 'f' ORDER BY conname",
        [db_table],
    )
    return [(str(name), str(definition)) for name, definition in cursor.fetchall()]


def _take_off(cursor: Any, rebuild: Rebuild) -> bool:
    """Take the table's ACCESS EXCLUSIVE lock (waiting at most :data:`LOCK_TIMEOUT`) and drop what is to be rebuilt,
    in a savepoint: when the lock is busy or the table cannot be altered now (e.g. this transaction already has
    deferred checks pending on it), nothing is dropped and the load goes the ordinary way."""
    db_table = rebuild.table
    cursor.execute("SELECT current_setting('lock_timeout')")
    previous = cursor.fetchone()[0]
    try:
        with transaction.atomic():  # a savepoint: a failure here must not abort the loading transaction
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [LOCK_TIMEOUT])
            cursor.execute(f"LOCK TABLE {db_table} IN ACCESS EXCLUSIVE MODE")
            indexes = _secondary_indexes(cursor, db_table)
            foreign_keys = _foreign_keys(cursor, db_table)
            keys = _unreferenced_keys(cursor, db_table)
            for name, _definition in (*foreign_keys, *keys):
                cursor.execute(f'ALTER TABLE {db_table} DROP CONSTRAINT "{name}"')
            for name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
    except DatabaseError as exc:
        logger.info("bulk load into %s without index rebuild: %s", db_table, exc)
        rebuild.reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return False
    finally:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
    rebuild.indexes, rebuild.foreign_keys, rebuild.keys = indexes, foreign_keys, keys
    return True


@contextmanager
def rebuilding_indexes(db_table: str, incoming_rows: int, *, min_rows: int | None = None,
                       ratio: float | None = None, maintenance_work_mem: str = "256MB") -> Iterator[Rebuild]:
    """Around the writes of one large load into ``db_table`` (inside the caller's transaction): take the secondary
    indexes, the foreign keys and the unreferenced unique keys off first, recreate them after. Smaller loads (see
    :func:`wants_rebuild`), SQLite, a table whose lock is busy and one this transaction has deferred checks
    pending on are loaded with everything in place.

    The recreated foreign keys are validated over the whole table by PostgreSQL itself, so nothing can reference
    a missing row afterwards; a failure raises and rolls the whole load back.
    """
    rebuild = Rebuild(db_table)
    if not wants_rebuild(db_table, incoming_rows, min_rows=min_rows, ratio=ratio):
        yield rebuild
        return
    if not connection.in_atomic_block:
        raise RuntimeError("rebuilding_indexes must run inside the loading transaction")
    with connection.cursor() as cursor:
        rebuild.active = _take_off(cursor, rebuild)
    yield rebuild
    if not rebuild.active:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('maintenance_work_mem', %s, true)", [maintenance_work_mem])
        for name, definition in rebuild.keys:  # first: a foreign key of the table to itself needs its key
            cursor.execute(f'ALTER TABLE {db_table} ADD CONSTRAINT "{name}" {definition}')
        for _name, definition in rebuild.indexes:
            cursor.execute(definition)
        for name, definition in rebuild.foreign_keys:
            cursor.execute(f'ALTER TABLE {db_table} ADD CONSTRAINT "{name}" {definition}')
