"""Runs one entity batch through the steps on an engine and returns the plan; nothing is written here.

extract → clean → standardise → verify → link (rows without a credit code) → de-duplicate → compare → plan.
The database is only read (reference data, the master records the batch touches, their provenance), through the
:class:`MasterData` interface, so the same run can be repeated on another engine and compared.
"""

# ruff: noqa: S608 - this module builds SQL for the pipeline engines: values go through the dialect's literal
# helper, column names from delivered files through its identifier quoting; table names are fixed in code.

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, overload

import pyarrow as pa
import pyarrow.compute as pc

from jianguan.datacenter.linkage import model as lm
from jianguan.datacenter.linkage.cluster import cluster
from jianguan.datacenter.linkage.features import features_sql, name_key_sql, phone_key_sql, phone_match_sql
from jianguan.datacenter.pipeline import entity_plan as ep
from jianguan.datacenter.pipeline.engines import Engine
from jianguan.datacenter.pipeline.entity_sql import PRESENT_BITS, EntityOptions, EntitySql
from jianguan.datacenter.pipeline.extract import Prepared, load_source_table, map_to_canonical
from jianguan.datacenter.pipeline.fields import (
    FIELD_NAMES,
    MASTER_FIELDS,
    PROBLEM_BITS,
    decode_problems,
    field_problem_mask,
    severity_mask,
    step_mask,
)
from jianguan.datacenter.pipeline.reference import ReferenceData

MASTER_COLUMNS = ep.MERGED_FIELDS
EXISTING_SCHEMA = pa.schema(
    [("ekey", pa.string()), ("id", pa.int64())] + [(f, pa.string()) for f in MASTER_COLUMNS]
    + [("uscc", pa.string()), ("phone_index", pa.string())]
)
CANDIDATE_SCHEMA = pa.schema([
    ("id", pa.int64()), ("uscc", pa.string()), ("name", pa.string()), ("legal_representative", pa.string()),
    ("address", pa.string()), ("region", pa.string()), ("phone_index", pa.string()),
])
PROVENANCE_SCHEMA = pa.schema([("subject_id", pa.int64()), ("field", pa.string()), ("source_id", pa.int64()),
                               ("priority", pa.int64())])
ADOPTION_SCHEMA = pa.schema([("id", pa.int64()), ("uscc", pa.string())])
UNKEYED_SCHEMA = pa.schema([("row_no", pa.int64()), ("target_key", pa.string()), ("role", pa.string()),
                            ("weight", pa.float64()), ("probability", pa.float64()), ("partner", pa.string())])
#: What became of rows with these fingerprints before (``MasterData.earlier_rows``): ``kind`` is ``split`` (a link a
#: data manager split: the record it was linked to, and the record the split created), ``link`` (a link that stands,
#: automatic or confirmed) or ``own`` (the record holds the row as its own, ``EntityRow``); the records' codes now.
EARLIER_SCHEMA = pa.schema([("fingerprint", pa.string()), ("kind", pa.string()), ("subject_id", pa.int64()),
                            ("subject_uscc", pa.string()), ("split_id", pa.int64()), ("split_uscc", pa.string())])


def fingerprint(key: str, source_id: int, values: Mapping[str, Any]) -> str:
    """The fingerprint of a quarantined or linked row (its plaintext ``values``, as stored in ``record``, with its
    source id), to recognise the same row delivered again: HMAC-SHA256 under ``key`` (``conf.fingerprint_key()``),
    so nobody without the key can test guessed values (a phone) against a stored one. The only formula: the load,
    the split check below, ``rekey-phones`` and the key-rotation hook (``personal.refingerprint_rows``) call this;
    migration 0009 keeps a frozen copy."""
    if not key:
        raise ValueError("a row fingerprint needs its key (datacenter.conf.fingerprint_key())")
    message = json.dumps([source_id, values], ensure_ascii=False, sort_keys=True, default=str).encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


class TextColumn(Sequence[str]):
    """A column of strings fetched from the engine, made into Python strings only where they are used (a million
    credit codes are passed to :meth:`MasterData.existing`, which often needs only their number)."""

    def __init__(self, array: pa.Array | pa.ChunkedArray) -> None:
        self._array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
        self._set: set[str] | None = None

    def __len__(self) -> int:
        return len(self._array)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return self._array[index].to_pylist()  # type: ignore[no-any-return]
        return self._array[index].as_py()  # type: ignore[no-any-return]

    def __contains__(self, value: object) -> bool:
        if self._set is None:
            self._set = set(self._array.to_pylist())
        return value in self._set


class MasterData(Protocol):
    def existing(self, usccs: Sequence[str], ids: list[int]) -> pa.Table: ...
    def known_codes(self, usccs: Sequence[str]) -> set[str]: ...
    def link_candidates(self, city_prefixes: list[str]) -> pa.Table: ...
    def codeless(self, city_prefixes: list[str]) -> pa.Table: ...
    def provenance(self, ids: list[int]) -> pa.Table: ...
    def earlier_rows(self, fingerprints: list[str]) -> pa.Table: ...


@dataclass
class BatchSpec:
    batch_id: int
    source_id: int
    priority: int
    scope_prefix: str
    today: str
    fresh_from: str | None
    mapping: dict[str, str] | None = None
    null_markers: tuple[str, ...] | None = None
    capital_unit: str = "10k"
    batch_steps: tuple[str, ...] = ("extract",)
    raw_copy: str | None = None  # where to keep the delivered rows (canonical names) for the lineage view
    #: secret of the phones' keyed hash on master records (``core.Subject.phone_index``); "" leaves phones out
    phone_pepper: str = ""
    #: keys of the rows' fingerprints (``conf.fingerprint_keys()``, every key of the ring), to find the links a data
    #: manager split whichever key their fingerprint was made with
    fingerprint_keys: tuple[str, ...] = ()


