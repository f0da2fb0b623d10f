#!/usr/bin/env python
"""Complaint intake benchmark: sustained load through the REST API, then the same with the server killed mid-run.

The system runs as deployed: gunicorn (``config.wsgi``; ``--worker-class gevent`` as the intake tier of
``docs/operations/deployment.md``, or the threaded ``gthread`` of the other web processes; ``--reuse-port`` so the
kernel spreads the keep-alive clients over the processes) on PostgreSQL on 127.0.0.1, with Redis as the broker and
one Celery worker (at a lower CPU priority, ``--worker-priority``) doing the background work of every ticket —
chaining the audit entries, delivering the outbox events to the data centre's 投诉举报 library, preparing the
classifier's suggestion and the duplicate proposals — all on the same cores. The load comes from ``--clients``
threads, each with one keep-alive connection and a minimal HTTP/1.1 client (a few dozen microseconds of CPU per
request, so the load generator takes little from the server).

1. **Sustained run.** The clients post single tickets to ``POST /api/v1/complaints/intake/`` (each with its own
   idempotency key) for ``--seconds`` — as fast as they are answered (closed loop: the server is saturated and the
   latency is the queue that ``--clients`` keeps), or with ``--rate R`` at a fixed arrival rate of R requests/s
   in all (open loop: each client sends on its own schedule, and a request's latency counts from the time it was
   due, so a slow answer that delays the next request is charged to it). The open loop answers "does the system
   sustain R tickets/s, and at what latency"; the closed loop measures the most it can take. Prints tickets/s,
   p50/p99 latency, the number of tickets found in the database afterwards, which must equal the number of 2xx
   answers, and how long the worker took after the run to finish the background work of every ticket.
2. **Kill run.** The same load, but the server's whole process group gets SIGKILL after ``--kill-after`` seconds
   and is restarted; clients retry every unanswered request with the same idempotency key (bounded attempts and
   time). Prints acknowledged keys, rows found, lost (acknowledged but missing) and duplicated tickets: both must be 0.

Traffic goes only to 127.0.0.1; every loop is bounded in count and time. Usage::

    .venv/bin/python bench/complaints_intake.py --database postgres://postgres@127.0.0.1:5432/jg_bench_complaints

The figures in ``docs/benchmarks.md`` come from ``--workers 2 --threads 32 --worker-class gevent --clients 32``
(``--rate 300`` for the open loop); ``--threads`` is the connections per process for gevent.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import random
import signal
import socket
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
ISSUES = (
    "突然关门，会员卡余额无法退还，要求退款。", "后厨卫生很差，吃完后腹泻，要求查处。", "噪音扰民到凌晨两点，请处理。",
    "卖的电饭煲收到就坏了，商家拒绝退货。", "拖欠三个月工资不发，多次讨要无果。", "虚假宣传，实际商品与广告严重不符。",
    "占道经营，油烟直排，影响周边居民。", "价格欺诈，结账时多收费用且不给发票。", "无证经营，存在安全隐患。",
)
KINDS = ("健身房", "饭店", "烧烤店", "电器店", "物流公司", "美容院", "小吃店", "超市", "培训机构")
CITIES = (("南京市", "鼓楼区", "中山路"), ("苏州市", "姑苏区", "人民路"), ("无锡市", "梁溪区", "解放路"),
          ("徐州市", "云龙区", "和平路"), ("常州市", "天宁区", "延陵路"), ("南通市", "崇川区", "工农路"))
WORDS = "鑫盛华润恒达永安金鼎瑞丰嘉禾宏图天成锦程博远新华利民泰康和顺福源"


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    finished: list[float] = field(default_factory=list)  # perf_counter at each answer, for --latency-log
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


#: gunicorn's worker class for the run (``--worker-class``)
WORKER_CLASS = {"name": "gthread"}


def start_server(env: dict[str, str], port: int, workers: int, threads: int) -> subprocess.Popen[bytes]:
    if port_taken(port):
        raise SystemExit(f"port {port} is already in use by another process; choose --port")
    concurrency = (["--threads", str(threads)] if WORKER_CLASS["name"] == "gthread"
                   else ["--worker-connections", str(threads)])
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers",
         str(workers), *concurrency, "--worker-class", WORKER_CLASS["name"], "--log-level", "warning",
         "--keep-alive", "30", "--backlog", "512", "--reuse-port"],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    atexit.register(kill_server, process)
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


def stop_worker(worker: subprocess.Popen[bytes] | None) -> None:
    if worker is not None:
        kill_server(worker, signal.SIGTERM)


def kill_server(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    process.wait(timeout=30)


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_by_part(server: subprocess.Popen[bytes], worker: subprocess.Popen[bytes] | None,
                database: str) -> dict[str, float]:
    """CPU seconds used so far by the web server's processes, the worker's, the database's (this database's
    backends and the WAL writer) and this load generator."""
    name = urlsplit(database).path.lstrip("/")
    groups: dict[str, float] = {"web": 0.0, "worker": 0.0, "postgres": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            pgid = os.getpgid(pid)
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ProcessLookupError):
            continue
        if pgid == server.pid:
            groups["web"] += _proc_cpu(pid)
        elif worker is not None and pgid == worker.pid:
            groups["worker"] += _proc_cpu(pid)
        elif args.startswith("postgres:") and (f" {name} " in args or "walwriter" in args or "wal writer" in args):
            groups["postgres"] += _proc_cpu(pid)
    groups["load generator"] = time.process_time()
    return groups


def flush_broker(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def start_worker(env: dict[str, str], priority: str) -> subprocess.Popen[bytes]:
    """One Celery worker (solo pool) at a lower priority than the web server — ``nice`` 10, or Linux's idle
    scheduling class (``chrt --idle``), where it runs only on CPU time nothing else wants: web requests come first,
    background work takes what is left. Stopped when this script exits, however it exits."""
    lower = ["chrt", "--idle", "0"] if priority == "idle" else ["nice", "-n", "10"]
    worker = subprocess.Popen(
        [*lower, str(VENV_BIN / "celery"), "-A", "config", "worker", "--pool", "solo",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    atexit.register(stop_worker, worker)
    return worker


def backlog(database_url: str) -> tuple[int, int, int]:
    """(unsealed audit entries, undelivered outbox events, tickets not yet assisted)."""
    import psycopg

    url = database_url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM core_auditentry WHERE seq IS NULL),"
            " (SELECT count(*) FROM core_outboxevent WHERE delivered_at IS NULL),"
            " (SELECT count(*) FROM complaints_complaint WHERE assisted_at IS NULL)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def analyze(database_url: str) -> None:
    """Gather the planner's statistics after the warm-up, as autovacuum keeps them in a database in service. A
    database created a minute ago has none (autovacuum's first look comes later): PostgreSQL then plans every
    query with default estimates, which is the state of no system in use, and would be measured instead of it."""
    import psycopg

    with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute("ANALYZE")


def drain(database_url: str, worker: subprocess.Popen[bytes] | None, *, quiet: bool = False,
          limit: float = 900) -> float:
    """Wait until the worker has done the background work of every ticket; returns the seconds it took."""
    if worker is None:
        return 0.0
    started = time.perf_counter()
    first = backlog(database_url)
    while time.perf_counter() - started < limit:
        if backlog(database_url) == (0, 0, 0):
            elapsed = time.perf_counter() - started
            if not quiet:
                print(f"background backlog at the end of the run: {first[0]} audit entries to chain, {first[1]} "
                      f"events to deliver, {first[2]} tickets to assist; done {elapsed:.1f} s later")
            return elapsed
        if worker.poll() is not None:
            raise SystemExit("the Celery worker exited")
        time.sleep(0.5)
    raise SystemExit(f"the worker did not finish the background work within {limit:.0f} s: {backlog(database_url)}")


def body(rng: random.Random) -> dict[str, str]:
    """A plausible 12345 ticket: a named business of some kind at an address in one of six cities, one of nine
    problems (so duplicates are as rare as in real traffic)."""
    city, county, road = rng.choice(CITIES)
    kind = rng.choice(KINDS)
    name = f"{city[:2]}{rng.choice(WORDS)}{rng.choice(WORDS)}{kind}有限公司"
    address = f"{city}{county}{road}{rng.randrange(1, 400)}号"
    return {
        "kind": "complaint",
        "title": f"反映{kind}问题",
        "content": f"{address}的{name}{rng.choice(ISSUES)}",
        "place_address": address,
        "subject_name": name,
        "reporter_name": "张" + rng.choice(WORDS),
        "reporter_phone": f"139{rng.randrange(10**8):08d}",
    }


class RawHTTP:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1 with the least client-side work: the request bytes are built
    by hand and only the status line, ``Content-Length`` (or chunked framing) and body are read back."""

    def __init__(self, port: int, timeout: float = 10) -> None:
        self.port, self.timeout = port, timeout
        self.sock: socket.socket | None = None
        self.buffer = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""

    def _read_until(self, marker: bytes) -> bytes:
        assert self.sock is not None
        while marker not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by the server")
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    def _read_exactly(self, size: int) -> bytes:
        assert self.sock is not None
        while len(self.buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by the server")
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def post(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
                 f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
        try:
            self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            head = self._read_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
            status = int(head[0].split(" ", 2)[1])
            fields = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:])}
            if "content-length" in fields:
                data = self._read_exactly(int(fields["content-length"]))
            elif fields.get("transfer-encoding", "").lower() == "chunked":
                parts = []
                while size := int(self._read_until(b"\r\n"), 16):
                    parts.append(self._read_exactly(size))
                    self._read_exactly(2)
                self._read_exactly(2)
                data = b"".join(parts)
            else:
                raise ConnectionError("response without a length")
            if fields.get("connection", "").lower() == "close":
                self.close()
            return status, data
        except (OSError, ValueError, IndexError):
            self.close()
            raise


