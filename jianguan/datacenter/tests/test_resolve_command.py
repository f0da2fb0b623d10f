"""``jianguan datacenter resolve``: entity resolution of a labelled file, with pairwise precision/recall/F1."""

from __future__ import annotations

import csv
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from jianguan.datacenter.linkage.cluster import cluster, pairwise_scores
from jianguan.datacenter.linkage.synthetic import write_labelled_csv


def test_it_clusters_a_labelled_file_and_scores_it(tmp_path, db) -> None:
    source = tmp_path / "records.csv"
    write_labelled_csv(source, 3000, seed=3)
    out = tmp_path / "clusters.csv"
    stdout = StringIO()
    call_command("datacenter", "resolve", str(source), "--output", str(out), "--truth", "entity_id", stdout=stdout)
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3000
    assert set(rows[0]) == {"record_id", "cluster_id"}
    with source.open(encoding="utf-8") as fh:
        truth = {r["record_id"]: r["entity_id"] for r in csv.DictReader(fh)}
    scores = pairwise_scores([r["cluster_id"] for r in rows], [truth[r["record_id"]] for r in rows])
    assert scores["f1"] > 0.97
    printed = stdout.getvalue()
    assert "pairwise precision" in printed and "baseline" in printed
    assert f"F1 {scores['f1']:.4f}" in printed


def test_it_accepts_records_with_only_some_fields(tmp_path, db) -> None:
    source = tmp_path / "few.csv"
    source.write_text(
        "record_id,name,uscc,legal_rep,address,phone,region_code\n"
        "a,南京鑫盛科技有限公司,,,,13800000001,\n"
        "b,鑫盛科技有限责任公司,,,,13800000001,\n"
        "c,苏州华信贸易有限公司,,,,,320500\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    call_command("datacenter", "resolve", str(source), "--output", str(out), stdout=StringIO())
    clusters = dict(row.split(",") for row in out.read_text(encoding="utf-8").split()[1:])
    assert clusters["a"] == clusters["b"] == "a"
    assert clusters["c"] == "c"


def test_it_refuses_a_file_without_the_required_columns(tmp_path, db) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("id,name\n1,x\n", encoding="utf-8")
    with pytest.raises(CommandError, match="record_id"):
        call_command("datacenter", "resolve", str(source), "--output", str(tmp_path / "o.csv"), stdout=StringIO())


def test_valid_credit_codes_are_never_merged_and_anchor_the_others() -> None:
    ids = ["a", "b", "c", "d", "e"]
    anchors = ["X", "Y", None, None, None]
    edges = [("a", "c", 10.0, 0.99), ("b", "c", 12.0, 0.99), ("a", "b", 30.0, 1.0), ("d", "e", 5.0, 0.95)]
    keys, why = cluster(ids, anchors, edges)
    assert keys["a"] != keys["b"]
    assert keys["c"] == keys["b"] and why["c"].partner == "b"
    assert keys["d"] == keys["e"] and keys["d"].startswith("N:")


def test_pairwise_scores_count_pairs() -> None:
    scores = pairwise_scores(["1", "1", "1", "2"], ["x", "x", "y", "y"])
    assert scores["true_pairs"] == 2 and scores["predicted_pairs"] == 3 and scores["true_positive_pairs"] == 1
    assert scores["precision"] == pytest.approx(1 / 3) and scores["recall"] == pytest.approx(1 / 2)
