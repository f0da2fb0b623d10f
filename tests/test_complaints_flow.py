"""The issue's "done when", end to end over the REST API: a ticket goes from intake through dispatch, handling,
督办, reply, rating and reopening, each step by the user whose job it is; a county handler never sees another
county's tickets."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from jianguan.core.models import AuditEntry
from jianguan.core.testing.personas import make_org, make_token, make_user

pytestmark = pytest.mark.django_db


def act(client: APIClient, user, name: str, pk: int, data: dict | None = None, status: int = 200) -> dict:
    client.force_authenticate(user)
    response = client.post(reverse(f"api:complaints-complaint-{name}", args=[pk]), data or {}, format="json")
    assert response.status_code == status, (name, response.status_code, response.content[:400])
    return response.json() if response.content else {}


def test_a_ticket_goes_through_the_whole_12345_cycle_by_the_right_users() -> None:
    client = APIClient()
    platform = make_user("platform", "320000", "011", ["api_client"], is_machine=True)
    dispatcher = make_user("nj_disp", "320100", "011", ["hotline_dispatcher"])
    supervisor = make_user("nj_sup", "320100", "011", ["complaint_supervisor"])
    gulou = make_user("gl_h", "320106", "001", ["complaint_handler"])
    jiangning = make_user("jn_h", "320115", "001", ["complaint_handler"])
    make_org("320106", "001")

    token = make_token(platform, ["add"])
    response = client.post(reverse("api:complaints-complaint-intake"), {
        "kind": "complaint", "content": "南京市鼓楼区某饭店饭菜变质，吃后腹泻，店家拒绝退款。",
        "place_address": "南京市鼓楼区湖南路8号", "reporter_name": "钱七", "reporter_phone": "13500004444",
    }, format="json", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_IDEMPOTENCY_KEY="e2e-1")
    assert response.status_code == 201
    pk = response.json()["tickets"][0]["id"]

    # The county handlers see nothing until it is dispatched, and then only the right county does.
    client.force_authenticate(gulou)
    assert client.get(reverse("api:complaints-complaint-detail", args=[pk])).status_code == 404
    act(client, gulou, "accept", pk, {"category_code": "0101"}, status=404)  # not even visible to them yet

    assert act(client, dispatcher, "accept", pk, {"category_code": "0101"})["status"] == "registered"
    assert act(client, dispatcher, "dispatch", pk)["handling_org"]["code"] == "320106001"
    client.force_authenticate(jiangning)
    assert client.get(reverse("api:complaints-complaint-detail", args=[pk])).status_code == 404
    act(client, jiangning, "sign", pk, status=404)

    act(client, gulou, "sign", pk)
    act(client, gulou, "decide", pk, {"accepted": True, "note": "符合受理条件"})
    act(client, dispatcher, "reply", pk, {"reply": "x"}, status=403)  # not the department
    act(client, supervisor, "supervise", pk, {"instructions": "请于两个工作日内反馈", "reply_days": 2}, status=201)
    detail = act(client, gulou, "progress", pk, {"note": "已现场检查"})
    supervision = detail["supervisions"][0]["id"]
    act(client, gulou, "answer-supervision", pk, {"supervision_id": supervision, "answer": "正在调解"})
    act(client, gulou, "reply", pk, {"reply": "已调解，商家同意退款。", "result": "调解成功"})
    act(client, dispatcher, "close", pk)
    reopened = act(client, dispatcher, "visit", pk, {"rating": "dissatisfied", "note": "退款未到账"})
    assert reopened["status"] == "handling" and reopened["reopen_count"] == 1
    act(client, gulou, "reply", pk, {"reply": "退款已到账。"})
    act(client, dispatcher, "close", pk)
    final = act(client, dispatcher, "visit", pk, {"rating": "satisfied"})
    assert final["status"] == "evaluated"

    steps = [e["step"] for e in final["events"]]
    assert steps[:4] == ["received", "registered", "dispatched", "accepted"]
    assert {"supervised", "supervision_answered", "replied", "closed", "visited", "reopened", "rated"} <= set(steps)
    assert all(e["actor_name"] and e["at"] for e in final["events"])
    assert final["reporter"]["phone"] == "135****4444"
    assert AuditEntry.objects.filter(event__startswith="complaints.complaint.").count() >= 12
