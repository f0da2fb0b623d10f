"""Filtersets shared by the UI lists and the API lists (and the public catalogue)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet

from jianguan.catalog.choices import (
    AdministrativeLevel,
    BasisLevel,
    BasisStatus,
    ImplementationStatus,
    ItemState,
    SupervisionMethod,
    VersionStatus,
)
from jianguan.catalog.models import ImplementationItem, ImportBatch, ItemVersion, LegalBasis, SupervisionItem

KIND_CHOICES = (("main", "主项"), ("sub", "子项"))


def _prefix(queryset: QuerySet[Any], field: str, value: str) -> QuerySet[Any]:
    code = value.strip()
    if not code:
        return queryset
    prefix = code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else code
    return queryset.filter(**{f"{field}__startswith": prefix})


class _ItemFilters(django_filters.FilterSet):
    """Filters over items, reading the content fields from ``version_field`` (latest or published version)."""

    version_field = "latest_version"

    q = django_filters.CharFilter(method="search", label="关键词")
    department = django_filters.CharFilter(field_name="department_kind_id", label="监管部门代码")
    method = django_filters.ChoiceFilter(choices=SupervisionMethod.choices, label="监管方式")
    target = django_filters.CharFilter(method="filter_target", label="监管对象")
    level = django_filters.ChoiceFilter(choices=AdministrativeLevel.choices, method="filter_level", label="监管层级")

    def search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        """Chinese keyword search: a substring of the code, of any name, measure, object or basis (both databases)."""
        value = value.strip()
        if not value:
            return queryset
        v = self.version_field
        return queryset.filter(
            Q(code__startswith=value) | Q(**{f"{v}__search_text__contains": value})
            | Q(**{f"main__{v}__name__contains": value})
        )

    def filter_target(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        return queryset.filter(**{f"{self.version_field}__targets__contains": value}) if value else queryset

    def filter_level(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(**{f"{self.version_field}__level_{value}": True}) if value else queryset


class SupervisionItemFilterSet(_ItemFilters):
    """Staff list: every item in its newest version, drafts included."""

    state = django_filters.ChoiceFilter(choices=ItemState.choices, label="事项状态")
    status = django_filters.ChoiceFilter(field_name="latest_version__status", choices=VersionStatus.choices,
                                         label="最新版本状态")
    kind = django_filters.ChoiceFilter(choices=KIND_CHOICES, method="filter_kind", label="主项/子项")
    main = django_filters.NumberFilter(field_name="main_id", label="主项ID")
    code = django_filters.CharFilter(field_name="code", lookup_expr="startswith", label="编码")
    basis = django_filters.NumberFilter(method="filter_basis", label="引用的法律法规ID")

    class Meta:
        model = SupervisionItem
        fields = ["q", "department", "method", "target", "level", "state", "status", "kind", "main", "code", "basis"]

    def filter_kind(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if value == "main":
            return queryset.filter(main__isnull=True)
        if value == "sub":
            return queryset.filter(main__isnull=False)
        return queryset

    def filter_basis(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return queryset.citing(int(value)) if value else queryset


class PublicItemFilterSet(_ItemFilters):
    """The public catalogue: items in force, read from their published versions only."""

    version_field = "current_version"

    class Meta:
        model = SupervisionItem
        fields = ["q", "department", "method", "target", "level"]


def public_items() -> QuerySet[SupervisionItem]:
    """The leaves of the published catalogue (sub-items, and main items without published sub-items)."""
    published_sub = SupervisionItem.objects.filter(main=OuterRef("pk"), state=ItemState.PUBLISHED)
    return (SupervisionItem.objects.filter(state=ItemState.PUBLISHED, current_version__isnull=False)
            .filter(Q(main__isnull=False) | ~Exists(published_sub))
            .exclude(main__state=ItemState.ABOLISHED))


class ItemVersionFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=VersionStatus.choices, label="状态")
    item = django_filters.NumberFilter(field_name="item_id", label="事项ID")
    department = django_filters.CharFilter(field_name="item__department_kind_id", label="监管部门代码")

    class Meta:
        model = ItemVersion
        fields = ["status", "item", "department"]


class LegalBasisFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="名称")
    level = django_filters.ChoiceFilter(choices=BasisLevel.choices, label="效力层级")
    status = django_filters.ChoiceFilter(choices=BasisStatus.choices, label="状态")

    class Meta:
        model = LegalBasis
        fields = ["q", "level", "status"]

    def search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip().strip("《》")
        return queryset.filter(Q(name__contains=value) | Q(document_number__contains=value)) if value else queryset


class ImplementationItemFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="关键词")
    region = django_filters.CharFilter(method="filter_region", label="地区代码")
    organization = django_filters.NumberFilter(field_name="organization_id", label="实施机构")
    item_code = django_filters.CharFilter(field_name="item__code", lookup_expr="startswith", label="事项编码")
    status = django_filters.ChoiceFilter(choices=ImplementationStatus.choices, label="状态")

    class Meta:
        model = ImplementationItem
        fields = ["q", "region", "organization", "item_code", "status"]

    def search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(code__contains=value) | Q(item__name__contains=value)
                               | Q(item__main__name__contains=value) | Q(notes__contains=value))

    def filter_region(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return _prefix(queryset, "region_id", value)


class ImportBatchFilterSet(django_filters.FilterSet):
    class Meta:
        model = ImportBatch
        fields = ["status", "dry_run"]
