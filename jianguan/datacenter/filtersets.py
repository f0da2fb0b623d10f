"""Filtersets shared by the data centre's pages and API lists."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from jianguan.datacenter.choices import (
    BatchKind,
    BatchStatus,
    Channel,
    ConflictKind,
    ConflictStatus,
    Library,
    LinkStatus,
    QuarantineStatus,
    SourceKind,
)
from jianguan.datacenter.models import Batch, Conflict, EntityLink, LineageEntry, QuarantinedRow, Source


class SourceFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="关键词")
    kind = django_filters.ChoiceFilter(choices=SourceKind.choices, label="类别")
    library = django_filters.ChoiceFilter(choices=Library.choices, label="所属库")
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label="接入方式")
    enabled = django_filters.BooleanFilter(label="启用")

    class Meta:
        model = Source
        fields = ["q", "kind", "library", "channel", "enabled"]

    def search(self, queryset: QuerySet[Source], name: str, value: str) -> QuerySet[Source]:
        value = value.strip()
        return queryset.filter(name__contains=value) | queryset.filter(code__contains=value) if value else queryset


class BatchFilterSet(django_filters.FilterSet):
    source = django_filters.NumberFilter(field_name="source_id", label="数据源")
    source_code = django_filters.CharFilter(field_name="source__code", label="数据源代码")
    status = django_filters.ChoiceFilter(choices=BatchStatus.choices, label="状态")
    kind = django_filters.ChoiceFilter(choices=BatchKind.choices, label="方式")

    class Meta:
        model = Batch
        fields = ["source", "source_code", "status", "kind"]


class QuarantinedRowFilterSet(django_filters.FilterSet):
    batch = django_filters.NumberFilter(field_name="batch_id", label="批次")
    status = django_filters.ChoiceFilter(choices=QuarantineStatus.choices, label="状态")

    class Meta:
        model = QuarantinedRow
        fields = ["batch", "status"]


class EntityLinkFilterSet(django_filters.FilterSet):
    subject = django_filters.NumberFilter(field_name="subject_id", label="监管对象")
    batch = django_filters.NumberFilter(field_name="batch_id", label="批次")
    status = django_filters.ChoiceFilter(choices=LinkStatus.choices, label="状态")

    class Meta:
        model = EntityLink
        fields = ["subject", "batch", "status"]


class ConflictFilterSet(django_filters.FilterSet):
    subject = django_filters.NumberFilter(field_name="subject_id", label="监管对象")
    batch = django_filters.NumberFilter(field_name="batch_id", label="批次")
    status = django_filters.ChoiceFilter(choices=ConflictStatus.choices, label="状态")
    kind = django_filters.ChoiceFilter(choices=ConflictKind.choices, label="类别")
    field = django_filters.CharFilter(label="字段")

    class Meta:
        model = Conflict
        fields = ["subject", "batch", "status", "kind", "field"]


class LineageFilterSet(django_filters.FilterSet):
    subject = django_filters.NumberFilter(field_name="subject_id", label="监管对象")
    subject_uscc = django_filters.CharFilter(field_name="subject__uscc", label="统一社会信用代码")
    batch = django_filters.NumberFilter(field_name="batch_id", label="批次")

    class Meta:
        model = LineageEntry
        fields = ["subject", "subject_uscc", "batch"]
