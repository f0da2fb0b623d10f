"""Catalogue API routes, mounted under ``/api/v1/`` (namespace ``api``): ``api:catalog-item-list``,
``api:catalog-version-submit``, ``api:catalog-public-item-list`` …"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from jianguan.catalog.api import views

router = SimpleRouter()
router.register("catalog/items", views.SupervisionItemViewSet, basename="catalog-item")
router.register("catalog/versions", views.ItemVersionViewSet, basename="catalog-version")
router.register("catalog/bases", views.LegalBasisViewSet, basename="catalog-basis")
router.register("catalog/implementations", views.ImplementationItemViewSet, basename="catalog-implementation")
router.register("catalog/imports", views.ImportBatchViewSet, basename="catalog-import")
router.register("catalog/national-items", views.NationalItemViewSet, basename="catalog-nationalitem")
router.register("catalog/mappings", views.NationalMappingViewSet, basename="catalog-mapping")
router.register("catalog/public/items", views.PublicItemViewSet, basename="catalog-public-item")

urlpatterns: list[URLPattern | URLResolver] = [
    path("catalog/export/", views.ExportView.as_view(), name="catalog-export"),
    path("catalog/alignment-report/", views.AlignmentReportView.as_view(), name="catalog-alignment-report"),
    path("catalog/push-package/", views.PushPackageView.as_view(), name="catalog-push-package"),
    *router.urls,
]
