"""Write side of the kernel: every state change of organisations, users, roles, tokens and master records.

Each service owns its transaction, re-checks the actor's permission and scope after the write (rolling back when the
result would leave the actor's scope), and leaves its audit trail (automatic diffs plus explicit events).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import string
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from jianguan.core import audit, bulkload
from jianguan.core.access import check_in_scope
from jianguan.core.deferred import on_commit_once
from jianguan.core.errors import ConflictError, DomainError, ScopeViolation
from jianguan.core.fields import index_value
from jianguan.core.models import (
    ApiToken,
    DepartmentKind,
    EnforcementOfficer,
    Organization,
    Region,
    Role,
    Subject,
    User,
)
from jianguan.core.roles import ADMIN_ONLY_PERMISSIONS, ADMIN_ROLES, grantable_role_codes
from jianguan.core.scope import permission_name
from jianguan.lib import validators as v
from jianguan.lib.masking import mask_id_number, mask_phone

TOKEN_ACTIONS = ("view", "add", "change", "delete", "export")


def _require(actor: Any, perm: str) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied(perm)


def _recheck(actor: Any, obj: Any) -> None:
    if not check_in_scope(actor, obj):
        raise ScopeViolation("scope.violation", "操作结果超出您的数据范围，已撤销。")


def _check_target_in_scope(actor: Any, region: Region, organization: Organization | None) -> None:
    """The region/department a record is being placed in must lie inside the actor's scope."""
    prefix = actor.region.scope_prefix if actor.region_id else None
    if prefix is None or not region.code.startswith(prefix):
        raise ScopeViolation("scope.region", "所选地区超出您的数据范围。")
    if organization is not None:
        if not organization.region_id.startswith(prefix):
            raise ScopeViolation("scope.region", "所选部门超出您的数据范围。")
        from jianguan.core.scope import user_sees_all_departments

        if not user_sees_all_departments(actor) and organization.pk != actor.organization_id:
            raise ScopeViolation("scope.department", "只能在本部门内操作。")


# --- Organisations


def organization_name(region: Region, kind: DepartmentKind) -> str:
    if region.level == "province":
        return kind.province_name
    return f"{region.full_name}{kind.name}"


@transaction.atomic
def create_organization(
    *, actor: Any, region: Region, kind: DepartmentKind, name: str = "", uscc: str | None = None
) -> Organization:
    """Create a department at ``region``; its code is region code + kind code."""
    _require(actor, "core.add_organization")
    _check_target_in_scope(actor, region, None)
    if uscc:
        uscc = _validated(v.validate_uscc, uscc, "uscc")
    if Organization.objects.filter(region=region, kind=kind).exists():
        raise DomainError("organization.exists", f"{region.name}已有{kind.short_name}部门。")
    org: Organization = Organization.objects.create(
        code=f"{region.code}{kind.code}",
        name=name or organization_name(region, kind),
        kind=kind,
        region=region,
        uscc=uscc or None,
    )
    _recheck_org(actor, org)
    return org


def _recheck_org(actor: Any, org: Organization) -> None:
    prefix = actor.region.scope_prefix if actor.region_id else None
    if prefix is None or not org.region_id.startswith(prefix):
        raise ScopeViolation("scope.violation", "操作结果超出您的数据范围，已撤销。")


@transaction.atomic
def update_organization(org: Organization, *, actor: Any, name: str, uscc: str | None, active: bool) -> Organization:
    _require(actor, "core.change_organization")
    if uscc:
        uscc = _validated(v.validate_uscc, uscc, "uscc")
    org.name = name
    org.uscc = uscc or None
    org.active = active
    org.save()
    _recheck_org(actor, org)
    return org


# --- Users


def generate_password(length: int = 14) -> str:
    """A random password that satisfies the complexity policy."""
    alphabet = string.ascii_letters + string.digits + "!@#$%^&*-_"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if (
            any(c.islower() for c in candidate)
            and any(c.isupper() for c in candidate)
            and any(c.isdigit() for c in candidate)
            and any(c in "!@#$%^&*-_" for c in candidate)
        ):
            return candidate


