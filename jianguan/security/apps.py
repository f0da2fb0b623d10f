from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    """Administration UI over the kernel's identity, scope and audit models."""

    name = "jianguan.security"
    label = "security"
    verbose_name = _("Security administration")

    def ready(self) -> None:
        from jianguan.security import navigation_entries

        navigation_entries.register()