@dataclass
class PipelineResult:
    rows_total: int
    mapping: dict[str, str]
    quarantine: list[dict[str, Any]]
    inserts: pa.Table
    updates: pa.Table
    lineage: pa.Table
    conflicts: pa.Table
    links: list[dict[str, Any]]
    counts: dict[str, int]
    quality: dict[str, Any]
    timings: list[dict[str, Any]] = field(default_factory=list)
    #: ``id``, ``uscc``: master records without a code that take the code of the batch's entity they matched
    adoptions: pa.Table = field(default_factory=lambda: ADOPTION_SCHEMA.empty_table())
    #: rows without a code that make a new record (``target_key`` ``N:…``), with their standardised values
    #: (``record``): the load keeps them as the record's own rows (``EntityRow``)
    own_rows: list[dict[str, Any]] = field(default_factory=list)


Progress = Callable[[str, int], None]


def run_entities(engine: Engine, prepared: Prepared, spec: BatchSpec, ref: ReferenceData, master: MasterData,
                 progress: Progress | None = None) -> PipelineResult:
    timings: list[dict[str, Any]] = []

    def step(name: str) -> Callable[[], None]:
        started = time.perf_counter()
        if progress:
            progress(name, len(timings))

        def done() -> None:
            timings.append({"step": name, "seconds": round(time.perf_counter() - started, 3)})

        return done

    done = step("extract")
    headers = load_source_table(engine, prepared)
    mapping = map_to_canonical(engine, headers, spec.mapping)
    rows_total = engine.count("dc_raw")
    if spec.raw_copy:
        engine.write_parquet("dc_raw", spec.raw_copy)
    for name, table in ref.tables().items():
        engine.register_arrow(name, table)
    done()

    done = step("clean")
    options = EntityOptions(today=spec.today, scope_prefix=spec.scope_prefix, capital_unit=spec.capital_unit,
                            mapped=frozenset(mapping))
    if spec.null_markers is not None:
        options.null_markers = spec.null_markers
    sql = EntitySql(engine.dialect, ref, options)
    for name, value_sql in sql.value_tables():
        engine.create_table(name, value_sql)
    stages = dict(sql.stages())
    # Clean, parse and standardise are views: the engine runs them as one pass when verify materialises them.
    engine.create_view("dc_clean", stages["dc_clean"])
    done()
    done = step("standardise")
    engine.create_view("dc_parse", stages["dc_parse"])
    engine.create_view("dc_std", stages["dc_std"])
    done()
    done = step("verify")
    engine.create_table("dc_checked", stages["dc_checked"])
    engine.create_view("dc_valid", "SELECT * FROM dc_checked WHERE errors = 0")
    done()

    done = step("link")
    link_info = _link(engine, ref, master, spec.phone_pepper, spec.source_id, spec.fingerprint_keys)
    adopted = _adopt(engine, ref, master, link_info, spec.scope_prefix, spec.phone_pepper)
    # the row that matched each adopting record: it brought the code (lineage step, the link's row and weight)
    engine.register_arrow("dc_adopted", pa.table({
        "id": pa.array([a["id"] for a in adopted.values()], pa.int64()),
        "row_no": pa.array([a["row_no"] for a in adopted.values()], pa.int64())}))
    done()

    done = step("dedup")
    # The master records the batch's entities may be: those of its credit codes (and of the codes its rows without
    # one were linked to), and those its links and adoptions named.
    engine.create_table("dc_key_counts", ep.key_counts_sql())
    usccs = TextColumn(engine.fetch_arrow(
        "SELECT s_uscc AS uscc FROM dc_key_counts UNION "
        "SELECT substr(target_key, 3) AS uscc FROM dc_unkeyed WHERE target_key LIKE 'U:%' ORDER BY 1"
    ).column("uscc"))
    subject_ids = sorted({int(k[2:]) for k in link_info["targets"] if k.startswith("S:")}
                         | {a["id"] for a in adopted.values()})
    existing = _with_schema(master.existing(usccs, subject_ids), EXISTING_SCHEMA)
    if adopted:  # a record taking a code is the entity of that code from now on
        ids = pa.array([a["id"] for a in adopted.values()], pa.int64())
        keys = pa.array([f"U:{code}" for code in adopted], pa.string())
        position = pc.index_in(existing.column("id"), value_set=ids)
        existing = existing.set_column(0, "ekey", pc.if_else(pc.is_valid(position), pc.take(keys, position),
                                                             existing.column("ekey")))
    engine.register_arrow("dc_existing", existing)
    # A code of a single row that no master record holds is a new entity of that row: it skips the merge and the
    # comparison (``dc_simple``); only the other entities go through them.
    engine.create_table("dc_busy", ep.busy_codes_sql())
    # A view: the new records are read from it once, sorted (and counted, which reads none of its columns).
    engine.create_view("dc_simple", ep.simple_sql(engine.dialect, batch_bits=step_mask(*spec.batch_steps),
                                                  phone_pepper=spec.phone_pepper))
    engine.create_table("dc_members", ep.members_sql(engine.dialect))
    engine.create_table("dc_target_sizes", ep.sizes_sql())
    engine.create_table("dc_targets", ep.targets_sql(engine.dialect))
    done()

    done = step("compare")

    def plan(with_provenance: bool) -> str:
        return ep.plan_sql(engine.dialect, source_id=spec.source_id, priority=spec.priority,
                           batch_bits=step_mask(*spec.batch_steps), scope_prefix=spec.scope_prefix,
                           with_provenance=with_provenance, phone_pepper=spec.phone_pepper)

    engine.create_table("dc_plan", plan(False))
    changed = [int(r["existing_id"]) for r in engine.fetch_rows(
        "SELECT existing_id FROM dc_plan WHERE action = 'update' ORDER BY existing_id")]
    if changed:
        # Only now, for the records that would change, ask which source supplied their current values.
        engine.register_arrow("dc_provenance", _with_schema(master.provenance(changed), PROVENANCE_SCHEMA))
        engine.create_table("dc_plan", plan(True))
    engine.create_table("dc_member_plan", ep.member_plan_sql(engine.dialect, batch_bits=step_mask(*spec.batch_steps)))
    done()

    done = step("integrate")
    master_cols = ", ".join(f"v_{f} AS {f}" for f in MASTER_COLUMNS)
    # A record created from one row keeps that row, its lineage, on itself (``origin_row``, ``origin_steps``):
    # every entity of the fast path that sets a field, and those of the general path that ``dc_origins`` finds.
    engine.create_table("dc_lineage", ep.lineage_sql(engine.dialect))
    engine.create_table("dc_origins", ep.origins_sql())
    # New records in credit-code order: their ids are reserved in this order, so both the primary key and the
    # unique credit-code index are written sequentially.
    inserts = engine.fetch_arrow(
        "SELECT p.target_key, CASE WHEN p.target_key LIKE 'U:%' THEN substr(p.target_key, 3) END AS uscc, "
        f"{master_cols}, v_phone_index AS phone_index, rep_row, o.row_no AS origin_row, "
        "o.field_steps AS origin_steps FROM dc_plan p LEFT JOIN dc_origins o ON o.target_key = p.target_key "
        f"WHERE p.action = 'create' AND NOT p.out_of_scope UNION ALL {ep.simple_inserts_sql(MASTER_COLUMNS)} "
        "ORDER BY uscc NULLS LAST, target_key"
    )
    updates = engine.fetch_arrow(
        f"SELECT existing_id AS id, {master_cols}, v_phone_index AS phone_index, rep_row FROM dc_plan "
        "WHERE action = 'update' "
        "AND NOT out_of_scope ORDER BY existing_id"
    )
    lineage = engine.fetch_arrow("SELECT l.* FROM dc_lineage l LEFT JOIN dc_origins o ON o.target_key = l.target_key "
                                 "WHERE o.target_key IS NULL")
    adoptions = _with_schema(engine.fetch_arrow(
        "SELECT existing_id AS id, uscc FROM dc_plan WHERE adopted AND NOT out_of_scope ORDER BY existing_id"
    ), ADOPTION_SCHEMA)
    conflicts = engine.fetch_arrow(f"SELECT * FROM ({ep.conflicts_sql(engine.dialect, spec.phone_pepper)}) x "
                                   "ORDER BY row_no, field, kind")
    quarantine = _quarantine(engine)
    counts = {k: int(v or 0) for k, v in engine.fetch_rows(
        "SELECT sum(CASE WHEN action = 'create' AND NOT out_of_scope THEN 1 ELSE 0 END) AS created, "
        "sum(CASE WHEN action = 'update' AND NOT out_of_scope THEN 1 ELSE 0 END) AS updated, "
        "sum(CASE WHEN action = 'unchanged' AND NOT out_of_scope THEN 1 ELSE 0 END) AS unchanged, "
        "sum(n_duplicates) AS duplicates FROM dc_plan"
    )[0].items()}
    counts["created"] += engine.count("dc_simple")
    counts["quarantined"] = len(quarantine)
    counts["loaded"] = rows_total - len(quarantine)
    links = _links(engine, lineage, link_info) + _adoption_links(engine, adopted, adoptions)
    counts["linked"] = len(links)
    counts["conflicts"] = conflicts.num_rows
    quality = quality_report(engine, spec, mapping, rows_total, counts, conflicts)
    done()
    return PipelineResult(rows_total, mapping, quarantine, inserts, updates, lineage, conflicts, links, counts,
                          quality, timings, adoptions, link_info.get("own_rows", []))


