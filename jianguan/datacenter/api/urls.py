"""Data-centre API routes under ``/api/v1/datacenter/`` (names ``api:datacenter-<model>-<action>``)."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from jianguan.datacenter.api import views

router = SimpleRouter()
router.register("datacenter/sources", views.SourceViewSet, basename="datacenter-source")
router.register("datacenter/batches", views.BatchViewSet, basename="datacenter-batch")
router.register("datacenter/quarantine", views.QuarantinedRowViewSet, basename="datacenter-quarantinedrow")
router.register("datacenter/links", views.EntityLinkViewSet, basename="datacenter-entitylink")
router.register("datacenter/conflicts", views.ConflictViewSet, basename="datacenter-conflict")
router.register("datacenter/lineage", views.LineageViewSet, basename="datacenter-lineage")

urlpatterns = [*router.urls]
