"""The push package: schema-valid, byte-identical for identical input, published versions only."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied

from jianguan.catalog import push, services
from jianguan.catalog.models import NationalItem
from jianguan.catalog.tests.factories import agency_with_uscc, new_item, published_item, published_sub_item
from jianguan.core.models import AuditEntry


@pytest.fixture
def catalogue(db, nanjing_editor):
    main = published_item("对食品生产经营活动的监督检查")
    sub = published_sub_item(main, "对食品生产者的监督检查")
    published_item("对排污单位的监督检查", kind_code="002")
    gone = published_item("对已取消事项的监督检查")
    services.abolish_item(gone, actor=services.SYSTEM, reason="国务院取消该事项", abolished_on=dt.date(2024, 6, 1))
    new_item("草稿事项")
    services.create_implementation(actor=nanjing_editor, item=sub, organization=agency_with_uscc("320100"),
                                   place="南京市建邺区江东中路265号")
    national = NationalItem.objects.create(code="000001001001", name="对食品生产者的监督检查", edition="2024")
    services.map_item(sub, national, actor=services.SYSTEM)
    return sub


def test_it_validates_against_its_schema(catalogue) -> None:
    document = json.loads(push.build_push_package())
    assert push.validate_push_package(document) == []
    assert document["package"] == "jianguan.catalog.push" and document["package_version"] == "1.0"


def test_it_is_byte_identical_for_identical_input(catalogue) -> None:
    first = push.build_push_package()
    assert push.build_push_package() == first
    assert first.endswith(b"\n") and b": " not in first[:200]


def test_it_carries_published_items_abolished_codes_mappings_and_implementation_lists(catalogue) -> None:
    document = json.loads(push.build_push_package())
    codes = [i["item_code"] for i in document["items"]]
    assert codes == ["32001010001001", "32002010001000"]  # the main item with a sub-item is carried by it
    food = document["items"][0]
    assert food["main_name"] == "对食品生产经营活动的监督检查" and food["sub_name"] == "对食品生产者的监督检查"
    assert food["national_code"] == "000001001001"
    assert food["basis"][0]["level_name"] == "法律"
    assert food["implementations"][0]["code"].endswith("32001010001001")
    assert document["abolished"] == [{"item_code": "32001010002000", "name": "对已取消事项的监督检查",
                                      "abolished_on": "2024-06-01", "reason": "国务院取消该事项"}]
    assert document["item_count"] == 2


def test_the_digest_changes_with_the_catalogue(catalogue) -> None:
    before = json.loads(push.build_push_package())["catalogue_digest"]
    published_item("新发布的事项")
    assert json.loads(push.build_push_package())["catalogue_digest"] != before


def test_the_schema_rejects_a_malformed_package(catalogue) -> None:
    document = json.loads(push.build_push_package())
    document["items"][0]["item_code"] = "3200101"
    del document["items"][1]["basis"]
    problems = push.validate_push_package(document)
    assert any(p.startswith("items/0/item_code") for p in problems)
    assert any("'basis' is a required property" in p for p in problems)


def test_building_it_needs_the_export_permission_and_is_audited(catalogue, province_reviewer,
                                                                 gulou_inspector) -> None:
    with pytest.raises(PermissionDenied):
        push.build_for(gulou_inspector)
    push.build_for(province_reviewer)
    assert AuditEntry.objects.filter(event="catalog.push_package.built", action="export").exists()