def _with_schema(table: pa.Table, schema: pa.Schema) -> pa.Table:
    if table.num_rows == 0:
        return schema.empty_table()
    return table.select(schema.names).cast(schema)


# --- link ---------------------------------------------------------------------------------------------------------


def _phone_features(engine: Engine, features: str, candidates: str, pepper: str, out: str, *, anchor: str) -> None:
    """``out``: the features of ``features`` (``f``) with ``anchor`` and with phones compared as master records keep
    them: the batch's rows' phones as their keyed hash, existing records' (``S<id>``, from ``candidates``) as
    stored."""
    d = engine.dialect
    phone = (f"CASE WHEN substr(f.unique_id, 1, 1) = 'S' THEN nullif(c.phone_index, '') "
             f"ELSE {phone_key_sql(d, 'f.f_phone', pepper)} END") if pepper else "f.f_phone"
    engine.create_table(out, (
        f"SELECT f.unique_id, {anchor} AS anchor, f.f_uscc, f.f_name, f.f_name_full, f.f_address, f.f_road, "
        f"f.f_legal_rep, {phone} AS f_phone, f.f_region, f.f_city FROM {features} f "
        f"LEFT JOIN {candidates} c ON concat('S', CAST(c.id AS STRING)) = f.unique_id"
    ))


