"""Personas and small factories shared by every app's tests (loaded by the root conftest).

The hierarchy: province (320000) → 南京 (320100) → 鼓楼区 (320106), 江宁区 (320115); 苏州 (320500) is the sibling
city whose officer plays the outsider.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from jianguan.core.models import (
    DepartmentKind,
    EnforcementOfficer,
    Organization,
    Region,
    Role,
    Subject,
    User,
)
from jianguan.lib.validators import make_id_number, make_uscc

MARKET = "001"  # 市场监督管理
ECOLOGY = "002"  # 生态环境

_serial = itertools.count(1)


def make_org(region_code: str, kind_code: str = MARKET) -> Organization:
    region = Region.objects.get(code=region_code)
    kind = DepartmentKind.objects.get(code=kind_code)
    org, _ = Organization.objects.get_or_create(
        region=region,
        kind=kind,
        defaults={
            "code": f"{region_code}{kind_code}",
            "name": kind.province_name if region.level == "province" else f"{region.full_name}{kind.name}",
        },
    )
    return org


TEST_PASSWORD = "Jg-test-Passw0rd"  # noqa: S105 - test personas only


def make_user(
    username: str,
    region_code: str,
    kind_code: str = MARKET,
    roles: list[str] | tuple[str, ...] = (),
    *,
    password: str = TEST_PASSWORD,
    **extra: Any,
) -> User:
    org = make_org(region_code, kind_code)
    user = User.objects.create(
        username=username,
        full_name=extra.pop("full_name", username),
        region_id=region_code,
        organization=org,
        password_changed_at=timezone.now(),
        **extra,
    )
    user.set_password(password)
    user.save()
    if roles:
        user.roles.set(Role.objects.filter(code__in=roles))
    return user


def make_uscc_for(region_code: str, n: int | None = None) -> str:
    n = next(_serial) if n is None else n
    body = f"{n:09d}".replace("I", "1")
    return make_uscc(f"91{region_code}{body}")


def make_subject(region_code: str, **kw: Any) -> Subject:
    n = next(_serial)
    defaults: dict[str, Any] = {
        "uscc": make_uscc_for(region_code, n),
        "name": f"测试企业{n}有限公司",
        "subject_type": "enterprise",
        "legal_representative": "张三",
        "address": "测试路1号",
        "region_id": region_code,
    }
    defaults.update(kw)
    return Subject.objects.create(**defaults)


def make_officer(org: Organization, **kw: Any) -> EnforcementOfficer:
    from jianguan.core.fields import index_value

    n = next(_serial)
    id_number = kw.pop("id_number", make_id_number(f"{org.region_id}1985{(n % 12) + 1:02d}01{n % 1000:03d}"))
    officer = EnforcementOfficer(
        name=kw.pop("name", f"执法员{n}"),
        id_number=id_number,
        id_number_index=index_value(EnforcementOfficer, "id_number_index", id_number),
        certificate_no=kw.pop("certificate_no", f"JS{org.region_id}{n:06d}"),
        organization=org,
        region_id=org.region_id,
        fields=kw.pop("fields", ["market"]),
        phone=kw.pop("phone", f"139{n:08d}"),
        **kw,
    )
    officer.save()
    return officer


def make_token(user: User, scopes: list[str] | tuple[str, ...] = ("view",), days: int = 30) -> str:
    import secrets

    from jianguan.core.services import _hash_secret

    prefix = secrets.token_hex(4)
    secret = f"jg_{prefix}_{secrets.token_urlsafe(24)}"
    user.api_tokens.create(
        name="test",
        prefix=prefix,
        secret_hash=_hash_secret(secret),
        scopes=list(scopes),
        expires_at=timezone.now() + dt.timedelta(days=days),
    )
    return secret


def login_verified(client: Any, user: User) -> None:
    """Log ``user`` into the test client with the second factor already satisfied."""
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()


@pytest.fixture
def province_admin(db: Any) -> User:
    """System administrator at the province (大数据管理 department)."""
    return make_user("province_admin", "320000", MARKET, ["system_admin"], full_name="省管理员")


@pytest.fixture
def security_admin(db: Any) -> User:
    return make_user("security_admin", "320000", MARKET, ["security_admin"], full_name="省安全管理员")


@pytest.fixture
def audit_admin(db: Any) -> User:
    return make_user("audit_admin", "320000", MARKET, ["audit_admin"], full_name="省审计管理员")


@pytest.fixture
def province_leader(db: Any) -> User:
    return make_user("province_leader", "320000", MARKET, ["leader"], full_name="省领导")


@pytest.fixture
def nanjing_officer(db: Any) -> User:
    """City-level data administrator and inspector at 南京市市场监督管理局."""
    return make_user(
        "nanjing_officer", "320100", MARKET, ["data_admin", "inspector", "dept_admin"], full_name="南京市干部"
    )


@pytest.fixture
def gulou_inspector(db: Any) -> User:
    """County inspector at 鼓楼区市场监督管理局 (inside 南京)."""
    return make_user("gulou_inspector", "320106", MARKET, ["inspector", "data_admin"], full_name="鼓楼检查员")


@pytest.fixture
def jiangning_inspector(db: Any) -> User:
    """County inspector at 江宁区市场监督管理局 (another county of 南京)."""
    return make_user("jiangning_inspector", "320115", MARKET, ["inspector", "data_admin"], full_name="江宁检查员")


@pytest.fixture
def suzhou_officer(db: Any) -> User:
    """The outsider: same roles as nanjing_officer, in the sibling city 苏州."""
    return make_user(
        "suzhou_officer", "320500", MARKET, ["data_admin", "inspector", "dept_admin"], full_name="苏州市干部"
    )


@pytest.fixture
def public_user(db: Any) -> User:
    """An account with no roles (the public has no staff permissions)."""
    return make_user("public_user", "320000", MARKET, [], full_name="公众")
