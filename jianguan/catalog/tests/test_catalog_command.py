"""``jianguan catalog``: the command line does what the pages do."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jianguan.catalog import push
from jianguan.catalog.models import NationalItem, SupervisionItem
from jianguan.catalog.tests.factories import published_item
from jianguan.catalog.tests.spreadsheets import DRUG, read_rows, row, xlsx


def _call(*args: str) -> str:
    import io

    out = io.StringIO()
    call_command("catalog", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_import_prints_the_counts_and_writes_the_error_report(db, tmp_path) -> None:
    source = tmp_path / "目录.xlsx"
    source.write_bytes(xlsx([row("对药品经营企业的监督检查", basis=DRUG), row("对化妆品的监督检查", method="指导")]))
    report = tmp_path / "report.xlsx"
    with pytest.raises(CommandError) as exc:
        _call("import", str(source), "--report", str(report))
    assert exc.value.returncode == 1
    assert SupervisionItem.objects.count() == 1
    rows = read_rows(report.read_bytes())
    assert rows[1][1:3] == [3, "监管方式"]


def test_import_without_errors_succeeds_and_twice_changes_nothing(db, tmp_path) -> None:
    source = tmp_path / "目录.xlsx"
    source.write_bytes(xlsx([row("对药品经营企业的监督检查", basis=DRUG)]))
    assert "1 created, 0 updated, 0 unchanged, 0 rejected" in _call("import", str(source), "--publish")
    assert "0 created, 0 updated, 1 unchanged, 0 rejected" in _call("import", str(source), "--publish")
    assert not (tmp_path / "目录.xlsx.errors.xlsx").exists()


def test_a_dry_run_writes_nothing(db, tmp_path) -> None:
    source = tmp_path / "目录.xlsx"
    source.write_bytes(xlsx([row("对药品经营企业的监督检查", basis=DRUG)]))
    assert _call("import", str(source), "--dry-run").startswith("dry run: 1 rows: 1 created")
    assert SupervisionItem.objects.count() == 0


@pytest.mark.parametrize("fmt", ["xlsx", "json"])
def test_export_writes_the_catalogue(db, tmp_path, fmt) -> None:
    published_item("对药品经营企业的监督检查")
    target = tmp_path / f"catalogue.{fmt}"
    assert "1 rows exported" in _call("export", "--format", fmt, str(target))
    if fmt == "json":
        assert json.loads(target.read_bytes())["rows"][0]["main_name"] == "对药品经营企业的监督检查"
    else:
        assert read_rows(target.read_bytes())[1][1] == "对药品经营企业的监督检查"


def test_national_load_and_push_package(db, tmp_path) -> None:
    published_item("对食品生产者的监督检查")
    national = tmp_path / "national.json"
    national.write_text(json.dumps({"edition": "2024", "items": [{"code": "000001", "name": "对食品生产者的监督检查"}]},
                                   ensure_ascii=False), encoding="utf-8")
    out = _call("national-load", str(national))
    assert "1 added" in out and "1 local items without a national counterpart" in out
    assert NationalItem.objects.get().edition == "2024"
    target = tmp_path / "push.json"
    _call("push-package", str(target))
    assert push.validate_push_package(json.loads(target.read_bytes())) == []


def test_it_can_act_as_a_user(db, tmp_path, gulou_inspector) -> None:
    source = tmp_path / "目录.xlsx"
    source.write_bytes(xlsx([row("对药品经营企业的监督检查", basis=DRUG)]))
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        _call("--user", "gulou_inspector", "import", str(source))