def _link(engine: Engine, ref: ReferenceData, master: MasterData, pepper: str = "",
          source_id: int | None = None, fingerprint_keys: tuple[str, ...] = ()) -> dict[str, Any]:
    """Place every valid row without a credit code: onto an existing record, a coded entity of this batch, or a new
    entity. Registers ``dc_unkeyed`` and returns the deciding links.

    A data manager's split stands: a row the model links again to the record a link of the same row (same values,
    same source) was split from goes to the record the split gave it instead, as that record's own row; a row the
    source delivered before keeps what became of it (see :func:`_respect_earlier_decisions`)."""
    unkeyed = engine.count("(SELECT 1 FROM dc_valid WHERE s_uscc IS NULL) u")
    info: dict[str, Any] = {"targets": set(), "edges": {}, "labels": {}}
    if not unkeyed:
        engine.register_arrow("dc_unkeyed", UNKEYED_SCHEMA.empty_table())
        return info
    # Only rows that share a name, phone or legal representative with a row to link can be its match.
    key = name_key_sql(engine.dialect, ref, "s_name")
    digits = engine.dialect.regexp_replace_all("s_phone", "[^0-9]", "")
    phone_key = phone_key_sql(engine.dialect, phone_match_sql(engine.dialect, "s_phone"), pepper) if pepper \
        else "CAST(NULL AS STRING)"
    engine.create_table("lk_keys", (
        f"SELECT DISTINCT {key} AS k_name, {digits} AS k_phone, {phone_key} AS k_phone_key, "
        "concat(s_legal_representative, '|', substr(s_region, 1, 4)) AS k_rep, "
        "substr(s_region, 1, 4) AS k_city FROM dc_valid WHERE s_uscc IS NULL"
    ))
    cities = [r["k_city"] for r in engine.fetch_rows("SELECT DISTINCT k_city FROM lk_keys ORDER BY 1")]
    engine.register_arrow("dc_link_candidates", _with_schema(master.link_candidates(cities), CANDIDATE_SCHEMA))
    related = (
        "({key} IN (SELECT k_name FROM lk_keys WHERE k_name IS NOT NULL) "
        "OR concat({rep}, '|', substr({region}, 1, 4)) IN (SELECT k_rep FROM lk_keys WHERE k_rep IS NOT NULL)"
        "{phone})"
    )
    keyed = related.format(key=key, rep="s_legal_representative", region="s_region",
                           phone=f" OR {digits} IN (SELECT k_phone FROM lk_keys WHERE k_phone <> '')")
    candidate = related.format(key=name_key_sql(engine.dialect, ref, "name"), rep="legal_representative",
                               region="region", phone=" OR phone_index IN (SELECT k_phone_key FROM lk_keys "
                                                      "WHERE k_phone_key IS NOT NULL)" if pepper else "")
    # A view: the features below read it once, and computing it as part of them spreads the work of finding the
    # related rows among a million over the engine's threads (a table of the ~100k found would be one block, read by
    # one thread).
    engine.create_view("lk_in", (
        "SELECT concat('B', CAST(row_no AS STRING)) AS unique_id, s_name AS name, s_uscc AS uscc, "
        "s_legal_representative AS legal_rep, s_address AS address, s_phone AS phone, s_region AS region_code "
        f"FROM dc_valid WHERE s_uscc IS NULL OR {keyed} UNION ALL "
        "SELECT concat('S', CAST(id AS STRING)) AS unique_id, name, uscc, legal_representative AS legal_rep, "
        f"address, CAST(NULL AS STRING) AS phone, region AS region_code FROM dc_link_candidates WHERE {candidate}"
    ))
    engine.create_table("lk_features0", features_sql(engine.dialect, ref, "lk_in"))
    # An existing record without a code anchors itself: it may gain rows, never merge with another.
    _phone_features(engine, "lk_features0", "dc_link_candidates", pepper, "lk_features",
                    anchor="CASE WHEN f.anchor IS NULL AND substr(f.unique_id, 1, 1) = 'S' THEN f.unique_id "
                           "ELSE f.anchor END")
    trained = lm.linkage_model(engine, "lk_features")
    edges = lm.predict(engine, "lk_features", trained)
    base = engine.fetch_arrow("SELECT unique_id, anchor FROM lk_features ORDER BY unique_id")
    ids = base.column("unique_id").to_pylist()
    anchors = base.column("anchor").to_pylist()
    edge_rows = edges.to_pylist()
    keys, assignment = cluster(
        ids, anchors, ((e["unique_id_l"], e["unique_id_r"], e["match_weight"], e["match_probability"])
                       for e in edge_rows))
    by_pair = {}
    for e in edge_rows:
        by_pair[(e["unique_id_l"], e["unique_id_r"])] = e
        by_pair[(e["unique_id_r"], e["unique_id_l"])] = e
    labels = lm.level_labels(trained)
    rows = []
    unkeyed_ids = [r["unique_id"] for r in engine.fetch_rows(
        "SELECT concat('B', CAST(row_no AS STRING)) AS unique_id FROM dc_valid WHERE s_uscc IS NULL ORDER BY row_no")]
    for uid in unkeyed_ids:
        key = keys[uid]
        if key.startswith("A:"):
            anchor = key[2:]
            target = f"S:{anchor[1:]}" if anchor.startswith("S") else f"U:{anchor}"
            role = "link"
        else:
            target = f"N:{key[3:] if key.startswith('N:B') else key[2:]}"
            role = "new"
        info["targets"].add(target)
        why = assignment.get(uid)
        partner = why.partner if why else None
        if why is not None:
            info["edges"][uid] = _deciding(by_pair.get((uid, why.partner)), labels)
        rows.append({
            "row_no": int(uid[1:]), "target_key": target, "role": role,
            "weight": round(why.weight, 6) if why else None,
            "probability": round(why.probability, 6) if why else None,
            "partner": partner,
        })
    if source_id is not None:
        _respect_earlier_decisions(engine, master, source_id, fingerprint_keys, rows, info)
    engine.register_arrow("dc_unkeyed", pa.Table.from_pylist(rows, schema=UNKEYED_SCHEMA))
    for name in ("lk_keys", "lk_in", "lk_features0", "lk_features", "dc_link_candidates"):
        engine.drop_table(name)
    return info


