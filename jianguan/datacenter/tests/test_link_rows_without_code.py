"""Rows without a usable credit code are linked by probabilistic matching; a data manager confirms or splits."""

from __future__ import annotations

import pytest

from jianguan.core.errors import ConflictError
from jianguan.core.models import AuditEntry, Subject
from jianguan.datacenter import services
from jianguan.datacenter.models import EntityLink, LineageEntry
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
    lineage = LineageEntry.objects.get(subject=target, batch=batch)
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
    assert LineageEntry.objects.filter(subject=separate, batch=batch, row_no=2).exists()
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


def test_a_record_without_code_takes_the_code_when_its_entity_arrives_with_one(
        client, data_admin, source, tax_source, tmp_path, django_capture_on_commit_callbacks) -> None:
    from django.urls import reverse

    from jianguan.core.testing.personas import login_verified

    first = ingest(tax_source, data_admin, write_csv(tmp_path / "tax.csv", HEADER, [
        ["", "南京新远餐饮管理有限公司", "王五", "南京市玄武区北京东路9号", "320102", "13700000003", ""],
        ["", "玄武区小李便利店", "李明", "南京市玄武区珠江路5号", "320102", "", ""],
    ]), django_capture_on_commit_callbacks)
    assert first.created_count == 2
    before = Subject.objects.get(name="南京新远餐饮管理有限公司")
    assert before.uscc is None
    code = uscc("320102", 21)
    later = ingest(source, data_admin, write_csv(tmp_path / "registry.csv", HEADER, [
        [code, "新远餐饮管理有限责任公司", "王五", "江苏省南京市玄武区北京东路9号", "320102", "13700000003", "H6210"],
        [uscc("320102", 22), "南京另一家餐饮有限公司", "孙八", "南京市玄武区中山路7号", "320102", "", ""],
        # the same person's other business in the district: a shared legal representative alone adopts nothing
        [uscc("320102", 23), "南京强盛建材有限公司", "王五", "南京市玄武区龙蟠路88号", "320102", "", ""],
        [uscc("320102", 24), "玄武区老张五金店", "李明", "南京市玄武区太平北路3号", "320102", "", ""],
    ]), django_capture_on_commit_callbacks)
    assert later.status == "loaded", later.message
    assert later.created_count == 3 and later.updated_count == 1 and later.linked_count == 1
    adopted = Subject.objects.get(pk=before.pk)
    assert adopted.uscc == code and adopted.industry_id == "621"
    assert Subject.objects.filter(name__contains="新远餐饮").count() == 1
    assert Subject.objects.get(name="玄武区小李便利店").uscc is None
    lineage = LineageEntry.objects.get(subject=adopted, batch=later)
    assert "code_adopted" in lineage.steps("uscc")
    link = EntityLink.objects.get(batch=later)
    assert link.subject_id == before.pk and link.row_no == 2 and link.match_probability >= 0.9
    assert link.record["uscc"] == code
    assert {d["field"] for d in link.deciding_fields if d["weight"] > 0} >= {"legal_rep", "address"}
    login_verified(client, data_admin)
    for page in (reverse("datacenter:link_list"), reverse("datacenter:entity_detail", args=[before.pk])):
        assert f"使该主体取得信用代码 <code>{code}</code>" in client.get(page).content.decode()

    # The same delivery again changes nothing: the code is the record's now.
    again = ingest(source, data_admin, write_csv(tmp_path / "registry2.csv", HEADER, [
        [code, "新远餐饮管理有限责任公司", "王五", "江苏省南京市玄武区北京东路9号", "320102", "13700000003", "H6210"],
    ]), django_capture_on_commit_callbacks)
    assert again.created_count == 0 and again.linked_count == 0 and again.updated_count == 0

    # A data manager who finds they are different entities splits the link: the code goes to a record of its own.
    services.split_link(link, actor=data_admin, reason="同址不同户")
    adopted.refresh_from_db()
    assert adopted.uscc is None and adopted.name == "南京新远餐饮管理有限公司"  # the name it replaced is back
    assert adopted.industry_id is None  # filled by the split-off row: taken back
    separate = Subject.objects.get(uscc=code)
    assert separate.pk != adopted.pk and separate.name == "新远餐饮管理有限责任公司"



