"""The version life cycle of a supervision item: a plain transition table plus guards. Pure Python, no database.

::

    draft ──submit──▶ submitted ──approve──▶ approved ──publish──▶ published ──(newer published)──▶ superseded
      ▲                 │  │                    │
      └────withdraw─────┘  └──reject──▶ rejected ◀──reject──┘
      └──────────────reopen─────────────┘
    any state but superseded/abolished ──abolish──▶ abolished

Editing is allowed only in ``draft`` (editing a ``rejected`` version reopens it first). A published version is
never edited: a revision is a new draft version based on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from jianguan.catalog.choices import VersionStatus as S

#: state → states allowed next
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.ABOLISHED}),
    S.SUBMITTED: frozenset({S.APPROVED, S.REJECTED, S.DRAFT, S.ABOLISHED}),
    S.APPROVED: frozenset({S.PUBLISHED, S.REJECTED, S.ABOLISHED}),
    S.REJECTED: frozenset({S.DRAFT, S.ABOLISHED}),
    S.PUBLISHED: frozenset({S.SUPERSEDED, S.ABOLISHED}),
    S.SUPERSEDED: frozenset(),
    S.ABOLISHED: frozenset(),
}

#: named actions → (from states, to state)
ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({S.DRAFT}), S.SUBMITTED),
    "withdraw": (frozenset({S.SUBMITTED}), S.DRAFT),
    "approve": (frozenset({S.SUBMITTED}), S.APPROVED),
    "reject": (frozenset({S.SUBMITTED, S.APPROVED}), S.REJECTED),
    "reopen": (frozenset({S.REJECTED}), S.DRAFT),
    "publish": (frozenset({S.APPROVED}), S.PUBLISHED),
    "supersede": (frozenset({S.PUBLISHED}), S.SUPERSEDED),
    "abolish": (frozenset({S.DRAFT, S.SUBMITTED, S.APPROVED, S.REJECTED, S.PUBLISHED}), S.ABOLISHED),
}

EDITABLE: frozenset[str] = frozenset({S.DRAFT, S.REJECTED})
TERMINAL: frozenset[str] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


@dataclass(frozen=True)
class Refusal:
    """Why a transition is refused: a stable code and a Chinese message."""

    code: str
    message: str


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def target_of(action: str, current: str) -> str | Refusal:
    """The state ``action`` leads to from ``current``, or why it cannot be taken."""
    try:
        sources, target = ACTIONS[action]
    except KeyError:
        return Refusal("catalog.unknown_action", f"未知的操作：{action}")
    if current not in sources:
        return Refusal("catalog.invalid_transition", f"当前状态（{S(current).label}）不能执行该操作。")
    assert can_transition(current, target), (action, current, target)
    return target


def guard_review(author_id: int | None, reviewer_id: int | None) -> Refusal | None:
    """Four eyes: the person who wrote or submitted a version may not approve or return it."""
    if author_id is not None and author_id == reviewer_id:
        return Refusal("catalog.four_eyes", "不能审核本人编辑或提交的版本。")
    return None


def guard_publish(*, is_sub_item: bool, main_published: bool, main_publishing_too: bool = False) -> Refusal | None:
    """A sub-item goes public only under a published main item (or together with it)."""
    if is_sub_item and not (main_published or main_publishing_too):
        return Refusal("catalog.main_not_published", "所属主项尚未发布，子项不能先行发布。")
    return None


def guard_abolish(*, reason: str, has_date: bool) -> Refusal | None:
    if not reason.strip():
        return Refusal("catalog.abolish_reason", "废止须说明理由。")
    if not has_date:
        return Refusal("catalog.abolish_date", "废止须填写废止日期。")
    return None


def guard_comment(action: str, comment: str) -> Refusal | None:
    """Returning a version needs a comment saying what to fix."""
    if action == "reject" and not comment.strip():
        return Refusal("catalog.reject_comment", "退回须填写审核意见。")
    return None
