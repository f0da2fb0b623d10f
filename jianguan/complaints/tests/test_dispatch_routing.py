"""The dispatch catalogue (派单目录): category + region → lead unit and co-units; the most specific rule wins."""

from __future__ import annotations

import pytest

from jianguan.complaints.models import Category, DispatchRule
from jianguan.complaints.routing import find_rule, route
from jianguan.core.models import DepartmentKind, Region
from jianguan.core.testing.personas import make_org

pytestmark = pytest.mark.django_db


def cat(code: str) -> Category:
    return Category.objects.get(code=code)


def region(code: str) -> Region:
    return Region.objects.get(code=code)


def test_a_food_ticket_goes_to_the_county_market_bureau() -> None:
    county = make_org("320106", "001")
    make_org("320100", "001")
    result = route(cat("0101"), region("320106"))
    assert result.lead == county and result.co_units == []
    assert result.rule.category.code == "01"


def test_a_leaf_rule_beats_its_parent_and_brings_co_units() -> None:
    market, reform = make_org("320106", "001"), make_org("320106", "013")
    result = route(cat("0203"), region("320106"))
    assert result.rule.category.code == "0203" and result.lead == market and result.co_units == [reform]


def test_a_city_rule_beats_the_province_rule_for_that_city_only() -> None:
    urban, ecology = make_org("320106", "024"), make_org("320106", "002")
    suzhou_ecology = make_org("320508", "002")
    nanjing = route(cat("0403"), region("320106"))
    assert nanjing.lead == urban and nanjing.co_units == [ecology]
    assert route(cat("0403"), region("320508")).lead == suzhou_ecology


def test_a_city_level_rule_sends_it_to_the_city_department() -> None:
    make_org("320106", "020")
    city = make_org("320100", "020")
    assert route(cat("0301"), region("320106")).lead == city


def test_it_falls_back_to_the_level_above_when_the_county_has_no_such_department() -> None:
    city = make_org("320100", "017")
    assert route(cat("0901"), region("320106")).lead == city


def test_a_county_rule_is_the_most_specific() -> None:
    DispatchRule.objects.create(category=cat("01"), region=region("320115"),
                                lead_kind=DepartmentKind.objects.get(code="007"), level="county")
    health = make_org("320115", "007")
    assert find_rule(cat("0101"), region("320115")).region_id == "320115"
    assert route(cat("0101"), region("320115")).lead == health
    assert find_rule(cat("0101"), region("320106")).region_id == "320000"


def test_without_a_category_the_classifier_hint_is_used() -> None:
    org = make_org("320106", "003")
    assert route(None, region("320106"), kind_hint="003").lead == org
    assert not route(None, region("320106")).found
