"""The entity library's clean → standardise → verify → de-duplicate steps, as SQL for either engine.

Input is the table ``dc_raw(row_no, <canonical fields as text>)`` written by the extract step, plus the reference
tables of :mod:`jianguan.datacenter.pipeline.reference`. Each stage is one ``SELECT`` over the previous stage:

* ``dv_<f>``    — for the fields whose values repeat (:data:`VALUE_FIELDS`), one row per distinct value as
  delivered with everything the steps below make of it: cleaned, standardised and, for the region, parsed and looked
  up as far as the value alone allows. A registry of a million rows has a dozen statuses and a few thousand dates,
  industries and places; the rows join these tables instead of computing the same result a million times;
* ``dc_clean``  — per field ``c_<f>`` (cleaned text or NULL) and ``k_<f>`` (clean steps, a bit mask);
* ``dc_parse``  — address and region text split into city / county / rest;
* ``dc_std``    — standardised values ``s_<f>`` and all steps so far ``t_<f>`` (bit mask);
* ``dc_checked``— ``errors`` and ``warnings`` (bit masks of problem codes).

Step codes and problem codes are listed in :mod:`jianguan.datacenter.pipeline.fields`.
"""

# ruff: noqa: S608 - this module builds SQL for the pipeline engines: values go through the dialect's literal
# helper, column names from delivered files through its identifier quoting; table names are fixed in code.

from __future__ import annotations

from dataclasses import dataclass, field

from jianguan.datacenter.pipeline.dialect import Dialect
from jianguan.datacenter.pipeline.fields import DEFAULT_NULL_MARKERS, FIELD_NAMES, PROBLEM_BITS, STEP_BITS
from jianguan.datacenter.pipeline.reference import ReferenceData
from jianguan.lib.validators import USCC_CHARSET

CJK = "[\u4e00-\u9fa5]"
_FULL = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3010\u3011\uffe5"
_HALF = "".join(chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)) + "[]\u00a5"
_SPACES = "\u3000\t\n\r\u000b\u000c\u00a0\u2002\u2003\u2009"
_DELETE = "\u200b\ufeff"
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_STATUS_ACTIVE = ("存续", "在业", "开业", "在营", "正常", "登记成立", "确立", "存续(在营、开业、在册)", "ACTIVE", "1")
_TYPE_CODES = ("enterprise", "individual", "cooperative", "other")
_FOREIGN_CURRENCY = "(美元|USD|US\\$|港元|港币|HKD|欧元|EUR|日元|JPY|英镑|GBP|澳元|AUD)"


#: Fields cleaned and standardised once per distinct value (``dv_<f>``) rather than once per row.
VALUE_FIELDS = ("subject_type", "region", "industry", "registered_capital", "established_on", "status", "updated_at")


@dataclass
class EntityOptions:
    """Per-batch settings of the entity steps."""

    today: str  # ISO date the batch is checked against ("established in the future")
    scope_prefix: str = "32"  # rows must fall inside the source's region subtree
    null_markers: tuple[str, ...] = DEFAULT_NULL_MARKERS
    capital_unit: str = "10k"  # unit of a bare number: "10k" (万元) or "yuan" (元)
    mapped: frozenset[str] | None = None  # canonical fields present in the delivery (None: all)
    extra: dict[str, str] = field(default_factory=dict)


def layer(prev: str, cols: list[str], alias: str = "q") -> str:
    """``SELECT <alias>.*, <cols> FROM (<prev>) <alias>``: each layer names what the next one reuses, so no
    expression is written (or computed) twice."""
    return f"SELECT {alias}.*, {', '.join(cols)} FROM ({prev}) {alias}"


