"""The public portal's complaint pages at /portal/complaints/ (namespace ``complaints_portal``): public by
declaration."""

from __future__ import annotations

from django.urls import path

from jianguan.complaints import portal

app_name = "complaints_portal"

urlpatterns = [
    path("", portal.submit, name="submit"),
    path("track/", portal.track, name="track"),
    path("track/rate/", portal.rate, name="rate"),
]
