from __future__ import annotations

from django.urls import path

from jianguan.core.views import auth, home, jobs, masterdata

app_name = "core"

urlpatterns = [
    path("accounts/login/", auth.login_view, name="login"),
    path("accounts/logout/", auth.logout_view, name="logout"),
    path("accounts/otp/", auth.otp_verify, name="otp_verify"),
    path("accounts/otp/enrol/", auth.otp_enrol, name="otp_enrol"),
    path("accounts/password/", auth.password_change, name="password_change"),
    path("", home.home, name="home"),
    path("subjects/", masterdata.subject_list, name="subject_list"),
    path("subjects/export.csv", masterdata.subject_export, name="subject_export"),
    path("subjects/new/", masterdata.subject_create, name="subject_create"),
    path("subjects/<int:pk>/", masterdata.subject_detail, name="subject_detail"),
    path("subjects/<int:pk>/edit/", masterdata.subject_edit, name="subject_edit"),
    path("officers/", masterdata.officer_list, name="officer_list"),
    path("officers/new/", masterdata.officer_create, name="officer_create"),
    path("officers/<int:pk>/", masterdata.officer_detail, name="officer_detail"),
    path("officers/<int:pk>/edit/", masterdata.officer_edit, name="officer_edit"),
    path("officers/<int:pk>/unmask/", masterdata.officer_unmask, name="officer_unmask"),
    path("jobs/", jobs.job_list, name="job_list"),
    path("jobs/<uuid:pk>/", jobs.job_detail, name="job_detail"),
]
