"""Fields whose values repeat are cleaned and standardised once per distinct value (``dv_<f>``), other fields row by
row behind a test over the whole row: both ways must clean a value alike."""

from __future__ import annotations

from jianguan.datacenter.pipeline.entity_sql import VALUE_FIELDS
from jianguan.datacenter.tests.conftest import uscc
from jianguan.datacenter.tests.pipeline_cases import run_pipeline, write_delivery

DIRTY = ["ＡＢ  Ｃ", "  存续 ", "NULL", "n/a", "\u3000在业\u200b", "吊销，未注销", "—", "a\u00a0 b", "正常"]


def test_a_value_is_cleaned_alike_in_a_value_table_and_in_a_row(tmp_path) -> None:
    # the same dirty text as the status (a value field) and as the legal representative (cleaned row by row)
    rows = [[uscc("320102", 100 + i), f"南京测试{i}有限公司", text, "南京市玄武区中山路1号", "320102", "", "", "", text,
             "", ""] for i, text in enumerate(DIRTY)]
    delivery = write_delivery(tmp_path / "delivery.csv", rows)
    seen: dict[str, list] = {}

    def look(engine) -> None:
        seen["rows"] = engine.fetch_rows(
            "SELECT r_status, c_status, k_status, c_legal_representative, k_legal_representative FROM dc_clean "
            "WHERE row_no >= 12 ORDER BY row_no")
        seen["statuses"] = engine.fetch_rows("SELECT r_status FROM dv_status")
        seen["tables"] = [f for f in VALUE_FIELDS if engine.count(f"dv_{f}") > 0]

    run_pipeline("duckdb", delivery, tmp_path / "work", after=look)
    assert [r["r_status"] for r in seen["rows"]] == DIRTY
    for row in seen["rows"]:
        assert (row["c_status"], row["k_status"]) == (row["c_legal_representative"], row["k_legal_representative"])
    assert [r["c_status"] for r in seen["rows"]] == ["AB C", "存续", None, None, "在业", "吊销,未注销", None, "a b",
                                                     "正常"]
    # one row per distinct value as delivered, the missing value (NULL) included
    delivered = {r["r_status"] for r in seen["statuses"]}
    assert set(DIRTY) | {"存续", "在业", "吊销，未注销", None} == delivered
    assert len(seen["statuses"]) == len(delivered)
    assert seen["tables"] == list(VALUE_FIELDS)
