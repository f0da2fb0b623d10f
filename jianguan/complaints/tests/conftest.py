"""Personas of the complaints tests (on top of the core personas) and a ticket factory."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from jianguan.complaints import classifier, places
from jianguan.complaints.calendar import work_calendar
from jianguan.complaints.tests.factories import make_ticket  # noqa: F401
from jianguan.core.testing.personas import MARKET, make_user

GOV = "011"  # 政务服务 (the 12345 centre)


@pytest.fixture(autouse=True)
def _fresh_caches() -> Any:
    places.clear_cache()
    classifier.reset()
    work_calendar.cache_clear()
    yield
    places.clear_cache()
    classifier.reset()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def nanjing_dispatcher(db: Any) -> Any:
    """南京 12345 centre dispatcher: sees every department's tickets in 南京."""
    return make_user("nj_dispatcher", "320100", GOV, ["hotline_dispatcher"], full_name="南京派单员")


@pytest.fixture
def province_dispatcher(db: Any) -> Any:
    return make_user("js_dispatcher", "320000", GOV, ["hotline_dispatcher"], full_name="省派单员")


@pytest.fixture
def nanjing_supervisor(db: Any) -> Any:
    return make_user("nj_supervisor", "320100", GOV, ["complaint_supervisor"], full_name="南京督办员")


@pytest.fixture
def gulou_handler(db: Any) -> Any:
    """鼓楼区市场监管局 complaint handler (county, own department only)."""
    return make_user("gl_handler", "320106", MARKET, ["complaint_handler"], full_name="鼓楼承办人")


@pytest.fixture
def jiangning_handler(db: Any) -> Any:
    return make_user("jn_handler", "320115", MARKET, ["complaint_handler"], full_name="江宁承办人")


@pytest.fixture
def suzhou_handler(db: Any) -> Any:
    return make_user("sz_handler", "320508", MARKET, ["complaint_handler"], full_name="姑苏承办人")


@pytest.fixture
def api_machine(db: Any) -> Any:
    """The 12345 platform's machine account (api_client role) at the province."""
    return make_user("platform_12345", "320000", GOV, ["api_client"], full_name="12345平台", is_machine=True)
