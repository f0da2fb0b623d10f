"""Unified codes: issued once by the rule in DOMAIN.md, stable across revisions, never reused."""

from __future__ import annotations

import datetime as dt

import pytest

from jianguan.catalog import codes, services
from jianguan.catalog.models import CodeSequence, SupervisionItem
from jianguan.catalog.tests.factories import content, kind, new_item, published_item, published_sub_item
from jianguan.core.errors import DomainError
from jianguan.lib.validators import ValidationFailure


def test_it_issues_an_11_digit_main_code_from_province_department_method_and_serial(db) -> None:
    first = new_item(kind_code="001", method="01")
    second = new_item(kind_code="001", method="01")
    other = new_item(kind_code="002", method="02")
    assert first.main_code == "32001010001"
    assert first.code == "32001010001000"
    assert second.main_code == "32001010002"
    assert other.main_code == "32002020001"


def test_it_issues_14_digit_sub_item_codes_under_the_main_code(db) -> None:
    main = published_item()
    subs = [published_sub_item(main) for _ in range(3)]
    assert [s.code for s in subs] == ["32001010001001", "32001010001002", "32001010001003"]
    assert all(s.main_code == main.main_code for s in subs)
    assert all(len(s.code) == 14 and s.code.isdigit() for s in subs)


def test_it_keeps_the_code_across_revisions(db) -> None:
    item = published_item()
    version = services.start_revision(item, actor=services.SYSTEM, reason="依据修订")
    services.update_draft(version, actor=services.SYSTEM, content=content("新的名称"))
    item.refresh_from_db()
    assert item.code == "32001010001000"


def test_it_never_reuses_an_abolished_code(db) -> None:
    first = published_item()
    services.abolish_item(first, actor=services.SYSTEM, reason="法律废止", abolished_on=dt.date(2025, 1, 1))
    second = new_item()
    assert second.main_code == "32001010002"
    with pytest.raises(DomainError) as exc:
        services.create_item(actor=services.SYSTEM, department_kind=kind("001"), method="01",
                             content=content(), code="32001010001")
    assert exc.value.code == "catalog.code_taken"


def test_it_never_reissues_a_sub_serial_after_abolition(db) -> None:
    main = published_item()
    sub = published_sub_item(main)
    services.abolish_item(sub, actor=services.SYSTEM, reason="并入其他子项", abolished_on=dt.date(2025, 1, 1))
    assert published_sub_item(main).code == "32001010001002"


def test_an_explicit_code_moves_the_sequence_past_it(db) -> None:
    item = services.create_item(actor=services.SYSTEM, department_kind=kind("001"), method="01",
                                content=content(), code="32001010007")
    assert item.main_code == "32001010007"
    assert CodeSequence.objects.get(prefix="3200101").last_serial == 7
    assert new_item().main_code == "32001010008"


def test_an_explicit_code_must_match_the_department_and_method(db) -> None:
    with pytest.raises(DomainError) as exc:
        services.create_item(actor=services.SYSTEM, department_kind=kind("001"), method="02", content=content(),
                             code="32001010001")
    assert exc.value.code == "catalog.code_mismatch"


def test_a_sequence_advances_by_compare_and_swap(db) -> None:
    assert codes.issue_main_code("001", "03") == "32001030001"
    CodeSequence.objects.filter(prefix="3200103").update(last_serial=41)
    assert codes.issue_main_code("001", "03") == "32001030042"


def test_items_are_never_deleted(db) -> None:
    item = new_item()
    with pytest.raises(PermissionError):
        item.delete()
    assert SupervisionItem.objects.filter(pk=item.pk).exists()


@pytest.mark.parametrize(("code", "message"), [
    ("3200101000", "监管事项编码应为14位数字（当前为10位）"),
    ("33001010001", "监管事项编码应以32（江苏省）开头"),
    ("32001010000", "主项流水号不能为0000"),
    ("3200101000A", "监管事项编码只能包含数字"),
])
def test_it_explains_malformed_codes_in_chinese(code, message) -> None:
    with pytest.raises(ValidationFailure) as exc:
        codes.parse_code(code)
    assert exc.value.message == message


def test_the_implementation_code_is_agency_uscc_level_and_item_code() -> None:
    from jianguan.lib.validators import make_uscc

    uscc = make_uscc("11320100MB0000001")
    code = codes.implementation_code(uscc, "3", "32001010001001")
    assert code == f"{uscc}332001010001001"
    assert len(code) == 33
    assert codes.parse_implementation_code(code) == (uscc, "3", "32001010001001")
