"""De-duplicate → compare → integrate: from checked rows to the plan of master-record changes, as SQL.

Inputs (besides ``dc_checked``):

* ``dc_unkeyed(row_no, target_key, role, weight, probability, partner)`` — where the linking step placed each valid
  row without a credit code: ``S:<id>`` an existing record without a code, ``U:<code>`` the entity with that code,
  ``N:<row>`` a new entity; ``role`` is ``link`` (joined an existing or coded entity) or ``new``;
* ``dc_existing(ekey, id, <master fields as text>)`` — the current master records the batch touches
  (``ekey`` = ``U:<code>`` or, for records without a code, ``S:<id>``);
* ``dc_provenance(subject_id, field, source_id, priority)`` — which source supplied each current value.

Rows of one entity are merged field by field: the latest row (highest row number) that supplies a value wins among
the rows that carry the entity's credit code; rows linked by probabilistic matching only fill fields still empty.
An incoming value that differs from one another source supplied is a conflict: the higher-priority source wins,
equal priorities keep the current value and leave the conflict open for a data manager.

The phone's keyed hash (``phone_index``) follows the same rule as the master fields, compared as keys: the entity's
phone is its latest row's, a later phone from the same source replaces the key, another source's replaces it only
with a higher priority (a cross-source conflict on ``phone_index``, whose values are keys, never numbers), and
linked rows only fill a record without one. Two rows of one batch with different phones are not a within-batch
conflict: that would store the numbers.

Steps travel as bit masks (:data:`jianguan.datacenter.pipeline.fields.STEP_BITS`).
"""

# ruff: noqa: S608 - this module builds SQL for the pipeline engines: values go through the dialect's literal
# helper, column names from delivered files through its identifier quoting; table names are fixed in code.

from __future__ import annotations

from jianguan.datacenter.linkage.features import phone_key_sql, phone_match_sql
from jianguan.datacenter.pipeline.dialect import Dialect
from jianguan.datacenter.pipeline.fields import LINEAGE_FIELDS, MASTER_FIELDS, STEP_BITS

#: Master fields compared and merged (the credit code is the key, not a compared value).
MERGED_FIELDS = tuple(f for f in MASTER_FIELDS if f != "uscc")
DEFAULTS = {"status": "'active'", "legal_representative": "''", "address": "''"}
#: Fields merged the same way in ``targets_sql``: the master fields and the phone (kept as its key).
TARGET_FIELDS = (*MERGED_FIELDS, "phone")
MEMBER_COLUMNS = ("row_no", "s_uscc", *(f"s_{f}" for f in TARGET_FIELDS), *(f"t_{f}" for f in TARGET_FIELDS))


def layer(prev: str, cols: list[str], alias: str = "q") -> str:
    return f"SELECT {alias}.*, {', '.join(cols)} FROM ({prev}) {alias}"


def key_counts_sql() -> str:
    """``dc_key_counts(s_uscc, n)``: each credit code of the batch's valid rows and how many rows carry it."""
    return "SELECT s_uscc, count(*) AS n FROM dc_valid WHERE s_uscc IS NOT NULL GROUP BY s_uscc"


def busy_codes_sql() -> str:
    """``dc_busy(uscc)``: the credit codes whose entity needs the merge and the comparison — several rows carry
    the code, a master record holds it already (or takes it, see ``runner._adopt``), or a row without a code was
    linked to it. Every other code is a new entity of a single row (:func:`simple_sql`)."""
    return (
        "SELECT s_uscc AS uscc FROM dc_key_counts WHERE n > 1 "
        "UNION SELECT substr(ekey, 3) AS uscc FROM dc_existing WHERE ekey LIKE 'U:%' "
        "UNION SELECT substr(target_key, 3) AS uscc FROM dc_unkeyed WHERE target_key LIKE 'U:%'"
    )


