"""The probabilistic matching model (Splink) and its training without labels or network.

Comparisons use only functions both engines have built in (exact match, ``levenshtein``, ``instr``, ``substr``), so
Splink's DuckDB and Spark backends score a pair identically and the Spark backend needs no extra JAR.

Training is deterministic and engine-independent:

* **m** (how often true matches agree) from pairs of records that share a valid credit code — those are certainly the
  same entity. The credit-code comparison itself is excluded (its m is fixed), since those pairs are defined by it.
* **u** (how often different entities agree by chance) from a fixed pseudo-random sample of record pairs (record
  ``i`` against record ``(i·7919 + k·104729) mod n`` in ``unique_id`` order; all pairs when the input is small).
* **λ** (probability that two random records match) from the number of credit-code pairs, scaled by the share of
  records that carry a valid code.

Level counts are smoothed (add one), so a level never seen in a sample gets a finite weight.
"""

# ruff: noqa: S608 - this module builds SQL for the pipeline engines: values go through the dialect's literal
# helper, column names from delivered files through its identifier quoting; table names are fixed in code.

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import Linker, SettingsCreator
from splink.blocking_rule_library import CustomRule

#: Pairs scoring at least this probability are kept as links (chosen on generated data with seed 7, evaluated on
#: other seeds; see docs/modules/datacenter.md).
DEFAULT_THRESHOLD = 0.9
MAX_LABEL_PAIRS = 300_000
MAX_RANDOM_PAIRS = 1_000_000
USCC_M = (0.95, 0.05)  # m of "codes within 2 edits" and "codes further apart" for true matches

COMPARISON_FIELDS = {
    "name": "名称",
    "address": "住所",
    "legal_rep": "法定代表人",
    "phone": "联系电话",
    "region": "行政区划",
    "uscc": "统一社会信用代码",
}

_ONE_UNANCHORED = "(l.anchor IS NULL OR r.anchor IS NULL)"
BLOCKING_RULES = (
    f"l.f_name = r.f_name AND {_ONE_UNANCHORED}",
    f"l.f_phone = r.f_phone AND {_ONE_UNANCHORED}",
    f"l.f_legal_rep = r.f_legal_rep AND l.f_city = r.f_city AND {_ONE_UNANCHORED}",
    f"l.f_address = r.f_address AND l.f_city = r.f_city AND {_ONE_UNANCHORED}",
    f"substr(l.f_uscc, 9, 9) = substr(r.f_uscc, 9, 9) AND {_ONE_UNANCHORED}",
    f"substr(l.f_uscc, 1, 13) = substr(r.f_uscc, 1, 13) AND {_ONE_UNANCHORED}",
    f"substr(l.f_name, 1, 2) = substr(r.f_name, 1, 2) AND l.f_city = r.f_city AND {_ONE_UNANCHORED}",
)


