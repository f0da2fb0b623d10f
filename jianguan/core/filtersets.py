"""Filtersets shared by the UI lists and the API lists."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from jianguan.core.choices import AuditAction, JobStatus, SubjectStatus, SubjectType
from jianguan.core.models import AuditEntry, EnforcementOfficer, Job, Organization, Subject, User


def _region_prefix(queryset: QuerySet, name: str, value: str) -> QuerySet:  # type: ignore[type-arg]
    """``region=3201`` style filter: a region code selects its whole subtree."""
    code = value.strip()
    if not code:
        return queryset
    prefix = code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else code
    return queryset.filter(**{f"{name}__code__startswith": prefix})


class IdFilter(django_filters.NumberFilter):
    """A database id: digits only and within the 64-bit range (a huge number is a 400, not a 500)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class SubjectFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="关键词")
    uscc = django_filters.CharFilter(field_name="uscc", lookup_expr="exact", label="统一社会信用代码")
    region = django_filters.CharFilter(field_name="region", method=_region_prefix, label="地区代码")
    subject_type = django_filters.ChoiceFilter(choices=SubjectType.choices, label="类型")
    status = django_filters.ChoiceFilter(choices=SubjectStatus.choices, label="状态")
    industry = django_filters.CharFilter(field_name="industry__code", lookup_expr="startswith", label="行业代码")

    class Meta:
        model = Subject
        fields = ["q", "uscc", "region", "subject_type", "status", "industry"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:  # type: ignore[type-arg]
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__contains=value) | Q(uscc=value.upper()))


class EnforcementOfficerFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="姓名或证号")
    region = django_filters.CharFilter(field_name="region", method=_region_prefix, label="地区代码")
    organization = IdFilter(field_name="organization_id", label="部门")
    organization_code = django_filters.CharFilter(field_name="organization__code", label="部门代码")
    active = django_filters.BooleanFilter(label="在岗")

    class Meta:
        model = EnforcementOfficer
        fields = ["q", "region", "organization", "organization_code", "active"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:  # type: ignore[type-arg]
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__contains=value) | Q(certificate_no=value))


class OrganizationFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="contains", label="名称")
    region = django_filters.CharFilter(field_name="region", method=_region_prefix, label="地区代码")
    kind = django_filters.CharFilter(field_name="kind_id", label="部门类别代码")

    class Meta:
        model = Organization
        fields = ["q", "region", "kind"]


class UserFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="用户名或姓名")
    region = django_filters.CharFilter(field_name="region", method=_region_prefix, label="地区代码")
    organization = IdFilter(field_name="organization_id", label="部门")
    role = django_filters.CharFilter(field_name="roles__code", label="角色")
    is_active = django_filters.BooleanFilter(label="启用")

    class Meta:
        model = User
        fields = ["q", "region", "organization", "role", "is_active"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:  # type: ignore[type-arg]
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(username__contains=value) | Q(full_name__contains=value))


class JobFilterSet(django_filters.FilterSet):
    kind = django_filters.CharFilter(label="类型")
    status = django_filters.ChoiceFilter(choices=JobStatus.choices, label="状态")

    class Meta:
        model = Job
        fields = ["kind", "status"]


class AuditEntryFilterSet(django_filters.FilterSet):
    actor = django_filters.CharFilter(field_name="actor_name", lookup_expr="contains", label="操作人")
    action = django_filters.ChoiceFilter(choices=AuditAction.choices, label="动作")
    event = django_filters.CharFilter(lookup_expr="startswith", label="事件代码")
    object_type = django_filters.CharFilter(label="对象类型")
    object_id = django_filters.CharFilter(label="对象ID")
    ip = django_filters.CharFilter(label="来源IP")
    since = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte", label="起始时间")
    until = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="lt", label="截止时间")
    success = django_filters.BooleanFilter(label="成功")

    class Meta:
        model = AuditEntry
        fields = ["actor", "action", "event", "object_type", "object_id", "ip", "since", "until", "success"]