class EntitySql:
    def __init__(self, dialect: Dialect, ref: ReferenceData, options: EntityOptions) -> None:
        self.d = dialect
        self.ref = ref
        self.o = options

    # --- helpers ------------------------------------------------------------------------------------------------

    @staticmethod
    def _steps(*parts: tuple[str, str], bits: dict[str, int] = STEP_BITS) -> str:
        """Bit mask of the codes whose condition holds (NULL conditions count as false)."""
        if not parts:
            return "0"
        return "(" + " | ".join(f"CASE WHEN {cond} THEN {bits[code]} ELSE 0 END" for cond, code in parts) + ")"

    @staticmethod
    def _chain(*parts: str) -> str:
        """Combine step masks."""
        return "(" + " | ".join(f"coalesce({p}, 0)" for p in parts) + ")"

    def _despace_cjk(self, expr: str) -> str:
        """Remove spaces from text written in Chinese (names, addresses); Latin-only text keeps its spaces."""
        d = self.d
        return (f"CASE WHEN instr({expr}, ' ') > 0 AND {d.regexp_matches(expr, CJK)} "
                f"THEN {d.regexp_replace_all(expr, ' ', '')} ELSE {expr} END")

    def _longest_prefix(self, expr: str, names: list[str]) -> str:
        """The longest of ``names`` that ``expr`` starts with ('' when none; NULL stays NULL) — what
        ``regexp_extract(expr, '^(<names, longest first>)', 1)`` returns, found by comparing the first n characters
        with the names of length n (a hash lookup) instead of running a large alternation with a capture group,
        which RE2 cannot do with its fast automaton."""
        by_length: dict[int, list[str]] = {}
        for name in sorted(set(n for n in names if n)):
            by_length.setdefault(len(name), []).append(name)
        whens = " ".join(
            f"WHEN substr({expr}, 1, {n}) IN ({', '.join(self.d.lit(x) for x in group)}) THEN substr({expr}, 1, {n})"
            for n, group in sorted(by_length.items(), reverse=True)
        )
        return f"CASE WHEN {expr} IS NULL THEN NULL {whens} ELSE '' END"

    # --- stages -------------------------------------------------------------------------------------------------

    def value_tables(self) -> list[tuple[str, str]]:
        """``dv_<f>`` for each of :data:`VALUE_FIELDS`: created (as tables) before the stages that join them."""
        return [(f"dv_{f}", self.value_sql(f)) for f in VALUE_FIELDS]

    def stages(self) -> list[tuple[str, str]]:
        return [
            ("dc_clean", self.clean_sql()),
            ("dc_parse", self.parse_sql()),
            ("dc_std", self.standardise_sql()),
            ("dc_checked", self.verify_sql()),
        ]

    def _mapped(self, field: str) -> bool:
        return self.o.mapped is None or field in self.o.mapped

    def _null_marker(self, expr: str) -> str:
        """Whether a value is a null marker. CASE rather than AND: a projection evaluates both sides of an AND for
        every row, a CASE only upper-cases the values short enough to be a marker."""
        markers = ", ".join(self.d.lit(m.upper()) for m in self.o.null_markers)
        longest = max((len(m) for m in self.o.null_markers), default=0)
        return f"CASE WHEN length({expr}) <= {longest} THEN upper({expr}) IN ({markers}) ELSE false END"

    # Each value table: the distinct values of one field as delivered (NULL included), through the same clean
    # steps as a row's field, then that field's own standardisation. Only what the value alone decides is here;
    # what needs other fields of the row (the region's county read with the credit code's city, the subject type
    # from the code or the name) stays in the row pass.

    def _clean_value(self, f: str) -> str:
        d = self.d
        sql = f"SELECT DISTINCT {f} AS r_{f} FROM dc_raw"
        sql = layer(sql, [f"{half_width(d, f'q.r_{f}')} AS w_{f}"])
        sql = layer(sql, [f"{squeeze_spaces(d, f'q.w_{f}')} AS sp_{f}"])
        sql = layer(sql, [f"{self._null_marker(f'q.sp_{f}')} AS nm_{f}"])
        steps = self._steps((f"q.w_{f} <> q.r_{f}", "width"), (f"q.sp_{f} <> q.w_{f}", "space"),
                            (f"q.sp_{f} <> '' AND q.nm_{f}", "null"))
        return layer(sql, [f"CASE WHEN q.sp_{f} = '' OR q.nm_{f} THEN NULL ELSE q.sp_{f} END AS c_{f}",
                           f"{steps} AS k_{f}"])

    def value_columns(self, f: str) -> list[str]:
        """The columns of ``dv_<f>`` besides the value as delivered (``r_<f>``)."""
        extra = {
            "subject_type": ["x_type_supplied"],
            "region": ["pr_digits", "x_region_digits", "pr_county", "pr_k12", "prc_code"],
            "registered_capital": ["s_registered_capital", "t_registered_capital", "x_capital_currency",
                                   "x_capital_bad"],
        }
        return [f"c_{f}", f"k_{f}", *extra.get(f, [f"s_{f}", f"t_{f}"])]

    def value_sql(self, f: str) -> str:
        d = self.d
        o = self.o
        k = self._steps
        sql = self._clean_value(f)
        if f == "subject_type":
            sql = layer(sql, [f"{self._type_supplied()} AS x_type_supplied"])
        elif f == "status":
            sql = layer(sql, [f"{self._status()} AS s_status"])
            status_map = k(("q.s_status <> q.c_status", "status_map"))
            sql = layer(sql, [f"{self._chain('q.k_status', status_map)} AS t_status"])
        elif f in ("established_on", "updated_at"):
            sql = layer(sql, [f"replace(q.c_{f}, ' ', '') AS dt_t"])
            sql = layer(sql, [f"CAST(try_cast({self._iso_date('q.dt_t')} AS DATE) AS STRING) AS s_{f}"])
            step = (k((f"q.s_{f} <> q.c_{f}", "date"),) if f == "established_on" else "0")
            sql = layer(sql, [f"{self._chain(f'q.k_{f}', step)} AS t_{f}"])
        elif f == "registered_capital":
            default_factor = "1" if o.capital_unit == "10k" else "0.0001"
            cap_t = d.regexp_replace_all("q.c_registered_capital", "[ ,]|人民币|RMB|CNY|¥", "")
            sql = layer(sql, [f"{cap_t} AS cap_t"])
            sql = layer(sql, [f"{d.regexp_extract('q.cap_t', '^(-?[0-9]+([.][0-9]+)?)', 1)} AS cap_num",
                              f"{d.regexp_matches('q.cap_t', _FOREIGN_CURRENCY)} AS x_capital_currency"])
            sql = layer(sql, ["substr(q.cap_t, length(q.cap_num) + 1) AS cap_unit"])
            sql = layer(sql, [
                f"CASE WHEN q.cap_num = '' THEN NULL WHEN q.cap_unit IN ('万', '万元') THEN '1' "
                f"WHEN q.cap_unit = '' THEN '{default_factor}' WHEN q.cap_unit = '元' THEN '0.0001' "
                "WHEN q.cap_unit IN ('亿', '亿元') THEN '10000' WHEN q.cap_unit = '千元' THEN '0.1' END AS cap_factor",
            ])
            sql = layer(sql, [
                "q.cap_factor IS NULL AS x_capital_bad",
                "CAST(CAST(try_cast(q.cap_num AS DECIMAL(30, 8)) * CAST(q.cap_factor AS DECIMAL(12, 4)) "
                "AS DECIMAL(20, 4)) AS STRING) AS s_registered_capital",
            ])
            sql = layer(sql, [f"{self._chain('q.k_registered_capital', k(('q.s_registered_capital <> q.c_registered_capital', 'money')))} AS t_registered_capital"])  # noqa: E501
        elif f == "industry":
            sql = layer(sql, ["upper(replace(q.c_industry, ' ', '')) AS ind_t"])
            sql = layer(sql, [f"CASE WHEN {d.regexp_matches('q.ind_t', '^[A-T]?[0-9]{2,4}$')} "
                              f"THEN {d.regexp_replace_all('q.ind_t', '^[A-T]', '')} END AS ind_digits"])
            sql = layer(sql, [f"CASE WHEN {d.regexp_matches('q.ind_t', '^[A-T]$')} THEN q.ind_t "
                              "WHEN length(q.ind_digits) = 4 THEN substr(q.ind_digits, 1, 3) ELSE q.ind_digits END "
                              "AS ind_try"])
            sql = (f"SELECT q.*, coalesce(ic.code, inm.code) AS s_industry, ic.code AS ind_code, "
                   f"inm.code AS ind_name_code FROM ({sql}) q LEFT JOIN ref_industry ic ON ic.code = q.ind_try "
                   "LEFT JOIN ref_industry inm ON inm.name = q.c_industry")
            sql = layer(sql, [f"{self._chain('q.k_industry', k(('q.ind_code IS NOT NULL AND q.ind_code <> q.c_industry', 'industry_code'), ('q.ind_code IS NULL AND q.ind_name_code IS NOT NULL', 'industry_name')))} AS t_industry"])  # noqa: E501
        elif f == "region":
            sql = layer(sql, [f"coalesce({d.regexp_extract('q.c_region', '([0-9]{6})', 1)}, '') AS pr_digits",
                              f"{d.regexp_replace_all('q.c_region', '[0-9 ]', '')} AS pr_text"])
            sql = self._place_layers(sql, "q.pr_text", "pr")
            sql = (f"SELECT q.*, rd.code AS x_region_digits, prc.code AS prc_code, "
                   f"coalesce(prk1.code, prk2.code) AS pr_k12 FROM ({sql}) q "
                   "LEFT JOIN ref_region rd ON rd.code = q.pr_digits AND rd.active "
                   "LEFT JOIN ref_city_name prc ON prc.name = q.pr_city "
                   "LEFT JOIN ref_county_key prk1 ON prk1.k = concat(prc.code, '|', q.pr_county) "
                   "LEFT JOIN ref_county_key prk2 ON prk2.k = concat('|', q.pr_county)")
        else:
            raise ValueError(f"{f} is not a value field")
        return f"SELECT q.r_{f}, {', '.join(f'q.{c}' for c in self.value_columns(f))} FROM ({sql}) q"

    def _iso_date(self, t: str) -> str:
        """A date written ``2019-03-05``, ``2019/3/5``, ``2019年3月5日`` or ``20190305`` as ``YYYY-MM-DD`` (not yet
        checked to be a date)."""
        d = self.d
        p1 = "^([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})"
        p2 = "^([0-9]{4})([0-9]{2})([0-9]{2})$"
        return (f"CASE WHEN {d.regexp_matches(t, p1)} THEN concat({d.regexp_extract(t, p1, 1)}, '-', "
                f"lpad({d.regexp_extract(t, p1, 2)}, 2, '0'), '-', lpad({d.regexp_extract(t, p1, 3)}, 2, '0')) "
                f"WHEN {d.regexp_matches(t, p2)} THEN concat({d.regexp_extract(t, p2, 1)}, '-', "
                f"{d.regexp_extract(t, p2, 2)}, '-', {d.regexp_extract(t, p2, 3)}) END")

    def clean_sql(self) -> str:
        d = self.d
        present = [f for f in FIELD_NAMES if self._mapped(f) and f not in VALUE_FIELDS]
        values = [f for f in FIELD_NAMES if f in VALUE_FIELDS]
        sql = "SELECT row_no, " + ", ".join([*(f"{f} AS r_{f}" for f in present),
                                             *(f"{f} AS r_{f}" for f in values)]) + " FROM dc_raw"
        # Most rows need neither half-width conversion nor space squeezing: one test over the whole row (its fields
        # joined by a separator) decides whether the per-field expressions run at all. The tests can only err
        # towards running them (a separator next to a space in the data), never skip a field that needs them.
        sql = layer(sql, [f"concat_ws({d.lit(_ROW_SEPARATOR)}, {', '.join(f'q.r_{f}' for f in present)}) AS g_row"])
        # Every way a row can need squeezing has an ASCII space in it: a row without one (most) skips that regex.
        sql = layer(sql, [f"coalesce({d.regexp_matches('q.g_row', _NEEDS_TRANSLATION)}, false) AS g_width",
                          f"CASE WHEN instr(q.g_row, ' ') > 0 THEN coalesce("
                          f"{d.regexp_matches('q.g_row', _ROW_NEEDS_SQUEEZE)}, false) ELSE false END AS g_space"])
        sql = layer(sql, [f"CASE WHEN q.g_width THEN {half_width(d, f'q.r_{f}')} ELSE q.r_{f} END AS w_{f}"
                          for f in present])
        sql = layer(sql, [f"CASE WHEN q.g_width OR q.g_space THEN {squeeze_spaces(d, f'q.w_{f}')} ELSE q.w_{f} END "
                          f"AS sp_{f}" for f in present])
        sql = layer(sql, [f"{self._null_marker(f'q.sp_{f}')} AS nm_{f}" for f in present])
        cols = ["q.row_no"]
        joins = []
        for f in FIELD_NAMES:
            if f in VALUE_FIELDS:  # cleaned (and more) once per value: joined from its value table
                cols += [f"q.r_{f}", *(f"v_{f}.{c}" for c in self.value_columns(f))]
                joins.append(f"LEFT JOIN dv_{f} v_{f} ON {d.not_distinct(f'v_{f}.r_{f}', f'q.r_{f}')}")
                continue
            if f not in present:
                cols += [f"CAST(NULL AS STRING) AS r_{f}", f"CAST(NULL AS STRING) AS c_{f}", f"0 AS k_{f}"]
                continue
            steps = self._steps((f"q.g_width AND q.w_{f} <> q.r_{f}", "width"),
                                (f"(q.g_width OR q.g_space) AND q.sp_{f} <> q.w_{f}", "space"),
                                (f"q.sp_{f} <> '' AND q.nm_{f}", "null"))
            cols += [f"q.r_{f}", f"CASE WHEN q.sp_{f} = '' OR q.nm_{f} THEN NULL ELSE q.sp_{f} END AS c_{f}",
                     f"{steps} AS k_{f}"]
        return f"SELECT {', '.join(cols)} FROM ({sql}) q {' '.join(joins)}"

    def _place_layers(self, sql: str, text: str, p: str) -> str:
        """Add ``<p>_city``, ``<p>_county``, ``<p>_rest``: the place names a text starts with (province dropped).

        A county name is looked for first (淮安区 starts like the city 淮安), then a city followed by a county.
        """
        d = self.d
        province, short = d_escape(self.ref.province_name), d_escape(self.ref.province_short)
        # The province name (full, else short) dropped from the start, by plain comparison rather than a regex.
        sql = layer(sql, [f"CASE WHEN substr({text}, 1, {len(province)}) = {d.lit(province)} "
                          f"THEN substr({text}, {len(province) + 1}) WHEN substr({text}, 1, {len(short)}) = "
                          f"{d.lit(short)} THEN substr({text}, {len(short) + 1}) ELSE {text} END AS {p}_t1"])
        counties, cities = self.ref.county_alternation.split("|"), self.ref.city_alternation.split("|")
        sql = layer(sql, [f"{self._longest_prefix(f'q.{p}_t1', counties)} AS {p}_cf",
                          f"{self._longest_prefix(f'q.{p}_t1', cities)} AS {p}_c0"])
        sql = layer(sql, [f"CASE WHEN q.{p}_cf <> '' THEN '' ELSE q.{p}_c0 END AS {p}_city"])
        sql = layer(sql, [f"substr(q.{p}_t1, length(q.{p}_city) + 1) AS {p}_after"])
        sql = layer(sql, [f"CASE WHEN q.{p}_cf <> '' THEN q.{p}_cf ELSE "
                          f"{self._longest_prefix(f'q.{p}_after', counties)} END AS {p}_county"])
        return layer(sql, [f"substr(q.{p}_after, length(q.{p}_county) + 1) AS {p}_rest"])

    def parse_sql(self) -> str:
        """Step 1 of standardisation: text-only normalisation and the place-name split (no lookups yet)."""
        sql = layer("SELECT * FROM dc_clean", [
            "upper(replace(replace(q.c_uscc, ' ', ''), '-', '')) AS p_uscc",
            f"{self._despace_cjk('q.c_name')} AS p_name",
            f"{self._despace_cjk('q.c_legal_representative')} AS p_legal_representative",
            f"{self._despace_cjk('q.c_address')} AS p_address",
        ])
        return self._place_layers(sql, "q.p_address", "pa")

    def _resolve_place(self, p: str, hint_city: str) -> tuple[list[str], str]:
        """Joins and expression resolving ``<p>_city/_county`` to a region code."""
        joins = [
            f"LEFT JOIN ref_city_name {p}c ON {p}c.name = q.{p}_city",
            f"LEFT JOIN ref_county_key {p}k1 ON {p}k1.k = concat({p}c.code, '|', q.{p}_county)",
            f"LEFT JOIN ref_county_key {p}k2 ON {p}k2.k = concat('|', q.{p}_county)",
            f"LEFT JOIN ref_county_key {p}k3 ON {p}k3.k = concat({hint_city}, '|', q.{p}_county)",
        ]
        code = f"CASE WHEN q.{p}_county <> '' THEN coalesce({p}k1.code, {p}k2.code, {p}k3.code) ELSE {p}c.code END"
        return joins, code

    def standardise_sql(self) -> str:
        d = self.d
        uscc_city = "concat(substr(q.p_uscc, 3, 4), '00')"
        pa_joins, pa_code = self._resolve_place("pa", uscc_city)
        # The region column's place was looked up in ``dv_region`` as far as its text alone allows; a county named
        # without its city is read, last, as a county of the credit code's city.
        pr_code = "CASE WHEN q.pr_county <> '' THEN coalesce(q.pr_k12, prk3.code) ELSE q.prc_code END"
        joins = [
            f"LEFT JOIN ref_county_key prk3 ON prk3.k = concat({uscc_city}, '|', q.pr_county)",
            *pa_joins,
            "LEFT JOIN ref_region ru ON ru.code = substr(q.p_uscc, 3, 6) AND ru.active AND ru.level <> 'province'",
        ]
        sql = (f"SELECT q.*, {pr_code} AS x_region_name, {pa_code} AS x_region_address, "
               f"ru.code AS x_region_uscc FROM dc_parse q {' '.join(joins)}")

        # Region: the column (code, else name) first; the address, then the credit code, fill in or refine it.
        sql = layer(sql, ["coalesce(q.x_region_digits, q.x_region_name) AS x_base"])
        sql = layer(sql, [
            "coalesce(q.x_region_address IS NOT NULL AND substr(q.x_region_address, 5, 2) <> '00' "
            "AND substr(q.x_base, 5, 2) = '00' AND substr(q.x_region_address, 1, 4) = substr(q.x_base, 1, 4), false) "
            "AS x_refine_addr",
            "coalesce(q.x_region_uscc IS NOT NULL AND substr(q.x_region_uscc, 5, 2) <> '00' "
            "AND substr(q.x_base, 5, 2) = '00' AND substr(q.x_region_uscc, 1, 4) = substr(q.x_base, 1, 4), false) "
            "AS x_refine_uscc",
        ])
        sql = layer(sql, [
            "CASE WHEN q.x_base IS NULL THEN coalesce(q.x_region_address, q.x_region_uscc) "
            "WHEN q.x_refine_addr THEN q.x_region_address WHEN q.x_refine_uscc THEN q.x_region_uscc "
            "ELSE q.x_base END AS s_region",
            "CASE WHEN q.x_region_digits IS NOT NULL AND NOT q.x_refine_addr AND NOT q.x_refine_uscc "
            f"THEN {STEP_BITS['region_code']} WHEN q.x_region_name IS NOT NULL AND q.x_region_digits IS NULL "
            f"AND NOT q.x_refine_addr AND NOT q.x_refine_uscc THEN {STEP_BITS['region_name']} "
            f"WHEN q.x_base IS NULL AND q.x_region_address IS NOT NULL THEN {STEP_BITS['region_address']} "
            f"WHEN q.x_refine_addr THEN {STEP_BITS['region_address']} "
            f"WHEN q.x_region_uscc IS NOT NULL THEN {STEP_BITS['region_uscc']} ELSE 0 END AS z_region",
            # single characters removed: plain replace() does what the character class would, faster
            "replace(replace(replace(replace(q.c_phone, ' ', ''), '(', ''), ')', ''), '-', '') AS phone_t",
        ])
        sql = layer(sql, [
            f"{d.regexp_extract('q.phone_t', '^(?:[+]?86|0086)?(1[3-9][0-9]{9})$', 1)} AS phone_m",
            f"{d.regexp_extract('q.phone_t', '^(0[0-9]{9,11})$', 1)} AS phone_l",
            *self._type_columns(),
        ])
        sql = layer(sql, [
            "CASE WHEN q.phone_m <> '' THEN q.phone_m WHEN q.phone_l <> '' THEN CASE WHEN substr(q.phone_l, 2, 1) "
            "IN ('1', '2') THEN concat(substr(q.phone_l, 1, 3), '-', substr(q.phone_l, 4)) "
            "ELSE concat(substr(q.phone_l, 1, 4), '-', substr(q.phone_l, 5)) END END AS s_phone",
            "coalesce(q.x_type_supplied, q.x_type_uscc, q.x_type_name) AS s_subject_type",
        ])
        # Lookups that need the final region.
        prov = self.ref.province_name
        sql = (
            "SELECT q.*, rg.city_name AS rg_city_name, rg.name AS rg_name, rg.city_code AS rg_city_code, "
            f"pac.code AS pa_city_code FROM ({sql}) q "
            "LEFT JOIN ref_region rg ON rg.code = q.s_region "
            "LEFT JOIN ref_city_name pac ON pac.name = q.pa_city"
        )
        sql = layer(sql, [
            "CASE WHEN q.p_address IS NULL THEN NULL WHEN substr(q.s_region, 5, 2) <> '00' AND q.pa_rest <> '' "
            "AND (q.pa_county = q.rg_name OR (q.pa_county = '' AND (q.pa_city = '' OR q.pa_city_code = "
            f"q.rg_city_code))) THEN concat({d.lit(prov)}, q.rg_city_name, q.rg_name, q.pa_rest) "
            "ELSE q.p_address END AS s_address",
        ])
        k = self._steps
        out = [
            "q.row_no",
            *(f"q.r_{f}" for f in FIELD_NAMES),
            *(f"q.c_{f}" for f in FIELD_NAMES),
            "q.x_region_digits", "q.x_region_name", "q.x_region_address", "q.x_region_uscc", "q.pr_digits",
            "q.x_capital_currency", "q.x_capital_bad", "q.x_type_supplied", "q.x_type_uscc",
            "q.p_uscc AS s_uscc",
            f"{self._chain('q.k_uscc', k(('q.p_uscc <> q.c_uscc', 'case')))} AS t_uscc",
            "q.p_name AS s_name",
            f"{self._chain('q.k_name', k(('q.p_name <> q.c_name', 'space')))} AS t_name",
            "q.p_legal_representative AS s_legal_representative",
            f"{self._chain('q.k_legal_representative', k(('q.p_legal_representative <> q.c_legal_representative', 'space')))} AS t_legal_representative",  # noqa: E501
            "q.s_address",
            f"{self._chain('q.k_address', k(('q.p_address <> q.c_address', 'space'), ('q.s_address <> q.p_address', 'address_completed')))} AS t_address",  # noqa: E501
            "q.s_region",
            f"{self._chain('q.k_region', 'q.z_region')} AS t_region",
            "q.s_industry", "q.t_industry",
            "q.s_registered_capital", "q.t_registered_capital",
            "q.s_established_on", "q.t_established_on",
            "q.s_status", "q.t_status",
            "q.s_subject_type",
            f"{self._chain('q.k_subject_type', k(('q.x_type_supplied IS NOT NULL AND q.x_type_supplied <> q.c_subject_type', 'type_map'), ('q.x_type_supplied IS NULL AND q.x_type_uscc IS NOT NULL', 'type_uscc'), ('q.x_type_supplied IS NULL AND q.x_type_uscc IS NULL AND q.x_type_name IS NOT NULL', 'type_name')))} AS t_subject_type",  # noqa: E501
            "q.s_phone",
            f"{self._chain('q.k_phone', k(('q.s_phone <> q.c_phone', 'phone')))} AS t_phone",
            "q.s_updated_at", "q.t_updated_at",
            "q.c_record_id AS s_record_id",
            "q.k_record_id AS t_record_id",
        ]
        return f"SELECT {', '.join(out)} FROM ({sql}) q"

    def _type_supplied(self) -> str:
        """The subject type the delivery gives (``q.c_subject_type``) as a type code."""
        d = self.d
        t = "q.c_subject_type"
        return (
            f"CASE WHEN {t} IS NULL THEN NULL "
            f"WHEN lower({t}) IN ({', '.join(d.lit(c) for c in _TYPE_CODES)}) THEN lower({t}) "
            f"WHEN instr({t}, '个体') > 0 THEN 'individual' WHEN instr({t}, '合作社') > 0 THEN 'cooperative' "
            f"WHEN instr({t}, '公司') > 0 OR instr({t}, '企业') > 0 OR instr({t}, '合伙') > 0 "
            f"OR instr({t}, '独资') > 0 THEN 'enterprise' "
            f"WHEN instr({t}, '社会') > 0 OR instr({t}, '事业') > 0 OR instr({t}, '机关') > 0 "
            f"OR instr({t}, '其他') > 0 OR instr({t}, '民办') > 0 THEN 'other' END"
        )

    def _type_columns(self) -> list[str]:
        """The subject type read from the credit code and from the name (the row pass). The name is read only where
        it decides — the delivery gives no type and the code gives none (``x_type_uscc`` NULL) — so the regular
        expressions over the name run for the few rows without a usable code, not for every row."""
        d = self.d
        no_code_type = "(q.p_uscc IS NULL OR length(q.p_uscc) <> 18)"  # exactly where ``x_type_uscc`` is NULL
        from_uscc = (
            f"CASE WHEN {no_code_type} THEN NULL "
            "WHEN substr(q.p_uscc, 1, 2) = '91' THEN 'enterprise' WHEN substr(q.p_uscc, 1, 2) = '92' "
            "THEN 'individual' WHEN substr(q.p_uscc, 1, 2) = '93' THEN 'cooperative' ELSE 'other' END"
        )
        from_name = (
            f"CASE WHEN q.x_type_supplied IS NOT NULL OR NOT {no_code_type} THEN NULL "
            "WHEN q.p_name IS NULL THEN NULL WHEN instr(q.p_name, '合作社') > 0 THEN 'cooperative' "
            f"WHEN {d.regexp_matches('q.p_name', '(协会|学会|商会|基金会|研究会|促进会|联合会|医院|学校|幼儿园)$')} "
            f"THEN 'other' WHEN {d.regexp_matches('q.p_name', '(公司|厂|集团|企业|事务所|合伙)')} THEN 'enterprise' "
            "ELSE 'individual' END"
        )
        return [f"{from_uscc} AS x_type_uscc", f"{from_name} AS x_type_name"]

    def _status(self) -> str:
        d = self.d
        t = "q.c_status"
        return (
            f"CASE WHEN {t} IS NULL THEN NULL "
            f"WHEN lower({t}) IN ('active', 'revoked', 'deregistered', 'moved_out') THEN lower({t}) "
            f"WHEN upper({t}) IN ({', '.join(d.lit(s) for s in _STATUS_ACTIVE)}) THEN 'active' "
            f"WHEN instr({t}, '吊销') > 0 THEN 'revoked' WHEN instr({t}, '注销') > 0 THEN 'deregistered' "
            f"WHEN instr({t}, '迁出') > 0 THEN 'moved_out' WHEN instr({t}, '存续') > 0 THEN 'active' "
            f"WHEN instr({t}, '在业') > 0 THEN 'active' END"
        )

    def verify_sql(self) -> str:
        d = self.d
        scope = self.o.scope_prefix
        charset = "[0-9A-HJ-NPQRTUWXY]"
        sql = layer("SELECT * FROM dc_std", [
            f"length(q.s_uscc) = 18 AND {d.regexp_matches('q.s_uscc', f'^{charset}{{18}}$')} AS u_chars",
            f"{d.regexp_matches('q.s_uscc', '^[1-9ANY]')} AS u_dept",
            f"{d.regexp_matches('q.s_uscc', '^..[0-9]{6}')} AS u_region",
        ])
        sql = layer(sql, [f"CASE WHEN q.u_chars AND q.u_dept AND q.u_region THEN "
                          f"{uscc_check_char_sql(d, 'q.s_uscc')} END AS u_check"])
        errors = [
            ("q.s_uscc IS NOT NULL AND length(q.s_uscc) <> 18", "uscc.length"),
            ("length(q.s_uscc) = 18 AND NOT q.u_chars", "uscc.charset"),
            ("q.u_chars AND NOT q.u_dept", "uscc.department"),
            ("q.u_chars AND q.u_dept AND NOT q.u_region", "uscc.region"),
            ("q.u_check IS NOT NULL AND substr(q.s_uscc, 18, 1) <> q.u_check", "uscc.checksum"),
            ("q.s_name IS NULL", "name.missing"),
            ("length(q.s_name) > 200", "name.too_long"),
            ("length(q.s_legal_representative) > 50", "legal_representative.too_long"),
            ("length(q.s_address) > 300", "address.too_long"),
            ("q.pr_digits <> '' AND q.x_region_digits IS NULL", "region.unknown_code"),
            ("q.s_region IS NULL AND NOT (q.pr_digits <> '' AND q.x_region_digits IS NULL)", "region.unresolved"),
            (f"q.s_region IS NOT NULL AND substr(q.s_region, 1, {len(scope)}) <> {d.lit(scope)}",
             "region.out_of_scope"),
            ("q.c_industry IS NOT NULL AND q.s_industry IS NULL", "industry.unknown"),
            ("q.c_registered_capital IS NOT NULL AND q.x_capital_currency", "registered_capital.currency"),
            ("q.c_registered_capital IS NOT NULL AND NOT q.x_capital_currency AND (q.x_capital_bad "
             "OR q.s_registered_capital IS NULL OR length(q.s_registered_capital) > 17)",
             "registered_capital.invalid"),
            ("q.s_registered_capital IS NOT NULL AND substr(q.s_registered_capital, 1, 1) = '-'",
             "registered_capital.negative"),
            ("q.c_established_on IS NOT NULL AND q.s_established_on IS NULL", "established_on.invalid"),
            (f"q.s_established_on > {d.lit(self.o.today)}", "established_on.future"),
            ("q.c_status IS NOT NULL AND q.s_status IS NULL", "status.unknown"),
            ("q.c_subject_type IS NOT NULL AND q.x_type_supplied IS NULL", "subject_type.unknown"),
            (" AND ".join(f"q.c_{f} IS NULL" for f in FIELD_NAMES), "row.empty"),
        ]
        warnings = [
            ("q.x_type_uscc IS NOT NULL AND q.x_type_supplied IS NOT NULL AND q.x_type_uscc <> q.x_type_supplied",
             "uscc.type_mismatch"),
            ("q.x_region_uscc IS NOT NULL AND q.s_region IS NOT NULL "
             "AND substr(q.x_region_uscc, 1, 4) <> substr(q.s_region, 1, 4)", "uscc.region_mismatch"),
            ("q.x_region_address IS NOT NULL AND q.s_region IS NOT NULL AND NOT ("
             "substr(q.x_region_address, 1, 4) = substr(q.s_region, 1, 4) AND (substr(q.x_region_address, 5, 2) = '00' "
             "OR substr(q.s_region, 5, 2) = '00' OR q.x_region_address = q.s_region))", "address.region_mismatch"),
            ("q.c_phone IS NOT NULL AND q.s_phone IS NULL", "phone.invalid"),
            ("q.c_updated_at IS NOT NULL AND q.s_updated_at IS NULL", "updated_at.invalid"),
        ]
        if self._mapped("record_id"):
            warnings.append(("q.s_record_id IS NOT NULL AND count(*) OVER (PARTITION BY q.s_record_id) > 1",
                             "record_id.duplicate"))
        # Only what later steps read is kept: the standardised values, their steps, which fields the row supplied
        # (``present``: bit ``PRESENT_BITS[f]`` set where the cleaned value is not empty) and its problems. The row
        # as delivered stays in ``dc_raw`` (read back for the few quarantined rows), and the cleaned text and the
        # intermediate x_/u_ columns end here instead of being stored for a million rows.
        present = " | ".join(f"CASE WHEN q.c_{f} IS NOT NULL THEN {PRESENT_BITS[f]} ELSE 0 END" for f in FIELD_NAMES)
        kept = ["q.row_no", *(f"q.{p}_{f}" for p in ("s", "t") for f in FIELD_NAMES), f"({present}) AS present"]
        return (f"SELECT {', '.join(kept)}, {self._steps(*errors, bits=PROBLEM_BITS)} AS errors, "
                f"{self._steps(*warnings, bits=PROBLEM_BITS)} AS warnings FROM ({sql}) q")