def _check_role_assignment(actor: Any, target: User | None, before: set[Role], after: set[Role]) -> None:
    """Role changes follow the grant table (``roles.GRANTS``): nobody changes their own roles, each added or removed
    role must be one the actor may grant, and the three administrative duties stay on different accounts."""
    changed = before ^ after
    if not changed:
        return
    if target is not None and target.pk == actor.pk:
        raise DomainError("role.self", "不能修改自己的角色。", fields={"roles": ["不能修改自己的角色。"]})
    grantable = grantable_role_codes(actor)
    for role in changed:
        if role.code not in grantable:
            raise DomainError(
                "role.forbidden", f"您无权授予或撤销“{role.name}”角色。", fields={"roles": [f"无权授予“{role.name}”。"]}
            )
    if len({r.code for r in after} & set(ADMIN_ROLES)) > 1:
        raise DomainError(
            "role.duties_combined",
            "系统管理员、安全管理员、审计管理员须由不同账号担任。",
            fields={"roles": ["三员角色不能兼任。"]},
        )


def _check_may_manage(actor: Any, target: User) -> None:
    """An account may be changed, reset or disabled only by someone who could grant every role it holds."""
    if target.pk == actor.pk:
        return
    grantable = grantable_role_codes(actor)
    for role in target.roles.all():
        if role.code not in grantable:
            raise DomainError("user.forbidden", f"您无权管理担任“{role.name}”角色的账号。")


def _validated(check: Any, value: str, field: str) -> str:
    try:
        result: str = check(value)
    except v.ValidationFailure as exc:
        raise DomainError(exc.code, exc.message, fields={field: [exc.message]}) from None
    return result


@transaction.atomic
def create_user(
    *,
    actor: Any,
    username: str,
    full_name: str,
    region: Region,
    organization: Organization,
    roles: Iterable[Role] = (),
    phone: str = "",
    password: str | None = None,
    is_machine: bool = False,
) -> tuple[User, str]:
    """Create an account at a department; returns the user and the initial password (to be changed at first login)."""
    _require(actor, "core.add_user")
    roles = list(roles)
    _check_target_in_scope(actor, region, organization)
    _check_role_assignment(actor, None, set(), set(roles))
    if organization.region_id != region.code:
        raise DomainError(
            "user.region_mismatch",
            "用户所属地区必须与所属部门的地区一致。",
            fields={"organization": ["部门不属于所选地区。"]},
        )
    if User.objects.filter(username=username).exists():
        raise DomainError("user.exists", f"用户名“{username}”已被使用。", fields={"username": ["用户名已被使用。"]})
    if phone:
        phone = _validated(v.validate_mobile, phone, "phone")
    user = User(
        username=username,
        full_name=full_name,
        region=region,
        organization=organization,
        phone=phone,
        is_machine=is_machine,
    )
    initial = password or generate_password()
    if password:
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise DomainError(
                "user.weak_password", "；".join(exc.messages), fields={"password": exc.messages}
            ) from None
    user.set_password(initial)
    user.password_changed_at = None  # must change at first login
    user.save()
    if roles:
        user.roles.set(roles)
    _recheck(actor, user)
    return user, initial


@transaction.atomic
def update_user(
    user: User,
    *,
    actor: Any,
    full_name: str,
    organization: Organization,
    roles: Iterable[Role],
    phone: str | None,
    is_active: bool,
) -> User:
    """Change an account's name, department, roles, phone (``None`` keeps the stored one) and active flag."""
    _require(actor, "core.change_user")
    roles = list(roles)
    _check_may_manage(actor, user)
    _check_target_in_scope(actor, organization.region, organization)
    _check_role_assignment(actor, user, set(user.roles.all()), set(roles))
    if user.pk == actor.pk and (not is_active or organization.pk != user.organization_id):
        raise DomainError("user.self_change", "不能停用自己的账号或更改自己的所属部门。")
    user.full_name = full_name
    user.organization = organization
    user.region = organization.region
    if phone is not None:
        user.phone = _validated(v.validate_mobile, phone, "phone") if phone else ""
    user.is_active = is_active
    user.save()
    user.roles.set(roles)
    _recheck(actor, user)
    return user


@transaction.atomic
def reset_password(user: User, *, actor: Any) -> str:
    """Set a one-time password, unlock the account, and force a change at next login."""
    _require(actor, "core.reset_password_user")
    _recheck(actor, user)
    _check_may_manage(actor, user)
    if user.pk == actor.pk:
        raise DomainError("user.self_reset", "请通过“修改密码”更改自己的密码。")
    temporary = generate_password()
    user.set_password(temporary)
    user.password_changed_at = None
    user.failed_login_count = 0
    user.locked_until = None
    user.save()
    audit.record_event("core.user.password_reset", target=user)
    return temporary


