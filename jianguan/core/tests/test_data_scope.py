"""Data scope: region subtree and own department, through querysets and the access helper."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from jianguan.core.access import get_object_for
from jianguan.core.models import EnforcementOfficer, Organization, Subject, User
from jianguan.core.testing.personas import ECOLOGY, make_officer, make_org, make_subject, make_user


@pytest.fixture
def subjects(db):
    return {
        "gulou": make_subject("320106"),
        "jiangning": make_subject("320115"),
        "nanjing_city": make_subject("320102"),
        "suzhou": make_subject("320508"),
        "wuxi": make_subject("320213"),
    }


def test_province_sees_every_region(province_leader, subjects) -> None:
    assert Subject.objects.visible_to(province_leader).count() == 5


def test_a_city_user_sees_its_counties(nanjing_officer, subjects) -> None:
    visible = set(Subject.objects.visible_to(nanjing_officer).values_list("pk", flat=True))
    assert visible == {subjects["gulou"].pk, subjects["jiangning"].pk, subjects["nanjing_city"].pk}


def test_a_county_user_sees_only_its_county(gulou_inspector, subjects) -> None:
    visible = list(Subject.objects.visible_to(gulou_inspector))
    assert visible == [subjects["gulou"]]


def test_another_county_looks_not_found(gulou_inspector, subjects) -> None:
    with pytest.raises(Http404):
        get_object_for(gulou_inspector, Subject, subjects["jiangning"].pk, "view")
    with pytest.raises(Http404):
        get_object_for(gulou_inspector, Subject, subjects["jiangning"].pk, "change")
    assert get_object_for(gulou_inspector, Subject, subjects["gulou"].pk, "view") == subjects["gulou"]


def test_a_sibling_city_looks_not_found(suzhou_officer, subjects) -> None:
    with pytest.raises(Http404):
        get_object_for(suzhou_officer, Subject, subjects["gulou"].pk, "view")


def test_in_scope_without_the_action_is_forbidden(db, subjects) -> None:
    viewer = make_user("viewer", "320106", roles=["inspector"])
    with pytest.raises(PermissionDenied):
        get_object_for(viewer, Subject, subjects["gulou"].pk, "change")


def test_no_permission_means_nothing_is_visible(public_user, subjects) -> None:
    assert Subject.objects.visible_to(public_user).count() == 0
    with pytest.raises(Http404):
        get_object_for(public_user, Subject, subjects["gulou"].pk, "view")


def test_anonymous_sees_nothing(subjects) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert Subject.objects.visible_to(AnonymousUser()).count() == 0


def test_department_records_are_limited_to_own_department(db) -> None:
    market = make_officer(make_org("320106"))
    ecology = make_officer(make_org("320106", ECOLOGY))
    inspector = make_user("market_inspector", "320106", roles=["inspector"])
    assert list(EnforcementOfficer.objects.visible_to(inspector)) == [market]
    leader = make_user("county_leader", "320106", roles=["leader"])  # all departments in its region
    assert set(EnforcementOfficer.objects.visible_to(leader)) == {market, ecology}


def test_users_are_scoped_like_any_record(nanjing_officer, gulou_inspector, suzhou_officer) -> None:
    visible = set(User.objects.visible_to(nanjing_officer).values_list("username", flat=True))
    assert "gulou_inspector" in visible
    assert "suzhou_officer" not in visible


def test_organizations_are_scoped(province_admin, gulou_inspector) -> None:
    make_org("320115")
    make_org("320508")
    codes = set(Organization.objects.visible_to(province_admin).values_list("region_id", flat=True))
    assert {"320106", "320115", "320508"} <= codes
    assert list(Organization.objects.visible_to(gulou_inspector).values_list("region_id", flat=True)) == ["320106"]


def test_the_region_filter_uses_the_code_without_a_join(nanjing_officer) -> None:
    sql = str(Subject.objects.visible_to(nanjing_officer).query)
    assert "core_region" not in sql
    assert "3201" in sql
