"""Deterministic demo data: departments everywhere, users for every role at seven places, tens of thousands to
millions of supervised entities with valid codes, and about 2,000 enforcement officers.

Entities are written through the database's bulk path (``executemany`` on SQLite, ``COPY`` on PostgreSQL), not
row-by-row ORM saves; the load is recorded as one audit event.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from jianguan.core import audit
from jianguan.core.fields import index_value
from jianguan.core.models import (
    DepartmentKind,
    EnforcementOfficer,
    IndustryCode,
    Organization,
    Region,
    Role,
    Subject,
    User,
)
from jianguan.lib.validators import USCC_CHARSET, id_check_char, uscc_check_char

DEMO_PASSWORD = "Jianguan@2026"  # noqa: S105 - documented demo password
# Demo TOTP secret (base32 JBSWY3DPEHPK3PXP… as hex) shared by the demo administrator accounts.
DEMO_TOTP_HEX = "48656c6c6f21deadbeef48656c6c6f21deadbeef"

# Places with demo users: the province, two cities, two counties of each.
DEMO_PLACES = (
    ("js", "320000"),
    ("nj", "320100"),
    ("gl", "320106"),
    ("jn", "320115"),
    ("sz", "320500"),
    ("gs", "320508"),
    ("ks", "320583"),
)
ROLE_ACCOUNTS = (
    ("sysadmin", "system_admin", "大数据管理"),
    ("secadmin", "security_admin", "大数据管理"),
    ("auditadmin", "audit_admin", "大数据管理"),
    ("deptadmin", "dept_admin", "市场监管"),
    ("inspector", "inspector", "市场监管"),
    ("handler", "complaint_handler", "政务服务"),
    ("dataadmin", "data_admin", "大数据管理"),
    ("leader", "leader", "市场监管"),
)
# Department kinds created at every region for the demo (short names as in department-kinds.csv).
DEMO_KINDS = (
    "市场监管",
    "生态环境",
    "住建",
    "交通运输",
    "农业农村",
    "文旅",
    "卫健",
    "应急",
    "公安",
    "自然资源",
    "政务服务",
    "大数据",
    "发改",
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鑫斌宇浩凯健俊帆帅旭宁龙林欣悦雪琳晨曦瑞佳嘉怡婷"
)
TRADE = (
    "鑫盛",
    "华信",
    "金源",
    "恒通",
    "瑞丰",
    "永安",
    "宏达",
    "天成",
    "嘉禾",
    "新远",
    "博雅",
    "立信",
    "同创",
    "海纳",
    "众诚",
    "润泽",
    "福瑞",
    "聚贤",
    "卓越",
    "锦程",
    "九州",
    "东方",
    "苏宁",
    "金陵",
    "吴越",
    "运河",
    "太湖",
    "长江",
    "紫金",
    "秦淮",
    "钟山",
    "姑苏",
    "汇丰",
    "德顺",
    "安康",
    "乐活",
    "云帆",
    "星辰",
    "智联",
    "鼎盛",
)
TRADE_WORD = {
    "A": "农业发展",
    "B": "矿业",
    "C": "制造",
    "D": "能源",
    "E": "建设工程",
    "F": "贸易",
    "G": "物流",
    "H": "餐饮管理",
    "I": "信息技术",
    "J": "投资管理",
    "K": "置业",
    "L": "企业管理咨询",
    "M": "科技",
    "N": "环境工程",
    "O": "家政服务",
    "P": "教育咨询",
    "Q": "医疗管理",
    "R": "文化传媒",
    "S": "服务",
    "T": "服务",
}
SHOP_WORD = {"A": "种植场", "F": "便利店", "H": "小吃店", "O": "理发店", "S": "维修部"}
ROADS = (
    "中山路",
    "解放路",
    "人民路",
    "建设路",
    "长江路",
    "北京路",
    "上海路",
    "和平路",
    "新华路",
    "文化路",
    "学府路",
    "工业园路",
    "科技大道",
    "滨江大道",
    "太湖大道",
    "运河路",
    "青年路",
    "健康路",
    "光明路",
    "幸福路",
)
FIELDS_BY_KIND = {
    "市场监管": ["market", "food"],
    "生态环境": ["environment"],
    "住建": ["construction"],
    "交通运输": ["transport"],
    "农业农村": ["agriculture"],
    "文旅": ["culture"],
    "卫健": ["health"],
    "应急": ["safety"],
    "公安": ["public_security"],
    "自然资源": ["natural_resources"],
}

_ORG_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def org_code_check(first8: str) -> str:
    """GB 11714 check character of a 9-character organisation code."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(first8, weights, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


