"""The phone's keyed hash on a master record (``Subject.phone_index``) is decided like the other master fields."""

from __future__ import annotations

import pytest

from jianguan.core.models import Subject
from jianguan.datacenter import conf, services
from jianguan.datacenter.linkage.features import phone_key
from jianguan.datacenter.models import Conflict, LineageEntry
from jianguan.datacenter.tests.conftest import ingest, make_source, uscc, write_csv

HEADER = ["uscc", "name", "legal_representative", "address", "region", "phone"]
CODE = uscc("320106", 61)
NAME = "南京鑫盛科技有限公司"
ADDRESS = "南京市鼓楼区中山路1号"


def key(phone: str) -> str:
    return phone_key(phone, conf.phone_pepper())


@pytest.fixture
def loaded(data_admin, source, tmp_path, django_capture_on_commit_callbacks):
    path = write_csv(tmp_path / "a.csv", HEADER, [[CODE, NAME, "张三", ADDRESS, "320106", "13800000001"]])
    batch = ingest(source, data_admin, path, django_capture_on_commit_callbacks)
    assert Subject.objects.get(uscc=CODE).phone_index == key("13800000001")
    return batch


def _deliver(source, actor, tmp_path, capture, phone="13900000009", file="b.csv"):
    path = write_csv(tmp_path / file, HEADER, [[CODE, NAME, "张三", ADDRESS, "320106", phone]])
    return ingest(source, actor, path, capture)


def _newest_phone_lineage(subject: Subject) -> LineageEntry:
    return next(r for r in LineageEntry.objects.filter(subject=subject).order_by("-id") if "phone_index" in r.fields)


def test_a_later_phone_from_the_same_source_replaces_the_key(data_admin, source, loaded, tmp_path,
                                                             django_capture_on_commit_callbacks) -> None:
    batch = _deliver(source, data_admin, tmp_path, django_capture_on_commit_callbacks)
    assert batch.status == "loaded", batch.message
    assert batch.updated_count == 1 and batch.conflict_count == 0
    subject = Subject.objects.get(uscc=CODE)
    assert subject.phone_index == key("13900000009")
    lineage = _newest_phone_lineage(subject)
    assert lineage.batch == batch and lineage.action == "updated" and set(lineage.fields) == {"phone_index"}
    assert "phone" in lineage.steps("phone_index")


def test_the_same_phone_again_changes_nothing(data_admin, source, loaded, tmp_path,
                                              django_capture_on_commit_callbacks) -> None:
    batch = _deliver(source, data_admin, tmp_path, django_capture_on_commit_callbacks, phone="138-0000-0001")
    assert batch.updated_count == 0 and batch.unchanged_count == 1
    assert not LineageEntry.objects.filter(batch=batch).exists()


def test_an_equal_priority_source_with_another_phone_leaves_an_open_conflict(
        data_admin, loaded, tmp_path, django_capture_on_commit_callbacks) -> None:
    other = make_source(data_admin, code="city-nj", name="南京市数据中心", kind="city_centre", priority=50)
    batch = _deliver(other, data_admin, tmp_path, django_capture_on_commit_callbacks)
    assert batch.updated_count == 0 and batch.conflict_count == 1
    subject = Subject.objects.get(uscc=CODE)
    assert subject.phone_index == key("13800000001")
    conflict = Conflict.objects.get(batch=batch)
    assert (conflict.field, conflict.kind, conflict.status) == ("phone_index", "cross_source", "open")
    # the conflict holds the keys, never the numbers
    assert conflict.current_value == key("13800000001") and conflict.incoming_value == key("13900000009")
    assert conflict.current_source == loaded.source
    services.resolve_conflict(conflict, actor=data_admin, apply=True)
    subject.refresh_from_db()
    assert subject.phone_index == key("13900000009")
    assert _newest_phone_lineage(subject).action == "manual"


def test_a_higher_priority_source_replaces_the_key(data_admin, loaded, tmp_path,
                                                   django_capture_on_commit_callbacks) -> None:
    other = make_source(data_admin, code="samr-national", name="国家企业信用信息公示系统", kind="national",
                        priority=90)
    batch = _deliver(other, data_admin, tmp_path, django_capture_on_commit_callbacks)
    assert Conflict.objects.get(batch=batch).status == "applied"
    subject = Subject.objects.get(uscc=CODE)
    assert subject.phone_index == key("13900000009")
    lineage = _newest_phone_lineage(subject)
    assert lineage.batch == batch and "survivor" in lineage.steps("phone_index")


def test_a_lower_priority_source_keeps_the_key(data_admin, loaded, tmp_path,
                                               django_capture_on_commit_callbacks) -> None:
    other = make_source(data_admin, code="tax", name="税务登记", priority=40)
    batch = _deliver(other, data_admin, tmp_path, django_capture_on_commit_callbacks)
    assert Conflict.objects.get(batch=batch).status == "kept"
    assert Subject.objects.get(uscc=CODE).phone_index == key("13800000001")