def simple_sql(d: Dialect, *, batch_bits: int, phone_pepper: str = "") -> str:
    """``dc_simple``: the rows that are alone a new entity (a credit code not in ``dc_busy``), with what the
    de-duplicate → compare → integrate steps make of them, without going through them: the row's values are the
    entity's (a field it leaves empty takes the default), each set field's steps are the row's and the batch's,
    and its phone is kept as its key. The same outcome as :func:`plan_sql` and :func:`member_plan_sql` give for an
    entity of one row that no master record holds (``test_pipeline_fast_path`` compares the two), for the bulk of a
    first delivery at a fraction of the work: no aggregation, no per-entity table, one pass."""
    phone_bits = batch_bits | STEP_BITS["phone"]
    phone_key = (phone_key_sql(d, phone_match_sql(d, "q.s_phone"), phone_pepper) if phone_pepper
                 else "CAST(NULL AS STRING)")
    sql = ("SELECT v.* FROM dc_valid v LEFT JOIN dc_busy b ON b.uscc = v.s_uscc "
           "WHERE v.s_uscc IS NOT NULL AND b.uscc IS NULL")
    sql = layer(sql, [f"{phone_key} AS k_phone_key"])
    parts = []
    for f in LINEAGE_FIELDS:
        if f in MERGED_FIELDS:
            parts.append(f"CASE WHEN q.s_{f} IS NOT NULL THEN CAST({batch_bits} | q.t_{f} AS STRING) ELSE '' END")
        elif f == "phone_index":
            parts.append(f"CASE WHEN q.k_phone_key IS NOT NULL THEN CAST({phone_bits} | q.t_phone AS STRING) "
                         "ELSE '' END")
        else:
            parts.append("''")
    joined = f"concat_ws(',', {', '.join(parts)})"
    contributes = " OR ".join([f"q.s_{f} IS NOT NULL" for f in MERGED_FIELDS] + ["q.k_phone_key IS NOT NULL"])
    cols = [
        "q.row_no", "concat('U:', q.s_uscc) AS target_key", "q.s_uscc AS uscc",
        *(f"coalesce(q.s_{f}, {DEFAULTS[f]}) AS v_{f}" if f in DEFAULTS else f"q.s_{f} AS v_{f}"
          for f in MERGED_FIELDS),
        "coalesce(q.k_phone_key, '') AS v_phone_index",
        f"trim(TRAILING ',' FROM {joined}) AS field_steps",
        f"({contributes}) AS contributes",
    ]
    return f"SELECT {', '.join(cols)} FROM ({sql}) q"


def simple_inserts_sql(master_columns: tuple[str, ...]) -> str:
    """The new master records of ``dc_simple``, in the columns of the plan's inserts, each with its creation entry
    (``origin_row``, ``origin_steps``: its one lineage row, kept on the record; see :func:`origins_sql`)."""
    cols = ", ".join(f"v_{f} AS {f}" for f in master_columns)
    return (f"SELECT target_key, uscc, {cols}, v_phone_index AS phone_index, row_no AS rep_row, "
            "CASE WHEN contributes THEN row_no END AS origin_row, "
            "CASE WHEN contributes THEN field_steps END AS origin_steps FROM dc_simple")


def origins_sql() -> str:
    """``dc_origins``: the new entities of the general path whose whole lineage is one row (``dc_lineage``): a
    record created from a single row, with no identical rows and no linked ones. The load keeps that row on the
    record itself (``core.Subject.origin_*``) instead of as a lineage row — as it does for every ``dc_simple``
    entity that sets a field, whose lineage is by construction that one row."""
    return (
        "SELECT target_key, min(row_no) AS row_no, min(field_steps) AS field_steps FROM dc_lineage "
        "WHERE existing_id IS NULL GROUP BY target_key "
        "HAVING count(*) = 1 AND min(action) = 'created' AND min(role) <> 'link' AND min(duplicate_rows) = ''"
    )


