"""``jianguan keys status`` and ``jianguan keys rotate``: after a new field key is made active, every token is
re-encrypted under it and every declared blind index recomputed with it — in bulk, per model all or nothing,
audited without values, refusing tokens under a key the ring lacks — so the old key can be removed."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from jianguan.core import keyring, services
from jianguan.core.errors import DomainError
from jianguan.core.fields import BlindIndex, blind_index, declared_blind_indexes
from jianguan.core.models import AuditEntry, EnforcementOfficer, User
from jianguan.core.testing import keys
from jianguan.core.testing.personas import make_officer, make_org
from jianguan.lib.validators import make_id_number

pytestmark = pytest.mark.django_db
field_keys = keys.field_keys  # the fixture


def raw(model: type, field: str) -> dict[int, str]:
    """The stored tokens of a column, by primary key (as in the database, not decrypted)."""
    table, column = model._meta.db_table, model._meta.get_field(field).column
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {model._meta.pk.column}, {column} FROM {table}")  # noqa: S608 - names from the model
        return {pk: value for pk, value in cursor.fetchall() if value}


def key_ids_of(tokens: dict[int, str]) -> set[str]:
    return {token.split("$")[2] for token in tokens.values()}


def snapshot() -> dict[str, dict[int, str]]:
    return {"id_number": raw(EnforcementOfficer, "id_number"), "phone": raw(EnforcementOfficer, "phone"),
            "id_number_index": raw(EnforcementOfficer, "id_number_index"), "user_phone": raw(User, "phone")}


def rotate(*args: str, capsys) -> str:
    call_command("keys", "rotate", *args)
    return capsys.readouterr().out


@pytest.fixture
def officers(gulou_inspector, field_keys):
    """Three officers registered through the service under the embedded key k0 (and the inspector's phone)."""
    field_keys("k0")
    org = make_org("320106")
    made = [services.create_officer(actor=gulou_inspector, name=f"执法员{n}", organization=org,
                                    id_number=make_id_number(f"32010619850{n}0112{n}"),
                                    certificate_no=f"JS3201060000{n}", phone=f"1390000000{n}", fields=["market"])
            for n in (1, 2, 3)]
    User.objects.filter(pk=gulou_inspector.pk).update(phone="13800001234")
    return made


def test_it_finds_every_model_with_encrypted_fields_and_their_declared_indexes() -> None:
    found = {m.label: m for m in keyring.encrypted_models()}
    assert {"core.User", "core.EnforcementOfficer", "complaints.Reporter"} <= set(found)
    assert [f.name for f in found["core.EnforcementOfficer"].fields] == ["id_number", "phone"]
    assert declared_blind_indexes(EnforcementOfficer) == (
        BlindIndex("id_number_index", of="id_number", index_empty=True),)
    assert [i.column for i in found["complaints.Reporter"].indexes] == ["phone_index"]
    assert found["core.EnforcementOfficer"].unique(found["core.EnforcementOfficer"].indexes[0])
    assert not found["complaints.Reporter"].unique(found["complaints.Reporter"].indexes[0])


def test_the_declaration_reproduces_the_index_the_service_stores(officers) -> None:
    state = keyring.status()
    [index] = [i for i in state.indexes if i.model == "core.EnforcementOfficer"]
    assert index.rows == 3 and index.stale == 0
    for officer in EnforcementOfficer.objects.all():
        assert declared_blind_indexes(EnforcementOfficer)[0].compute(officer.id_number) == officer.id_number_index


def test_it_re_encrypts_every_token_under_the_active_key_with_the_same_plaintext(officers, field_keys,
                                                                                 capsys) -> None:
    before = {o.pk: (o.id_number, o.phone) for o in EnforcementOfficer.objects.all()}
    assert key_ids_of(raw(EnforcementOfficer, "id_number")) == {"k0"}
    field_keys("k1", "k0")

    out = rotate(capsys=capsys)
    assert "core.EnforcementOfficer.id_number: re-encrypted 3 tokens (from k0 3)" in out
    assert "core.EnforcementOfficer.phone: re-encrypted 3 tokens (from k0 3)" in out
    assert "core.EnforcementOfficer.id_number_index: recomputed 3 blind indexes" in out
    assert "core.User.phone: re-encrypted 1 tokens (from k0 1)" in out
    assert "total: re-encrypted 7 tokens, recomputed 3 blind indexes in 4 rows of 2 models" in out
    for column in ("id_number", "phone"):
        assert key_ids_of(raw(EnforcementOfficer, column)) == {"k1"}
    assert key_ids_of(raw(User, "phone")) == {"k1"}

    field_keys("k1")  # the old key retired: everything still reads, the same as before
    assert {o.pk: (o.id_number, o.phone) for o in EnforcementOfficer.objects.all()} == before
    assert User.objects.exclude(phone="").get().phone == "13800001234"
    assert keyring.status().old_tokens == 0


def test_an_officer_is_found_and_deduplicated_by_id_number_after_the_rotation(officers, gulou_inspector,
                                                                               field_keys, capsys) -> None:
    first = officers[0]
    field_keys("k1", "k0")
    assert not EnforcementOfficer.objects.filter(id_number_index=blind_index(first.id_number)).exists()

    rotate(capsys=capsys)
    assert EnforcementOfficer.objects.get(id_number_index=blind_index(first.id_number)) == first
    with pytest.raises(DomainError) as refused:
        services.create_officer(actor=gulou_inspector, name="重复", organization=first.organization,
                                id_number=first.id_number, certificate_no="JS320106999999")
    assert refused.value.code == "officer.exists"
    assert EnforcementOfficer.objects.count() == 3


def test_a_dry_run_counts_and_changes_nothing(officers, field_keys, capsys) -> None:
    field_keys("k1", "k0")
    before = snapshot()
    out = rotate("--dry-run", capsys=capsys)
    assert "dry run: nothing written" in out
    assert "core.EnforcementOfficer.id_number: would re-encrypt 3 tokens (from k0 3)" in out
    assert "total: would re-encrypt 7 tokens, would recompute 3 blind indexes in 4 rows of 2 models" in out
    assert snapshot() == before
    assert not AuditEntry.objects.filter(event=keyring.ROTATED_EVENT).exists()


def test_a_second_run_changes_nothing_and_says_so(officers, field_keys, capsys) -> None:
    field_keys("k1", "k0")
    rotate(capsys=capsys)
    after, events = snapshot(), AuditEntry.objects.filter(event=keyring.ROTATED_EVENT).count()
    out = rotate("--batch-size", "2", capsys=capsys)
    assert "total: re-encrypted 0 tokens, recomputed 0 blind indexes in 0 rows of 0 models" in out
    assert "nothing to do" in out
    assert snapshot() == after
    assert AuditEntry.objects.filter(event=keyring.ROTATED_EVENT).count() == events


def test_small_batches_rotate_every_row(officers, field_keys, capsys) -> None:
    for _n in range(4):
        make_officer(make_org("320115"))
    field_keys("k1", "k0")
    out = rotate("--batch-size", "2", capsys=capsys)
    assert "core.EnforcementOfficer.id_number_index: recomputed 7 blind indexes" in out
    assert key_ids_of(raw(EnforcementOfficer, "id_number")) == {"k1"}
    assert keyring.status().stale_indexes == 0


def test_a_token_under_a_key_missing_from_the_ring_refuses_everything(officers, field_keys, capsys) -> None:
    field_keys("kx", "k0")
    stray = make_officer(make_org("320115"))  # written under kx, which the ring will lack
    field_keys("k1", "k0")
    before = snapshot()
    with pytest.raises(CommandError) as refused:
        rotate(capsys=capsys)
    message = str(refused.value)
    assert "core.EnforcementOfficer.id_number: 1 under key id 'kx'" in message
    assert "nothing was changed" in message
    assert stray.id_number not in message
    assert snapshot() == before
    assert key_ids_of(raw(User, "phone")) == {"k0"}  # other models were not touched either
    assert not AuditEntry.objects.filter(event=keyring.ROTATED_EVENT).exists()


def test_the_status_counts_tokens_per_key_and_stale_indexes(officers, gulou_inspector, field_keys, capsys) -> None:
    field_keys("k1", "k0")
    services.create_officer(actor=gulou_inspector, name="新人", organization=make_org("320106"),
                            id_number=make_id_number("32010619900101123"), certificate_no="JS320106000009")
    state = keyring.status()
    by_field = {(f.model, f.name): f for f in state.fields}
    assert by_field["core.EnforcementOfficer", "id_number"].by_key == {"k0": 3, "k1": 1}
    assert by_field["core.EnforcementOfficer", "phone"].by_key == {"k0": 3}
    assert by_field["core.EnforcementOfficer", "phone"].empty == 1
    [index] = [i for i in state.indexes if i.model == "core.EnforcementOfficer"]
    assert (index.rows, index.stale, dict(index.by_key), index.unmatched) == (4, 3, {"k0": 3}, 0)
    assert state.old_tokens == 7 and state.stale_indexes == 3

    call_command("keys", "status")
    out = capsys.readouterr().out
    assert "active key k1; key ring: k0, k1" in out
    assert "core.EnforcementOfficer.id_number: 4 tokens — k1 (active): 1, k0: 3" in out
    assert "core.EnforcementOfficer.id_number_index (blind index of id_number): 3 of 4 not under the active key " \
           "— k0: 3" in out
    assert "total: 7 tokens and 3 blind indexes not under the active key k1" in out

    rotate(capsys=capsys)
    call_command("keys", "status")
    assert "total: 0 tokens and 0 blind indexes not under the active key k1" in capsys.readouterr().out


def test_the_status_tells_an_index_no_key_reproduces(officers) -> None:
    EnforcementOfficer.objects.filter(pk=officers[0].pk).update(id_number_index="0" * 64)
    [index] = [i for i in keyring.status().indexes if i.model == "core.EnforcementOfficer"]
    assert (index.stale, index.unmatched) == (1, 1)


def test_it_writes_one_audit_event_per_model_with_counts_and_no_values(officers, field_keys, capsys) -> None:
    field_keys("k1", "k0")
    plain = [(o.id_number, o.phone) for o in EnforcementOfficer.objects.all()]
    tokens = [*raw(EnforcementOfficer, "id_number").values(), *raw(EnforcementOfficer, "phone").values()]
    rotate(capsys=capsys)
    events = AuditEntry.objects.filter(event=keyring.ROTATED_EVENT)
    assert sorted(e.object_type for e in events) == ["core.enforcementofficer", "core.user"]
    event = events.get(object_type="core.enforcementofficer")
    assert event.actor_name == "system:keys"
    assert event.details == {"active_key": "k1", "rows": 3, "fields": {"id_number": {"k0": 3}, "phone": {"k0": 3}},
                             "indexes": {"id_number_index": 3}}
    text = json.dumps([e.details for e in events], ensure_ascii=False)
    new_tokens = [*raw(EnforcementOfficer, "id_number").values(), *raw(EnforcementOfficer, "id_number_index").values()]
    for value in [v for pair in plain for v in pair] + tokens + new_tokens:
        assert value not in text


def test_a_duplicate_id_number_stops_the_officers_before_the_unique_index_is_written(officers, field_keys,
                                                                                     capsys) -> None:
    field_keys("k1", "k0")
    # registered after the key change without the rotation: the old officer's index did not match, so it got in
    make_officer(make_org("320115"), id_number=officers[0].id_number)
    before = snapshot()
    with pytest.raises(CommandError) as refused:
        rotate(capsys=capsys)
    assert "unique 'id_number_index'" in str(refused.value) and "core.EnforcementOfficer is unchanged" in \
        str(refused.value)
    after = snapshot()
    assert {k: after[k] for k in ("id_number", "phone", "id_number_index")} == \
        {k: before[k] for k in ("id_number", "phone", "id_number_index")}


def test_the_hook_is_called_after_the_fields_with_dry_run_passed_through(officers, field_keys, monkeypatch,
                                                                         capsys) -> None:
    monkeypatch.setattr(keyring, "_hooks", {})
    calls: list[tuple[bool, set[str]]] = []

    def reencrypt_json(dry_run: bool) -> dict[str, int]:
        calls.append((dry_run, key_ids_of(raw(EnforcementOfficer, "id_number"))))
        return {"records": 2, "tokens": 5}

    keyring.register_rotation("test.json_tokens", reencrypt_json)
    keyring.register_rotation("test.json_tokens", reencrypt_json)  # again: no-op
    with pytest.raises(ValueError, match="registered"):
        keyring.register_rotation("test.json_tokens", lambda dry_run: {})
    field_keys("k1", "k0")

    out = rotate("--dry-run", capsys=capsys)
    assert calls == [(True, {"k0"})]
    assert "test.json_tokens: records 2, tokens 5" in out
    out = rotate(capsys=capsys)
    assert calls[1] == (False, {"k1"})  # after the fields were rotated
    assert "test.json_tokens: records 2, tokens 5" in out

    call_command("keys", "status")
    assert calls[2][0] is True
    assert "test.json_tokens (would change): records 2, tokens 5" in capsys.readouterr().out


def test_a_batch_size_below_one_is_refused() -> None:
    with pytest.raises(CommandError, match="at least 1"):
        call_command("keys", "rotate", "--batch-size", "0")


def test_a_hook_that_meets_a_value_it_cannot_decrypt_stops_the_command_with_one_line(officers, field_keys,
                                                                                     monkeypatch) -> None:
    from django.core.management.base import CommandError

    from jianguan.lib.crypto import CryptoError

    def broken(dry_run: bool) -> dict[str, int]:
        raise CryptoError("token of row 7 does not decrypt")

    monkeypatch.setattr(keyring, "_hooks", {})
    keyring.register_rotation("test.broken", broken)
    field_keys("k1", "k0")
    for args in (("status",), ("rotate", "--dry-run"), ("rotate",)):
        with pytest.raises(CommandError, match="stopped: token of row 7 does not decrypt"):
            call_command("keys", *args)