def client_loop(port: int, token: str, phase: Phase, prefix: str, stop: threading.Event, index: int,
                retry: bool, max_seconds: float, batch: int = 0, interval: float = 0.0, offset: float = 0.0) -> None:
    """One client. Closed loop (``interval`` 0): the next request as soon as the last is answered. Open loop: the
    n-th request is due at ``offset + n * interval`` seconds after the start, whether or not earlier ones were slow,
    and its latency counts from that due time (a request sent late because the previous one was still waiting is
    charged the wait: no coordinated omission)."""
    rng = random.Random(index)
    auth = {"Authorization": f"Bearer {token}"}
    n = 0
    hard_stop = time.monotonic() + max_seconds
    http = RawHTTP(port)
    origin = time.perf_counter()
    while not stop.is_set() and time.monotonic() < hard_stop:
        due = None
        if interval:
            due = origin + offset + n * interval
            wait = due - time.perf_counter()
            if wait > 0 and stop.wait(wait):
                break
        n += 1
        if batch:
            keys = [f"{prefix}-{index}-{n}-{i}" for i in range(batch)]
            payload: object = {"records": [{**body(rng), "idempotency_key": k} for k in keys]}
            url, headers = "/api/v1/complaints/intake/batch/", auth
        else:
            keys = [f"{prefix}-{index}-{n}"]
            payload, url, headers = body(rng), "/api/v1/complaints/intake/", {**auth, "Idempotency-Key": keys[0]}
        data = json.dumps(payload, ensure_ascii=False).encode()
        with phase.lock:
            phase.attempted.update(keys)
        attempts = 0
        while attempts < 200 and time.monotonic() < hard_stop + 60:
            attempts += 1
            started = time.perf_counter()
            text = b""
            try:
                status, text = http.post(url, headers, data)
                if batch and 200 <= status < 300:
                    answered = [r for r in json.loads(text)["results"] if r["status"] in ("created", "existing")]
                    if len(answered) != batch:
                        status = 0
            except (OSError, ValueError):
                status = 0
            answered = time.perf_counter()
            elapsed = answered - (due if due is not None and attempts == 1 else started)
            if 200 <= status < 300:
                with phase.lock:
                    phase.ok += len(keys)
                    phase.latencies.append(elapsed)
                    phase.finished.append(answered)
                    phase.acked.update(keys)
                    phase.retries += attempts - 1
                break
            with phase.lock:
                phase.errors += 1
                if status and phase.errors <= 3:
                    print(f"  {status}: {text[:300]!r}", flush=True)
            if not retry:
                break
            time.sleep(0.05 + rng.random() * 0.15)
    http.close()


