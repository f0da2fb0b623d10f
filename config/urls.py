from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("config.api_urls")),
    path("security/", include("jianguan.security.urls")),
    path("catalog/", include("jianguan.catalog.urls")),
    path("complaints/", include("jianguan.complaints.urls")),
    path("portal/complaints/", include("jianguan.complaints.urls_portal")),
    path("open311/", include("jianguan.complaints.urls_open311")),
    path("datacenter/", include("jianguan.datacenter.urls")),
    path("", include("jianguan.core.urls")),
]