def members_sql(d: Dialect) -> str:
    """Every valid row of an entity that needs the merge (its code in ``dc_busy``, or no code) with the entity it
    belongs to (only the columns the merge needs)."""
    cols = ", ".join(f"v.{c}" for c in MEMBER_COLUMNS)
    keyed = (
        f"SELECT {cols}, concat('U:', v.s_uscc) AS target_key, 'key' AS role, CAST(NULL AS DOUBLE) AS weight, "
        "CAST(NULL AS DOUBLE) AS probability, CAST(NULL AS STRING) AS partner FROM dc_valid v "
        "JOIN dc_busy b ON b.uscc = v.s_uscc"
    )
    unkeyed = (
        f"SELECT {cols}, u.target_key, u.role, u.weight, u.probability, u.partner FROM dc_valid v "
        "JOIN dc_unkeyed u ON u.row_no = v.row_no WHERE v.s_uscc IS NULL"
    )
    return f"{keyed} UNION ALL {unkeyed}"


def _fingerprint(d: Dialect) -> str:
    parts = ", ".join(f"coalesce(m.s_{f}, '')" for f in (*MERGED_FIELDS, "phone"))
    return f"concat_ws('|', {parts})"


def sizes_sql() -> str:
    return "SELECT target_key, count(*) AS n FROM dc_members GROUP BY target_key"


def targets_sql(d: Dialect) -> str:
    """One row per entity with, per field, the value its rows supply and which row supplied it.

    Most entities have a single row: those are projected directly; only entities with several rows are aggregated.
    """
    single = [
        "m.target_key",
        "CASE WHEN m.role <> 'link' THEN m.row_no END AS rep_row",
        "1 AS n_rows",
        "CASE WHEN m.role = 'link' THEN 1 ELSE 0 END AS n_links",
        "0 AS n_duplicates",
        "m.s_uscc AS uscc",
    ]
    multi = [
        "m.target_key",
        "max(CASE WHEN m.role <> 'link' THEN m.row_no END) AS rep_row",
        "count(*) AS n_rows",
        "sum(CASE WHEN m.role = 'link' THEN 1 ELSE 0 END) AS n_links",
        f"count(CASE WHEN m.role <> 'link' THEN 1 END) - "
        f"count(DISTINCT CASE WHEN m.role <> 'link' THEN {_fingerprint(d)} END) AS n_duplicates",
        "max(m.s_uscc) AS uscc",
    ]
    # the phone like the master fields (its latest row's); master records keep it as a keyed hash only
    for f in TARGET_FIELDS:
        for prefix, cond in (("k", "m.role <> 'link'"), ("l", "m.role = 'link'")):
            when = f"{cond} AND m.s_{f} IS NOT NULL"
            single += [
                f"CASE WHEN {when} THEN m.row_no END AS src_{prefix}_{f}",
                f"CASE WHEN {when} THEN m.s_{f} END AS {prefix}_{f}",
                f"CASE WHEN {when} THEN m.t_{f} ELSE 0 END AS stp_{prefix}_{f}",
            ]
            order = f"CASE WHEN {when} THEN m.row_no END"
            multi += [
                f"max({order}) AS src_{prefix}_{f}",
                f"CASE WHEN max({order}) IS NULL THEN NULL ELSE max_by(m.s_{f}, coalesce({order}, -1)) END "
                f"AS {prefix}_{f}",
                f"CASE WHEN max({order}) IS NULL THEN 0 ELSE max_by(m.t_{f}, coalesce({order}, -1)) END "
                f"AS stp_{prefix}_{f}",
            ]
        single.append(f"CASE WHEN m.role <> 'link' AND m.s_{f} IS NOT NULL THEN 1 ELSE 0 END AS nd_{f}")
        multi.append(f"count(DISTINCT CASE WHEN m.role <> 'link' THEN m.s_{f} END) AS nd_{f}")
    join = "FROM dc_members m JOIN dc_target_sizes z ON z.target_key = m.target_key"
    return (f"SELECT {', '.join(single)} {join} WHERE z.n = 1 UNION ALL "
            f"SELECT {', '.join(multi)} {join} WHERE z.n > 1 GROUP BY m.target_key")