def drive(port: int, token: str, phase: Phase, prefix: str, clients: int, seconds: float, retry: bool,
          during: object = None, batch: int = 0, rate: float = 0.0) -> float:
    """``clients`` threads for ``seconds``; with ``rate`` (requests/s in all) each sends on a fixed schedule of
    ``rate / clients`` requests/s, the clients' schedules staggered evenly (open loop)."""
    stop = threading.Event()
    interval = clients / rate if rate else 0.0
    threads = [threading.Thread(target=client_loop, args=(port, token, phase, prefix, stop, i, retry, seconds + 5,
                                                          batch, interval, interval * i / clients), daemon=True)
               for i in range(clients)]
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


def machine_speed() -> float:
    """Milliseconds of CPU for a fixed pure-Python loop (best of three): the reference machine's speed drifts by
    a third between runs (shared host), so figures from different runs compare only together with this one."""
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        total = 0
        for i in range(2_000_000):
            total += i
        best = min(best, time.process_time() - start)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/jg_bench_complaints")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4,
                        help="threads per process (gthread), or connections per process (gevent)")
    parser.add_argument("--worker-class", choices=["gthread", "gevent"], default="gthread",
                        help="gunicorn's worker class: OS threads, or greenlets (gevent)")
    parser.add_argument("--port", type=int, default=18741)
    parser.add_argument("--kill-after", type=float, default=20)
    parser.add_argument("--skip-kill", action="store_true")
    parser.add_argument("--batch", type=int, default=0,
                        help="records per request on the batch endpoint (0: one ticket per request)")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/9",
                        help="the Celery broker of the deployment under test (its database is emptied first)")
    parser.add_argument("--worker-priority", choices=["idle", "nice"], default="idle",
                        help="the Celery worker in Linux's idle scheduling class (default, as docs/operations/"
                             "deployment.md advises for a worker beside the web server) or at nice 10")
    parser.add_argument("--rate", type=float, default=0,
                        help="open loop: offer this many requests/s in all, spread over --clients on a fixed "
                             "schedule, latency counted from each request's due time (0: closed loop, every "
                             "client sends again as soon as it is answered)")
    parser.add_argument("--latency-log", default="",
                        help="write 'seconds-into-run latency-ms' per answer of the sustained run to this file")
    parser.add_argument("--no-worker", action="store_true",
                        help="embedded mode instead: no broker, the background work runs inside each request")
    args = parser.parse_args()
    WORKER_CLASS["name"] = args.worker_class
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
    if not args.no_worker:
        if urlsplit(args.broker).hostname not in ("127.0.0.1", "localhost"):
            raise SystemExit("the benchmark only talks to 127.0.0.1")
        env["JIANGUAN_BROKER_URL"] = args.broker
        env["JIANGUAN_CACHE_URL"] = args.broker  # one debounce window per deployment, not per process
    mode = f"batch endpoint, {args.batch} tickets per request" if args.batch else "single-ticket endpoint"
    mode += f"; open loop, {args.rate:g} requests/s offered" if args.rate else "; closed loop"
    background = ("embedded (no broker)" if args.no_worker
                  else f"broker {args.broker} + 1 Celery worker ({args.worker_priority} priority)")
    print(f"database {args.database}; gunicorn {args.worker_class} {args.workers}×{args.threads}; {background}; "
          f"{args.clients} clients; {mode}; {os.cpu_count()} cores; load {os.getloadavg()[0]:.2f}; "
          f"speed loop {machine_speed():.0f} ms; {time.strftime('%Y-%m-%d %H:%M')}", flush=True)
    recreate_database(args.database)
    if not args.no_worker:
        flush_broker(args.broker)
    run([str(VENV_BIN / "jianguan"), "migrate", "--no-input", "-v0"], env)
    token, user_id = make_client(env)
    port = args.port
    prefix_like = f"u{user_id}:"
    worker = None if args.no_worker else start_worker(env, args.worker_priority)

    # --- 1. sustained run ------------------------------------------------------------------------------------------
    server = start_server(env, args.port, args.workers, args.threads)
    try:
        warm = Phase("warm-up")
        drive(port, token, warm, "warm", args.clients, 5, retry=False, batch=args.batch, rate=args.rate)
        drain(args.database, worker, quiet=True)
        analyze(args.database)
        steady = Phase("sustained")
        before = cpu_by_part(server, worker, args.database)
        elapsed = drive(port, token, steady, "p1", args.clients, args.seconds, retry=False, batch=args.batch,
                        rate=args.rate)
        during = cpu_by_part(server, worker, args.database)
    finally:
        kill_server(server, signal.SIGTERM)
    rows, distinct = count_rows(args.database, f"{prefix_like}p1-%")
    lat = steady.latencies
    if args.latency_log:
        origin = min(steady.finished, default=0.0)
        Path(args.latency_log).write_text("".join(f"{t - origin:.4f} {v * 1000:.2f}\n"
                                                  for t, v in zip(steady.finished, lat, strict=True)))
    print("\n== sustained intake ==")
    print(f"duration {elapsed:.1f} s; tickets answered 2xx {steady.ok}; failed requests {steady.errors}")
    print(f"throughput {steady.ok / elapsed:.1f} tickets/s")
    print(f"request latency p50 {percentile(lat, 50) * 1000:.1f} ms, p99 {percentile(lat, 99) * 1000:.1f} ms, "
          f"mean {statistics.fmean(lat) * 1000:.1f} ms" if lat else "no successful request")
    print(f"rows in database {rows} (distinct keys {distinct}); equal to 2xx answers: {rows == steady.ok}")
    if steady.ok:
        print("CPU per ticket during the run: " + ", ".join(
            f"{part} {(during[part] - before[part]) / steady.ok * 1000:.2f} ms" for part in during))
    drain(args.database, worker)
    if rows != steady.ok:
        stop_worker(worker)
        raise SystemExit(1)
    if args.skip_kill:
        stop_worker(worker)
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
        elapsed = drive(port, token, crash, "p2", args.clients, args.seconds, retry=True, during=killer,
                        batch=args.batch, rate=args.rate)
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
    try:
        drain(args.database, worker)
    finally:
        stop_worker(worker)
    ok = not lost and rows == distinct
    print("RESULT: zero loss, zero duplication" if ok else "RESULT: FAILED")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
