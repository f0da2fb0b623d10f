"""Reads of the operational database the pipeline needs: the master records a batch touches, candidates for
linking rows without a credit code, and which source supplied each current value (from lineage)."""

# ruff: noqa: S608 - this module builds SQL for the pipeline engines: values go through the dialect's literal
# helper, column names from delivered files through its identifier quoting; table names are fixed in code.

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from django.db import connection

from jianguan.core.models import Subject
from jianguan.datacenter.pipeline import runner
from jianguan.datacenter.pipeline.fields import decode_field_steps

_SELECT = (
    "SELECT id, uscc, name, subject_type, legal_representative, address, region_id, industry_id, "
    "registered_capital, established_on, status, phone_index FROM {table}"
)
_NAMES = ("id", "uscc", "name", "subject_type", "legal_representative", "address", "region", "industry",
          "registered_capital", "established_on", "status", "phone_index")
BULK_THRESHOLD = 20_000
CHUNK = 500


def _text_capital(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return f"{Decimal(str(value)).quantize(Decimal('0.0001'))}"


def _rows_to_table(rows: Iterable[tuple[Any, ...]]) -> pa.Table:
    columns: dict[str, list[Any]] = {name: [] for name in _NAMES}
    for row in rows:
        for name, value in zip(_NAMES, row, strict=True):
            if name == "id":
                columns[name].append(int(value))
            elif name == "registered_capital":
                columns[name].append(_text_capital(value))
            elif value is None:
                columns[name].append(None)
            else:
                columns[name].append(value.isoformat() if hasattr(value, "isoformat") else str(value))
    return _finish(pa.table({n: pa.array(v, type=pa.int64() if n == "id" else pa.string())
                             for n, v in columns.items()}))


def _finish(table: pa.Table) -> pa.Table:
    import pyarrow.compute as pc

    ekey = pc.if_else(
        pc.is_null(table.column("uscc")),
        pc.binary_join_element_wise("S:", pc.cast(table.column("id"), pa.string()), ""),
        pc.binary_join_element_wise("U:", table.column("uscc"), ""),
    )
    return table.append_column("ekey", ekey)


def _copy_query(sql: str) -> pa.Table:
    """PostgreSQL: stream a query out with COPY … TO STDOUT (CSV) and parse it with Arrow."""
    buffer = io.BytesIO()
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
        for block in copy:
            buffer.write(block)
    types = {n: (pa.int64() if n == "id" else pa.string()) for n in _NAMES}
    if buffer.tell() == 0:  # no rows: Arrow's CSV reader refuses an empty file
        return _finish(pa.schema(list(types.items())).empty_table())
    buffer.seek(0)
    table = pacsv.read_csv(
        buffer,
        read_options=pacsv.ReadOptions(column_names=list(_NAMES)),
        convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True,
                                             quoted_strings_can_be_null=False),
    )
    return _finish(table)


