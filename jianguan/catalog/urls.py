"""Catalogue pages under ``/catalog/`` (namespace ``catalog``); the public catalogue is under ``/catalog/public/``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from jianguan.catalog import views

app_name = "catalog"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.item_list, name="item_list"),
    path("items/new/", views.item_create, name="item_create"),
    path("items/<int:pk>/", views.item_detail, name="item_detail"),
    path("items/<int:pk>/sub-items/new/", views.sub_item_create, name="sub_item_create"),
    path("items/<int:pk>/revise/", views.item_revise, name="item_revise"),
    path("items/<int:pk>/abolish/", views.item_abolish, name="item_abolish"),
    path("items/<int:pk>/map/", views.item_map, name="item_map"),
    path("versions/<int:pk>/", views.version_detail, name="version_detail"),
    path("versions/<int:pk>/edit/", views.version_edit, name="version_edit"),
    path("versions/<int:pk>/<slug:step>/", views.version_step, name="version_step"),
    path("review/", views.review_queue, name="review_queue"),
    path("bases/", views.basis_list, name="basis_list"),
    path("bases/new/", views.basis_create, name="basis_create"),
    path("bases/<int:pk>/", views.basis_detail, name="basis_detail"),
    path("bases/<int:pk>/edit/", views.basis_edit, name="basis_edit"),
    path("import/", views.import_page, name="import"),
    path("import/<int:pk>/", views.import_detail, name="import_detail"),
    path("import/<int:pk>/report.xlsx", views.import_report, name="import_report"),
    path("export/", views.export, name="export"),
    path("national/", views.national, name="national"),
    path("national/push-package.json", views.push_package, name="push_package"),
    path("implementations/", views.implementation_list, name="implementation_list"),
    path("implementations/new/", views.implementation_create, name="implementation_create"),
    path("implementations/<int:pk>/", views.implementation_detail, name="implementation_detail"),
    path("implementations/<int:pk>/edit/", views.implementation_edit, name="implementation_edit"),
    path("implementations/<int:pk>/withdraw/", views.implementation_withdraw, name="implementation_withdraw"),
    path("public/", views.public_list, name="public_list"),
    path("public/items/<str:code>/", views.public_detail, name="public_detail"),
]
