"""Roles of the complaints module and the permissions the built-in roles get (registered from ``ready()``)."""

from __future__ import annotations

from jianguan.core.roles import RoleDefinition, register_role, register_role_permissions

REFERENCE = ("core.view_region", "core.view_organization")
VIEW = "complaints.view_complaint"


def register() -> None:
    register_role(RoleDefinition(
        "hotline_dispatcher", "12345派单员",
        "12345 热线中心：登记受理、分类、并单、派单改派、办结、回访评价；可查看举报人信息（须说明事由）",
        (*REFERENCE, "core.view_subject", VIEW, "complaints.add_complaint", "complaints.dispatch_complaint",
         "complaints.unmask_complaint", "complaints.export_complaint"),
        all_departments=True,
    ))
    register_role(RoleDefinition(
        "complaint_supervisor", "督办员",
        "督办工单、审批延期、查看统计（看不到举报人身份）",
        (*REFERENCE, "core.view_subject", VIEW, "complaints.supervise_complaint", "complaints.export_complaint"),
        all_departments=True,
    ))
    register_role(RoleDefinition(
        "complaint_admin", "投诉举报业务管理员",
        "维护分类、派单目录，训练分类模型",
        (*REFERENCE, VIEW, "complaints.manage_complaint"),
        all_departments=True,
    ))
    register_role_permissions("complaint_handler", (VIEW, "complaints.handle_complaint",
                                                    "complaints.unmask_complaint"))
    register_role_permissions("leader", (VIEW,))
    register_role_permissions("api_client", (VIEW, "complaints.add_complaint"))
