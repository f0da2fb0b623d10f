"""Batch exchange by drop folder (批量交换): a source's exchange system drops files into the source's inbox.

Every file-channel source has a folder ``<inbox root>/<source code>/`` (``JIANGUAN_DATACENTER_INBOX``, default
``<data-centre store>/inbox``). The scan, run from the beat schedule every minute and by
``jianguan datacenter scan-inbox``, takes each file that has settled (unchanged for ``SETTLE_SECONDS``; names
starting with a dot or ending in ``.part``/``.tmp`` are still being written and are left alone; symbolic links
are refused), claims it by renaming it into ``.processing/`` (so two scans never take the same file), delivers it
like an upload (``services.submit_file``: kept unchanged in the batch store; content already loaded, or being
loaded, by the source is not processed again) and moves it on:

- once it is registered as a batch (the batch then runs as a job) the file itself is removed — its content is kept,
  encrypted, in the batch store (:mod:`store`) — and a receipt ``.done/<YYYY-MM-DD>/<batch id>-<name>.receipt.txt``
  names the batch, the file, its size and SHA-256 (no content), so nothing of the delivery stays in clear here;
  clear copies kept by earlier versions (``.done/<day>/<batch id>-<name>``) are replaced by receipts by
  ``jianguan datacenter seal-store`` (:func:`clear_done_copies`);
- ``.rejected/<YYYY-MM-DD>/<name>`` with ``<name>.reason.txt`` (in Chinese) when it cannot be taken at all, e.g.
  an unsupported format, a disabled source, or an unreadable file.

A crash after the claim leaves the file in ``.processing/``; a later scan takes claims older than
``STALE_CLAIM_SECONDS`` again, and the content check makes a file that was already registered "skipped".
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils import timezone

from jianguan.core.errors import DomainError
from jianguan.datacenter import conf
from jianguan.datacenter.choices import Channel, FileFormat
from jianguan.datacenter.models import Source

logger = logging.getLogger(__name__)

SETTLE_SECONDS = 10
STALE_CLAIM_SECONDS = 600
IN_PROGRESS_SUFFIXES = (".part", ".tmp", ".partial", ".filepart")


def inbox_root() -> Path:
    configured = os.environ.get("JIANGUAN_DATACENTER_INBOX")
    return Path(configured) if configured else conf.store_dir() / "inbox"


def inbox_of(source: Source) -> Path:
    """The folder the source's files are dropped into (created when first asked for)."""
    path = inbox_root() / source.code
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class ScanResult:
    """What one scan did: batches registered (source code, file, batch id), files rejected, files still settling."""

    taken: list[tuple[str, str, int]] = field(default_factory=list)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)
    waiting: list[tuple[str, str]] = field(default_factory=list)


def waiting_files(source: Source, *, now: float | None = None) -> list[tuple[Path, bool]]:
    """The files in the source's inbox, oldest first, each with whether it has settled."""
    return _files(inbox_root() / source.code, SETTLE_SECONDS, now)


def _files(folder: Path, settle: float, now: float | None) -> list[tuple[Path, bool]]:
    if not folder.is_dir():
        return []
    now = now if now is not None else time.time()
    found = []
    for path in folder.iterdir():
        if path.name.startswith(".") or path.name.lower().endswith(IN_PROGRESS_SUFFIXES):
            continue
        try:
            stat = path.lstat()
        except OSError:  # gone meanwhile
            continue
        if not (path.is_file() or path.is_symlink()):
            continue
        found.append((stat.st_mtime, path, now - stat.st_mtime >= settle))
    return [(path, settled) for _mtime, path, settled in sorted(found)]


def _claim(path: Path, folder: Path) -> Path | None:
    """Move the file into ``.processing/``; None when another scan took it first."""
    processing = folder / ".processing"
    processing.mkdir(parents=True, exist_ok=True)
    target = processing / path.name
    try:
        path.rename(target)  # atomic on one file system: exactly one scan wins
    except FileNotFoundError:
        return None
    now = time.time()
    os.utime(target, (now, now), follow_symlinks=False)
    return target


def _format_of(path: Path, source: Source) -> str:
    """The file's format by its extension; a file without one is taken in the source's configured format."""
    suffix = path.suffix.lower().lstrip(".")
    if not suffix:
        return source.file_format or "csv"
    if suffix in FileFormat.values:
        return suffix
    raise DomainError("batch.format", "不支持的文件格式（CSV、XLSX、JSON Lines、Parquet）。")


