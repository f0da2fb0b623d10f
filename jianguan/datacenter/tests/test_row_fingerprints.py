"""A quarantined row's and a link's fingerprint (which recognises the same row delivered again) is a keyed hash of
the row, HMAC-SHA256 under a secret derived from the blind-index key: nobody without the key can test guessed phone
numbers against it. ``jianguan keys rotate`` recomputes the fingerprints under the active key, so a row delivered
again after a rotation is still recognised; migration 0009 keyed the fingerprints stored before."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from jianguan.core import keyring
from jianguan.core.crypto import field_cipher
from jianguan.core.models import AuditEntry, Subject
from jianguan.core.testing import keys
from jianguan.datacenter import conf, personal, services
from jianguan.datacenter.models import EntityLink, EntityRow, QuarantinedRow
from jianguan.datacenter.pipeline.runner import fingerprint
from jianguan.datacenter.tests.conftest import ingest, make_source, uscc, write_csv

pytestmark = pytest.mark.django_db
field_keys = keys.field_keys  # the fixture
migration = importlib.import_module("jianguan.datacenter.migrations.0009_key_row_fingerprints")

HOOK = "datacenter.row_fingerprints"
HEADER = ["uscc", "name", "legal_representative", "address", "region", "phone", "industry"]
PHONE = "13800000061"
BAD_CODE = uscc("320106", 62)[:-1] + "0"  # the check character is wrong: the row is quarantined


def _registry(tmp_path):
    return write_csv(tmp_path / "registry.csv", HEADER, [
        [uscc("320106", 11), "南京鑫盛科技有限公司", "张三", "江苏省南京市鼓楼区中山路1号", "320106", "13800000001",
         ""],
        [BAD_CODE, "南京六十二号有限公司", "李四", "南京市鼓楼区中山路62号", "320106", PHONE, ""],
    ])


def _tax(tmp_path):
    return write_csv(tmp_path / "tax.csv", HEADER, [
        ["", "鑫盛科技有限责任公司", "张三", "南京市鼓楼区中山路1号", "", "13800000001", "I651"],
        ["", "鼓楼区老王面馆", "王强", "南京市鼓楼区汉中路8号", "320106", "13900000008", ""],  # a record of its own
    ])


@pytest.fixture
def loaded(field_keys, data_admin, source, tmp_path, django_capture_on_commit_callbacks):
    """Under key ``k0``: a registry delivery with one row quarantined (it carries a phone), and a tax delivery whose
    first row without a code is linked to the registry's record, the second a record of its own (``EntityRow``)."""
    field_keys("k0")
    registry = ingest(source, data_admin, _registry(tmp_path), django_capture_on_commit_callbacks)
    assert registry.status == "loaded", registry.message
    tax = make_source(data_admin, code="tax", name="税务登记", priority=40)
    batch = ingest(tax, data_admin, _tax(tmp_path), django_capture_on_commit_callbacks)
    assert batch.linked_count == 1, batch.message
    return QuarantinedRow.objects.get(batch=registry), EntityLink.objects.get(batch=batch)


def _plain(row: QuarantinedRow | EntityLink | EntityRow) -> dict:
    aad = {EntityLink: personal.LINK_AAD, EntityRow: personal.OWN_ROW_AAD}.get(type(row),
                                                                             personal.QUARANTINE_RECORD_AAD)
    return personal.open_values(row.record, aad) or {}


def _message(row: QuarantinedRow | EntityLink | EntityRow) -> bytes:
    return json.dumps([row.batch.source_id, _plain(row)], ensure_ascii=False, sort_keys=True).encode()


def _prints() -> dict[str, str]:
    return {**{f"q{pk}": fp for pk, fp in QuarantinedRow.objects.values_list("pk", "fingerprint")},
            **{f"l{pk}": fp for pk, fp in EntityLink.objects.values_list("pk", "fingerprint")},
            **{f"o{pk}": fp for pk, fp in EntityRow.objects.values_list("pk", "fingerprint")}}


def _rotate_keys(field_keys) -> StringIO:
    """An operator's rotation: ``k1`` made active with ``k0`` still in the ring, ``jianguan keys rotate``, the phone
    keys re-keyed (``rekey-phones``), then ``k0`` retired."""
    field_keys("k1", "k0")
    out = StringIO()
    call_command("keys", "rotate", stdout=out)
    call_command("datacenter", "rekey-phones", "--from-key", "k0", stdout=StringIO())
    field_keys("k1")
    return out


def test_the_fingerprint_is_a_keyed_hash_not_a_plain_sha256(loaded, field_keys) -> None:
    quarantined, link = loaded
    key = conf.fingerprint_key()
    assert key not in ("", conf.phone_pepper())  # a key of its own, not the phones'
    for row in (quarantined, link):
        assert row.fingerprint != hashlib.sha256(_message(row)).hexdigest()
        assert row.fingerprint == hmac.new(key.encode(), _message(row), hashlib.sha256).hexdigest()
        assert row.fingerprint == fingerprint(key, row.batch.source_id, _plain(row))
    assert _plain(quarantined)["phone"] == PHONE  # the phone is in what is hashed

    field_keys("k1", "k0")
    assert conf.fingerprint_key() != key and conf.fingerprint_key(key_id="k0") == key
    for row in (quarantined, link):
        assert fingerprint(conf.fingerprint_key(), row.batch.source_id, _plain(row)) != row.fingerprint
    with pytest.raises(ValueError, match="needs its key"):
        fingerprint("", quarantined.batch.source_id, _plain(quarantined))


