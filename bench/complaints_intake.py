#!/usr/bin/env python
"""Complaint intake benchmark: sustained load through the REST API, then the same with the server killed mid-run.

1. **Sustained run.** gunicorn (``config.wsgi``) on PostgreSQL on 127.0.0.1; ``--clients`` threads post single
   tickets to ``POST /api/v1/complaints/intake/`` (each with its own idempotency key) for ``--seconds``. Prints
   tickets/s, p50/p99 latency, and the number of tickets found in the database afterwards, which must equal the
   number of 2xx answers.
2. **Kill run.** The same load, but the server's whole process group gets SIGKILL after ``--kill-after`` seconds
   and is restarted; clients retry every unanswered request with the same idempotency key (bounded attempts and
   time). Prints acknowledged keys, rows found, lost (acknowledged but missing) and duplicated tickets: both must be 0.

Traffic goes only to 127.0.0.1; every loop is bounded in count and time. Usage::

    .venv/bin/python bench/complaints_intake.py --database postgres://postgres@127.0.0.1:5432/jg_bench_complaints
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
CONTENTS = (
    "健身房突然关门，会员卡余额无法退还，要求退款。",
    "饭店后厨卫生很差，吃完后腹泻，要求查处。",
    "楼下烧烤店噪音扰民到凌晨两点，请处理。",
    "网购的电饭煲收到就坏了，商家拒绝退货。",
    "公司拖欠三个月工资不发，多次讨要无果。",
)
PLACES = ("南京市鼓楼区中山路100号", "苏州市姑苏区人民路8号", "无锡市梁溪区解放路3号", "徐州市云龙区和平路5号")


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    ok: int = 0
    errors: int = 0
    acked: set[str] = field(default_factory=set)
    attempted: set[str] = field(default_factory=set)
    retries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def run(cmd: list[str], env: dict[str, str]) -> str:
    return subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit((parts.scheme.replace("postgres", "postgresql", 1) if parts.scheme == "postgres"
                        else parts.scheme, parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def make_client(env: dict[str, str]) -> tuple[str, int]:
    """A machine account (api_client role) at the province with an ``add`` token; returns (secret, user id)."""
    code = (
        "from jianguan.core.testing.personas import make_token, make_user\n"
        "u = make_user('bench_12345', '320000', '011', ['api_client'], is_machine=True)\n"
        "print(make_token(u, ['add', 'view']), u.pk)\n"
    )
    out = run([str(VENV_BIN / "jianguan"), "shell", "-c", code], env).strip().splitlines()[-1]
    secret, user_id = out.split()
    return secret, int(user_id)


def port_taken(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_server(env: dict[str, str], port: int, workers: int, threads: int) -> subprocess.Popen[bytes]:
    if port_taken(port):
        raise SystemExit(f"port {port} is already in use by another process; choose --port")
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers",
         str(workers), "--threads", str(threads), "--worker-class", "gthread", "--log-level", "warning",
         "--keep-alive", "30", "--backlog", "512"],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if process.poll() is not None:
                raise SystemExit("gunicorn exited during start-up")
            if httpx.get(f"http://127.0.0.1:{port}/open311/discovery.json", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise SystemExit("the server did not start within 60 s")


def kill_server(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    process.wait(timeout=30)


def body(rng: random.Random) -> dict[str, str]:
    return {
        "kind": "complaint",
        "title": "诉求",
        "content": rng.choice(CONTENTS),
        "place_address": rng.choice(PLACES),
        "subject_name": "某某有限公司",
        "reporter_name": "张三",
        "reporter_phone": f"139{rng.randrange(10**8):08d}",
    }


def client_loop(base: str, token: str, phase: Phase, prefix: str, stop: threading.Event, index: int,
                retry: bool, max_seconds: float, batch: int = 0) -> None:
    rng = random.Random(index)
    headers = {"Authorization": f"Bearer {token}"}
    n = 0
    hard_stop = time.monotonic() + max_seconds
    with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
        while not stop.is_set() and time.monotonic() < hard_stop:
            n += 1
            if batch:
                keys = [f"{prefix}-{index}-{n}-{i}" for i in range(batch)]
                payload: object = {"records": [{**body(rng), "idempotency_key": k} for k in keys]}
                url, extra = "/api/v1/complaints/intake/batch/", {}
            else:
                keys = [f"{prefix}-{index}-{n}"]
                payload, url, extra = body(rng), "/api/v1/complaints/intake/", {"Idempotency-Key": keys[0]}
            with phase.lock:
                phase.attempted.update(keys)
            attempts = 0
            while attempts < 200 and time.monotonic() < hard_stop + 60:
                attempts += 1
                started = time.perf_counter()
                try:
                    response = http.post(url, json=payload, headers=extra)
                    status = response.status_code
                    if batch and 200 <= status < 300:
                        answered = [r for r in response.json()["results"] if r["status"] in ("created", "existing")]
                        if len(answered) != batch:
                            status = 0
                except (httpx.HTTPError, ValueError):
                    status = 0
                elapsed = time.perf_counter() - started
                if 200 <= status < 300:
                    with phase.lock:
                        phase.ok += len(keys)
                        phase.latencies.append(elapsed)
                        phase.acked.update(keys)
                        phase.retries += attempts - 1
                    break
                with phase.lock:
                    phase.errors += 1
                    if status and phase.errors <= 3:
                        print(f"  {status}: {response.text[:300]}", flush=True)
                if not retry:
                    break
                time.sleep(0.05 + rng.random() * 0.15)


def drive(base: str, token: str, phase: Phase, prefix: str, clients: int, seconds: float, retry: bool,
          during: object = None, batch: int = 0) -> float:
    stop = threading.Event()
    threads = [threading.Thread(target=client_loop, args=(base, token, phase, prefix, stop, i, retry, seconds + 5,
                                                          batch), daemon=True) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    if callable(during):
        during()
    remaining = seconds - (time.perf_counter() - started)
    if remaining > 0:
        time.sleep(remaining)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    return time.perf_counter() - started


def count_rows(database_url: str, like: str) -> tuple[int, int]:
    """(rows, distinct idempotency keys) whose key matches ``like``."""
    import psycopg

    url = database_url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT idempotency_key) FROM complaints_complaint WHERE idempotency_key LIKE %s",
            [like],
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def keys_in_db(database_url: str, like: str) -> set[str]:
    import psycopg

    url = database_url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT idempotency_key FROM complaints_complaint WHERE idempotency_key LIKE %s",
                            [like]).fetchall()
    return {r[0].split(":", 1)[1] for r in rows}


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/jg_bench_complaints")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=18741)
    parser.add_argument("--kill-after", type=float, default=20)
    parser.add_argument("--skip-kill", action="store_true")
    parser.add_argument("--batch", type=int, default=0,
                        help="records per request on the batch endpoint (0: one ticket per request)")
    args = parser.parse_args()
    if not args.database.startswith(("postgres://", "postgresql://")):
        raise SystemExit("--database must be a postgres:// URL on 127.0.0.1")
    host = urlsplit(args.database).hostname
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit("the benchmark only talks to 127.0.0.1")

    var_dir = os.environ.get("JIANGUAN_BENCH_VAR_DIR") or tempfile.mkdtemp(prefix="complaints-bench-")
    env = {**os.environ, "JIANGUAN_DATABASE_URL": args.database, "JIANGUAN_VAR_DIR": var_dir,
           "JIANGUAN_API_RATE_USER": "10000000/min", "JIANGUAN_LOG_LEVEL": "ERROR", "DJANGO_SETTINGS_MODULE":
           "config.settings", "JIANGUAN_DB_CONN_MAX_AGE": "600"}
    env.pop("JIANGUAN_BROKER_URL", None)
    mode = f"batch endpoint, {args.batch} tickets per request" if args.batch else "single-ticket endpoint"
    print(f"database {args.database}; gunicorn gthread {args.workers}×{args.threads}; {args.clients} clients; "
          f"{mode}; {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M')}", flush=True)
    recreate_database(args.database)
    run([str(VENV_BIN / "jianguan"), "migrate", "--no-input", "-v0"], env)
    token, user_id = make_client(env)
    base = f"http://127.0.0.1:{args.port}"
    prefix_like = f"u{user_id}:"

    # --- 1. sustained run ------------------------------------------------------------------------------------------
    server = start_server(env, args.port, args.workers, args.threads)
    try:
        warm = Phase("warm-up")
        drive(base, token, warm, "warm", args.clients, 5, retry=False, batch=args.batch)
        steady = Phase("sustained")
        elapsed = drive(base, token, steady, "p1", args.clients, args.seconds, retry=False, batch=args.batch)
    finally:
        kill_server(server, signal.SIGTERM)
    rows, distinct = count_rows(args.database, f"{prefix_like}p1-%")
    lat = steady.latencies
    print("\n== sustained intake ==")
    print(f"duration {elapsed:.1f} s; tickets answered 2xx {steady.ok}; failed requests {steady.errors}")
    print(f"throughput {steady.ok / elapsed:.1f} tickets/s")
    print(f"request latency p50 {percentile(lat, 50) * 1000:.1f} ms, p99 {percentile(lat, 99) * 1000:.1f} ms, "
          f"mean {statistics.fmean(lat) * 1000:.1f} ms" if lat else "no successful request")
    print(f"rows in database {rows} (distinct keys {distinct}); equal to 2xx answers: {rows == steady.ok}")
    if rows != steady.ok:
        raise SystemExit(1)
    if args.skip_kill:
        return

    # --- 2. kill -9 mid-run and restart ------------------------------------------------------------------------------
    holder: dict[str, subprocess.Popen[bytes]] = {"server": start_server(env, args.port, args.workers, args.threads)}
    killed_at: dict[str, float] = {}

    def killer() -> None:
        def act() -> None:
            time.sleep(args.kill_after)
            kill_server(holder["server"], signal.SIGKILL)
            killed_at["t"] = time.perf_counter()
            time.sleep(1.0)
            holder["server"] = start_server(env, args.port, args.workers, args.threads)
            killed_at["back"] = time.perf_counter()

        threading.Thread(target=act, daemon=True).start()

    crash = Phase("kill")
    try:
        elapsed = drive(base, token, crash, "p2", args.clients, args.seconds, retry=True, during=killer,
                        batch=args.batch)
    finally:
        kill_server(holder["server"], signal.SIGTERM)
    stored = keys_in_db(args.database, f"{prefix_like}p2-%")
    rows, distinct = count_rows(args.database, f"{prefix_like}p2-%")
    lost = crash.acked - stored
    unacked_stored = stored - crash.acked
    never_acked = crash.attempted - crash.acked
    print("\n== SIGKILL mid-run, restart, clients retry with the same idempotency keys ==")
    downtime = killed_at.get("back", 0) - killed_at.get("t", 0)
    print(f"duration {elapsed:.1f} s; server killed after {args.kill_after:.0f} s, back after {downtime:.1f} s")
    print(f"keys acknowledged {len(crash.acked)}; failed attempts retried {crash.retries}; "
          f"keys never acknowledged {len(never_acked)}")
    print(f"rows in database {rows}; distinct keys {distinct}")
    print(f"lost (acknowledged, not stored): {len(lost)}")
    print(f"duplicated (more rows than keys): {rows - distinct}")
    print(f"stored but never acknowledged (client gave up): {len(unacked_stored)}")
    ok = not lost and rows == distinct
    print("RESULT: zero loss, zero duplication" if ok else "RESULT: FAILED")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