@dataclass
class DemoSummary:
    organizations: int
    users: int
    subjects: int
    officers: int
    seconds: float
    rate: float
    extra: dict[str, str]


DemoStep = Callable[[random.Random], str]
_extra_steps: list[tuple[str, DemoStep]] = []


def register_demo_step(name: str, step: DemoStep) -> None:
    """Called from an app's ``ready()``: ``step(rng)`` adds that app's demo data after the kernel's and returns a
    one-line summary. Steps run in registration order, each in its own transaction."""
    if all(existing != name for existing, _s in _extra_steps):
        _extra_steps.append((name, step))


def demo_loaded() -> bool:
    return User.objects.filter(username="js_sysadmin").exists()


def build(
    entities: int = 50_000,
    officers: int = 2_000,
    *,
    seed: int = 20190222,
    progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Build the whole demo in one go (each part in its own transaction)."""
    started = time.perf_counter()
    rng = random.Random(seed)
    with audit.audit_context(actor_name="system:demo"):
        orgs = build_organizations()
        users = build_users()
        t0 = time.perf_counter()
        n_subjects = build_subjects(entities, rng, progress=progress)
        rate = n_subjects / max(time.perf_counter() - t0, 1e-9)
        n_officers = build_officers(officers, rng)
        extra = {}
        for name, step in _extra_steps:
            with transaction.atomic():
                extra[name] = step(random.Random(f"{seed}:{name}"))
        audit.record_event(
            "core.demo.loaded",
            details={
                "organizations": orgs,
                "users": users,
                "subjects": n_subjects,
                "officers": n_officers,
                "seed": seed,
            },
        )
    return DemoSummary(orgs, users, n_subjects, n_officers, time.perf_counter() - started, rate, extra)


@transaction.atomic
def build_organizations() -> int:
    kinds = list(DepartmentKind.objects.filter(short_name__in=DEMO_KINDS))
    regions = list(Region.objects.filter(active=True).select_related("parent"))
    existing = set(Organization.objects.values_list("code", flat=True))
    now = timezone.now()
    new = []
    for region in regions:
        for kind in kinds:
            code = f"{region.code}{kind.code}"
            if code in existing:
                continue
            name = kind.province_name if region.level == "province" else f"{region.full_name}{kind.name}"
            new.append(Organization(code=code, name=name, kind=kind, region=region, created_at=now))
    Organization.objects.bulk_create(new, batch_size=1000)
    return len(new)


@transaction.atomic
def build_users() -> int:
    roles = {r.code: r for r in Role.objects.all()}
    kinds = {k.short_name: k for k in DepartmentKind.objects.all()}
    created = 0
    password_hash = make_password(DEMO_PASSWORD)  # hashed once: 56 PBKDF2 runs would dominate the demo build
    for prefix, region_code in DEMO_PLACES:
        region = Region.objects.get(code=region_code)
        for suffix, role_code, kind_short in ROLE_ACCOUNTS:
            username = f"{prefix}_{suffix}"
            if User.objects.filter(username=username).exists():
                continue
            kind = kinds.get(kind_short) or kinds["市场监管"]
            org = Organization.objects.get(region=region, kind=kind)
            user = User(
                username=username,
                full_name=f"{region.short_name}{roles[role_code].name}",
                region=region,
                organization=org,
                password_changed_at=timezone.now(),
            )
            user.password = password_hash
            user.save()
            user.roles.set([roles[role_code]])
            if roles[role_code].mfa_required:
                TOTPDevice.objects.create(user=user, name="demo", key=DEMO_TOTP_HEX, confirmed=True)
            created += 1
    return created


def demo_accounts() -> list[tuple[str, str, str, bool]]:
    """(username, role name, place, needs TOTP) for the README and the demo banner."""
    roles = {r.code: r for r in Role.objects.all()}
    places = {r.code: r.full_name for r in Region.objects.filter(code__in=[c for _p, c in DEMO_PLACES])}
    out = []
    for prefix, region_code in DEMO_PLACES:
        for suffix, role_code, _k in ROLE_ACCOUNTS:
            role = roles[role_code]
            out.append((f"{prefix}_{suffix}", role.name, places.get(region_code, region_code), role.mfa_required))
    return out


def _county_weights(counties: list[Region]) -> list[float]:
    # Districts of the big cities carry more entities than rural counties.
    big = {"3201": 2.0, "3205": 2.2, "3202": 1.6, "3204": 1.3}
    return [big.get(r.code[:4], 1.0) * (1.3 if r.kind == "district" else 1.0) for r in counties]


SUBJECT_COLUMNS = (
    "uscc",
    "name",
    "subject_type",
    "legal_representative",
    "address",
    "region_id",
    "industry_id",
    "registered_capital",
    "established_on",
    "status",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True)
class _SubjectContext:
    """Everything row generation reads from the database, loaded before the bulk write starts (no other query may
    run on a connection while PostgreSQL's COPY is open)."""

    counties: list[Region]
    weights: list[float]
    industries: list[tuple[str, str]]
    now: dt.datetime


def _subject_context() -> _SubjectContext:
    counties = list(Region.objects.filter(level="county", active=True).select_related("parent"))
    industries: list[tuple[str, str]] = [
        (code, section or "S")
        for code, section in IndustryCode.objects.filter(level="group").values_list("code", "parent__parent_id")
    ]
    if not industries:
        industries = [
            (code, section or "S")
            for code, section in IndustryCode.objects.filter(level="division").values_list("code", "parent_id")
        ]
    return _SubjectContext(counties, _county_weights(counties), industries, timezone.now())


def _subject_rows(
    count: int, start: int, rng: random.Random, ctx: _SubjectContext | None = None
) -> Iterator[tuple[Any, ...]]:
    ctx = ctx or _subject_context()
    counties, weights, industries, now = ctx.counties, ctx.weights, ctx.industries, ctx.now
    base_day = dt.date(1995, 1, 1).toordinal()
    span = dt.date(2026, 6, 30).toordinal() - base_day
    type_codes = (
        ("enterprise", "91", 0.60),
        ("individual", "92", 0.35),
        ("cooperative", "93", 0.03),
        ("other", "52", 0.02),
    )
    cumulative = []
    acc = 0.0
    for name, prefix, share in type_codes:
        acc += share
        cumulative.append((acc, name, prefix))
    county_choices = rng.choices(range(len(counties)), weights=weights, k=min(count, 200_000))
    statuses = ("active",) * 17 + ("revoked", "deregistered", "moved_out")
    for i in range(count):
        n = start + i
        county = counties[county_choices[i % len(county_choices)]]
        r = rng.random()
        _acc, stype, prefix = next(c for c in cumulative if r <= c[0])
        body = f"{(n * 7919 + 13) % 100_000_000:08d}"
        org_code = body + org_code_check(body)
        first17 = f"{prefix}{county.code}{org_code}"
        uscc = first17 + uscc_check_char(first17)
        industry, section = industries[int(rng.random() * len(industries))]
        city = county.parent.short_name if county.parent else ""
        trade = TRADE[int(rng.random() * len(TRADE))]
        if stype == "enterprise":
            form = "有限公司" if rng.random() < 0.8 else "有限责任公司"
            name = f"{city}{trade}{TRADE_WORD.get(section or 'S', '服务')}{form}"
        elif stype == "individual":
            surname = SURNAMES[int(rng.random() * len(SURNAMES))]
            name = f"{county.name}{surname}记{SHOP_WORD.get(section or 'S', '经营部')}"
        elif stype == "cooperative":
            name = f"{county.name}{trade}种植专业合作社"
        else:
            name = f"{city}{trade}行业协会"
        legal = SURNAMES[int(rng.random() * len(SURNAMES))] + GIVEN[int(rng.random() * len(GIVEN))]
        if rng.random() < 0.5:
            legal += GIVEN[int(rng.random() * len(GIVEN))]
        address = (
            f"江苏省{county.parent.name if county.parent else ''}{county.name}"
            f"{ROADS[int(rng.random() * len(ROADS))]}{int(rng.random() * 999) + 1}号"
        )
        capital = None if stype == "individual" else f"{(int(rng.random() * 500_000) + 10) / 10:.4f}"
        established = dt.date.fromordinal(base_day + int(rng.random() * span))
        status = statuses[int(rng.random() * len(statuses))]
        yield (uscc, name, stype, legal, address, county.code, industry, capital, established, status, now, now)


def build_subjects(count: int, rng: random.Random, *, progress: Callable[[int], None] | None = None) -> int:
    """Insert ``count`` entities through the bulk path in chunks, in one transaction."""
    start = Subject.objects.count() + 1
    table = Subject._meta.db_table
    chunk = 20_000
    done = 0
    rows = _subject_rows(count, start, rng, _subject_context())
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                columns = ", ".join(SUBJECT_COLUMNS)
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        done += 1
                        if progress and done % chunk == 0:
                            progress(chunk)
                if progress and done % chunk:
                    progress(done % chunk)
            else:
                placeholders = ", ".join(["%s"] * len(SUBJECT_COLUMNS))
                sql = f"INSERT INTO {table} ({', '.join(SUBJECT_COLUMNS)}) VALUES ({placeholders})"  # noqa: S608
                batch: list[tuple[Any, ...]] = []
                for row in rows:
                    batch.append(row)
                    if len(batch) >= chunk:
                        cursor.executemany(sql, batch)
                        done += len(batch)
                        if progress:
                            progress(len(batch))
                        batch = []
                if batch:
                    cursor.executemany(sql, batch)
                    done += len(batch)
                    if progress:
                        progress(len(batch))
    return done


@transaction.atomic
def build_officers(count: int, rng: random.Random) -> int:
    orgs = list(Organization.objects.filter(kind__short_name__in=list(FIELDS_BY_KIND)).select_related("kind"))
    if not orgs:
        return 0
    existing = EnforcementOfficer.objects.count()
    new = []
    for i in range(count):
        n = existing + i + 1
        org = orgs[int(rng.random() * len(orgs))]
        birth = dt.date(1965, 1, 1) + dt.timedelta(days=int(rng.random() * 365 * 33))
        first17 = f"{org.region_id}{birth:%Y%m%d}{n % 1000:03d}"
        id_number = first17 + id_check_char(first17)
        name = SURNAMES[int(rng.random() * len(SURNAMES))] + GIVEN[int(rng.random() * len(GIVEN))]
        if rng.random() < 0.6:
            name += GIVEN[int(rng.random() * len(GIVEN))]
        new.append(
            EnforcementOfficer(
                name=name,
                id_number=id_number,
                id_number_index=index_value(EnforcementOfficer, "id_number_index", id_number),
                certificate_no=f"32{org.kind_id}{n:08d}",
                organization=org,
                region_id=org.region_id,
                fields=FIELDS_BY_KIND.get(org.kind.short_name, ["other"]),
                phone=f"1{rng.choice('3589')}{int(rng.random() * 1e9):09d}",
                active=rng.random() > 0.05,
            )
        )
    EnforcementOfficer.objects.bulk_create(new, batch_size=1000)
    return len(new)


_ = USCC_CHARSET  # the org-code alphabet is the USCC alphabet


def demo_totp_secret() -> str:
    import base64

    return base64.b32encode(bytes.fromhex(DEMO_TOTP_HEX)).decode().rstrip("=")


def current_demo_totp() -> str:
    """The current code of the demo administrators' shared device (embedded demo only)."""
    from django_otp.oath import totp

    return f"{totp(bytes.fromhex(DEMO_TOTP_HEX)):06d}"
