"""A small delivery with every kind of entity the pipeline tells apart, and the master records it meets: rows with
a code the master holds, a code two rows carry, rows without a code linked to an existing record and to each other,
a code that a record without one takes, new entities of one row, quarantined rows. Shared by the tests that run one
delivery two ways and compare (DuckDB against Spark; the fast path for new entities against the general one)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from jianguan.datacenter.linkage.features import phone_key
from jianguan.datacenter.pipeline import runner
from jianguan.datacenter.pipeline.engines import make_engine
from jianguan.datacenter.pipeline.extract import prepare
from jianguan.datacenter.pipeline.reference import reference_from_files
from jianguan.datacenter.tests.conftest import uscc, write_csv

HEADER = ["统一社会信用代码", "企业名称", "法定代表人", "住所", "行政区划", "行业代码", "注册资本", "成立日期",
          "登记状态", "联系电话", "更新时间"]


class FakeMasterData:
    """Three existing master records (two without a code, one of which the batch's 华信 rows match) and who
    supplied their names."""

    def existing(self, usccs, ids):
        rows = [
            {"ekey": f"U:{uscc('320106', 1)}", "id": 501, "uscc": uscc("320106", 1), "name": "南京鑫盛科技有限公司",
             "subject_type": "enterprise", "legal_representative": "张三", "address": "江苏省南京市鼓楼区中山路1号",
             "region": "320106", "industry": None, "registered_capital": "50.0000", "established_on": "2019-03-05",
             "status": "active"},
            {"ekey": "S:502", "id": 502, "uscc": None, "name": "鼓楼区老王面馆", "subject_type": "individual",
             "legal_representative": "王强", "address": "江苏省南京市鼓楼区汉中路8号", "region": "320106",
             "industry": None, "registered_capital": None, "established_on": None, "status": "active"},
            {"ekey": "S:503", "id": 503, "uscc": None, "name": "华信贸易有限公司", "subject_type": "enterprise",
             "legal_representative": "王五", "address": "江苏省南京市鼓楼区汉中路2号", "region": "320106",
             "industry": None, "registered_capital": None, "established_on": None, "status": "active"},
        ]
        wanted = [r for r in rows if (r["uscc"] in usccs) or (r["id"] in ids)]
        return pa.Table.from_pylist(wanted, schema=runner.EXISTING_SCHEMA) if wanted \
            else runner.EXISTING_SCHEMA.empty_table()

    def known_codes(self, usccs):
        return set(self.existing(list(usccs), []).column("uscc").to_pylist())

    def link_candidates(self, cities):
        rows = [{"id": 502, "uscc": None, "name": "鼓楼区老王面馆", "legal_representative": "王强",
                 "address": "江苏省南京市鼓楼区汉中路8号", "region": "320106",
                 "phone_index": phone_key("139 0000 0008", PEPPER)}]
        return pa.Table.from_pylist(rows, schema=runner.CANDIDATE_SCHEMA)

    def codeless(self, cities):
        rows = [{"id": 502, "uscc": None, "name": "鼓楼区老王面馆", "legal_representative": "王强",
                 "address": "江苏省南京市鼓楼区汉中路8号", "region": "320106"},
                {"id": 503, "uscc": None, "name": "华信贸易有限公司", "legal_representative": "王五",
                 "address": "江苏省南京市鼓楼区汉中路2号", "region": "320106"}]
        return pa.Table.from_pylist(rows, schema=runner.CANDIDATE_SCHEMA)

    def earlier_rows(self, fingerprints):
        return runner.EARLIER_SCHEMA.empty_table()

    def provenance(self, ids):
        rows = [{"subject_id": 501, "field": "name", "source_id": 9, "priority": 50}]
        return pa.Table.from_pylist([r for r in rows if r["subject_id"] in ids], schema=runner.PROVENANCE_SCHEMA)


def write_delivery(path: Path, extra_rows: list[list[str]] | None = None) -> Path:
    rows = [
        [uscc("320106", 1), "南京鑫盛信息科技有限公司", "张三", "南京市鼓楼区中山路1号", "320106", "I6510", "100万元",
         "2019/3/5", "存续", "025 8320 1234", "2026-11-01"],
        ["", "鼓楼区老王面馆", "王强", "鼓楼区汉中路8号", "320106", "", "", "", "在业", "13900000008", "2026-11-02"],
        ["", "鼓楼区小李便利店", "李明", "鼓楼区汉中路9号", "", "", "", "", "", "", ""],
        ["ＸＸ", "坏代码公司", "李四", "南京市玄武区北京东路1号", "", "", "", "", "", "", ""],
        [uscc("320106", 2).lower(), "南京华信贸易有限公司", "王五", "鼓楼区汉中路2号", "", "F51", "1,000,000元",
         "20180101", "吊销，未注销", "+86 138-0000-0001", "2025-01-01"],
        [uscc("320583", 3, "92"), "昆山市玉山镇老张面馆", "张伟", "昆山市玉山镇1号", "苏州市", "", "NULL", "—",
         "在业", "", ""],
        [uscc("320106", 2), "南京华信贸易有限公司", "王五", "江苏省南京市鼓楼区汉中路2号", "320106", "F51",
         "100万元", "2018-01-01", "吊销，未注销", "13800000001", "2025-01-01"],
        ["", "南京新远餐饮管理有限公司", "赵六", "南京市玄武区北京东路9号", "", "H6210", "10", "2020年1月2日", "存续",
         "13700000003", ""],
        ["", "新远餐饮管理有限责任公司", "赵六", "玄武区北京东路9号", "", "", "", "", "", "13700000003", ""],
        [uscc("320106", 4), "未来公司", "钱七", "南京市鼓楼区1号", "", "", "100美元", "2030-01-01", "", "", ""],
    ]
    return write_csv(path, HEADER, rows + (extra_rows or []))


def normalise(value):
    if isinstance(value, float):
        return round(value, 6) if not math.isnan(value) else None
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    return value


def table_rows(table: pa.Table, key: list[str]) -> list[dict]:
    rows = [normalise(r) for r in table.to_pylist()]
    return sorted(rows, key=lambda r: tuple(str(r[k]) for k in key))


PEPPER = "test-pepper"


def run_pipeline(engine_name: str, path: Path, work: Path,
                 after: Callable[[Any], None] | None = None) -> runner.PipelineResult:
    """Run the delivery at ``path`` through the entity pipeline on ``engine_name``; ``after(engine)`` is called
    before the engine closes (to look at its tables)."""
    spec = runner.BatchSpec(batch_id=1, source_id=7, priority=50, scope_prefix="32", today="2026-11-28",
                            fresh_from="2026-10-29", batch_steps=("extract",), phone_pepper=PEPPER,
                            fingerprint_keys=("test-fingerprint-key",))
    with make_engine(engine_name) as engine:
        result = runner.run_entities(engine, prepare(path, "csv", work), spec, reference_from_files(),
                                     FakeMasterData())
        if after is not None:
            after(engine)
        return result
