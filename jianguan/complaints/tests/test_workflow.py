"""The transition table and its guards, exhaustively (pure: no database)."""

from __future__ import annotations

import itertools

import pytest

from jianguan.complaints import workflow
from jianguan.complaints.choices import ComplaintKind, ComplaintStatus, Rating
from jianguan.core.errors import ConflictError

S = ComplaintStatus
OK = workflow.Facts(kind=ComplaintKind.COMPLAINT, has_category=True, has_handling_org=True, decision_made=True,
                    decision_accepted=True, rating=Rating.SATISFIED, reply_text="已处理")

EXPECTED = {
    "accept": ({S.RECEIVED}, S.REGISTERED),
    "reject_intake": ({S.RECEIVED, S.REGISTERED}, S.INVALID),
    "merge": ({S.RECEIVED, S.REGISTERED, S.DISPATCHED}, S.MERGED),
    "dispatch": ({S.REGISTERED}, S.DISPATCHED),
    "reassign": ({S.DISPATCHED, S.HANDLING}, S.DISPATCHED),
    "return": ({S.DISPATCHED}, S.REGISTERED),
    "sign": ({S.DISPATCHED}, S.HANDLING),
    "reply": ({S.HANDLING}, S.REPLIED),
    "send_back": ({S.REPLIED}, S.HANDLING),
    "close": ({S.REPLIED}, S.CLOSED),
    "rate": ({S.CLOSED}, S.EVALUATED),
}


@pytest.mark.parametrize(("action", "status"), list(itertools.product(sorted(workflow.ACTIONS), S.values)))
def test_every_action_from_every_state_is_allowed_or_refused_with_409(action: str, status: str) -> None:
    spec = workflow.ACTIONS[action]
    facts = OK
    if action == "reopen":
        facts = workflow.Facts(kind=ComplaintKind.COMPLAINT, rating=Rating.DISSATISFIED)
    if action == "answer_directly":
        facts = workflow.Facts(kind=ComplaintKind.CONSULTATION)
    if status in spec.sources:
        assert workflow.next_status(action, status, facts) == (spec.target or status)
    else:
        with pytest.raises(ConflictError):
            workflow.next_status(action, status, facts)


@pytest.mark.parametrize(("action", "expected"), list(EXPECTED.items()))
def test_the_main_line_matches_the_12345_model(action: str, expected: tuple[set[str], str]) -> None:
    sources, target = expected
    assert set(workflow.ACTIONS[action].sources) == set(sources)
    assert workflow.ACTIONS[action].target == target


def test_final_states_lead_nowhere() -> None:
    for status in (S.EVALUATED, S.MERGED, S.INVALID):
        assert workflow.ALLOWED[status] == frozenset()
    assert workflow.ALLOWED[S.CLOSED] == {S.EVALUATED, S.HANDLING}


def test_it_refuses_to_register_or_dispatch_without_a_category() -> None:
    bare = workflow.Facts(kind=ComplaintKind.REPORT, has_category=False)
    with pytest.raises(workflow.TransitionRefused) as exc:
        workflow.next_status("accept", S.RECEIVED, bare)
    assert exc.value.code == "complaint.category_required"


def test_it_refuses_to_dispatch_without_a_department() -> None:
    with pytest.raises(workflow.TransitionRefused) as exc:
        workflow.next_status("dispatch", S.REGISTERED, workflow.Facts(kind="report", has_handling_org=False))
    assert exc.value.code == "complaint.department_required"


@pytest.mark.parametrize("kind", [ComplaintKind.COMPLAINT, ComplaintKind.REPORT])
def test_a_complaint_or_report_needs_a_decision_before_the_reply(kind: str) -> None:
    with pytest.raises(workflow.TransitionRefused) as exc:
        workflow.next_status("reply", S.HANDLING, workflow.Facts(kind=kind, reply_text="好", decision_made=False))
    assert exc.value.code == "complaint.decision_required"
    assert workflow.next_status("reply", S.HANDLING, workflow.Facts(kind="consultation", reply_text="好")) == S.REPLIED


def test_an_empty_reply_is_refused() -> None:
    with pytest.raises(workflow.TransitionRefused):
        workflow.next_status("reply", S.HANDLING, workflow.Facts(kind="help", reply_text="  "))


@pytest.mark.parametrize("kind", [ComplaintKind.COMPLAINT, ComplaintKind.REPORT])
def test_only_consultations_suggestions_and_help_are_answered_directly(kind: str) -> None:
    with pytest.raises(workflow.TransitionRefused):
        workflow.next_status("answer_directly", S.REGISTERED, workflow.Facts(kind=kind))


def test_a_dissatisfied_rating_reopens_and_a_satisfied_one_archives() -> None:
    assert workflow.rating_action(Rating.DISSATISFIED) == "reopen"
    assert workflow.rating_action(Rating.BASICALLY_SATISFIED) == "rate"
    unhappy = workflow.Facts(kind="complaint", rating="dissatisfied")
    assert workflow.next_status("reopen", S.CLOSED, unhappy) == S.HANDLING
    with pytest.raises(workflow.TransitionRefused):
        workflow.next_status("rate", S.CLOSED, workflow.Facts(kind="complaint", rating="dissatisfied"))
    with pytest.raises(workflow.TransitionRefused):
        workflow.next_status("reopen", S.CLOSED, workflow.Facts(kind="complaint", rating="satisfied"))


def test_only_complaints_and_reports_can_be_split() -> None:
    with pytest.raises(workflow.TransitionRefused):
        workflow.next_status("split", S.RECEIVED, workflow.Facts(kind="consultation"))


def test_an_unknown_action_is_refused() -> None:
    with pytest.raises(workflow.TransitionRefused):
        workflow.next_status("teleport", S.RECEIVED, OK)


def test_the_buttons_follow_the_table() -> None:
    assert "accept" in workflow.actions_from(S.RECEIVED)
    assert "reply" not in workflow.actions_from(S.RECEIVED)
