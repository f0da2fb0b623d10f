"""废止: abolition with reason and date; sub-items, open versions and implementation lists follow."""

from __future__ import annotations

import datetime as dt

import pytest

from jianguan.catalog import services
from jianguan.catalog.choices import HistoryAction, ImplementationStatus, ItemState, VersionStatus
from jianguan.catalog.tests.factories import agency_with_uscc, published_item, published_sub_item
from jianguan.core.errors import DomainError
from jianguan.core.models import OutboxEvent


def test_it_abolishes_with_reason_and_date(province_reviewer) -> None:
    item = published_item()
    item = services.abolish_item(item, actor=province_reviewer, reason="《某某条例》废止",
                                 abolished_on=dt.date(2025, 7, 1))
    assert item.state == ItemState.ABOLISHED
    assert item.abolished_on == dt.date(2025, 7, 1)
    assert item.abolition_reason == "《某某条例》废止"
    assert item.current_version.status == VersionStatus.ABOLISHED
    entry = item.history.filter(action=HistoryAction.ABOLISHED).get()
    assert entry.comment == "《某某条例》废止" and entry.actor == province_reviewer
    assert OutboxEvent.objects.filter(topic="catalog.item_abolished", payload__item_code=item.code).exists()


@pytest.mark.parametrize(("reason", "on", "field"), [("", dt.date(2025, 1, 1), "reason"),
                                                     ("废止", None, "abolished_on")])
def test_it_needs_a_reason_and_a_date(province_reviewer, reason, on, field) -> None:
    item = published_item()
    with pytest.raises(DomainError) as exc:
        services.abolish_item(item, actor=province_reviewer, reason=reason, abolished_on=on)
    assert field in exc.value.fields


def test_abolishing_a_main_item_abolishes_its_sub_items_and_open_revisions(province_reviewer) -> None:
    main = published_item()
    sub = published_sub_item(main)
    revision = services.start_revision(sub, actor=services.SYSTEM, reason="调整")
    services.abolish_item(main, actor=province_reviewer, reason="职能调整", abolished_on=dt.date(2025, 1, 1))
    sub.refresh_from_db()
    revision.refresh_from_db()
    assert sub.state == ItemState.ABOLISHED
    assert revision.status == VersionStatus.ABOLISHED


def test_it_withdraws_the_implementation_lists(province_reviewer, nanjing_editor) -> None:
    item = published_item()
    implementation = services.create_implementation(actor=nanjing_editor, item=item,
                                                    organization=agency_with_uscc("320100"))
    services.abolish_item(item, actor=province_reviewer, reason="职能调整", abolished_on=dt.date(2025, 1, 1))
    implementation.refresh_from_db()
    assert implementation.status == ImplementationStatus.WITHDRAWN
    assert implementation.withdrawal_reason == "监管事项已废止：职能调整"


def test_an_abolished_item_is_abolished_once(province_reviewer) -> None:
    item = published_item()
    services.abolish_item(item, actor=province_reviewer, reason="职能调整", abolished_on=dt.date(2025, 1, 1))
    with pytest.raises(DomainError):
        services.abolish_item(item, actor=province_reviewer, reason="再次", abolished_on=dt.date(2025, 1, 2))


def test_an_editor_may_not_abolish(province_editor) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.abolish_item(published_item(), actor=province_editor, reason="x", abolished_on=dt.date(2025, 1, 1))
