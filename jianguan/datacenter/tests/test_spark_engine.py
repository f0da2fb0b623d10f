"""The same small delivery through the DuckDB and the Spark engine (local mode) gives identical results."""

from __future__ import annotations

import pytest

from jianguan.datacenter.linkage.features import phone_key
from jianguan.datacenter.tests.conftest import uscc
from jianguan.datacenter.tests.pipeline_cases import PEPPER, normalise, run_pipeline, table_rows, write_delivery

pytestmark = pytest.mark.slow


@pytest.fixture
def delivery(tmp_path):
    return write_delivery(tmp_path / "delivery.csv")


def test_duckdb_and_spark_give_identical_results(delivery, tmp_path) -> None:
    duck = run_pipeline("duckdb", delivery, tmp_path / "duck")
    spark = run_pipeline("spark", delivery, tmp_path / "spark")
    assert duck.counts == spark.counts
    assert duck.counts["quarantined"] == 3 and duck.counts["linked"] == 4
    assert [q["codes"] for q in duck.quarantine if q["row_no"] == 4] == [["region.unresolved"]]
    assert duck.rows_total == spark.rows_total == 10
    assert table_rows(duck.inserts.drop(["target_key"]), ["rep_row"]) == \
        table_rows(spark.inserts.drop(["target_key"]), ["rep_row"])
    assert table_rows(duck.updates, ["id"]) == table_rows(spark.updates, ["id"])
    assert duck.updates.num_rows == 3  # 501 gains the key of its phone
    assert duck.adoptions.to_pylist() == spark.adoptions.to_pylist() == [{"id": 503, "uscc": uscc("320106", 2)}]
    # phones reach the master records only as their keyed hash, the same on both engines
    created = {r["name"]: r["phone_index"] for r in duck.inserts.to_pylist()}
    assert [v for name, v in created.items() if "新远" in name] == [phone_key("13700000003", PEPPER)]
    assert {r["id"]: r["phone_index"] for r in duck.updates.to_pylist()}[503] == phone_key("13800000001", PEPPER)
    phone_link = next(link for link in duck.links if link["existing_id"] == 502)
    assert any(d["field"] == "phone" and d["weight"] > 0 for d in phone_link["deciding"])
    assert table_rows(duck.lineage, ["row_no", "target_key"]) == table_rows(spark.lineage, ["row_no", "target_key"])
    assert table_rows(duck.conflicts, ["row_no", "field", "kind"]) == table_rows(spark.conflicts,
                                                                                 ["row_no", "field", "kind"])
    assert duck.conflicts.num_rows >= 1
    assert duck.quarantine == spark.quarantine
    assert normalise(duck.links) == normalise(spark.links)
    assert duck.quality == spark.quality


def test_a_batch_runs_on_spark_when_configured(data_admin, source, delivery, monkeypatch,
                                               django_capture_on_commit_callbacks) -> None:
    from jianguan.core.models import Subject
    from jianguan.datacenter.tests.conftest import ingest, raw_copy_codecs

    monkeypatch.setenv("JIANGUAN_PIPELINE_ENGINE", "spark")
    batch = ingest(source, data_admin, delivery, django_capture_on_commit_callbacks)
    assert batch.status == "loaded", batch.message
    assert batch.engine == "spark"
    assert batch.rows_quarantined == 3
    assert Subject.objects.get(uscc=uscc("320106", 2)).status == "revoked"
    # the store holds the delivery and Spark's raw copy (a directory of parts, joined) sealed, and no work files
    from jianguan.datacenter import conf, store

    assert sorted(p.name for p in conf.batch_dir(batch.pk).iterdir()) == ["input.csv.sealed", "raw.parquet.sealed"]
    assert b"13900000008" not in (conf.batch_dir(batch.pk) / "raw.parquet.sealed").read_bytes()
    assert store.read_raw_table(batch.pk).num_rows == 10
    assert raw_copy_codecs(batch.pk) == {"ZSTD"}