@transaction.atomic
def change_own_password(user: User, *, old_password: str, new_password: str) -> None:
    if not user.check_password(old_password):
        raise DomainError("password.wrong", "原密码不正确。", fields={"old_password": ["原密码不正确。"]})
    if old_password == new_password:
        raise DomainError(
            "password.same", "新密码不能与原密码相同。", fields={"new_password": ["新密码不能与原密码相同。"]}
        )
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise DomainError("password.weak", "；".join(exc.messages), fields={"new_password": exc.messages}) from None
    user.set_password(new_password)
    user.password_changed_at = timezone.now()
    user.save()
    audit.record_event("core.user.password_changed", target=user)


def register_login_failure(user: User) -> bool:
    """Count a failed password; lock the account after LOGIN_MAX_FAILURES. Returns True when now locked."""
    with transaction.atomic():
        fresh = User.objects.select_for_update().get(pk=user.pk)
        fresh.failed_login_count += 1
        locked = fresh.failed_login_count >= settings.LOGIN_MAX_FAILURES
        if locked:
            fresh.locked_until = timezone.now() + dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
            fresh.failed_login_count = 0
        fresh.save(update_fields=["failed_login_count", "locked_until"])
        if locked:
            audit.record_event(
                "core.user.locked", target=fresh, success=False, details={"minutes": settings.LOGIN_LOCKOUT_MINUTES}
            )
    return locked


def is_locked(user: User, now: dt.datetime | None = None) -> bool:
    return user.locked_until is not None and user.locked_until > (now or timezone.now())


def register_login_success(user: User) -> None:
    if user.failed_login_count or user.locked_until:
        User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)
        forget_cached_tokens()


# --- Roles


@transaction.atomic
def update_role(role: Role, *, actor: Any, permissions: Iterable[Permission], all_departments: bool) -> Role:
    """Change what a role may do (security administrator only). The three administrative roles are fixed, a role
    its editor holds cannot be edited, and administrative permissions never go to another role."""
    _require(actor, "core.manage_role")
    if role.code in ADMIN_ROLES:
        raise DomainError("role.fixed", f"“{role.name}”是三员角色，其权限不可修改。")
    if actor.roles.filter(pk=role.pk).exists():
        raise DomainError("role.own", "不能修改自己所担任角色的权限。")
    permissions = list(permissions)
    names = {f"{p.content_type.app_label}.{p.codename}" for p in permissions}
    forbidden = sorted(names & ADMIN_ONLY_PERMISSIONS)
    if forbidden:
        raise DomainError(
            "role.admin_permission",
            "三员专属权限不能授予其他角色：" + "、".join(forbidden),
            fields={"permissions": forbidden},
        )
    role.all_departments = all_departments
    role.save()
    role.permissions.set(permissions)
    return role


# --- API tokens


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def issue_token(
    *, actor: Any, user: User, name: str, scopes: Iterable[str], days: int, actor_scopes: Iterable[str] | None = None
) -> tuple[ApiToken, str]:
    """Issue a token for the machine account ``user`` limited to ``scopes``; the secret is shown once and only its
    hash is kept. A caller that is itself token-authenticated cannot hand out wider scopes than its own."""
    _require(actor, "core.add_apitoken")
    _recheck(actor, user)
    if not user.is_machine:
        raise DomainError(
            "token.human_account", "接口令牌只能发给机器账号（接口调用方）。", fields={"user": ["请选择机器账号。"]}
        )
    scopes = sorted(set(scopes))
    if actor_scopes is not None and not set(scopes) <= set(actor_scopes):
        raise DomainError(
            "token.scope_escalation", "新令牌的权限范围不能超过当前令牌。", fields={"scopes": ["超出当前令牌范围。"]}
        )
    unknown = [s for s in scopes if s not in TOKEN_ACTIONS]
    if unknown or not scopes:
        raise DomainError(
            "token.scopes", "令牌权限范围无效。", fields={"scopes": ["请选择 view/add/change/delete/export。"]}
        )
    if not 1 <= days <= 366:
        raise DomainError(
            "token.days", "有效期必须在 1 到 366 天之间。", fields={"days": ["有效期必须在 1 到 366 天之间。"]}
        )
    prefix = secrets.token_hex(4)
    secret = f"jg_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        name=name,
        user=user,
        prefix=prefix,
        secret_hash=_hash_secret(secret),
        scopes=scopes,
        expires_at=timezone.now() + dt.timedelta(days=days),
        created_by=actor,
    )
    audit.record_event(
        "core.api_token.issued", target=token, details={"user": user.username, "scopes": scopes, "days": days}
    )
    return token, secret


