"""Account pages: scoped list, create (initial password shown once), edit with roles, reset password / unlock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from jianguan.core.models import AuditEntry, Role, User
from jianguan.core.testing.personas import login_verified, make_org, make_user

pytestmark = pytest.mark.django_db


def test_it_lists_the_accounts_of_a_citys_counties(client: Client, nanjing_officer: User) -> None:
    make_user("gulou_a", "320106", roles=["inspector"])
    make_user("jiangning_a", "320115", roles=["inspector"])
    make_user("suzhou_a", "320505", roles=["inspector"])
    client.force_login(nanjing_officer)
    response = client.get(reverse("security:user_list"))
    assert response.status_code == 200
    usernames = {u.username for u in response.context["page"].object_list}
    assert {"gulou_a", "jiangning_a"} <= usernames
    assert "suzhou_a" not in usernames


def test_it_filters_accounts_by_role_and_keyword(client: Client, nanjing_officer: User) -> None:
    make_user("gulou_a", "320106", roles=["inspector"])
    make_user("gulou_b", "320106", roles=["leader"])
    client.force_login(nanjing_officer)
    response = client.get(reverse("security:user_list"), {"role": "leader", "q": "gulou"}, HTTP_HX_REQUEST="true")
    assert [u.username for u in response.context["page"].object_list] == ["gulou_b"]
    assert "<html" not in response.content.decode()


def test_it_keeps_the_user_list_within_its_query_budget(
    client: Client, nanjing_officer: User, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for i in range(22):
        make_user(f"u{i:02d}", "320106" if i % 2 else "320115", roles=["inspector", "complaint_handler"])
    client.force_login(nanjing_officer)
    client.get(reverse("security:user_list"))
    with django_assert_max_num_queries(20):
        response = client.get(reverse("security:user_list"))
    assert len(response.context["page"].object_list) >= 22


def test_it_creates_an_account_and_shows_the_initial_password_once(client: Client, nanjing_officer: User) -> None:
    org = make_org("320106")
    client.force_login(nanjing_officer)
    page = client.get(reverse("security:user_create"))
    assert page.status_code == 200
    # A department administrator cannot hand out administrator roles.
    assert 'value="system_admin"' not in page.content.decode()
    response = client.post(reverse("security:user_create"), {
        "username": "gulou_new", "full_name": "鼓楼新人", "organization": org.pk, "roles": ["inspector"],
        "phone": "13800002222",
    })
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    password = response.context["password"]
    assert escape(password) in response.content.decode()
    created = User.objects.get(username="gulou_new")
    assert created.check_password(password)
    assert created.region_id == "320106"
    assert list(created.roles.values_list("code", flat=True)) == ["inspector"]
    assert created.password_changed_at is None  # must change at first sign-in
    # Shown once: the account page does not show it again.
    assert escape(password) not in client.get(reverse("security:user_edit", args=[created.pk])).content.decode()


def test_it_refuses_a_department_outside_the_users_scope(client: Client, nanjing_officer: User) -> None:
    outside = make_org("320505")
    client.force_login(nanjing_officer)
    response = client.post(reverse("security:user_create"), {
        "username": "sneaky", "full_name": "越权", "organization": outside.pk, "roles": [],
    })
    assert response.status_code == 200
    assert "organization" in response.context["form"].errors
    assert not User.objects.filter(username="sneaky").exists()


def test_it_reports_a_taken_username_on_the_form(client: Client, nanjing_officer: User) -> None:
    make_user("gulou_a", "320106")
    client.force_login(nanjing_officer)
    response = client.post(reverse("security:user_create"), {
        "username": "gulou_a", "full_name": "重名", "organization": make_org("320106").pk,
    })
    assert "用户名已被使用" in response.content.decode()


def test_it_edits_an_accounts_roles(client: Client, nanjing_officer: User) -> None:
    target = make_user("gulou_a", "320106", roles=["inspector"], phone="13911112222")
    client.force_login(nanjing_officer)
    page = client.get(reverse("security:user_edit", args=[target.pk]))
    assert page.status_code == 200
    assert "13911112222" not in page.content.decode() and "139****2222" in page.content.decode()
    response = client.post(reverse("security:user_edit", args=[target.pk]), {
        "full_name": "鼓楼甲", "organization": target.organization_id, "roles": ["inspector", "complaint_handler"],
        "phone": "", "is_active": "on",
    })
    assert response.status_code == 302
    target.refresh_from_db()
    assert set(target.roles.values_list("code", flat=True)) == {"inspector", "complaint_handler"}
    assert target.full_name == "鼓楼甲"
    assert target.phone == "13911112222"  # left empty: kept
    assert AuditEntry.objects.filter(object_type="core.user", object_id=str(target.pk), action="update").exists()


def test_it_hides_another_citys_account_as_not_found(client: Client, nanjing_officer: User) -> None:
    target = make_user("suzhou_a", "320505")
    client.force_login(nanjing_officer)
    assert client.get(reverse("security:user_edit", args=[target.pk])).status_code == 404
    assert client.post(reverse("security:user_reset_password", args=[target.pk])).status_code == 404


def test_it_shows_an_account_read_only_to_a_viewer(client: Client, audit_admin: User) -> None:
    target = make_user("gulou_a", "320106")
    login_verified(client, audit_admin)
    page = client.get(reverse("security:user_edit", args=[target.pk]))
    assert page.status_code == 200
    assert page.context["form"] is None
    assert client.post(reverse("security:user_edit", args=[target.pk]), {"full_name": "x"}).status_code == 403


def test_it_resets_and_unlocks_an_account(client: Client, nanjing_officer: User) -> None:
    target = make_user("gulou_a", "320106")
    User.objects.filter(pk=target.pk).update(locked_until=timezone.now() + dt.timedelta(minutes=20),
                                             failed_login_count=3)
    client.force_login(nanjing_officer)
    page = client.get(reverse("security:user_edit", args=[target.pk]))
    assert "解锁并重置密码" in page.content.decode()
    response = client.post(reverse("security:user_reset_password", args=[target.pk]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    temporary = response.context["password"]
    target.refresh_from_db()
    assert target.check_password(temporary)
    assert target.locked_until is None and target.password_changed_at is None
    assert AuditEntry.objects.filter(event="core.user.password_reset", object_id=str(target.pk)).exists()


def test_it_resets_passwords_only_by_post(client: Client, nanjing_officer: User) -> None:
    target = make_user("gulou_a", "320106")
    client.force_login(nanjing_officer)
    assert client.get(reverse("security:user_reset_password", args=[target.pk])).status_code == 405


def test_it_lets_the_security_administrator_offer_administrator_roles(client: Client, security_admin: User) -> None:
    assert Role.objects.filter(code="audit_admin", mfa_required=True).exists()
    login_verified(client, security_admin)
    assert client.get(reverse("security:user_list")).status_code == 200
    # The security administrator may view accounts but not create them (that is the system administrator's duty).
    assert client.get(reverse("security:user_create")).status_code == 403
