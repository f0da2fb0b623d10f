"""New entities of a single row skip the merge and the comparison (``dc_simple``): the outcome must be exactly what
the general path gives them — the same master records, lineage, counts, quality, links and conflicts."""

from __future__ import annotations

import pytest

from jianguan.datacenter.pipeline import entity_plan
from jianguan.datacenter.tests.conftest import uscc
from jianguan.datacenter.tests.pipeline_cases import normalise, run_pipeline, table_rows, write_delivery

EXTRA_ROWS = [
    # new entities of one row: every field, full-width and spaced values, a landline, null markers, few fields
    [uscc("320102", 11), "南京 恒达 建材有限公司", "周九", "南京市玄武区中山路１００号", "320102", "F5165", "500万元",
     "2015年6月1日", "存续", "025-8452 0001", "2026-11-20"],
    [uscc("320205", 12), "无锡锡山区  小王理发店", "王小", "锡山区东亭街道1号", "无锡市锡山区", "O8010", "3",
     "20190704", "在业", "+86 136 0000 0012", "2026-10-01"],
    [uscc("320305", 13), "徐州贾汪区示例合作社", "", "", "", "", "N/A", "", "", "NULL", ""],
    [uscc("320106", 14), "南京示例有限公司", "吴十", "南京市鼓楼区湖南路2号", "320106", "", "1亿元", "2001-02-03",
     "注销", "13912345678", ""],
    # a code two identical rows carry (a duplicate, as the two 华信 rows above), and a code a row without one is
    # linked to
    [uscc("320104", 15), "南京秦淮同名有限公司", "郑一", "南京市秦淮区中华路1号", "320104", "", "", "", "", "", ""],
    [uscc("320104", 15), "南京秦淮同名有限公司", "郑一", "南京市秦淮区中华路1号", "320104", "", "", "", "", "", ""],
    [uscc("320111", 16), "南京恒通物流有限公司", "孙八", "南京市浦口区江浦街道1号", "320111", "G5430", "200万元",
     "2016-01-01", "存续", "13611112222", ""],
    ["", "南京恒通物流有限公司", "孙八", "南京市浦口区江浦街道1号", "320111", "", "", "", "", "13611112222", ""],
]

#: the rows (file row numbers: header = row 1) that are alone a new entity
SIMPLE_ROWS = {7, 12, 13, 14, 15}


def _every_code_busy(original):
    def busy() -> str:
        return f"{original()} UNION SELECT s_uscc AS uscc FROM dc_key_counts"  # noqa: S608 - fixed SQL
    return busy


@pytest.fixture
def delivery(tmp_path):
    return write_delivery(tmp_path / "delivery.csv", EXTRA_ROWS)


def _simple_rows(engine) -> set[int]:
    return {int(r["row_no"]) for r in engine.fetch_rows("SELECT row_no FROM dc_simple")}


def test_new_entities_of_one_row_come_out_as_the_general_path_makes_them(delivery, tmp_path, monkeypatch) -> None:
    taken: dict[str, set[int]] = {}
    fast = run_pipeline("duckdb", delivery, tmp_path / "fast", after=lambda e: taken.update(fast=_simple_rows(e)))
    monkeypatch.setattr(entity_plan, "busy_codes_sql", _every_code_busy(entity_plan.busy_codes_sql))
    general = run_pipeline("duckdb", delivery, tmp_path / "general",
                           after=lambda e: taken.update(general=_simple_rows(e)))

    assert taken == {"fast": SIMPLE_ROWS, "general": set()}
    assert fast.counts == general.counts
    assert fast.counts["duplicates"] == 2 and fast.counts["created"] >= len(SIMPLE_ROWS)
    assert normalise(fast.inserts.to_pylist()) == normalise(general.inserts.to_pylist())  # same order too
    assert table_rows(fast.updates, ["id"]) == table_rows(general.updates, ["id"])
    assert table_rows(fast.lineage, ["row_no", "target_key"]) == table_rows(general.lineage, ["row_no", "target_key"])
    assert table_rows(fast.conflicts, ["row_no", "field", "kind"]) == table_rows(general.conflicts,
                                                                                 ["row_no", "field", "kind"])
    assert fast.adoptions.to_pylist() == general.adoptions.to_pylist()
    assert fast.quarantine == general.quarantine
    assert normalise(fast.links) == normalise(general.links)
    assert fast.quality == general.quality
    # what the fast path made of a row with few fields: the defaults, and a lineage entry per field it set
    sparse = next(r for r in fast.inserts.to_pylist() if r["uscc"] == uscc("320305", 13))
    assert (sparse["legal_representative"], sparse["address"], sparse["status"], sparse["phone_index"]) == \
        ("", "", "active", "")
    assert sparse["region"] == "320305"
