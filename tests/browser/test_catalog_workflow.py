"""The catalogue in a real browser: an editor drafts a main item and submits it, a reviewer reads the diff, approves
and publishes it, and the public catalogue (no sign-in) finds it by a word inside its legal basis.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalogue_people(db: Any) -> dict[str, Any]:
    from jianguan.catalog.models import LegalBasis
    from jianguan.core.testing.personas import make_org, make_user

    for kind in ("001", "011"):
        make_org("320000", kind)
    LegalBasis.objects.create(name="中华人民共和国特种设备安全法", level="law",
                              issuing_body="全国人民代表大会常务委员会")
    return {
        "editor": make_user("cat_editor", "320000", "001", ["catalog_editor"], full_name="省市场监管局编辑"),
        "reviewer": make_user("cat_reviewer", "320000", "011", ["catalog_reviewer"], full_name="省政务办审核员"),
    }


def test_an_item_goes_from_draft_to_published_and_into_the_public_catalogue(
    page: Any, sign_in: Any, browser_log: Any, catalogue_people: dict[str, Any], live_server: Any
) -> None:
    from jianguan.core.testing.personas import TEST_PASSWORD

    # The editor drafts a main item with its legal basis.
    sign_in("cat_editor", TEST_PASSWORD)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="监管事项目录").click()
    expect(page.get_by_role("heading", name="监管事项目录")).to_be_visible()
    page.get_by_role("link", name="新建主项").click()
    page.get_by_label("监管部门").select_option(label="001 江苏省市场监督管理局")
    page.get_by_label("监管方式").select_option(label="行政检查")
    page.get_by_label("名称").fill("对电梯使用单位的监督检查")
    # Validation in Chinese: a citation row without its law is refused before anything is written.
    page.locator("#id_citations-0-article").fill("第五十七条")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#id_citations-0-basis + .errorlist, .citation-row .errorlist")).to_contain_text(
        "请选择该依据所引用的法律法规")
    page.locator("#id_citations-0-basis").select_option(label="《中华人民共和国特种设备安全法》")
    page.locator("#id_citations-0-text").fill("负责特种设备安全监督管理的部门依法对特种设备使用单位实施监督检查。")
    page.get_by_label("监管措施").fill("现场检查；查阅、复制特种设备使用登记和维护保养记录")
    page.get_by_label("监管对象").fill("电梯使用单位")
    page.get_by_label("监管流程").fill("制定计划、双随机抽取、现场检查、记录、依法处理")
    page.get_by_label("监管结果").fill("检查结果依法公示并记入信用记录")
    for level in ("省", "市", "县"):
        page.get_by_label(level, exact=True).check()
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", name=re.compile("32001010001 对电梯使用单位的监督检查"))).to_be_visible()
    expect(page.locator("#item-history")).to_contain_text("已创建")

    page.get_by_role("link", name="打开（审核与对比）").click()
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator(".messages")).to_contain_text("已提交审核")
    page.context.clear_cookies()

    # The reviewer finds it in the to-do list, reads the field-by-field comparison, approves and publishes.
    sign_in("cat_reviewer", TEST_PASSWORD)
    page.goto("/catalog/review/")
    page.get_by_role("link", name="对电梯使用单位的监督检查").click()
    diff = page.locator("#version-diff")
    expect(diff.locator('tr[data-field="citations"] td.after')).to_contain_text(
        "《中华人民共和国特种设备安全法》（法律）第五十七条")
    expect(diff.locator("tr.changed")).to_have_count(7)
    page.get_by_label("审核意见").fill("同意")
    page.get_by_role("button", name="审核通过").click()
    expect(page.locator(".messages")).to_contain_text("已审核通过")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="发布", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("已发布")
    page.goto("/catalog/")
    expect(page.locator("#item-table")).to_contain_text("现行有效")
    page.context.clear_cookies()

    # Anyone can now find it in the public catalogue, by a word inside its legal basis (htmx swaps the table only).
    page.goto("/catalog/public/")
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("关键词").fill("特种设备安全")
    with page.expect_response(lambda r: "/catalog/public/?" in r.url and "q=" in r.url):
        page.get_by_label("关键词").press("Enter")
    rows = page.locator("#public-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("32001010001000")
    assert page.evaluate("window.__sameDocument") is True
    rows.first.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="对电梯使用单位的监督检查")).to_be_visible()
    expect(page.locator("main")).to_contain_text("第1版")
    assert browser_log.problems() == [], browser_log.problems()