def _comparisons() -> list[Any]:
    def contains(col: str) -> str:
        return (
            f"(length({col}_l) >= 2 AND length({col}_r) >= 2 AND "
            f"(instr({col}_l, {col}_r) > 0 OR instr({col}_r, {col}_l) > 0))"
        )

    return [
        cl.CustomComparison(
            output_column_name="name",
            comparison_levels=[
                cll.NullLevel("f_name"),
                cll.ExactMatchLevel("f_name"),
                cll.LevenshteinLevel("f_name", 1),
                cll.CustomLevel(contains("f_name"), "one name contains the other"),
                cll.LevenshteinLevel("f_name", 2),
                cll.CustomLevel("substr(f_name_l, 1, 2) = substr(f_name_r, 1, 2)", "same first two characters"),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="address",
            comparison_levels=[
                cll.NullLevel("f_address"),
                cll.ExactMatchLevel("f_address"),
                cll.LevenshteinLevel("f_address", 2),
                cll.CustomLevel("f_road_l = f_road_r", "same road"),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="legal_rep",
            comparison_levels=[
                cll.NullLevel("f_legal_rep"),
                cll.ExactMatchLevel("f_legal_rep"),
                cll.LevenshteinLevel("f_legal_rep", 1),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="phone",
            comparison_levels=[cll.NullLevel("f_phone"), cll.ExactMatchLevel("f_phone"), cll.ElseLevel()],
        ),
        cl.CustomComparison(
            output_column_name="region",
            comparison_levels=[
                cll.NullLevel("f_region"),
                cll.ExactMatchLevel("f_region"),
                cll.CustomLevel("f_city_l = f_city_r", "same city"),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="uscc",
            comparison_levels=[
                cll.NullLevel("f_uscc"),
                cll.LevenshteinLevel("f_uscc", 2),
                cll.ElseLevel(),
            ],
        ),
    ]


def base_settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=_comparisons(),
        blocking_rules_to_generate_predictions=[CustomRule(rule) for rule in BLOCKING_RULES],
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
        additional_columns_to_retain=["anchor"],
    )


@dataclass
class TrainedModel:
    settings: dict[str, Any]
    threshold: float
    stats: dict[str, Any]


def _level_counts(engine: Any, linker: Linker, pairs_table: Any,
                  columns: list[str]) -> tuple[dict[str, dict[int, int]], int]:
    """Comparison-level counts over the given pairs (``gamma_<comparison>`` values)."""
    linker.table_management.register_blocked_pairs_for_predict(pairs_table)
    scored = linker.inference.predict(warning_mode="never")
    gammas = ", ".join(f"gamma_{c}" for c in columns)
    sql = f"SELECT {gammas}, count(*) AS n FROM {scored.physical_name} GROUP BY {gammas}"
    rows = engine.fetch_rows(sql)
    counts: dict[str, dict[int, int]] = {c: {} for c in columns}
    total = 0
    for row in rows:
        n = int(row["n"])
        total += n
        for c in columns:
            g = int(row[f"gamma_{c}"])
            counts[c][g] = counts[c].get(g, 0) + n
    scored.drop_table_from_database_and_remove_from_cache()
    return counts, total


def _smoothed(counts: dict[int, int], levels: list[int]) -> dict[int, float]:
    total = sum(counts.get(g, 0) for g in levels) + len(levels)
    return {g: (counts.get(g, 0) + 1) / total for g in levels}


def train(engine: Any, features_table: str, *, threshold: float = DEFAULT_THRESHOLD,
          max_label_pairs: int = MAX_LABEL_PAIRS, max_random_pairs: int = MAX_RANDOM_PAIRS) -> TrainedModel:
    """Estimate m, u and λ on ``features_table`` (registered in ``engine``); see the module docstring."""
    counts = engine.fetch_rows(
        f"SELECT count(*) AS n, count(anchor) AS anchored FROM {features_table}"
    )[0]
    n, anchored = int(counts["n"]), int(counts["anchored"])
    anchor_pairs = int(engine.fetch_rows(
        f"SELECT coalesce(sum(k * (k - 1) / 2), 0) AS p FROM (SELECT count(*) AS k FROM {features_table} "
        "WHERE anchor IS NOT NULL GROUP BY anchor) g"
    )[0]["p"])

    engine.create_table("__lk_ranked", f"SELECT unique_id, anchor, row_number() OVER (ORDER BY unique_id) - 1 AS i, "
                        f"row_number() OVER (PARTITION BY anchor ORDER BY unique_id) AS rn FROM {features_table}")
    engine.create_table("__lk_label_pairs", (
        "SELECT '0' AS match_key, a.unique_id AS join_key_l, b.unique_id AS join_key_r FROM __lk_ranked a "
        "JOIN __lk_ranked b ON a.anchor = b.anchor AND a.rn = 1 AND b.rn > 1 "
        f"WHERE a.anchor IS NOT NULL ORDER BY b.i LIMIT {int(max_label_pairs)}"
    ))
    if n * (n - 1) // 2 <= max_random_pairs:
        random_sql = (
            "SELECT '0' AS match_key, a.unique_id AS join_key_l, b.unique_id AS join_key_r FROM __lk_ranked a "
            "JOIN __lk_ranked b ON a.i < b.i"
        )
    else:
        rounds = max(1, math.ceil(max_random_pairs / n))
        parts = [
            f"SELECT '0' AS match_key, a.unique_id AS join_key_l, b.unique_id AS join_key_r FROM __lk_ranked a "
            f"JOIN __lk_ranked b ON b.i = (a.i * 7919 + {k + 1} * 104729) % {n} WHERE a.i <> b.i"
            for k in range(rounds)
        ]
        random_sql = " UNION ALL ".join(parts)
    engine.create_table("__lk_random_pairs", random_sql)

    settings = base_settings()
    db_api = engine.splink_api()
    linker = Linker(db_api.register(features_table), settings, log_level=None)
    model = linker.misc.save_model_to_json()
    columns = [c["output_column_name"] for c in model["comparisons"]]

    label_counts, label_total = _level_counts(engine, linker, db_api.register("__lk_label_pairs"), columns)
    random_counts, random_total = _level_counts(engine, linker, db_api.register("__lk_random_pairs"),
                                                 columns)

    for comparison in model["comparisons"]:
        name = comparison["output_column_name"]
        levels = comparison["comparison_levels"]
        non_null = [g for g in range(len(levels) - 1)]  # gamma values: -1 null, then len-2 … 0 top to bottom
        gamma_of = {}
        g = len(levels) - 2
        for level in levels:
            if level.get("is_null_level"):
                continue
            gamma_of[id(level)] = g
            g -= 1
        m = _smoothed(label_counts[name], non_null)
        u = _smoothed(random_counts[name], non_null)
        for level in levels:
            if level.get("is_null_level"):
                continue
            gamma = gamma_of[id(level)]
            level["u_probability"] = u[gamma]
            if name == "uscc":
                level["m_probability"] = USCC_M[0] if gamma == 1 else USCC_M[1]
            else:
                level["m_probability"] = m[gamma]
    share = anchored / n if n else 0.0
    expected_pairs = anchor_pairs / (share * share) if share > 0 else 0.0
    all_pairs = n * (n - 1) / 2 if n > 1 else 1.0
    lam = min(0.5, max(1e-9, expected_pairs / all_pairs)) if expected_pairs else 1e-6
    model["probability_two_random_records_match"] = lam
    # Forget the registered training pairs (the cache is per db_api).
    linker.table_management.invalidate_cache()  # type: ignore[no-untyped-call]
    for table in ("__lk_ranked", "__lk_label_pairs", "__lk_random_pairs"):
        engine.drop_table(table)
    return TrainedModel(
        settings=model,
        threshold=threshold,
        stats={
            "records": n, "anchored": anchored, "anchor_pairs": anchor_pairs, "label_pairs": label_total,
            "random_pairs": random_total, "lambda": lam,
        },
    )


def settings_for(model: TrainedModel, dialect: str) -> dict[str, Any]:
    """The model's settings rendered for a backend: comparisons are rebuilt from their definitions in that backend's
    SQL (a saved model holds one backend's SQL text) and the trained probabilities are copied in by position."""
    fresh = base_settings().create_settings_dict("spark" if dialect == "spark" else "duckdb")
    trained = {c["output_column_name"]: c["comparison_levels"] for c in model.settings["comparisons"]}
    for comparison in fresh["comparisons"]:
        levels = trained[comparison["output_column_name"]]
        for level, source in zip(comparison["comparison_levels"], levels, strict=True):
            for key in ("m_probability", "u_probability"):
                if key in source:
                    level[key] = source[key]
    fresh["probability_two_random_records_match"] = model.settings["probability_two_random_records_match"]
    return fresh


def rescaled(model: TrainedModel, records: int) -> TrainedModel:
    """The same model for an input of ``records`` records: λ is a per-pair prior, so it scales with 1/(n−1)."""
    trained_on = int(model.stats.get("records") or 0)
    if trained_on <= 1 or records <= 1:
        return model
    settings = copy.deepcopy(model.settings)
    lam = float(settings["probability_two_random_records_match"]) * (trained_on - 1) / (records - 1)
    settings["probability_two_random_records_match"] = min(0.5, max(1e-9, lam))
    return TrainedModel(settings=settings, threshold=model.threshold, stats={**model.stats, "rescaled_to": records})


def predict(engine: Any, features_table: str, model: TrainedModel) -> Any:
    """Scored pairs at or above the model's threshold, as an Arrow table (``unique_id_l``, ``unique_id_r``,
    ``match_weight``, ``match_probability``, ``gamma_*``, ``mw_*``)."""
    db_api = engine.splink_api()
    linker = Linker(db_api.register(features_table), settings_for(model, engine.name), log_level=None)
    scored = linker.inference.predict(threshold_match_probability=model.threshold, warning_mode="never")
    columns = ["unique_id_l", "unique_id_r", "match_weight", "match_probability"]
    for name in COMPARISON_FIELDS:
        columns += [f"gamma_{name}", f"mw_{name}"]
    table = engine.fetch_arrow(f"SELECT {', '.join(columns)} FROM {scored.physical_name}")
    scored.drop_table_from_database_and_remove_from_cache()
    return table


def level_labels(model: TrainedModel) -> dict[str, dict[int, str]]:
    """gamma value → level label, per comparison."""
    out: dict[str, dict[int, str]] = {}
    for comparison in model.settings["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        out[comparison["output_column_name"]] = {
            len(levels) - 1 - i: lv.get("label_for_charts", "") for i, lv in enumerate(levels)
        }
    return out


_default_model: TrainedModel | None = None
#: Below this many credit-code pairs an input is too thin to train on; the shipped model is used instead.
MIN_LABEL_PAIRS_TO_TRAIN = 2_000


def default_model() -> TrainedModel:
    """The model shipped with the code (trained on generated data by ``jianguan datacenter train_model``)."""
    global _default_model
    if _default_model is None:
        path = Path(__file__).resolve().parent / "default_model.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        _default_model = TrainedModel(settings=data["settings"], threshold=data["threshold"],
                                      stats={**data["stats"], "shipped": True})
    return _default_model


def linkage_model(engine: Any, features_table: str, *, threshold: float | None = None) -> TrainedModel:
    """Train on the input when it carries enough credit-code pairs; otherwise use the shipped model (its λ rescaled
    to the input's size)."""
    pairs = int(engine.fetch_rows(
        f"SELECT coalesce(sum(k * (k - 1) / 2), 0) AS p FROM (SELECT count(*) AS k FROM {features_table} "
        "WHERE anchor IS NOT NULL AND substr(anchor, 1, 1) <> 'S' GROUP BY anchor) g")[0]["p"])
    if pairs >= MIN_LABEL_PAIRS_TO_TRAIN:
        return train(engine, features_table, threshold=threshold if threshold is not None else DEFAULT_THRESHOLD)
    model = rescaled(default_model(), engine.count(features_table))
    if threshold is not None:
        model = TrainedModel(settings=model.settings, threshold=threshold, stats=model.stats)
    return model
