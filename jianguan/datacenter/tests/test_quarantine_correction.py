"""Quarantined rows are corrected by a data manager and re-run through the whole pipeline."""

from __future__ import annotations

import pytest

from jianguan.core.errors import ConflictError, DomainError
from jianguan.core.models import Subject
from jianguan.datacenter import services
from jianguan.datacenter.models import Batch, LineageEntry, QuarantinedRow
from jianguan.datacenter.tests.conftest import ingest, uscc, write_csv

HEADER = ["uscc", "name", "address", "established_on"]


@pytest.fixture
def batch(data_admin, source, tmp_path, django_capture_on_commit_callbacks):
    path = write_csv(tmp_path / "q.csv", HEADER, [
        [uscc("320106", 31), "南京一号有限公司", "南京市鼓楼区中山路1号", "2019-01-01"],
        [uscc("320106", 32)[:-1] + "0", "南京二号有限公司", "南京市鼓楼区中山路2号", "2019-13-01"],
    ])
    return ingest(source, data_admin, path, django_capture_on_commit_callbacks)


def test_a_corrected_row_is_loaded_by_a_rerun(data_admin, batch, django_capture_on_commit_callbacks) -> None:
    row = QuarantinedRow.objects.get(batch=batch)
    assert row.row_no == 3
    assert {e["code"] for e in row.errors} == {"uscc.checksum", "established_on.invalid"}
    services.correct_row(row, actor=data_admin, values={"uscc": uscc("320106", 32), "established_on": "2019-12-01"})
    row.refresh_from_db()
    assert row.status == "corrected"
    with django_capture_on_commit_callbacks(execute=True):
        rerun = services.rerun_corrections(batch, actor=data_admin)
    rerun.refresh_from_db()
    assert rerun.status == "loaded" and rerun.kind == "correction" and rerun.parent == batch
    assert rerun.created_count == 1
    subject = Subject.objects.get(uscc=uscc("320106", 32))
    lineage = LineageEntry.objects.get(subject=subject)
    assert lineage.batch == rerun and lineage.row_no == 3
    assert "correction" in lineage.steps("established_on")
    row.refresh_from_db()
    assert row.status == "resubmitted" and row.rerun_batch == rerun


def test_a_correction_that_is_still_wrong_goes_back_to_quarantine(data_admin, batch,
                                                                   django_capture_on_commit_callbacks) -> None:
    row = QuarantinedRow.objects.get(batch=batch)
    services.correct_row(row, actor=data_admin, values={"established_on": "2019-12-01"})
    with django_capture_on_commit_callbacks(execute=True):
        rerun = services.rerun_corrections(batch, actor=data_admin)
    again = QuarantinedRow.objects.get(batch=rerun)
    assert again.row_no == 3 and [e["code"] for e in again.errors] == ["uscc.checksum"]


def test_a_row_can_be_discarded_with_a_reason_but_not_corrected_afterwards(data_admin, batch) -> None:
    row = QuarantinedRow.objects.get(batch=batch)
    with pytest.raises(DomainError):
        services.discard_row(row, actor=data_admin, reason="")
    services.discard_row(row, actor=data_admin, reason="企业已注销，无需接入")
    with pytest.raises(ConflictError):
        services.correct_row(row, actor=data_admin, values={"established_on": "2019-12-01"})
    with pytest.raises(DomainError):
        services.rerun_corrections(Batch.objects.get(pk=batch.pk), actor=data_admin)
