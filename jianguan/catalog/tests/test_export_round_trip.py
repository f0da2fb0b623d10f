"""Export to xlsx and JSON, and export → import round-trips without loss."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from jianguan.catalog import exporter, importer, services
from jianguan.catalog.models import (
    BasisCitation,
    CodeSequence,
    ImplementationItem,
    ItemEvent,
    ItemVersion,
    LegalBasis,
    NationalMapping,
    SupervisionItem,
)
from jianguan.catalog.tests.factories import make_basis, new_item, published_item, published_sub_item
from jianguan.catalog.tests.spreadsheets import read_rows

SYSTEM = services.SYSTEM


@pytest.fixture
def catalogue(db):
    food = make_basis("中华人民共和国食品安全法", "law", issuing_body="全国人民代表大会常务委员会",
                      document_number="主席令第二十一号", effective_on=dt.date(2015, 10, 1),
                      amended_on=dt.date(2021, 4, 29))
    local = make_basis("江苏省食品小作坊和食品摊贩管理条例", "local_regulation",
                       issuing_body="江苏省人民代表大会常务委员会")
    main = published_item("对食品生产经营活动的监督检查")
    published_sub_item(main, "对食品生产者的监督检查", basis=food, article="第一百一十条",
                       text="有权进行现场检查；\n对生产经营的食品进行抽样检验。")
    published_sub_item(main, "对食品小作坊的监督检查", basis=local, article="第三十条", levels=("city", "county"),
                       measures="=现场检查")  # a formula-looking value must come back as text
    published_item("对排污单位的监督检查", kind_code="002", method="01")
    published_item("对违法生产经营食品的行政处罚", method="02")
    new_item("尚未发布的事项")  # drafts are not in the published export
    return main


def _wipe() -> None:
    """Empty the catalogue (tests only: the application never deletes items)."""
    SupervisionItem.objects.update(current_version=None, latest_version=None)
    ImplementationItem.objects.all().delete()
    NationalMapping.objects.all().delete()
    ItemEvent.objects.all().delete()
    BasisCitation.objects.all().delete()
    ItemVersion.objects.update(based_on=None)
    ItemVersion.objects.all().delete()
    SupervisionItem.objects.filter(main__isnull=False).delete()
    SupervisionItem.objects.all().delete()
    LegalBasis.objects.all().delete()
    CodeSequence.objects.all().delete()


def test_the_xlsx_has_the_domain_columns_one_row_per_sub_item(catalogue) -> None:
    rows = read_rows(exporter.export_xlsx(exporter.export_rows()))
    assert rows[0] == list(exporter.COLUMNS)
    body = rows[1:]
    assert [r[11] for r in body] == ["32001010001001", "32001010001002", "32001020001000", "32002010001000"]
    first = dict(zip(exporter.COLUMNS, body[0], strict=True))
    assert first["监管部门"] == "江苏省市场监督管理局"
    assert first["监管事项主项名称"] == "对食品生产经营活动的监督检查"
    assert first["监管事项子项名称"] == "对食品生产者的监督检查"
    assert first["监管方式"] == "行政检查"
    assert first["设定依据"] == ("《中华人民共和国食品安全法》（法律）第一百一十条：有权进行现场检查；\n"
                                 "对生产经营的食品进行抽样检验。")
    assert first["监管层级"] == "省、市、县"
    assert first["主项编码"] == "32001010001"
    assert body[1][4] == "=现场检查"  # stored as text, not a formula
    bases = read_rows(exporter.export_xlsx(exporter.export_rows()), exporter.BASIS_SHEET)
    assert bases[0] == list(exporter.BASIS_COLUMNS)
    assert ["中华人民共和国食品安全法", "法律", "全国人民代表大会常务委员会", "主席令第二十一号", "2015-10-01",
            "2021-04-29", None, "现行有效"] in bases


def test_the_json_export_is_deterministic(catalogue) -> None:
    first = exporter.export_json(exporter.export_rows())
    assert first == exporter.export_json(exporter.export_rows())
    document = json.loads(first)
    assert document["format"] == "jianguan.catalog.export" and document["format_version"] == 1
    assert len(document["rows"]) == 4


@pytest.mark.parametrize("fmt", ["xlsx", "json"])
def test_export_then_import_round_trips_without_loss(catalogue, fmt) -> None:
    render = exporter.export_xlsx if fmt == "xlsx" else exporter.export_json
    exported_json = exporter.export_json(exporter.export_rows())
    data = render(exporter.export_rows())
    _wipe()
    result = importer.import_catalogue(data, file_name=f"catalogue.{fmt}", actor=SYSTEM, publish=True)
    assert not result.errors, result.errors
    assert result.created == 5  # the food main item with its 2 sub-items, the ecology item, the penalty item
    assert exporter.export_json(exporter.export_rows()) == exported_json
    again = render(exporter.export_rows())
    if fmt == "xlsx":
        assert read_rows(again) == read_rows(data)
        assert read_rows(again, exporter.BASIS_SHEET) == read_rows(data, exporter.BASIS_SHEET)


def test_importing_the_export_into_the_same_catalogue_changes_nothing(catalogue) -> None:
    data = exporter.export_xlsx(exporter.export_rows())
    result = importer.import_catalogue(data, file_name="catalogue.xlsx", actor=SYSTEM)
    assert (result.created, result.updated, result.unchanged, result.errors) == (0, 0, 5, [])


def test_the_latest_export_includes_drafts(catalogue) -> None:
    names = [r.sub_name or r.main_name for r in exporter.export_rows(status="latest")]
    assert "尚未发布的事项" in names
    assert "尚未发布的事项" not in [r.sub_name or r.main_name for r in exporter.export_rows()]


def test_text_that_looks_like_a_formula_is_exported_as_text(catalogue) -> None:
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(exporter.export_xlsx(exporter.export_rows())))[exporter.ITEM_SHEET]
    cell = next(c for row in sheet.iter_rows(min_row=2) for c in row if c.value == "=现场检查")
    assert cell.data_type == "s"
