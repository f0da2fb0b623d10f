"""Dynamic collection: scheduled, incremental pulls from a paged HTTP API and from a SQL database, against real
servers started by the tests."""

from __future__ import annotations

import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from jianguan.core.models import Subject
from jianguan.datacenter import collect
from jianguan.datacenter.models import Batch, Source
from jianguan.datacenter.tests.conftest import make_source, uscc

RECORDS = [
    {"uscc": uscc("320106", 100 + i), "name": f"南京测试{i}号科技有限公司", "address": f"南京市鼓楼区中山路{i}号",
     "updated_at": f"2026-11-{10 + i:02d}T08:00:00"}
    for i in range(7)
]


class _Api(BaseHTTPRequestHandler):
    records: list[dict] = RECORDS
    requests: list[dict] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
        type(self).requests.append(query)
        since = query.get("updated_since", "")
        rows = [r for r in self.records if r["updated_at"] > since]
        page, size = int(query.get("page", 1)), int(query.get("page_size", 3))
        body = json.dumps({"count": len(rows), "results": rows[(page - 1) * size: page * size]},
                          ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Api.records = list(RECORDS)
    _Api.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}/entities"
    server.shutdown()
    server.server_close()


def test_a_due_http_source_is_pulled_page_by_page_and_incrementally(data_admin, api_server,
                                                                     django_capture_on_commit_callbacks) -> None:
    source = make_source(data_admin, code="city-api", channel="http_api", file_format="", schedule_minutes=60,
                         options={"url": api_server, "page_size": 3, "watermark_param": "updated_since",
                                  "watermark_field": "updated_at"})
    with django_capture_on_commit_callbacks(execute=True):
        lines = collect.run_due_pulls()
    assert len(lines) == 1 and "batch" in lines[0], lines
    assert [r["page"] for r in _Api.requests] == ["1", "2", "3"]
    batch = Batch.objects.get(source=source)
    assert batch.kind == "pull" and batch.status == "loaded" and batch.created_count == 7
    source.refresh_from_db()
    assert source.watermark == "2026-11-16T08:00:00"
    assert source.next_run_at is not None
    assert Subject.objects.filter(uscc__in=[r["uscc"] for r in RECORDS]).count() == 7

    # Not due again yet; forced, only the changed record is asked for and loaded.
    assert collect.run_due_pulls() == []
    _Api.records.append({"uscc": RECORDS[0]["uscc"], "name": "南京测试0号信息科技有限公司",
                         "address": "南京市鼓楼区中山路0号", "updated_at": "2026-11-20T09:00:00"})
    _Api.requests = []
    with django_capture_on_commit_callbacks(execute=True):
        collect.run_due_pulls(only="city-api")
    assert _Api.requests[0]["updated_since"] == "2026-11-16T08:00:00"
    second = Batch.objects.filter(source=source).latest("id")
    assert second.rows_total == 1 and second.updated_count == 1
    assert Subject.objects.get(uscc=RECORDS[0]["uscc"]).name == "南京测试0号信息科技有限公司"
    # Nothing new: no batch at all.
    assert collect.run_due_pulls(only="city-api") == ["city-api: nothing new"]


def test_a_failed_pull_keeps_the_watermark(data_admin, django_capture_on_commit_callbacks) -> None:
    source = make_source(data_admin, code="down-api", channel="http_api", file_format="", schedule_minutes=5,
                         options={"url": "http://127.0.0.1:9/entities", "timeout": 2})
    lines = collect.run_due_pulls()
    assert "failed" in lines[0]
    source.refresh_from_db()
    assert source.watermark == "" and not Batch.objects.filter(source=source).exists()


@pytest.fixture
def source_db(tmp_path):
    path = tmp_path / "tax.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE taxpayer (credit_code TEXT, taxpayer_name TEXT, addr TEXT, changed TEXT)")
        conn.executemany("INSERT INTO taxpayer VALUES (?, ?, ?, ?)", [
            (uscc("320115", 200 + i), f"南京江宁{i}号贸易有限公司", f"南京市江宁区天元路{i}号", f"2026-10-0{i + 1}")
            for i in range(5)
        ])
    return path


def test_a_sql_source_is_pulled_with_its_mapping_and_watermark(data_admin, source_db,
                                                               django_capture_on_commit_callbacks) -> None:
    source = make_source(data_admin, code="tax-db", channel="sql", file_format="", schedule_minutes=1440,
                         field_mapping={"uscc": "credit_code", "name": "taxpayer_name", "address": "addr",
                                        "updated_at": "changed"},
                         options={"dsn": f"sqlite:///{source_db}", "watermark_field": "changed",
                                  "query": "SELECT * FROM taxpayer WHERE changed > :watermark ORDER BY changed"})
    with django_capture_on_commit_callbacks(execute=True):
        batch = collect.pull_source(source)
    batch.refresh_from_db()
    assert batch.status == "loaded" and batch.created_count == 5
    assert Source.objects.get(pk=source.pk).watermark == "2026-10-05"
    assert Subject.objects.get(uscc=uscc("320115", 200)).region_id == "320115"
    with sqlite3.connect(source_db) as conn:
        conn.execute("INSERT INTO taxpayer VALUES (?, ?, ?, ?)",
                     (uscc("320115", 300), "南京江宁新公司", "南京市江宁区天元路9号", "2026-10-09"))
    with django_capture_on_commit_callbacks(execute=True):
        again = collect.pull_source(Source.objects.get(pk=source.pk))
    again.refresh_from_db()
    assert again.rows_total == 1 and again.watermark_from == "2026-10-05" and again.created_count == 1


def test_a_sql_source_only_runs_select_statements(data_admin, source_db) -> None:
    source = make_source(data_admin, code="evil-db", channel="sql", file_format="",
                         options={"dsn": f"sqlite:///{source_db}", "query": "DELETE FROM taxpayer"})
    with pytest.raises(collect.PullError):
        collect.pull_source(source)
    with sqlite3.connect(source_db) as conn:
        assert conn.execute("SELECT count(*) FROM taxpayer").fetchone()[0] == 5
