"""Master data as officials see it: the dashboard, the subject list with its htmx filter, data scope on lists and
direct URLs, and the audited unmasking of an enforcement officer's ID number."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from jianguan.core.models import AuditEntry
from jianguan.core.testing.personas import TEST_PASSWORD, make_officer, make_org, make_subject, make_user
from jianguan.lib.masking import mask_id_number

from .conftest import SHOTS_DIR

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_it_shows_a_county_inspector_only_their_county(page: Any, sign_in: Any, live_server: Any) -> None:
    make_user("gulou_web", "320106", roles=["inspector", "data_admin"], full_name="鼓楼检查员")
    make_subject("320106", name="鼓楼甲食品有限公司")
    make_subject("320106", name="鼓楼乙贸易有限公司")
    jiangning = make_subject("320115", name="江宁丙建材有限公司")

    sign_in("gulou_web", TEST_PASSWORD)

    # The dashboard, in Chinese, says who and where the official is.
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    welcome = page.locator(".welcome")
    expect(welcome).to_contain_text("您好，鼓楼检查员")
    expect(welcome).to_contain_text("南京市鼓楼区 · 南京市鼓楼区市场监督管理局")
    expect(page.get_by_role("heading", name="您数据范围内的数据")).to_be_visible()
    expect(page.locator(".card.stat").filter(has_text="监管对象")).to_contain_text("2")
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS_DIR / "dashboard.png"), full_page=True)

    # The subject list holds the county's entities and not the neighbouring county's.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="监管对象").click()
    expect(page).to_have_url(f"{live_server.url}/subjects/")
    rows = page.locator("#subject-table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#subject-table")).to_contain_text("鼓楼甲食品有限公司")
    expect(page.locator("#subject-table")).to_contain_text("鼓楼乙贸易有限公司")
    expect(page.locator("#subject-table")).not_to_contain_text("江宁丙建材有限公司")

    # Filtering swaps only the table (htmx): the page's own state survives, the URL follows the filter.
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("关键词").fill("鼓楼甲")
    with page.expect_response(lambda r: "/subjects/?" in r.url and "q=" in r.url) as filtered:
        page.get_by_label("关键词").press("Enter")
    assert filtered.value.request.header_value("hx-request") == "true"
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("鼓楼甲食品有限公司")
    expect(page).to_have_url(re.compile(r"/subjects/\?.*q=%E9%BC%93%E6%A5%BC%E7%94%B2"))
    assert page.evaluate("window.__sameDocument") is True, "the filter reloaded the whole page"

    # The other county's record is not even acknowledged to exist.
    response = page.goto(f"/subjects/{jiangning.pk}/")
    assert response is not None and response.status == 404
    expect(page.locator(".error-page h1")).to_have_text("未找到")
    expect(page.locator("body")).not_to_contain_text("江宁丙建材有限公司")


def test_it_shows_a_city_official_both_counties(page: Any, sign_in: Any) -> None:
    make_user("nanjing_web", "320100", roles=["inspector"], full_name="南京市检查员")
    make_subject("320106", name="鼓楼甲食品有限公司")
    make_subject("320115", name="江宁丙建材有限公司")
    make_subject("320500", name="苏州丁电子有限公司")  # another city: out of scope

    sign_in("nanjing_web", TEST_PASSWORD)
    page.goto("/subjects/")

    table = page.locator("#subject-table")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text("鼓楼甲食品有限公司")
    expect(table).to_contain_text("江宁丙建材有限公司")
    expect(table).to_contain_text("南京市江宁区")
    expect(table).not_to_contain_text("苏州丁电子有限公司")


def test_it_unmasks_an_officers_id_number_once_with_a_reason_and_audits_it(page: Any, sign_in: Any) -> None:
    admin = make_user("gulou_data", "320106", roles=["inspector", "data_admin"], full_name="鼓楼数据管理员")
    officer = make_officer(make_org("320106"), name="王执法")
    id_number = officer.id_number
    masked = mask_id_number(id_number)
    assert masked != id_number

    sign_in("gulou_data", TEST_PASSWORD)
    page.goto(f"/officers/{officer.pk}/")
    personal = page.locator("#officer-personal")
    expect(personal.locator("dd.masked").first).to_have_text(masked)
    expect(page.locator("body")).not_to_contain_text(id_number)

    # No reason: refused, in Chinese, and nothing shown in full.
    personal.get_by_role("button", name="查看完整信息").click()
    expect(personal.locator(".errorlist")).to_contain_text("查看完整个人信息必须填写事由。")
    expect(personal.locator(".plain")).to_have_count(0)
    assert not AuditEntry.objects.filter(action="read").exists()

    # With a reason: shown in full, once.
    personal.get_by_label("查看事由").fill("案件2024-031：联系执法人员")
    personal.get_by_role("button", name="查看完整信息").click()
    expect(personal.locator(".plain").first).to_have_text(id_number)
    expect(personal).to_contain_text("完整信息仅显示本次，本次查看已记入审计日志。")

    # Reloading shows the masked value again.
    page.reload()
    expect(personal.locator("dd.masked").first).to_have_text(masked)
    expect(page.locator("body")).not_to_contain_text(id_number)

    entries = list(AuditEntry.objects.filter(action="read", object_id=str(officer.pk)))
    assert len(entries) == 1
    assert entries[0].event == "core.enforcement_officer.unmasked"
    assert entries[0].reason == "案件2024-031：联系执法人员"
    assert entries[0].actor_id == admin.pk


def test_it_exports_the_list_the_htmx_filter_shows(page: Any, sign_in: Any) -> None:
    make_user("gulou_export", "320106", roles=["inspector", "data_admin"])
    make_subject("320106", name="鼓楼甲食品有限公司")
    make_subject("320106", name="鼓楼乙贸易有限公司")

    sign_in("gulou_export", TEST_PASSWORD)
    page.goto("/subjects/")
    page.get_by_label("关键词").fill("鼓楼甲")
    with page.expect_response(lambda r: "q=" in r.url):
        page.get_by_label("关键词").press("Enter")
    expect(page.locator("#subject-table tbody tr")).to_have_count(1)

    with page.expect_download() as download:
        page.get_by_role("link", name="导出CSV").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "鼓楼甲食品有限公司" in exported
    assert "鼓楼乙贸易有限公司" not in exported, "the export holds entities the filter had excluded"
