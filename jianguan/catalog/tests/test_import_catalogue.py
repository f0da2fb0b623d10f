"""xlsx import: valid rows import, invalid rows are reported exactly (row, column, Chinese reason), a crash leaves
nothing half-written, the same file twice changes nothing."""

from __future__ import annotations

import pytest

from jianguan.catalog import importer, services
from jianguan.catalog.choices import ImportStatus, ItemState, VersionStatus
from jianguan.catalog.exporter import error_report_xlsx
from jianguan.catalog.models import (
    BasisCitation,
    CodeSequence,
    ImportBatch,
    ItemEvent,
    ItemVersion,
    LegalBasis,
    SupervisionItem,
)
from jianguan.catalog.tests.spreadsheets import DRUG, ECO, read_rows, row, xlsx
from jianguan.core.models import AuditEntry

SYSTEM = services.SYSTEM


def run(data: bytes, actor=SYSTEM, **kw) -> importer.ImportResult:
    return importer.import_catalogue(data, file_name="目录.xlsx", actor=actor, **kw)


def mixed_file() -> bytes:
    return xlsx([
        row("对食品生产经营活动的监督检查", "对食品生产者的监督检查"),  # 2 good
        row("对食品生产经营活动的监督检查", "对食品经营者的监督检查"),  # 3 good
        row("对药品经营企业的监督检查", basis=DRUG),  # 4 good (main without sub-items)
        row("对化妆品经营者的监督检查", department="江苏省不存在局"),  # 5 bad department
        row("对特种设备使用单位的监督检查", method="行政指导", levels="国家"),  # 6 bad method and level
        row("对食品生产经营活动的监督检查", "对食品生产者的监督检查"),  # 7 duplicate of row 2
        row("对计量器具的监督检查", basis="中华人民共和国计量法第十条"),  # 8 basis without book-title marks
        row("对广告发布者的监督检查", 监管措施=""),  # 9 measures missing
        row("对排污单位的监督检查", department="江苏省生态环境厅", basis=ECO),  # 10 good (another department)
        row("对电梯使用单位的监督检查", main_code="32001020001"),  # 11 code of another method
    ])


def test_it_imports_exactly_the_good_rows_and_reports_exactly_the_bad_ones(db) -> None:
    result = run(mixed_file())
    assert result.status == ImportStatus.PARTIAL
    assert result.rows_total == 10
    errors = [(e.row, e.column, e.reason) for e in result.errors]
    assert errors == [
        (5, "监管部门", "监管部门“江苏省不存在局”不在部门代码表中"),
        (6, "监管方式", "监管方式“行政指导”无法识别（应为行政检查、行政处罚、行政强制、行政许可后监管、其他之一）"),
        (6, "监管层级", "监管层级“国家”无法识别（应为省、市、县）"),
        (7, "监管事项子项名称", "与第2行重复"),
        (8, "设定依据", "设定依据“中华人民共和国计量法第十条”格式不正确，应为“《法规名称》第X条第X款：条文内容”"),
        (9, "监管措施", "请填写监管措施"),
        (11, "主项编码", "主项编码32001020001与监管部门（001）或监管方式（01）不一致"),
    ]
    assert result.error_rows == 6
    names = set(SupervisionItem.objects.values_list("name", flat=True))
    assert names == {"对食品生产经营活动的监督检查", "对食品生产者的监督检查", "对食品经营者的监督检查",
                     "对药品经营企业的监督检查", "对排污单位的监督检查"}
    assert result.created == 5
    main = SupervisionItem.objects.get(name="对食品生产经营活动的监督检查")
    assert sorted(main.sub_items.values_list("code", flat=True)) == ["32001010001001", "32001010001002"]
    assert SupervisionItem.objects.get(name="对排污单位的监督检查").code == "32002010001000"
    assert set(ItemVersion.objects.values_list("status", flat=True)) == {VersionStatus.DRAFT}
    batch = ImportBatch.objects.get()
    assert batch.error_count == 6 and batch.created_count == 5 and batch.status == ImportStatus.PARTIAL


def test_the_error_report_names_row_column_and_reason_in_chinese(db) -> None:
    result = run(mixed_file())
    report = read_rows(error_report_xlsx(result.batch.errors, file_name="目录.xlsx"))
    assert report[0] == ["工作表", "行号", "列", "原因"]
    assert report[1] == ["监管事项目录清单", 5, "监管部门", "监管部门“江苏省不存在局”不在部门代码表中"]
    assert [r[1] for r in report[1:8]] == [5, 6, 6, 7, 8, 9, 11]


def test_the_same_file_twice_changes_nothing(db) -> None:
    data = mixed_file()
    run(data)
    counts = (SupervisionItem.objects.count(), ItemVersion.objects.count(), BasisCitation.objects.count(),
              ItemEvent.objects.count(), LegalBasis.objects.count())
    audit_before = AuditEntry.objects.exclude(event="catalog.item.imported").count()
    second = run(data)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 5)
    assert second.status == ImportStatus.PARTIAL  # the same bad rows are reported again
    assert (SupervisionItem.objects.count(), ItemVersion.objects.count(), BasisCitation.objects.count(),
            ItemEvent.objects.count(), LegalBasis.objects.count()) == counts
    assert AuditEntry.objects.exclude(event="catalog.item.imported").count() == audit_before


