"""The audit log: append-only, hash-chained, verifiable, pruned by retention."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from jianguan.core import audit
from jianguan.core.models import AuditAnchor, AuditEntry
from jianguan.core.testing.personas import make_org


def _raw(sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _sealed(entries) -> list[AuditEntry]:
    """The entries as the chain holds them once sealed (inside a test transaction nothing seals on commit)."""
    entries = list(entries)
    audit.seal_pending()
    return [AuditEntry.objects.get(pk=e.pk) for e in entries]


@pytest.mark.django_db
def test_it_records_a_diff_for_every_create_update_and_delete() -> None:
    with audit.audit_context(actor_name="system:test"):
        org = make_org("320106", "002")
        org.name = "改名后的部门"
        org.save()
        pk = org.pk
        org.delete()
    entries = list(AuditEntry.objects.filter(object_type="core.organization", object_id=str(pk)).order_by("id"))
    assert [e.action for e in entries] == ["create", "update", "delete"]
    assert entries[1].before == {"name": "南京市鼓楼区生态环境局"}
    assert entries[1].after == {"name": "改名后的部门"}
    assert all(e.actor_name == "system:test" for e in entries)


@pytest.mark.django_db
def test_it_never_writes_personal_data_in_clear_into_the_diff(nanjing_officer) -> None:
    from jianguan.core.testing.personas import make_officer

    officer = make_officer(nanjing_officer.organization, phone="13912345678")
    entry = AuditEntry.objects.filter(object_type="core.enforcementofficer", object_id=str(officer.pk)).get()
    text = str(entry.after)
    assert "13912345678" not in text
    assert officer.id_number not in text


@pytest.mark.django_db
def test_it_refuses_to_update_or_delete_entries() -> None:
    entry = audit.record_event("test.event")
    entry.reason = "tampered"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="x")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()


@pytest.mark.django_db
def test_it_verifies_an_intact_chain() -> None:
    for i in range(5):
        audit.record_event("test.event", details={"i": i})
    result = audit.verify_chain()
    assert result.ok
    assert result.checked == AuditEntry.objects.count()


@pytest.mark.django_db
def test_it_names_the_first_entry_altered_directly_in_the_database() -> None:
    entries = _sealed(audit.record_event("test.event", details={"i": i}) for i in range(6))
    _raw("UPDATE core_auditentry SET details = %s WHERE seq = %s", ['{"i": 99}', entries[3].seq])
    result = audit.verify_chain()
    assert not result.ok
    assert result.seq == entries[3].seq
    assert "altered" in result.problem


@pytest.mark.django_db
def test_it_names_a_missing_entry() -> None:
    entries = _sealed(audit.record_event("test.event", details={"i": i}) for i in range(4))
    _raw("DELETE FROM core_auditentry WHERE seq = %s", [entries[2].seq])
    result = audit.verify_chain()
    assert not result.ok
    assert result.seq == entries[2].seq
    assert "missing" in result.problem


@pytest.mark.django_db
def test_it_detects_a_recomputed_hash_that_breaks_the_link() -> None:
    entries = _sealed(audit.record_event("test.event", details={"i": i}) for i in range(3))
    _raw("UPDATE core_auditentry SET hash = %s WHERE seq = %s", ["f" * 64, entries[1].seq])
    result = audit.verify_chain()
    assert not result.ok
    assert result.seq == entries[1].seq


@pytest.mark.django_db
def test_the_verify_command_exits_non_zero_on_tampering(capsys) -> None:
    entries = _sealed(audit.record_event("test.event", details={"i": i}) for i in range(3))
    call_command("audit", "verify")
    assert "audit chain OK" in capsys.readouterr().out
    _raw("UPDATE core_auditentry SET actor_name = %s WHERE seq = %s", ["mallory", entries[0].seq])
    with pytest.raises(CommandError) as excinfo:
        call_command("audit", "verify")
    assert excinfo.value.returncode == 1
    assert f"entry #{entries[0].seq} was altered" in str(excinfo.value)


@pytest.mark.django_db
def test_it_records_the_hash_algorithm_per_entry() -> None:
    import hashlib

    entry = audit.record_event("test.event")
    expected = "hmac-sm3" if "sm3" in hashlib.algorithms_available else "hmac-sha256"
    assert entry.algorithm == expected


@pytest.mark.django_db
def test_prune_keeps_the_chain_verifiable(settings) -> None:
    settings.AUDIT_RETENTION_DAYS = 180
    old = _sealed(audit.record_event("test.old", details={"i": i}) for i in range(3))
    long_ago = timezone.now() - dt.timedelta(days=200)
    for entry in old:
        _raw("UPDATE core_auditentry SET timestamp = %s WHERE seq = %s", [long_ago, entry.seq])
    # Re-hash the back-dated entries as if they had been written then (the test holds the key; an attacker doesn't).
    prev = audit.GENESIS_HASH
    for entry in AuditEntry.objects.order_by("seq"):
        entry.prev_hash = prev
        new_hash = audit.mac(entry.algorithm, audit.canonical_payload(entry))
        new_mac = audit.mac(entry.algorithm, audit.content_payload(entry))
        _raw("UPDATE core_auditentry SET prev_hash = %s, hash = %s, entry_mac = %s WHERE seq = %s",
             [prev, new_hash, new_mac, entry.seq])
        prev = new_hash
    [keep] = _sealed([audit.record_event("test.new")])
    assert audit.verify_chain().ok
    pruned = audit.prune_expired()
    assert pruned == AuditAnchor.objects.get().pruned_count
    assert not AuditEntry.objects.filter(seq__lte=old[-1].seq).exists()
    assert AuditEntry.objects.filter(seq=keep.seq).exists()
    assert AuditEntry.objects.filter(event="core.audit.pruned").exists()
    assert audit.verify_chain().ok


def test_retention_below_180_days_is_refused(tmp_path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "jianguan.cli", "check"],
        env={"PATH": "/usr/bin:/bin", "JIANGUAN_AUDIT_RETENTION_DAYS": "30", "JIANGUAN_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "JIANGUAN_AUDIT_RETENTION_DAYS=30: must be at least 180" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
def test_a_chain_re_forged_without_the_key_is_detected() -> None:
    import hashlib

    entries = _sealed(audit.record_event("test.event", details={"i": i}) for i in range(3))
    _raw("UPDATE core_auditentry SET reason = %s WHERE seq = %s", ["forged", entries[1].seq])
    entry = AuditEntry.objects.get(seq=entries[1].seq)
    forged = hashlib.sha256(audit.canonical_payload(entry)).hexdigest()  # what an attacker without the key can do
    _raw("UPDATE core_auditentry SET hash = %s WHERE seq = %s", [forged, entries[1].seq])
    result = audit.verify_chain()
    assert not result.ok and result.seq == entries[1].seq


@pytest.mark.django_db
def test_removing_the_newest_entries_is_detected_by_the_checkpoint() -> None:
    entries = _sealed(audit.record_event("test.event", details={"i": i}) for i in range(5))
    assert audit.write_checkpoint() == entries[-1].seq
    _raw("DELETE FROM core_auditentry WHERE seq >= %s", [entries[3].seq])
    result = audit.verify_chain()
    assert not result.ok
    assert result.seq == entries[3].seq
    assert "checkpoint" in result.problem


@pytest.mark.django_db
def test_a_forged_prune_anchor_is_detected() -> None:
    entries = _sealed(audit.record_event("test.event", details={"i": i}) for i in range(4))
    AuditAnchor.objects.create(pruned_through_seq=entries[1].seq, last_hash=entries[1].hash, pruned_count=2,
                               mac="0" * 64)
    _raw("DELETE FROM core_auditentry WHERE seq <= %s", [entries[1].seq])
    result = audit.verify_chain()
    assert not result.ok and "anchor" in result.problem


@pytest.mark.django_db
def test_floats_hash_the_same_after_the_database_round_trip() -> None:
    audit.record_event("test.event", details={"capital": 1e16, "zero": -0.0, "ratio": 0.1, "n": 10**15})
    assert audit.verify_chain().ok


@pytest.mark.django_db
def test_it_writes_entries_unchained_and_seals_them_into_one_chain() -> None:
    first = audit.record_event("test.event", details={"i": 1})
    second = audit.record_event("test.event", details={"i": 2})
    assert first.seq is None and first.entry_mac and not first.hash  # no chain lock held by the writer
    assert audit.seal_pending() == 2
    first, second = _sealed([first, second])
    assert second.seq == first.seq + 1
    assert second.prev_hash == first.hash
    assert audit.seal_pending() == 0
    assert audit.verify_chain().ok


@pytest.mark.django_db
def test_a_large_backlog_is_sealed_in_order_across_statements() -> None:
    """Seals are written a few hundred entries per statement: a backlog spanning several statements and two
    transactions (``batch``) still forms one gapless chain in id order."""
    entries = audit.append_many([("event", {"event": "test.event", "details": {"i": i}}) for i in range(1203)])
    assert audit.seal_pending(batch=1000) == 1203
    sealed = list(AuditEntry.objects.filter(pk__in=[e.pk for e in entries]).order_by("id"))
    assert [e.seq for e in sealed] == list(range(sealed[0].seq, sealed[0].seq + 1203))
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(sealed, sealed[1:], strict=False))
    assert audit.verify_chain(seal=False).ok


@pytest.mark.django_db
def test_an_entry_altered_before_it_is_sealed_is_detected() -> None:
    entry = audit.record_event("test.event", details={"i": 1})
    _raw("UPDATE core_auditentry SET reason = %s WHERE id = %s", ["forged", entry.pk])
    result = audit.verify_chain(seal=False)
    assert not result.ok and f"unsealed entry id {entry.pk} was altered" in result.problem
    result = audit.verify_chain()  # sealing does not launder it
    assert not result.ok and "altered" in result.problem


@pytest.mark.django_db(transaction=True)
def test_it_seals_right_after_the_commit_in_embedded_mode() -> None:
    from django.db import transaction

    with transaction.atomic():
        entry = audit.record_event("test.event")
        assert AuditEntry.objects.get(pk=entry.pk).seq is None
    assert AuditEntry.objects.get(pk=entry.pk).seq is not None
    assert audit.verify_chain(seal=False).ok


@pytest.mark.django_db
def test_a_copy_of_an_entry_cannot_be_slipped_into_the_chain() -> None:
    from django.db import IntegrityError, transaction

    [original] = _sealed([audit.record_event("core.user.locked", details={"user": "zhang"})])
    content = ("timestamp, actor_id, actor_name, actor_region, ip, action, event, object_type, object_id, "
               "object_repr, before, after, details, reason, success, request_id, algorithm")

    def insert_copy(mac_sql: str) -> None:  # what someone with write access to the table, not the key, could do
        _raw(f"INSERT INTO core_auditentry ({content}, entry_mac, nonce, prev_hash, hash) "  # noqa: S608 - test SQL
             f"SELECT {content}, {mac_sql}, nonce, '', '' FROM core_auditentry WHERE id = %s", [original.pk])

    with pytest.raises(IntegrityError), transaction.atomic():
        insert_copy("entry_mac")  # the same MAC twice is refused
    insert_copy("CASE WHEN substr(entry_mac, 1, 1) = '0' THEN '1' ELSE '0' END || substr(entry_mac, 2)")  # new MAC
    result = audit.verify_chain()  # it is sealed into the chain, but its MAC gives it away
    assert not result.ok and "altered" in result.problem


@pytest.mark.django_db
def test_one_seal_is_scheduled_per_transaction(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for i in range(50):
            audit.record_event("test.event", details={"i": i})
    assert [c for c in callbacks if c is audit.schedule_seal] == [audit.schedule_seal]


@pytest.mark.django_db
def test_the_insert_mac_covers_the_chain_bytes_without_the_chain_place() -> None:
    """Entries stored before the content payload was computed directly (it used to be the chain payload parsed
    and dumped again) keep verifying: the bytes are the same, whatever the details hold."""
    import json

    audit.record_event("test.payload", details={"float": 1e16, "zero": -0.0, "text": "举报人 \u2028 \"q\"",
                                                "nested": {"b": [1, 2.5, None], "a": True}, 3: "int key",
                                                "when": dt.date(2026, 12, 4)})
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry is not None
    body = json.loads(audit.canonical_payload(entry))
    del body["seq"], body["prev_hash"]
    legacy = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    assert audit.content_payload(entry) == legacy
    assert audit.mac(entry.algorithm, legacy) == entry.entry_mac
