"""Insert single rows on hot write paths without rebuilding the INSERT statement every time.

``Model.save()`` compiles its INSERT anew on every call: for a row of thirty columns that costs more CPU than the
database spends storing it. ``insert`` prepares values exactly as ``save()`` does (each field's ``pre_save`` and
``get_db_prep_save``, so defaults, ``auto_now``, JSON and encrypted fields behave the same) but reuses one SQL text
per model and column set, and reads back an auto-increment key with ``RETURNING``.

It sends no model signals, so it refuses ``AuditedModel`` instances (their automatic diff rides on ``post_save``);
use it where the service writes its own business audit event, as intake does.

``queued()`` goes one step further for a transaction that writes several tables whose rows nobody reads back
before the commit (a ticket's reporter, timeline step, outbox event and audit entry): inside it, ``insert`` only
queues its statements, and they reach the database together when the block ends — on PostgreSQL as one
multi-statement query, one round trip instead of one per table — with generated keys read back from each
statement's ``RETURNING`` and set on the instances then. Any other SQL run on the connection inside the block sends
the queue first, so nothing ever reads around it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.db import connections, models

MAX_ROWS = 200  # rows per statement
#: ``(unique fields, fields to update)`` of an insert that updates the row it conflicts with
Upsert = tuple[tuple[str, ...], tuple[str, ...]]


@lru_cache(maxsize=1024)
def _statement(model: type[models.Model], columns: tuple[str, ...], rows: int, returning: str, using: str,
               upsert: Upsert | None = None) -> str:
    def quote(name: str) -> str:
        return connections[using].ops.quote_name(name).replace("%", "%%")  # only the placeholders are formatted

    table = quote(model._meta.db_table)
    row = f"({', '.join(['%s'] * len(columns))})"
    sql = (f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608 - names from the model
           f"VALUES {', '.join([row] * rows)}")
    if upsert is not None:
        concrete = {f.name: f.column for f in model._meta.concrete_fields}
        unique, update = ([quote(concrete[name]) for name in names] for names in upsert)
        sql += f" ON CONFLICT ({', '.join(unique)}) DO UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in update)}"
    if returning:
        sql += f" RETURNING {quote(returning)}"
    return sql


@lru_cache(maxsize=1024)
def _template(sql: str) -> bytes:
    return sql.encode()


def _bind(connection: Any, sql: str, params: list[Any]) -> bytes:
    """The statement with its values merged in as SQL literals, as psycopg's client-side binding does (the backend's
    default), but without psycopg parsing the query text again for every statement: psycopg caches that parse only
    for statements of at most 50 parameters, and a multi-row INSERT of a wide table has hundreds. The literals come
    from psycopg's own adaptation of each value (``Transformer.as_literal``: quoting, escapes, type casts)."""
    from psycopg.adapt import Transformer

    transformer = Transformer(connection.connection)
    return _template(sql) % tuple(b"NULL" if p is None else transformer.as_literal(p) for p in params)


@dataclass
class _Statement:
    sql: str | bytes
    params: list[Any]
    model: type[models.Model]
    group: list[models.Model]
    generate_pk: bool
    returns: bool


@dataclass
class _Queue:
    using: str
    statements: list[_Statement] = field(default_factory=list)
    sending: bool = False

    def send(self) -> None:
        if not self.statements or self.sending:
            return
        statements, self.statements = self.statements, []
        connection = connections[self.using]
        self.sending = True
        try:
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql" and len(statements) > 1:
                    # one simple-protocol query with every statement (values already bound); each result in turn
                    joined: Any = b";\n".join(st.sql for st in statements if isinstance(st.sql, bytes))
                    cursor.execute(joined)  # psycopg takes bytes; Django's stubs say str
                    for index, statement in enumerate(statements):
                        if index:
                            cursor.nextset()
                        _apply_keys(cursor, connection, statement)
                else:
                    for statement in statements:
                        _execute(cursor, statement)
                        _apply_keys(cursor, connection, statement)
        finally:
            self.sending = False


