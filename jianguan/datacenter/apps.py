from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DatacenterConfig(AppConfig):
    """The regulatory data centre (监管数据中心)."""

    name = "jianguan.datacenter"
    label = "datacenter"
    verbose_name = _("Regulatory data centre")
