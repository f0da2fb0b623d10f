"""The data centre's entry in the navigation (called from ``DatacenterConfig.ready()``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from jianguan.core.navigation import Module, register_module


def register() -> None:
    register_module(Module("datacenter", _("Data centre"), "datacenter:home",
                           "datacenter.view_batch,datacenter.view_source", group="business", order=30))