def test_a_split_puts_back_what_rows_of_the_same_source_replaced(data_admin, source, tmp_path,
                                                                 django_capture_on_commit_callbacks) -> None:
    ingest(source, data_admin, write_csv(tmp_path / "first.csv", HEADER, [
        ["", "南京新远餐饮管理有限公司", "王五", "南京市玄武区北京东路9号", "320102", "13700000003", ""],
    ]), django_capture_on_commit_callbacks)
    record = Subject.objects.get(name="南京新远餐饮管理有限公司")
    code = uscc("320102", 31)
    batch = ingest(source, data_admin, write_csv(tmp_path / "second.csv", HEADER, [
        [code, "新远餐饮管理有限责任公司", "王五", "南京市玄武区北京东路9号", "320102", "", "H6210"],
        [code, "新远餐饮管理有限责任公司", "王五", "南京市玄武区北京东路9号", "320102", "", "H6220"],
    ]), django_capture_on_commit_callbacks)
    record.refresh_from_db()
    assert record.uscc == code and record.name == "新远餐饮管理有限责任公司" and record.industry_id == "622"
    link = EntityLink.objects.get(batch=batch)
    services.split_link(link, actor=data_admin)
    record.refresh_from_db()
    assert record.uscc is None and record.name == "南京新远餐饮管理有限公司" and record.industry_id is None
    separate = Subject.objects.get(uscc=code)
    assert separate.name == "新远餐饮管理有限责任公司" and separate.industry_id == "622"


def test_a_code_taken_meanwhile_fails_the_load(data_admin) -> None:
    import datetime as dt

    import pyarrow as pa

    from jianguan.core import services as core_services
    from jianguan.core.testing.personas import make_subject

    record = make_subject("320102", name="玄武区小李便利店", uscc=None)
    Subject.objects.filter(pk=record.pk).update(uscc=uscc("320102", 41))  # another batch was first
    with pytest.raises(ConflictError):
        core_services.set_subject_codes(pa.table({"id": [record.pk], "uscc": [uscc("320102", 42)]}),
                                        now=dt.datetime.now(dt.UTC))


def test_a_row_without_code_links_to_a_record_by_its_phone(data_admin, registered, tax_source, tmp_path,
                                                           django_capture_on_commit_callbacks) -> None:
    """Master records keep their phone as a keyed hash only; a row without a code still links to them by it."""
    from jianguan.datacenter import conf
    from jianguan.datacenter.linkage.features import phone_key

    target = Subject.objects.get(uscc=uscc("320106", 11))
    assert target.phone_index == phone_key("13800000001", conf.phone_pepper())
    assert "13800000001" not in str(Subject.objects.filter(pk=target.pk).values().first())
    path = write_csv(tmp_path / "tax.csv", HEADER, [
        ["", "鑫盛科技", "", "南京市鼓楼区湖南路20号", "320106", "138-0000-0001", ""],
    ])
    batch = ingest(tax_source, data_admin, path, django_capture_on_commit_callbacks)
    assert batch.status == "loaded", batch.message
    link = EntityLink.objects.get(batch=batch)
    assert link.subject == target
    assert any(d["field"] == "phone" and d["weight"] > 0 for d in link.deciding_fields)


def _tax_delivery(tmp_path, name="tax.csv"):
    return write_csv(tmp_path / name, HEADER, [
        ["", "鑫盛科技有限责任公司", "张三", "南京市鼓楼区中山路1号", "", "13800000001", "I651"],
    ])