class DatabaseMasterData:
    """:class:`runner.MasterData` over ``core.Subject`` and the lineage table."""

    def __init__(self) -> None:
        self.table = Subject._meta.db_table

    def _query(self, where: str, params: list[Any]) -> pa.Table:
        sql = _SELECT.format(table=self.table) + (f" WHERE {where}" if where else "")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return _rows_to_table(cursor.fetchall())

    def existing(self, usccs: Sequence[str], ids: list[int]) -> pa.Table:
        if not usccs and not ids:
            return runner.EXISTING_SCHEMA.empty_table()
        if not Subject.objects.exists():
            return runner.EXISTING_SCHEMA.empty_table()
        parts = []
        if len(usccs) > BULK_THRESHOLD:
            if connection.vendor == "postgresql":
                parts.append(_copy_query(_SELECT.format(table=self.table) + " WHERE uscc IS NOT NULL"))
            else:
                parts.append(self._query("uscc IS NOT NULL", []))
        else:
            for i in range(0, len(usccs), CHUNK):
                chunk = list(usccs[i : i + CHUNK])
                parts.append(self._query(f"uscc IN ({', '.join(['%s'] * len(chunk))})", chunk))
        for i in range(0, len(ids), CHUNK):
            id_chunk = ids[i : i + CHUNK]
            parts.append(self._query(f"id IN ({', '.join(['%s'] * len(id_chunk))})", list(id_chunk)))
        table = pa.concat_tables(parts) if parts else runner.EXISTING_SCHEMA.empty_table()
        return table.select(runner.EXISTING_SCHEMA.names)

    def known_codes(self, usccs: Sequence[str]) -> set[str]:
        """Which of these credit codes a master record holds (only the codes: on a full re-delivery they are tens
        of thousands, and fetching their records would read the whole table)."""
        found: set[str] = set()
        if connection.vendor == "postgresql":
            step = CHUNK * 100
            with connection.cursor() as cursor:
                for i in range(0, len(usccs), step):
                    cursor.execute(f"SELECT uscc FROM {self.table} WHERE uscc = ANY(%s)", [list(usccs[i : i + step])])
                    found.update(row[0] for row in cursor.fetchall())
            return found
        for i in range(0, len(usccs), CHUNK):
            found.update(Subject.objects.filter(uscc__in=list(usccs[i : i + CHUNK])).values_list("uscc", flat=True))
        return found

    def link_candidates(self, city_prefixes: list[str]) -> pa.Table:
        return self._candidates(city_prefixes)

    def codeless(self, city_prefixes: list[str]) -> pa.Table:
        """The master records without a credit code in those cities (few: most entities have one)."""
        return self._candidates(city_prefixes, "uscc IS NULL")

    def _candidates(self, city_prefixes: list[str], condition: str = "") -> pa.Table:
        prefixes = [p for p in city_prefixes if p]
        if not prefixes:
            return runner.CANDIDATE_SCHEMA.empty_table()
        if connection.vendor == "postgresql" and all(p.isdigit() for p in prefixes):
            # Every record of the cities (the name key that narrows them is the engine's): a million once a
            # province's registry is in, so streamed out with COPY — 14 s through the cursor's rows, 2-3 s so.
            # The prefixes are region codes' digits (checked), written into the statement as COPY takes no
            # parameters.
            where = "(" + " OR ".join(f"region_id LIKE '{p}%'" for p in prefixes) + ")"
            sql = _SELECT.format(table=self.table) + f" WHERE {f'{condition} AND {where}' if condition else where}"
            table = _copy_query(sql)
        else:
            where = "(" + " OR ".join(["region_id LIKE %s"] * len(prefixes)) + ")"
            table = self._query(f"{condition} AND {where}" if condition else where, [f"{p}%" for p in prefixes])
        return table.select(runner.CANDIDATE_SCHEMA.names).cast(runner.CANDIDATE_SCHEMA)

    def provenance(self, ids: list[int]) -> pa.Table:
        """Per subject and field, the source of the newest lineage record naming the field, and its priority."""
        from jianguan.datacenter.models import LineageEntry, Source

        priorities = dict(Source.objects.values_list("id", "priority"))
        latest: dict[tuple[int, str], tuple[int, int]] = {}
        for i in range(0, len(ids), CHUNK):
            chunk = ids[i : i + CHUNK]
            records = LineageEntry.objects.filter(subject_id__in=chunk).values_list(
                "id", "subject_id", "source_id", "field_steps")
            for record_id, subject_id, source_id, field_steps in records:
                for name in decode_field_steps(field_steps):
                    key = (subject_id, name)
                    if key not in latest or record_id > latest[key][0]:
                        latest[key] = (record_id, source_id)
        rows = [
            {"subject_id": s, "field": f, "source_id": src, "priority": priorities.get(src, 0)}
            for (s, f), (_rid, src) in sorted(latest.items())
        ]
        return pa.Table.from_pylist(rows, schema=runner.PROVENANCE_SCHEMA)

    def earlier_rows(self, fingerprints: list[str]) -> pa.Table:
        """What became of rows with these fingerprints before (``runner.EARLIER_SCHEMA``): links a data manager
        split (the record it was linked to, and the record the split created), links that stand, and rows a record
        holds as its own (``EntityRow``) — with the records' codes now."""
        from jianguan.datacenter.choices import LinkStatus
        from jianguan.datacenter.models import EntityLink, EntityRow

        rows: list[dict[str, Any]] = []
        if connection.vendor == "postgresql":
            # every row without a code of a batch is asked for (15,000 or so in a million): one array parameter a
            # statement, not a list of thousands
            link_sql = (f"SELECT fingerprint, status, subject_id, split_subject_id FROM {EntityLink._meta.db_table} "
                        "WHERE fingerprint = ANY(%s) ORDER BY id")
            own_sql = (f"SELECT fingerprint, subject_id FROM {EntityRow._meta.db_table} "
                       "WHERE fingerprint = ANY(%s) ORDER BY id")
            with connection.cursor() as cursor:
                cursor.execute(link_sql, [list(fingerprints)])
                links = cursor.fetchall()
                cursor.execute(own_sql, [list(fingerprints)])
                owns = cursor.fetchall()
        else:  # SQLite before 3.32 takes at most 999 parameters a statement
            links, owns = [], []
            for i in range(0, len(fingerprints), CHUNK):
                chunk = fingerprints[i : i + CHUNK]
                links += EntityLink.objects.filter(fingerprint__in=chunk).order_by("id").values_list(
                    "fingerprint", "status", "subject_id", "split_subject_id")
                owns += EntityRow.objects.filter(fingerprint__in=chunk).order_by("id").values_list("fingerprint",
                                                                                                 "subject_id")
        rows += [{"fingerprint": fp, "kind": "split" if status == LinkStatus.SPLIT else "link",
                  "subject_id": subject_id, "split_id": split_id} for fp, status, subject_id, split_id in links]
        rows += [{"fingerprint": fp, "kind": "own", "subject_id": subject_id, "split_id": None}
                 for fp, subject_id in owns]
        # the records' codes now, by primary key, once for all the rows found
        ids = sorted({r[k] for r in rows for k in ("subject_id", "split_id") if r[k] is not None})
        codes: dict[int, str | None] = {}
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT id, uscc FROM {self.table} WHERE id = ANY(%s)", [ids])
                codes.update(cursor.fetchall())
        else:
            for i in range(0, len(ids), CHUNK):
                codes.update(Subject.objects.filter(pk__in=ids[i : i + CHUNK]).values_list("id", "uscc"))
        for r in rows:
            r["subject_uscc"] = codes.get(r["subject_id"])
            r["split_uscc"] = codes.get(r["split_id"]) if r["split_id"] is not None else None
        return pa.Table.from_pylist(rows, schema=runner.EARLIER_SCHEMA)
