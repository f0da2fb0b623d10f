"""Index checks for tests: which indexes a table has, and the PostgreSQL plan of a queryset."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction


def index_names(table: str) -> set[str]:
    """Names of the table's indexes, unique constraints and primary key."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {name for name, info in constraints.items() if info["index"] or info["unique"] or info["primary_key"]}


def query_plan(queryset: Any) -> str:
    """PostgreSQL's plan of ``queryset`` with sequential scans off, so a usable index shows even on a near-empty
    table (the test's)."""
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())
