"""Write side of the catalogue: every state change of items, versions, bases, implementation lists and mappings.

Each service owns its transaction, checks the actor's permission and edit scope, moves statuses by
compare-and-swap (STYLE B7), writes the item's history entry, the business audit event (``catalog.item.*``) and,
for publication and abolition, the outbox event. Views, the API, the importer and the CLI all call these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone

from jianguan.catalog import codes, events, workflow
from jianguan.catalog.choices import (
    BASIS_LEVEL_NAMES_ZH,
    OPEN_STATUSES,
    AdministrativeLevel,
    BasisStatus,
    HistoryAction,
    ImplementationLevel,
    ImplementationStatus,
    ItemState,
    SupervisionMethod,
    VersionStatus,
)
from jianguan.catalog.formats import format_citation, format_levels
from jianguan.catalog.models import (
    PROVINCE_CODE,
    BasisCitation,
    ImplementationItem,
    ItemEvent,
    ItemVersion,
    LegalBasis,
    NationalItem,
    NationalMapping,
    SupervisionItem,
)
from jianguan.core import audit
from jianguan.core.errors import ConflictError, DomainError, ScopeViolation
from jianguan.core.events import publish
from jianguan.core.models import DepartmentKind, Organization
from jianguan.core.scope import ScopedQuerySet, user_sees_all_departments

# --- actors ---------------------------------------------------------------------------------------------------------


class SystemActor:
    """The actor of the command line and the demo: every permission, the whole province, no user row."""

    pk = None
    id = None
    is_authenticated = True
    is_active = True
    username = "system"
    display_name = "系统"
    region_id = PROVINCE_CODE
    organization_id = None

    def has_perm(self, perm: str) -> bool:
        return True

    def __str__(self) -> str:
        return "system"


SYSTEM = SystemActor()


def _is_system(actor: Any) -> bool:
    return isinstance(actor, SystemActor)


def _user(actor: Any) -> Any:
    """The user row for FKs (``None`` for the system actor)."""
    return None if _is_system(actor) else actor


def actor_label(actor: Any) -> str:
    if _is_system(actor):
        context = audit.current_context()
        return context.actor_name if context.actor_name not in ("", "anonymous") else "system"
    return f"{actor.username}({actor.display_name})"


def _require(actor: Any, perm: str) -> None:
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied(perm)


def _in_scope(actor: Any, queryset: ScopedQuerySet[Any], pk: Any) -> bool:
    """Is row ``pk`` of ``queryset`` inside the actor's region/department scope?"""
    return _is_system(actor) or queryset.in_scope_of(actor).filter(pk=pk).exists()


def _require_item_scope(actor: Any, item: SupervisionItem) -> None:
    if not _in_scope(actor, SupervisionItem.objects.all(), item.pk):
        raise ScopeViolation("scope.item", "该监管事项不在您的编辑范围内（由省级主管部门维护）。")


def _require_placement(actor: Any, organization: Organization) -> None:
    """Before a write: the record's region and department must lie inside the actor's scope."""
    if _is_system(actor):
        return
    region = getattr(actor, "region", None)
    if region is None or not organization.region_id.startswith(region.scope_prefix):
        raise ScopeViolation("scope.region", "所选地区超出您的数据范围。")
    if not user_sees_all_departments(actor) and actor.organization_id != organization.pk:
        raise ScopeViolation("scope.department", "只能维护本部门的数据。")


def _recheck(actor: Any, obj: models.Model) -> None:
    """Post-save re-check (STYLE B5): the stored row must still be inside the actor's scope."""
    if _is_system(actor):
        return
    queryset = type(obj)._default_manager.get_queryset()
    assert isinstance(queryset, ScopedQuerySet)
    if not queryset.in_scope_of(actor).filter(pk=obj.pk).exists():
        raise ScopeViolation("scope.violation", "操作结果超出您的数据范围，已撤销。")


def _history(item: SupervisionItem, action: str, actor: Any, *, version: ItemVersion | None = None,
             comment: str = "", changes: list[dict[str, str]] | None = None) -> ItemEvent:
    return ItemEvent.objects.create(item=item, version=version, action=action, actor=_user(actor),
                                    actor_name=actor_label(actor)[:150], comment=comment[:500],
                                    changes=changes or [])


# --- content --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CitationData:
    """One 设定依据 entry of a version: a basis from the register, its article/clause and the cited text."""

    basis: LegalBasis
    article: str = ""
    clause: str = ""
    text: str = ""

    def key(self) -> tuple[Any, ...]:
        return (self.basis.pk, self.article, self.clause, self.text)


@dataclass(frozen=True)
class ItemContent:
    """The editable fields of a version (department and method belong to the item and never change)."""

    name: str
    measures: str = ""
    targets: str = ""
    process: str = ""
    result: str = ""
    levels: tuple[str, ...] = ()
    citations: tuple[CitationData, ...] = field(default_factory=tuple)

    def key(self) -> tuple[Any, ...]:
        """What "the same content" means for idempotent imports."""
        return (self.name, self.measures, self.targets, self.process, self.result, tuple(sorted(self.levels)),
                tuple(c.key() for c in self.citations))


#: The fields compared in a review diff, in display order, with their Chinese labels.
DIFF_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "名称"),
    ("measures", "监管措施"),
    ("targets", "监管对象"),
    ("citations", "设定依据"),
    ("process", "监管流程"),
    ("result", "监管结果"),
    ("levels", "监管层级"),
)
_TEXT_LIMITS = {"name": 200}


def _clean(value: str) -> str:
    return "\n".join(line.rstrip() for line in (value or "").strip().replace("\r\n", "\n").split("\n"))


