"""Security API routes, mounted under ``/api/v1/`` (namespace ``api``): ``api:security-token-list`` …"""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from jianguan.security.api import views

router = SimpleRouter()
router.register("tokens", views.ApiTokenViewSet, basename="security-token")

urlpatterns = router.urls