def _respect_earlier_decisions(engine: Engine, master: MasterData, source_id: int,
                               fingerprint_keys: tuple[str, ...], rows: list[dict[str, Any]],
                               info: dict[str, Any]) -> None:
    """A row this source delivered before (same values: same fingerprint) keeps what became of it, whatever the
    model makes of it this time (its weights are trained on each run's rows, so a borderline match may go either
    way): delivering the same rows again changes nothing. ``rows`` (``dc_unkeyed``) and ``info`` are changed in
    place, and each row says whether an earlier decision placed it (``known``).

    - A row a record holds as its own (``EntityRow``: the record was created from it) goes to that record, as its
      own row again — not as a link to it.
    - A row linked before by a link that stands (automatic or confirmed) goes to that record as a link; the load
      then writes no second link (``loader._mark_known_links``).
    - A row the model links again to the record a data manager split the same row from goes to the record the split
      created for it, as that record's own row — or, if that record is gone, to a new record, whose own row it then
      is.
    """
    if not rows:
        return
    if not fingerprint_keys:
        raise ValueError("finding earlier decisions needs the fingerprint keys (datacenter.conf.fingerprint_keys())")
    values = _row_values(engine)
    prints = {r["row_no"]: [fingerprint(key, source_id, values.get(r["row_no"], {})) for key in fingerprint_keys]
              for r in rows}
    earlier: dict[str, list[dict[str, Any]]] = {}
    wanted = sorted({p for row_prints in prints.values() for p in row_prints})
    for found in _with_schema(master.earlier_rows(wanted), EARLIER_SCHEMA).to_pylist():
        earlier.setdefault(found["fingerprint"], []).append(found)

    def key_of(uscc: str | None, subject_id: int) -> str:
        return f"U:{uscc}" if uscc else f"S:{subject_id}"

    for row in rows:
        row["known"] = False
        found = [e for p in prints[row["row_no"]] for e in earlier.get(p, [])]
        if not found:
            continue
        split = next((e for e in found if e["kind"] == "split" and row["role"] == "link"
                      and row["target_key"] in (f"S:{e['subject_id']}", f"U:{e['subject_uscc']}")), None)
        own = next((e for e in found if e["kind"] == "own"), None)
        link = next((e for e in found if e["kind"] == "link"), None)
        if own is not None:
            row.update(target_key=key_of(own["subject_uscc"], own["subject_id"]), role="new", weight=None,
                       probability=None, partner=None, known=True)
        elif split is not None:
            if split["split_id"] is None:  # the record the split made is gone: a record of its own, kept as such
                row.update(target_key=f"N:{row['row_no']}", role="new", weight=None, probability=None, partner=None)
            else:
                row.update(target_key=key_of(split["split_uscc"], split["split_id"]), role="new", weight=None,
                           probability=None, partner=None, known=True)
        elif link is not None:
            target = key_of(link["subject_uscc"], link["subject_id"])
            if row["target_key"] != target or row["role"] != "link":
                # not matched to it this time: the standing link decides; no new link is written for it
                row.update(target_key=target, role="link", weight=None, probability=None, partner=None)
            row["known"] = True
        else:
            continue
        if row["role"] != "link" or row["partner"] is None:
            info["edges"].pop(f"B{row['row_no']}", None)
    info["targets"] = {r["target_key"] for r in rows}
    # the rows that make a new record of their own this time: the load keeps them as its own rows (EntityRow)
    info["own_rows"] = [{"row_no": r["row_no"], "target_key": r["target_key"], "record": values.get(r["row_no"], {}),
                         "keys": fingerprint_keys, "prints": prints[r["row_no"]]}
                        for r in rows if r["role"] == "new" and not r["known"] and r["target_key"].startswith("N:")]
    info["values"] = values


def _row_values(engine: Engine, row_nos: list[int] | None = None) -> dict[int, dict[str, Any]]:
    """The standardised values of rows without a credit code (all, or those numbered ``row_nos``), as links keep
    them in ``EntityLink.record``."""
    where = f" AND row_no IN ({', '.join(str(int(n)) for n in row_nos)})" if row_nos else ""
    return {
        r["row_no"]: {f: r[f"s_{f}"] for f in RECORD_FIELDS if r[f"s_{f}"] is not None}
        for r in engine.fetch_rows(
            f"SELECT row_no, {', '.join(f's_{f}' for f in RECORD_FIELDS)} FROM dc_valid WHERE s_uscc IS NULL{where}")
    }


