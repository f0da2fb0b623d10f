"""The batch store: each batch's delivered file and raw copy, encrypted at rest (``jianguan.lib.filecrypt``).

Each batch has a directory ``conf.batch_dir(id)`` holding

- ``input.<ext>.sealed`` — the delivered file (CSV, XLSX, JSON Lines or Parquet; for pushes, pulls and correction
  re-runs the records as Parquet), sealed as it is written (:func:`store_input`, :func:`store_input_bytes`); the
  batch's ``content_hash`` is the SHA-256 of the plaintext, computed in the same pass, so the same content delivered
  again is still recognised;
- ``raw.parquet.sealed`` — the delivered rows under canonical field names (the lineage explanation and
  ``rekey-phones`` read it): the engine writes it in clear into the batch's ``work/`` directory and
  :func:`seal_raw_copy` seals it and removes the clear copy (a Spark directory of parts is joined into one file
  first);
- ``work/`` only while the batch runs (:func:`opened_input`): the delivered file decrypted to a private file (mode
  0600, in a directory of mode 0700) and the extract's files; removed when the run ends, success or failure, and a
  leftover of a crash is removed when the batch is run again or by :func:`reseal_store`.

Sealed files are bound to their batch and role (associated data ``datacenter.batch:<id:08d>:input`` / ``:raw``): a
file copied into another batch's directory, or a raw copy put in place of an input, fails to open. The keys come
from the platform's field key ring (``core.crypto.file_cipher()``); a file names its key id in its header.

Stores written before the encryption hold ``input.<ext>`` and ``raw.parquet`` in clear; they stay readable (a batch
whose ``stored_path`` has no ``.sealed`` suffix is read in clear unless its sealed copy exists) until
:func:`reseal_store` converts them — run by ``jianguan datacenter seal-store`` and, registered as the key-rotation
hook ``datacenter.batch_store``, by ``jianguan keys rotate``. It also re-encrypts sealed files under an older key
with the active key, and replaces the drop folders' clear ``.done/`` copies by receipts (:mod:`inbox`).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jianguan.core import audit
from jianguan.core.crypto import file_cipher
from jianguan.core.errors import DomainError
from jianguan.datacenter import conf
from jianguan.lib.crypto import CryptoError
from jianguan.lib.filecrypt import sealed_key_id

logger = logging.getLogger(__name__)

SEALED = ".sealed"
RAW_COPY = "raw.parquet"
WORK = "work"
INPUT = "input"
RESEALED_EVENT = "datacenter.batch_store.resealed"


class StoreError(DomainError):
    """A stored batch file cannot be opened: damaged, cut short, tampered with, or under a key the ring lacks."""


def associated_data(batch_id: int, role: str) -> bytes:
    """What a sealed file of the batch is bound to: its batch and its role (``input`` or ``raw``)."""
    return f"datacenter.batch:{batch_id:08d}:{role}".encode()


def _damaged(exc: CryptoError, what: str) -> StoreError:
    return StoreError("batch.store_damaged",
                      f"批次存储中的{what}无法解密校验（文件损坏、不完整、被篡改或密钥不在密钥环中），未装载任何数据。"
                      f"（{exc}）")


# --- writing ----------------------------------------------------------------------------------------------------------


def input_target(batch_id: int, file_name: str) -> Path:
    return conf.batch_dir(batch_id) / (INPUT + Path(file_name).suffix.lower() + SEALED)


def store_input(batch_id: int, source: Path, file_name: str) -> tuple[Path, str]:
    """Seal a delivered file into the batch's directory; returns the stored path and the plaintext's SHA-256."""
    target = input_target(batch_id, file_name)
    digest = file_cipher().encrypt_file(source, target, associated_data=associated_data(batch_id, INPUT))
    return target, digest


def store_input_bytes(batch_id: int, data: bytes, suffix: str = ".parquet") -> Path:
    """Seal records already in memory (Parquet bytes of a pull, push or correction re-run) as the batch's input."""
    target = input_target(batch_id, INPUT + suffix)
    file_cipher().encrypt_bytes(data, target, associated_data=associated_data(batch_id, INPUT))
    return target


# --- running a batch --------------------------------------------------------------------------------------------------