def normalise_content(content: ItemContent) -> ItemContent:
    """Trim text, validate lengths and levels; raises :class:`DomainError` with per-field Chinese messages."""
    errors: dict[str, list[str]] = {}
    name = " ".join(content.name.split())
    if not name:
        errors["name"] = ["请填写名称。"]
    elif len(name) > _TEXT_LIMITS["name"]:
        errors["name"] = ["名称不能超过200个字。"]
    bad_levels = [lv for lv in content.levels if lv not in AdministrativeLevel.values]
    if bad_levels:
        errors["levels"] = ["监管层级只能是省、市、县。"]
    seen: set[tuple[Any, ...]] = set()
    citations = []
    for citation in content.citations:
        cleaned = CitationData(citation.basis, citation.article.strip(), citation.clause.strip(), _clean(citation.text))
        if cleaned.key() in seen:
            continue
        seen.add(cleaned.key())
        citations.append(cleaned)
    if errors:
        raise DomainError("validation", "；".join(m for ms in errors.values() for m in ms), fields=errors)
    levels = tuple(lv for lv in AdministrativeLevel.values if lv in content.levels)
    return ItemContent(name, _clean(content.measures), _clean(content.targets), _clean(content.process),
                       _clean(content.result), levels, tuple(citations))


def check_complete(item: SupervisionItem, content: ItemContent) -> None:
    """Before review: a version that carries content must fill the plan's fields. A main item with sub-items
    carries only its name (the sub-items carry the rest)."""
    if item.is_main and item.sub_items.exclude(state=ItemState.ABOLISHED).exists():
        return
    errors: dict[str, list[str]] = {}
    for name, label in (("measures", "监管措施"), ("targets", "监管对象"), ("process", "监管流程"),
                        ("result", "监管结果")):
        if not getattr(content, name).strip():
            errors[name] = [f"请填写{label}。"]
    if not content.citations:
        errors["citations"] = ["至少填写一条设定依据。"]
    if not content.levels:
        errors["levels"] = ["请选择监管层级。"]
    if errors:
        raise DomainError("catalog.incomplete", "内容不完整：" + "；".join(m for ms in errors.values() for m in ms),
                          fields=errors)


def content_of(version: ItemVersion) -> ItemContent:
    citations = tuple(
        CitationData(c.basis, c.article, c.clause, c.text)
        for c in sorted(version.citations.all(), key=lambda c: (c.position, c.pk))
    )
    return ItemContent(version.name, version.measures, version.targets, version.process, version.result,
                       tuple(version.levels), citations)


def _display(content: ItemContent | None, name: str) -> str:
    if content is None:
        return ""
    if name == "citations":
        return "\n".join(format_citation(c.basis.name, c.basis.level, c.article, c.clause, c.text)
                         for c in content.citations)
    if name == "levels":
        return format_levels(content.levels)
    return str(getattr(content, name))


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    before: str
    after: str
    changed: bool


def diff_contents(before: ItemContent | None, after: ItemContent) -> list[FieldChange]:
    """Field-by-field comparison for review (every field, with ``changed`` set where they differ)."""
    out = []
    for name, label in DIFF_FIELDS:
        old, new = _display(before, name), _display(after, name)
        out.append(FieldChange(name, label, old, new, old != new))
    return out


def version_diff(version: ItemVersion) -> list[FieldChange]:
    """The review diff of ``version`` against the version it revises (all fields are new for a first version)."""
    base = version.based_on
    return diff_contents(content_of(base) if base is not None else None, content_of(version))


def _changes(before: ItemContent | None, after: ItemContent) -> list[dict[str, str]]:
    return [{"field": c.field, "label": c.label, "before": c.before, "after": c.after}
            for c in diff_contents(before, after) if c.changed]


def _search_text(content: ItemContent) -> str:
    parts = [content.name, content.measures, content.targets, content.process, content.result]
    for c in content.citations:
        parts.append(f"《{c.basis.name}》{c.article}{c.clause}{c.text}")
    return "\n".join(p for p in parts if p)


def _write_content(version: ItemVersion, content: ItemContent) -> None:
    version.name = content.name
    version.measures = content.measures
    version.targets = content.targets
    version.process = content.process
    version.result = content.result
    version.level_province = AdministrativeLevel.PROVINCE in content.levels
    version.level_city = AdministrativeLevel.CITY in content.levels
    version.level_county = AdministrativeLevel.COUNTY in content.levels
    version.search_text = _search_text(content)
    version.updated_at = timezone.now()
    version.save()
    version.citations.all().delete()
    BasisCitation.objects.bulk_create([
        BasisCitation(version=version, basis=c.basis, position=i, article=c.article, clause=c.clause, text=c.text)
        for i, c in enumerate(content.citations)
    ])


# --- items and versions ---------------------------------------------------------------------------------------------


def provincial_department(kind: DepartmentKind) -> Organization:
    """The provincial department that owns the items of ``kind`` (江苏省市场监督管理局 for 001 …)."""
    org: Organization | None = Organization.objects.filter(region_id=PROVINCE_CODE, kind=kind).first()
    if org is None:
        raise DomainError("catalog.no_department", f"省级{kind.name}尚未登记，不能建立其监管事项。",
                          fields={"department_kind": ["省级部门尚未登记。"]})
    return org