_queues: ContextVar[dict[str, _Queue] | None] = ContextVar("fastinsert_queues", default=None)


@contextmanager
def queued(using: str = "default") -> Iterator[None]:
    """Queue the ``insert`` calls of this block and send them together when it ends (see the module docstring).

    Meant inside a transaction: if the block raises, the queued statements are dropped with it. Nested blocks join
    the outer one."""
    queues = _queues.get() or {}
    if using in queues:
        yield
        return
    queue = _Queue(using)
    token = _queues.set({**queues, using: queue})

    def send_first(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queue.send()  # other SQL inside the block: the queued rows go first, so it sees them
        return execute(sql, params, many, context)

    try:
        with connections[using].execute_wrapper(send_first):
            yield
            queue.send()
    finally:
        _queues.reset(token)


def insert(*objs: models.Model, using: str = "default", upsert: Upsert | None = None) -> None:
    """INSERT each unsaved instance as ``save(force_insert=True)`` would, setting its primary key.

    Consecutive instances of one model (all with or all without a primary key already set) go in one multi-row
    statement; keys generated by the database are read back in order with ``RETURNING``. ``upsert`` —
    ``(unique fields, fields to update)`` — turns a row whose unique fields exist already into an update of those
    fields (``ON CONFLICT … DO UPDATE``, as ``bulk_create(update_conflicts=True)``); the instance then gets the
    existing row's key. One statement must not hold the same unique values twice."""
    from jianguan.core.models import AuditedModel

    connection = connections[using]
    returns = connection.features.can_return_columns_from_insert
    groups: list[tuple[tuple[type[models.Model], bool], list[models.Model]]] = []
    for obj in objs:
        if isinstance(obj, AuditedModel):
            raise TypeError(f"{type(obj).__name__} is audited through signals; save() it instead")
        pk_field = obj._meta.pk
        assert pk_field is not None
        generate = isinstance(pk_field, models.AutoField) and getattr(obj, pk_field.attname) is None
        if groups and groups[-1][0] == (type(obj), generate) and len(groups[-1][1]) < MAX_ROWS:
            groups[-1][1].append(obj)
        else:
            groups.append(((type(obj), generate), [obj]))
    with connection.cursor() as cursor:
        for (model, generate_pk), group in groups:
            meta = model._meta
            pk_field = meta.pk
            assert pk_field is not None
            if generate_pk and not returns:  # no RETURNING: one row at a time, reading the last id
                for obj in group:
                    _insert_rows(cursor, connection, model, [obj], True, False, using, upsert)
                continue
            _insert_rows(cursor, connection, model, group, generate_pk, returns, using, upsert)


# Field classes whose ``pre_save`` is the attribute and whose ``get_db_prep_save`` returns a value of this Python
# type (or None) unchanged on PostgreSQL and SQLite: such values skip the three calls a column costs otherwise.
# Exact classes only: a subclass (an encrypted text field, say) may prepare its values, and goes the long way.
_PLAIN: dict[type[models.Field[Any, Any]], type] = {
    models.CharField: str, models.TextField: str, models.SlugField: str, models.BooleanField: bool,
    models.IntegerField: int, models.BigIntegerField: int, models.SmallIntegerField: int,
    models.PositiveIntegerField: int, models.PositiveBigIntegerField: int, models.PositiveSmallIntegerField: int,
    models.AutoField: int, models.BigAutoField: int, models.FloatField: float,
}
# Field classes that prepare None as None on PostgreSQL and SQLite (unless ``auto_now``/``auto_now_add`` fill it in
# ``pre_save``): an empty one of these skips the calls too. A ticket has a dozen such empty dates.
_NONE_PLAIN = (models.DateTimeField, models.DateField, models.TimeField, models.DecimalField, models.UUIDField,
               models.DurationField, models.GenericIPAddressField)


@lru_cache(maxsize=512)
def _columns(model: type[models.Model], generate_pk: bool) -> tuple[tuple[Any, ...], tuple[type | None, ...]]:
    """The model's columns in INSERT order, and for each the Python type whose values go in as they are
    (``NoneType``: only None does)."""
    meta = model._meta
    fields = tuple(f for f in meta.local_concrete_fields if not (generate_pk and f is meta.pk))

    def plain(f: Any) -> type | None:
        if type(f) in (models.ForeignKey, models.OneToOneField):
            return _PLAIN.get(type(f.target_field))
        if type(f) in _NONE_PLAIN and not (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)):
            return type(None)  # only None goes in as it is
        return _PLAIN.get(type(f))

    return fields, tuple(plain(f) for f in fields)