def test_the_rotation_hook_reproduces_what_the_load_stored(loaded) -> None:
    """Recomputed from the stored (encrypted) copy, each fingerprint is the one the load computed from the row."""
    assert personal.refingerprint_rows(dry_run=True) == {"quarantined_rows": 0, "links": 0, "own_rows": 0}
    assert keyring.status().hooks[HOOK] == {"quarantined_rows": 0, "links": 0, "own_rows": 0}


def test_keys_rotate_recomputes_the_fingerprints_once(loaded, field_keys) -> None:
    quarantined, link = loaded
    before = _prints()
    field_keys("k1", "k0")
    assert keyring.status().hooks[HOOK] == {"quarantined_rows": 1, "links": 1, "own_rows": 1}
    assert _prints() == before  # the status only counts

    out = StringIO()
    call_command("keys", "rotate", stdout=out)
    assert f"{HOOK}: quarantined_rows 1, links 1, own_rows 1" in out.getvalue()
    key = conf.fingerprint_key()
    own = EntityRow.objects.get()
    for row, name in ((quarantined, f"q{quarantined.pk}"), (link, f"l{link.pk}"), (own, f"o{own.pk}")):
        row.refresh_from_db()
        assert row.fingerprint == fingerprint(key, row.batch.source_id, _plain(row)) != before[name]
    event = AuditEntry.objects.get(event=personal.FINGERPRINTS_EVENT)
    assert event.details == {"key_id": "k1", "quarantined_rows": 1, "links": 1, "own_rows": 1}

    assert personal.refingerprint_rows() == {"quarantined_rows": 0, "links": 0, "own_rows": 0}  # again: nothing to do
    assert not any(keyring.status().hooks[HOOK].values())
    assert AuditEntry.objects.filter(event=personal.FINGERPRINTS_EVENT).count() == 1


def test_a_quarantined_row_delivered_again_after_a_rotation_is_not_quarantined_twice(
        loaded, field_keys, data_admin, source, tmp_path, django_capture_on_commit_callbacks) -> None:
    again = ingest(source, data_admin, _registry(tmp_path), django_capture_on_commit_callbacks, force=True)
    assert again.status == "loaded" and not QuarantinedRow.objects.filter(batch=again).exists()

    _rotate_keys(field_keys)
    again = ingest(source, data_admin, _registry(tmp_path), django_capture_on_commit_callbacks, force=True)
    assert again.status == "loaded", again.message
    assert not QuarantinedRow.objects.filter(batch=again).exists()
    assert QuarantinedRow.objects.count() == 1


def test_a_split_link_stands_after_a_rotation(loaded, field_keys, data_admin, tmp_path,
                                              django_capture_on_commit_callbacks) -> None:
    _quarantined, link = loaded
    link = services.split_link(link, actor=data_admin, reason="同名不同户")
    separate = link.split_subject
    subjects = Subject.objects.count()

    _rotate_keys(field_keys)
    assert personal.refingerprint_rows(dry_run=True) == {"quarantined_rows": 0, "links": 0, "own_rows": 0}
    again = ingest(link.batch.source, data_admin, _tax(tmp_path), django_capture_on_commit_callbacks, force=True)
    assert again.status == "loaded", again.message
    # the row goes to the record the split gave it, as that record's own row: no new link, no third record; the
    # other row is still recognised as its record's own (its fingerprint recomputed by the rotation)
    assert again.linked_count == 0 and again.created_count == 0
    assert not EntityLink.objects.filter(batch=again).exists()
    assert Subject.objects.count() == subjects
    link.refresh_from_db()
    assert link.status == "split" and link.split_subject == separate
    original = Subject.objects.get(uscc=uscc("320106", 11))
    assert original.industry_id is None  # the values the split took back stay out


def test_rows_are_recognised_between_a_key_change_and_keys_rotate(loaded, field_keys, data_admin, source, tmp_path,
                                                                  django_capture_on_commit_callbacks) -> None:
    """The operator made ``k1`` active but has not run ``keys rotate`` yet: the stored fingerprints are still under
    ``k0``, and the rows delivered again are recognised under it (every key of the ring is compared)."""
    _quarantined, link = loaded
    link = services.split_link(link, actor=data_admin, reason="同名不同户")
    subjects = Subject.objects.count()
    field_keys("k1", "k0")
    assert any(personal.refingerprint_rows(dry_run=True).values())  # not recomputed yet

    again = ingest(source, data_admin, _registry(tmp_path), django_capture_on_commit_callbacks, force=True)
    assert again.status == "loaded", again.message
    assert not QuarantinedRow.objects.filter(batch=again).exists() and QuarantinedRow.objects.count() == 1
    tax = ingest(link.batch.source, data_admin, _tax(tmp_path), django_capture_on_commit_callbacks, force=True)
    assert tax.status == "loaded", tax.message
    assert tax.linked_count == 0 and tax.created_count == 0 and Subject.objects.count() == subjects  # the split stands