def _plan_columns(d: Dialect, *, existing: bool, source_id: int, priority: int, batch_bits: int) -> list[str]:
    """The per-field outcome columns, written once for new entities (simple) and once for existing ones."""
    dedup, survivor, fill_bit = STEP_BITS["dedup"], STEP_BITS["survivor"], STEP_BITS["fill"]
    out = []
    for f in MERGED_FIELDS:
        default = DEFAULTS.get(f, "NULL")
        if not existing:
            fill = f"(q.k_{f} IS NULL AND q.l_{f} IS NOT NULL)"
            out += [
                f"coalesce(q.k_{f}, q.l_{f}, {default}) AS v_{f}",
                f"coalesce(q.src_k_{f}, q.src_l_{f}) AS set_row_{f}",
                f"({batch_bits} | CASE WHEN {fill} THEN q.stp_l_{f} | {fill_bit} ELSE q.stp_k_{f} END "
                f"| CASE WHEN q.nd_{f} > 1 THEN {dedup} ELSE 0 END) AS set_steps_{f}",
                f"false AS cross_{f}",
                f"CAST(NULL AS STRING) AS cross_status_{f}",
            ]
            continue
        apply = f"q.apply_{f}"
        before_fill = f"CASE WHEN {apply} THEN q.k_{f} ELSE q.cur_{f} END"
        fill = f"q.fill_{f}"
        out += [
            f"coalesce(CASE WHEN {fill} THEN q.l_{f} ELSE {before_fill} END, {default}) AS v_{f}",
            f"CASE WHEN {fill} THEN q.src_l_{f} WHEN {apply} THEN q.src_k_{f} END AS set_row_{f}",
            f"({batch_bits} | CASE WHEN {fill} THEN q.stp_l_{f} | {fill_bit} ELSE q.stp_k_{f} END "
            f"| CASE WHEN q.nd_{f} > 1 THEN {dedup} ELSE 0 END "
            f"| CASE WHEN q.cross_{f} AND {apply} THEN {survivor} ELSE 0 END) AS set_steps_{f}",
            f"q.cross_{f}",
            f"CASE WHEN q.cross_{f} THEN CASE WHEN {int(priority)} > q.cur_pri_{f} THEN 'applied' "
            f"WHEN {int(priority)} < q.cur_pri_{f} THEN 'kept' ELSE 'open' END END AS cross_status_{f}",
        ]
    return out