def test_a_linked_row_only_fills_a_missing_key(data_admin, source, tmp_path,
                                               django_capture_on_commit_callbacks) -> None:
    ingest(source, data_admin, write_csv(tmp_path / "a.csv", HEADER, [
        [CODE, NAME, "张三", ADDRESS, "320106", "13800000001"],
        [uscc("320106", 62), "南京华信贸易有限公司", "李四", "南京市鼓楼区汉中路8号", "320106", ""],
    ]), django_capture_on_commit_callbacks)
    tax = make_source(data_admin, code="tax", name="税务登记", priority=40)
    batch = ingest(tax, data_admin, write_csv(tmp_path / "tax.csv", HEADER, [
        ["", "鑫盛科技有限责任公司", "张三", ADDRESS, "", "13700000007"],
        ["", "华信贸易有限责任公司", "李四", "南京市鼓楼区汉中路8号", "", "13600000006"],
    ]), django_capture_on_commit_callbacks)
    assert batch.linked_count == 2, batch.message
    assert Subject.objects.get(uscc=CODE).phone_index == key("13800000001")
    filled = Subject.objects.get(uscc=uscc("320106", 62))
    assert filled.phone_index == key("13600000006")
    assert "fill" in _newest_phone_lineage(filled).steps("phone_index")


def test_a_split_puts_back_the_key_an_adopted_code_replaced(data_admin, source, tmp_path,
                                                            django_capture_on_commit_callbacks) -> None:
    from jianguan.datacenter.models import EntityLink

    ingest(source, data_admin, write_csv(tmp_path / "first.csv", HEADER, [
        ["", "南京新远餐饮管理有限公司", "王五", "南京市玄武区北京东路9号", "320102", "13700000003"],
    ]), django_capture_on_commit_callbacks)
    record = Subject.objects.get(name="南京新远餐饮管理有限公司")
    assert record.phone_index == key("13700000003")
    code = uscc("320102", 63)
    batch = ingest(source, data_admin, write_csv(tmp_path / "second.csv", HEADER, [
        [code, "新远餐饮管理有限责任公司", "王五", "南京市玄武区北京东路9号", "320102", "13500000005"],
    ]), django_capture_on_commit_callbacks)
    record.refresh_from_db()
    assert record.uscc == code and record.phone_index == key("13500000005")
    link = EntityLink.objects.get(batch=batch)
    assert link.record["replaced"]["phone_index"] == key("13700000003")
    services.split_link(link, actor=data_admin)
    record.refresh_from_db()
    assert record.uscc is None and record.phone_index == key("13700000003")
    assert Subject.objects.get(uscc=code).phone_index == key("13500000005")


def test_lineage_lists_the_phone_key_without_the_number(client, data_admin, source, loaded, tmp_path,
                                                        django_capture_on_commit_callbacks) -> None:
    from django.urls import reverse
    from rest_framework.test import APIClient

    from jianguan.core.testing.personas import login_verified

    batch = _deliver(source, data_admin, tmp_path, django_capture_on_commit_callbacks, phone="139 0000 0009")
    subject = Subject.objects.get(uscc=CODE)
    api = APIClient()
    api.force_authenticate(user=data_admin)
    response = api.get(f"/api/v1/datacenter/lineage/subject/{subject.pk}/")
    assert response.status_code == 200
    phone = {f["field"]: f for f in response.json()["fields"]}["phone_index"]
    assert phone["label"] == "联系电话（匹配键）" and phone["value"] == key("13900000009")
    assert phone["source"]["batch"] == batch.pk and phone["source"]["row"] == 2
    assert phone["source"]["delivered"] == "139****0009"
    assert {s["code"] for s in phone["source"]["steps"]} >= {"extract", "phone"}
    assert [h["batch"] for h in phone["history"]] == [loaded.pk]
    assert "13900000009" not in response.content.decode() and "0000 0009" not in response.content.decode()
    assert "13800000001" not in response.content.decode()

    login_verified(client, data_admin)
    page = client.get(reverse("datacenter:entity_detail", args=[subject.pk])).content.decode()
    assert "联系电话（匹配键）" in page and key("13900000009")[:12] in page and "139****0009" in page
    assert "13900000009" not in page and "0000 0009" not in page


