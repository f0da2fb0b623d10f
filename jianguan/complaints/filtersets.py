"""One filterset for work orders, shared by the UI list and the API list (code and id variants for FKs)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils import timezone

from jianguan.complaints.choices import Channel, ComplaintKind, ComplaintStatus
from jianguan.complaints.models import Complaint
from jianguan.core.filtersets import IdFilter


def _region_prefix(queryset: QuerySet, name: str, value: str) -> QuerySet:  # type: ignore[type-arg]
    code = value.strip()
    if not code:
        return queryset
    prefix = code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else code
    return queryset.filter(**{f"{name}__code__startswith": prefix})


class ComplaintFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="关键词")
    ticket_no = django_filters.CharFilter(field_name="ticket_no", label="工单编号")
    filing_no = django_filters.CharFilter(field_name="filing_no", label="诉求编号")
    kind = django_filters.ChoiceFilter(choices=ComplaintKind.choices, label="类型")
    status = django_filters.ChoiceFilter(choices=ComplaintStatus.choices, label="状态")
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label="渠道")
    category = django_filters.CharFilter(field_name="category__code", lookup_expr="startswith", label="分类编码")
    region = django_filters.CharFilter(field_name="handling_region", method=_region_prefix, label="承办地区代码")
    place_region = django_filters.CharFilter(field_name="region", method=_region_prefix, label="发生地区代码")
    handling_org_id = IdFilter(field_name="handling_org_id", label="承办部门")
    handling_org_code = django_filters.CharFilter(field_name="handling_org__code", label="承办部门代码")
    subject_id = IdFilter(field_name="subject_id", label="监管对象")
    subject_uscc = django_filters.CharFilter(field_name="subject_uscc", label="统一社会信用代码")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="已超期")
    submitted_after = django_filters.DateFilter(field_name="submitted_at", lookup_expr="date__gte", label="提交日期起")
    submitted_before = django_filters.DateFilter(field_name="submitted_at", lookup_expr="date__lte", label="提交日期止")

    class Meta:
        model = Complaint
        fields = ["q", "ticket_no", "filing_no", "kind", "status", "channel", "category", "region", "place_region",
                  "handling_org_id", "handling_org_code", "subject_id", "subject_uscc", "overdue", "submitted_after",
                  "submitted_before"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:  # type: ignore[type-arg]
        return queryset.with_text(value)  # type: ignore[attr-defined, no-any-return]

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:  # type: ignore[type-arg]
        if value is None:
            return queryset
        overdue = queryset.overdue(timezone.now())  # type: ignore[attr-defined]
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))
