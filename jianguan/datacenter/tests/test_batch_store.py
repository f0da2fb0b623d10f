"""The batch store keeps no personal data in clear: delivered files and raw copies are sealed (Tink streaming AEAD
under the field key ring), decrypted only while a batch runs (``work/``, removed after) or in memory; a damaged
file fails the batch with nothing loaded; ``keys rotate`` re-encrypts them; ``seal-store`` converts an old store."""

from __future__ import annotations

import os
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from jianguan.core.keyring import rotate
from jianguan.core.keyring import status as keyring_status
from jianguan.core.models import AuditEntry, Subject
from jianguan.core.testing import keys
from jianguan.datacenter import conf, inbox, selectors, services, store
from jianguan.datacenter.models import Batch
from jianguan.datacenter.pipeline.extract import file_sha256
from jianguan.datacenter.tests.conftest import ingest, make_source, raw_copy_codecs, uscc, write_csv
from jianguan.lib.crypto import CryptoError
from jianguan.lib.filecrypt import sealed_key_id
from jianguan.lib.validators import make_id_number

HEADER = ["uscc", "name", "legal_representative", "address", "region", "phone"]
PHONE = "13812345678"
OWNER = "欧阳震华"
NAME = "南京震华机电有限公司"
ID_NUMBER = make_id_number("32010619850101001")
field_keys = keys.field_keys  # the fixture
SECRETS = [PHONE.encode(), OWNER.encode(), NAME.encode(), ID_NUMBER.encode(), OWNER.encode("gb18030")]


def _rows(n: int = 1) -> list[list[str]]:
    return [[uscc("320106", 500 + i), NAME if i == 0 else f"南京{i}号有限公司", OWNER, "南京市鼓楼区中山路8号",
             "320106", PHONE if i == 0 else f"139000005{i:02d}"] for i in range(n)]