def _prepare(obj: models.Model, fields: tuple[Any, ...], plain: tuple[type | None, ...], connection: Any,
             out: list[Any]) -> None:
    """Append to ``out`` the value of each of ``fields`` that an INSERT of ``obj`` writes."""
    append = out.append
    for f, kind in zip(fields, plain, strict=True):
        if kind is not None:
            value = getattr(obj, f.attname)
            if value is None or type(value) is kind:
                append(value)
                continue
        append(f.get_db_prep_save(f.pre_save(obj, True), connection))


def prepared_rows(model: type[models.Model], objs: list[models.Model], *, include_pk: bool = False,
                  using: str = "default") -> tuple[tuple[Any, ...], list[list[Any]]]:
    """The model's columns and, for each unsaved instance, the values an INSERT of it writes, prepared exactly as
    ``save()`` and ``bulk_create`` prepare them (``pre_save`` with ``add=True``, then ``get_db_prep_save``: defaults
    and ``auto_now`` are applied, encrypted fields give their tokens, foreign keys their ``<name>_id``). The
    primary key is left out unless ``include_pk``. Sends no signals and writes nothing; for bulk paths that send
    the values themselves (``jianguan.core.bulkload``)."""
    connection = connections[using]
    fields, plain = _columns(model, not include_pk)
    rows: list[list[Any]] = []
    for obj in objs:
        row: list[Any] = []
        _prepare(obj, fields, plain, connection, row)
        rows.append(row)
    return fields, rows


def _insert_rows(cursor: Any, connection: Any, model: type[models.Model], group: list[models.Model],
                 generate_pk: bool, returns: bool, using: str, upsert: Upsert | None = None) -> None:
    meta = model._meta
    pk_field = meta.pk
    assert pk_field is not None
    fields, plain = _columns(model, generate_pk)
    params: list[Any] = []
    for obj in group:
        _prepare(obj, fields, plain, connection, params)
    returning = pk_field.column if generate_pk and returns else ""
    text = _statement(model, tuple(f.column for f in fields), len(group), returning, using, upsert)
    sql: str | bytes = text
    if connection.vendor == "postgresql":
        sql, params = _bind(connection, text, params), []
    statement = _Statement(sql, params, model, group, generate_pk, returns)
    queue = (_queues.get() or {}).get(using)
    if queue is not None and not queue.sending and (returns or not generate_pk):
        queue.statements.append(statement)
        return
    _execute(cursor, statement)
    _apply_keys(cursor, connection, statement)


def _execute(cursor: Any, statement: _Statement) -> None:
    if isinstance(statement.sql, bytes):
        cursor.execute(statement.sql)  # values bound already: no parameters
    else:
        cursor.execute(statement.sql, statement.params)


def _apply_keys(cursor: Any, connection: Any, statement: _Statement) -> None:
    meta = statement.model._meta
    pk_field = meta.pk
    assert pk_field is not None
    if statement.generate_pk:
        if statement.returns:
            keys = [row[0] for row in cursor.fetchall()]
        else:
            keys = [connection.ops.last_insert_id(cursor, meta.db_table, pk_field.column)]
        for obj, key in zip(statement.group, keys, strict=True):
            setattr(obj, pk_field.attname, pk_field.to_python(key))
    for obj in statement.group:
        obj._state.adding = False
        obj._state.db = connection.alias