def plan_sql(d: Dialect, *, source_id: int, priority: int, batch_bits: int, scope_prefix: str,
             with_provenance: bool, phone_pepper: str = "") -> str:
    """One row per entity: what the batch does to it (create / update / unchanged) and each field's outcome.

    The phone's keyed hash (``phone_index``, with ``phone_pepper``) is decided like the master fields, compared as
    keys (see the module docstring); without a pepper phones are left out."""
    target_cols = "t.*"

    def phone_key(column: str) -> str:
        return (phone_key_sql(d, phone_match_sql(d, column), phone_pepper) if phone_pepper
                else "CAST(NULL AS STRING)")

    dedup, survivor, fill_bit = STEP_BITS["dedup"], STEP_BITS["survivor"], STEP_BITS["fill"]
    phone_bits = batch_bits | STEP_BITS["phone"]
    phone_keys = [f"{phone_key('q.k_phone')} AS k_phone_key", f"{phone_key('q.l_phone')} AS l_phone_key"]
    # New entities: nothing to compare.
    new = (f"SELECT {target_cols}, CAST(NULL AS BIGINT) AS existing_id, false AS out_of_scope, "
           + ", ".join(f"CAST(NULL AS STRING) AS cur_{f}, CAST(NULL AS BIGINT) AS cur_src_{f}"
                       for f in MERGED_FIELDS)
           + " FROM dc_targets t LEFT JOIN dc_existing e ON e.ekey = t.target_key WHERE e.id IS NULL")
    new = layer(new, _plan_columns(d, existing=False, source_id=source_id, priority=priority,
                                   batch_bits=batch_bits))
    new = layer(new, ["'create' AS action", "false AS adopted", "CAST(NULL AS STRING) AS cur_phone_index",
                      "CAST(NULL AS BIGINT) AS cur_src_phone_index", *phone_keys])
    new = layer(new, [
        "coalesce(q.k_phone_key, q.l_phone_key, '') AS v_phone_index",
        "CASE WHEN q.k_phone_key IS NOT NULL THEN q.src_k_phone WHEN q.l_phone_key IS NOT NULL THEN q.src_l_phone "
        "END AS set_row_phone",
        f"({phone_bits} | CASE WHEN q.k_phone_key IS NULL THEN q.stp_l_phone | {fill_bit} ELSE q.stp_k_phone END "
        f"| CASE WHEN q.nd_phone > 1 THEN {dedup} ELSE 0 END) AS set_steps_phone",
        "false AS cross_phone", "CAST(NULL AS STRING) AS cross_status_phone",
    ])

    # Existing entities: compare field by field.
    cols = [target_cols, "e.id AS existing_id", "e.uscc AS cur_uscc",
            "coalesce(e.phone_index, '') AS cur_phone_index",
            f"substr(e.region, 1, {len(scope_prefix)}) <> {d.lit(scope_prefix)} AS out_of_scope"]
    joins = ["JOIN dc_existing e ON e.ekey = t.target_key"]
    for f in (*MERGED_FIELDS, "phone_index"):
        if f != "phone_index":
            cols.append(f"e.{f} AS cur_{f}")
        if with_provenance:
            cols += [f"p_{f}.source_id AS cur_src_{f}", f"p_{f}.priority AS cur_pri_{f}"]
            joins.append(f"LEFT JOIN dc_provenance p_{f} ON p_{f}.subject_id = e.id AND p_{f}.field = {d.lit(f)}")
        else:
            cols += [f"CAST(NULL AS BIGINT) AS cur_src_{f}", f"CAST(NULL AS BIGINT) AS cur_pri_{f}"]
    old = f"SELECT {', '.join(cols)} FROM dc_targets t {' '.join(joins)}"
    old = layer(old, [
        f"(q.k_{f} IS NOT NULL AND NOT {d.not_distinct(f'q.k_{f}', f'q.cur_{f}')}) AS changed_{f}"
        for f in MERGED_FIELDS
    ])
    old = layer(old, [
        f"(q.changed_{f} AND q.cur_{f} IS NOT NULL AND q.cur_{f} <> '' AND q.cur_src_{f} IS NOT NULL "
        f"AND q.cur_src_{f} <> {int(source_id)}) AS cross_{f}" for f in MERGED_FIELDS
    ])
    old = layer(old, [
        f"(q.changed_{f} AND (NOT q.cross_{f} OR {int(priority)} > q.cur_pri_{f})) AS apply_{f}"
        for f in MERGED_FIELDS
    ])
    old = layer(old, [
        f"((CASE WHEN q.apply_{f} THEN q.k_{f} ELSE q.cur_{f} END) IS NULL OR "
        f"(CASE WHEN q.apply_{f} THEN q.k_{f} ELSE q.cur_{f} END) = '') AND q.l_{f} IS NOT NULL AS fill_{f}"
        for f in MERGED_FIELDS
    ])
    old = layer(old, _plan_columns(d, existing=True, source_id=source_id, priority=priority,
                                   batch_bits=batch_bits))
    sets = " OR ".join(f"q.set_row_{f} IS NOT NULL" for f in MERGED_FIELDS)
    # A record without a code that this batch's entity of a code matched takes the code (see ``runner._adopt``).
    old = layer(old, ["(q.cur_uscc IS NULL AND q.uscc IS NOT NULL) AS adopted", *phone_keys])
    # The phone's key: the same steps as a master field above (changed → cross-source → applied → filled).
    old = layer(old, ["(q.k_phone_key IS NOT NULL AND q.k_phone_key <> q.cur_phone_index) AS changed_phone"])
    old = layer(old, [f"(q.changed_phone AND q.cur_phone_index <> '' AND q.cur_src_phone_index IS NOT NULL "
                      f"AND q.cur_src_phone_index <> {int(source_id)}) AS cross_phone"])
    old = layer(old, [f"(q.changed_phone AND (NOT q.cross_phone OR {int(priority)} > q.cur_pri_phone_index)) "
                      "AS apply_phone"])
    old = layer(old, ["(CASE WHEN q.apply_phone THEN q.k_phone_key ELSE q.cur_phone_index END = '' "
                      "AND q.l_phone_key IS NOT NULL) AS fill_phone"])
    old = layer(old, [
        "CASE WHEN q.fill_phone THEN q.l_phone_key WHEN q.apply_phone THEN q.k_phone_key ELSE q.cur_phone_index END "
        "AS v_phone_index",
        "CASE WHEN q.fill_phone THEN q.src_l_phone WHEN q.apply_phone THEN q.src_k_phone END AS set_row_phone",
        f"({phone_bits} | CASE WHEN q.fill_phone THEN q.stp_l_phone | {fill_bit} ELSE q.stp_k_phone END "
        f"| CASE WHEN q.nd_phone > 1 THEN {dedup} ELSE 0 END "
        f"| CASE WHEN q.cross_phone AND q.apply_phone THEN {survivor} ELSE 0 END) AS set_steps_phone",
        f"CASE WHEN q.cross_phone THEN CASE WHEN {int(priority)} > q.cur_pri_phone_index THEN 'applied' "
        f"WHEN {int(priority)} < q.cur_pri_phone_index THEN 'kept' ELSE 'open' END END AS cross_status_phone",
    ])
    old = layer(old, [f"CASE WHEN {sets} OR q.adopted OR q.set_row_phone IS NOT NULL THEN 'update' "
                      "ELSE 'unchanged' END AS action"])
    keep = ["target_key", "rep_row", "n_rows", "n_links", "n_duplicates", "uscc", "existing_id", "out_of_scope",
            "action", "adopted", "v_phone_index", "set_row_phone", "set_steps_phone", "cur_phone_index",
            "k_phone_key", "src_k_phone", "nd_phone", "cur_src_phone_index", "cross_phone", "cross_status_phone"]
    for f in MERGED_FIELDS:
        keep += [f"k_{f}", f"src_k_{f}", f"nd_{f}", f"cur_{f}", f"cur_src_{f}", f"v_{f}", f"set_row_{f}",
                 f"set_steps_{f}", f"cross_{f}", f"cross_status_{f}"]
    columns = ", ".join(keep)
    return f"SELECT {columns} FROM ({new}) a UNION ALL SELECT {columns} FROM ({old}) b"