def _assert_no_plaintext(root: Path | None = None) -> None:
    files = [p for p in (root or conf.store_dir()).rglob("*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        for secret in SECRETS:
            assert secret not in data, (path, secret)


@pytest.fixture
def delivery(tmp_path) -> Path:
    return write_csv(tmp_path / "entities.csv", HEADER, _rows(3))


def test_nothing_personal_is_kept_in_clear_after_batches_ran(data_admin, source, delivery, tmp_path,
                                                              django_capture_on_commit_callbacks) -> None:
    batch = ingest(source, data_admin, delivery, django_capture_on_commit_callbacks)
    assert batch.status == "loaded", batch.message
    gbk = write_csv(tmp_path / "gbk.csv", HEADER, _rows(2), encoding="gb18030")  # transcoded in work/
    assert ingest(source, data_admin, gbk, django_capture_on_commit_callbacks).status == "loaded"
    pushed, _replay = services.push_records(source, actor=data_admin, idempotency_key="p-1", records=[
        dict(zip(HEADER, _rows(1)[0], strict=True))])
    assert pushed.status == "loaded"
    penalties = make_source(data_admin, code="nj-penalties", library="behaviours",
                            options={"behaviour": "penalties"}, file_format="jsonl")
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text(f'{{"行政相对人名称": "{OWNER}", "行政相对人编码": "{ID_NUMBER}"}}\n', encoding="utf-8")
    ingest(penalties, data_admin, jsonl, django_capture_on_commit_callbacks)
    _drop = write_csv(inbox.inbox_of(source) / "drop.csv", HEADER, _rows(2))
    past = time.time() - 60
    os.utime(_drop, (past, past))
    with django_capture_on_commit_callbacks(execute=True):
        [(_c, _n, dropped)] = inbox.scan_inboxes(actor=services.SystemActor()).taken
    assert Batch.objects.get(pk=dropped).status == "loaded"

    _assert_no_plaintext()  # every file of every batch, and the inbox with its .done/ receipts
    folder = conf.batch_dir(batch.pk)
    assert sorted(p.name for p in folder.iterdir()) == ["input.csv.sealed", "raw.parquet.sealed"]
    assert Batch.objects.get(pk=pushed.pk).stored_path.endswith("input.parquet.sealed")
    assert not any(p.name == "work" for p in conf.store_dir().rglob("*"))
    # the content hash is still the plaintext's, and the lineage explanation reads the sealed raw copy
    assert batch.content_hash == file_sha256(delivery)
    subject = Subject.objects.get(uscc=uscc("320106", 500))
    explained = {f["field"]: f for f in selectors.explain_subject(data_admin, subject.pk)["fields"]}
    assert explained["name"]["source"]["delivered"] == NAME
    assert explained["phone_index"]["source"]["delivered"] == "138****5678"


def test_the_same_file_delivered_again_is_skipped(data_admin, source, delivery,
                                                  django_capture_on_commit_callbacks) -> None:
    first = ingest(source, data_admin, delivery, django_capture_on_commit_callbacks)
    again = ingest(source, data_admin, delivery, django_capture_on_commit_callbacks)
    assert first.status == "loaded" and again.status == "skipped" and again.duplicate_of_id == first.pk
    assert again.content_hash == first.content_hash


@pytest.mark.parametrize("damage", ["flip", "truncate", "swap"])
def test_a_damaged_stored_file_fails_the_batch_with_nothing_loaded(data_admin, source, delivery, tmp_path, damage,
                                                                  django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=False):  # registered, its job not run yet
        batch = services.submit_file(source, actor=data_admin, path=delivery, file_name="entities.csv")
    stored = Path(batch.stored_path)
    data = bytearray(stored.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0x01
    elif damage == "truncate":
        del data[-8:]
    else:  # another batch's file put in its place
        with django_capture_on_commit_callbacks(execute=False):
            other = services.submit_file(source, actor=data_admin, path=delivery, file_name="entities.csv",
                                         force=True)
        data = bytearray(Path(other.stored_path).read_bytes())
    stored.write_bytes(bytes(data))
    with pytest.raises(store.StoreError):
        services.process_batch(batch.pk)
    batch.refresh_from_db()
    assert batch.status == "failed" and "无法解密校验" in batch.message
    assert not Subject.objects.exists()
    assert not store.work_dir(batch.pk).exists()
    assert not (conf.batch_dir(batch.pk) / "raw.parquet.sealed").exists()


def test_the_raw_copy_is_compressed_with_zstd(data_admin, source, delivery,
                                              django_capture_on_commit_callbacks) -> None:
    """zstd: as fast for the engine to write as its default (Snappy), and about a third smaller to seal and keep."""
    batch = ingest(source, data_admin, delivery, django_capture_on_commit_callbacks)
    assert raw_copy_codecs(batch.pk) == {"ZSTD"}


def test_a_damaged_raw_copy_is_refused_by_its_readers(data_admin, source, delivery,
                                                     django_capture_on_commit_callbacks) -> None:
    batch = ingest(source, data_admin, delivery, django_capture_on_commit_callbacks)
    raw = selectors.raw_copy_path(batch.pk)
    raw.write_bytes(raw.read_bytes()[:-30])
    with pytest.raises(store.StoreError):
        store.read_raw_table(batch.pk)
    assert selectors.raw_row(batch.pk, 2) is None  # the explanation logs it and shows no delivered value


def test_work_files_are_removed_after_success_failure_and_a_crash(data_admin, source, tmp_path, monkeypatch,
                                                                  django_capture_on_commit_callbacks) -> None:
    gbk = write_csv(tmp_path / "gbk.csv", HEADER, _rows(2), encoding="gb18030")
    with django_capture_on_commit_callbacks(execute=False):
        batch = services.submit_file(source, actor=data_admin, path=gbk, file_name="gbk.csv")
    leftover = store.work_dir(batch.pk)  # a crashed run left its decrypted input behind
    leftover.mkdir()
    (leftover / "input.csv").write_bytes(OWNER.encode())
    seen: dict[str, object] = {}
    from jianguan.datacenter.pipeline import runner

    real = runner.run_entities

    def spy(engine, prepared, spec, *args, **kw):
        work = Path(prepared.path).parent
        seen["files"] = sorted(p.name for p in work.iterdir())
        seen["mode"] = (work / "input.csv").stat().st_mode & 0o777
        seen["dir_mode"] = work.stat().st_mode & 0o777
        return real(engine, prepared, spec, *args, **kw)

    monkeypatch.setattr(runner, "run_entities", spy)
    services.process_batch(batch.pk)
    assert Batch.objects.get(pk=batch.pk).status == "loaded"
    assert seen == {"files": ["input.csv", "transcoded.csv"], "mode": 0o600, "dir_mode": 0o700}
    assert not leftover.exists()

    def boom(*args, **kw):
        raise RuntimeError("engine crashed")

    with django_capture_on_commit_callbacks(execute=False):
        failing = services.submit_file(source, actor=data_admin, path=gbk, file_name="gbk.csv", force=True)
    monkeypatch.setattr(runner, "run_entities", boom)
    with pytest.raises(RuntimeError):
        services.process_batch(failing.pk)
    assert Batch.objects.get(pk=failing.pk).status == "failed"
    assert sorted(p.name for p in conf.batch_dir(failing.pk).iterdir()) == ["input.csv.sealed"]


def test_keys_rotate_reencrypts_the_store_so_the_old_key_can_leave(data_admin, source, delivery, field_keys,
                                                                   django_capture_on_commit_callbacks) -> None:
    batch = ingest(source, data_admin, delivery, django_capture_on_commit_callbacks)
    folder = conf.batch_dir(batch.pk)
    assert {sealed_key_id(p) for p in folder.iterdir()} == {"k0"}
    field_keys("k1", "k0")
    out = StringIO()
    call_command("keys", "rotate", "--dry-run", stdout=out)
    assert {sealed_key_id(p) for p in folder.iterdir()} == {"k0"}  # a dry run changes nothing
    assert keyring_status().hooks["datacenter.batch_store"]["reencrypted"] == 2
    result = rotate()
    assert result.hooks["datacenter.batch_store"] == {"reencrypted": 2, "sealed": 0, "work_removed": 0,
                                                      "receipts": 0}
    assert {sealed_key_id(p) for p in folder.iterdir()} == {"k1"}
    event = AuditEntry.objects.get(event=store.RESEALED_EVENT)
    assert event.details["reencrypted"] == 2 and event.details["active_key"] == "k1"
    assert rotate().hooks["datacenter.batch_store"]["reencrypted"] == 0  # again: nothing to do
    assert not any(keyring_status().hooks["datacenter.batch_store"].values())
    field_keys("k1")  # the old key leaves the ring
    subject = Subject.objects.get(uscc=uscc("320106", 500))
    explained = {f["field"]: f for f in selectors.explain_subject(data_admin, subject.pk)["fields"]}
    assert explained["name"]["source"]["delivered"] == NAME


def test_rotation_refuses_files_under_a_key_the_ring_lacks(data_admin, source, delivery, field_keys,
                                                           django_capture_on_commit_callbacks) -> None:
    batch = ingest(source, data_admin, delivery, django_capture_on_commit_callbacks)
    field_keys("k1")  # k0 dropped too early
    with pytest.raises(CryptoError, match="k0"):
        store.reseal_store()
    assert {sealed_key_id(p) for p in conf.batch_dir(batch.pk).iterdir()} == {"k0"}


def _unseal_to_clear(batch: Batch) -> None:
    """Turn a batch's files into what a store written before the encryption holds."""
    folder = conf.batch_dir(batch.pk)
    from jianguan.core.crypto import file_cipher

    for name, role in (("input.csv", "input"), ("raw.parquet", "raw")):
        sealed = folder / (name + ".sealed")
        (folder / name).write_bytes(file_cipher().decrypt_bytes(sealed, associated_data=store.associated_data(
            batch.pk, role)))
        sealed.unlink()
    Batch.objects.filter(pk=batch.pk).update(stored_path=str(folder / "input.csv"))


def test_an_old_clear_store_stays_readable_until_seal_store_converts_it(
        data_admin, source, delivery, django_capture_on_commit_callbacks) -> None:
    batch = ingest(source, data_admin, delivery, django_capture_on_commit_callbacks)
    _unseal_to_clear(batch)
    with django_capture_on_commit_callbacks(execute=False):
        pending = services.submit_file(source, actor=data_admin, path=delivery, file_name="entities.csv", force=True)
    folder = conf.batch_dir(pending.pk)
    (folder / "input.csv").write_bytes(delivery.read_bytes())
    (folder / "input.csv.sealed").unlink()
    Batch.objects.filter(pk=pending.pk).update(stored_path=str(folder / "input.csv"))
    (folder / "work").mkdir()  # left by a crash
    done = inbox.inbox_of(source) / ".done" / "2026-12-01"
    done.mkdir(parents=True)
    (done / f"{batch.pk}-entities.csv").write_bytes(delivery.read_bytes())
    (done / "9999-other.csv").write_bytes(b"not ours")

    subject = Subject.objects.get(uscc=uscc("320106", 500))
    explained = {f["field"]: f for f in selectors.explain_subject(data_admin, subject.pk)["fields"]}
    assert explained["name"]["source"]["delivered"] == NAME  # read in clear while not converted

    out = StringIO()
    call_command("datacenter", "seal-store", "--dry-run", stdout=out)
    assert "would seal 3 files" in out.getvalue() and (conf.batch_dir(batch.pk) / "input.csv").exists()
    call_command("datacenter", "seal-store", stdout=out)
    assert "1 clear .done copies replaced" in out.getvalue()
    assert sorted(p.name for p in conf.batch_dir(batch.pk).iterdir()) == ["input.csv.sealed", "raw.parquet.sealed"]
    assert sorted(p.name for p in folder.iterdir()) == ["input.csv.sealed"]
    assert sorted(p.name for p in done.iterdir()) == [f"{batch.pk}-entities.csv.receipt.txt", "9999-other.csv"]
    (done / "9999-other.csv").unlink()
    _assert_no_plaintext()
    explained = {f["field"]: f for f in selectors.explain_subject(data_admin, subject.pk)["fields"]}
    assert explained["name"]["source"]["delivered"] == NAME
    # the clear batch waiting to run reads its sealed copy (stored_path still names the clear file)
    services.process_batch(pending.pk)
    assert Batch.objects.get(pk=pending.pk).status == "loaded"
    call_command("datacenter", "seal-store", stdout=out)
    assert out.getvalue().endswith("sealed 0 files stored in clear; 0 sealed files re-encrypted under the active "
                                   "key; 0 leftover work directories removed; 0 clear .done copies replaced by "
                                   "receipts\n")


def test_seal_store_leaves_the_clear_files_of_a_running_batch_alone(
        data_admin, source, delivery, django_capture_on_commit_callbacks) -> None:
    batch = ingest(source, data_admin, delivery, django_capture_on_commit_callbacks)
    _unseal_to_clear(batch)
    Batch.objects.filter(pk=batch.pk).update(status="running")  # a run may be reading them right now
    assert store.reseal_store()["sealed"] == 0
    assert sorted(p.name for p in conf.batch_dir(batch.pk).iterdir()) == ["input.csv", "raw.parquet"]
    Batch.objects.filter(pk=batch.pk).update(status="loaded")
    assert store.reseal_store()["sealed"] == 2
    assert sorted(p.name for p in conf.batch_dir(batch.pk).iterdir()) == ["input.csv.sealed", "raw.parquet.sealed"]
