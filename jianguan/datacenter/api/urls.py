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

for prefix, viewset, basename in (
    ("catalog-entries", views.CatalogEntryViewSet, "catalogentry"),
    ("implementation-entries", views.ImplementationEntryViewSet, "implementationentry"),
    ("licenses", views.LicenseViewSet, "license"),
    ("inspections", views.InspectionViewSet, "inspection"),
    ("penalties", views.PenaltyViewSet, "penalty"),
    ("coercions", views.CoercionViewSet, "coercion"),
    ("complaints", views.ComplaintRecordViewSet, "complaintrecord"),
    ("credit", views.CreditRecordViewSet, "creditrecord"),
    ("internet", views.InternetRecordViewSet, "internetrecord"),
    ("knowledge", views.KnowledgeDocumentViewSet, "knowledgedocument"),
):
    router.register(f"datacenter/libraries/{prefix}", viewset, basename=f"datacenter-{basename}")

urlpatterns = [*router.urls]
