"""Service interface: a department system pushes batches over HTTP with an idempotency key and gets an answer per
record; run against a live server."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from jianguan.core.models import Subject
from jianguan.core.testing.personas import MARKET, make_token, make_user
from jianguan.datacenter.models import Batch
from jianguan.datacenter.tests.conftest import make_source, uscc


def _post(url: str, token: str | None, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body, ensure_ascii=False).encode(), method="POST",  # noqa: S310
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - the test's own server
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def pusher(transactional_db):
    """A department system's machine account with a token that may add data."""
    user = make_user("samr_system", "320100", MARKET, ["api_client"], is_machine=True)
    return user, make_token(user, scopes=("view", "add"))


@pytest.fixture
def push_source(pusher):
    admin = make_user("nj_data_admin", "320100", MARKET, ["data_admin"])
    return make_source(admin, code="nj-samr-push", region="320100", channel="push", file_format="")


RECORDS = [
    {"uscc": uscc("320106", 501), "name": "南京推送一号科技有限公司", "address": "南京市鼓楼区中山路1号"},
    {"uscc": "BAD", "name": "坏代码公司", "address": "南京市鼓楼区中山路2号"},
    {"uscc": uscc("320106", 503), "name": "南京推送三号科技有限公司", "address": "南京市鼓楼区中山路3号",
     "established_on": "2031-01-01"},
]


def test_a_pushed_batch_is_answered_per_record_and_replayed_by_key(live_server, pusher, push_source) -> None:
    _user, token = pusher
    url = f"{live_server.url}/api/v1/datacenter/sources/{push_source.pk}/push/"
    status, body = _post(url, token, {"idempotency_key": "nj-2026-11-28-001", "records": RECORDS})
    assert status == 201, body
    assert body["status"] == "loaded" and body["accepted"] == 1 and body["rejected"] == 2
    first, bad, future = body["results"]
    assert first["status"] == "accepted" and first["action"] == "created"
    assert Subject.objects.get(pk=first["subject_id"]).uscc == RECORDS[0]["uscc"]
    assert bad["status"] == "rejected" and bad["errors"][0]["field"] == "uscc"
    assert [e["code"] for e in future["errors"]] == ["established_on.future"]

    again_status, again = _post(url, token, {"idempotency_key": "nj-2026-11-28-001", "records": RECORDS})
    assert again_status == 200 and again["replayed"] is True and again["results"] == body["results"]
    assert Batch.objects.filter(source=push_source).count() == 1

    reused_status, reused = _post(url, token, {"idempotency_key": "nj-2026-11-28-001", "records": RECORDS[:1]})
    assert reused_status == 409 and reused["code"] == "push.key_reused"

    next_status, nxt = _post(url, token, {"idempotency_key": "nj-2026-11-28-002", "records": RECORDS[:1]})
    assert next_status == 201 and nxt["results"][0]["action"] == "unchanged"
    assert nxt["results"][0]["subject_id"] == first["subject_id"]


def test_pushing_needs_a_token_with_the_add_scope_and_the_source_in_scope(live_server, pusher, push_source) -> None:
    user, _token = pusher
    url = f"{live_server.url}/api/v1/datacenter/sources/{push_source.pk}/push/"
    body = {"idempotency_key": "k1", "records": RECORDS[:1]}
    assert _post(url, None, body)[0] == 401
    assert _post(url, make_token(user, scopes=("view",)), body)[0] == 403
    outsider = make_user("sz_system", "320500", MARKET, ["api_client"], is_machine=True)
    assert _post(url, make_token(outsider, scopes=("view", "add")), body)[0] == 404
    assert not Batch.objects.exists()
