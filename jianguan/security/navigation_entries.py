"""The security administration entries in the navigation (called from ``SecurityConfig.ready()``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from jianguan.core.navigation import Module, register_module


def register() -> None:
    register_module(Module("organizations", _("Departments"), "security:organization_list",
                           "core.add_organization,core.change_organization", group="admin", order=200))
    register_module(Module("users", _("User accounts"), "security:user_list", "core.view_user", group="admin",
                           order=210))
    register_module(Module("roles", _("Roles and permissions"), "security:role_list", "core.view_role",
                           group="admin", order=220))
    register_module(Module("tokens", _("API tokens"), "security:token_list", "core.view_apitoken", group="admin",
                           order=230))
    register_module(Module("audit", _("Audit log"), "security:audit_list", "core.view_auditentry", group="admin",
                           order=240))
