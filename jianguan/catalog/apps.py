from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    """The supervision item catalogue (监管事项目录清单)."""

    name = "jianguan.catalog"
    label = "catalog"
    verbose_name = _("Supervision item catalogue")