def test_a_standing_link_is_not_opened_again_between_a_key_change_and_keys_rotate(
        loaded, field_keys, data_admin, tmp_path, django_capture_on_commit_callbacks) -> None:
    _quarantined, link = loaded
    field_keys("k1", "k0")
    again = ingest(link.batch.source, data_admin, _tax(tmp_path), django_capture_on_commit_callbacks, force=True)
    assert again.status == "loaded", again.message
    assert not EntityLink.objects.filter(batch=again).exists()
    assert EntityLink.objects.count() == 1


def test_an_adoption_link_keeps_a_reproducible_fingerprint_through_the_phone_rekey(
        field_keys, data_admin, source, tmp_path, django_capture_on_commit_callbacks) -> None:
    """A link whose values keep a phone key (an adopted code) has its fingerprint recomputed by ``rekey-phones``
    with the translated key, so ``jianguan keys status`` has nothing left to do after the whole rotation."""
    field_keys("k0")
    tax = make_source(data_admin, code="tax", name="税务登记", priority=40)
    ingest(tax, data_admin, write_csv(tmp_path / "tax.csv", HEADER, [
        ["", "南京新远餐饮管理有限公司", "王五", "南京市玄武区北京东路9号", "320102", "", ""],
    ]), django_capture_on_commit_callbacks)
    batch = ingest(source, data_admin, write_csv(tmp_path / "registry.csv", HEADER, [
        [uscc("320102", 21), "新远餐饮管理有限责任公司", "王五", "江苏省南京市玄武区北京东路9号", "320102",
         "13700000003", "H6210"],
    ]), django_capture_on_commit_callbacks)
    link = EntityLink.objects.get(batch=batch)
    assert link.record["uscc"] == uscc("320102", 21) and link.record["phone_index"]
    assert personal.refingerprint_rows(dry_run=True) == {"quarantined_rows": 0, "links": 0, "own_rows": 0}

    _rotate_keys(field_keys)
    link.refresh_from_db()
    assert link.fingerprint == fingerprint(conf.fingerprint_key(), source.pk, _plain(link))
    assert not any(keyring.status().hooks[HOOK].values())


# --- the data migration ---------------------------------------------------------------------------------------------


def test_the_migration_keys_an_old_unkeyed_fingerprint(loaded, field_keys, data_admin, source, tmp_path,
                                                        django_capture_on_commit_callbacks) -> None:
    quarantined, link = loaded
    keyed = {"q": quarantined.fingerprint, "l": link.fingerprint}
    # the old format: SHA-256 of the row with its source id, no key
    unkeyed = {"q": hashlib.sha256(_message(quarantined)).hexdigest(), "l": hashlib.sha256(_message(link)).hexdigest()}
    QuarantinedRow.objects.filter(pk=quarantined.pk).update(fingerprint=unkeyed["q"])
    EntityLink.objects.filter(pk=link.pk).update(fingerprint=unkeyed["l"])
    # a row whose record does not decrypt (a token under a key the ring lacks) and one without a fingerprint
    field_keys("k9")
    foreign = field_cipher().encrypt(PHONE, associated_data=personal.QUARANTINE_RECORD_AAD)
    field_keys("k0")
    lost = QuarantinedRow.objects.create(batch=quarantined.batch, row_no=99, fingerprint="f" * 64,
                                         record={"name": "某公司", "phone": foreign})
    QuarantinedRow.objects.create(batch=quarantined.batch, row_no=98, record={"name": "某记录"})

    assert migration.key_fingerprints(apps) == {"quarantined_rows": 1, "links": 1, "unreadable": 1}
    quarantined.refresh_from_db()
    link.refresh_from_db()
    assert {"q": quarantined.fingerprint, "l": link.fingerprint} == keyed
    assert QuarantinedRow.objects.get(pk=lost.pk).fingerprint == "f" * 64
    assert QuarantinedRow.objects.get(row_no=98).fingerprint == ""
    assert migration.key_fingerprints(apps) == {"quarantined_rows": 0, "links": 0, "unreadable": 1}  # again

    # the migrated row is recognised when delivered again
    again = ingest(source, data_admin, _registry(tmp_path), django_capture_on_commit_callbacks, force=True)
    assert again.status == "loaded" and not QuarantinedRow.objects.filter(batch=again).exists()

    assert migration.unkey_fingerprints(apps) == {"quarantined_rows": 1, "links": 1, "unreadable": 1}  # and back
    quarantined.refresh_from_db()
    link.refresh_from_db()
    assert {"q": quarantined.fingerprint, "l": link.fingerprint} == unkeyed
