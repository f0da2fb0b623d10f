"""Benchmark: build the demo with N supervised entities on a fresh embedded (SQLite) database, or on PostgreSQL.

Prints the entity rate reported by the command and the wall time of the whole `jianguan demo` run (issue target:
1,000,000 entities within 3 minutes on SQLite). There is no external peer for this figure.

    .venv/bin/python bench/demo_entities.py --entities 1000000
    .venv/bin/python bench/demo_entities.py --entities 1000000 --database postgres://postgres@127.0.0.1:5432/jg_bench
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--database", default="", help="PostgreSQL URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    jianguan = str(Path(sys.executable).parent / "jianguan")
    with tempfile.TemporaryDirectory(prefix="jg-bench-") as var:
        env = {**os.environ, "JIANGUAN_VAR_DIR": var}
        if args.database:
            env["JIANGUAN_DATABASE_URL"] = args.database
            _recreate_postgres(args.database)
        subprocess.run([jianguan, "migrate", "-v0"], env=env, check=True)
        started = time.perf_counter()
        result = subprocess.run([jianguan, "demo", "--entities", str(args.entities), "--no-progress"], env=env,
                                check=True, capture_output=True, text=True)
        wall = time.perf_counter() - started
        summary = next(line for line in result.stdout.splitlines() if line.startswith("demo built"))
        print(f"engine: {'postgresql' if args.database else 'sqlite'}")
        print(f"entities: {args.entities:,}")
        print(f"jianguan demo wall time: {wall:.1f} s")
        print(f"summary: {summary}")


def _recreate_postgres(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


if __name__ == "__main__":
    main()