@transaction.atomic
def revoke_token(token: ApiToken, *, actor: Any) -> ApiToken:
    _require(actor, "core.change_apitoken")
    if token.revoked_at is None:
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        forget_cached_tokens()
        token.refresh_from_db()
        audit.record_event("core.api_token.revoked", target=token)
    return token


#: secret hash → (monotonic expiry, token with its user): a token call costs no query while its entry is fresh.
_token_cache: dict[str, tuple[float, ApiToken]] = {}
_TOKEN_CACHE_MAX = 10_000
#: bumped by every forget: a look-up that read the database before a change is not stored after it
_token_generation = 0


def forget_cached_tokens() -> None:
    """Drop this process's cached token look-ups (called when a token, an account or a role changes), now and
    again at the commit, so that no look-up made before the commit outlives the change."""
    global _token_generation
    _token_generation += 1
    _token_cache.clear()
    on_commit_once(_forget_at_commit)


def _forget_at_commit() -> None:
    global _token_generation
    _token_generation += 1
    _token_cache.clear()


def authenticate_token(secret: str) -> ApiToken | None:
    """The usable token with this secret, or None (wrong, expired, revoked, or account disabled).

    A successful look-up, with the account and (once asked) its permissions, is kept for
    ``API_TOKEN_CACHE_SECONDS``: changes made in this process take effect at once, changes made by another process
    within that time. Expiry and the account's lock are re-checked on every call.
    """
    parts = secret.split("_")
    if len(parts) < 3 or parts[0] != "jg":
        return None
    digest = _hash_secret(secret)
    ttl = float(settings.API_TOKEN_CACHE_SECONDS)
    cached = _token_cache.get(digest) if ttl > 0 else None
    if cached is not None and cached[0] > time.monotonic():
        hit = cached[1]
        return hit if hit.is_usable() and not is_locked(hit.user) else None
    generation = _token_generation
    token: ApiToken | None = ApiToken.objects.select_related("user", "user__region").filter(prefix=parts[1]).first()
    if token is None or not secrets.compare_digest(token.secret_hash, digest):
        return None
    if not token.is_usable() or is_locked(token.user):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    if ttl > 0 and generation == _token_generation:
        if len(_token_cache) >= _TOKEN_CACHE_MAX:
            _token_cache.clear()
        _token_cache[digest] = (time.monotonic() + ttl, token)
    return token


# --- Master records


