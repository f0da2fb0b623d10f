"""Benchmark (a): entity rows from a CSV file end to end into the master records (``core.Subject``).

Generates a registry extract of N rows (one row per entity, with the usual dirt: full-width characters, mixed date
and money formats, null markers, 0.5% wrong check characters, 1.5% rows without a credit code), then in one run:

1. bare I/O: DuckDB ``read_csv`` of the file into a table, and a bare PostgreSQL ``COPY`` of the same file into an
   unindexed table of text columns;
2. ours: the file delivered to a source through ``services.submit_file`` — stored, hashed, extracted, cleaned,
   standardised, verified, linked, de-duplicated, compared and integrated with lineage and a quality report.

Prints rows/s and the ratio (bare DuckDB read + bare COPY) / our time (issue target ≥ 0.25), with peak memory.

    .venv/bin/python bench/datacenter_ingest.py --rows 1000000 \
        --database postgres://postgres@127.0.0.1:5432/jg_bench_dc
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _recreate_postgres(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def bare_duckdb(path: Path) -> float:
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads = 2")
    started = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{path}', header = true, all_varchar = true)")
    elapsed = time.perf_counter() - started
    con.close()
    return elapsed


def bare_copy(url: str, path: Path, columns: int) -> float:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_bare_copy")
        conn.execute("CREATE TABLE bench_bare_copy (" + ", ".join(f"c{i} text" for i in range(columns)) + ")")
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY bench_bare_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy, \
                path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                copy.write(block)
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_bare_copy")
    return elapsed


def copy_into_subject_shape(url: str, work: Path) -> tuple[float, int]:
    """For reference: the subjects just loaded, COPYed again (CSV, the ordinary way) into a table shaped exactly
    like core_subject (same columns, its indexes and 2 deferred foreign keys), in one transaction."""
    import psycopg

    dump = work / "subjects.csv"
    columns = ("id, created_at, updated_at, uscc, name, subject_type, legal_representative, address, "
               "registered_capital, established_on, status, industry_id, region_id")
    with psycopg.connect(url, autocommit=True) as conn:
        with conn.cursor() as cur, cur.copy(f"COPY (SELECT {columns} FROM core_subject) TO STDOUT WITH (FORMAT csv)") \
                as copy, dump.open("wb") as fh:
            for block in copy:
                fh.write(block)
        conn.execute("DROP TABLE IF EXISTS bench_subject_shape")
        conn.execute("CREATE TABLE bench_subject_shape (LIKE core_subject INCLUDING ALL)")
        conn.execute("ALTER TABLE bench_subject_shape ADD FOREIGN KEY (region_id) REFERENCES core_region(code) "
                     "DEFERRABLE INITIALLY DEFERRED")
        conn.execute("ALTER TABLE bench_subject_shape ADD FOREIGN KEY (industry_id) REFERENCES "
                     "core_industrycode(code) DEFERRABLE INITIALLY DEFERRED")
        indexes = conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'bench_subject_shape'").fetchone()
        started = time.perf_counter()
        with conn.transaction():
            with conn.cursor() as cur, cur.copy(f"COPY bench_subject_shape ({columns}) FROM STDIN WITH (FORMAT csv)") \
                    as copy, dump.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    copy.write(block)
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_subject_shape")
    return elapsed, int(indexes[0]) if indexes else 0


def deliver_again(source: object, csv_path: Path) -> None:
    """The same file delivered again (a full re-delivery, forced past the content-hash check): it must change
    nothing — no record created or updated, no link, lineage row or own row added."""
    from jianguan.core import audit
    from jianguan.core.models import Subject
    from jianguan.datacenter import services
    from jianguan.datacenter.models import EntityLink, EntityRow, LineageRecord

    def state() -> tuple[int, int, int, int]:
        return (Subject.objects.count(), EntityLink.objects.count(), LineageRecord.objects.count(),
                EntityRow.objects.count())

    before = state()
    with audit.audit_context(actor_name="system:bench"):
        started = time.perf_counter()
        batch = services.submit_file(source, actor=services.SystemActor(), path=csv_path, file_name="again.csv",
                                     force=True)
        seconds = time.perf_counter() - started
    batch.refresh_from_db()
    print(f"delivered again: {seconds:.2f}s — {batch.message} links {batch.linked_count}")
    print("  steps: " + ", ".join(f"{s['step']} {s['seconds']:.1f}s" for s in batch.steps if s["seconds"] >= 0.05))
    after = state()
    verdict = "nothing changed" if after == before and not (batch.created_count or batch.updated_count) else \
        f"CHANGED: subjects, links, lineage rows, own rows {before} -> {after}"
    print(f"  {verdict}")


def trace_duckdb(top: int) -> None:
    """Wrap the DuckDB engine's statement methods with a timer; print the ``top`` slowest statements at exit."""
    import atexit

    from jianguan.datacenter.pipeline import engines

    timed: list[tuple[float, str, str]] = []

    def wrap(name: str) -> None:
        original = getattr(engines.DuckDBEngine, name)

        def timed_call(self: object, *args: object) -> object:
            started = time.perf_counter()
            try:
                return original(self, *args)
            finally:
                text = " ".join(str(a) for a in args).replace("\n", " ")
                timed.append((time.perf_counter() - started, name, text[:200]))

        setattr(engines.DuckDBEngine, name, timed_call)

    for name in ("create_table", "create_view", "fetch_arrow", "register_arrow", "write_parquet", "drop_table"):
        wrap(name)

    def report() -> None:
        print(f"DuckDB statements: {len(timed)}, {sum(t for t, _n, _s in timed):.1f}s in all; the slowest:")
        for seconds, name, text in sorted(timed, reverse=True)[:top]:
            print(f"{seconds:7.2f}s {name:14s} {text}")

    atexit.register(report)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/jg_bench_dc",
                        help="PostgreSQL URL; the database is dropped and created again")
    parser.add_argument("--seed", type=int, default=20190222)
    parser.add_argument("--reuse", type=Path, default=None, metavar="CSV",
                        help="use this generated file (from an earlier run with the same --rows) instead of a new one")
    parser.add_argument("--again", action="store_true",
                        help="then deliver the same file again (forced past the duplicate check): its time, and "
                             "whether it changed nothing, as it must")
    parser.add_argument("--trace", type=int, default=0, metavar="N",
                        help="time every DuckDB statement of the run and print the N slowest at the end")
    args = parser.parse_args()
    if args.trace:
        trace_duckdb(args.trace)

    var = Path(tempfile.mkdtemp(prefix="jg-bench-dc-"))
    os.environ.update({"JIANGUAN_VAR_DIR": str(var), "JIANGUAN_DATABASE_URL": args.database,
                       "DJANGO_SETTINGS_MODULE": "config.settings", "JIANGUAN_DUCKDB_THREADS": "2"})
    _recreate_postgres(args.database)
    jianguan = str(Path(sys.executable).parent / "jianguan")
    subprocess.run([jianguan, "migrate", "-v0"], check=True, env=os.environ)

    from jianguan.datacenter.linkage.synthetic import REGISTRY_HEADER, write_registry_csv

    csv_path = var / "registry.csv"
    t0 = time.perf_counter()
    if args.reuse:
        csv_path = args.reuse
    else:
        write_registry_csv(csv_path, args.rows, seed=args.seed)
        # The bare I/O below must not run while the generated file is still being written back to disk (it made
        # the bare COPY 2.5 s instead of 1.5 s, and the ratio look better than it was).
        os.sync()
    size = csv_path.stat().st_size / 1e6
    how = "reused" if args.reuse else "generated"
    print(f"{how} {args.rows:,} rows ({size:.0f} MB) in {time.perf_counter() - t0:.1f}s")

    import django

    django.setup()
    from jianguan.core import audit
    from jianguan.core.models import Organization, Subject
    from jianguan.datacenter import services
    from jianguan.datacenter.models import LineageEntry, LineageRecord, QuarantinedRow, Source

    read = bare_duckdb(csv_path)
    copy = bare_copy(args.database, csv_path, len(REGISTRY_HEADER))
    print(f"bare DuckDB read_csv: {read:.2f}s   bare PostgreSQL COPY: {copy:.2f}s   sum {read + copy:.2f}s")

    owner = Organization.objects.get(code="320000001") if Organization.objects.filter(code="320000001").exists() \
        else None
    if owner is None:
        from jianguan.core.models import DepartmentKind, Region

        owner = Organization.objects.create(code="320000001", name="江苏省市场监督管理局",
                                            kind=DepartmentKind.objects.get(code="001"),
                                            region=Region.objects.get(code="320000"))
    with audit.audit_context(actor_name="system:bench"):
        source = Source.objects.create(code="bench-registry", name="登记系统（基准）", kind="department",
                                       library="entities", channel="file", file_format="csv", owner=owner,
                                       region=owner.region)
        started = time.perf_counter()
        batch = services.submit_file(source, actor=services.SystemActor(), path=csv_path, file_name="registry.csv")
        ours = time.perf_counter() - started
    batch.refresh_from_db()
    accounted = sum(s["seconds"] for s in batch.steps)
    print(f"accounted in steps: {accounted:.1f}s; outside (store, hash, job, bookkeeping): {ours - accounted:.1f}s")
    batch.refresh_from_db()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"batch #{batch.pk}: {batch.get_status_display()} ({batch.engine}) — {batch.message}")
    print("steps: " + ", ".join(f"{s['step']} {s['seconds']:.1f}s" for s in batch.steps))
    print(f"subjects {Subject.objects.count():,}, lineage entries {LineageEntry.objects.count():,} "
          f"(rows of their own {LineageRecord.objects.count():,}, the others kept on the records they created), "
          f"quarantined {QuarantinedRow.objects.count():,}, links {batch.linked_count:,}")
    print(f"quality overall: {batch.quality.get('overall')}")
    print(f"ours: {ours:.2f}s = {args.rows / ours:,.0f} rows/s; peak RSS {peak:,.0f} MB")
    print(f"ratio (bare read + bare COPY) / ours = {(read + copy) / ours:.3f}  (target >= 0.25)")
    if args.again:
        deliver_again(source, csv_path)
    shape, indexes = copy_into_subject_shape(args.database, var)
    print(f"for reference: plain CSV COPY of the same subjects into a table shaped like core_subject ({indexes} "
          f"indexes, 2 deferred foreign keys, maintained row by row): {shape:.2f}s; "
          f"(bare read + that COPY) / ours = {(read + shape) / ours:.3f}")


if __name__ == "__main__":
    main()
