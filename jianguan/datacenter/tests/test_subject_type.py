"""The subject type: as the delivery gives it, else from the credit code, else (only then) from the name."""

from __future__ import annotations

from jianguan.datacenter.pipeline.fields import STEP_BITS
from jianguan.datacenter.tests.conftest import uscc, write_csv
from jianguan.datacenter.tests.pipeline_cases import run_pipeline

HEADER = ["统一社会信用代码", "企业名称", "主体类型", "住所", "行政区划"]
ROWS = [
    ["", "南京示例科技有限公司", "", "南京市玄武区中山路1号", "320102"],  # the name: enterprise
    ["", "玄武区老王面馆", "", "南京市玄武区中山路2号", "320102"],  # the name: individual
    ["", "南京市示例行业协会", "", "南京市玄武区中山路3号", "320102"],  # the name: other
    ["", "玄武区示例农机专业合作社", "", "南京市玄武区中山路4号", "320102"],  # the name: cooperative
    [uscc("320102", 5), "玄武区小李面馆", "", "南京市玄武区中山路5号", "320102"],  # the code (91): enterprise
    ["", "南京某某有限公司", "个体工商户", "南京市玄武区中山路6号", "320102"],  # as given: individual
    [uscc("320102", 7, "92"), "南京某某有限公司", "", "南京市玄武区中山路7号", "320102"],  # the code (92)
]


def test_the_name_decides_the_type_only_when_neither_the_delivery_nor_the_code_does(tmp_path) -> None:
    delivery = write_csv(tmp_path / "types.csv", HEADER, ROWS)
    seen: list[dict] = []
    run_pipeline("duckdb", delivery, tmp_path / "work", after=lambda e: seen.extend(e.fetch_rows(
        "SELECT s_subject_type, t_subject_type FROM dc_checked ORDER BY row_no")))
    assert [r["s_subject_type"] for r in seen] == ["enterprise", "individual", "other", "cooperative", "enterprise",
                                                   "individual", "individual"]
    decided_by = [next(code for code in ("type_map", "type_uscc", "type_name") if r["t_subject_type"] & STEP_BITS[code])
                  for r in seen]
    assert decided_by == ["type_name"] * 4 + ["type_uscc", "type_map", "type_uscc"]