def _adopt(engine: Engine, ref: ReferenceData, master: MasterData, info: dict[str, Any],
           scope_prefix: str, pepper: str = "") -> dict[str, dict[str, Any]]:
    """Give existing master records without a credit code the code of the batch's entity they match.

    A record created from rows without a code (linked by name, address, legal representative) is the same entity
    as a row that later arrives with the code: without this step the code would open a second master record beside
    it. Rows with a code that no master record has yet are scored against the records without one in their cities,
    with the linkage model; each record takes the code of its best match at or above the threshold, each code goes
    to one record only (the best), and the batch's rows of that code then update that record instead of creating
    one. Rows without a code that this batch linked to such a record follow it. Returns, per adopted code, the
    record's id, the deciding row and its match, for the link a data manager confirms or splits.
    """
    d = engine.dialect
    cities = [r["c"] for r in engine.fetch_rows(
        "SELECT DISTINCT substr(s_region, 1, 4) AS c FROM dc_valid WHERE s_uscc IS NOT NULL ORDER BY 1")]
    if not cities:
        return {}
    codeless = _with_schema(master.codeless(cities), CANDIDATE_SCHEMA)
    if codeless.num_rows and scope_prefix:  # only records the source may change
        codeless = codeless.filter(pc.starts_with(codeless.column("region"), scope_prefix))
    if codeless.num_rows == 0:
        return {}
    engine.register_arrow("ad_codeless", codeless)
    near = sorted({r[:4] for r in codeless.column("region").to_pylist()})
    in_near = f"substr(s_region, 1, 4) IN ({', '.join(d.lit(c) for c in near)})"
    # Only the coded rows of cities with such records, and of those only the ones sharing a name or a legal
    # representative with one (the name key is computed for the rows of those cities only).
    engine.create_table("ad_rows", (
        f"SELECT v.*, {name_key_sql(d, ref, 'v.s_name')} AS k_name, "
        "concat(v.s_legal_representative, '|', substr(v.s_region, 1, 4)) AS k_rep FROM "
        "(SELECT row_no, s_name, s_uscc, s_legal_representative, s_address, s_phone, s_region FROM dc_valid "
        f"WHERE s_uscc IS NOT NULL AND {in_near}) v"
    ))
    engine.create_table("ad_records", (
        f"SELECT c.*, {name_key_sql(d, ref, 'c.name')} AS k_name, "
        "CASE WHEN c.legal_representative <> '' THEN concat(c.legal_representative, '|', substr(c.region, 1, 4)) "
        "END AS k_rep FROM ad_codeless c"
    ))
    engine.create_table("ad_pairs_rows", (
        "SELECT * FROM ad_rows WHERE k_name IN (SELECT k_name FROM ad_records WHERE k_name IS NOT NULL) "
        "OR k_rep IN (SELECT k_rep FROM ad_records WHERE k_rep IS NOT NULL)"
    ))
    codes = sorted({r["s_uscc"] for r in engine.fetch_rows("SELECT DISTINCT s_uscc FROM ad_pairs_rows")})
    known = master.known_codes(codes) if codes else set()
    fresh = [c for c in codes if c not in known]
    adopted: dict[str, dict[str, Any]] = {}
    if fresh:
        engine.register_arrow("ad_fresh", pa.table({"uscc": pa.array(fresh, pa.string())}))
        engine.create_table("ad_in", (
            "SELECT concat('B', CAST(row_no AS STRING)) AS unique_id, s_name AS name, s_uscc AS uscc, "
            "s_legal_representative AS legal_rep, s_address AS address, s_phone AS phone, s_region AS region_code "
            "FROM ad_pairs_rows WHERE s_uscc IN (SELECT uscc FROM ad_fresh) UNION ALL "
            "SELECT concat('S', CAST(id AS STRING)) AS unique_id, name, CAST(NULL AS STRING) AS uscc, "
            "legal_representative AS legal_rep, address, CAST(NULL AS STRING) AS phone, region AS region_code "
            "FROM ad_records WHERE k_name IN (SELECT k_name FROM ad_pairs_rows) "
            "OR k_rep IN (SELECT k_rep FROM ad_pairs_rows)"
        ))
        engine.create_table("ad_features0", features_sql(d, ref, "ad_in"))
        # Each record without a code anchors itself and the rows with codes are the loose side, so only row–record
        # pairs are scored (never two records without a code). The prior that two records match is the one for
        # the records the question is really about: every coded row of these cities and every record without one.
        _phone_features(engine, "ad_features0", "ad_codeless", pepper, "ad_features",
                        anchor="CASE WHEN substr(f.unique_id, 1, 1) = 'S' THEN f.unique_id END")
        population = engine.count("ad_rows") + codeless.num_rows
        trained = lm.rescaled(lm.default_model(), max(population, 2))
        labels = lm.level_labels(trained)
        code_of_row = {f"B{r['row_no']}": r["s_uscc"] for r in engine.fetch_rows(
            "SELECT row_no, s_uscc FROM ad_rows WHERE s_uscc IN (SELECT uscc FROM ad_fresh)")}
        best: dict[str, dict[str, Any]] = {}  # per record without a code: its strongest match with a code
        for edge in lm.predict(engine, "ad_features", trained).to_pylist():
            left, right = edge["unique_id_l"], edge["unique_id_r"]
            record, row = (left, right) if left.startswith("S") else (right, left)
            if not record.startswith("S") or not row.startswith("B"):
                continue  # two rows with codes: not this step's question
            if (edge.get("gamma_name") or 0) <= 0 and (edge.get("gamma_address") or 0) <= 0:
                continue  # a shared legal representative and district alone are not the same business
            # Ties go to the later row; weights are compared rounded (the engines' floats may differ in the last
            # bits, and they list pairs in any order).
            weight = round(edge["match_weight"], 6)
            rank = (weight, code_of_row[row], int(row[1:]))
            if record not in best or rank > (best[record]["weight"], best[record]["uscc"], best[record]["row_no"]):
                best[record] = {"id": int(record[1:]), "uscc": code_of_row[row], "row_no": int(row[1:]),
                                "weight": weight, "probability": round(edge["match_probability"], 6),
                                "deciding": _deciding(edge, labels)}
        for choice in sorted(best.values(), key=lambda c: (-c["weight"], c["id"])):
            if choice["uscc"] not in adopted:
                adopted[choice["uscc"]] = choice
        for name in ("ad_fresh", "ad_in", "ad_features0", "ad_features"):
            engine.drop_table(name)
    for name in ("ad_pairs_rows", "ad_records", "ad_rows", "ad_codeless"):
        engine.drop_table(name)
    retarget = {f"S:{a['id']}": f"U:{code}" for code, a in adopted.items()}
    if retarget:  # rows without a code that this batch linked to an adopting record follow it
        unkeyed = engine.fetch_arrow("SELECT * FROM dc_unkeyed")
        targets = [retarget.get(t, t) for t in unkeyed.column("target_key").to_pylist()]
        engine.register_arrow("dc_unkeyed", _with_schema(unkeyed.set_column(
            unkeyed.schema.get_field_index("target_key"), "target_key", pa.array(targets, pa.string())),
            UNKEYED_SCHEMA))
        info["targets"] = {retarget.get(t, t) for t in info["targets"]}
    return adopted


