"""Batch exchange of entity files: clean, standardise, verify, de-duplicate, compare, integrate, quarantine."""

from __future__ import annotations

import pytest

from jianguan.core.models import AuditEntry, Subject
from jianguan.datacenter.models import Batch, LineageEntry, LineageRecord, QuarantinedRow
from jianguan.datacenter.tests.conftest import ingest, uscc, write_csv

HEADER = ["统一社会信用代码", "企业名称", "法定代表人", "住所", "行政区划", "行业代码", "注册资本", "成立日期",
          "登记状态", "联系电话"]


@pytest.fixture
def dirty_file(tmp_path):
    return write_csv(tmp_path / "entities.csv", HEADER, [
        [uscc("320106", 1), "  南京鑫盛科技有限公司 ", "张三", "江苏省南京市鼓楼区中山路1号", "320106", "I6510",
         "100万元", "2019/3/5", "存续", "025 8320 1234"],
        ["ＸＸ", "坏代码公司", "李四", "南京市玄武区北京东路1号", "", "", "", "", "", ""],
        [uscc("320106", 2).lower(), "南京华信贸易有限公司", "王五", "鼓楼区汉中路2号", "", "F51",
         "1,000,000元", "20180101", "吊销，未注销", "+86 138-0000-0001"],
        [uscc("320583", 3, "92"), "昆山市玉山镇老张面馆", "张伟", "昆山市玉山镇1号", "苏州市", "", "NULL", "—",
         "在业", ""],
        [uscc("320106", 1), "南京鑫盛科技有限公司", "张三", "江苏省南京市鼓楼区中山路1号", "320106", "I6510",
         "100万元", "2019-03-05", "存续", "02583201234"],
        [uscc("320106", 4), "未来公司", "赵六", "南京市鼓楼区1号", "", "", "100美元", "2030-01-01", "", ""],
    ])


def test_it_loads_clean_rows_into_the_master_records(data_admin, source, dirty_file,
                                                     django_capture_on_commit_callbacks) -> None:
    batch = ingest(source, data_admin, dirty_file, django_capture_on_commit_callbacks)
    assert batch.status == "loaded", batch.message
    assert batch.rows_total == 6
    assert batch.created_count == 3
    assert batch.rows_quarantined == 2
    assert batch.rows_duplicate == 1
    first = Subject.objects.get(uscc=uscc("320106", 1))
    assert first.name == "南京鑫盛科技有限公司"
    assert first.region_id == "320106"
    assert first.industry_id == "651"
    assert str(first.registered_capital) == "100.0000"
    assert first.established_on.isoformat() == "2019-03-05"
    second = Subject.objects.get(uscc=uscc("320106", 2))
    assert second.status == "revoked"
    assert second.address == "江苏省南京市鼓楼区汉中路2号"
    assert str(second.registered_capital) == "100.0000"
    shop = Subject.objects.get(uscc=uscc("320583", 3, "92"))
    assert shop.subject_type == "individual"
    assert shop.region_id == "320583"
    assert shop.registered_capital is None and shop.established_on is None


def test_it_quarantines_rejected_rows_with_row_field_and_reason(data_admin, source, dirty_file,
                                                                django_capture_on_commit_callbacks) -> None:
    batch = ingest(source, data_admin, dirty_file, django_capture_on_commit_callbacks)
    rows = {r.row_no: r for r in QuarantinedRow.objects.filter(batch=batch)}
    assert sorted(rows) == [3, 7]
    bad_code = rows[3].errors
    assert [e["field"] for e in bad_code] == ["uscc"]
    assert "18位" in bad_code[0]["message"]
    future = {e["code"] for e in rows[7].errors}
    assert future == {"registered_capital.currency", "established_on.future"}
    assert rows[7].record["注册资本" if False else "registered_capital"] == "100美元"


def test_it_records_lineage_for_every_value(data_admin, source, dirty_file,
                                            django_capture_on_commit_callbacks) -> None:
    batch = ingest(source, data_admin, dirty_file, django_capture_on_commit_callbacks)
    subject = Subject.objects.get(uscc=uscc("320106", 2))
    records = list(LineageEntry.objects.filter(subject=subject))
    assert len(records) == 1
    lineage = records[0]
    assert lineage.batch == batch and lineage.row_no == 4 and lineage.action == "created"
    assert set(lineage.fields) >= {"name", "address", "region", "industry", "registered_capital",
                                   "established_on", "status"}
    assert "money" in lineage.steps("registered_capital")
    assert "address_completed" in lineage.steps("address")
    assert "region_address" in lineage.steps("region")
    assert "status_map" in lineage.steps("status")
    assert lineage.steps("name") == ["extract"]
    # created from one row: the entry is kept on the record itself, under id -subject id, with its source
    assert lineage.pk == -subject.pk and lineage.source == source and lineage.duplicate_rows == []
    assert (subject.origin_batch, subject.origin_row) == (batch.pk, 4)
    assert not LineageRecord.objects.filter(subject=subject).exists()
    duplicate = LineageEntry.objects.get(subject__uscc=uscc("320106", 1))
    assert duplicate.row_no == 6 and duplicate.duplicate_rows == [2]
    # created from two identical rows: a lineage row of its own, the record keeps no origin
    assert duplicate.pk > 0 and LineageRecord.objects.filter(pk=duplicate.pk).exists()
    assert Subject.objects.get(uscc=uscc("320106", 1)).origin_batch is None
    # the batch's entries, both kinds, through the same filters
    assert {e.subject_id for e in LineageEntry.objects.filter(batch=batch)} == set(
        Subject.objects.values_list("id", flat=True))


