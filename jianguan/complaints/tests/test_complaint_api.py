"""The scoped list, the detail (reporter masked) and the workflow actions of ``/api/v1/complaints/``."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from jianguan.complaints.choices import ComplaintStatus
from jianguan.complaints.tests.factories import make_ticket
from jianguan.core.testing.personas import make_user
from jianguan.core.testing.scope_matrix import assert_error, assert_scope_matrix, call, list_ids

pytestmark = pytest.mark.django_db
LIST = reverse("api:complaints-complaint-list")


def url(name: str, ticket) -> str:
    return reverse(f"api:complaints-complaint-{name}", args=[ticket.pk])


@pytest.fixture
def tickets(db):
    return {
        "gulou": make_ticket(ComplaintStatus.HANDLING, region="320106"),
        "jiangning": make_ticket(ComplaintStatus.HANDLING, region="320115"),
        "suzhou": make_ticket(ComplaintStatus.HANDLING, region="320508"),
        "new_gulou": make_ticket(ComplaintStatus.RECEIVED, region="320106"),
    }


def test_a_county_handler_never_sees_another_countys_tickets(api_client, tickets, gulou_handler,
                                                             jiangning_handler) -> None:
    assert list_ids(api_client, gulou_handler, LIST) == {tickets["gulou"].pk}
    assert list_ids(api_client, jiangning_handler, LIST) == {tickets["jiangning"].pk}
    for name in ("detail", "reply", "sign", "unmask", "suggestion"):
        method = "get" if name in ("detail", "suggestion") else "post"
        assert_error(call(api_client, gulou_handler, method, url(name, tickets["jiangning"]), {}), 404, "not_found")


def test_centre_roles_see_their_subtree(api_client, tickets, nanjing_dispatcher, province_dispatcher) -> None:
    nanjing = {tickets["gulou"].pk, tickets["jiangning"].pk, tickets["new_gulou"].pk}
    assert list_ids(api_client, nanjing_dispatcher, LIST) == nanjing
    assert list_ids(api_client, province_dispatcher, LIST) == {t.pk for t in tickets.values()}


def test_the_detail_masks_the_reporter(api_client, tickets, gulou_handler) -> None:
    body = call(api_client, gulou_handler, "get", url("detail", tickets["gulou"])).json()
    assert body["reporter"]["phone"] == "139****5678" and body["reporter"]["name"] == "张*"
    text = json.dumps(body, ensure_ascii=False)
    assert "13912345678" not in text and "11010519491231002X" not in text
    assert [e["step"] for e in body["events"]][:3] == ["received", "registered", "dispatched"]


def test_reply_passes_the_scope_matrix(api_client, tickets, gulou_handler, suzhou_handler) -> None:
    viewer = make_user("gl_viewer", "320106", "001", ["leader"])
    from jianguan.complaints import services

    services.decide_complaint(tickets["gulou"], actor=gulou_handler, accepted=True)
    assert_scope_matrix(api_client, method="post", url=url("reply", tickets["gulou"]),
                        data={"reply": "已处理完毕。"}, outsider=suzhou_handler, without_permission=viewer,
                        with_permission=gulou_handler)


def test_unmask_passes_the_scope_matrix_and_needs_a_reason(api_client, tickets, gulou_handler, suzhou_handler,
                                                           nanjing_supervisor) -> None:
    target = url("unmask", tickets["gulou"])
    assert_error(call(api_client, gulou_handler, "post", target, {}), 400, "validation")
    response = assert_scope_matrix(api_client, method="post", url=target, data={"reason": "回访核实情况"},
                                   outsider=suzhou_handler, without_permission=nanjing_supervisor,
                                   with_permission=gulou_handler)
    assert response.json()["phone"] == "13912345678"


def test_the_centre_accepts_and_dispatches_by_the_catalogue(api_client, tickets, nanjing_dispatcher) -> None:
    ticket = tickets["new_gulou"]
    response = call(api_client, nanjing_dispatcher, "post", url("accept", ticket), {"category_code": "0101"})
    assert response.status_code == 200 and response.json()["status"] == "registered"
    response = call(api_client, nanjing_dispatcher, "post", url("dispatch", ticket), {})
    assert response.status_code == 200
    assert response.json()["handling_org"]["code"] == "320106001"


def test_a_wrong_state_is_a_409(api_client, tickets, nanjing_dispatcher) -> None:
    assert_error(call(api_client, nanjing_dispatcher, "post", url("close", tickets["gulou"]), {}), 409,
                 "complaint.wrong_state")


def test_the_list_has_a_query_budget(api_client, province_dispatcher, django_assert_max_num_queries) -> None:
    for i in range(22):
        make_ticket(ComplaintStatus.HANDLING if i % 2 else ComplaintStatus.RECEIVED, region="320106")
    api_client.force_authenticate(province_dispatcher)
    with django_assert_max_num_queries(12):
        response = api_client.get(LIST, {"page_size": 100})
    assert response.status_code == 200 and response.json()["count"] == 22


def test_stats_cover_the_callers_scope(api_client, tickets, gulou_handler, province_dispatcher) -> None:
    api_client.force_authenticate(gulou_handler)
    mine = api_client.get(reverse("api:complaints-complaint-stats")).json()
    api_client.force_authenticate(province_dispatcher)
    everything = api_client.get(reverse("api:complaints-complaint-stats")).json()
    assert mine["totals"]["total"] == 1 and everything["totals"]["total"] == 4
    assert {c["code"] for c in everything["by_city"]} == {"320100", "320500"}


def test_telling_the_reporter_passes_the_scope_matrix(api_client, suzhou_handler) -> None:
    from jianguan.complaints import services
    from jianguan.complaints.tests.factories import _handler

    report = make_ticket(ComplaintStatus.HANDLING, region="320106", kind="report", category="0301")
    handler = _handler(report.handling_org)
    services.decide_complaint(report, actor=handler, accepted=True, case_opened=True)
    viewer = make_user("gl_viewer2", "320106", report.handling_org.kind_id, ["leader"])
    assert_scope_matrix(api_client, method="post", url=url("tell-reporter", report),
                        data={"method": "电话", "note": "已告知立案"}, outsider=suzhou_handler,
                        without_permission=viewer, with_permission=handler)
    report.refresh_from_db()
    assert report.reporter_told_at is not None
    again = call(api_client, handler, "post", url("tell-reporter", report), {"method": "电话"})
    assert_error(again, 409, "complaint.reporter_told")
