"""Entity resolution of a file of records: ``jianguan datacenter resolve INPUT.csv --output OUT.csv``.

Reads ``record_id,name,uscc,legal_rep,address,phone,region_code`` (any of the last six may be empty), writes
``record_id,cluster_id`` (the cluster id is the smallest record id of the entity) and, given the truth column,
measures pairwise precision, recall and F1, together with the baseline of linking on the exact normalised name or
the credit code alone.
"""

# ruff: noqa: S608 - this module builds SQL for the pipeline engines: values go through the dialect's literal
# helper, column names from delivered files through its identifier quoting; table names are fixed in code.

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path

from jianguan.datacenter.linkage import model as lm
from jianguan.datacenter.linkage.cluster import _UnionFind, cluster, cluster_ids, pairwise_scores
from jianguan.datacenter.linkage.features import features_sql
from jianguan.datacenter.pipeline.engines import Engine
from jianguan.datacenter.pipeline.extract import ExtractError, load_source_table, prepare
from jianguan.datacenter.pipeline.reference import ReferenceData

INPUT_COLUMNS = ("record_id", "name", "uscc", "legal_rep", "address", "phone", "region_code")


@dataclass
class ResolveResult:
    record_ids: list[str]
    cluster_ids: list[str]
    truth: list[str] | None
    model: lm.TrainedModel
    links: int
    timings: dict[str, float] = field(default_factory=dict)
    scores: dict[str, float] | None = None
    baseline: dict[str, float] | None = None


def resolve_records(engine: Engine, ref: ReferenceData, input_table: str, *,
                    threshold: float = lm.DEFAULT_THRESHOLD, truth_column: str | None = None) -> ResolveResult:
    """Resolve ``input_table(unique_id, name, uscc, legal_rep, address, phone, region_code[, truth])``."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    for name, table in ref.tables().items():
        engine.register_arrow(name, table)
    engine.create_table("lk_features", features_sql(engine.dialect, ref, input_table))
    timings["features"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    trained = lm.linkage_model(engine, "lk_features", threshold=threshold)
    timings["train"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    edges = lm.predict(engine, "lk_features", trained)
    timings["predict"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    truth_select = ", t.truth AS truth" if truth_column else ""
    base = engine.fetch_arrow(
        f"SELECT f.unique_id, f.anchor, f.f_name_full{truth_select} FROM lk_features f "
        + (f"JOIN {input_table} t ON t.unique_id = f.unique_id " if truth_column else "")
        + "ORDER BY f.unique_id"
    )
    ids = base.column("unique_id").to_pylist()
    anchors = base.column("anchor").to_pylist()
    edge_list = zip(
        edges.column("unique_id_l").to_pylist(),
        edges.column("unique_id_r").to_pylist(),
        edges.column("match_weight").to_pylist(),
        edges.column("match_probability").to_pylist(),
        strict=True,
    )
    keys, _assignment = cluster(ids, anchors, edge_list)
    clusters = cluster_ids(ids, keys)
    timings["cluster"] = time.perf_counter() - t0
    result = ResolveResult(ids, [clusters[i] for i in ids], None, trained, edges.num_rows, timings)
    if truth_column:
        truth = [str(t) if t is not None else f"__none_{i}" for i, t in zip(ids, base.column("truth").to_pylist(),
                                                                            strict=True)]
        result.truth = truth
        result.scores = pairwise_scores(result.cluster_ids, truth)
        names = base.column("f_name_full").to_pylist()
        result.baseline = pairwise_scores(baseline_clusters(ids, anchors, names), truth)
    return result


def baseline_clusters(ids: list[str], anchors: list[str | None], names: list[str | None]) -> list[str]:
    """Link records with the same valid credit code or the same normalised name, nothing else."""
    uf = _UnionFind()
    first: dict[str, str] = {}
    for i, anchor, name in zip(ids, anchors, names, strict=True):
        for key in (f"A:{anchor}" if anchor else None, f"N:{name}" if name else None):
            if key is None:
                continue
            if key in first:
                uf.union(first[key], i)
            else:
                first[key] = i
    return [uf.find(i) for i in ids]


def load_input(engine: Engine, path: Path, work_dir: Path, truth_column: str | None) -> str:
    """Read the input CSV into ``lk_input``; checks the required columns."""
    prepared = prepare(path, "csv", work_dir)
    headers = load_source_table(engine, prepared, "lk_src")
    missing = [c for c in INPUT_COLUMNS if c not in headers]
    if truth_column and truth_column not in headers:
        missing.append(truth_column)
    if missing:
        raise ExtractError("输入文件缺少列：" + ", ".join(missing))
    q = engine.dialect.ident
    cols = ["record_id AS unique_id", *(f"{q(c)} AS {c}" for c in INPUT_COLUMNS[1:])]
    if truth_column:
        cols.append(f"{q(truth_column)} AS truth")
    engine.create_table("lk_input", f"SELECT {', '.join(cols)} FROM lk_src WHERE record_id IS NOT NULL")
    duplicates = engine.fetch_rows("SELECT count(*) - count(DISTINCT unique_id) AS d FROM lk_input")[0]["d"]
    if duplicates:
        raise ExtractError(f"record_id 有 {duplicates} 个重复值，应唯一。")
    return "lk_input"


def write_output(path: Path, result: ResolveResult) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["record_id", "cluster_id"])
        writer.writerows(zip(result.record_ids, result.cluster_ids, strict=True))


def _model_line(model: lm.TrainedModel) -> str:
    stats = model.stats
    if stats.get("shipped"):
        return (f"model: shipped default ({stats.get('trained_on', '')}; too few credit-code pairs in the input "
                f"to train), threshold p>={model.threshold}")
    return (f"model: trained on the input — lambda={stats['lambda']:.3g}, label pairs {stats['label_pairs']:,}, "
            f"random pairs {stats['random_pairs']:,}, threshold p>={model.threshold}")


def summary_lines(result: ResolveResult) -> list[str]:
    n_clusters = len(set(result.cluster_ids))
    lines = [
        f"records: {len(result.record_ids):,}  entities: {n_clusters:,}  probabilistic links kept: {result.links:,}",
        "timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items()),
        _model_line(result.model),
    ]
    if result.scores is not None and result.baseline is not None:
        s, b = result.scores, result.baseline
        lines.append(f"pairwise precision {s['precision']:.4f}  recall {s['recall']:.4f}  F1 {s['f1']:.4f}  "
                     f"(true pairs {s['true_pairs']:,}, predicted {s['predicted_pairs']:,})")
        lines.append(f"baseline (exact normalised name or credit code): precision {b['precision']:.4f}  "
                     f"recall {b['recall']:.4f}  F1 {b['f1']:.4f}")
    return lines


def resolve_file(input_path: Path, output_path: Path, *, engine: Engine, ref: ReferenceData, work_dir: Path,
                 truth_column: str | None = None, threshold: float = lm.DEFAULT_THRESHOLD) -> ResolveResult:
    t0 = time.perf_counter()
    table = load_input(engine, input_path, work_dir, truth_column)
    read = time.perf_counter() - t0
    result = resolve_records(engine, ref, table, threshold=threshold, truth_column=truth_column)
    result.timings = {"read": read, **result.timings}
    t0 = time.perf_counter()
    write_output(output_path, result)
    result.timings["write"] = time.perf_counter() - t0
    return result
