"""The data centre's REST API: scope, permissions, query caps, and the write actions through the services."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from jianguan.core.models import Subject
from jianguan.core.testing.personas import MARKET, make_user
from jianguan.core.testing.scope_matrix import assert_scope_matrix, call, list_ids
from jianguan.datacenter.models import Conflict, QuarantinedRow
from jianguan.datacenter.tests.conftest import ingest, make_source, uscc, write_csv

HEADER = ["uscc", "name", "address", "established_on", "phone"]


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def nanjing_batch(nanjing_officer, tmp_path, django_capture_on_commit_callbacks):
    source = make_source(nanjing_officer, code="nj-registry", region="320100")
    path = write_csv(tmp_path / "nj.csv", HEADER, [
        [uscc("320106", 61), "南京六十一号有限公司", "南京市鼓楼区中山路61号", "2019-01-01", "13800000061"],
        [uscc("320106", 62)[:-1] + "0", "南京六十二号有限公司", "南京市鼓楼区中山路62号", "2019-13-01", ""],
    ])
    return ingest(source, nanjing_officer, path, django_capture_on_commit_callbacks)


def test_sources_and_batches_are_listed_within_scope(client, nanjing_officer, suzhou_officer, nanjing_batch,
                                                     django_capture_on_commit_callbacks, tmp_path) -> None:
    suzhou_source = make_source(suzhou_officer, code="sz-registry", region="320500")
    assert list_ids(client, nanjing_officer, "/api/v1/datacenter/sources/", key="code") == {"nj-registry"}
    assert list_ids(client, suzhou_officer, "/api/v1/datacenter/sources/", key="code") == {"sz-registry"}
    assert list_ids(client, nanjing_officer, "/api/v1/datacenter/batches/") == {nanjing_batch.pk}
    assert list_ids(client, suzhou_officer, "/api/v1/datacenter/batches/") == set()
    assert suzhou_source.pk


def test_a_batch_shows_progress_counts_and_quality(client, nanjing_officer, suzhou_officer, gulou_inspector,
                                                   nanjing_batch) -> None:
    response = assert_scope_matrix(
        client, method="GET", url=f"/api/v1/datacenter/batches/{nanjing_batch.pk}/",
        outsider=suzhou_officer, without_permission=make_user("nj_clerk", "320100", MARKET, []),
        without_permission_status=404, with_permission=nanjing_officer,
    )
    body = response.json()
    assert body["status"] == "loaded" and body["rows_quarantined"] == 1
    assert body["progress"]["percent"] == 100
    assert body["quality"]["overall"]["validity"] == 0.5
    assert [s["step"] for s in body["steps"]][:3] == ["extract", "clean", "standardise"]


def test_a_quarantined_row_is_corrected_and_rerun_over_the_api(client, nanjing_officer, suzhou_officer, nanjing_batch,
                                                               django_capture_on_commit_callbacks) -> None:
    row = QuarantinedRow.objects.get(batch=nanjing_batch)
    assert_scope_matrix(
        client, method="POST", url=f"/api/v1/datacenter/quarantine/{row.pk}/correct/",
        data={"values": {"uscc": uscc("320106", 62), "established_on": "2019-12-01"}},
        outsider=suzhou_officer, without_permission=make_user("nj_leader", "320100", MARKET, ["leader"]),
        with_permission=nanjing_officer,
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = call(client, nanjing_officer, "POST", f"/api/v1/datacenter/batches/{nanjing_batch.pk}/rerun/")
    assert response.status_code == 201, response.content
    assert Subject.objects.filter(uscc=uscc("320106", 62)).exists()


def test_lineage_explains_every_field_of_a_record(client, nanjing_officer, suzhou_officer, nanjing_batch) -> None:
    subject = Subject.objects.get(uscc=uscc("320106", 61))
    url = f"/api/v1/datacenter/lineage/subject/{subject.pk}/"
    assert call(client, suzhou_officer, "GET", url).status_code == 404
    body = call(client, nanjing_officer, "GET", url).json()
    by_field = {f["field"]: f for f in body["fields"]}
    address = by_field["address"]
    assert address["value"] == "江苏省南京市鼓楼区中山路61号"
    assert address["source"]["batch"] == nanjing_batch.pk and address["source"]["row"] == 2
    assert address["source"]["delivered"] == "南京市鼓楼区中山路61号"
    assert {s["code"] for s in address["source"]["steps"]} == {"extract", "address_completed"}
    assert by_field["region"]["source"]["steps"][-1]["label"] == "由地址推断行政区划"
    listed = list_ids(client, nanjing_officer, "/api/v1/datacenter/lineage/", subject=subject.pk)
    assert len(listed) == 1
    # created from one row: its entry is the one the record keeps on itself, listed, filtered and read like any
    assert listed == {-subject.pk} == {address["source"]["lineage_id"]}
    assert -subject.pk in list_ids(client, nanjing_officer, "/api/v1/datacenter/lineage/", batch=nanjing_batch.pk)
    assert -subject.pk not in list_ids(client, suzhou_officer, "/api/v1/datacenter/lineage/")
    entry = call(client, nanjing_officer, "GET", f"/api/v1/datacenter/lineage/{-subject.pk}/").json()
    assert (entry["batch"], entry["row_no"], entry["action"], entry["source_code"]) == (
        nanjing_batch.pk, 2, "created", nanjing_batch.source.code)
    assert {s["code"] for s in entry["steps"]["address"]["steps"]} == {"extract", "address_completed"}
    assert call(client, suzhou_officer, "GET", f"/api/v1/datacenter/lineage/{-subject.pk}/").status_code == 404


def test_conflicts_are_resolved_over_the_api(client, nanjing_officer, nanjing_batch, tmp_path,
                                             django_capture_on_commit_callbacks) -> None:
    other = make_source(nanjing_officer, code="nj-tax", region="320100", name="税务")
    path = write_csv(tmp_path / "tax.csv", HEADER, [[uscc("320106", 61), "南京六十一号科技有限公司", "", "", ""]])
    ingest(other, nanjing_officer, path, django_capture_on_commit_callbacks)
    conflict = Conflict.objects.get()
    response = call(client, nanjing_officer, "POST", f"/api/v1/datacenter/conflicts/{conflict.pk}/resolve/",
                    {"apply": False, "note": "以登记系统为准"})
    assert response.status_code == 200 and response.json()["status"] == "kept"
    again = call(client, nanjing_officer, "POST", f"/api/v1/datacenter/conflicts/{conflict.pk}/resolve/",
                 {"apply": True})
    assert again.status_code == 409


def test_lists_use_a_fixed_number_of_queries(client, data_admin, tmp_path, django_capture_on_commit_callbacks,
                                             django_assert_max_num_queries) -> None:
    source = make_source(data_admin, code="many")
    for i in range(12):
        path = write_csv(tmp_path / f"f{i}.csv", HEADER, [[uscc("320106", 700 + i), f"南京{i}号公司", "", "", ""]])
        ingest(source, data_admin, path, django_capture_on_commit_callbacks)
    client.force_authenticate(user=data_admin)
    for url in ("/api/v1/datacenter/batches/", "/api/v1/datacenter/sources/", "/api/v1/datacenter/lineage/"):
        with django_assert_max_num_queries(8):
            assert client.get(url).status_code == 200


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL query plans")
def test_lineage_entries_by_subject_and_by_batch_use_indexes_on_both_sides(nanjing_batch) -> None:
    """The view's two halves (ADR 0007): a filter on the subject reaches LineageRecord's subject index and the
    records' primary key; on the batch, LineageRecord's batch index and the records' primary key within the id
    range the batch created."""
    from jianguan.core.testing.plans import query_plan
    from jianguan.datacenter.models import LineageEntry

    # Statistics of loaded tables, so that the planner costs the plans as it would in use: on near-empty tables
    # any index will do (even the creating-batch one for a lookup by id).
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_subject (name, subject_type, legal_representative, address, region_id, status, "
            "created_at, updated_at, origin_batch, origin_row, origin_steps) "
            "SELECT '企业' || g, 'enterprise', '', '', '320106', 'active', now(), now(), %s, g, 0 "
            "FROM generate_series(1, 20000) g", [nanjing_batch.pk + 1])
        cursor.execute(
            "INSERT INTO datacenter_lineagerecord (subject_id, batch_id, source_id, row_no, action, field_steps, "
            "duplicate_rows, recorded_at) SELECT g, %s, %s, g, 'updated', '', '[]', now() "
            "FROM generate_series(1, 20000) g", [nanjing_batch.pk, nanjing_batch.source_id])
        cursor.execute("ANALYZE core_subject")
        cursor.execute("ANALYZE datacenter_lineagerecord")
    by_subject = query_plan(LineageEntry.objects.filter(subject_id=1))
    assert "Index Cond: (subject_id = 1)" in by_subject and "Index Cond: (id = 1)" in by_subject, by_subject
    by_batch = query_plan(LineageEntry.objects.filter(batch_id=nanjing_batch.pk))
    assert f"Index Cond: (batch_id = {nanjing_batch.pk})" in by_batch, by_batch
    assert "Index Scan using core_subject_pkey on core_subject s" in by_batch, by_batch
    assert "Index Cond: ((id >= b.created_first_id) AND (id <= b.created_last_id))" in by_batch, by_batch
