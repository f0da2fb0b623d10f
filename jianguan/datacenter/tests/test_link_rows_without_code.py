"""Rows without a usable credit code are linked by probabilistic matching; a data manager confirms or splits."""

from __future__ import annotations

import pytest

from jianguan.core.errors import ConflictError
from jianguan.core.models import AuditEntry, Subject
from jianguan.datacenter import services
from jianguan.datacenter.models import EntityLink, LineageRecord
from jianguan.datacenter.tests.conftest import ingest, make_source, uscc, write_csv

HEADER = ["uscc", "name", "legal_representative", "address", "region", "phone", "industry"]


@pytest.fixture
def registered(data_admin, source, tmp_path, django_capture_on_commit_callbacks):
    """The registry source has delivered two entities with their codes."""
    path = write_csv(tmp_path / "registry.csv", HEADER, [
        [uscc("320106", 11), "南京鑫盛科技有限公司", "张三", "江苏省南京市鼓楼区中山路1号", "320106", "13800000001",
         ""],
        [uscc("320106", 12), "南京华信贸易有限公司", "李四", "江苏省南京市鼓楼区汉中路8号", "320106", "13900000002",
         ""],
    ])
    return ingest(source, data_admin, path, django_capture_on_commit_callbacks)


@pytest.fixture
def tax_source(data_admin):
    return make_source(data_admin, code="tax", name="税务登记", priority=40)


def test_it_links_a_row_without_code_to_the_matching_entity(data_admin, registered, tax_source, tmp_path,
                                                             django_capture_on_commit_callbacks) -> None:
    path = write_csv(tmp_path / "tax.csv", HEADER, [
        ["", "鑫盛科技有限责任公司", "张三", "南京市鼓楼区中山路1号", "", "13800000001", "I651"],
        ["", "南京新远餐饮管理有限公司", "王五", "南京市玄武区北京东路9号", "", "13700000003", ""],
    ])
    batch = ingest(tax_source, data_admin, path, django_capture_on_commit_callbacks)
    assert batch.status == "loaded", batch.message
    assert batch.linked_count == 1 and batch.created_count == 1
    target = Subject.objects.get(uscc=uscc("320106", 11))
    link = EntityLink.objects.get(batch=batch)
    assert link.subject == target and link.row_no == 2
    assert link.match_probability >= 0.9 and link.match_weight > 0
    deciding = {d["field"] for d in link.deciding_fields if d["weight"] > 0}
    assert {"name", "legal_rep", "address"} <= deciding
    target.refresh_from_db()
    assert target.name == "南京鑫盛科技有限公司"  # a link never overwrites: it only fills empty fields
    assert target.industry_id == "651"
    lineage = LineageRecord.objects.get(subject=target, batch=batch)
    assert list(lineage.fields) == ["industry"] and lineage.steps("industry") == ["extract", "industry_code", "fill"]
    new = Subject.objects.get(name="南京新远餐饮管理有限公司")
    assert new.uscc is None and new.region_id == "320102"


def test_a_data_manager_confirms_or_splits_a_link(data_admin, registered, tax_source, tmp_path,
                                                  django_capture_on_commit_callbacks) -> None:
    path = write_csv(tmp_path / "tax.csv", HEADER, [
        ["", "鑫盛科技有限责任公司", "张三", "南京市鼓楼区中山路1号", "", "13800000001", "I651"],
    ])
    batch = ingest(tax_source, data_admin, path, django_capture_on_commit_callbacks)
    link = EntityLink.objects.get(batch=batch)
    services.confirm_link(link, actor=data_admin)
    assert link.status == "confirmed" and link.reviewed_by == data_admin
    with pytest.raises(ConflictError):
        services.confirm_link(link, actor=data_admin)
    link = services.split_link(link, actor=data_admin, reason="同名不同户")
    assert link.status == "split"
    separate = link.split_subject
    assert separate.name == "鑫盛科技有限责任公司" and separate.uscc is None and separate.region_id == "320106"
    original = Subject.objects.get(uscc=uscc("320106", 11))
    assert original.industry_id is None  # the value the link filled in is taken back
    assert LineageRecord.objects.filter(subject=separate, batch=batch, row_no=2).exists()
    assert AuditEntry.objects.filter(event="datacenter.link.split").count() == 1


def test_an_outsider_cannot_review_links(suzhou_officer, data_admin, registered, tax_source, tmp_path,
                                         django_capture_on_commit_callbacks) -> None:
    from django.http import Http404

    from jianguan.datacenter.access import get_link_for

    path = write_csv(tmp_path / "tax.csv", HEADER, [
        ["", "鑫盛科技有限责任公司", "张三", "南京市鼓楼区中山路1号", "", "13800000001", ""],
    ])
    batch = ingest(tax_source, data_admin, path, django_capture_on_commit_callbacks)
    link = EntityLink.objects.get(batch=batch)
    with pytest.raises(Http404):
        get_link_for(suzhou_officer, link.pk, "change")
