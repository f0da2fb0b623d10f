"""Personal data in the data centre's copies of delivered rows (quarantine, links): encrypted at rest, masked on
display, shown in clear to a data manager only through an audited "show", and kept under the active key."""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
from io import StringIO

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from jianguan.core.crypto import field_cipher
from jianguan.core.errors import DomainError
from jianguan.core.fields import EncryptedTextField
from jianguan.core.models import AuditEntry, Subject
from jianguan.core.testing.personas import MARKET, login_verified, make_user
from jianguan.core.testing.scope_matrix import call
from jianguan.datacenter import conf, personal, services
from jianguan.datacenter.libraries import SPECS
from jianguan.datacenter.linkage.features import phone_key
from jianguan.datacenter.models import EntityLink, QuarantinedRow
from jianguan.datacenter.pipeline.runner import fingerprint
from jianguan.datacenter.tests.conftest import ingest, make_source, uscc, write_csv
from jianguan.lib.crypto import CryptoError
from jianguan.lib.validators import make_id_number

HEADER = ["uscc", "name", "legal_representative", "address", "region", "phone"]
PHONE = "13800000061"
MASKED = "138****0061"
BAD_CODE = uscc("320106", 62)[:-1] + "0"
GOOD_CODE = uscc("320106", 62)
migration = importlib.import_module("jianguan.datacenter.migrations.0008_encrypt_personal_copies")