def test_the_conflict_pages_name_the_field_and_shorten_the_keys(client, data_admin, loaded, tmp_path,
                                                                django_capture_on_commit_callbacks) -> None:
    """A phone-key conflict is listed as 联系电话（匹配键） with the first characters of each key (and a tooltip), in
    the conflict list and on the record's page, not as ``phone_index`` and two 64-character hashes."""
    from django.urls import reverse

    from jianguan.core.testing.personas import login_verified

    other = make_source(data_admin, code="city-nj", name="南京市数据中心", kind="city_centre", priority=50)
    _deliver(other, data_admin, tmp_path, django_capture_on_commit_callbacks)
    subject = Subject.objects.get(uscc=CODE)
    login_verified(client, data_admin)
    for url in (reverse("datacenter:conflict_list"), reverse("datacenter:entity_detail", args=[subject.pk])):
        page = client.get(url).content.decode()
        assert "联系电话（匹配键）" in page
        for value in (key("13800000001"), key("13900000009")):
            assert f"{value[:12]}…" in page and value not in page


def test_conflicts_of_an_individual_business_mask_the_owner_and_address(client, data_admin, source,
                                                                        django_capture_on_commit_callbacks,
                                                                        tmp_path) -> None:
    """As on the record's page: an individual business's owner name and address are masked in conflicts too."""
    from django.urls import reverse

    from jianguan.core.testing.personas import login_verified

    code = uscc("320106", 62, prefix="92")
    header = ["uscc", "name", "legal_representative", "address", "region"]
    ingest(source, data_admin, write_csv(tmp_path / "i1.csv", header, [
        [code, "鼓楼区老王面馆", "王大锤", "南京市鼓楼区湖南路8号", "320106"]]), django_capture_on_commit_callbacks)
    other = make_source(data_admin, code="city-nj2", name="南京市数据中心", kind="city_centre", priority=50)
    ingest(other, data_admin, write_csv(tmp_path / "i2.csv", header, [
        [code, "鼓楼区老王面馆", "王小锤", "南京市鼓楼区湖南路10号", "320106"]]), django_capture_on_commit_callbacks)
    subject = Subject.objects.get(uscc=code)
    assert subject.subject_type == "individual"
    assert set(Conflict.objects.filter(subject=subject).values_list("field", flat=True)) >= {"legal_representative"}
    login_verified(client, data_admin)
    page = client.get(reverse("datacenter:conflict_list")).content.decode()
    assert "王大锤" not in page and "王小锤" not in page and "湖南路10号" not in page
    assert "法定代表人" in page or "经营者" in page


def test_lineage_of_an_individual_business_masks_the_owner_and_address(data_admin, source, tmp_path,
                                                                      django_capture_on_commit_callbacks) -> None:
    """The lineage API, like the record's page, gives an individual business's owner and address masked: the
    current value and the value as delivered."""
    from rest_framework.test import APIClient

    code = uscc("320106", 63, prefix="92")
    header = ["uscc", "name", "legal_representative", "address", "region"]
    ingest(source, data_admin, write_csv(tmp_path / "i.csv", header, [
        [code, "鼓楼区老李面馆", "李大锤", "南京市鼓楼区湖南路18号", "320106"]]), django_capture_on_commit_callbacks)
    subject = Subject.objects.get(uscc=code)
    api = APIClient()
    api.force_authenticate(user=data_admin)
    response = api.get(f"/api/v1/datacenter/lineage/subject/{subject.pk}/")
    assert response.status_code == 200
    fields = {f["field"]: f for f in response.json()["fields"]}
    assert fields["legal_representative"]["value"] == "李**"
    assert fields["legal_representative"]["source"]["delivered"] == "李**"
    assert fields["address"]["value"].endswith("****") and fields["address"]["source"]["delivered"].endswith("****")
    assert "李大锤" not in response.content.decode() and "湖南路18号" not in response.content.decode()
    assert fields["name"]["value"] == "鼓楼区老李面馆"  # the business's name is no personal datum


def test_two_rows_of_one_batch_with_different_phones_are_flagged_as_keys(data_admin, source, tmp_path,
                                                                       django_capture_on_commit_callbacks) -> None:
    path = write_csv(tmp_path / "two.csv", HEADER, [
        [CODE, NAME, "张三", ADDRESS, "320106", "13800000001"],
        [CODE, NAME, "张三", ADDRESS, "320106", "139-0000-0009"],
        [CODE, NAME, "张三", ADDRESS, "320106", "+86 13900000009"],  # the same number as the row before
    ])
    batch = ingest(source, data_admin, path, django_capture_on_commit_callbacks)
    assert Subject.objects.get(uscc=CODE).phone_index == key("13900000009")  # the latest row's
    [conflict] = Conflict.objects.filter(batch=batch, field="phone_index")
    assert (conflict.kind, conflict.status, conflict.row_no) == ("within_batch", "kept", 2)
    assert (conflict.current_value, conflict.incoming_value) == (key("13900000009"), key("13800000001"))
    assert batch.quality["fields"]["phone"]["consistency"] < 1