def input_location(stored_path: str) -> tuple[Path, bool]:
    """Where a batch's delivered file is and whether it is sealed (a clear file of an older store is read as it is
    until :func:`reseal_store` has sealed it beside)."""
    path = Path(stored_path)
    if path.name.endswith(SEALED):
        return path, True
    sealed = path.with_name(path.name + SEALED)
    if sealed.exists() or not path.exists():
        return sealed, True
    return path, False


def work_dir(batch_id: int) -> Path:
    return conf.batch_dir(batch_id) / WORK


def remove_work(batch_id: int) -> bool:
    """Remove the batch's ``work/`` directory (decrypted input, extract files, clear raw copy); True if it existed."""
    work = work_dir(batch_id)
    if not work.exists():
        return False
    shutil.rmtree(work, ignore_errors=True)
    return True


@contextlib.contextmanager
def opened_input(batch_id: int, stored_path: str) -> Iterator[tuple[Path, Path]]:
    """The batch's delivered file in clear, and its private work directory, for the length of a run: the sealed
    file is decrypted into ``work/`` (mode 0600), and ``work/`` is removed when the block ends, however it ends.
    A ``work/`` left by a crashed run is removed first. Raises :class:`StoreError` for a file that does not open."""
    work = work_dir(batch_id)
    if remove_work(batch_id):
        logger.warning("batch %s: removed the work files a previous run left behind", batch_id)
    work.mkdir(mode=0o700)
    try:
        path, sealed = input_location(stored_path)
        if not sealed:
            yield path, work
            return
        plain = work / path.name[:-len(SEALED)]
        try:
            file_cipher().decrypt_to_file(path, plain, associated_data=associated_data(batch_id, INPUT))
        except FileNotFoundError:
            raise StoreError("batch.store_missing", "批次存储中找不到交付的文件。") from None
        except CryptoError as exc:
            raise _damaged(exc, "交付文件") from None
        yield plain, work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def raw_copy_target(work: Path) -> Path:
    """Where the engine writes the batch's raw copy in clear (inside ``work/``, sealed by :func:`seal_raw_copy`)."""
    return work / RAW_COPY


def seal_raw_copy(batch_id: int, written: Path) -> Path:
    """Seal the raw copy the engine wrote (a file, or on Spark a directory of parts) into the store and remove the
    clear one; returns the sealed path."""
    source = written
    if written.is_dir():  # Spark: one or more part files
        import pyarrow.parquet as pq

        source = written.with_name(written.name + ".joined")
        pq.write_table(pq.read_table(str(written)), source, compression="zstd")
    target = conf.batch_dir(batch_id) / (RAW_COPY + SEALED)
    try:
        file_cipher().encrypt_file(source, target, associated_data=associated_data(batch_id, "raw"))
    finally:
        _remove(written)
        _remove(source)
    _remove(conf.batch_dir(batch_id) / RAW_COPY)  # a clear copy of an older run
    return target


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


# --- reading the raw copy ---------------------------------------------------------------------------------------------


def raw_copy_path(batch_id: int) -> Path:
    """The batch's raw copy: sealed, or in clear in a store not converted yet (the sealed path when neither is)."""
    folder = conf.batch_dir(batch_id)
    sealed, clear = folder / (RAW_COPY + SEALED), folder / RAW_COPY
    return clear if clear.exists() and not sealed.exists() else sealed