def _move(path: Path, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    counter = 1
    while target.exists():
        target = folder / f"{Path(name).stem}-{counter}{Path(name).suffix}"
        counter += 1
    shutil.move(str(path), target)
    return target


def scan_inboxes(*, actor: Any, only: str | None = None, dry_run: bool = False,
                 now: float | None = None) -> ScanResult:
    """Deliver every settled file waiting in the inboxes of the enabled file-channel sources."""
    result = ScanResult()
    sources = Source.objects.filter(channel=Channel.FILE, enabled=True).order_by("code")
    if only:
        sources = sources.filter(code=only)
    for source in sources:
        folder = inbox_root() / source.code
        stale = [path for path, settled in _files(folder / ".processing", STALE_CLAIM_SECONDS, now) if settled]
        for path in stale:  # claimed by a scan that did not finish
            if not dry_run:
                _take(source, path, folder, actor, result)
        for path, settled in waiting_files(source, now=now):
            if not settled:
                result.waiting.append((source.code, path.name))
            elif dry_run:
                result.taken.append((source.code, path.name, 0))
            else:
                claimed = _claim(path, folder)
                if claimed is not None:
                    _take(source, claimed, folder, actor, result)
    return result


def _take(source: Source, path: Path, folder: Path, actor: Any, result: ScanResult) -> None:
    """Deliver one claimed file and move it to ``.done/`` or ``.rejected/``; never raises for one bad file."""
    from jianguan.datacenter import services

    day = timezone.localdate().isoformat()
    try:
        if path.is_symlink():
            raise DomainError("inbox.symlink", "投放目录中的符号链接不予接收，请投放文件本身。")
        batch = services.submit_file(source, actor=actor, path=path, file_name=path.name,
                                     file_format=_format_of(path, source))
    except (DomainError, OSError) as exc:
        reason = exc.message if isinstance(exc, DomainError) else f"文件无法读取：{exc.strerror or exc}"
        try:
            target = _move(path, folder / ".rejected" / day, path.name)
            target.with_name(target.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
        except OSError:
            logger.exception("could not move the rejected inbox file %s aside", path)
        result.rejected.append((source.code, path.name, reason))
        logger.warning("inbox file %s of source %s rejected: %s", path.name, source.code, reason)
        return
    try:
        size = path.stat().st_size
        _write_receipt(folder / ".done" / day, f"{batch.pk}-{path.name}", batch, size)
        path.unlink()
    except OSError:  # registered; a later scan finds the claim and its content is skipped
        logger.exception("could not replace the delivered inbox file %s by its receipt in .done", path)
    result.taken.append((source.code, path.name, batch.pk))


RECEIPT_SUFFIX = ".receipt.txt"


def _write_receipt(folder: Path, name: str, batch: Any, size: int) -> Path:
    """A small text file in place of a delivered file: which batch holds it, and how to recognise it."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (name + RECEIPT_SUFFIX)
    target.write_text(
        f"批次：#{batch.pk}\n数据源：{batch.source.code}\n文件：{batch.file_name}\n大小：{size} 字节\n"
        f"SHA-256：{batch.content_hash}\n登记时间：{timezone.localtime(batch.created_at).isoformat()}\n"
        f"文件内容已加密保存在数据中心批次存储中（批次#{batch.pk}），此处不保留明文副本。\n", encoding="utf-8")
    return target


def clear_done_copies(*, dry_run: bool = False) -> int:
    """Replace each clear copy an earlier version left in a ``.done/`` folder (``<batch id>-<name>``) by its receipt,
    once the batch store holds that content (same SHA-256, the batch's file stored); returns how many were (or, with
    ``dry_run``, would be) replaced. Copies whose batch is gone or holds other content are left as they are."""
    from jianguan.datacenter import store
    from jianguan.datacenter.models import Batch
    from jianguan.datacenter.pipeline.extract import file_sha256

    root = inbox_root()
    if not root.is_dir():
        return 0
    replaced = 0
    for path in sorted(root.glob("*/.done/*/*")):
        head, sep, _rest = path.name.partition("-")
        if not path.is_file() or path.name.endswith(RECEIPT_SUFFIX) or not sep or not head.isdigit():
            continue
        batch = Batch.objects.select_related("source").filter(pk=int(head)).first()
        if batch is None or not batch.content_hash or not store.input_location(batch.stored_path)[0].exists():
            continue
        if file_sha256(path) != batch.content_hash:
            continue
        replaced += 1
        if not dry_run:
            _write_receipt(path.parent, path.name, batch, path.stat().st_size)
            path.unlink()
    return replaced
