"""National alignment: load the national catalogue, map one-to-one or many-to-one, report the gaps."""

from __future__ import annotations

import json

import pytest

from jianguan.catalog import services
from jianguan.catalog.models import NationalItem, NationalMapping
from jianguan.catalog.national import read_national_file
from jianguan.catalog.tests.factories import published_item, published_sub_item
from jianguan.catalog.tests.spreadsheets import xlsx

NATIONAL = {
    "edition": "2024年版",
    "items": [
        {"code": "000001001001", "name": "对食品生产者的监督检查", "department": "市场监管总局", "method": "行政检查"},
        {"code": "000001001002", "name": "对食品经营者的监督检查", "department": "市场监管总局", "method": "行政检查"},
        {"code": "000002001001", "name": "对排污单位的监督检查", "department": "生态环境部", "method": "行政检查"},
    ],
}


@pytest.fixture
def national(db):
    edition, rows, errors = read_national_file(json.dumps(NATIONAL, ensure_ascii=False).encode())
    assert errors == [] and edition == "2024年版"
    services.load_national_catalogue(rows, actor=services.SYSTEM, edition=edition)
    return {n.code: n for n in NationalItem.objects.all()}


def test_it_loads_the_national_catalogue_from_xlsx(db) -> None:
    data = xlsx([["000001001001", "对食品生产者的监督检查", "市场监管总局"], ["", "缺编码的事项", ""]],
                header=("国家监管事项编码", "监管事项名称", "国务院主管部门"))
    _edition, rows, errors = read_national_file(data, edition="2024")
    assert [r.code for r in rows] == ["000001001001"]
    assert [(e.row, e.column, e.reason) for e in errors] == [(3, "国家监管事项编码", "请填写国家监管事项编码")]


def test_reloading_marks_dropped_national_items_as_not_current(national) -> None:
    rows = [services.NationalRow(code=i["code"], name=i["name"]) for i in NATIONAL["items"][:2]]
    result = services.load_national_catalogue(rows, actor=services.SYSTEM, edition="2025年版")
    assert result.retired == 1
    assert NationalItem.objects.get(code="000002001001").active is False


def test_it_maps_one_to_one_and_many_to_one_and_reports_the_gaps(national, province_editor) -> None:
    food = published_item("对食品生产者的监督检查")
    small = published_item("对食品小作坊的监督检查")
    drug = published_item("对药品经营企业的监督检查")
    services.map_item(food, national["000001001001"], actor=province_editor)
    services.map_item(small, national["000001001001"], actor=province_editor, note="小作坊并入食品生产者")
    report = services.alignment_report()
    assert [i.pk for i in report.local_unmapped] == [drug.pk]
    assert {n.code for n in report.national_unmapped} == {"000001001002", "000002001001"}
    assert national["000001001001"].mappings.count() == 2


def test_an_item_is_aligned_through_its_main_item(national, province_editor) -> None:
    main = published_item("对食品生产经营活动的监督检查")
    published_sub_item(main, "对食品生产者的监督检查")
    services.map_item(main, national["000001001001"], actor=province_editor)
    assert services.alignment_report().local_unmapped == []


def test_auto_mapping_matches_exact_names(national, province_editor) -> None:
    published_item("对食品生产者的监督检查")
    published_item("对食品经营者的监督检查")
    assert services.auto_map_by_name(actor=province_editor) == 2
    assert NationalMapping.objects.count() == 2


def test_remapping_replaces_and_unmapping_removes(national, province_editor) -> None:
    item = published_item("对食品生产者的监督检查")
    services.map_item(item, national["000001001001"], actor=province_editor)
    services.map_item(item, national["000001001002"], actor=province_editor)
    assert NationalMapping.objects.get(item=item).national_item.code == "000001001002"
    services.unmap_item(item, actor=province_editor)
    assert not NationalMapping.objects.exists()


def test_another_department_may_not_map_the_item(national, ecology_editor) -> None:
    from jianguan.core.errors import ScopeViolation

    item = published_item("对食品生产者的监督检查")
    with pytest.raises(ScopeViolation):
        services.map_item(item, national["000001001001"], actor=ecology_editor)
