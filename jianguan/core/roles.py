"""Built-in roles (角色) and the permissions they carry. The three administrative duties are kept apart:
the system administrator manages accounts, the security administrator manages roles and tokens, the audit
administrator reads the audit log; none of them holds another's permissions."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Permission
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class RoleDefinition:
    code: str
    name: str
    description: str
    permissions: tuple[str, ...]
    all_departments: bool = False
    mfa_required: bool = False


REFERENCE = ("core.view_region", "core.view_organization")
ADMIN_ROLES = ("system_admin", "security_admin", "audit_admin")
BUSINESS_ROLES = ("dept_admin", "inspector", "complaint_handler", "data_admin", "leader", "api_client")
# Permissions that belong to the three administrative duties and may never be added to another role.
ADMIN_ONLY_PERMISSIONS = frozenset(
    {
        "core.manage_role",
        "core.change_role",
        "core.view_auditentry",
        "core.add_apitoken",
        "core.change_apitoken",
        "core.add_parametervalue",
    }
)

# Which roles each role's holders may grant or revoke, and so whose accounts they may manage. The security
# administrator authorises; the system administrator runs ordinary accounts; a department administrator staffs
# its own department. Nobody changes their own roles.
GRANTS: dict[str, tuple[str, ...]] = {
    "security_admin": (*ADMIN_ROLES, *BUSINESS_ROLES),
    "system_admin": BUSINESS_ROLES,
    "dept_admin": ("inspector", "complaint_handler"),
}

BUILTIN_ROLES: tuple[RoleDefinition, ...] = (
    RoleDefinition(
        "system_admin",
        "系统管理员",
        "管理部门与用户账号（三员之一）",
        (
            *REFERENCE,
            "core.add_organization",
            "core.change_organization",
            "core.view_user",
            "core.add_user",
            "core.change_user",
            "core.reset_password_user",
            "core.view_role",
            "core.view_job",
        ),
        all_departments=True,
        mfa_required=True,
    ),
    RoleDefinition(
        "security_admin",
        "安全管理员",
        "管理角色权限、数据范围与接口令牌（三员之一）",
        (
            *REFERENCE,
            "core.view_role",
            "core.change_role",
            "core.manage_role",
            "core.change_user",
            "core.view_user",
            "core.view_apitoken",
            "core.add_apitoken",
            "core.change_apitoken",
        ),
        all_departments=True,
        mfa_required=True,
    ),
    RoleDefinition(
        "audit_admin",
        "审计管理员",
        "查阅与核验审计日志（三员之一）",
        (*REFERENCE, "core.view_auditentry", "core.view_user", "core.view_job"),
        all_departments=True,
        mfa_required=True,
    ),
    RoleDefinition(
        "dept_admin",
        "部门管理员",
        "管理本部门用户",
        (
            *REFERENCE,
            "core.view_user",
            "core.add_user",
            "core.change_user",
            "core.reset_password_user",
            "core.view_role",
            "core.view_job",
        ),
    ),
    RoleDefinition(
        "inspector",
        "监管/执法人员",
        "开展检查执法，查看监管对象与本部门执法人员",
        (*REFERENCE, "core.view_subject", "core.view_enforcementofficer", "core.view_job", "core.add_job"),
    ),
    RoleDefinition(
        "complaint_handler",
        "投诉举报处理员",
        "受理、办理投诉举报",
        (*REFERENCE, "core.view_subject", "core.view_job"),
    ),
    RoleDefinition(
        "data_admin",
        "数据管理员",
        "维护监管对象与执法人员等主数据，导出数据",
        (
            *REFERENCE,
            "core.view_subject",
            "core.add_subject",
            "core.change_subject",
            "core.export_subject",
            "core.view_enforcementofficer",
            "core.add_enforcementofficer",
            "core.change_enforcementofficer",
            "core.unmask_enforcementofficer",
            "core.view_job",
            "core.add_job",
        ),
        all_departments=True,
    ),
    RoleDefinition(
        "leader",
        "领导（查看）",
        "查看本地区各部门数据与统计",
        (*REFERENCE, "core.view_subject", "core.view_enforcementofficer", "core.view_user", "core.view_job"),
        all_departments=True,
    ),
    RoleDefinition(
        "api_client",
        "接口调用方",
        "其他部门系统通过令牌调用接口",
        (*REFERENCE, "core.view_subject"),
    ),
)

ROLE_LABELS_EN = {
    "system_admin": _("System administrator"),
    "security_admin": _("Security administrator"),
    "audit_admin": _("Audit administrator"),
    "dept_admin": _("Department administrator"),
    "inspector": _("Inspector"),
    "complaint_handler": _("Complaint handler"),
    "data_admin": _("Data administrator"),
    "leader": _("Leader (read only)"),
    "api_client": _("API client"),
}


def _permissions(names: tuple[str, ...]) -> list[Permission]:
    wanted = {tuple(n.split(".", 1)) for n in names}
    found = Permission.objects.filter(content_type__app_label__in={a for a, _c in wanted}).select_related(
        "content_type"
    )
    return [p for p in found if (p.content_type.app_label, p.codename) in wanted]


def sync_builtin_roles(**kwargs: object) -> None:
    """Create or refresh the built-in roles; permissions that do not exist yet are picked up on a later run."""
    from jianguan.core.models import Role

    for definition in all_role_definitions():
        role, _created = Role.objects.update_or_create(
            code=definition.code,
            defaults={
                "name": definition.name,
                "description": definition.description,
                "all_departments": definition.all_departments,
                "mfa_required": definition.mfa_required,
                "builtin": True,
            },
        )
        role.permissions.add(*_permissions((*definition.permissions, *_extra_permissions.get(definition.code, ()))))


_extra_roles: list[RoleDefinition] = []
_extra_permissions: dict[str, list[str]] = {}


def register_role(definition: RoleDefinition, *, business: bool = True) -> None:
    """Called from an app's ``ready()``: add a role of that app. Business roles are granted by the system and
    security administrators, like the built-in ones."""
    if all(r.code != definition.code for r in _extra_roles):
        _extra_roles.append(definition)
    if business:
        for granter in ("security_admin", "system_admin"):
            if definition.code not in GRANTS[granter]:
                GRANTS[granter] = (*GRANTS[granter], definition.code)


def register_role_permissions(role_code: str, permissions: tuple[str, ...]) -> None:
    """Called from an app's ``ready()``: give a built-in role permissions on that app's models (never one of
    ``ADMIN_ONLY_PERMISSIONS`` to a non-administrative role)."""
    if role_code not in ADMIN_ROLES and set(permissions) & ADMIN_ONLY_PERMISSIONS:
        raise ValueError(f"administrative permissions cannot go to {role_code}")
    _extra_permissions.setdefault(role_code, []).extend(
        p for p in permissions if p not in _extra_permissions.get(role_code, [])
    )


def all_role_definitions() -> list[RoleDefinition]:
    return [*BUILTIN_ROLES, *_extra_roles]


def grantable_role_codes(user: object) -> set[str]:
    """Role codes ``user`` may grant or revoke (and whose holders' accounts they may manage)."""
    held = set(user.roles.values_list("code", flat=True))  # type: ignore[attr-defined]
    codes: set[str] = set()
    for code in held:
        codes.update(GRANTS.get(code, ()))
    return codes
