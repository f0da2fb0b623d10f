"""The web shell around every page: the language switch, and pages that run clean under the CSP (no console
errors, no blocked resources or inline code)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from jianguan.core.testing.personas import TEST_PASSWORD, make_subject, make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_it_switches_the_language_to_english_and_back(page: Any, sign_in: Any) -> None:
    make_user("gulou_lang", "320106", roles=["inspector"])
    sign_in("gulou_lang", TEST_PASSWORD)
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_role("link", name="监管对象")).to_be_visible()

    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    nav = page.get_by_role("navigation", name="Main navigation")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(nav.get_by_role("link", name="Home")).to_be_visible()
    expect(nav.get_by_role("link", name="Supervised entities")).to_be_visible()
    expect(nav.get_by_role("link", name="Enforcement officers")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(nav).not_to_contain_text("监管对象")

    with page.expect_navigation():
        page.get_by_role("button", name="简体中文").click()
    nav = page.get_by_role("navigation", name="主导航")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(nav.get_by_role("link", name="首页")).to_be_visible()
    expect(nav.get_by_role("link", name="监管对象")).to_be_visible()
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    expect(nav).not_to_contain_text("Supervised entities")


def _assert_clean(page: Any, browser_log: Any, where: str) -> None:
    violations = page.evaluate("window.__cspViolations")
    assert violations == [], f"CSP violations on {where}: {violations}"
    assert browser_log.problems() == [], f"console errors on {where}: {browser_log.problems()}"


def test_it_renders_the_dashboard_and_subject_list_without_console_errors(
    page: Any, sign_in: Any, browser_log: Any
) -> None:
    make_user("gulou_csp", "320106", roles=["inspector", "data_admin"])
    make_subject("320106", name="鼓楼甲食品有限公司")
    make_subject("320106", name="鼓楼乙贸易有限公司")

    sign_in("gulou_csp", TEST_PASSWORD)
    expect(page.locator(".welcome")).to_be_visible()
    response = page.reload()
    assert response is not None
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp, csp
    page.wait_for_load_state("load")
    _assert_clean(page, browser_log, "the dashboard")

    page.goto("/subjects/")
    expect(page.locator("#subject-table tbody tr")).to_have_count(2)
    # htmx is loaded and works under the policy (no eval, no inline styles it would inject).
    assert page.evaluate("typeof window.htmx") == "object"
    page.get_by_label("关键词").fill("甲")
    with page.expect_response(lambda r: "q=" in r.url):
        page.get_by_label("关键词").press("Enter")
    expect(page.locator("#subject-table tbody tr")).to_have_count(1)
    page.wait_for_load_state("load")
    _assert_clean(page, browser_log, "the subject list")
