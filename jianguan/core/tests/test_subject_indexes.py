"""The indexes ``core_subject`` keeps: one per kind of query the application runs on master records, and none
that it does not (every index is written once per row by the data centre's million-row loads)."""

from __future__ import annotations

import pytest
from django.db import connection

from jianguan.core.models import Subject
from jianguan.core.testing.plans import index_names, query_plan

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL query plans")


@pytest.mark.django_db
def test_master_records_carry_one_index_per_kind_of_query() -> None:
    """Credit code (unique), name (equality), region scope and type, industry; on PostgreSQL no pattern-ops twins
    and no second region index. (The creating batch has none: a batch's records are found by their id range, ADR
    0007.)"""
    names = index_names("core_subject")
    assert {"core_subject_unique_uscc", "core_subject_name", "core_subject_region_scope",
            "core_subject_industry"} <= names
    if connection.vendor == "postgresql":
        assert names == {"core_subject_pkey", "core_subject_unique_uscc", "core_subject_name",
                         "core_subject_region_scope", "core_subject_industry"}


@postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize(("queryset", "index"), [
    (lambda: Subject.objects.filter(region__code__startswith="3201"), "core_subject_region_scope"),
    (lambda: Subject.objects.filter(region_id="320106", subject_type="individual"), "core_subject_region_scope"),
    (lambda: Subject.objects.filter(name="测试企业有限公司"), "core_subject_name"),
    (lambda: Subject.objects.filter(name__in=["测试企业有限公司", "另一家公司"]), "core_subject_name"),
    (lambda: Subject.objects.filter(uscc__in=["91320106MA1XXXXX0X"]), "core_subject_unique_uscc"),
    (lambda: Subject.objects.filter(industry__code__startswith="52"), "core_subject_industry"),
])
def test_the_queries_the_application_runs_can_use_an_index(queryset, index) -> None:
    """Data scope and region filters are prefix queries (``region_id::text LIKE '3201%'``): outside the C locale
    only the pattern-ops index serves them, and it serves equality too. (Each query names the columns of one index
    only: on the test's near-empty table the planner may pick any usable index for a combined filter.)"""
    plan = query_plan(queryset().order_by())  # no ORDER BY id: the pkey could serve that
    assert index in plan, plan
