from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Kernel app: who and where, identity, data scope, audit, events, jobs."""

    name = "jianguan.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from jianguan.core import signals  # noqa: F401 - connects audit capture and login audit

        signals.connect()
        from django.db.models.signals import post_migrate

        from jianguan.core import reference
        from jianguan.core.roles import sync_builtin_roles

        post_migrate.connect(sync_builtin_roles, dispatch_uid="jianguan_sync_roles")
        post_migrate.connect(reference.ensure_loaded, sender=self, dispatch_uid="jianguan_reference_data")

        from jianguan.core import job_kinds

        job_kinds.register()
        try:
            from jianguan.core import navigation_entries
        except ImportError:  # pages not installed
            return
        navigation_entries.register()
