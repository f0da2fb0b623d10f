"""Reference tables handed to the engines: GB/T 2260 regions (from ``core.Region``) and GB/T 4754 industries.

They are plain Arrow tables so that DuckDB and Spark receive exactly the same lookups, plus the regular-expression
alternations used to find city and county names at the start of an address.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa


@dataclass
class ReferenceData:
    province_code: str
    province_name: str
    province_short: str
    regions: pa.Table  # code, name, level, city_code, city_name, active
    city_names: pa.Table  # name, code (full and short names of cities)
    county_keys: pa.Table  # k ("<city code>|<county name>" or "|<unique county name>"), code
    industries: pa.Table  # code, name
    city_alternation: str
    county_alternation: str
    region_names: dict[str, str] = field(default_factory=dict)

    def tables(self) -> dict[str, pa.Table]:
        return {
            "ref_region": self.regions,
            "ref_city_name": self.city_names,
            "ref_county_key": self.county_keys,
            "ref_industry": self.industries,
        }


def _alternation(names: list[str]) -> str:
    # Longest first: both RE2 and java.util.regex take the first alternative that matches.
    unique = sorted(set(n for n in names if n), key=lambda n: (-len(n), n))
    return "|".join(unique)


def build_reference(regions: list[dict[str, Any]], industries: list[tuple[str, str]]) -> ReferenceData:
    """From region rows (code, name, short_name, level, parent_id, active) and (code, name) industry pairs."""
    by_code = {r["code"]: r for r in regions}
    province = next(r for r in regions if r["level"] == "province")
    cities = [r for r in regions if r["level"] == "city"]
    counties = [r for r in regions if r["level"] == "county"]

    def city_of(row: dict[str, Any]) -> dict[str, Any] | None:
        if row["level"] == "city":
            return row
        if row["level"] == "county" and row.get("parent_id") in by_code:
            return by_code[row["parent_id"]]
        return None

    region_rows = []
    for r in regions:
        city = city_of(r)
        region_rows.append({
            "code": r["code"],
            "name": r["name"],
            "level": r["level"],
            "city_code": city["code"] if city else None,
            "city_name": city["name"] if city else None,
            "active": bool(r["active"]),
        })
    active_cities = [c for c in cities if c["active"]]
    city_name_rows = []
    for c in active_cities:
        city_name_rows.append({"name": c["name"], "code": c["code"]})
        if c["short_name"] and c["short_name"] != c["name"]:
            city_name_rows.append({"name": c["short_name"], "code": c["code"]})
    active_counties = [c for c in counties if c["active"]]
    name_count: dict[str, int] = {}
    for c in active_counties:
        name_count[c["name"]] = name_count.get(c["name"], 0) + 1
    key_rows = []
    for c in active_counties:
        key_rows.append({"k": f"{c['parent_id']}|{c['name']}", "code": c["code"]})
        if name_count[c["name"]] == 1:
            key_rows.append({"k": f"|{c['name']}", "code": c["code"]})
    return ReferenceData(
        province_code=province["code"],
        province_name=province["name"],
        province_short=province["short_name"] or province["name"],
        regions=pa.Table.from_pylist(region_rows, schema=pa.schema([
            ("code", pa.string()), ("name", pa.string()), ("level", pa.string()), ("city_code", pa.string()),
            ("city_name", pa.string()), ("active", pa.bool_()),
        ])),
        city_names=pa.Table.from_pylist(city_name_rows, schema=pa.schema([("name", pa.string()),
                                                                          ("code", pa.string())])),
        county_keys=pa.Table.from_pylist(key_rows, schema=pa.schema([("k", pa.string()), ("code", pa.string())])),
        industries=pa.Table.from_pylist(
            [{"code": c, "name": n} for c, n in industries],
            schema=pa.schema([("code", pa.string()), ("name", pa.string())]),
        ),
        city_alternation=_alternation([r["name"] for r in city_name_rows]),
        county_alternation=_alternation([c["name"] for c in active_counties]),
        region_names={r["code"]: r["name"] for r in regions},
    )


def load_reference() -> ReferenceData:
    """The reference data as stored in the database now."""
    from jianguan.core.models import IndustryCode, Region

    regions = list(Region.objects.values("code", "name", "short_name", "level", "parent_id", "active"))
    industries = list(IndustryCode.objects.values_list("code", "name"))
    return build_reference(regions, industries)


def reference_from_files() -> ReferenceData:
    """The reference data shipped with the kernel (for commands that may run before the database is filled)."""
    import csv

    from jianguan.core.reference import DEFAULT_INDUSTRIES, DEFAULT_REGIONS

    with DEFAULT_REGIONS.open(encoding="utf-8-sig", newline="") as fh:
        regions = [
            {"code": r["code"], "name": r["name"], "short_name": r["short_name"], "level": r["level"],
             "parent_id": r["parent_code"] or None, "active": True}
            for r in csv.DictReader(fh)
        ]
    with DEFAULT_INDUSTRIES.open(encoding="utf-8-sig", newline="") as fh:
        industries = [(r["code"], r["name"]) for r in csv.DictReader(fh)]
    return build_reference(regions, industries)
