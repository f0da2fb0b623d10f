"""The catalogue's entries in the staff navigation and the public portal (called from ``CatalogConfig.ready()``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from jianguan.core.navigation import PUBLIC, Module, register_module


def register() -> None:
    register_module(Module("catalog", _("Supervision catalogue"), "catalog:item_list",
                           "catalog.view_supervisionitem", group="business", order=30))
    register_module(Module("catalog_review", _("Catalogue review"), "catalog:review_queue",
                           "catalog.review_supervisionitem", group="business", order=31))
    register_module(Module("catalog_implementations", _("Implementation lists"), "catalog:implementation_list",
                           "catalog.view_implementationitem", group="business", order=32))
    register_module(Module("catalog_public", _("Supervision item catalogue"), "catalog:public_list", PUBLIC,
                           group="portal", order=10))
