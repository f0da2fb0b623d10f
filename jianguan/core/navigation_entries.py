"""The kernel's entries in the navigation (called from ``CoreConfig.ready()``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from jianguan.core.navigation import Module, register_module


def register() -> None:
    register_module(Module("subjects", _("Supervised entities"), "core:subject_list", "core.view_subject",
                           group="business", order=10))
    register_module(Module("officers", _("Enforcement officers"), "core:officer_list",
                           "core.view_enforcementofficer", group="business", order=20))
    register_module(Module("jobs", _("Background jobs"), "core:job_list", "core.view_job", group="business",
                           order=90))
