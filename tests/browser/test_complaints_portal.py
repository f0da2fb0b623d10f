"""The public complaint portal in a real browser (Playwright + Debian chromium): submit a complaint with an
attachment, note the ticket number and verification code, track it, and see no identity and no CSP violation."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from jianguan.complaints.models import Attachment, Complaint

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_a_citizen_submits_and_tracks_a_complaint(page: Any, browser_log: Any, tmp_path: Any) -> None:
    page.goto("/portal/complaints/")
    expect(page.get_by_role("heading", name="我要投诉举报")).to_be_visible()
    page.get_by_label("类型").select_option("complaint")
    page.get_by_label("诉求内容").fill("在鼓楼区某饭店吃饭后腹泻，店家拒绝退款，要求处理。")
    page.get_by_label("发生地点").fill("南京市鼓楼区中山路100号")
    page.get_by_label("被投诉举报的经营者或单位").fill("南京某某餐饮管理有限公司")
    page.get_by_label("您的姓名").fill("赵六")
    page.get_by_label("您的联系电话").fill("13700003333")
    receipt = tmp_path / "receipt.png"
    receipt.write_bytes(PNG)
    page.get_by_label(re.compile("附件")).set_input_files(str(receipt))
    page.get_by_role("button", name="提交").click()

    expect(page.locator("#submitted")).to_contain_text("提交成功")
    ticket_no = page.locator(".ticket-no").first.inner_text().strip()
    code = page.locator(".tracking-code").inner_text().strip()
    ticket = Complaint.objects.get(ticket_no=ticket_no)
    assert ticket.region_id == "320106" and Attachment.objects.filter(complaint=ticket).count() == 1

    page.get_by_role("link", name="查询办理进度").first.click()
    page.get_by_label("工单编号").fill(ticket_no)
    page.get_by_label("查询码").fill(code)
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#public-status")).to_have_text("已接收")
    body = page.content()
    assert "赵六" not in body and "13700003333" not in body

    page.get_by_label("查询码").fill("WRONG123")
    page.get_by_label("工单编号").fill(ticket_no)
    page.get_by_role("button", name="查询").click()
    expect(page.locator(".errorlist")).to_contain_text("工单编号或查询码不正确")
    assert browser_log.problems() == []