def _adoption_links(engine: Engine, adopted: dict[str, dict[str, Any]], adoptions: pa.Table) -> list[dict[str, Any]]:
    """The link of each adopted code: the row that brought it, onto the record that took it (within scope)."""
    taken = set(adoptions.column("id").to_pylist())
    chosen = [dict(a) for a in adopted.values() if a["id"] in taken]
    if not chosen:
        return []
    # The link names the row of the code that matched the record — the pair the weight and the deciding fields
    # were measured on, and the row whose lineage records the code it brought (``code_adopted``), which need not be
    # the entity's representative (latest) row. Its record is what the batch made of the entity, and ``replaced``
    # what the master record held before in each field the batch changed: a split gives the first to a record of
    # its own and puts the second back.
    plan = {int(r["existing_id"]): r for r in engine.fetch_rows(
        "SELECT existing_id, v_phone_index, set_row_phone, cur_phone_index, "
        + ", ".join(f"v_{f}, cur_{f}" for f in MASTER_COLUMNS) + " FROM dc_plan WHERE adopted")}
    links = []
    for a in chosen:
        row = plan[a["id"]]
        record: dict[str, Any] = {f: row[f"v_{f}"] for f in MASTER_COLUMNS if row[f"v_{f}"] not in (None, "")}
        record["uscc"] = a["uscc"]
        record["replaced"] = {f: row[f"cur_{f}"] or "" for f in MASTER_COLUMNS
                              if (row[f"v_{f}"] or "") != (row[f"cur_{f}"] or "")}
        if row["set_row_phone"] is not None:  # the batch set the record's phone key (filled or replaced it)
            record["phone_index"] = row["v_phone_index"]
            record["replaced"]["phone_index"] = row["cur_phone_index"] or ""
        links.append({"target_key": f"U:{a['uscc']}", "existing_id": a["id"], "row_no": int(a["row_no"]),
                      "weight": a["weight"], "probability": a["probability"], "deciding": a["deciding"],
                      "adopts_code": True, "record": record})
    return sorted(links, key=lambda link: link["row_no"])


def _deciding(edge: dict[str, Any] | None, labels: dict[str, dict[int, str]]) -> list[dict[str, Any]]:
    """The comparisons that spoke for the link, strongest first."""
    if edge is None:
        return []
    out: list[dict[str, Any]] = []
    for name, label in lm.COMPARISON_FIELDS.items():
        weight = edge.get(f"mw_{name}")
        gamma = edge.get(f"gamma_{name}")
        if weight is None or gamma is None or gamma < 0:
            continue
        out.append({"field": name, "label": label, "level": labels.get(name, {}).get(int(gamma), ""),
                    "weight": round(float(weight), 3)})
    out.sort(key=lambda item: -float(item["weight"]))
    return out


RECORD_FIELDS = (*MASTER_FIELDS, "phone")