def _clean_subject_fields(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    if data.get("uscc"):
        try:
            data["uscc"] = v.validate_uscc(data["uscc"])
        except v.ValidationFailure as exc:
            errors["uscc"] = [exc.message]
    if errors:
        raise DomainError("validation", "；".join(m for ms in errors.values() for m in ms), fields=errors)
    return data


@transaction.atomic
def create_subject(*, actor: Any, **data: Any) -> Subject:
    """Register a supervised entity (normally filled by the data centre through this service)."""
    _require(actor, permission_name(Subject, "add"))
    data = _clean_subject_fields(data)
    _check_target_in_scope(actor, data["region"], None)
    if data.get("uscc") and Subject.objects.filter(uscc=data["uscc"]).exists():
        raise DomainError(
            "subject.exists", "该统一社会信用代码已登记。", fields={"uscc": ["该统一社会信用代码已登记。"]}
        )
    subject: Subject = Subject.objects.create(**data)
    _recheck(actor, subject)
    return subject


@transaction.atomic
def update_subject(subject: Subject, *, actor: Any, **data: Any) -> Subject:
    _require(actor, permission_name(Subject, "change"))
    data = _clean_subject_fields(data)
    if data.get("uscc") and Subject.objects.filter(uscc=data["uscc"]).exclude(pk=subject.pk).exists():
        raise DomainError(
            "subject.exists", "该统一社会信用代码已登记。", fields={"uscc": ["该统一社会信用代码已登记。"]}
        )
    for key, value in data.items():
        setattr(subject, key, value)
    subject.save()
    _recheck(actor, subject)
    return subject


# --- Master records in bulk (the data centre's integrate step)

#: Columns of a bulk insert into ``core_subject``, in COPY order (``region``/``industry`` are the codes).
SUBJECT_BULK_FIELDS = (
    "uscc", "name", "subject_type", "legal_representative", "address", "region", "industry",
    "registered_capital", "established_on", "status",
)


def reserve_subject_ids(count: int) -> list[int]:
    """``count`` new master-record ids, taken in the caller's transaction (so lineage can name them before the rows
    are written); see :func:`jianguan.core.bulkload.reserve_ids`."""
    return bulkload.reserve_ids(Subject._meta.db_table, count)


@contextmanager
def bulk_loading_subjects(new_rows: int) -> Iterator[bulkload.Rebuild]:
    """Around one bulk load of master records, inside the caller's transaction: when ``new_rows`` is at least as
    many as the table holds (an initial or province-wide load), its secondary indexes and foreign keys are taken
    off and rebuilt at the end (see :mod:`jianguan.core.bulkload`); otherwise everything stays in place."""
    with bulkload.rebuilding_indexes(Subject._meta.db_table, new_rows) as rebuild:
        yield rebuild


#: optional columns of :func:`bulk_insert_subjects`: the phone's match key, and where a record created from one
#: source row came from (``Subject.origin_*``: batch and row as integers, the steps as text)
SUBJECT_BULK_EXTRAS = ("phone_index", "origin_batch", "origin_row", "origin_steps")


def bulk_insert_subjects(rows: Any, *, now: dt.datetime) -> int:
    """Insert new master records through the bulk path (COPY on PostgreSQL) in the caller's transaction.

    ``rows`` is an Arrow table with ``id`` (from :func:`reserve_subject_ids`) and :data:`SUBJECT_BULK_FIELDS` as
    text (and any of :data:`SUBJECT_BULK_EXTRAS`), already standardised and verified by the caller (the data
    centre's verify step); the database still
    enforces the unique credit code and the region and industry references. Rows ordered by credit code keep the
    unique index's writes sequential. Bulk writes record no per-row audit diffs (ADR 0003): the caller records one
    event for the batch.
    """
    import pyarrow as pa

    if rows.num_rows == 0:
        return 0
    stamp = bulkload.repeat_timestamp(now, rows.num_rows)
    fields = [*SUBJECT_BULK_FIELDS, *(f for f in SUBJECT_BULK_EXTRAS if f in rows.column_names)]
    columns = {"id": rows.column("id"), **{_subject_column(f): rows.column(f) for f in fields},
               "created_at": stamp, "updated_at": stamp}
    table = pa.table(columns)
    return bulkload.copy_rows(Subject._meta.db_table, tuple(table.column_names), table)


def bulk_update_subjects(rows: Any, *, now: dt.datetime) -> int:
    """Set new values on existing master records through the bulk path: on PostgreSQL the rows are COPYed into a
    temporary table and applied with one ``UPDATE … FROM``. ``rows`` is an Arrow table with ``id`` and the
    :data:`SUBJECT_BULK_FIELDS` other than ``uscc`` (the key never changes here), as text."""
    import pyarrow as pa

    if rows.num_rows == 0:
        return 0
    fields = [f for f in SUBJECT_BULK_FIELDS if f != "uscc"]
    fields += ["phone_index"] if "phone_index" in rows.column_names else []
    columns = [_subject_column(f) for f in fields]
    table = Subject._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE TEMP TABLE core_subject_updates (id bigint, "
                           + ", ".join(f"{c} text" for c in columns) + ") ON COMMIT DROP")
            staged = pa.table({"id": rows.column("id"), **{c: rows.column(f) for c, f in zip(columns, fields,
                                                                                                 strict=True)}})
            bulkload.copy_rows("core_subject_updates", ("id", *columns), staged)
            casts = {"registered_capital": "::numeric", "established_on": "::date"}
            assignments = ", ".join(f"{c} = u.{c}{casts.get(c, '')}" for c in columns)
            cursor.execute(
                f"UPDATE {table} s SET {assignments}, updated_at = %s FROM core_subject_updates u "  # noqa: S608
                "WHERE s.id = u.id", [now],
            )
            cursor.execute("DROP TABLE core_subject_updates")
        else:
            sql = (f"UPDATE {table} SET " + ", ".join(f"{c} = %s" for c in columns)  # noqa: S608
                   + ", updated_at = %s WHERE id = %s")
            stamp = bulkload.sqlite_datetime(now)
            cursor.executemany(sql, [(*(r[f] for f in fields), stamp, r["id"]) for r in rows.to_pylist()])
    return int(rows.num_rows)


def set_subject_codes(rows: Any, *, now: dt.datetime) -> int:
    """Give master records without a credit code the code the data centre matched them to (``rows``: an Arrow
    table of ``id`` and ``uscc``). A record that has a code meanwhile keeps it; the unique index refuses a code
    another record holds. Returns how many records took their code."""
    if rows.num_rows == 0:
        return 0
    table = Subject._meta.db_table
    pairs = [(r["uscc"], now, r["id"]) for r in rows.to_pylist()]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET uscc = %s, updated_at = %s WHERE id = %s AND uscc IS NULL",  # noqa: S608
                           pairs)
        changed = int(cursor.rowcount)
    if changed != len(pairs):  # another batch gave one of them a code meanwhile: this batch's plan is stale
        raise ConflictError("subject.code_taken", "处理期间有主体已取得信用代码，请重新处理该批次。")
    return changed