def read_raw_table(batch_id: int, *, columns: list[str] | None = None,
                   filters: list[tuple[str, str, Any]] | None = None) -> Any:
    """The batch's raw copy as an Arrow table (decrypted in memory; nothing in clear on disk), with the given
    columns and row filters; None when the batch has none. Raises :class:`StoreError` for a file that does not
    open, and pyarrow's errors for a column it lacks."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = raw_copy_path(batch_id)
    if not path.exists():
        return None
    if not path.name.endswith(SEALED):
        return pq.read_table(str(path), columns=columns, filters=filters)
    try:
        data = file_cipher().decrypt_bytes(path, associated_data=associated_data(batch_id, "raw"))
    except CryptoError as exc:
        raise _damaged(exc, "原始行副本") from None
    return pq.read_table(pa.BufferReader(data), columns=columns, filters=filters)


# --- converting and re-encrypting the store ---------------------------------------------------------------------------


def _batch_dirs() -> Iterator[tuple[int, Path]]:
    root = conf.store_dir() / "batches"
    if not root.is_dir():
        return
    for folder in sorted(root.iterdir()):
        if folder.is_dir() and folder.name.isdigit():
            yield int(folder.name), folder


def _role(name: str) -> str | None:
    base = name[:-len(SEALED)] if name.endswith(SEALED) else name
    if base == RAW_COPY:
        return "raw"
    if base.startswith(INPUT + ".") or base == INPUT:
        return INPUT
    return None


def reseal_store(dry_run: bool = False) -> dict[str, int]:
    """Bring the whole batch store under the active file key: re-encrypt each sealed file under another key of the
    ring (streamed), seal each file still in clear (stored before the encryption) and remove the clear one, remove
    ``work/`` directories of batches not running, and replace the inbox's clear ``.done/`` copies by receipts
    (only where the batch holds the same content). A sealed file under a key the ring lacks stops the run before
    anything changes. One audit event ``datacenter.batch_store.resealed`` with the counts; again → zeros.

    Returns ``{"reencrypted", "sealed", "work_removed", "receipts"}`` (all zero when nothing is left to do, as
    ``jianguan keys status`` expects). Has the ``core.keyring.RotationHook`` shape (``jianguan keys rotate``)."""
    from jianguan.datacenter import inbox
    from jianguan.datacenter.choices import BatchStatus
    from jianguan.datacenter.models import Batch

    cipher = file_cipher()
    running = set(Batch.objects.filter(status=BatchStatus.RUNNING).values_list("id", flat=True))
    counts = {"reencrypted": 0, "sealed": 0, "work_removed": 0, "receipts": 0}
    stale: list[tuple[int, Path, str]] = []
    clear: list[tuple[int, Path, str]] = []
    work: list[int] = []
    unknown: dict[str, int] = {}
    for batch_id, folder in _batch_dirs():
        for path in sorted(folder.iterdir()):
            role = _role(path.name)
            if role is None:
                if path.name == WORK and batch_id not in running:
                    work.append(batch_id)
                continue
            if path.name.endswith(SEALED):
                try:
                    key_id = sealed_key_id(path)
                except CryptoError:
                    key_id = None
                if key_id is None:
                    raise CryptoError(f"{path} is not a sealed file (damaged header); nothing was changed")
                if key_id not in cipher.key_ids:
                    unknown[key_id] = unknown.get(key_id, 0) + 1
                elif key_id != cipher.active_key_id:
                    stale.append((batch_id, path, role))
            elif batch_id not in running:  # in clear (stored before the encryption; a running batch may read it)
                clear.append((batch_id, path, role))
    if unknown:
        raise CryptoError("stored batch files under key ids the key ring lacks (add them to JIANGUAN_FIELD_KEYS): "
                          + ", ".join(f"{k} ({n})" for k, n in sorted(unknown.items())) + "; nothing was changed")
    receipts = inbox.clear_done_copies(dry_run=True)
    counts.update(reencrypted=len(stale), sealed=len(clear), work_removed=len(work), receipts=receipts)
    if dry_run:
        return counts
    for batch_id, path, role in stale:
        cipher.reencrypt(path, associated_data=associated_data(batch_id, role))
    for batch_id, path, role in clear:
        sealed = path.with_name(path.name + SEALED)
        if not sealed.exists():
            if path.is_dir():  # a Spark raw copy of an older store
                import pyarrow.parquet as pq

                joined = path.with_name(path.name + ".joined")
                pq.write_table(pq.read_table(str(path)), joined)
                cipher.encrypt_file(joined, sealed, associated_data=associated_data(batch_id, role))
                joined.unlink()
            else:
                cipher.encrypt_file(path, sealed, associated_data=associated_data(batch_id, role))
        _remove(path)
    for batch_id in work:
        remove_work(batch_id)
    counts["receipts"] = inbox.clear_done_copies(dry_run=False)
    if any(counts.values()):
        audit.record_event(RESEALED_EVENT, details={"active_key": cipher.active_key_id, **counts})
    return counts
