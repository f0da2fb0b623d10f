"""Open311 GeoReport v2 at /open311/ (namespace ``open311``): public by declaration (machine clients use api_key)."""

from __future__ import annotations

from django.urls import path, register_converter

from jianguan.complaints import open311


class FormatConverter:
    regex = "xml|json"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FormatConverter, "fmt")

app_name = "open311"

urlpatterns = [
    path("discovery.<fmt:fmt>", open311.discovery, name="discovery"),
    path("v2/", open311.discovery, {"fmt": "json"}, name="root"),
    path("v2/services.<fmt:fmt>", open311.services_list, name="services"),
    path("v2/services/<str:code>.<fmt:fmt>", open311.service_definition, name="service_definition"),
    path("v2/requests.<fmt:fmt>", open311.requests, name="requests"),
    path("v2/requests/<str:request_id>.<fmt:fmt>", open311.request_detail, name="request_detail"),
    path("v2/tokens/<str:token>.<fmt:fmt>", open311.token_detail, name="token"),
    path("v2/servicerequestupdates.<fmt:fmt>", open311.request_updates, name="request_updates"),
]
