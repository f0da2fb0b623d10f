"""The demo catalogue: 300+ main items with sub-items across 12+ departments, every workflow state, deterministic."""

from __future__ import annotations

import json
import random

import pytest

from jianguan.catalog import push
from jianguan.catalog.choices import ItemState, VersionStatus
from jianguan.catalog.demo import DEMO_PLACES, build_catalog
from jianguan.catalog.models import ImplementationItem, ItemVersion, NationalMapping, SupervisionItem
from jianguan.core import demo as core_demo


@pytest.fixture
def demo_catalogue(db):
    core_demo.build_organizations()
    return build_catalog(random.Random("20190222:catalog"))


@pytest.mark.slow
def test_it_builds_the_demo_catalogue(demo_catalogue) -> None:
    mains = SupervisionItem.objects.filter(main__isnull=True)
    assert mains.count() >= 300
    assert mains.values("department_kind").distinct().count() >= 12
    assert SupervisionItem.objects.filter(main__isnull=False).count() >= 100
    statuses = set(ItemVersion.objects.values_list("status", flat=True))
    assert {VersionStatus.DRAFT, VersionStatus.SUBMITTED, VersionStatus.APPROVED, VersionStatus.REJECTED,
            VersionStatus.PUBLISHED, VersionStatus.ABOLISHED} <= statuses
    assert SupervisionItem.objects.filter(state=ItemState.ABOLISHED).exists()
    assert set(ImplementationItem.objects.values_list("region_id", flat=True)) == set(DEMO_PLACES)
    assert NationalMapping.objects.count() > 200
    assert "main items" in demo_catalogue
    food = SupervisionItem.objects.get(name="对食品生产企业的日常监督检查")
    citation = food.current_version.citations.get()
    assert citation.basis.name == "中华人民共和国食品安全法" and citation.article == "第一百一十条"
    assert push.validate_push_package(json.loads(push.build_push_package())) == []


@pytest.mark.slow
def test_it_is_deterministic_and_runs_once(demo_catalogue) -> None:
    codes = list(SupervisionItem.objects.order_by("code").values_list("code", "name"))
    assert build_catalog(random.Random("20190222:catalog")) == "catalogue already loaded"
    assert list(SupervisionItem.objects.order_by("code").values_list("code", "name")) == codes
