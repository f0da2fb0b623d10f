"""``POST /api/v1/complaints/intake/`` and ``…/intake/batch/``: idempotent, per-record results, stored before 2xx."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jianguan.complaints.models import Complaint, Reporter
from jianguan.core.testing.personas import make_token
from jianguan.core.testing.scope_matrix import assert_error

pytestmark = pytest.mark.django_db
INTAKE = reverse("api:complaints-complaint-intake")
BATCH = reverse("api:complaints-complaint-intake-batch")

RECORD = {
    "kind": "complaint", "title": "预付卡跑路", "content": "健身房突然关门，会员卡余额 3000 元无法退还。",
    "place_address": "南京市江宁区双龙大道100号", "subject_name": "南京某某健身有限公司",
    "reporter_name": "李四", "reporter_phone": "13800001111",
}


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_it_stores_a_ticket_and_answers_its_number(client, api_machine) -> None:
    token = make_token(api_machine, ["add", "view"])
    response = client.post(INTAKE, RECORD, content_type="application/json", **bearer(token))
    assert response.status_code == 201, response.content
    body = response.json()
    ticket = Complaint.objects.get(ticket_no=body["tickets"][0]["ticket_no"])
    assert ticket.region_id == "320115" and ticket.channel == "api" and ticket.status == "received"
    assert len(body["tracking_code"]) == 8
    assert Reporter.objects.get(complaint=ticket).phone == "13800001111"


def test_a_retry_with_the_same_key_answers_the_same_ticket(client, api_machine) -> None:
    token = make_token(api_machine, ["add"])
    headers = {**bearer(token), "HTTP_IDEMPOTENCY_KEY": "platform-000123"}
    first = client.post(INTAKE, RECORD, content_type="application/json", **headers)
    second = client.post(INTAKE, RECORD, content_type="application/json", **headers)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["tickets"] == second.json()["tickets"]
    assert first.json()["tracking_code"] == second.json()["tracking_code"]
    assert Complaint.objects.count() == 1


def test_keys_are_per_client(client, api_machine, nanjing_dispatcher) -> None:
    body = {**RECORD, "idempotency_key": "k1"}
    client.post(INTAKE, body, content_type="application/json", **bearer(make_token(api_machine, ["add"])))
    client.force_login(nanjing_dispatcher)
    client.post(INTAKE, body, content_type="application/json")
    assert Complaint.objects.count() == 2


def test_a_filing_that_is_both_is_split_in_two(client, api_machine) -> None:
    token = make_token(api_machine, ["add"])
    response = client.post(INTAKE, {**RECORD, "kind": "complaint_report"}, content_type="application/json",
                           **bearer(token))
    tickets = response.json()["tickets"]
    assert [t["kind"] for t in tickets] == ["complaint", "report"]
    first, second = (Complaint.objects.get(pk=t["id"]) for t in tickets)
    assert first.filing_no == second.filing_no == first.ticket_no and second.split_from == first
    assert Reporter.objects.get(complaint=second).name == "李四"


def test_it_refuses_bad_input_with_field_errors(client, api_machine) -> None:
    token = make_token(api_machine, ["add"])
    response = client.post(INTAKE, {**RECORD, "reporter_phone": "", "subject_uscc": "91350100M000100Y4Z"},
                           content_type="application/json", **bearer(token))
    body = assert_error(response, 400, "complaint.invalid")
    assert set(body["fields"]) == {"reporter_phone", "subject_uscc"}
    assert Complaint.objects.count() == 0


def test_a_token_without_the_add_scope_is_refused(client, api_machine) -> None:
    assert_error(client.post(INTAKE, RECORD, content_type="application/json",
                             **bearer(make_token(api_machine, ["view"]))), 403, "token.scope")
    assert_error(client.post(INTAKE, RECORD, content_type="application/json"), 401, "auth.required")


def test_the_batch_answers_per_record_and_is_idempotent(client, api_machine) -> None:
    token = make_token(api_machine, ["add"])
    records = [
        {**RECORD, "idempotency_key": "b-1"},
        {**RECORD, "idempotency_key": "b-2", "kind": "report", "reporter_name": "", "reporter_phone": "",
         "anonymous": True},
        {**RECORD, "idempotency_key": "b-3", "content": "短"},
        {"kind": "nonsense"},
    ]
    response = client.post(BATCH, {"records": records}, content_type="application/json", **bearer(token))
    body = response.json()
    assert response.status_code == 200
    assert (body["created"], body["existing"], body["errors"]) == (2, 0, 2)
    assert [r["status"] for r in body["results"]] == ["created", "created", "error", "error"]
    assert body["results"][2]["error"]["fields"] == {"content": ["请详细描述诉求内容（至少 5 个字）。"]}
    again = client.post(BATCH, {"records": records[:2]}, content_type="application/json", **bearer(token)).json()
    assert (again["created"], again["existing"]) == (0, 2)
    assert Complaint.objects.count() == 2
    assert not Reporter.objects.filter(complaint__ticket_no=body["results"][1]["result"]["tickets"][0]["ticket_no"])


def test_a_batch_mixing_a_seen_key_with_new_ones_stores_only_the_new(client, api_machine) -> None:
    """New keys are written without a look-up first; a key seen before fails that write, which is rolled back whole,
    and the batch is answered again after looking its keys up: the old ticket once, each new one once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    token = make_token(api_machine, ["add"])
    with CaptureQueriesContext(connection) as queries:
        first = client.post(BATCH, {"records": [{**RECORD, "idempotency_key": "m-1"}]},
                            content_type="application/json", **bearer(token)).json()
    assert first["created"] == 1
    assert not [q for q in queries if q["sql"].startswith('SELECT "idempotency_key"')]  # no look-up when all new
    records = [{**RECORD, "idempotency_key": "m-1"}, {**RECORD, "idempotency_key": "m-2"},
               {**RECORD, "idempotency_key": "m-2"}]
    body = client.post(BATCH, {"records": records}, content_type="application/json", **bearer(token)).json()
    assert [r["status"] for r in body["results"]] == ["existing", "created", "existing"]
    assert body["results"][0]["result"]["tickets"] == first["results"][0]["result"]["tickets"]
    assert body["results"][1]["result"]["tickets"] == body["results"][2]["result"]["tickets"]
    assert Complaint.objects.count() == 2 and Reporter.objects.count() == 2


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_single_tickets_are_written_together_each_with_its_own_answer_and_audit(live_server) -> None:
    import threading

    import httpx

    from jianguan.core import audit
    from jianguan.core.models import AuditEntry
    from jianguan.core.testing.personas import make_user

    machine = make_user("platform_concurrent", "320000", "011", ["api_client"], is_machine=True)
    token = make_token(machine, ["add"])
    answers: dict[int, tuple[int, dict]] = {}

    def client(n: int) -> None:
        with httpx.Client(base_url=live_server.url, timeout=30) as http:
            for round_ in range(3):
                key = f"burst-{n}-{round_}"
                response = http.post(INTAKE, json={**RECORD, "content": f"第{n}号诉求：{RECORD['content']}"},
                                     headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})
                answers[n * 10 + round_] = (response.status_code, response.json())

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == 24 and {code for code, _body in answers.values()} == {201}
    numbers = [body["tickets"][0]["ticket_no"] for _code, body in answers.values()]
    assert len(set(numbers)) == 24 and Complaint.objects.filter(ticket_no__in=numbers).count() == 24
    received = AuditEntry.objects.filter(event="complaints.complaint.received", object_repr__in=numbers)
    assert received.count() == 24  # one entry per ticket, never one for the group
    assert received.values("request_id").distinct().count() == 24
    assert all(e.actor_id == machine.pk and "[token:" in e.actor_name for e in received)
    assert audit.verify_chain().ok