def member_plan_sql(d: Dialect, *, batch_bits: int) -> str:
    """Each member row with its entity's action and the fields it set: ``field_steps``, the step mask of each field
    at its position in :data:`LINEAGE_FIELDS` (see :func:`jianguan.datacenter.pipeline.fields.encode_field_steps`).

    ``dc_adopted(id, row_no)``: per master record that takes a code, the row of the code that matched it."""
    adopting = "(p.adopted AND ad.row_no = m.row_no)"  # the row that matched the record and brought its code
    code_steps = batch_bits | STEP_BITS["code_adopted"]
    special = {"uscc": f"CASE WHEN {adopting} THEN '{code_steps}' ELSE '' END",
               "phone_index": "CASE WHEN p.set_row_phone = m.row_no THEN CAST(p.set_steps_phone AS STRING) "
                              "ELSE '' END"}
    parts = ", ".join(
        f"coalesce(CASE WHEN p.set_row_{f} = m.row_no THEN CAST(p.set_steps_{f} AS STRING) END, '')"
        if f in MERGED_FIELDS else special.get(f, "''")
        for f in LINEAGE_FIELDS
    )
    field_steps = f"trim(TRAILING ',' FROM concat_ws(',', {parts}))"
    contributes = " OR ".join([f"coalesce(p.set_row_{f} = m.row_no, false)" for f in MERGED_FIELDS]
                              + [f"coalesce({adopting}, false)", "coalesce(p.set_row_phone = m.row_no, false)"])
    action = ("CASE WHEN m.role = 'link' THEN 'linked' WHEN p.action = 'create' THEN 'created' "
              "ELSE 'updated' END")
    return (
        f"SELECT m.target_key, p.existing_id, p.action AS entity_action, p.out_of_scope, p.rep_row, m.row_no, "
        f"m.role, m.weight, m.probability, m.partner, {action} AS action, {field_steps} AS field_steps, "
        f"({contributes}) AS contributes FROM dc_members m JOIN dc_plan p ON p.target_key = m.target_key "
        "LEFT JOIN dc_adopted ad ON ad.id = p.existing_id"
    )