def _raw(table: str, column: str, pk: int) -> str:
    """The column as stored (text), read past the ORM."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - fixed names
        value = cursor.fetchone()[0]
    return value if isinstance(value, str) or value is None else json.dumps(value, ensure_ascii=False)


def _raw_json(table: str, column: str, pk: int):
    text = _raw(table, column, pk)
    return None if text is None else json.loads(text)


def _key_id(token: str) -> str:
    return personal.token_key_id(token)


@pytest.fixture
def quarantined(data_admin, source, tmp_path, django_capture_on_commit_callbacks):
    """A delivery with one row rejected (its credit code's check character is wrong) that carries a phone."""
    path = write_csv(tmp_path / "a.csv", HEADER, [
        [uscc("320106", 61), "南京六十一号有限公司", "张三", "南京市鼓楼区中山路61号", "320106", "13900000061"],
        [BAD_CODE, "南京六十二号有限公司", "李四", "南京市鼓楼区中山路62号", "320106", PHONE],
    ])
    batch = ingest(source, data_admin, path, django_capture_on_commit_callbacks)
    assert batch.status == "loaded", batch.message
    return QuarantinedRow.objects.get(batch=batch)


@pytest.fixture
def leader(db):
    """Views everything in the province, changes nothing."""
    return make_user("province_leader", "320000", MARKET, ["leader"])


@pytest.fixture
def rotate(settings):
    """Make a new key ``k1`` the active one, the embedded-mode key ``k0`` staying in the ring."""
    old = hashlib.sha256(b"jianguan-field-key:" + settings.SECRET_KEY.encode()).digest()
    new = hashlib.sha256(b"another key for the test").digest()

    def _rotate(*, keep_old: bool = True) -> None:
        keys = f"k1:{base64.b64encode(new).decode()}"
        if keep_old:
            keys += f",k0:{base64.b64encode(old).decode()}"
        settings.FIELD_ENCRYPTION_KEYS = keys
        field_cipher.cache_clear()

    field_cipher.cache_clear()
    yield _rotate
    field_cipher.cache_clear()


# --- which fields ---------------------------------------------------------------------------------------------------


def test_the_declaration_names_what_the_master_models_encrypt_or_hash() -> None:
    """Each record library's encrypted fields come from the declared row fields; entity rows' phone is the one
    the master record keeps as a keyed hash."""
    from_row = {"party_id_number": "party_code"}  # the party code is stored as the ID number when it is one
    for name, spec in SPECS.items():
        encrypted = {f.name for f in spec.model._meta.concrete_fields if isinstance(f, EncryptedTextField)}
        assert {from_row.get(f, f) for f in encrypted} == set(personal.names_for_schema(name)), name
    assert Subject._meta.get_field("phone_index") and set(personal.names_for("entities")) == {"phone"}
    assert personal.names_for("behaviours", {"behaviour": "licenses"}) == {"party_code": "party_code"}


# --- at rest --------------------------------------------------------------------------------------------------------


def test_a_quarantined_phone_is_stored_as_a_token(quarantined) -> None:
    text = _raw("datacenter_quarantinedrow", "record", quarantined.pk)
    assert PHONE not in text
    stored = json.loads(text)
    assert field_cipher().is_token(stored["phone"]) and stored["name"] == "南京六十二号有限公司"
    assert personal.row_values(quarantined)["phone"] == PHONE
    # the fingerprint is the plaintext row's (keyed)
    plain = personal.open_values(stored, personal.QUARANTINE_RECORD_AAD)
    assert quarantined.fingerprint == fingerprint(conf.fingerprint_key(), quarantined.batch.source_id, plain)


def test_a_rejected_id_number_is_stored_as_a_token_in_the_row_and_its_problem(
        data_admin, tmp_path, django_capture_on_commit_callbacks) -> None:
    from jianguan.datacenter.tests.test_record_libraries import PENALTY_HEADER, _penalty

    source = make_source(data_admin, code="nj-penalties", library="behaviours", options={"behaviour": "penalties"})
    person = make_id_number("32010619850101001")
    wrong = person[:-1] + ("0" if person[-1] != "0" else "1")  # the check character mistyped
    batch = ingest(source, data_admin, write_csv(tmp_path / "p.csv", PENALTY_HEADER, [
        _penalty("CF2026011", wrong, party="张三", nature="自然人", cred="身份证"),
        _penalty("CF2026012", uscc("320106", 12), hearing="也许"),
    ]), django_capture_on_commit_callbacks)
    rows = {q.row_no: q for q in QuarantinedRow.objects.filter(batch=batch)}
    person_row = rows[2]
    for column in ("record", "errors"):
        assert wrong not in _raw("datacenter_quarantinedrow", column, person_row.pk)
    assert personal.row_values(person_row)["party_code"] == wrong
    assert [e["value"] for e in personal.open_errors(person_row.errors)] == [wrong]
    # shown masked in the API; a valid credit code stays readable
    client = APIClient()
    body = call(client, data_admin, "GET", f"/api/v1/datacenter/quarantine/{person_row.pk}/").json()
    assert body["record"]["party_code"] == wrong[:4] + "*" * 10 + wrong[-4:]
    assert body["errors"][0]["value"] == body["record"]["party_code"] and body["masked_fields"] == ["party_code"]
    assert wrong not in json.dumps(body)
    other = call(client, data_admin, "GET", f"/api/v1/datacenter/quarantine/{rows[3].pk}/").json()
    assert other["record"]["party_code"] == uscc("320106", 12)


# --- on display -----------------------------------------------------------------------------------------------------


def test_the_pages_and_the_api_show_the_phone_masked(client, data_admin, leader, quarantined) -> None:
    for user in (data_admin, leader):
        login_verified(client, user)
        for url in (f"/datacenter/quarantine/{quarantined.pk}/", "/datacenter/quarantine/"):
            page = client.get(url).content.decode()
            assert PHONE not in page, (user, url)
        detail = client.get(f"/datacenter/quarantine/{quarantined.pk}/").content.decode()
        assert MASKED in detail
        client.logout()
    api = APIClient()
    body = call(api, leader, "GET", f"/api/v1/datacenter/quarantine/{quarantined.pk}/").json()
    assert body["record"]["phone"] == MASKED and body["masked_fields"] == ["phone"]
    listed = call(api, leader, "GET", "/api/v1/datacenter/quarantine/").json()
    assert PHONE not in json.dumps(listed)


def test_a_data_manager_sees_the_phone_after_stating_why(client, data_admin, quarantined) -> None:
    login_verified(client, data_admin)
    page = client.get(f"/datacenter/quarantine/{quarantined.pk}/")
    assert page["Cache-Control"] == "no-store, private"
    assert f'value="{MASKED}"' in page.content.decode()  # the form shows the masked form
    refused = client.post(f"/datacenter/quarantine/{quarantined.pk}/unmask/", {"reason": ""})
    assert refused.status_code == 400 and PHONE not in refused.content.decode()
    assert not AuditEntry.objects.filter(event=services.UNMASK_READ_EVENT).exists()

    shown = client.post(f"/datacenter/quarantine/{quarantined.pk}/unmask/", {"reason": "核对电话以更正信用代码"})
    assert shown.status_code == 200 and shown["Cache-Control"] == "no-store, private"
    assert f'value="{PHONE}"' in shown.content.decode()
    event = AuditEntry.objects.get(event=services.UNMASK_READ_EVENT)
    assert event.action == "read" and event.details["fields"] == ["phone"]
    assert event.reason == "核对电话以更正信用代码" and event.actor == data_admin
    assert event.object_id == str(quarantined.pk)
    assert PHONE not in json.dumps(event.details)


def test_others_cannot_unmask(client, leader, suzhou_officer, quarantined) -> None:
    with pytest.raises(PermissionDenied):
        services.unmask_quarantined_row(quarantined, actor=leader, reason="只是看看而已")
    login_verified(client, leader)
    assert client.post(f"/datacenter/quarantine/{quarantined.pk}/unmask/",
                       {"reason": "只是看看而已"}).status_code == 403
    api = APIClient()
    url = f"/api/v1/datacenter/quarantine/{quarantined.pk}/unmask/"
    assert call(api, leader, "POST", url, {"reason": "只是看看而已"}).status_code == 403
    assert call(api, suzhou_officer, "POST", url, {"reason": "只是看看而已"}).status_code == 404
    assert not AuditEntry.objects.filter(event=services.UNMASK_READ_EVENT).exists()


def test_the_api_unmasks_for_a_data_manager_with_a_reason(data_admin, quarantined) -> None:
    api = APIClient()
    url = f"/api/v1/datacenter/quarantine/{quarantined.pk}/unmask/"
    assert call(api, data_admin, "POST", url, {"reason": ""}).status_code == 400
    response = call(api, data_admin, "POST", url, {"reason": "核对电话以更正信用代码"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store, private"
    assert response.json() == {"values": {"phone": PHONE}}
    assert AuditEntry.objects.filter(event=services.UNMASK_READ_EVENT, action="read").count() == 1


# --- correcting ---------------------------------------------------------------------------------------------------


def test_a_correction_keeps_a_phone_left_masked_and_the_rerun_uses_the_real_one(
        client, data_admin, quarantined, django_capture_on_commit_callbacks) -> None:
    login_verified(client, data_admin)
    values = {**personal.masked_values(personal.row_values(quarantined), {"phone": "phone"}), "uscc": GOOD_CODE}
    assert values["phone"] == MASKED
    response = client.post(f"/datacenter/quarantine/{quarantined.pk}/", values)
    assert response.status_code == 302
    quarantined.refresh_from_db()
    raw = _raw("datacenter_quarantinedrow", "corrected", quarantined.pk)
    assert PHONE not in raw and MASKED not in raw
    assert personal.row_values(quarantined)["phone"] == PHONE and quarantined.status == "corrected"
    with django_capture_on_commit_callbacks(execute=True):
        rerun = services.rerun_corrections(quarantined.batch, actor=data_admin)
    rerun.refresh_from_db()
    assert rerun.status == "loaded" and rerun.created_count == 1, rerun.message
    assert Subject.objects.get(uscc=GOOD_CODE).phone_index == phone_key(PHONE, conf.phone_pepper())


def test_a_masked_value_that_is_not_the_stored_ones_is_refused(data_admin, quarantined) -> None:
    with pytest.raises(DomainError) as caught:
        services.correct_row(quarantined, actor=data_admin, values={"uscc": GOOD_CODE, "phone": "138****9999"})
    assert caught.value.code == "quarantine.masked_value" and "phone" in caught.value.fields
    quarantined.refresh_from_db()
    assert quarantined.corrected is None


def test_a_revealed_phone_can_be_changed_or_removed(data_admin, quarantined) -> None:
    services.correct_row(quarantined, actor=data_admin, values={"uscc": GOOD_CODE, "phone": "13700000062"})
    quarantined.refresh_from_db()
    assert personal.row_values(quarantined)["phone"] == "13700000062"
    # the form now shows the corrected phone masked; submitted so, it stays
    services.correct_row(quarantined, actor=data_admin, values={"phone": "137****0062"})
    quarantined.refresh_from_db()
    assert personal.row_values(quarantined)["phone"] == "13700000062"
    services.correct_row(quarantined, actor=data_admin, values={"phone": ""})
    quarantined.refresh_from_db()
    assert "phone" not in personal.row_values(quarantined)


# --- links ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def linked(data_admin, source, tmp_path, django_capture_on_commit_callbacks):
    ingest(source, data_admin, write_csv(tmp_path / "registry.csv", HEADER, [
        [uscc("320106", 11), "南京鑫盛科技有限公司", "张三", "江苏省南京市鼓楼区中山路1号", "320106", "13800000001"],
    ]), django_capture_on_commit_callbacks)
    tax = make_source(data_admin, code="tax", name="税务登记", priority=40)
    path = write_csv(tmp_path / "tax.csv", HEADER, [
        ["", "鑫盛科技有限责任公司", "张三", "南京市鼓楼区中山路1号", "", "13600000006"],
    ])
    batch = ingest(tax, data_admin, path, django_capture_on_commit_callbacks)
    return EntityLink.objects.get(batch=batch), path


def test_a_links_phone_is_stored_as_a_token_and_a_split_gives_the_new_record_its_key(data_admin, linked) -> None:
    link, _path = linked
    text = _raw("datacenter_entitylink", "record", link.pk)
    assert "13600000006" not in text and field_cipher().is_token(json.loads(text)["phone"])
    body = call(APIClient(), data_admin, "GET", f"/api/v1/datacenter/links/{link.pk}/").json()
    assert body["record"]["phone"] == "136****0006" and body["record"]["name"] == "鑫盛科技有限责任公司"
    link = services.split_link(link, actor=data_admin, reason="同名不同户")
    assert link.split_subject.phone_index == phone_key("13600000006", conf.phone_pepper())


def test_the_same_delivery_again_changes_nothing(data_admin, source, quarantined, linked, tmp_path,
                                                 django_capture_on_commit_callbacks) -> None:
    link, tax_path = linked
    before = (list(QuarantinedRow.objects.values_list("id", "record")), list(EntityLink.objects.values_list("id")))
    again = ingest(link.batch.source, data_admin, tax_path, django_capture_on_commit_callbacks, force=True)
    assert again.status == "loaded" and again.linked_count == 0
    again = ingest(quarantined.batch.source, data_admin, tmp_path / "a.csv", django_capture_on_commit_callbacks,
                   force=True)
    assert again.status == "loaded"
    after = (list(QuarantinedRow.objects.values_list("id", "record")), list(EntityLink.objects.values_list("id")))
    assert after == before


def test_rows_stored_before_the_change_are_recognised_when_delivered_again(
        data_admin, quarantined, linked, tmp_path, django_capture_on_commit_callbacks) -> None:
    """Rows stored in clear (the old format, made by hand here) have the same fingerprints."""
    link, tax_path = linked
    plain_row = personal.row_values(quarantined)
    QuarantinedRow.objects.filter(pk=quarantined.pk).update(record=plain_row)
    plain_link = personal.link_values(link)
    EntityLink.objects.filter(pk=link.pk).update(record=plain_link)
    assert PHONE in _raw("datacenter_quarantinedrow", "record", quarantined.pk)
    assert quarantined.fingerprint == fingerprint(conf.fingerprint_key(), quarantined.batch.source_id, plain_row)
    assert link.fingerprint == fingerprint(conf.fingerprint_key(), link.batch.source_id, plain_link)

    again = ingest(quarantined.batch.source, data_admin, tmp_path / "a.csv", django_capture_on_commit_callbacks,
                   force=True)
    assert again.status == "loaded" and not QuarantinedRow.objects.filter(batch=again).exists()
    again = ingest(link.batch.source, data_admin, tax_path, django_capture_on_commit_callbacks, force=True)
    assert again.linked_count == 0 and not EntityLink.objects.filter(batch=again).exists()
    # an old-format row still reads, shows masked and splits
    assert call(APIClient(), data_admin, "GET",
                f"/api/v1/datacenter/quarantine/{quarantined.pk}/").json()["record"]["phone"] == MASKED
    split = services.split_link(EntityLink.objects.get(pk=link.pk), actor=data_admin)
    assert split.split_subject.phone_index == phone_key("13600000006", conf.phone_pepper())


# --- the data migration ---------------------------------------------------------------------------------------------


def test_the_data_migration_encrypts_old_rows_once(data_admin, quarantined, linked, tmp_path,
                                                   django_capture_on_commit_callbacks) -> None:
    from jianguan.datacenter.tests.test_record_libraries import PENALTY_HEADER, _penalty

    link, _path = linked
    # the old format: everything in clear
    QuarantinedRow.objects.filter(pk=quarantined.pk).update(
        record=personal.row_values(quarantined),
        corrected={**personal.row_values(quarantined), "uscc": GOOD_CODE, "phone": "13700000062"})
    EntityLink.objects.filter(pk=link.pk).update(record=personal.link_values(link))
    source = make_source(data_admin, code="nj-penalties", library="behaviours", options={"behaviour": "penalties"})
    person = make_id_number("32010619850101002")
    wrong = person[:-1] + ("0" if person[-1] != "0" else "1")
    batch = ingest(source, data_admin, write_csv(tmp_path / "p.csv", PENALTY_HEADER, [
        _penalty("CF2026021", wrong, party="张三", nature="自然人", cred="身份证"),
    ]), django_capture_on_commit_callbacks)
    penalty_row = QuarantinedRow.objects.get(batch=batch)
    QuarantinedRow.objects.filter(pk=penalty_row.pk).update(
        record=personal.open_values(penalty_row.record, personal.QUARANTINE_RECORD_AAD),
        errors=personal.open_errors(penalty_row.errors))
    assert wrong in _raw("datacenter_quarantinedrow", "errors", penalty_row.pk)

    assert migration.encrypt_personal_copies(apps) == (2, 1)
    for pk, secrets in ((quarantined.pk, (PHONE, "13700000062")), (penalty_row.pk, (wrong,))):
        for column in ("record", "corrected", "errors"):
            raw = _raw("datacenter_quarantinedrow", column, pk) or ""
            assert not any(secret in raw for secret in secrets), (pk, column)
    assert "13600000006" not in _raw("datacenter_entitylink", "record", link.pk)
    quarantined.refresh_from_db()
    link.refresh_from_db()
    penalty_row.refresh_from_db()
    assert personal.row_values(quarantined)["phone"] == "13700000062"
    assert personal.open_values(quarantined.record, personal.QUARANTINE_RECORD_AAD)["phone"] == PHONE
    assert personal.link_values(link)["phone"] == "13600000006"
    assert personal.open_errors(penalty_row.errors)[0]["value"] == wrong
    assert quarantined.record["name"] == "南京六十二号有限公司"  # other values stay in clear

    stored = list(QuarantinedRow.objects.order_by("id").values_list("record", "corrected", "errors"))
    assert migration.encrypt_personal_copies(apps) == (0, 0)  # again: nothing to do
    assert list(QuarantinedRow.objects.order_by("id").values_list("record", "corrected", "errors")) == stored

    assert migration.decrypt_personal_copies(apps) == (2, 1)  # and back
    assert PHONE in _raw("datacenter_quarantinedrow", "record", quarantined.pk)


# --- key rotation ---------------------------------------------------------------------------------------------------


def _tokens() -> list[str]:
    out = []
    for record, corrected, errors in QuarantinedRow.objects.values_list("record", "corrected", "errors"):
        for values in (record, corrected or {}, *({"value": e.get("value")} for e in errors)):
            out += [v for v in values.values() if field_cipher().is_token(v)]
    for (record,) in EntityLink.objects.values_list("record"):
        out += [v for v in record.values() if field_cipher().is_token(v)]
    return out


def test_reencrypt_records_moves_every_token_to_the_active_key(data_admin, quarantined, linked, rotate) -> None:
    services.correct_row(quarantined, actor=data_admin, values={"uscc": GOOD_CODE})
    tokens = _tokens()
    assert len(tokens) == 3 and {_key_id(t) for t in tokens} == {"k0"}
    rotate()
    assert personal.reencrypt_records(dry_run=True) == {"quarantined_rows": 1, "links": 1, "own_rows": 0, "tokens": 3,
                                                         "sealed": 0}
    assert _tokens() == tokens
    assert not AuditEntry.objects.filter(event=personal.REENCRYPTED_EVENT).exists()

    assert personal.reencrypt_records(False) == {"quarantined_rows": 1, "links": 1, "own_rows": 0, "tokens": 3,
                                                         "sealed": 0}
    assert {_key_id(t) for t in _tokens()} == {"k1"}
    event = AuditEntry.objects.get(event=personal.REENCRYPTED_EVENT)
    assert event.details["tokens"] == 3 and event.details["key_id"] == "k1"
    assert personal.reencrypt_records(False) == {"quarantined_rows": 0, "links": 0, "own_rows": 0, "tokens": 0,
                                                 "sealed": 0}

    rotate(keep_old=False)  # the old key can go now: everything still opens
    quarantined.refresh_from_db()
    assert personal.row_values(quarantined)["phone"] == PHONE
    link, _path = linked
    link.refresh_from_db()
    assert personal.link_values(link)["phone"] == "13600000006"
    split = services.split_link(link, actor=data_admin)
    assert split.split_subject.phone_index == phone_key("13600000006", conf.phone_pepper())


def test_reencrypt_records_refuses_a_token_under_a_key_the_ring_lacks(quarantined, rotate) -> None:
    before = _raw("datacenter_quarantinedrow", "record", quarantined.pk)
    rotate(keep_old=False)
    with pytest.raises(CryptoError, match="'k0'"):
        personal.reencrypt_records(False)
    assert _raw("datacenter_quarantinedrow", "record", quarantined.pk) == before


def test_keys_rotate_re_encrypts_the_copies_too(data_admin, quarantined, linked, rotate) -> None:
    rotate()
    out = StringIO()
    call_command("keys", "rotate", stdout=out)
    assert "datacenter.personal_copies" in out.getvalue()
    assert {_key_id(t) for t in _tokens()} == {"k1"}
