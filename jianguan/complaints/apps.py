from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    """Complaints and reports (投诉举报) on the 12345 model."""

    name = "jianguan.complaints"
    label = "complaints"
    verbose_name = _("Complaints and reports")