#: The bit of each field in ``dc_checked.present``.
PRESENT_BITS = {f: 1 << i for i, f in enumerate(FIELD_NAMES)}

_NEEDS_TRANSLATION = "[\uff01-\uff5e" + _FULL[94:] + _SPACES + _DELETE + "]"
_ROW_SEPARATOR = "|"
#: A field of the joined row that starts or ends with a space, or holds two in a row (each alternative holds an
#: ASCII space: ``clean_sql`` tests for one first).
_ROW_NEEDS_SQUEEZE = "(^|[|]) | ([|]|$)|  "


def half_width(d: Dialect, expr: str) -> str:
    """Full-width ASCII and 【】￥ to half width; other space characters to plain spaces; zero-width ones removed.

    ``translate`` with a long table is slow, so it only runs on the (few) values that contain such a character.
    """
    table = f"translate({expr}, {d.lit(_FULL + _SPACES + _DELETE)}, {d.lit(_HALF + ' ' * len(_SPACES))})"
    return f"CASE WHEN {d.regexp_matches(expr, _NEEDS_TRANSLATION)} THEN {table} ELSE {expr} END"


def squeeze_spaces(d: Dialect, expr: str) -> str:
    """Runs of spaces to one; leading and trailing spaces removed (only computed where there is something to do)."""
    fixed = d.regexp_replace_all(d.regexp_replace_all(expr, " {2,}", " "), "^ | $", "")
    return f"CASE WHEN {d.regexp_matches(expr, '^ | $|  ')} THEN {fixed} ELSE {expr} END"


def uscc_check_char_sql(d: Dialect, col: str) -> str:
    """The GB 32100 check character of the first 17 characters of ``col``, computed in SQL."""
    charset = d.lit(USCC_CHARSET)
    terms = " + ".join(
        f"(instr({charset}, substr({col}, {i + 1}, 1)) - 1) * {w}" for i, w in enumerate(_USCC_WEIGHTS)
    )
    return f"substr({charset}, ((31 - (({terms}) % 31)) % 31) + 1, 1)"


USCC_SHAPE = "^[1-9ANY][0-9A-HJ-NPQRTUWXY][0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"


def d_escape(text: str) -> str:
    """Place names go into regular expressions as literals (they contain no metacharacters; checked here)."""
    if any(ch in text for ch in "\\^$.|?*+()[]{}"):
        raise ValueError(f"unexpected regular-expression character in {text!r}")
    return text
