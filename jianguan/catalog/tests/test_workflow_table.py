"""The version life cycle table (pure): every pair of states, every action, every guard."""

from __future__ import annotations

import itertools

import pytest

from jianguan.catalog import workflow
from jianguan.catalog.choices import VersionStatus as S

ALLOWED = {
    (S.DRAFT, S.SUBMITTED), (S.DRAFT, S.ABOLISHED),
    (S.SUBMITTED, S.APPROVED), (S.SUBMITTED, S.REJECTED), (S.SUBMITTED, S.DRAFT), (S.SUBMITTED, S.ABOLISHED),
    (S.APPROVED, S.PUBLISHED), (S.APPROVED, S.REJECTED), (S.APPROVED, S.ABOLISHED),
    (S.REJECTED, S.DRAFT), (S.REJECTED, S.ABOLISHED),
    (S.PUBLISHED, S.SUPERSEDED), (S.PUBLISHED, S.ABOLISHED),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S.values, S.values)))
def test_it_allows_exactly_the_documented_transitions(current, target) -> None:
    assert workflow.can_transition(current, target) is ((current, target) in ALLOWED)


def test_it_covers_every_status() -> None:
    assert set(workflow.TRANSITIONS) == set(S.values)


def test_superseded_and_abolished_are_terminal() -> None:
    assert workflow.TERMINAL == {S.SUPERSEDED, S.ABOLISHED}


EXPECTED_ACTIONS = {
    "submit": ({S.DRAFT}, S.SUBMITTED),
    "withdraw": ({S.SUBMITTED}, S.DRAFT),
    "approve": ({S.SUBMITTED}, S.APPROVED),
    "reject": ({S.SUBMITTED, S.APPROVED}, S.REJECTED),
    "reopen": ({S.REJECTED}, S.DRAFT),
    "publish": ({S.APPROVED}, S.PUBLISHED),
    "supersede": ({S.PUBLISHED}, S.SUPERSEDED),
    "abolish": ({S.DRAFT, S.SUBMITTED, S.APPROVED, S.REJECTED, S.PUBLISHED}, S.ABOLISHED),
}


@pytest.mark.parametrize(("action", "current"), list(itertools.product(EXPECTED_ACTIONS, S.values)))
def test_every_action_leads_where_documented_or_is_refused(action, current) -> None:
    sources, target = EXPECTED_ACTIONS[action]
    outcome = workflow.target_of(action, current)
    if current in sources:
        assert outcome == target
    else:
        assert isinstance(outcome, workflow.Refusal)
        assert outcome.code == "catalog.invalid_transition"
        assert "不能执行" in outcome.message


def test_every_action_is_a_transition_of_the_table() -> None:
    assert set(workflow.ACTIONS) == set(EXPECTED_ACTIONS)
    for sources, target in workflow.ACTIONS.values():
        for source in sources:
            assert workflow.can_transition(source, target)


def test_it_refuses_an_unknown_action() -> None:
    assert workflow.target_of("delete", S.DRAFT) == workflow.Refusal("catalog.unknown_action", "未知的操作：delete")


def test_only_drafts_and_returned_versions_are_editable() -> None:
    assert workflow.EDITABLE == {S.DRAFT, S.REJECTED}


@pytest.mark.parametrize(("author", "reviewer", "refused"), [(1, 1, True), (1, 2, False), (None, 2, False),
                                                               (None, None, False)])
def test_the_four_eyes_guard(author, reviewer, refused) -> None:
    assert (workflow.guard_review(author, reviewer) is not None) is refused


@pytest.mark.parametrize(("is_sub", "main_published", "together", "refused"), [
    (False, False, False, False), (True, True, False, False), (True, False, True, False), (True, False, False, True),
])
def test_the_publication_guard(is_sub, main_published, together, refused) -> None:
    outcome = workflow.guard_publish(is_sub_item=is_sub, main_published=main_published, main_publishing_too=together)
    assert (outcome is not None) is refused


@pytest.mark.parametrize(("reason", "has_date", "code"), [
    ("", True, "catalog.abolish_reason"), ("  ", True, "catalog.abolish_reason"),
    ("法律废止", False, "catalog.abolish_date"), ("法律废止", True, None),
])
def test_the_abolition_guard(reason, has_date, code) -> None:
    outcome = workflow.guard_abolish(reason=reason, has_date=has_date)
    assert (outcome.code if outcome else None) == code


@pytest.mark.parametrize(("action", "comment", "refused"), [("reject", "", True), ("reject", "请补充依据", False),
                                                            ("approve", "", False)])
def test_returning_needs_a_comment(action, comment, refused) -> None:
    assert (workflow.guard_comment(action, comment) is not None) is refused