def test_a_crash_midway_leaves_nothing_half_written(db, monkeypatch) -> None:
    calls = {"n": 0}
    real = services.create_sub_item

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "create_sub_item", failing)
    with pytest.raises(importer.ImportFailed) as exc:
        run(mixed_file())
    assert calls["n"] == 2  # the first sub-item had been written before the crash
    assert SupervisionItem.objects.count() == 0
    assert ItemVersion.objects.count() == 0
    assert LegalBasis.objects.count() == 0
    assert CodeSequence.objects.count() == 0
    assert ItemEvent.objects.count() == 0
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.FAILED
    assert "已全部回滚" in batch.message and "disk full" in batch.message
    assert exc.value.result.batch == batch


def test_a_dry_run_reports_and_writes_nothing(db) -> None:
    result = run(mixed_file(), dry_run=True)
    assert result.status == ImportStatus.DRY_RUN
    assert result.created == 5 and result.error_rows == 6
    assert SupervisionItem.objects.count() == 0
    assert ImportBatch.objects.get().dry_run is True


def test_publish_imports_an_approved_catalogue_as_published(db) -> None:
    result = run(xlsx([row("对食品生产经营活动的监督检查", "对食品生产者的监督检查"), row("对药品经营企业的监督检查",
                                                                                      basis=DRUG)]), publish=True)
    assert result.created == 3 and not result.errors
    assert set(SupervisionItem.objects.values_list("state", flat=True)) == {ItemState.PUBLISHED}
    assert set(ItemVersion.objects.values_list("status", flat=True)) == {VersionStatus.PUBLISHED}
    again = run(xlsx([row("对食品生产经营活动的监督检查", "对食品生产者的监督检查"), row("对药品经营企业的监督检查",
                                                                                     basis=DRUG)]), publish=True)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_a_changed_row_revises_a_published_item_as_a_draft(db) -> None:
    run(xlsx([row("对药品经营企业的监督检查", basis=DRUG)]), publish=True)
    result = run(xlsx([row("对药品经营企业的监督检查", basis=DRUG, 监管措施="现场检查、飞行检查")]))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    item = SupervisionItem.objects.get()
    assert item.current_version.measures == "现场检查、抽样检验"  # the public version is untouched
    assert item.latest_version.status == VersionStatus.DRAFT
    assert item.latest_version.measures == "现场检查、飞行检查"
    assert item.latest_version.based_on == item.current_version


def test_a_row_under_review_is_reported_not_changed(db) -> None:
    run(xlsx([row("对药品经营企业的监督检查", basis=DRUG)]))
    version = services.submit_version(SupervisionItem.objects.get().latest_version, actor=SYSTEM)
    result = run(xlsx([row("对药品经营企业的监督检查", basis=DRUG, 监管对象="药品零售企业")]))
    assert [(e.row, e.column) for e in result.errors] == [(2, "监管事项主项名称")]
    assert "正在审核中" in result.errors[0].reason
    version.refresh_from_db()
    assert version.targets == "食品生产经营者"


def test_an_editor_imports_only_their_departments_rows(province_editor) -> None:
    result = run(xlsx([row("对药品经营企业的监督检查", basis=DRUG),
                       row("对排污单位的监督检查", department="江苏省生态环境厅", basis=ECO)]), actor=province_editor)
    assert result.created == 1
    assert [(e.row, e.column, e.reason) for e in result.errors] == [
        (3, "监管部门", "您无权编辑江苏省生态环境厅的监管事项")]


def test_an_abolished_code_is_never_reused_by_an_import(db) -> None:
    import datetime as dt

    run(xlsx([row("对药品经营企业的监督检查", basis=DRUG)]), publish=True)
    item = SupervisionItem.objects.get()
    services.abolish_item(item, actor=SYSTEM, reason="职能调整", abolished_on=dt.date(2025, 1, 1))
    result = run(xlsx([row("对药品经营企业的监督检查", basis=DRUG, main_code="32001010001")]))
    assert [(e.row, e.column, e.reason) for e in result.errors] == [
        (2, "主项编码", "主项编码32001010001已废止，编码不能重复使用")]


def test_it_rejects_a_file_without_the_required_columns(db) -> None:
    result = run(xlsx([["江苏省市场监督管理局", "对药品经营企业的监督检查"]], header=("监管部门", "监管事项主项名称")))
    assert result.status == ImportStatus.REJECTED
    assert {e.column for e in result.errors} == {"监管事项子项名称", "监管方式", "监管措施", "监管对象", "设定依据",
                                                 "监管流程", "监管结果", "监管层级"}
    assert all(e.row == 1 and e.reason.startswith("缺少必需的列") for e in result.errors)


def test_it_rejects_a_file_that_is_not_a_spreadsheet(db) -> None:
    result = run(b"not a spreadsheet")
    assert result.status == ImportStatus.REJECTED
    assert result.errors[0].reason == "文件应为xlsx表格或JSON"


def test_it_registers_new_bases_with_the_given_or_inferred_level(db) -> None:
    run(xlsx([row("对药品经营企业的监督检查", basis=DRUG), row("对食品生产者的监督检查")]))
    assert LegalBasis.objects.get(name="药品经营和使用质量监督管理办法").level == "dept_rule"
    assert LegalBasis.objects.get(name="中华人民共和国食品安全法").level == "law"


def test_it_refuses_to_cite_a_repealed_basis(db) -> None:
    from jianguan.catalog.tests.factories import make_basis

    make_basis("药品经营和使用质量监督管理办法", "dept_rule", status="repealed")
    result = run(xlsx([row("对药品经营企业的监督检查", basis=DRUG)]))
    assert [(e.column, e.reason) for e in result.errors] == [
        ("设定依据", "设定依据《药品经营和使用质量监督管理办法》已废止，不能作为设定依据")]


def test_it_needs_the_import_permission(gulou_inspector) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        run(xlsx([]), actor=gulou_inspector)
