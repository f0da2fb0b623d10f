"""Matching features of an entity record, as SQL for either engine.

Input columns: ``unique_id, name, uscc, legal_rep, address, phone, region_code`` (text, any may be NULL). Output adds:

* ``anchor``     — the credit code when it is valid (records sharing it are the same entity, deterministically);
* ``f_uscc``     — an 18-character code even when its check character is wrong (a corrupted code still helps);
* ``f_name``     — the name without spaces and punctuation, without leading province/city/county names and without
                   its legal form (有限公司, 有限责任公司, 股份有限公司 …);
* ``f_address``  — the address up to its house number, without the leading province/city/county names;
* ``f_road``     — the road part of ``f_address``;
* ``f_legal_rep``, ``f_phone`` (mobile: 11 digits; landline: digits with area code);
* ``f_region``   — the 6-digit region (given, else from the address, else from the credit code) and ``f_city``.
"""

# ruff: noqa: S608 - this module builds SQL for the pipeline engines: values go through the dialect's literal
# helper, column names from delivered files through its identifier quoting; table names are fixed in code.

from __future__ import annotations

import hashlib
import re

from jianguan.datacenter.pipeline.dialect import Dialect
from jianguan.datacenter.pipeline.entity_sql import (
    CJK,
    USCC_SHAPE,
    d_escape,
    half_width,
    squeeze_spaces,
    uscc_check_char_sql,
)
from jianguan.datacenter.pipeline.reference import ReferenceData

LEGAL_FORMS = (
    "集团股份有限公司", "股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "股份公司", "集团公司", "公司",
    "特殊普通合伙", "普通合伙", "有限合伙",
)
_PUNCTUATION = "()[]{}<>·.,;:、'\"_-—/\\ 　"
_PUNCTUATION_CLASS = "[^0-9A-Za-z\u4e00-\u9fa5]"  # anything else may be punctuation


def _place_prefix(ref: ReferenceData) -> str:
    places = ref.county_alternation + "|" + ref.city_alternation
    merged = "|".join(sorted(set(places.split("|")), key=lambda n: (-len(n), n)))
    prov = f"{d_escape(ref.province_name)}|{d_escape(ref.province_short)}"
    return f"^({prov})?({merged})?({ref.county_alternation})?"


def name_key_sql(d: Dialect, ref: ReferenceData, expr: str) -> str:
    """The normalised name (``f_name``) of an already cleaned name."""
    bracket_place = "[(](" + ref.province_name + "|" + ref.province_short + "|" + ref.city_alternation + ")[)]"
    # Each step once per row, and a regular expression only where it can match: most names have no bracket.
    name = f"CASE WHEN instr({expr}, '(') > 0 THEN {d.regexp_replace_all(expr, bracket_place, '')} ELSE {expr} END"
    name = (f"CASE WHEN {d.regexp_matches(name, _PUNCTUATION_CLASS)} "
            f"THEN translate({name}, {d.lit(_PUNCTUATION)}, '') ELSE {name} END")
    name = d.regexp_replace_all(name, _place_prefix(ref), "")
    name = d.regexp_replace_all(name, "(" + "|".join(LEGAL_FORMS) + ")$", "")
    return f"nullif({name}, '')"


def phone_match_sql(d: Dialect, expr: str) -> str:
    """The phone number as records are matched on it (``f_phone``): a mobile's 11 digits, else a landline's digits
    with the area code; NULL (or '') when there is none."""
    digits = d.regexp_replace_all(expr, "[^0-9]", "")
    mobile = d.regexp_extract(digits, "(1[3-9][0-9]{9})$", 1)
    return f"CASE WHEN {mobile} <> '' THEN {mobile} WHEN length({digits}) >= 7 THEN {digits} END"


def phone_match(phone: str | None) -> str | None:
    """:func:`phone_match_sql` in Python (for one value outside the engines)."""
    digits = re.sub("[^0-9]", "", phone or "")
    mobile = re.search("(1[3-9][0-9]{9})$", digits)
    if mobile:
        return mobile.group(1)
    return digits if len(digits) >= 7 else None


def phone_key(phone: str | None, pepper: str) -> str:
    """:func:`phone_key_sql` in Python: the key a master record keeps for ``phone`` ("" without one)."""
    matched = phone_match(phone)
    return hashlib.sha256(f"{pepper}{matched}".encode()).hexdigest() if matched else ""