def test_a_split_stands_when_the_same_rows_arrive_again(data_admin, registered, tax_source, tmp_path,
                                                        django_capture_on_commit_callbacks) -> None:
    batch = ingest(tax_source, data_admin, _tax_delivery(tmp_path), django_capture_on_commit_callbacks)
    link = services.split_link(EntityLink.objects.get(batch=batch), actor=data_admin, reason="同名不同户")
    original = Subject.objects.get(uscc=uscc("320106", 11))
    assert original.industry_id is None
    separate = link.split_subject
    subjects = Subject.objects.count()

    again = ingest(tax_source, data_admin, _tax_delivery(tmp_path), django_capture_on_commit_callbacks, force=True)
    assert again.status == "loaded", again.message
    assert again.linked_count == 0 and again.created_count == 0
    original.refresh_from_db()
    assert original.industry_id is None  # the values the split took back stay out
    assert not LineageEntry.objects.filter(subject=original, batch=again).exists()
    assert not EntityLink.objects.filter(batch=again).exists()
    assert Subject.objects.count() == subjects  # the row is the split-off record's own, not a third record
    link.refresh_from_db()
    assert link.status == "split" and link.split_subject == separate
    separate.refresh_from_db()
    assert separate.name == "鑫盛科技有限责任公司" and separate.uscc is None


def test_a_confirmed_link_stays_confirmed_when_the_same_rows_arrive_again(
        data_admin, registered, tax_source, tmp_path, django_capture_on_commit_callbacks) -> None:
    batch = ingest(tax_source, data_admin, _tax_delivery(tmp_path), django_capture_on_commit_callbacks)
    link = services.confirm_link(EntityLink.objects.get(batch=batch), actor=data_admin)
    again = ingest(tax_source, data_admin, _tax_delivery(tmp_path), django_capture_on_commit_callbacks, force=True)
    assert again.status == "loaded", again.message
    assert again.linked_count == 0 and not EntityLink.objects.filter(batch=again).exists()
    link.refresh_from_db()
    assert link.status == "confirmed" and link.subject == Subject.objects.get(uscc=uscc("320106", 11))


def test_an_adoption_link_names_the_row_that_matched(data_admin, source, tax_source, tmp_path,
                                                    django_capture_on_commit_callbacks) -> None:
    """The entity's latest row is not the one that matched the record: the link's row, weight and deciding fields
    are all the matching row's, and so is the lineage step of the code."""
    ingest(tax_source, data_admin, write_csv(tmp_path / "tax.csv", HEADER, [
        ["", "南京新远餐饮管理有限公司", "王五", "南京市玄武区北京东路9号", "320102", "13700000003", ""],
    ]), django_capture_on_commit_callbacks)
    record = Subject.objects.get(name="南京新远餐饮管理有限公司")
    code = uscc("320102", 51)
    batch = ingest(source, data_admin, write_csv(tmp_path / "registry.csv", HEADER, [
        [code, "南京新远餐饮管理有限公司", "王五", "南京市玄武区北京东路9号", "320102", "13700000003", ""],
        [code, "江苏新远餐饮集团有限公司", "王五", "南京市建邺区江东中路100号", "320102", "", "H6210"],
    ]), django_capture_on_commit_callbacks)
    assert batch.status == "loaded", batch.message
    record.refresh_from_db()
    assert record.uscc == code
    link = EntityLink.objects.get(batch=batch)
    assert link.subject_id == record.pk and link.row_no == 2  # the matching row, not the latest (row 3)
    name = next(d for d in link.deciding_fields if d["field"] == "name")
    assert name["weight"] > 0  # row 2's name is the record's; row 3's is not
    by_row = {r.row_no: r for r in LineageEntry.objects.filter(subject=record, batch=batch)}
    assert "code_adopted" in by_row[2].steps("uscc")
    assert all("uscc" not in r.fields for n, r in by_row.items() if n != 2)


def _no_matches(monkeypatch) -> None:
    """The model finds no pair this time (its weights are trained on each run's rows: a borderline match may go
    either way between two runs)."""
    from jianguan.datacenter.linkage import model as lm

    real = lm.predict

    def none_kept(engine, features, trained):
        edges = real(engine, features, trained)
        return edges.slice(0, 0)

    monkeypatch.setattr(lm, "predict", none_kept)


