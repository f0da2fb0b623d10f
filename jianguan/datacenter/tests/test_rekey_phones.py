"""``jianguan datacenter rekey-phones``: after the blind-index key changed, the phone keys of master records are
made again with the new pepper from the stored source rows — all or nothing, in bulk, audited."""

from __future__ import annotations

import base64
import hashlib

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from jianguan.core.crypto import field_cipher
from jianguan.core.models import AuditEntry, Subject
from jianguan.datacenter import conf, services
from jianguan.datacenter.linkage.features import phone_key
from jianguan.datacenter.models import EntityLink
from jianguan.datacenter.selectors import raw_copy_path
from jianguan.datacenter.tests.conftest import ingest, make_source, uscc, write_csv

HEADER = ["uscc", "name", "legal_representative", "address", "region", "phone"]


@pytest.fixture
def rotate(settings):
    """Make a new key the active one, the embedded-mode key ``k0`` staying in the ring."""
    old = hashlib.sha256(b"jianguan-field-key:" + settings.SECRET_KEY.encode()).digest()
    new = hashlib.sha256(b"another key for the test").digest()

    def _rotate() -> None:
        settings.FIELD_ENCRYPTION_KEYS = (f"k1:{base64.b64encode(new).decode()},"
                                          f"k0:{base64.b64encode(old).decode()}")
        field_cipher.cache_clear()

    field_cipher.cache_clear()
    yield _rotate
    field_cipher.cache_clear()


@pytest.fixture
def keyed(data_admin, source, tmp_path, django_capture_on_commit_callbacks):
    """Two deliveries: three records with phones (one given as full-width digits with spaces), one without."""
    first = ingest(source, data_admin, write_csv(tmp_path / "a.csv", HEADER, [
        [uscc("320106", 71), "南京七十一号有限公司", "张三", "南京市鼓楼区中山路71号", "320106", "13800000071"],
        [uscc("320106", 72), "南京七十二号有限公司", "李四", "南京市鼓楼区中山路72号", "320106",
         "０２５ ８３２０ １２３４"],
        [uscc("320106", 73), "南京七十三号有限公司", "王五", "南京市鼓楼区中山路73号", "320106", ""],
    ]), django_capture_on_commit_callbacks)
    second = ingest(source, data_admin, write_csv(tmp_path / "b.csv", HEADER, [
        [uscc("320106", 74), "南京七十四号有限公司", "赵六", "南京市鼓楼区中山路74号", "320106", "13900000074"],
    ]), django_capture_on_commit_callbacks)
    assert first.status == second.status == "loaded"
    return first, second


def _key(code: str) -> str:
    return Subject.objects.get(uscc=code).phone_index


def test_it_rekeys_every_phone_key_with_the_new_pepper(keyed, rotate, capsys) -> None:
    old_pepper = conf.phone_pepper()
    assert _key(uscc("320106", 71)) == phone_key("13800000071", old_pepper)
    rotate()
    new_pepper = conf.phone_pepper()
    assert new_pepper != old_pepper and conf.phone_pepper(key_id="k0") == old_pepper

    call_command("datacenter", "rekey-phones", "--from-key", "k0")
    assert "re-keyed 3 master records (0 already current, 0 cleared" in capsys.readouterr().out
    assert _key(uscc("320106", 71)) == phone_key("13800000071", new_pepper)
    assert _key(uscc("320106", 72)) == phone_key("025-83201234", new_pepper)
    assert _key(uscc("320106", 74)) == phone_key("13900000074", new_pepper)
    assert _key(uscc("320106", 73)) == ""
    event = AuditEntry.objects.get(event="datacenter.subject_phone.rekeyed")
    assert event.details["rekeyed"] == 3 and event.details["from_key"] == "k0"
    assert event.actor_name == "system:datacenter"

    call_command("datacenter", "rekey-phones", "--from-key", "k0")  # again: nothing left to do
    assert "re-keyed 0 master records (3 already current, 0 cleared" in capsys.readouterr().out


def test_a_new_batch_links_by_phone_after_the_rekey(data_admin, keyed, rotate, tmp_path,
                                                    django_capture_on_commit_callbacks) -> None:
    rotate()
    call_command("datacenter", "rekey-phones", "--from-key", "k0")
    tax = make_source(data_admin, code="tax", name="税务登记", priority=40)
    batch = ingest(tax, data_admin, write_csv(tmp_path / "tax.csv", HEADER, [
        ["", "七十一号", "", "南京市鼓楼区湖南路20号", "320106", "138-0000-0071"],
    ]), django_capture_on_commit_callbacks)
    link = EntityLink.objects.get(batch=batch)
    assert link.subject == Subject.objects.get(uscc=uscc("320106", 71))


