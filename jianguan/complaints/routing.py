"""Dispatch routing: category + place → the responsible department (承办) and co-units (协办), from the 派单目录."""

from __future__ import annotations

from dataclasses import dataclass, field

from jianguan.complaints.models import Category, DispatchRule
from jianguan.core.models import Organization, Region


@dataclass(frozen=True)
class Route:
    lead: Organization | None
    co_units: list[Organization] = field(default_factory=list)
    rule: DispatchRule | None = None

    @property
    def found(self) -> bool:
        return self.lead is not None


def region_chain(region: Region) -> list[str]:
    """The region's code and its ancestors' codes, most specific first (320106 → 320100 → 320000)."""
    codes = [region.code]
    if region.level == "county":
        codes += [f"{region.code[:4]}00", f"{region.code[:2]}0000"]
    elif region.level == "city":
        codes.append(f"{region.code[:2]}0000")
    return codes


def category_chain(category: Category) -> list[int]:
    ids = [category.pk]
    parent = category.parent
    while parent is not None:
        ids.append(parent.pk)
        parent = parent.parent
    return ids


def find_rule(category: Category, region: Region) -> DispatchRule | None:
    """The most specific active rule: the category before its parent, then the county before the city and the
    province."""
    categories = category_chain(category)
    regions = region_chain(region)
    rules = list(
        DispatchRule.objects.filter(category_id__in=categories, region_id__in=regions, active=True).select_related(
            "lead_kind"
        )
    )
    if not rules:
        return None
    best: DispatchRule = min(rules, key=lambda r: (categories.index(r.category_id), regions.index(r.region_id)))
    return best


def _org_at(kind_code: str, region: Region, level: str) -> Organization | None:
    """The department of ``kind_code`` at ``level`` above (or at) ``region``, else the nearest one above it."""
    chain = region_chain(region)
    start = {"county": 0, "city": 1 if region.level == "county" else 0, "province": len(chain) - 1}[level]
    candidates = chain[start:]
    orgs = {o.region_id: o for o in Organization.objects.filter(kind_id=kind_code, region_id__in=candidates,
                                                                active=True)}
    for code in candidates:
        if code in orgs:
            found: Organization = orgs[code]
            return found
    return None


def route(category: Category | None, region: Region, *, kind_hint: str | None = None) -> Route:
    """Where a ticket of ``category`` at ``region`` goes. Without a rule, the category's usual department kind (or
    the classifier's ``kind_hint``) at the county is used."""
    rule = find_rule(category, region) if category is not None else None
    if rule is not None:
        lead = _org_at(rule.lead_kind_id, region, rule.level)
        co_units = [o for o in (_org_at(k, region, "county") for k in rule.co_kinds) if o is not None and o != lead]
        return Route(lead, co_units, rule)
    kind = (category.department_kind_id if category is not None else None) or kind_hint
    if kind:
        return Route(_org_at(kind, region, "county"))
    return Route(None)