def phone_key_sql(d: Dialect, matched: str, pepper: str) -> str:
    """The keyed hash of a matching phone (``phone_match_sql``) that master records keep instead of the number
    (``core.Subject.phone_index``): SHA-256 of a secret pepper and the digits; NULL without a phone."""
    return f"CASE WHEN nullif({matched}, '') IS NOT NULL THEN {d.sha256_hex(f'concat({d.lit(pepper)}, {matched})')} END"


def features_sql(d: Dialect, ref: ReferenceData, source: str) -> str:
    """``SELECT`` of the features from table ``source``."""

    def clean(col: str) -> str:
        return f"nullif({squeeze_spaces(d, half_width(d, col))}, '')"

    def despace(expr: str) -> str:
        return f"CASE WHEN {d.regexp_matches(expr, CJK)} THEN {d.regexp_replace_all(expr, ' ', '')} ELSE {expr} END"

    def strip_punctuation(expr: str) -> str:
        return (f"CASE WHEN {d.regexp_matches(expr, _PUNCTUATION_CLASS)} "
                f"THEN translate({expr}, {d.lit(_PUNCTUATION)}, '') ELSE {expr} END")

    prefix = _place_prefix(ref)
    forms = "(" + "|".join(LEGAL_FORMS) + ")$"

    # 1. clean each input column once
    cleaned = (
        f"SELECT i.unique_id, {clean('i.name')} AS c_name, {clean('i.address')} AS c_address, "
        f"{clean('i.uscc')} AS c_uscc, {clean('i.legal_rep')} AS c_legal_rep, {clean('i.phone')} AS c_phone, "
        f"{clean('i.region_code')} AS c_region FROM {source} i"
    )
    # 2. derive the features
    name = name_key_sql(d, ref, "c.c_name")
    # The baseline's "normalised name": spaces, width, punctuation and the legal form unified, place names kept.
    full_name = d.regexp_replace_all(strip_punctuation("c.c_name"), forms, "公司")
    address = d.regexp_replace_all("c.c_address", " ", "")
    address = d.regexp_replace_all(address, prefix, "")
    numbered = d.regexp_extract(address, "^(.*?[0-9]+号)", 1)
    address_main = f"nullif(CASE WHEN {numbered} <> '' THEN {numbered} ELSE {address} END, '')"
    uscc = "upper(translate(c.c_uscc, ' -', ''))"
    phone = phone_match_sql(d, "c.c_phone")
    region = f"CASE WHEN {d.regexp_matches('c.c_region', '^[0-9]{6}$')} THEN c.c_region END"
    province = f"^({d_escape(ref.province_name)}|{d_escape(ref.province_short)})"
    place_city = d.regexp_extract(d.regexp_replace_all(d.regexp_replace_all("c.c_address", " ", ""), province, ""),
                                  f"^({ref.city_alternation})", 1)
    derived = (
        "SELECT c.unique_id, "
        f"CASE WHEN length({uscc}) = 18 THEN {uscc} END AS f_uscc, "
        f"{name} AS f_name, "
        f"nullif({full_name}, '') AS f_name_full, "
        f"{address_main} AS f_address, "
        f"{despace('c.c_legal_rep')} AS f_legal_rep, "
        f"nullif({phone}, '') AS f_phone, "
        f"{region} AS f_region_given, "
        f"{place_city} AS f_place_city "
        f"FROM ({cleaned}) c"
    )
    # 3. the anchor (valid code), the road, the region
    valid = (
        f"CASE WHEN {d.regexp_matches('q.f_uscc', USCC_SHAPE)} "
        f"AND substr(q.f_uscc, 18, 1) = {uscc_check_char_sql(d, 'q.f_uscc')} THEN q.f_uscc END"
    )
    road = d.regexp_extract("q.f_address", "^(.*?)[0-9]+号", 1)
    region_final = (
        "coalesce(q.f_region_given, CASE WHEN "
        f"{valid} IS NOT NULL AND substr(q.f_uscc, 5, 2) <> '00' THEN substr(q.f_uscc, 3, 6) END, pc.code)"
    )
    return (
        f"SELECT q.unique_id, {valid} AS anchor, q.f_uscc, q.f_name, q.f_name_full, q.f_address, "
        f"nullif({road}, '') AS f_road, q.f_legal_rep, q.f_phone, "
        f"{region_final} AS f_region, substr({region_final}, 1, 4) AS f_city "
        f"FROM ({derived}) q LEFT JOIN ref_city_name pc ON pc.name = q.f_place_city"
    )
