"""Test helpers for the catalogue: legal bases, complete contents, items driven through the real services."""

from __future__ import annotations

import itertools
from typing import Any

from jianguan.catalog import services
from jianguan.catalog.choices import BasisLevel
from jianguan.catalog.models import ItemVersion, LegalBasis, SupervisionItem
from jianguan.core.models import DepartmentKind, Organization
from jianguan.core.testing.personas import make_org
from jianguan.lib.validators import make_uscc

FOOD_LAW = "中华人民共和国食品安全法"
_serial = itertools.count(1)


def make_basis(name: str = FOOD_LAW, level: str = BasisLevel.LAW, **extra: Any) -> LegalBasis:
    basis, _created = LegalBasis.objects.get_or_create(name=name, defaults={"level": level, **extra})
    return basis


def content(name: str | None = None, *, basis: LegalBasis | None = None, article: str = "第一百一十条",
            text: str = "县级以上人民政府食品安全监督管理部门履行食品安全监督管理职责，有权进行现场检查。",
            levels: tuple[str, ...] = ("province", "city", "county"), **fields: Any) -> services.ItemContent:
    """A complete content (every field the plan requires)."""
    basis = basis or make_basis()
    values = {
        "measures": "现场检查、抽样检验、查阅复制有关合同票据",
        "targets": "食品生产经营者",
        "process": "制定检查计划、实施检查、记录检查结果、依法处理",
        "result": "检查结果记入食品安全信用档案并依法公开",
    }
    values.update(fields)
    return services.ItemContent(
        name=name or f"对食品生产经营者的监督检查{next(_serial)}",
        levels=levels,
        citations=(services.CitationData(basis, article, "", text),),
        **values,
    )


def kind(code: str = "001") -> DepartmentKind:
    return DepartmentKind.objects.get(code=code)


def provincial_orgs(*codes: str) -> list[Organization]:
    return [make_org("320000", code) for code in codes]


def agency_with_uscc(region_code: str, kind_code: str = "001") -> Organization:
    """A department with a (valid, made-up) government USCC, as implementation lists need."""
    from jianguan.core.demo import org_code_check

    org = make_org(region_code, kind_code)
    if not org.uscc:
        body = f"{int(kind_code):03d}{region_code[2:]}9"
        org.uscc = make_uscc(f"11{region_code}{body}{org_code_check(body)}")
        org.save()
    return org


def new_item(name: str | None = None, *, kind_code: str = "001", method: str = "01", actor: Any = None,
             **fields: Any) -> SupervisionItem:
    provincial_orgs(kind_code)
    return services.create_item(actor=actor or services.SYSTEM, department_kind=kind(kind_code), method=method,
                                content=content(name, **fields))


def publish(version: ItemVersion) -> ItemVersion:
    """Submit, approve and publish as the system actor (no four-eyes conflict: it has no user row)."""
    actor = services.SYSTEM
    version = services.submit_version(version, actor=actor)
    version = services.approve_version(version, actor=actor)
    return services.publish_version(version, actor=actor)


def published_item(name: str | None = None, **kw: Any) -> SupervisionItem:
    item = new_item(name, **kw)
    assert item.latest_version is not None
    publish(item.latest_version)
    item.refresh_from_db()
    return item


def published_sub_item(main: SupervisionItem, name: str | None = None, **fields: Any) -> SupervisionItem:
    item = services.create_sub_item(main, actor=services.SYSTEM, content=content(name, **fields))
    assert item.latest_version is not None
    publish(item.latest_version)
    item.refresh_from_db()
    return item