def _subject_column(field: str) -> str:
    return {"region": "region_id", "industry": "industry_id"}.get(field, field)


def _clean_officer_fields(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    for name, check in (("id_number", v.validate_id_number), ("phone", v.validate_mobile)):
        if data.get(name):
            try:
                data[name] = check(data[name])
            except v.ValidationFailure as exc:
                errors[name] = [exc.message]
    if errors:
        raise DomainError("validation", "；".join(m for ms in errors.values() for m in ms), fields=errors)
    return data


@transaction.atomic
def create_officer(*, actor: Any, **data: Any) -> EnforcementOfficer:
    """Register a law-enforcement officer; the ID number is stored encrypted with a blind index."""
    _require(actor, permission_name(EnforcementOfficer, "add"))
    data = _clean_officer_fields(data)
    organization: Organization = data["organization"]
    data["region"] = organization.region
    _check_target_in_scope(actor, organization.region, organization)
    index = index_value(EnforcementOfficer, "id_number_index", data["id_number"])
    if EnforcementOfficer.objects.filter(id_number_index=index).exists():
        raise DomainError("officer.exists", "该身份证号码的执法人员已登记。", fields={"id_number": ["已登记。"]})
    if EnforcementOfficer.objects.filter(certificate_no=data.get("certificate_no")).exists():
        raise DomainError(
            "officer.certificate_exists", "该执法证号已登记。", fields={"certificate_no": ["该执法证号已登记。"]}
        )
    officer = EnforcementOfficer(id_number_index=index, **data)
    officer.save()
    _recheck(actor, officer)
    return officer


@transaction.atomic
def update_officer(officer: EnforcementOfficer, *, actor: Any, **data: Any) -> EnforcementOfficer:
    _require(actor, permission_name(EnforcementOfficer, "change"))
    data = _clean_officer_fields(data)
    if "organization" in data:
        data["region"] = data["organization"].region
        _check_target_in_scope(actor, data["region"], data["organization"])
    if "id_number" in data:
        data["id_number_index"] = index_value(EnforcementOfficer, "id_number_index", data["id_number"])
        if EnforcementOfficer.objects.filter(id_number_index=data["id_number_index"]).exclude(pk=officer.pk).exists():
            raise DomainError("officer.exists", "该身份证号码的执法人员已登记。", fields={"id_number": ["已登记。"]})
    if data.get("certificate_no") and (
        EnforcementOfficer.objects.filter(certificate_no=data["certificate_no"]).exclude(pk=officer.pk).exists()
    ):
        raise DomainError(
            "officer.certificate_exists", "该执法证号已登记。", fields={"certificate_no": ["该执法证号已登记。"]}
        )
    for key, value in data.items():
        setattr(officer, key, value)
    officer.save()
    _recheck(actor, officer)
    return officer


def officer_masked(officer: EnforcementOfficer) -> dict[str, str]:
    return {"id_number": mask_id_number(officer.id_number), "phone": mask_phone(officer.phone)}


@transaction.atomic
def unmask_officer(officer: EnforcementOfficer, *, actor: Any, reason: str) -> dict[str, str]:
    """Reveal an officer's personal data: needs the unmask permission and a reason, and is audited as a read."""
    _require(actor, permission_name(EnforcementOfficer, "unmask"))
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise DomainError("unmask.reason_required", "查看明文必须填写事由。", fields={"reason": ["请填写查看事由。"]})
    audit.record_read("core.enforcement_officer.unmasked", target=officer, fields=["id_number", "phone"], reason=reason)
    return {"id_number": officer.id_number, "phone": officer.phone}