def test_a_dry_run_changes_nothing(keyed, rotate, capsys) -> None:
    before = dict(Subject.objects.values_list("id", "phone_index"))
    rotate()
    call_command("datacenter", "rekey-phones", "--from-key", "k0", "--dry-run")
    assert "would re-key 3 master records" in capsys.readouterr().out
    assert dict(Subject.objects.values_list("id", "phone_index")) == before
    assert not AuditEntry.objects.filter(event="datacenter.subject_phone.rekeyed").exists()


def test_a_key_no_stored_row_reproduces_is_cleared(keyed, rotate, capsys) -> None:
    _first, second = keyed
    raw_copy_path(second.pk).unlink()  # that batch's files were removed from the store
    rotate()
    call_command("datacenter", "rekey-phones", "--from-key", "k0")
    assert "re-keyed 2 master records (0 already current, 1 cleared" in capsys.readouterr().out
    assert _key(uscc("320106", 74)) == ""


def test_a_key_id_that_made_none_of_the_keys_is_refused(keyed, rotate, settings) -> None:
    rotate()
    other = base64.b64encode(hashlib.sha256(b"a third key").digest()).decode()
    settings.FIELD_ENCRYPTION_KEYS += f",k2:{other}"
    field_cipher.cache_clear()
    before = dict(Subject.objects.values_list("id", "phone_index"))
    with pytest.raises(CommandError, match="none of the 3 phone keys"):
        call_command("datacenter", "rekey-phones", "--from-key", "k2")
    assert dict(Subject.objects.values_list("id", "phone_index")) == before


def test_a_failure_leaves_every_key_as_it_was(keyed, rotate, monkeypatch) -> None:
    from jianguan.datacenter import rekey

    before = dict(Subject.objects.values_list("id", "phone_index"))
    rotate()

    def crash(*args, **kwargs):
        raise RuntimeError("crash after the updates")

    monkeypatch.setattr(rekey.audit, "record_event", crash)
    with pytest.raises(RuntimeError):
        call_command("datacenter", "rekey-phones", "--from-key", "k0")
    assert dict(Subject.objects.values_list("id", "phone_index")) == before


def test_an_unknown_key_id_is_refused(keyed, rotate) -> None:
    rotate()
    with pytest.raises(CommandError, match="unknown key id"):
        call_command("datacenter", "rekey-phones", "--from-key", "k9")


def test_a_split_after_the_rekey_puts_back_the_new_keys(data_admin, source, rotate, tmp_path,
                                                         django_capture_on_commit_callbacks) -> None:
    """An adopted code's link keeps the keys it set and replaced: they are re-keyed with the records."""
    ingest(source, data_admin, write_csv(tmp_path / "first.csv", HEADER, [
        ["", "南京新远餐饮管理有限公司", "王五", "南京市玄武区北京东路9号", "320102", "13700000003"],
    ]), django_capture_on_commit_callbacks)
    record = Subject.objects.get(name="南京新远餐饮管理有限公司")
    code = uscc("320102", 75)
    batch = ingest(source, data_admin, write_csv(tmp_path / "second.csv", HEADER, [
        [code, "新远餐饮管理有限责任公司", "王五", "南京市玄武区北京东路9号", "320102", "13500000005"],
    ]), django_capture_on_commit_callbacks)
    rotate()
    call_command("datacenter", "rekey-phones", "--from-key", "k0")
    new_pepper = conf.phone_pepper()
    link = EntityLink.objects.get(batch=batch)
    assert link.record["phone_index"] == phone_key("13500000005", new_pepper)
    assert link.record["replaced"]["phone_index"] == phone_key("13700000003", new_pepper)
    services.split_link(link, actor=data_admin)
    record.refresh_from_db()
    assert record.uscc is None and record.phone_index == phone_key("13700000003", new_pepper)
    assert Subject.objects.get(uscc=code).phone_index == phone_key("13500000005", new_pepper)
    assert settings.FIELD_ENCRYPTION_KEYS.startswith("k1:")
