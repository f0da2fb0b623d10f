"""Staff pages: list (scoped, with a query budget), ticket page with its step forms, unmasking, export, stats."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jianguan.complaints.choices import ComplaintStatus
from jianguan.complaints.models import Complaint
from jianguan.complaints.tests.factories import make_ticket
from jianguan.core.models import AuditEntry
from jianguan.core.testing.personas import login_verified

pytestmark = pytest.mark.django_db
LIST = reverse("complaints:complaint_list")


def test_it_lists_only_the_handlers_county_within_a_query_budget(client, gulou_handler, django_assert_max_num_queries):
    for _ in range(12):
        make_ticket(ComplaintStatus.HANDLING, region="320106")
    for _ in range(10):
        make_ticket(ComplaintStatus.DISPATCHED, region="320115")
    login_verified(client, gulou_handler)
    with django_assert_max_num_queries(20):
        response = client.get(LIST)
    assert response.status_code == 200
    body = response.content.decode()
    gulou = Complaint.objects.filter(handling_region_id="320106")
    jiangning = Complaint.objects.filter(handling_region_id="320115")
    assert all(c.ticket_no in body for c in gulou)
    assert not any(c.ticket_no in body for c in jiangning)


def test_the_dispatcher_list_has_a_query_budget_too(client, nanjing_dispatcher, django_assert_max_num_queries):
    for i in range(22):
        make_ticket(ComplaintStatus.RECEIVED if i % 2 else ComplaintStatus.REGISTERED, region="320106")
    login_verified(client, nanjing_dispatcher)
    with django_assert_max_num_queries(20):
        response = client.get(LIST, {"page_size": 50})
    assert response.status_code == 200


def test_another_countys_ticket_is_not_found(client, jiangning_handler):
    ticket = make_ticket(ComplaintStatus.HANDLING, region="320106")
    login_verified(client, jiangning_handler)
    assert client.get(reverse("complaints:complaint_detail", args=[ticket.pk])).status_code == 404
    url = reverse("complaints:complaint_act", args=[ticket.pk, "reply"])
    assert client.post(url, {"reply-reply": "x"}).status_code == 404


def test_a_handler_signs_decides_and_replies_through_the_page(client, gulou_handler):
    ticket = make_ticket(ComplaintStatus.DISPATCHED, region="320106")
    login_verified(client, gulou_handler)
    page = client.get(reverse("complaints:complaint_detail", args=[ticket.pk])).content.decode()
    assert "action-sign" in page and "action-return" in page and "action-accept" not in page
    act = lambda name, data: client.post(reverse("complaints:complaint_act", args=[ticket.pk, name]), data)  # noqa: E731
    assert act("sign", {}).status_code == 302
    assert act("reply", {"reply-reply": "已处理"}).status_code == 400  # a decision must come first
    assert act("decide", {"decide-accepted": "yes"}).status_code == 302
    assert act("reply", {"reply-reply": "已处理", "reply-result": "已整改"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == ComplaintStatus.REPLIED


def test_the_reporter_is_masked_and_unmasking_needs_a_reason_and_is_audited(client, gulou_handler):
    ticket = make_ticket(ComplaintStatus.HANDLING, region="320106")
    login_verified(client, gulou_handler)
    page = client.get(reverse("complaints:complaint_detail", args=[ticket.pk])).content.decode()
    assert "13912345678" not in page and "张三" not in page and "139****5678" in page
    url = reverse("complaints:complaint_unmask", args=[ticket.pk])
    assert "13912345678" not in client.post(url, {"reason": ""}).content.decode()
    response = client.post(url, {"reason": "电话回访，安排调解"})
    assert "13912345678" in response.content.decode()
    assert response["Cache-Control"].startswith("no-store")
    read = AuditEntry.objects.get(event="complaints.reporter.unmasked")
    assert read.action == "read" and read.reason == "电话回访，安排调解" and read.actor_id == gulou_handler.pk


def test_a_supervisor_cannot_unmask(client, nanjing_supervisor):
    ticket = make_ticket(ComplaintStatus.HANDLING, region="320106")
    login_verified(client, nanjing_supervisor)
    page = client.get(reverse("complaints:complaint_detail", args=[ticket.pk])).content.decode()
    assert "action-supervise" in page and "View in full" not in page and "查看明文" not in page
    response = client.post(reverse("complaints:complaint_unmask", args=[ticket.pk]), {"reason": "想看看"})
    assert response.status_code == 403


def test_the_export_carries_no_reporter_identity(client, nanjing_dispatcher):
    make_ticket(ComplaintStatus.REGISTERED, region="320106")
    login_verified(client, nanjing_dispatcher)
    response = client.get(reverse("complaints:complaint_export"))
    body = b"".join(response.streaming_content).decode()
    assert "饭店卫生差" in body
    for secret in ("张三", "张*", "13912345678", "139****5678", "11010519491231002X", "宁海路"):
        assert secret not in body
    assert AuditEntry.objects.filter(event="complaints.complaint.exported", action="export").exists()


def test_the_statistics_page_renders_chart_data(client, nanjing_dispatcher):
    make_ticket(ComplaintStatus.EVALUATED, region="320106")
    login_verified(client, nanjing_dispatcher)
    response = client.get(reverse("complaints:stats"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="stats-data"' in body and "complaints/stats.js" in body and "<script>" not in body


def test_an_operator_registers_a_call(client, nanjing_dispatcher):
    login_verified(client, nanjing_dispatcher)
    response = client.post(reverse("complaints:complaint_create"), {
        "kind": "report", "content": "某工地夜间施工噪音扰民，持续到凌晨两点。",
        "place_address": "南京市鼓楼区北京西路",
        "anonymous": "on",
    })
    assert response.status_code == 302
    ticket = Complaint.objects.get()
    assert ticket.channel == "hotline" and ticket.anonymous and ticket.region_id == "320106"


def test_a_handler_records_through_the_page_that_the_reporter_was_told(client):
    from jianguan.complaints import services
    from jianguan.complaints.tests.factories import _handler

    report = make_ticket(ComplaintStatus.HANDLING, region="320106", kind="report", category="0301")
    handler = _handler(report.handling_org)
    login_verified(client, handler)
    detail = reverse("complaints:complaint_detail", args=[report.pk])
    assert "action-tell_reporter" not in client.get(detail).content.decode()  # nothing to tell before a decision
    services.decide_complaint(report, actor=handler, accepted=True, case_opened=True)
    page = client.get(detail).content.decode()
    assert "action-tell_reporter" in page and "登记告知举报人" in page
    act = reverse("complaints:complaint_act", args=[report.pk, "tell_reporter"])
    assert client.post(act, {"tell_reporter-method": ""}).status_code == 400
    assert client.post(act, {"tell_reporter-method": "电话"}).status_code == 302
    report.refresh_from_db()
    assert report.reporter_told_at is not None
    assert "action-tell_reporter" not in client.get(detail).content.decode()