def _new_item(*, actor: Any, code: str, main: SupervisionItem | None, kind: DepartmentKind, method: str,
              organization: Organization, content: ItemContent, reason: str,
              history_action: str = HistoryAction.CREATED) -> SupervisionItem:
    item = SupervisionItem.objects.create(
        code=code, main_code=code[:11], main=main, department_kind=kind, method=method, region_id=PROVINCE_CODE,
        organization=organization, name=content.name,
    )
    version = ItemVersion(item=item, number=1, status=VersionStatus.DRAFT, created_by=_user(actor),
                          change_reason=reason[:500])
    _write_content(version, content)
    item.latest_version = version
    item.save(update_fields=["latest_version", "updated_at"])
    _history(item, history_action, actor, version=version, comment=reason, changes=_changes(None, content))
    audit.record_event("catalog.item.created", target=item,
                       details={"code": item.code, "version": 1, "main": main.code if main else None})
    return item


@transaction.atomic
def create_item(*, actor: Any, department_kind: DepartmentKind, method: str, content: ItemContent,
                reason: str = "", code: str | None = None, imported: bool = False) -> SupervisionItem:
    """Create a main item (主项) with a draft first version; its 11-digit code is issued now (or, for an
    import, the given code is registered)."""
    _require(actor, "catalog.add_supervisionitem")
    if method not in SupervisionMethod.values:
        raise DomainError("validation", "监管方式不正确。", fields={"method": ["监管方式不正确。"]})
    content = normalise_content(content)
    organization = provincial_department(department_kind)
    _require_placement(actor, organization)
    if code is None:
        main_code = codes.issue_main_code(department_kind.code, method)
    else:
        main_code = _claim_code(code[:11], department_kind.code, method)
    item = _new_item(actor=actor, code=f"{main_code}000", main=None, kind=department_kind, method=method,
                     organization=organization, content=content, reason=reason,
                     history_action=HistoryAction.IMPORTED if imported else HistoryAction.CREATED)
    _recheck(actor, item)
    return item


def _claim_code(code: str, department: str, method: str) -> str:
    parts = codes.parse_code(code)
    if parts.department != department or parts.method != method:
        raise DomainError("catalog.code_mismatch", f"编码{code}与监管部门或监管方式不一致。",
                          fields={"code": ["编码与监管部门或监管方式不一致。"]})
    if SupervisionItem.objects.filter(code=parts.item_code).exists():
        raise DomainError("catalog.code_taken", f"编码{parts.item_code}已被使用，编码不能重复使用。",
                          fields={"code": ["编码已被使用。"]})
    codes.reserve_code(parts.item_code)
    return parts.item_code if parts.sub_serial else parts.main_code


@transaction.atomic
def create_sub_item(main: SupervisionItem, *, actor: Any, content: ItemContent, reason: str = "",
                    code: str | None = None, imported: bool = False) -> SupervisionItem:
    """Add a sub-item (子项) under ``main``: same department and method, a new 3-digit serial."""
    _require(actor, "catalog.add_supervisionitem")
    main = SupervisionItem.objects.get(pk=main.pk)
    if not main.is_main:
        raise DomainError("catalog.not_main", "子项下不能再建子项。")
    if main.state == ItemState.ABOLISHED:
        raise DomainError("catalog.abolished", "主项已废止，不能新增子项。")
    _require_item_scope(actor, main)
    content = normalise_content(content)
    if code is None:
        item_code = codes.issue_sub_code(main.main_code)
    else:
        if not code.startswith(main.main_code) or len(code) != 14 or code.endswith("000"):
            raise DomainError("catalog.code_mismatch", f"子项编码{code}与主项编码{main.main_code}不一致。",
                              fields={"code": ["子项编码应以主项编码开头，且流水号不为000。"]})
        item_code = _claim_code(code, main.department_kind_id, main.method)
    item = _new_item(actor=actor, code=item_code, main=main, kind=main.department_kind, method=main.method,
                     organization=main.organization, content=content, reason=reason,
                     history_action=HistoryAction.IMPORTED if imported else HistoryAction.CREATED)
    _recheck(actor, item)
    return item


def _lock_version(version: ItemVersion, expected_updated_at: dt.datetime | None) -> None:
    """Optimistic lock for edits: the version must not have changed since the editor loaded it."""
    queryset = ItemVersion.objects.filter(pk=version.pk, status=VersionStatus.DRAFT)
    if expected_updated_at is not None:
        queryset = queryset.filter(updated_at=expected_updated_at)
    if queryset.update(updated_at=timezone.now()) != 1:
        raise ConflictError("catalog.conflict", "该版本已被他人修改或已提交，请刷新后重试。")


@transaction.atomic
def update_draft(version: ItemVersion, *, actor: Any, content: ItemContent, reason: str = "",
                 expected_updated_at: dt.datetime | None = None) -> ItemVersion:
    """Edit a draft (a returned version is reopened first). Published versions are never edited."""
    _require(actor, "catalog.change_supervisionitem")
    version = ItemVersion.objects.select_related("item").get(pk=version.pk)
    _require_item_scope(actor, version.item)
    if version.status == VersionStatus.REJECTED:
        _transition(version, "reopen", actor)
    elif version.status not in workflow.EDITABLE:
        raise DomainError("catalog.not_editable", "只有草稿可以修改；已发布的事项请先发起修订。")
    before = content_of(version)
    content = normalise_content(content)
    _lock_version(version, expected_updated_at)
    version.refresh_from_db()
    if reason:
        version.change_reason = reason[:500]
    _write_content(version, content)
    item = version.item
    if item.name != content.name:
        item.name = content.name
        item.save(update_fields=["name", "updated_at"])
    changes = _changes(before, content)
    _history(item, HistoryAction.EDITED, actor, version=version, comment=reason, changes=changes)
    audit.record_event("catalog.item.edited", target=version,
                       details={"code": item.code, "version": version.number, "fields": [c["field"] for c in changes]})
    _recheck(actor, item)
    return version


