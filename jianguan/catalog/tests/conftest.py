"""Catalogue personas: provincial editors and reviewers, a city and county editor, and the outsider city."""

from __future__ import annotations

import pytest

from jianguan.catalog.tests.factories import agency_with_uscc, provincial_orgs
from jianguan.core.testing.personas import make_user


@pytest.fixture(autouse=True)
def _provincial_departments(db):
    """The provincial departments that own the test items (market regulation, ecology, government services)."""
    provincial_orgs("001", "002", "011")


@pytest.fixture
def province_editor(db):
    """目录编辑员 at 江苏省市场监督管理局: edits the market-regulation items."""
    return make_user("province_editor", "320000", "001", ["catalog_editor"], full_name="省市场监管局编辑")


@pytest.fixture
def province_reviewer(db):
    """目录审核员 at 江苏省政务服务管理办公室: reviews and publishes every department's items."""
    return make_user("province_reviewer", "320000", "011", ["catalog_reviewer"], full_name="省政务办审核员")


@pytest.fixture
def ecology_editor(db):
    """目录编辑员 at 江苏省生态环境厅: another department, may not edit market-regulation items."""
    return make_user("ecology_editor", "320000", "002", ["catalog_editor"], full_name="省生态环境厅编辑")


@pytest.fixture
def nanjing_editor(db):
    """目录编辑员 at 南京市市场监督管理局: edits only its own implementation lists."""
    agency_with_uscc("320100", "001")
    return make_user("nanjing_editor", "320100", "001", ["catalog_editor"], full_name="南京市场监管编辑")


@pytest.fixture
def gulou_editor(db):
    agency_with_uscc("320106", "001")
    return make_user("gulou_editor", "320106", "001", ["catalog_editor"], full_name="鼓楼市场监管编辑")


@pytest.fixture
def suzhou_editor(db):
    """The outsider city's catalogue editor."""
    agency_with_uscc("320500", "001")
    return make_user("suzhou_editor", "320500", "001", ["catalog_editor"], full_name="苏州市场监管编辑")
