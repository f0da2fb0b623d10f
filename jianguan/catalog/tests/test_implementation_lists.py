"""检查实施清单: a region and department's use of a provincial item, with local detail only."""

from __future__ import annotations

import pytest

from jianguan.catalog import services
from jianguan.catalog.choices import ImplementationStatus
from jianguan.catalog.tests.factories import agency_with_uscc, new_item, published_item, published_sub_item
from jianguan.core.errors import DomainError, ScopeViolation
from jianguan.core.testing.personas import make_org


def test_its_code_is_the_agency_uscc_level_digit_and_item_code(nanjing_editor) -> None:
    item = published_item()
    org = agency_with_uscc("320100")
    implementation = services.create_implementation(actor=nanjing_editor, item=item, organization=org,
                                                    contact_phone="025-12315", place="南京市建邺区江东中路265号")
    assert implementation.code == f"{org.uscc}3{item.code}"
    assert implementation.level == "3"
    assert implementation.region_id == "320100"
    assert implementation.place == "南京市建邺区江东中路265号"


def test_a_county_list_has_level_4(gulou_editor) -> None:
    implementation = services.create_implementation(actor=gulou_editor, item=published_item(),
                                                    organization=agency_with_uscc("320106"))
    assert implementation.code[18] == "4"


def test_a_city_department_edits_only_its_own_lists(nanjing_editor, suzhou_editor) -> None:
    item = published_item()
    with pytest.raises(ScopeViolation):
        services.create_implementation(actor=nanjing_editor, item=item, organization=agency_with_uscc("320500"))
    with pytest.raises(ScopeViolation):
        services.create_implementation(actor=nanjing_editor, item=item,
                                       organization=agency_with_uscc("320100", "002"))
    implementation = services.create_implementation(actor=nanjing_editor, item=item,
                                                    organization=agency_with_uscc("320100"))
    with pytest.raises(ScopeViolation):
        services.update_implementation(implementation, actor=suzhou_editor, place="苏州")


def test_it_never_changes_the_items_name_code_or_basis(nanjing_editor) -> None:
    item = published_item("对食品生产者的监督检查")
    implementation = services.create_implementation(actor=nanjing_editor, item=item,
                                                    organization=agency_with_uscc("320100"))
    services.update_implementation(implementation, actor=nanjing_editor, name="改名", code="1", notes="每年检查一次")
    item.refresh_from_db()
    implementation.refresh_from_db()
    assert item.name == "对食品生产者的监督检查"
    assert implementation.code.endswith(item.code)
    assert implementation.notes == "每年检查一次"


def test_it_refuses_unpublished_items_and_main_items_with_sub_items(nanjing_editor) -> None:
    org = agency_with_uscc("320100")
    with pytest.raises(DomainError) as exc:
        services.create_implementation(actor=nanjing_editor, item=new_item(), organization=org)
    assert exc.value.code == "catalog.not_published"
    main = published_item()
    published_sub_item(main)
    with pytest.raises(DomainError) as exc:
        services.create_implementation(actor=nanjing_editor, item=main, organization=org)
    assert exc.value.code == "catalog.has_sub_items"


def test_it_refuses_a_level_that_does_not_exercise_the_item(nanjing_editor) -> None:
    item = published_item(levels=("province",))
    with pytest.raises(DomainError) as exc:
        services.create_implementation(actor=nanjing_editor, item=item, organization=agency_with_uscc("320100"))
    assert exc.value.code == "catalog.level_mismatch"


def test_the_agency_needs_a_credit_code(nanjing_editor) -> None:
    org = make_org("320100", "001")
    org.uscc = None
    org.save()
    with pytest.raises(DomainError) as exc:
        services.create_implementation(actor=nanjing_editor, item=published_item(), organization=org)
    assert exc.value.code == "catalog.agency_uscc"


def test_withdrawal_keeps_the_code_and_reuse_reactivates_it(nanjing_editor) -> None:
    item = published_item()
    org = agency_with_uscc("320100")
    implementation = services.create_implementation(actor=nanjing_editor, item=item, organization=org)
    code = implementation.code
    services.withdraw_implementation(implementation, actor=nanjing_editor, reason="职能划转")
    implementation.refresh_from_db()
    assert implementation.status == ImplementationStatus.WITHDRAWN
    again = services.create_implementation(actor=nanjing_editor, item=item, organization=org)
    assert again.pk == implementation.pk and again.code == code and again.status == ImplementationStatus.ACTIVE
