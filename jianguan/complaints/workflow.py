"""The work-order (工单) workflow: a transition table and guards. Pure Python, no database.

受理 → 调度/转办 → 办理 → 回复 → 办结 → 回访/评价; 督办 and extensions run alongside the handling states; a dissatisfied
rating reopens the ticket (重办). Every service in ``services.py`` asks :func:`next_status` before it writes.

``ACTIONS`` maps each action to the states it may start from and the state it leads to (``None``: stays where it is).
``ALLOWED`` is the derived "state → states allowed next" table that STYLE.md asks for.
"""

from __future__ import annotations

from dataclasses import dataclass

from jianguan.complaints.choices import ComplaintKind, ComplaintStatus, Rating
from jianguan.core.errors import ConflictError, DomainError

S = ComplaintStatus


@dataclass(frozen=True)
class Action:
    sources: frozenset[str]
    target: str | None  # None: the status does not change


ACTIONS: dict[str, Action] = {
    # 12345 centre: accept (受理, register as a work order), refuse, merge (并单), split, answer a consultation at
    # once, dispatch (派单/改派).
    "accept": Action(frozenset({S.RECEIVED}), S.REGISTERED),
    "reject_intake": Action(frozenset({S.RECEIVED, S.REGISTERED}), S.INVALID),
    "merge": Action(frozenset({S.RECEIVED, S.REGISTERED, S.DISPATCHED}), S.MERGED),
    "split": Action(frozenset({S.RECEIVED, S.REGISTERED}), None),
    "classify": Action(frozenset({S.RECEIVED, S.REGISTERED, S.DISPATCHED}), None),
    "link_subject": Action(frozenset({S.RECEIVED, S.REGISTERED, S.DISPATCHED, S.HANDLING}), None),
    "answer_directly": Action(frozenset({S.REGISTERED}), S.CLOSED),
    "dispatch": Action(frozenset({S.REGISTERED}), S.DISPATCHED),
    "reassign": Action(frozenset({S.DISPATCHED, S.HANDLING}), S.DISPATCHED),
    # Department: return (退单), sign (签收), decide on acceptance, investigate, reply.
    "return": Action(frozenset({S.DISPATCHED}), S.REGISTERED),
    "sign": Action(frozenset({S.DISPATCHED}), S.HANDLING),
    "decide": Action(frozenset({S.HANDLING}), None),
    "tell_reporter": Action(frozenset({S.HANDLING, S.REPLIED, S.CLOSED, S.EVALUATED}), None),
    "progress": Action(frozenset({S.DISPATCHED, S.HANDLING}), None),
    "reply": Action(frozenset({S.HANDLING}), S.REPLIED),
    # Centre: send a reply back, close (办结), follow-up call with rating (回访/评价).
    "send_back": Action(frozenset({S.REPLIED}), S.HANDLING),
    "close": Action(frozenset({S.REPLIED}), S.CLOSED),
    "rate": Action(frozenset({S.CLOSED}), S.EVALUATED),
    "reopen": Action(frozenset({S.CLOSED}), S.HANDLING),
    # Alongside: 督办, extensions, the sweeps.
    "supervise": Action(frozenset({S.REGISTERED, S.DISPATCHED, S.HANDLING, S.REPLIED}), None),
    "answer_supervision": Action(frozenset({S.REGISTERED, S.DISPATCHED, S.HANDLING, S.REPLIED, S.CLOSED}), None),
    "request_extension": Action(frozenset({S.DISPATCHED, S.HANDLING}), None),
    "decide_extension": Action(frozenset({S.DISPATCHED, S.HANDLING}), None),
    "remind": Action(frozenset({S.REGISTERED, S.DISPATCHED, S.HANDLING}), None),
    "public_update": Action(frozenset({S.RECEIVED, S.REGISTERED, S.DISPATCHED, S.HANDLING, S.REPLIED}), None),
}


def _allowed() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {status: set() for status in S.values}
    for action in ACTIONS.values():
        for source in action.sources:
            if action.target is not None and action.target != source:
                table[source].add(action.target)
    return {status: frozenset(targets) for status, targets in table.items()}


#: State → the states that may follow it (derived from ``ACTIONS``; self-loops are left out).
ALLOWED: dict[str, frozenset[str]] = _allowed()


@dataclass(frozen=True)
class Facts:
    """What the guards need to know about a ticket (built by the service from the row)."""

    kind: str
    has_category: bool = True
    has_handling_org: bool = False
    decision_made: bool = False
    decision_accepted: bool | None = None
    rating: str | None = None
    reply_text: str = ""
    reporter_real_name: bool = False


class TransitionRefused(DomainError):
    """The action is not possible in the ticket's current state, or a guard refused it."""


def _guard(action: str, facts: Facts) -> None:
    if action in ("accept", "dispatch") and not facts.has_category:
        raise TransitionRefused("complaint.category_required", "请先确定工单分类。",
                                fields={"category": ["请选择分类。"]})
    if action == "dispatch" and not facts.has_handling_org:
        raise TransitionRefused("complaint.department_required", "派单目录中没有找到承办部门，请手工指定。",
                                fields={"lead_org": ["请选择承办部门。"]})
    if action == "answer_directly" and facts.kind not in (ComplaintKind.CONSULTATION, ComplaintKind.SUGGESTION,
                                                          ComplaintKind.HELP):
        raise TransitionRefused("complaint.direct_answer_kind", "只有咨询、建议、求助类工单可以直接答复办结。")
    if action == "split" and facts.kind not in (ComplaintKind.COMPLAINT, ComplaintKind.REPORT):
        raise TransitionRefused("complaint.split_kind", "只有投诉或举报工单可以拆分。")
    if action == "reply":
        if facts.kind in (ComplaintKind.COMPLAINT, ComplaintKind.REPORT) and not facts.decision_made:
            raise TransitionRefused("complaint.decision_required", "投诉、举报须先作出是否受理（立案）的决定，再答复。")
        if not facts.reply_text.strip():
            raise TransitionRefused("complaint.reply_required", "请填写答复内容。",
                                    fields={"reply": ["请填写答复内容。"]})
    if action == "rate" and facts.rating not in (Rating.SATISFIED, Rating.BASICALLY_SATISFIED):
        raise TransitionRefused("complaint.rating_dissatisfied", "不满意的评价应重办，而不是归档。")
    if action == "reopen" and facts.rating != Rating.DISSATISFIED:
        raise TransitionRefused("complaint.reopen_needs_dissatisfied", "只有不满意的评价才会重办。")


def next_status(action: str, current: str, facts: Facts) -> str:
    """The status after ``action`` from ``current``, or a refusal (409 when the state no longer fits: someone else
    was quicker, or the page was stale)."""
    try:
        spec = ACTIONS[action]
    except KeyError:
        raise TransitionRefused("complaint.unknown_action", f"未知的操作：{action}") from None
    if current not in spec.sources:
        raise ConflictError(
            "complaint.wrong_state",
            f"工单当前状态为“{S(current).label}”，不能执行该操作。",
        )
    _guard(action, facts)
    return spec.target or current


def rating_action(rating: str) -> str:
    """A rating archives the ticket, or reopens it when the person is dissatisfied."""
    return "reopen" if rating == Rating.DISSATISFIED else "rate"


def actions_from(status: str) -> list[str]:
    """Actions that may start from ``status`` (for the UI's buttons)."""
    return [name for name, spec in ACTIONS.items() if status in spec.sources]
