"""Data-centre pages under ``/datacenter/`` (names ``datacenter:<page>``)."""

from __future__ import annotations

from django.urls import path

from jianguan.datacenter import views

app_name = "datacenter"
urlpatterns = [
    path("", views.home, name="home"),
    path("sources/", views.source_list, name="source_list"),
    path("sources/new/", views.source_create, name="source_create"),
    path("sources/<int:pk>/", views.source_detail, name="source_detail"),
    path("sources/<int:pk>/edit/", views.source_edit, name="source_edit"),
    path("sources/<int:pk>/pull/", views.source_pull, name="source_pull"),
    path("sources/<int:pk>/scan-inbox/", views.source_scan_inbox, name="source_scan_inbox"),
    path("batches/", views.batch_list, name="batch_list"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/rerun/", views.batch_rerun, name="batch_rerun"),
    path("quarantine/", views.quarantine_list, name="quarantine_list"),
    path("quarantine/<int:pk>/", views.quarantine_detail, name="quarantine_detail"),
    path("quarantine/<int:pk>/discard/", views.quarantine_discard, name="quarantine_discard"),
    path("quarantine/<int:pk>/unmask/", views.quarantine_unmask, name="quarantine_unmask"),
    path("entities/", views.entity_list, name="entity_list"),
    path("entities/<int:pk>/", views.entity_detail, name="entity_detail"),
    path("links/", views.link_list, name="link_list"),
    path("links/<int:pk>/review/", views.link_review, name="link_review"),
    path("conflicts/", views.conflict_list, name="conflict_list"),
    path("conflicts/<int:pk>/resolve/", views.conflict_resolve, name="conflict_resolve"),
    path("libraries/", views.library_list, name="library_list"),
    path("libraries/knowledge/search/", views.knowledge_search, name="knowledge_search"),
    path("libraries/<slug:name>/", views.library_records, name="library_records"),
]
