"""Account services: creation within scope, role separation, passwords, lockout, tokens."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.utils import timezone

from jianguan.core import login as login_service
from jianguan.core import services
from jianguan.core.errors import DomainError, ScopeViolation
from jianguan.core.models import AuditEntry, Region, Role, User
from jianguan.core.passwords import password_expired
from jianguan.core.testing.personas import make_org, make_user


def test_it_creates_a_user_inside_the_actors_scope(province_admin) -> None:
    org = make_org("320106")
    user, initial = services.create_user(
        actor=province_admin,
        username="new_inspector",
        full_name="新检查员",
        region=org.region,
        organization=org,
        roles=[Role.objects.get(code="inspector")],
        phone="+86 139-1234-5678",
    )
    assert user.check_password(initial)
    assert user.phone == "13912345678"
    assert password_expired(user)  # must change at first login
    assert AuditEntry.objects.filter(object_type="core.user", object_id=str(user.pk), action="create").exists()


def test_a_department_admin_cannot_create_users_elsewhere(nanjing_officer) -> None:
    other = make_org("320508")
    with pytest.raises(ScopeViolation):
        services.create_user(
            actor=nanjing_officer, username="x", full_name="x", region=other.region, organization=other
        )


def test_a_department_admin_cannot_grant_administrator_roles(nanjing_officer) -> None:
    org = nanjing_officer.organization
    with pytest.raises(DomainError) as excinfo:
        services.create_user(
            actor=nanjing_officer,
            username="x",
            full_name="x",
            region=org.region,
            organization=org,
            roles=[Role.objects.get(code="audit_admin")],
        )
    assert excinfo.value.code == "role.forbidden"


def test_users_without_the_permission_are_refused(gulou_inspector) -> None:
    org = gulou_inspector.organization
    with pytest.raises(PermissionDenied):
        services.create_user(actor=gulou_inspector, username="x", full_name="x", region=org.region, organization=org)


def test_a_weak_password_is_refused_in_chinese(province_admin) -> None:
    user = make_user("pw_user", "320106")
    with pytest.raises(DomainError) as excinfo:
        services.change_own_password(user, old_password="Jg-test-Passw0rd", new_password="abcdefghij")
    assert excinfo.value.code == "password.weak"
    assert "密码" in excinfo.value.message


def test_a_strong_password_change_resets_the_age(db) -> None:
    user = make_user("pw_user", "320106")
    services.change_own_password(user, old_password="Jg-test-Passw0rd", new_password="Xy7!long-enough")
    user.refresh_from_db()
    assert user.check_password("Xy7!long-enough")
    assert not password_expired(user)


def test_passwords_expire_after_the_maximum_age(db, settings) -> None:
    settings.PASSWORD_MAX_AGE_DAYS = 90
    user = make_user("old_pw", "320106")
    with time_machine.travel(timezone.now() + dt.timedelta(days=91)):
        assert password_expired(user)


def _request():
    request = RequestFactory().post("/accounts/login/")
    from django.contrib.sessions.backends.db import SessionStore

    request.session = SessionStore()
    request.user = None
    return request


def test_the_account_locks_after_repeated_failures(db, settings) -> None:
    settings.LOGIN_MAX_FAILURES = 3
    make_user("locky", "320106")
    for _ in range(3):
        outcome = login_service.attempt_login(_request(), "locky", "wrong")
        assert outcome.error == login_service.GENERIC_FAILURE
    # Even the right password is refused while locked, with the same message (no account enumeration).
    outcome = login_service.attempt_login(_request(), "locky", "Jg-test-Passw0rd")
    assert not outcome.ok and outcome.error == login_service.GENERIC_FAILURE
    assert login_service.attempt_login(_request(), "nobody", "wrong").error == login_service.GENERIC_FAILURE
    assert AuditEntry.objects.filter(event="core.user.locked").exists()
    assert AuditEntry.objects.filter(action="login_failed", object_repr="locky").count() == 4
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES + 1)):
        assert login_service.attempt_login(_request(), "locky", "Jg-test-Passw0rd").ok


def test_a_successful_login_is_audited_and_administrators_need_a_second_factor(db) -> None:
    make_user("admin_x", "320000", roles=["system_admin"])
    outcome = login_service.attempt_login(_request(), "admin_x", "Jg-test-Passw0rd")
    assert outcome.ok
    assert outcome.next_step == "otp_enrol"
    assert AuditEntry.objects.filter(action="login", object_repr__contains="admin_x").exists()


def test_reset_password_unlocks_and_forces_a_change(province_admin) -> None:
    user = make_user("forgetful", "320106")
    User.objects.filter(pk=user.pk).update(locked_until=timezone.now() + dt.timedelta(hours=1))
    user.refresh_from_db()
    temporary = services.reset_password(user, actor=province_admin)
    user.refresh_from_db()
    assert user.check_password(temporary)
    assert user.locked_until is None
    assert password_expired(user)


def test_tokens_are_scoped_expire_and_can_be_revoked(security_admin) -> None:
    client_user = make_user("machine", "320100", roles=["api_client"], is_machine=True)
    token, secret = services.issue_token(
        actor=security_admin, user=client_user, name="12345 platform", scopes=["view"], days=30
    )
    assert services.authenticate_token(secret) == token
    assert services.authenticate_token(secret + "x") is None
    with time_machine.travel(timezone.now() + dt.timedelta(days=31)):
        assert services.authenticate_token(secret) is None
    services.revoke_token(token, actor=security_admin)
    assert services.authenticate_token(secret) is None
    assert token.secret_hash != secret and secret not in str(AuditEntry.objects.values_list("details", flat=True))


def test_a_cached_token_look_up_costs_no_query(security_admin, django_assert_num_queries) -> None:
    client_user = make_user("machine_c", "320100", roles=["api_client"], is_machine=True)
    token, secret = services.issue_token(actor=security_admin, user=client_user, name="c", scopes=["add"], days=30)
    first = services.authenticate_token(secret)
    assert first is not None and first.user.has_perm("complaints.add_complaint")
    with django_assert_num_queries(0):
        again = services.authenticate_token(secret)
        assert again is not None and again.user.has_perm("complaints.add_complaint")


def test_a_role_change_in_this_process_applies_to_a_cached_token_at_once(security_admin) -> None:
    client_user = make_user("machine_r", "320100", roles=["api_client"], is_machine=True)
    _token, secret = services.issue_token(actor=security_admin, user=client_user, name="r", scopes=["add"], days=30)
    assert services.authenticate_token(secret).user.has_perm("complaints.add_complaint")
    client_user.roles.clear()
    assert not services.authenticate_token(secret).user.has_perm("complaints.add_complaint")
    client_user.refresh_from_db()
    client_user.is_active = False
    client_user.save()
    assert services.authenticate_token(secret) is None


def test_a_change_made_by_another_process_applies_within_the_cache_time(security_admin, settings) -> None:
    import time

    settings.API_TOKEN_CACHE_SECONDS = 1
    client_user = make_user("machine_o", "320100", roles=["api_client"], is_machine=True)
    token, secret = services.issue_token(actor=security_admin, user=client_user, name="o", scopes=["add"], days=30)
    assert services.authenticate_token(secret) is not None
    from jianguan.core.models import ApiToken

    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())  # bypasses this process's signals
    time.sleep(1.1)
    assert services.authenticate_token(secret) is None


def test_a_machine_account_cannot_log_in_with_a_password(db) -> None:
    make_user("machine2", "320100", roles=["api_client"], is_machine=True)
    assert not login_service.attempt_login(_request(), "machine2", "Jg-test-Passw0rd").ok


@pytest.mark.django_db
def test_the_shipped_region_edition_is_complete() -> None:
    assert Region.objects.filter(level="province").count() == 1
    assert Region.objects.filter(level="city").count() == 13
    assert Region.objects.filter(level="county").count() == 95
    assert Region.objects.filter(kind="district").count() == 55
    assert Region.objects.filter(kind="county_city").count() == 21
    assert Region.objects.filter(kind="county").count() == 19
    assert not Region.objects.filter(code__regex=r"^32\d\d7\d$").exists()  # no development-zone codes
    assert Region.objects.get(code="320613").name == "崇川区"


def test_nobody_changes_their_own_roles(nanjing_officer, security_admin) -> None:
    with pytest.raises(DomainError) as excinfo:
        services.update_user(security_admin, actor=security_admin, full_name="x",
                             organization=security_admin.organization,
                             roles=[*security_admin.roles.all(), Role.objects.get(code="audit_admin")],
                             phone=None, is_active=True)
    assert excinfo.value.code == "role.self"


def test_a_department_admin_grants_only_what_the_grant_table_allows(nanjing_officer) -> None:
    org = nanjing_officer.organization
    user, _ = services.create_user(actor=nanjing_officer, username="staff1", full_name="员工", region=org.region,
                                   organization=org, roles=[Role.objects.get(code="inspector")])
    with pytest.raises(DomainError) as excinfo:
        services.update_user(user, actor=nanjing_officer, full_name="员工", organization=org,
                             roles=[Role.objects.get(code="data_admin")], phone=None, is_active=True)
    assert excinfo.value.code == "role.forbidden"


def test_a_department_admin_cannot_manage_a_more_powerful_account(nanjing_officer) -> None:
    admin = make_user("nj_sys", "320100", roles=["system_admin"])
    with pytest.raises(DomainError) as excinfo:
        services.reset_password(admin, actor=nanjing_officer)
    assert excinfo.value.code == "user.forbidden"
    with pytest.raises(DomainError):
        services.update_user(admin, actor=nanjing_officer, full_name="x", organization=admin.organization,
                             roles=list(admin.roles.all()), phone=None, is_active=False)


def test_the_three_duties_stay_on_different_accounts(security_admin) -> None:
    user = make_user("dual", "320000", roles=["system_admin"])
    with pytest.raises(DomainError) as excinfo:
        services.update_user(user, actor=security_admin, full_name="x", organization=user.organization,
                             roles=list(Role.objects.filter(code__in=["system_admin", "audit_admin"])),
                             phone=None, is_active=True)
    assert excinfo.value.code == "role.duties_combined"


def test_administrative_roles_and_permissions_are_fixed(security_admin) -> None:
    from django.contrib.auth.models import Permission

    with pytest.raises(DomainError) as excinfo:
        services.update_role(Role.objects.get(code="audit_admin"), actor=security_admin, permissions=[],
                             all_departments=True)
    assert excinfo.value.code == "role.fixed"
    audit_perm = Permission.objects.get(codename="view_auditentry")
    with pytest.raises(DomainError) as excinfo:
        services.update_role(Role.objects.get(code="leader"), actor=security_admin, permissions=[audit_perm],
                             all_departments=True)
    assert excinfo.value.code == "role.admin_permission"


def test_tokens_go_only_to_machine_accounts_and_never_widen_scopes(security_admin) -> None:
    human = make_user("human", "320100", roles=["inspector"])
    with pytest.raises(DomainError) as excinfo:
        services.issue_token(actor=security_admin, user=human, name="x", scopes=["view"], days=30)
    assert excinfo.value.code == "token.human_account"
    machine = make_user("machine3", "320100", roles=["api_client"], is_machine=True)
    with pytest.raises(DomainError) as excinfo:
        services.issue_token(actor=security_admin, user=machine, name="x", scopes=["view", "delete"], days=30,
                             actor_scopes=["view", "add"])
    assert excinfo.value.code == "token.scope_escalation"


def test_a_bad_phone_is_a_clear_error_not_a_crash(province_admin) -> None:
    org = make_org("320106")
    with pytest.raises(DomainError) as excinfo:
        services.create_user(actor=province_admin, username="p1", full_name="x", region=org.region,
                             organization=org, phone="123")
    assert excinfo.value.fields == {"phone": [excinfo.value.message]}


def test_one_address_is_throttled_after_many_failures(db, settings) -> None:
    from django.core.cache import cache

    cache.clear()
    settings.LOGIN_MAX_FAILURES_PER_IP = 4
    make_user("victim", "320106")
    for i in range(4):
        login_service.attempt_login(_request(), f"guess{i}", "wrong")
    assert not login_service.attempt_login(_request(), "victim", "Jg-test-Passw0rd").ok
    assert AuditEntry.objects.filter(action="login_failed", details__reason="ip_throttled").exists()
    cache.clear()
