"""Compare: one credit code, different values from different sources (or two rows of one batch)."""

from __future__ import annotations

import pytest

from jianguan.core.models import Subject
from jianguan.datacenter import services
from jianguan.datacenter.models import Conflict, LineageEntry
from jianguan.datacenter.tests.conftest import ingest, make_source, uscc, write_csv

HEADER = ["uscc", "name", "legal_representative", "address", "region"]
CODE = uscc("320106", 21)


@pytest.fixture
def loaded(data_admin, source, tmp_path, django_capture_on_commit_callbacks):
    path = write_csv(tmp_path / "a.csv", HEADER, [[CODE, "南京鑫盛科技有限公司", "张三", "南京市鼓楼区中山路1号", ""]])
    return ingest(source, data_admin, path, django_capture_on_commit_callbacks)


def _deliver(source, actor, tmp_path, capture, name="南京鑫盛信息科技有限公司", file="b.csv"):
    path = write_csv(tmp_path / file, HEADER, [[CODE, name, "张三", "南京市鼓楼区中山路1号", ""]])
    return ingest(source, actor, path, capture)


def test_a_later_delivery_from_the_same_source_updates_the_record(data_admin, source, loaded, tmp_path,
                                                                  django_capture_on_commit_callbacks) -> None:
    batch = _deliver(source, data_admin, tmp_path, django_capture_on_commit_callbacks)
    assert batch.updated_count == 1 and batch.conflict_count == 0
    assert Subject.objects.get(uscc=CODE).name == "南京鑫盛信息科技有限公司"
    newest = LineageEntry.objects.filter(subject__uscc=CODE).order_by("-id").first()
    assert newest.batch == batch and newest.action == "updated" and set(newest.fields) == {"name"}


def test_an_equal_priority_source_that_disagrees_leaves_an_open_conflict(data_admin, loaded, tmp_path,
                                                                         django_capture_on_commit_callbacks) -> None:
    other = make_source(data_admin, code="city-nj", name="南京市数据中心", kind="city_centre", priority=50)
    batch = _deliver(other, data_admin, tmp_path, django_capture_on_commit_callbacks)
    assert batch.conflict_count == 1 and batch.updated_count == 0
    conflict = Conflict.objects.get(batch=batch)
    assert conflict.field == "name" and conflict.status == "open" and conflict.kind == "cross_source"
    assert conflict.current_value == "南京鑫盛科技有限公司" and conflict.incoming_value == "南京鑫盛信息科技有限公司"
    assert conflict.current_source == loaded.source
    assert Subject.objects.get(uscc=CODE).name == "南京鑫盛科技有限公司"
    services.resolve_conflict(conflict, actor=data_admin, apply=True, note="以市数据中心为准")
    assert Subject.objects.get(uscc=CODE).name == "南京鑫盛信息科技有限公司"
    assert LineageEntry.objects.filter(subject__uscc=CODE, action="manual").count() == 1


def test_a_higher_priority_source_wins_and_the_conflict_is_recorded(data_admin, loaded, tmp_path,
                                                                   django_capture_on_commit_callbacks) -> None:
    other = make_source(data_admin, code="samr-national", name="国家企业信用信息公示系统", kind="national",
                        priority=90)
    batch = _deliver(other, data_admin, tmp_path, django_capture_on_commit_callbacks)
    conflict = Conflict.objects.get(batch=batch)
    assert conflict.status == "applied"
    assert Subject.objects.get(uscc=CODE).name == "南京鑫盛信息科技有限公司"
    lineage = LineageEntry.objects.filter(subject__uscc=CODE, batch=batch).get()
    assert "survivor" in lineage.steps("name")


def test_two_rows_of_one_batch_that_disagree_are_flagged(data_admin, source, tmp_path,
                                                         django_capture_on_commit_callbacks) -> None:
    path = write_csv(tmp_path / "two.csv", HEADER, [
        [CODE, "南京鑫盛科技有限公司", "张三", "南京市鼓楼区中山路1号", ""],
        [CODE, "南京鑫盛科创有限公司", "", "", ""],
    ])
    batch = ingest(source, data_admin, path, django_capture_on_commit_callbacks)
    subject = Subject.objects.get(uscc=CODE)
    assert subject.name == "南京鑫盛科创有限公司"  # the later row wins …
    assert subject.legal_representative == "张三"  # … and the earlier one fills what it leaves empty
    conflict = Conflict.objects.get(batch=batch)
    assert conflict.kind == "within_batch" and conflict.row_no == 2
    by_row = {r.row_no: set(r.fields) for r in LineageEntry.objects.filter(subject=subject)}
    assert "name" in by_row[3]
    assert {"legal_representative", "address"} <= by_row[2]


def test_the_same_disagreement_again_raises_no_second_conflict_and_a_kept_value_stands(
        data_admin, loaded, tmp_path, django_capture_on_commit_callbacks) -> None:
    other = make_source(data_admin, code="city-nj", name="南京市数据中心", kind="city_centre", priority=50)
    first = _deliver(other, data_admin, tmp_path, django_capture_on_commit_callbacks)
    conflict = Conflict.objects.get(batch=first)
    again = ingest(other, data_admin, tmp_path / "b.csv", django_capture_on_commit_callbacks, force=True)
    assert again.status == "loaded" and again.conflict_count == 0
    assert list(Conflict.objects.values_list("id", flat=True)) == [conflict.pk]

    services.resolve_conflict(conflict, actor=data_admin, apply=False, note="以登记机关为准")
    third = ingest(other, data_admin, tmp_path / "b.csv", django_capture_on_commit_callbacks, force=True)
    assert third.conflict_count == 0 and Conflict.objects.count() == 1  # the data manager's decision stands
    assert Subject.objects.get(uscc=CODE).name == "南京鑫盛科技有限公司"

    # another value is another disagreement
    changed = _deliver(other, data_admin, tmp_path, django_capture_on_commit_callbacks, name="南京鑫盛电子有限公司",
                       file="c.csv")
    assert changed.conflict_count == 1
    assert Conflict.objects.get(batch=changed).incoming_value == "南京鑫盛电子有限公司"
