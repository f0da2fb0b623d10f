"""Dynamic adjustment: draft → submitted → approved → published; revisions reviewed as a field-by-field diff."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from jianguan.catalog import services
from jianguan.catalog.choices import HistoryAction, ItemState, VersionStatus
from jianguan.catalog.models import ItemVersion
from jianguan.catalog.tests.factories import content, kind, make_basis, new_item, published_item
from jianguan.core.errors import ConflictError, DomainError, ScopeViolation
from jianguan.core.models import AuditEntry, OutboxEvent


def _create(editor, name="对食品生产者的监督检查"):
    return services.create_item(actor=editor, department_kind=kind("001"), method="01", content=content(name))


def test_it_takes_an_item_from_draft_to_published(province_editor, province_reviewer) -> None:
    item = _create(province_editor)
    version = item.latest_version
    assert (item.state, version.status) == (ItemState.NEW, VersionStatus.DRAFT)
    version = services.submit_version(version, actor=province_editor)
    assert version.status == VersionStatus.SUBMITTED and version.submitted_by == province_editor
    version = services.approve_version(version, actor=province_reviewer, comment="同意")
    assert version.status == VersionStatus.APPROVED and version.reviewed_by == province_reviewer
    version = services.publish_version(version, actor=province_reviewer)
    item.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED
    assert item.state == ItemState.PUBLISHED and item.current_version == version
    actions = list(item.history.order_by("at", "id").values_list("action", flat=True))
    assert actions == [HistoryAction.CREATED, HistoryAction.SUBMITTED, HistoryAction.APPROVED,
                       HistoryAction.PUBLISHED]


def test_it_publishes_an_outbox_event_with_code_and_version(province_editor, province_reviewer,
                                                            django_capture_on_commit_callbacks) -> None:
    item = _create(province_editor)
    version = services.submit_version(item.latest_version, actor=province_editor)
    version = services.approve_version(version, actor=province_reviewer)
    services.publish_version(version, actor=province_reviewer)
    event = OutboxEvent.objects.get(topic="catalog.version_published")
    assert event.payload["item_code"] == "32001010001000"
    assert event.payload["version"] == 1
    assert event.payload["replaced_version"] is None


def test_it_writes_business_audit_events(province_editor, province_reviewer) -> None:
    item = _create(province_editor)
    version = services.submit_version(item.latest_version, actor=province_editor)
    services.approve_version(version, actor=province_reviewer)
    events = set(AuditEntry.objects.filter(event__startswith="catalog.item.").values_list("event", flat=True))
    assert {"catalog.item.created", "catalog.item.submitted", "catalog.item.approved"} <= events


def test_it_refuses_review_by_the_author(province_editor) -> None:
    from jianguan.core.models import Role

    province_editor.roles.add(Role.objects.get(code="catalog_reviewer"))
    item = _create(province_editor)
    version = services.submit_version(item.latest_version, actor=province_editor)
    with pytest.raises(DomainError) as exc:
        services.approve_version(version, actor=province_editor)
    assert exc.value.code == "catalog.four_eyes"


def test_it_refuses_to_approve_without_the_review_permission(province_editor, ecology_editor) -> None:
    item = _create(province_editor)
    version = services.submit_version(item.latest_version, actor=province_editor)
    with pytest.raises(PermissionDenied):
        services.approve_version(version, actor=ecology_editor)


def test_it_refuses_another_departments_editor(province_editor, ecology_editor) -> None:
    item = _create(province_editor)
    with pytest.raises(ScopeViolation):
        services.update_draft(item.latest_version, actor=ecology_editor, content=content("改名"))
    with pytest.raises(ScopeViolation):
        services.create_item(actor=ecology_editor, department_kind=kind("001"), method="01", content=content())


def test_a_city_editor_cannot_create_provincial_items(nanjing_editor) -> None:
    with pytest.raises(ScopeViolation):
        services.create_item(actor=nanjing_editor, department_kind=kind("001"), method="01", content=content())


def test_it_refuses_to_submit_an_incomplete_draft(province_editor) -> None:
    item = services.create_item(actor=province_editor, department_kind=kind("001"), method="01",
                                content=services.ItemContent(name="对食品经营者的监督检查"))
    with pytest.raises(DomainError) as exc:
        services.submit_version(item.latest_version, actor=province_editor)
    assert exc.value.code == "catalog.incomplete"
    assert set(exc.value.fields) == {"measures", "targets", "process", "result", "citations", "levels"}
    assert exc.value.fields["measures"] == ["请填写监管措施。"]


def test_a_main_item_with_sub_items_needs_only_its_name(province_editor) -> None:
    main = services.create_item(actor=province_editor, department_kind=kind("001"), method="01",
                                content=services.ItemContent(name="对食品生产经营活动的监督检查"))
    services.create_sub_item(main, actor=province_editor, content=content("对食品生产者的监督检查"))
    assert services.submit_version(main.latest_version, actor=province_editor).status == VersionStatus.SUBMITTED


def test_a_sub_item_is_not_published_before_its_main_item(province_editor, province_reviewer) -> None:
    main = services.create_item(actor=province_editor, department_kind=kind("001"), method="01",
                                content=services.ItemContent(name="对食品生产经营活动的监督检查"))
    sub = services.create_sub_item(main, actor=province_editor, content=content())
    version = services.submit_version(sub.latest_version, actor=province_editor)
    version = services.approve_version(version, actor=province_reviewer)
    with pytest.raises(DomainError) as exc:
        services.publish_version(version, actor=province_reviewer)
    assert exc.value.code == "catalog.main_not_published"


def test_it_validates_content_in_chinese(province_editor) -> None:
    with pytest.raises(DomainError) as exc:
        services.create_item(actor=province_editor, department_kind=kind("001"), method="01",
                             content=services.ItemContent(name="  ", levels=("nation",)))
    assert exc.value.fields == {"name": ["请填写名称。"], "levels": ["监管层级只能是省、市、县。"]}


def test_a_double_submit_is_a_conflict(province_editor) -> None:
    item = _create(province_editor)
    stale = ItemVersion.objects.get(pk=item.latest_version.pk)
    services.submit_version(item.latest_version, actor=province_editor)
    with pytest.raises(ConflictError):
        services._transition(stale, "submit", province_editor)


def test_a_stale_edit_is_a_conflict(province_editor) -> None:
    item = _create(province_editor)
    version = item.latest_version
    loaded_at = version.updated_at
    services.update_draft(version, actor=province_editor, content=content("第一次修改"))
    with pytest.raises(ConflictError):
        services.update_draft(version, actor=province_editor, content=content("第二次修改"),
                              expected_updated_at=loaded_at)


def test_a_returned_version_is_reopened_by_editing(province_editor, province_reviewer) -> None:
    item = _create(province_editor)
    version = services.submit_version(item.latest_version, actor=province_editor)
    with pytest.raises(DomainError) as exc:
        services.reject_version(version, actor=province_reviewer, comment="")
    assert exc.value.code == "catalog.reject_comment"
    version = services.reject_version(version, actor=province_reviewer, comment="请补充监管流程")
    assert version.status == VersionStatus.REJECTED
    version = services.update_draft(version, actor=province_editor, content=content("补充后"))
    assert version.status == VersionStatus.DRAFT
    assert HistoryAction.REOPENED in set(item.history.values_list("action", flat=True))


def test_editing_a_published_item_creates_a_new_version_reviewed_as_a_diff(province_editor,
                                                                         province_reviewer) -> None:
    item = published_item("对食品生产者的监督检查")
    published = item.current_version
    revision = services.start_revision(item, actor=province_editor, reason="《食品安全法》修正")
    assert revision.number == 2 and revision.based_on == published and revision.status == VersionStatus.DRAFT
    new_basis = make_basis("食品生产许可管理办法", "dept_rule")
    changed = content("对食品生产者的监督检查", measures="现场检查、抽样检验", basis=new_basis, article="第四十二条",
                      text="县级以上地方市场监督管理部门应当加强对食品生产活动的日常监督检查。")
    revision = services.update_draft(revision, actor=province_editor, content=changed, reason="补充依据")
    diff = {c.field: c for c in services.version_diff(revision)}
    assert not diff["name"].changed
    assert diff["measures"].changed and diff["measures"].before == "现场检查、抽样检验、查阅复制有关合同票据"
    assert diff["measures"].after == "现场检查、抽样检验"
    assert diff["citations"].changed
    assert diff["citations"].after.startswith("《食品生产许可管理办法》（部门规章）第四十二条：")
    assert [c.label for c in services.version_diff(revision)] == ["名称", "监管措施", "监管对象", "设定依据",
                                                                 "监管流程", "监管结果", "监管层级"]
    # the published version stays public until the revision is published
    item.refresh_from_db()
    assert item.current_version == published
    version = services.submit_version(revision, actor=province_editor)
    version = services.approve_version(version, actor=province_reviewer)
    services.publish_version(version, actor=province_reviewer)
    item.refresh_from_db()
    published.refresh_from_db()
    assert item.current_version == version
    assert published.status == VersionStatus.SUPERSEDED
    assert published.measures == "现场检查、抽样检验、查阅复制有关合同票据"  # history is never rewritten


def test_only_one_revision_is_open_at_a_time(province_editor) -> None:
    item = published_item()
    services.start_revision(item, actor=province_editor, reason="调整")
    with pytest.raises(DomainError) as exc:
        services.start_revision(item, actor=province_editor, reason="再次调整")
    assert exc.value.code == "catalog.revision_open"


def test_a_published_version_is_never_edited(province_editor) -> None:
    item = published_item()
    with pytest.raises(DomainError) as exc:
        services.update_draft(item.current_version, actor=province_editor, content=content())
    assert exc.value.code == "catalog.not_editable"


def test_the_history_records_who_when_why_and_what_changed(province_editor) -> None:
    item = _create(province_editor, "原名称")
    services.update_draft(item.latest_version, actor=province_editor, content=content("新名称"), reason="规范名称")
    entry = item.history.get(action=HistoryAction.EDITED)
    assert entry.actor == province_editor
    assert entry.actor_name == "province_editor(省市场监管局编辑)"
    assert entry.comment == "规范名称"
    assert {"field": "name", "label": "名称", "before": "原名称", "after": "新名称"} in entry.changes
    with pytest.raises(PermissionError):
        entry.save()


def test_a_withdrawn_submission_goes_back_to_draft(province_editor) -> None:
    item = new_item(actor=province_editor)
    version = services.submit_version(item.latest_version, actor=province_editor)
    assert services.withdraw_version(version, actor=province_editor).status == VersionStatus.DRAFT