def lineage_sql(d: Dialect) -> str:
    """One row per (entity, member row) that set at least one field, or that is a probabilistic link; identical
    rows that set nothing are listed on the representative row."""
    idle = "CASE WHEN mm.role <> 'link' AND NOT mm.contributes THEN mm.row_no END"
    dups = (f"SELECT mm.target_key, {d.join_sorted_ints(idle)} AS dups FROM dc_member_plan mm "
            "JOIN dc_target_sizes z ON z.target_key = mm.target_key WHERE z.n > 1 GROUP BY mm.target_key")
    return (
        "SELECT mp.target_key, mp.existing_id, mp.row_no, mp.action, mp.field_steps, mp.role, mp.weight, "
        "mp.probability, mp.partner, "
        "CASE WHEN mp.row_no = mp.rep_row THEN coalesce(dd.dups, '') ELSE '' END AS duplicate_rows "
        f"FROM dc_member_plan mp LEFT JOIN ({dups}) dd ON dd.target_key = mp.target_key "
        "WHERE NOT mp.out_of_scope AND ((mp.entity_action <> 'unchanged' AND mp.contributes) "
        "OR mp.partner IS NOT NULL)"
    )


def conflicts_sql(d: Dialect, phone_pepper: str = "") -> str:
    """Cross-source conflicts (from the plan) and within-batch ones (two rows of one entity disagree). The phone
    is compared as its keyed hash (with ``phone_pepper``; without one phones are left out), never as a number."""
    parts = []
    for f in MERGED_FIELDS:
        parts.append(
            f"SELECT p.target_key, p.existing_id, {d.lit(f)} AS field, 'cross_source' AS kind, "
            f"CAST(p.cur_{f} AS STRING) AS current_value, CAST(p.k_{f} AS STRING) AS incoming_value, "
            f"p.cur_src_{f} AS current_source_id, p.src_k_{f} AS row_no, p.cross_status_{f} AS status "
            f"FROM dc_plan p WHERE p.cross_{f} AND NOT p.out_of_scope"
        )
        parts.append(
            f"SELECT m.target_key, p.existing_id, {d.lit(f)} AS field, 'within_batch' AS kind, "
            f"CAST(p.k_{f} AS STRING) AS current_value, CAST(m.s_{f} AS STRING) AS incoming_value, "
            f"CAST(NULL AS BIGINT) AS current_source_id, m.row_no, 'kept' AS status "
            f"FROM dc_members m JOIN dc_plan p ON p.target_key = m.target_key "
            f"WHERE p.nd_{f} > 1 AND m.role <> 'link' AND m.s_{f} IS NOT NULL AND m.s_{f} <> p.k_{f} "
            f"AND NOT p.out_of_scope"
        )
    # The phone's key between sources and between rows of one batch (values are keys).
    parts.append(
        "SELECT p.target_key, p.existing_id, 'phone_index' AS field, 'cross_source' AS kind, "
        "p.cur_phone_index AS current_value, p.k_phone_key AS incoming_value, "
        "p.cur_src_phone_index AS current_source_id, p.src_k_phone AS row_no, p.cross_status_phone AS status "
        "FROM dc_plan p WHERE p.cross_phone AND NOT p.out_of_scope"
    )
    if phone_pepper:
        member_key = phone_key_sql(d, phone_match_sql(d, "m.s_phone"), phone_pepper)
        parts.append(
            "SELECT m.target_key, p.existing_id, 'phone_index' AS field, 'within_batch' AS kind, "
            f"p.k_phone_key AS current_value, {member_key} AS incoming_value, "
            "CAST(NULL AS BIGINT) AS current_source_id, m.row_no, 'kept' AS status "
            "FROM dc_members m JOIN dc_plan p ON p.target_key = m.target_key "
            f"WHERE p.nd_phone > 1 AND m.role <> 'link' AND m.s_phone IS NOT NULL AND p.k_phone_key IS NOT NULL "
            f"AND {member_key} <> p.k_phone_key AND NOT p.out_of_scope"
        )
    return " UNION ALL ".join(parts)