def test_rows_without_a_code_delivered_again_change_nothing(data_admin, registered, tax_source, tmp_path,
                                                            django_capture_on_commit_callbacks) -> None:
    """A row that made a record of its own is that record's own row when it comes again — not a link to it, and
    not a second record; a linked row stays linked, with no second link."""
    from jianguan.datacenter.models import EntityRow

    path = write_csv(tmp_path / "tax.csv", HEADER, [
        ["", "鑫盛科技有限责任公司", "张三", "南京市鼓楼区中山路1号", "", "13800000001", "I651"],
        ["", "鼓楼区老王面馆", "王强", "南京市鼓楼区汉中路8号", "320106", "13900000008", ""],
        ["", "玄武区小李便利店", "李明", "南京市玄武区北京东路9号", "320102", "13900000009", ""],
    ])
    first = ingest(tax_source, data_admin, path, django_capture_on_commit_callbacks)
    assert first.linked_count == 1 and first.created_count == 2, first.message
    own = {row.row_no: row.subject.name for row in EntityRow.objects.filter(batch=first).select_related("subject")}
    assert own == {3: "鼓楼区老王面馆", 4: "玄武区小李便利店"}
    snapshot = list(Subject.objects.order_by("id").values())
    links, lineage = list(EntityLink.objects.values_list("id", "status")), LineageEntry.objects.count()

    again = ingest(tax_source, data_admin, path, django_capture_on_commit_callbacks, force=True)
    assert again.status == "loaded", again.message
    assert (again.created_count, again.updated_count, again.linked_count) == (0, 0, 0)
    assert again.unchanged_count == 3
    assert list(Subject.objects.order_by("id").values()) == snapshot
    assert list(EntityLink.objects.values_list("id", "status")) == links
    assert LineageEntry.objects.count() == lineage
    assert not EntityRow.objects.filter(batch=again).exists()


def test_what_became_of_a_row_stands_whatever_the_model_makes_of_it_next_time(
        data_admin, registered, tax_source, tmp_path, monkeypatch, django_capture_on_commit_callbacks) -> None:
    path = write_csv(tmp_path / "tax.csv", HEADER, [
        ["", "鑫盛科技有限责任公司", "张三", "南京市鼓楼区中山路1号", "", "13800000001", "I651"],
        ["", "鼓楼区老王面馆", "王强", "南京市鼓楼区汉中路8号", "320106", "13900000008", ""],
    ])
    first = ingest(tax_source, data_admin, path, django_capture_on_commit_callbacks)
    assert first.linked_count == 1 and first.created_count == 1, first.message
    snapshot = list(Subject.objects.order_by("id").values())
    links = list(EntityLink.objects.values_list("id", "subject_id", "status"))

    _no_matches(monkeypatch)
    again = ingest(tax_source, data_admin, path, django_capture_on_commit_callbacks, force=True)
    assert again.status == "loaded", again.message
    assert (again.created_count, again.linked_count) == (0, 0)  # without the earlier decisions: two new records
    assert list(Subject.objects.order_by("id").values()) == snapshot
    assert list(EntityLink.objects.values_list("id", "subject_id", "status")) == links

    # a row the source has not delivered before is matched as usual (here: not at all, so a record of its own)
    other = write_csv(tmp_path / "tax2.csv", HEADER, [
        ["", "鑫盛科技有限责任公司", "张三", "南京市鼓楼区中山路1号", "", "13800000001", "I652"],
    ])
    changed = ingest(tax_source, data_admin, other, django_capture_on_commit_callbacks)
    assert changed.created_count == 1 and changed.linked_count == 0


def test_a_split_row_whose_record_is_gone_makes_one_record_not_one_per_delivery(
        data_admin, registered, tax_source, tmp_path, django_capture_on_commit_callbacks) -> None:
    batch = ingest(tax_source, data_admin, _tax_delivery(tmp_path), django_capture_on_commit_callbacks)
    link = services.split_link(EntityLink.objects.get(batch=batch), actor=data_admin, reason="同名不同户")
    Subject.objects.filter(pk=link.split_subject_id).delete()  # the record the split made is gone
    subjects = Subject.objects.count()

    again = ingest(tax_source, data_admin, _tax_delivery(tmp_path), django_capture_on_commit_callbacks, force=True)
    assert again.status == "loaded", again.message
    assert again.created_count == 1 and again.linked_count == 0  # a record of its own, not the split-from one
    assert Subject.objects.count() == subjects + 1
    third = ingest(tax_source, data_admin, _tax_delivery(tmp_path), django_capture_on_commit_callbacks, force=True)
    assert third.created_count == 0 and third.linked_count == 0 and Subject.objects.count() == subjects + 1
