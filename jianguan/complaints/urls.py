"""Staff pages at /complaints/ (namespace ``complaints``)."""

from __future__ import annotations

from django.urls import path

from jianguan.complaints import views

app_name = "complaints"

urlpatterns = [
    path("", views.complaint_list, name="complaint_list"),
    path("export.csv", views.complaint_export, name="complaint_export"),
    path("new/", views.complaint_create, name="complaint_create"),
    path("stats/", views.stats_page, name="stats"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("<int:pk>/", views.complaint_detail, name="complaint_detail"),
    path("<int:pk>/unmask/", views.complaint_unmask, name="complaint_unmask"),
    path("<int:pk>/attachments/<int:attachment_id>/", views.attachment_download, name="attachment_download"),
    path("<int:pk>/act/<slug:action>/", views.complaint_act, name="complaint_act"),
]
