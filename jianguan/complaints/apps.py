from __future__ import annotations

from typing import Any, cast

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def label(text: Any) -> str:
    """Navigation labels stay lazy (translated per request); the registry's field is typed ``str``."""
    return cast(str, text)


class ComplaintsConfig(AppConfig):
    """Complaints and reports (投诉举报) on the 12345 model."""

    name = "jianguan.complaints"
    label = "complaints"
    verbose_name = _("Complaints and reports")

    def ready(self) -> None:
        from jianguan.complaints import job_kinds, params, roles

        params.register()
        roles.register()
        job_kinds.register()

        from jianguan.core.demo import register_demo_step
        from jianguan.core.navigation import PUBLIC, Module, register_module

        register_module(Module("complaints", label(_("Complaints and reports")), "complaints:complaint_list",
                               "complaints.view_complaint", group="business", order=30))
        register_module(Module("complaint_stats", label(_("Complaint statistics")), "complaints:stats",
                               "complaints.view_complaint", group="business", order=31))
        register_module(Module("complaint_catalogue", label(_("Dispatch catalogue")), "complaints:catalogue",
                               "complaints.manage_complaint,complaints.dispatch_complaint", group="admin", order=60))
        register_module(Module("portal_complaint", label(_("Submit a complaint or report")), "complaints_portal:submit",
                               PUBLIC, group="portal", order=10))
        register_module(Module("portal_track", label(_("Track my ticket")), "complaints_portal:track", PUBLIC,
                               group="portal", order=11))

        from django.db.models.signals import post_migrate

        from jianguan.complaints.reference import ensure_loaded

        post_migrate.connect(ensure_loaded, sender=self, dispatch_uid="jianguan_complaints_reference")

        from jianguan.complaints.demo import build_demo

        register_demo_step("complaints", build_demo)

        from jianguan.complaints.rotation import rehash_tracking_codes
        from jianguan.core.keyring import register_rotation

        register_rotation("complaints.tracking_codes", rehash_tracking_codes)