@transaction.atomic
def start_revision(item: SupervisionItem, *, actor: Any, reason: str) -> ItemVersion:
    """Editing a published item: a new draft version copied from the published one (which stays public until the
    revision is published)."""
    _require(actor, "catalog.change_supervisionitem")
    item = SupervisionItem.objects.select_related("current_version").get(pk=item.pk)
    _require_item_scope(actor, item)
    if item.state != ItemState.PUBLISHED or item.current_version is None:
        raise DomainError("catalog.not_published", "只有已发布的事项可以发起修订。")
    if item.versions.filter(status__in=OPEN_STATUSES).exists():
        raise DomainError("catalog.revision_open", "该事项已有未完成的修订版本。")
    if not reason.strip():
        raise DomainError("catalog.reason_required", "发起修订须说明理由。", fields={"reason": ["请填写修订理由。"]})
    published = item.current_version
    number = (item.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = ItemVersion(item=item, number=number, status=VersionStatus.DRAFT, based_on=published,
                          created_by=_user(actor), change_reason=reason[:500])
    _write_content(version, content_of(published))
    item.latest_version = version
    item.save(update_fields=["latest_version", "updated_at"])
    _history(item, HistoryAction.REVISION_STARTED, actor, version=version, comment=reason)
    audit.record_event("catalog.item.revision_started", target=version, reason=reason,
                       details={"code": item.code, "version": number, "based_on": published.number})
    _recheck(actor, item)
    return version


def open_version(item: SupervisionItem) -> ItemVersion | None:
    return item.versions.filter(status__in=OPEN_STATUSES).first()


_HISTORY_FOR_ACTION = {
    "submit": HistoryAction.SUBMITTED,
    "withdraw": HistoryAction.WITHDRAWN,
    "approve": HistoryAction.APPROVED,
    "reject": HistoryAction.REJECTED,
    "reopen": HistoryAction.REOPENED,
    "publish": HistoryAction.PUBLISHED,
    "supersede": HistoryAction.SUPERSEDED,
    "abolish": HistoryAction.ABOLISHED,
}


def _transition(version: ItemVersion, action: str, actor: Any, *, comment: str = "", **fields: Any) -> ItemVersion:
    """Compare-and-swap the status of ``version`` along ``action``; history and audit are written here."""
    target = workflow.target_of(action, version.status)
    if isinstance(target, workflow.Refusal):
        raise DomainError(target.code, target.message)
    updated = ItemVersion.objects.filter(pk=version.pk, status=version.status).update(status=target, **fields)
    if updated != 1:
        raise ConflictError("catalog.conflict", "该版本已被他人处理，请刷新后重试。")
    previous = version.status
    version.refresh_from_db()
    _history(version.item, _HISTORY_FOR_ACTION[action], actor, version=version, comment=comment)
    audit.record_event(f"catalog.item.{_HISTORY_FOR_ACTION[action]}", target=version, reason=comment,
                       details={"code": version.item.code, "version": version.number, "from": previous,
                                "to": target})
    return version


def _get_version(version: ItemVersion) -> ItemVersion:
    return ItemVersion.objects.select_related("item", "item__main").get(pk=version.pk)


@transaction.atomic
def submit_version(version: ItemVersion, *, actor: Any, comment: str = "") -> ItemVersion:
    """Send a draft for review once its content is complete."""
    _require(actor, "catalog.change_supervisionitem")
    version = _get_version(version)
    _require_item_scope(actor, version.item)
    if version.status == VersionStatus.DRAFT:
        check_complete(version.item, content_of(version))
    return _transition(version, "submit", actor, comment=comment, submitted_by=_user(actor),
                       submitted_at=timezone.now())


@transaction.atomic
def withdraw_version(version: ItemVersion, *, actor: Any, comment: str = "") -> ItemVersion:
    """Take a submitted version back to draft before it is reviewed."""
    _require(actor, "catalog.change_supervisionitem")
    version = _get_version(version)
    _require_item_scope(actor, version.item)
    return _transition(version, "withdraw", actor, comment=comment)


def _review_guard(version: ItemVersion, actor: Any, action: str, comment: str) -> None:
    for refusal in (
        workflow.guard_review(version.created_by_id, getattr(actor, "pk", None)),
        workflow.guard_review(version.submitted_by_id, getattr(actor, "pk", None)),
        workflow.guard_comment(action, comment),
    ):
        if refusal is not None:
            raise DomainError(refusal.code, refusal.message, fields={"comment": [refusal.message]}
                              if refusal.code == "catalog.reject_comment" else None)


@transaction.atomic
def approve_version(version: ItemVersion, *, actor: Any, comment: str = "") -> ItemVersion:
    """Reviewer's approval (not by the version's author or submitter)."""
    _require(actor, "catalog.review_supervisionitem")
    version = _get_version(version)
    _require_item_scope(actor, version.item)
    _review_guard(version, actor, "approve", comment)
    return _transition(version, "approve", actor, comment=comment, reviewed_by=_user(actor),
                       reviewed_at=timezone.now(), review_comment=comment[:500])


@transaction.atomic
def reject_version(version: ItemVersion, *, actor: Any, comment: str) -> ItemVersion:
    """Return a submitted or approved version to its editors with a comment."""
    _require(actor, "catalog.review_supervisionitem")
    version = _get_version(version)
    _require_item_scope(actor, version.item)
    _review_guard(version, actor, "reject", comment)
    return _transition(version, "reject", actor, comment=comment, reviewed_by=_user(actor),
                       reviewed_at=timezone.now(), review_comment=comment[:500])


def _make_public(version: ItemVersion, actor: Any, *, action: str, comment: str = "") -> ItemVersion:
    """Publish ``version`` (already checked): the previous published version is superseded, the item points at the
    new one, and ``catalog.version_published`` goes to the outbox."""
    item = SupervisionItem.objects.select_related("main").get(pk=version.item_id)
    if item.state == ItemState.ABOLISHED:
        raise DomainError("catalog.abolished", "该事项已废止。")
    refusal = workflow.guard_publish(is_sub_item=not item.is_main,
                                     main_published=item.main is not None and item.main.state == ItemState.PUBLISHED)
    if refusal is not None:
        raise DomainError(refusal.code, refusal.message)
    now = timezone.now()
    previous = item.current_version
    if previous is not None:
        previous.item = item
        _transition(previous, "supersede", actor, closed_at=now)
    version.item = item
    if action == "publish":
        version = _transition(version, "publish", actor, comment=comment, published_by=_user(actor),
                              published_at=now)
    else:  # import-and-publish of an already approved catalogue: straight from draft, recorded as an import
        updated = ItemVersion.objects.filter(pk=version.pk, status=VersionStatus.DRAFT).update(
            status=VersionStatus.PUBLISHED, published_by=_user(actor), published_at=now,
            reviewed_by=_user(actor), reviewed_at=now, submitted_by=_user(actor), submitted_at=now,
        )
        if updated != 1:
            raise ConflictError("catalog.conflict", "该版本已被他人处理，请刷新后重试。")
        version.refresh_from_db()
        _history(item, HistoryAction.PUBLISHED, actor, version=version, comment=comment)
        audit.record_event("catalog.item.published", target=version, reason=comment,
                           details={"code": item.code, "version": version.number, "from": "draft",
                                    "to": "published", "import": True})
    item.current_version = version
    item.state = ItemState.PUBLISHED
    item.name = version.name
    item.save(update_fields=["current_version", "state", "name", "updated_at"])
    publish(events.VERSION_PUBLISHED, events.VersionPublished(
        item_id=item.pk, item_code=item.code, main_code=item.main_code, version=version.number, name=version.name,
        department_code=item.department_kind_id, method=item.method,
        replaced_version=previous.number if previous is not None else None,
    ))
    return version


@transaction.atomic
def publish_version(version: ItemVersion, *, actor: Any, comment: str = "") -> ItemVersion:
    """Publish an approved version; it replaces the published one (if any), which becomes superseded."""
    _require(actor, "catalog.publish_supervisionitem")
    version = _get_version(version)
    _require_item_scope(actor, version.item)
    if version.status != VersionStatus.APPROVED:
        raise DomainError("catalog.invalid_transition", "只有审核通过的版本可以发布。")
    return _make_public(version, actor, action="publish", comment=comment)


@transaction.atomic
def publish_imported(version: ItemVersion, *, actor: Any, comment: str = "") -> ItemVersion:
    """Import of an already approved catalogue: a complete draft goes public at once. Needs both the review and
    the publish permission; recorded as a publication by import in the history and the audit log."""
    _require(actor, "catalog.review_supervisionitem")
    _require(actor, "catalog.publish_supervisionitem")
    version = _get_version(version)
    _require_item_scope(actor, version.item)
    check_complete(version.item, content_of(version))
    return _make_public(version, actor, action="import", comment=comment)


@transaction.atomic
def abolish_item(item: SupervisionItem, *, actor: Any, reason: str, abolished_on: dt.date | None) -> SupervisionItem:
    """废止: the item (and its sub-items) leave the public catalogue; versions close, implementation lists are
    withdrawn, the code stays issued and is never reused."""
    _require(actor, "catalog.abolish_supervisionitem")
    item = SupervisionItem.objects.get(pk=item.pk)
    _require_item_scope(actor, item)
    refusal = workflow.guard_abolish(reason=reason, has_date=abolished_on is not None)
    if refusal is not None:
        name = "reason" if refusal.code == "catalog.abolish_reason" else "abolished_on"
        raise DomainError(refusal.code, refusal.message, fields={name: [refusal.message]})
    if item.state == ItemState.ABOLISHED:
        raise DomainError("catalog.abolished", "该事项已废止。")
    assert abolished_on is not None
    targets: list[SupervisionItem] = [item]
    if item.is_main:
        targets += list(SupervisionItem.objects.filter(main=item).exclude(state=ItemState.ABOLISHED))
    now = timezone.now()
    for target in targets:
        for version in target.versions.filter(status__in=(*OPEN_STATUSES, VersionStatus.PUBLISHED)):
            version.item = target
            _transition(version, "abolish", actor, comment=reason, closed_at=now)
        updated = SupervisionItem.objects.filter(pk=target.pk).exclude(state=ItemState.ABOLISHED).update(
            state=ItemState.ABOLISHED, abolished_on=abolished_on, abolition_reason=reason[:500], updated_at=now)
        if updated != 1:
            raise ConflictError("catalog.conflict", "该事项已被他人处理，请刷新后重试。")
        if not target.versions.filter(status=VersionStatus.ABOLISHED).exists():
            _history(target, HistoryAction.ABOLISHED, actor, comment=reason)
        audit.record_event("catalog.item.abolished", target=target, reason=reason,
                           details={"code": target.code, "abolished_on": abolished_on.isoformat()})
        for implementation in target.implementations.filter(status=ImplementationStatus.ACTIVE):
            _withdraw(implementation, actor, reason=f"监管事项已废止：{reason}", on=abolished_on)
        publish(events.ITEM_ABOLISHED, events.ItemAbolished(
            item_id=target.pk, item_code=target.code, abolished_on=abolished_on.isoformat(), reason=reason))
    item.refresh_from_db()
    return item


# --- legal bases ----------------------------------------------------------------------------------------------------

_BASIS_FIELDS = ("name", "level", "issuing_body", "document_number", "effective_on", "amended_on", "repealed_on",
                 "status", "note")


def _clean_basis(data: dict[str, Any]) -> dict[str, Any]:
    from jianguan.catalog.formats import normalise_basis_name

    errors: dict[str, list[str]] = {}
    if "name" in data:
        data["name"] = normalise_basis_name(data["name"] or "")
        if not data["name"]:
            errors["name"] = ["请填写法律法规名称。"]
    if "level" in data and data["level"] not in BASIS_LEVEL_NAMES_ZH:
        errors["level"] = ["请选择效力层级。"]
    if data.get("repealed_on") and data.get("status") not in (None, BasisStatus.REPEALED):
        errors["status"] = ["已填写废止日期的，状态应为“已废止”。"]
    if data.get("status") == BasisStatus.REPEALED and "repealed_on" in data and not data.get("repealed_on"):
        errors["repealed_on"] = ["请填写废止日期。"]
    if data.get("status") == BasisStatus.AMENDED and "amended_on" in data and not data.get("amended_on"):
        errors["amended_on"] = ["请填写修订日期。"]
    if errors:
        raise DomainError("validation", "；".join(m for ms in errors.values() for m in ms), fields=errors)
    return data


@transaction.atomic
def create_legal_basis(*, actor: Any, **data: Any) -> LegalBasis:
    """Register a law or regulation."""
    _require(actor, "catalog.add_legalbasis")
    data = _clean_basis({k: v for k, v in data.items() if k in _BASIS_FIELDS})
    if LegalBasis.objects.filter(name=data["name"]).exists():
        raise DomainError("catalog.basis_exists", f"《{data['name']}》已登记。", fields={"name": ["已登记。"]})
    basis: LegalBasis = LegalBasis.objects.create(**data)
    return basis


@transaction.atomic
def update_legal_basis(basis: LegalBasis, *, actor: Any, reason: str = "", **data: Any) -> LegalBasis:
    """Record an amendment or repeal, or correct the register; the items citing it are found with
    :func:`items_citing` and revised with :func:`revise_citing_items`."""
    _require(actor, "catalog.change_legalbasis")
    data = _clean_basis({k: v for k, v in data.items() if k in _BASIS_FIELDS})
    if "name" in data and LegalBasis.objects.filter(name=data["name"]).exclude(pk=basis.pk).exists():
        raise DomainError("catalog.basis_exists", f"《{data['name']}》已登记。", fields={"name": ["已登记。"]})
    previous_status = basis.status
    for key, value in data.items():
        setattr(basis, key, value)
    basis.save()
    if basis.status != previous_status:
        audit.record_event(f"catalog.basis.{basis.status}", target=basis, reason=reason,
                           details={"citing_items": items_citing(basis).count()})
    return basis


def items_citing(basis: LegalBasis) -> Any:
    """Items whose published or open version cites ``basis``."""
    return SupervisionItem.objects.citing(basis.pk).exclude(state=ItemState.ABOLISHED)


@dataclass(frozen=True)
class RevisionOutcome:
    item: SupervisionItem
    version: ItemVersion | None
    outcome: str  # "started", "reused", "skipped"
    message: str = ""


@transaction.atomic
def revise_citing_items(basis: LegalBasis, *, actor: Any, reason: str, item_ids: Iterable[int] | None = None,
                        replace_with: LegalBasis | None = None) -> list[RevisionOutcome]:
    """Revise every item citing ``basis`` together: each gets a draft revision (an existing draft is reused); with
    ``replace_with``, the citations of ``basis`` in those drafts point to the new basis (article, clause and text
    are kept for the editor to check). Items under review or outside the actor's scope are skipped."""
    _require(actor, "catalog.change_supervisionitem")
    if not reason.strip():
        raise DomainError("catalog.reason_required", "请填写修订理由。", fields={"reason": ["请填写修订理由。"]})
    queryset = items_citing(basis).select_related("current_version")
    if item_ids is not None:
        queryset = queryset.filter(pk__in=list(item_ids))
    outcomes = []
    for item in queryset.order_by("code"):
        if not _in_scope(actor, SupervisionItem.objects.all(), item.pk):
            outcomes.append(RevisionOutcome(item, None, "skipped", "不在您的编辑范围内"))
            continue
        version = open_version(item)
        if version is not None and version.status not in workflow.EDITABLE:
            outcomes.append(RevisionOutcome(item, version, "skipped", "该事项的版本正在审核中"))
            continue
        outcome = "reused"
        if version is None:
            version = start_revision(item, actor=actor, reason=reason)
            outcome = "started"
        if replace_with is not None:
            content = content_of(version)
            citations = tuple(CitationData(replace_with if c.basis.pk == basis.pk else c.basis, c.article, c.clause,
                                           c.text) for c in content.citations)
            new = ItemContent(content.name, content.measures, content.targets, content.process, content.result,
                              content.levels, citations)
            version = update_draft(version, actor=actor, content=new, reason=reason)
        outcomes.append(RevisionOutcome(item, version, outcome))
    audit.record_event("catalog.basis.revision_started", target=basis, reason=reason,
                       details={"items": [o.item.code for o in outcomes if o.outcome != "skipped"],
                                "replace_with": replace_with.name if replace_with else None})
    return outcomes


def submit_many(versions: Sequence[ItemVersion], *, actor: Any, comment: str = "") -> list[tuple[ItemVersion, str]]:
    """Submit several drafts at once (each in its own transaction); returns ``(version, error message or "")``."""
    results = []
    for version in versions:
        try:
            results.append((submit_version(version, actor=actor, comment=comment), ""))
        except (DomainError, PermissionDenied) as exc:
            results.append((version, getattr(exc, "message", "") or "无权提交"))
    return results


# --- implementation lists -------------------------------------------------------------------------------------------

_LEVEL_DIGIT = {"province": ImplementationLevel.PROVINCE, "city": ImplementationLevel.CITY,
                "county": ImplementationLevel.COUNTY}
_ADMIN_LEVEL_OF_DIGIT: dict[str, str] = {ImplementationLevel.PROVINCE: AdministrativeLevel.PROVINCE,
                         ImplementationLevel.CITY: AdministrativeLevel.CITY,
                         ImplementationLevel.COUNTY: AdministrativeLevel.COUNTY}
_LOCAL_FIELDS = ("handling_unit", "contact_phone", "place", "local_basis", "notes")


def _check_implementable(item: SupervisionItem, level: str) -> None:
    if item.state != ItemState.PUBLISHED or item.current_version is None:
        raise DomainError("catalog.not_published", "只有已发布的监管事项可以编制检查实施清单。",
                          fields={"item": ["该事项尚未发布或已废止。"]})
    if item.is_main and item.sub_items.filter(state=ItemState.PUBLISHED).exists():
        raise DomainError("catalog.has_sub_items", "该主项有子项，请选择具体子项编制检查实施清单。",
                          fields={"item": ["请选择子项。"]})
    admin_level = _ADMIN_LEVEL_OF_DIGIT.get(level)
    if admin_level is not None and admin_level not in item.current_version.levels:
        raise DomainError("catalog.level_mismatch",
                          f"该事项的监管层级为“{item.current_version.levels_display}”，本级不行使该事项。",
                          fields={"item": ["本级不行使该事项。"]})


def _local(data: dict[str, Any]) -> dict[str, str]:
    return {k: _clean(str(data.get(k) or "")) for k in _LOCAL_FIELDS if k in data}


@transaction.atomic
def create_implementation(*, actor: Any, item: SupervisionItem, organization: Organization,
                          **local: Any) -> ImplementationItem:
    """An agency's 检查实施清单 for a published item: its code is the agency's USCC + level digit + item code. A
    withdrawn list of the same agency and item is put back into use (its code never changes)."""
    _require(actor, "catalog.add_implementationitem")
    item = SupervisionItem.objects.select_related("current_version").get(pk=item.pk)
    organization = Organization.objects.select_related("region").get(pk=organization.pk)
    _require_placement(actor, organization)
    level = _LEVEL_DIGIT.get(organization.region.level, ImplementationLevel.COUNTY)
    _check_implementable(item, level)
    if not organization.uscc:
        raise DomainError("catalog.agency_uscc", f"{organization.name}尚未登记统一社会信用代码，无法生成实施清单编码。",
                          fields={"organization": ["实施机构缺少统一社会信用代码。"]})
    implementation: ImplementationItem
    existing: ImplementationItem | None = ImplementationItem.objects.filter(organization=organization,
                                                                           item=item).first()
    if existing is not None:
        if existing.status == ImplementationStatus.ACTIVE:
            raise DomainError("catalog.implementation_exists", f"本机构已有该事项的检查实施清单（{existing.code}）。")
        implementation = existing
        implementation.status = ImplementationStatus.ACTIVE
        implementation.withdrawn_on = None
        implementation.withdrawal_reason = ""
    else:
        implementation = ImplementationItem(
            code=codes.implementation_code(organization.uscc, level, item.code), item=item,
            region=organization.region, organization=organization, level=level,
        )
    for key, value in _local(local).items():
        setattr(implementation, key, value)
    implementation.save()
    _recheck(actor, implementation)
    audit.record_event("catalog.implementation.created", target=implementation,
                       details={"code": implementation.code, "item": item.code})
    _publish_implementation(implementation)
    return implementation


@transaction.atomic
def update_implementation(implementation: ImplementationItem, *, actor: Any, **local: Any) -> ImplementationItem:
    """Change the local detail of an implementation list (never the item's name, code, basis or method)."""
    _require(actor, "catalog.change_implementationitem")
    _require_placement(actor, implementation.organization)
    if implementation.status != ImplementationStatus.ACTIVE:
        raise DomainError("catalog.implementation_withdrawn", "该检查实施清单已撤销。")
    for key, value in _local(local).items():
        setattr(implementation, key, value)
    implementation.save()
    _recheck(actor, implementation)
    _publish_implementation(implementation)
    return implementation


def _withdraw(implementation: ImplementationItem, actor: Any, *, reason: str, on: dt.date) -> None:
    updated = ImplementationItem.objects.filter(pk=implementation.pk, status=ImplementationStatus.ACTIVE).update(
        status=ImplementationStatus.WITHDRAWN, withdrawn_on=on, withdrawal_reason=reason[:500],
        updated_at=timezone.now())
    if updated != 1:
        raise ConflictError("catalog.conflict", "该检查实施清单已被他人处理，请刷新后重试。")
    implementation.refresh_from_db()
    audit.record_event("catalog.implementation.withdrawn", target=implementation, reason=reason,
                       details={"code": implementation.code})
    _publish_implementation(implementation)


@transaction.atomic
def withdraw_implementation(implementation: ImplementationItem, *, actor: Any, reason: str) -> ImplementationItem:
    """Stop using an implementation list (kept, with its code, for the records that cite it)."""
    _require(actor, "catalog.change_implementationitem")
    _require_placement(actor, implementation.organization)
    if not reason.strip():
        raise DomainError("catalog.reason_required", "撤销须说明理由。", fields={"reason": ["请填写撤销理由。"]})
    _withdraw(implementation, actor, reason=reason, on=timezone.localdate())
    return implementation


def _publish_implementation(implementation: ImplementationItem) -> None:
    publish(events.IMPLEMENTATION_CHANGED, events.ImplementationChanged(
        implementation_id=implementation.pk, code=implementation.code, item_code=implementation.item.code,
        region=implementation.region_id, organization_id=implementation.organization_id,
        status=implementation.status))


# --- national alignment ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NationalRow:
    code: str
    name: str
    main_code: str = ""
    department: str = ""
    method: str = ""
    basis: str = ""


@dataclass
class NationalLoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0


@transaction.atomic
def load_national_catalogue(rows: Sequence[NationalRow], *, actor: Any, edition: str) -> NationalLoadResult:
    """Load an edition of the national catalogue: new items are added, changed ones updated, items missing from the
    edition are marked as no longer current (never deleted: mappings may point at them)."""
    _require(actor, "catalog.map_supervisionitem")
    result = NationalLoadResult()
    existing = {n.code: n for n in NationalItem.objects.all()}
    seen: set[str] = set()
    for row in rows:
        seen.add(row.code)
        values = {"name": row.name, "main_code": row.main_code, "department": row.department, "method": row.method,
                  "basis": row.basis}
        current = existing.get(row.code)
        if current is None:
            NationalItem.objects.create(code=row.code, edition=edition, active=True, **values)
            result.created += 1
        elif any(getattr(current, k) != v for k, v in values.items()) or not current.active:
            for key, value in values.items():
                setattr(current, key, value)
            current.active = True
            current.edition = edition
            current.save()
            result.updated += 1
        else:
            result.unchanged += 1
    result.retired = NationalItem.objects.filter(active=True).exclude(code__in=seen).update(active=False)
    audit.record_event("catalog.national.loaded", object_type="catalog.nationalitem",
                       details={"edition": edition, "created": result.created, "updated": result.updated,
                                "unchanged": result.unchanged, "retired": result.retired})
    return result


@transaction.atomic
def map_item(item: SupervisionItem, national_item: NationalItem, *, actor: Any, note: str = "") -> NationalMapping:
    """Map a local item to its national counterpart (one local item → one national item; several local items may
    share a national item). Re-mapping replaces the previous mapping."""
    _require(actor, "catalog.map_supervisionitem")
    _require_item_scope(actor, item)
    mapping = NationalMapping.objects.filter(item=item).first()
    if mapping is not None and mapping.national_item_id == national_item.pk:
        return mapping
    if mapping is None:
        mapping = NationalMapping(item=item)
    mapping.national_item = national_item
    mapping.mapped_by = _user(actor)
    mapping.note = note[:300]
    mapping.save()
    _history(item, HistoryAction.MAPPED, actor, comment=f"{national_item.code} {national_item.name}")
    audit.record_event("catalog.item.mapped", target=item,
                       details={"code": item.code, "national_code": national_item.code})
    return mapping


@transaction.atomic
def unmap_item(item: SupervisionItem, *, actor: Any) -> None:
    _require(actor, "catalog.map_supervisionitem")
    _require_item_scope(actor, item)
    mapping = NationalMapping.objects.filter(item=item).first()
    if mapping is None:
        return
    code = mapping.national_item.code
    # A mapping is a plain link, not a record others cite: removing it is the audited change.
    NationalMapping.objects.filter(pk=mapping.pk).delete()
    _history(item, HistoryAction.UNMAPPED, actor, comment=code)
    audit.record_event("catalog.item.unmapped", target=item, details={"code": item.code, "national_code": code})


@transaction.atomic
def auto_map_by_name(*, actor: Any) -> int:
    """Map unmapped, non-abolished local items whose name equals exactly one current national item's name."""
    _require(actor, "catalog.map_supervisionitem")
    by_name: dict[str, list[NationalItem]] = {}
    for national in NationalItem.objects.filter(active=True):
        by_name.setdefault(national.name, []).append(national)
    count = 0
    queryset = SupervisionItem.objects.not_abolished().filter(national_mapping__isnull=True).order_by("code")
    for item in queryset:
        matches = by_name.get(item.name, [])
        if len(matches) == 1 and _in_scope(actor, SupervisionItem.objects.all(), item.pk):
            map_item(item, matches[0], actor=actor, note="按名称自动对应")
            count += 1
    return count


@dataclass
class AlignmentReport:
    """Local items in force without a national counterpart, and current national items without a local one."""

    local_unmapped: list[SupervisionItem]
    national_unmapped: list[NationalItem]
    mapped: int
    local_total: int
    national_total: int


def alignment_report() -> AlignmentReport:
    """An item counts as aligned when it or its main item is mapped; only items in force are reported."""
    published = SupervisionItem.objects.published().select_related("main", "department_kind")
    mapped_ids = set(NationalMapping.objects.values_list("item_id", flat=True))
    mains_with_mapped_subs = set(
        SupervisionItem.objects.filter(pk__in=mapped_ids, main__isnull=False).values_list("main_id", flat=True))
    local_unmapped = [i for i in published.order_by("code")
                      if i.pk not in mapped_ids and (i.main_id is None or i.main_id not in mapped_ids)
                      and i.pk not in mains_with_mapped_subs]
    national = NationalItem.objects.filter(active=True)
    national_unmapped = list(national.filter(mappings__isnull=True).order_by("code"))
    return AlignmentReport(local_unmapped, national_unmapped, len(mapped_ids), published.count(), national.count())
