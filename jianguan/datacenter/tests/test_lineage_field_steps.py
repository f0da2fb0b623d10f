"""Lineage keeps each field's step mask as compact positional text (``"1,,,,257"``) and reads it back as a mapping."""

from __future__ import annotations

import importlib

import pytest

from jianguan.datacenter.models import LineageRecord
from jianguan.datacenter.pipeline.fields import (
    LINEAGE_FIELDS,
    decode_field_steps,
    encode_field_steps,
    step_mask,
)

FILLED = step_mask("extract", "industry_code", "fill")
CASES = [
    ({}, ""),
    ({"name": 1}, "1"),
    ({"region": 257, "name": 1}, "1,,,,257"),
    ({"industry": FILLED}, f",,,,,{FILLED}"),
    ({f: i + 1 for i, f in enumerate(LINEAGE_FIELDS)}, ",".join(str(i + 1) for i in range(len(LINEAGE_FIELDS)))),
]


@pytest.mark.parametrize(("fields", "text"), CASES)
def test_field_steps_round_trip(fields, text) -> None:
    assert encode_field_steps(fields) == text
    assert decode_field_steps(text) == {f: fields[f] for f in LINEAGE_FIELDS if f in fields}


def test_it_refuses_a_field_lineage_does_not_know() -> None:
    with pytest.raises(ValueError):
        encode_field_steps({"phone": 1})


def test_a_lineage_record_reads_and_writes_the_mapping() -> None:
    record = LineageRecord(fields={"address": step_mask("extract", "address_completed")})
    assert record.field_steps == encode_field_steps({"address": step_mask("extract", "address_completed")})
    assert list(record.fields) == ["address"] and record.steps("address") == ["extract", "address_completed"]


def test_the_data_migration_encodes_older_records_the_same_way() -> None:
    migration = importlib.import_module("jianguan.datacenter.migrations.0005_lineage_steps_from_json")
    for fields, text in CASES:
        if set(fields) <= set(migration.LINEAGE_FIELDS):  # fields added since (phone_index) never had older records
            assert migration._encode(fields) == text
    assert migration._encode({"name": "extract,width"}) == str(step_mask("extract", "width"))
