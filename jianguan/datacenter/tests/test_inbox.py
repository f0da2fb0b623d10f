"""Batch exchange by drop folder: files dropped into a source's inbox are taken, once, when they have settled."""

from __future__ import annotations

import os
import time

from django.core.management import call_command
from django.urls import reverse

from jianguan.core.models import Subject
from jianguan.datacenter import inbox, services
from jianguan.datacenter.models import Batch
from jianguan.datacenter.tests.conftest import make_source, uscc, write_csv

HEADER = ["统一社会信用代码", "企业名称", "法定代表人", "住所", "行政区划"]


def _drop(source, name, rows, *, age=60):
    path = write_csv(inbox.inbox_of(source) / name, HEADER, rows)
    past = time.time() - age
    os.utime(path, (past, past))
    return path


def _scan(capture, **kw):
    with capture(execute=True):
        return inbox.scan_inboxes(actor=services.SystemActor(), **kw)


def test_a_dropped_file_is_loaded_and_leaves_a_receipt_in_done(source, django_capture_on_commit_callbacks) -> None:
    _drop(source, "2026-12-01.csv", [[uscc("320106", 1), "南京鑫盛科技有限公司", "张三", "南京市鼓楼区中山路1号",
                                      "320106"]])
    result = _scan(django_capture_on_commit_callbacks)
    [(code, name, batch_id)] = result.taken
    assert (code, name) == (source.code, "2026-12-01.csv")
    batch = Batch.objects.get(pk=batch_id)
    assert batch.status == "loaded" and batch.file_name == "2026-12-01.csv"
    assert Subject.objects.filter(uscc=uscc("320106", 1)).exists()
    assert inbox.waiting_files(source) == []
    # the file itself is gone (its content is sealed in the batch store); a receipt names the batch
    done = list((inbox.inbox_of(source) / ".done").rglob("*"))
    [receipt] = [p for p in done if p.is_file()]
    assert receipt.name == f"{batch_id}-2026-12-01.csv.receipt.txt"
    text = receipt.read_text(encoding="utf-8")
    assert f"批次：#{batch_id}" in text and batch.content_hash in text
    assert "南京鑫盛科技有限公司" not in text


def test_files_still_being_written_are_left_alone(source, django_capture_on_commit_callbacks) -> None:
    row = [uscc("320106", 2), "南京华信贸易有限公司", "王五", "南京市鼓楼区汉中路2号", "320106"]
    _drop(source, "fresh.csv", [row], age=0)
    _drop(source, "upload.csv.part", [row])
    result = _scan(django_capture_on_commit_callbacks)
    assert result.taken == [] and result.waiting == [(source.code, "fresh.csv")]
    assert not Batch.objects.exists()
    os.utime(inbox.inbox_of(source) / "fresh.csv", (time.time() - 60, time.time() - 60))
    assert [name for _c, name, _b in _scan(django_capture_on_commit_callbacks).taken] == ["fresh.csv"]
    assert (inbox.inbox_of(source) / "upload.csv.part").exists()


def test_an_unreadable_format_is_moved_aside_with_the_reason(source, django_capture_on_commit_callbacks) -> None:
    path = inbox.inbox_of(source) / "名单.docx"
    path.write_bytes(b"PK\x03\x04 not a table")
    os.utime(path, (time.time() - 60, time.time() - 60))
    result = _scan(django_capture_on_commit_callbacks)
    assert [(name, reason) for _c, name, reason in result.rejected] == [
        ("名单.docx", "不支持的文件格式（CSV、XLSX、JSON Lines、Parquet）。")]
    [moved] = list((inbox.inbox_of(source) / ".rejected").rglob("名单.docx"))
    assert "不支持的文件格式" in moved.with_name("名单.docx.reason.txt").read_text(encoding="utf-8")
    assert not Batch.objects.exists()


def test_the_same_file_dropped_twice_is_not_loaded_twice(source, django_capture_on_commit_callbacks) -> None:
    rows = [[uscc("320106", 3), "南京恒达物流有限公司", "李四", "南京市鼓楼区1号", "320106"]]
    _drop(source, "a.csv", rows)
    with django_capture_on_commit_callbacks(execute=False):  # its job has not run yet (a worker is busy)
        [(_c, _n, first_id)] = inbox.scan_inboxes(actor=services.SystemActor()).taken
    assert Batch.objects.get(pk=first_id).status == "pending"
    _drop(source, "a.csv", rows)  # delivered again while the first is still waiting
    [(_c, _n, second_id)] = _scan(django_capture_on_commit_callbacks).taken
    second = Batch.objects.get(pk=second_id)
    assert second.status == "skipped" and second.duplicate_of_id == first_id


def test_a_claim_left_by_a_crashed_scan_is_taken_later(source, django_capture_on_commit_callbacks) -> None:
    path = _drop(source, "c.csv", [[uscc("320106", 6), "南京永安建材有限公司", "钱七", "南京市鼓楼区6号", "320106"]])
    claimed = inbox._claim(path, inbox.inbox_of(source))  # the scan died right after claiming
    assert claimed is not None and inbox._claim(path, inbox.inbox_of(source)) is None  # nobody takes it twice
    assert _scan(django_capture_on_commit_callbacks).taken == []  # too fresh: perhaps still being delivered
    result = _scan(django_capture_on_commit_callbacks, now=time.time() + inbox.STALE_CLAIM_SECONDS + 1)
    assert [name for _c, name, _b in result.taken] == ["c.csv"]
    assert Subject.objects.filter(uscc=uscc("320106", 6)).exists()


def test_a_symbolic_link_is_refused(source, tmp_path, django_capture_on_commit_callbacks) -> None:
    secret = write_csv(tmp_path / "elsewhere.csv", HEADER, [[uscc("320106", 7), "某公司", "", "", "320106"]])
    link = inbox.inbox_of(source) / "link.csv"
    link.symlink_to(secret)
    os.utime(link, (time.time() - 60, time.time() - 60), follow_symlinks=False)
    result = _scan(django_capture_on_commit_callbacks)
    assert [name for _c, name, _r in result.rejected] == ["link.csv"] and not Batch.objects.exists()
    assert secret.exists()


def test_disabled_sources_and_other_channels_are_not_scanned(data_admin, django_capture_on_commit_callbacks) -> None:
    off = make_source(data_admin, code="off-source", enabled=False)
    pulled = make_source(data_admin, code="pulled-source", channel="http_api")
    for source in (off, pulled):
        _drop(source, "x.csv", [[uscc("320106", 4), "某公司", "", "", "320106"]])
    assert _scan(django_capture_on_commit_callbacks).taken == []
    assert not Batch.objects.exists()


def test_the_command_and_the_page_take_dropped_files(source, client, data_admin, capsys,
                                                     django_capture_on_commit_callbacks) -> None:
    _drop(source, "b.csv", [[uscc("320106", 5), "南京利民超市有限公司", "赵六", "南京市鼓楼区5号", "320106"]])
    call_command("datacenter", "scan-inbox", "--dry-run")
    assert f"would take {source.code}/b.csv" in capsys.readouterr().out
    client.force_login(data_admin)
    page = client.get(reverse("datacenter:source_detail", args=[source.pk]))
    assert "b.csv" in page.content.decode() and "投放目录" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("datacenter:source_scan_inbox", args=[source.pk]))
    assert response.status_code == 302
    assert Subject.objects.filter(uscc=uscc("320106", 5)).exists()
