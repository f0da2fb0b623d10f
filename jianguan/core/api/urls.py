"""Kernel API routes, mounted under ``/api/v1/`` (namespace ``api``) by ``config/api_urls.py``.

URL names follow ``api:core-<model>-<action>``, e.g. ``api:core-subject-list``, ``api:core-officer-unmask``.
"""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from jianguan.core.api import views

router = SimpleRouter()
router.register("regions", views.RegionViewSet, basename="core-region")
router.register("department-kinds", views.DepartmentKindViewSet, basename="core-departmentkind")
router.register("organizations", views.OrganizationViewSet, basename="core-organization")
router.register("users", views.UserViewSet, basename="core-user")
router.register("roles", views.RoleViewSet, basename="core-role")
router.register("subjects", views.SubjectViewSet, basename="core-subject")
router.register("officers", views.EnforcementOfficerViewSet, basename="core-officer")
router.register("jobs", views.JobViewSet, basename="core-job")
router.register("audit-entries", views.AuditEntryViewSet, basename="core-auditentry")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="core-me"),
    *router.urls,
]