def test_it_writes_a_quality_report(data_admin, source, dirty_file, django_capture_on_commit_callbacks) -> None:
    batch = ingest(source, data_admin, dirty_file, django_capture_on_commit_callbacks)
    quality = batch.quality
    assert quality["rows"] == 6
    assert set(quality["overall"]) == {"completeness", "validity", "uniqueness", "consistency", "timeliness"}
    assert quality["overall"]["validity"] == round(4 / 6, 4)
    assert quality["fields"]["uscc"]["completeness"] == 1.0
    assert quality["fields"]["uscc"]["uniqueness"] == round(5 / 6, 4)
    assert quality["fields"]["phone"]["completeness"] == round(3 / 6, 4)
    assert quality["problems"]["uscc.length"] == 1


def test_ingesting_the_same_file_again_changes_nothing(data_admin, source, dirty_file,
                                                       django_capture_on_commit_callbacks) -> None:
    first = ingest(source, data_admin, dirty_file, django_capture_on_commit_callbacks)
    snapshot = list(Subject.objects.order_by("id").values())
    lineage = LineageEntry.objects.count()
    quarantined = QuarantinedRow.objects.count()
    again = ingest(source, data_admin, dirty_file, django_capture_on_commit_callbacks)
    assert again.status == "skipped" and again.duplicate_of == first
    forced = ingest(source, data_admin, dirty_file, django_capture_on_commit_callbacks, force=True)
    assert forced.status == "loaded"
    assert forced.created_count == 0 and forced.updated_count == 0 and forced.unchanged_count == 3
    assert list(Subject.objects.order_by("id").values()) == snapshot
    assert LineageEntry.objects.count() == lineage
    assert QuarantinedRow.objects.count() == quarantined


def test_a_crash_mid_batch_leaves_no_partial_load(data_admin, source, dirty_file, monkeypatch,
                                                  django_capture_on_commit_callbacks) -> None:
    from jianguan.datacenter.pipeline import loader

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(loader, "_write_links", explode)
    batch = ingest(source, data_admin, dirty_file, django_capture_on_commit_callbacks)
    assert batch.status == "failed"
    assert "disk full" in batch.message
    assert Subject.objects.count() == 0
    assert LineageEntry.objects.count() == 0
    assert QuarantinedRow.objects.count() == 0
    assert AuditEntry.objects.filter(event="datacenter.batch.failed").count() == 1
    assert Batch.objects.get(pk=batch.pk).job.status == "failed"


def test_a_value_on_two_lines_inside_quotes_is_one_value(data_admin, source, tmp_path,
                                                         django_capture_on_commit_callbacks) -> None:
    """A quoted value may hold a line break (an address typed on two lines, RFC 4180): the file is read record by
    record, the break is cleaned like other white space (none is kept between Chinese characters), and the rows
    after it keep their numbers as records."""
    path = write_csv(tmp_path / "two-lines.csv", HEADER, [
        [uscc("320106", 21), "南京两行地址有限公司", "钱七", "江苏省南京市鼓楼区\n中山路21号", "320106", "", "", "", "",
         ""],
        ["ＸＸ", "坏代码公司", "李四", "南京市玄武区北京东路1号", "", "", "", "", "", ""],
        [uscc("320106", 22), "南京后续有限公司", "孙八", "南京市鼓楼区中山路22号", "320106", "", "", "", "", ""],
    ])
    batch = ingest(source, data_admin, path, django_capture_on_commit_callbacks)
    assert batch.status == "loaded", batch.message
    assert batch.created_count == 2
    assert Subject.objects.get(uscc=uscc("320106", 21)).address == "江苏省南京市鼓楼区中山路21号"  # no space in Chinese
    assert list(QuarantinedRow.objects.filter(batch=batch).values_list("row_no", flat=True)) == [3]


def test_a_large_load_refreshes_the_master_tables_statistics(data_admin, source, dirty_file, monkeypatch,
                                                            django_capture_on_commit_callbacks) -> None:
    """PostgreSQL: a load that changed a large share of the master records (here: any, the threshold lowered)
    ANALYZEs the table once it commits, so the planner does not plan for the table as it was before."""
    from django.db import connection

    from jianguan.core import bulkload

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    monkeypatch.setattr(bulkload, "ANALYZE_MIN_ROWS", 1)
    monkeypatch.setattr(bulkload, "ANALYZE_SHARE", 0.0)
    analysed: list[str] = []
    real = bulkload._analyze
    monkeypatch.setattr(bulkload, "_analyze", lambda table: (analysed.append(table), real(table)))
    batch = ingest(source, data_admin, dirty_file, django_capture_on_commit_callbacks)
    assert batch.status == "loaded", batch.message
    assert "core_subject" in analysed
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'core_subject'::regclass")
        assert cursor.fetchone()[0] == Subject.objects.count() == 3
