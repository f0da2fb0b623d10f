"""The intake tier (``docs/operations/deployment.md``): the REST intake served by gunicorn's gevent worker, over real
HTTP from concurrent keep-alive clients. Greenlets instead of OS threads: the group commit, the per-request audit
context and the database connections must each still belong to one request."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from jianguan.complaints.models import Complaint, Reporter
from jianguan.core.models import AuditEntry
from jianguan.core.testing.personas import make_token
from jianguan.core.testing.processes import database_url_for_processes

RECORD = {
    "kind": "complaint", "title": "预付卡跑路", "content": "健身房突然关门，会员卡余额无法退还。",
    "place_address": "南京市江宁区双龙大道100号", "subject_name": "南京某某健身有限公司",
    "reporter_name": "李四", "reporter_phone": "13800001111",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _gevent_server(tmp_path: Path) -> Iterator[str]:
    """gunicorn with the gevent worker class on this test's database; yields its base URL."""
    port = _free_port()
    env = {**os.environ, "JIANGUAN_DATABASE_URL": database_url_for_processes(),
           "DJANGO_SETTINGS_MODULE": "config.settings_test", "JIANGUAN_VAR_DIR": str(tmp_path),
           "JIANGUAN_API_RATE_USER": "100000/min"}
    env.pop("JIANGUAN_BROKER_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--worker-class", "gevent",
         "--worker-connections", "16", "--workers", "1", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"gunicorn (gevent) exited: {server.communicate()[0]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/open311/discovery.json", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            pytest.fail("gunicorn (gevent) did not start within 60 s")
        yield base
    finally:
        server.terminate()
        try:
            server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_clients_of_the_gevent_intake_tier_get_every_ticket_stored_once(api_machine, tmp_path) -> None:
    token = make_token(api_machine, ["add", "view"])
    answers: dict[str, list[tuple[int, str]]] = {}
    lock = threading.Lock()

    def client(index: int) -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:  # one keep-alive each
            for n in range(6):
                key = f"tier-{index}-{n % 5}"  # each client's last request retries its first key
                reply = http.post(f"{base}/api/v1/complaints/intake/", json={
                    **RECORD, "content": f"{RECORD['content']}（第{index}号客户第{n}次）"}, headers={
                    "Idempotency-Key": key})
                with lock:
                    answers.setdefault(key, []).append(
                        (reply.status_code, reply.json()["tickets"][0]["ticket_no"] if reply.is_success else ""))

    with _gevent_server(tmp_path) as base:
        clients = [threading.Thread(target=client, args=(i,)) for i in range(8)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join(timeout=120)

    assert len(answers) == 40 and sum(len(a) for a in answers.values()) == 48
    for key, replies in answers.items():
        assert replies[0][0] == 201, (key, replies)
        assert all(code == 200 and number == replies[0][1] for code, number in replies[1:]), (key, replies)
    stored = {c.ticket_no: c for c in Complaint.objects.filter(channel="api")}
    assert len(stored) == 40 and set(stored) == {replies[0][1] for replies in answers.values()}
    # each ticket with its own reporter, its own "received" audit entry, and the text its own request sent
    assert Reporter.objects.filter(complaint__in=stored.values()).count() == 40
    received = AuditEntry.objects.filter(event="complaints.complaint.received")
    assert sorted(received.values_list("object_id", flat=True)) == sorted(str(c.pk) for c in stored.values())
    assert len({c.content for c in stored.values()}) == 40
