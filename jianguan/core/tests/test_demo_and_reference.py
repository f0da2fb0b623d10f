"""The demo builder and the reference-data loaders."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from django.core.management import call_command

from jianguan.core import demo, reference
from jianguan.core.models import AuditEntry, EnforcementOfficer, Organization, Region, Subject, User
from jianguan.lib.validators import is_valid_id_number, is_valid_uscc


def test_org_code_check_character_follows_gb_11714() -> None:
    # The organisation codes inside two real credit codes (positions 9-17): 551385082 and M000100Y4.
    assert demo.org_code_check("55138508") == "2"
    assert demo.org_code_check("M000100Y") == "4"


@pytest.mark.django_db
def test_the_demo_builds_valid_deterministic_data(capsys, monkeypatch) -> None:
    monkeypatch.setattr(demo, "_extra_steps", [])  # the kernel's part only; each app tests its own demo step
    call_command("demo", "--entities", "3000", "--officers", "200", "--no-progress")
    out = capsys.readouterr().out
    assert "js_sysadmin" in out and "Jianguan@2026" in out
    assert Subject.objects.count() == 3000
    assert EnforcementOfficer.objects.count() == 200
    # Every region has the demo department kinds (apps' demo steps may add more departments).
    kinds = set(demo.DEMO_KINDS)
    for region in ("320000", "320106", "321324"):
        assert kinds <= set(Organization.objects.filter(region_id=region).values_list("kind__short_name", flat=True))
    assert User.objects.count() == len(demo.DEMO_PLACES) * len(demo.ROLE_ACCOUNTS)
    sample = list(Subject.objects.order_by("?")[:300])
    assert all(is_valid_uscc(s.uscc) for s in sample)
    assert all(s.uscc[2:8] == s.region_id for s in sample)
    assert Subject.objects.values("region_id").distinct().count() > 60
    officers = list(EnforcementOfficer.objects.all()[:50])
    assert all(is_valid_id_number(o.id_number) for o in officers)
    assert AuditEntry.objects.filter(event="core.demo.loaded").count() == 1
    first = list(Subject.objects.order_by("id").values_list("uscc", "name")[:20])
    # Idempotent: a second run changes nothing.
    call_command("demo", "--entities", "3000", "--officers", "200", "--no-progress")
    assert "already loaded" in capsys.readouterr().out
    assert Subject.objects.count() == 3000
    assert first == list(Subject.objects.order_by("id").values_list("uscc", "name")[:20])


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_entities() -> None:
    a = list(demo._subject_rows(50, 1, random.Random(7)))
    b = list(demo._subject_rows(50, 1, random.Random(7)))
    assert [r[:10] for r in a] == [r[:10] for r in b]


@pytest.mark.django_db
def test_a_newer_region_edition_adds_renames_and_retires(tmp_path: Path) -> None:
    rows = (reference.DEFAULT_REGIONS.read_text(encoding="utf-8").splitlines())
    edited = [r for r in rows if not r.startswith("320106,")]  # 鼓楼区 disappears
    edited = [r.replace("320115,江宁区,江宁", "320115,江宁新区,江宁新") for r in edited]
    edited.append("320199,测试区,测试,county,district,320100")
    path = tmp_path / "jiangsu-2026.csv"
    path.write_text("\n".join(edited) + "\n", encoding="utf-8")
    call_command("load_reference", "--regions", str(path), "--edition", "2026")
    assert Region.objects.get(code="320199").parent_id == "320100"
    assert Region.objects.get(code="320115").name == "江宁新区"
    assert Region.objects.get(code="320106").active is False
    assert AuditEntry.objects.filter(event="core.region.edition_loaded").exists()


@pytest.mark.django_db
def test_a_malformed_region_file_names_row_and_column(tmp_path: Path) -> None:
    from django.core.management.base import CommandError

    path = tmp_path / "bad.csv"
    path.write_text("code,name,short_name,level,kind,parent_code\n320000,江苏省,江苏,province,province,\n"
                    "32AB00,坏,坏,city,city,320000\n", encoding="utf-8")
    with pytest.raises(CommandError) as excinfo:
        call_command("load_reference", "--regions", str(path))
    assert "第3行 code 列" in str(excinfo.value)
    assert Region.objects.filter(level="county").count() == 95  # nothing changed