def _links(engine: Engine, lineage: pa.Table, info: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row placed by a probabilistic link, with its weight, deciding fields and standardised values."""
    linked = lineage.filter(pc.is_valid(lineage.column("partner")))
    if linked.num_rows == 0:
        return []
    rows = linked.to_pylist()
    values = info.get("values") or _row_values(engine)  # computed once by the run when it had a source
    rows.sort(key=lambda r: r["row_no"])
    return [
        {
            "target_key": row["target_key"], "existing_id": row["existing_id"], "row_no": row["row_no"],
            "weight": row["weight"], "probability": row["probability"],
            "deciding": info["edges"].get(f"B{row['row_no']}", []),
            "record": values.get(row["row_no"], {}),
        }
        for row in rows
    ]


# --- quarantine and quality ---------------------------------------------------------------------------------------


def _quarantine(engine: Engine) -> list[dict[str, Any]]:
    """The rows kept out, each as delivered (from ``dc_raw``) with its problems."""
    raw_cols = ", ".join(f"r.{f} AS r_{f}" for f in FIELD_NAMES)
    rows = engine.fetch_rows(
        f"SELECT c.row_no, {raw_cols}, c.errors FROM dc_checked c JOIN dc_raw r ON r.row_no = c.row_no "
        "WHERE c.errors <> 0 ORDER BY c.row_no")
    out = []
    for row in rows:
        record = {f: row[f"r_{f}"] for f in FIELD_NAMES if row[f"r_{f}"] is not None}
        codes = decode_problems(int(row["errors"]))
        out.append({"row_no": row["row_no"], "record": record, "codes": codes})
    scoped = engine.fetch_rows(
        f"SELECT r.row_no, {raw_cols} FROM dc_member_plan m "
        "JOIN dc_raw r ON r.row_no = m.row_no WHERE m.out_of_scope ORDER BY r.row_no")
    for row in scoped:
        record = {f: row[f"r_{f}"] for f in FIELD_NAMES if row[f"r_{f}"] is not None}
        out.append({"row_no": row["row_no"], "record": record, "codes": ["subject.out_of_scope"]})
    out.sort(key=lambda r: r["row_no"])
    return out


CONSISTENCY_CODES = ("uscc.type_mismatch", "uscc.region_mismatch", "address.region_mismatch", "record_id.duplicate")


def quality_report(engine: Engine, spec: BatchSpec, mapping: dict[str, str], rows_total: int,
                   counts: dict[str, int], conflicts: pa.Table) -> dict[str, Any]:
    """Completeness, validity, uniqueness, consistency and timeliness per field and overall (shares 0–1).

    completeness: non-empty values / rows; validity: values without an error / non-empty values; uniqueness
    (credit code, record id): distinct / non-empty, overall 1 − duplicate rows / rows; consistency: values without
    a consistency warning or conflict / non-empty values; timeliness: values of rows updated within the source's
    freshness window / non-empty values (when the delivery carries an update time).
    """
    d = engine.dialect
    cols = []
    for f in FIELD_NAMES:
        errors = field_problem_mask(f, "error")
        warnings = field_problem_mask(f, "warning")
        supplied = f"(present & {PRESENT_BITS[f]}) <> 0"  # the row has a (cleaned) value for the field
        cols += [
            f"sum(CASE WHEN {supplied} THEN 1 ELSE 0 END) AS present_{f}",
            f"sum(CASE WHEN {supplied} AND (errors & {errors}) <> 0 THEN 1 ELSE 0 END) AS invalid_{f}",
            f"sum(CASE WHEN {supplied} AND (warnings & {warnings}) <> 0 THEN 1 ELSE 0 END)"
            f" AS inconsistent_{f}",
        ]
        if spec.fresh_from:
            cols.append(f"sum(CASE WHEN {supplied} AND s_updated_at >= {d.lit(spec.fresh_from)} "
                        f"THEN 1 ELSE 0 END) AS fresh_{f}")
    consistency = sum(PROBLEM_BITS[c] for c in CONSISTENCY_CODES)
    cols += [
        "count(DISTINCT s_uscc) AS distinct_uscc", "count(s_uscc) AS present_uscc_std",
        "count(DISTINCT s_record_id) AS distinct_record_id", "count(s_record_id) AS present_record_id_std",
        "sum(CASE WHEN errors = 0 THEN 1 ELSE 0 END) AS valid_rows",
        f"sum(CASE WHEN (warnings & {consistency}) <> 0 THEN 1 ELSE 0 END) AS warned_rows",
        "count(s_updated_at) AS dated_rows",
    ]
    for code, bit in PROBLEM_BITS.items():
        column = "errors" if bit & severity_mask("error") else "warnings"
        cols.append(f"sum(CASE WHEN ({column} & {bit}) <> 0 THEN 1 ELSE 0 END) AS problem_{code.replace('.', '__')}")
    if spec.fresh_from:
        cols.append(f"sum(CASE WHEN s_updated_at >= {d.lit(spec.fresh_from)} THEN 1 ELSE 0 END) AS fresh_rows")
    agg = engine.fetch_rows(f"SELECT count(*) AS total, {', '.join(cols)} FROM dc_checked")[0]
    total = int(agg["total"] or 0)
    conflict_fields = _count_by(conflicts, "field")
    conflict_fields["phone"] = conflict_fields.pop("phone_index", 0)  # the phone's key: the delivered phone's field

    def share(part: float, whole: float) -> float | None:
        return round(part / whole, 4) if whole else None

    fields: dict[str, dict[str, float | None]] = {}
    for f in FIELD_NAMES:
        if f not in mapping:
            continue
        present = int(agg[f"present_{f}"] or 0)
        invalid = int(agg[f"invalid_{f}"] or 0)
        inconsistent = int(agg[f"inconsistent_{f}"] or 0) + conflict_fields.get(f, 0)
        entry: dict[str, float | None] = {
            "completeness": share(present, total),
            "validity": share(present - invalid, present),
            "uniqueness": None,
            "consistency": share(max(present - inconsistent, 0), present),
            "timeliness": share(int(agg[f"fresh_{f}"] or 0), present) if spec.fresh_from else None,
        }
        if f in ("uscc", "record_id"):
            entry["uniqueness"] = share(int(agg[f"distinct_{f}"] or 0), int(agg[f"present_{f}_std"] or 0))
        fields[f] = entry
    overall = {
        "completeness": _mean([v["completeness"] for v in fields.values()]),
        "validity": share(int(agg["valid_rows"] or 0), total),
        "uniqueness": share(total - counts.get("duplicates", 0), total),
        "consistency": share(max(total - int(agg["warned_rows"] or 0) - conflicts.num_rows, 0), total),
        "timeliness": share(int(agg.get("fresh_rows") or 0), int(agg["dated_rows"] or 0)) if spec.fresh_from
        else None,
    }
    problems = {code: int(agg[f"problem_{code.replace('.', '__')}"] or 0) for code in PROBLEM_BITS}
    return {"rows": total, "overall": overall, "fields": fields,
            "problems": {k: v for k, v in problems.items() if v}}


def _count_by(table: pa.Table, column: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in table.column(column).to_pylist():
        out[value] = out.get(value, 0) + 1
    return out


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(sum(present) / len(present), 4) if present else None
