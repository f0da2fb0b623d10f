"""``/api/v1/complaints/…`` (namespace ``api``): ``api:complaints-complaint-list``, ``…-intake``, ``…-accept`` …"""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from jianguan.complaints.api import views

router = SimpleRouter()
router.register("complaints/categories", views.CategoryViewSet, basename="complaints-category")
router.register("complaints", views.ComplaintViewSet, basename="complaints-complaint")

urlpatterns = [*router.urls]
