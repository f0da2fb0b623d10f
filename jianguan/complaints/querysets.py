"""Named queries over work orders; every user-facing one starts from ``visible_to(user, action)``."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models
from django.db.models import Q

from jianguan.complaints.choices import (
    CLOCK_STATUSES,
    DONE_STATUSES,
    OPEN_STATUSES,
    ComplaintKind,
    ComplaintStatus,
)
from jianguan.core.scope import ScopedQuerySet, user_sees_all_departments

if TYPE_CHECKING:
    from jianguan.complaints.models import Complaint  # noqa: F401

_M = TypeVar("_M", bound=models.Model)


class ComplaintQuerySet(ScopedQuerySet["Complaint"]):
    """Work orders. Scope: the handling region subtree and the handling department; a co-unit (协办单位) with an
    active assignment sees the ticket too."""

    def in_scope_of(self, user: Any) -> ComplaintQuerySet:
        base = super().in_scope_of(user)
        if user is None or not getattr(user, "is_authenticated", False) or user_sees_all_departments(user):
            return base  # type: ignore[return-value]
        if user.organization_id is None or getattr(user, "region", None) is None:
            return base  # type: ignore[return-value]
        from jianguan.complaints.models import Assignment

        prefix = user.region.scope_prefix
        co_units = Assignment.objects.filter(
            organization_id=user.organization_id, active=True, organization__region__code__startswith=prefix
        ).values("complaint_id")
        return base | self.filter(pk__in=co_units)  # type: ignore[return-value]

    def open(self) -> ComplaintQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def running_clock(self) -> ComplaintQuerySet:
        """Registered work orders whose handling clock runs (not yet replied)."""
        return self.filter(status__in=CLOCK_STATUSES, due_at__isnull=False)

    def overdue(self, now: dt.datetime) -> ComplaintQuerySet:
        """Past the handling deadline and not yet replied."""
        return self.running_clock().filter(due_at__lt=now)

    def due_for_reminder(self, now: dt.datetime) -> ComplaintQuerySet:
        """Past the reminder point (e.g. 80 % of the limit), not overdue yet, not reminded in this cycle."""
        return self.running_clock().filter(remind_at__lte=now, due_at__gte=now, reminded_at__isnull=True)

    def decision_overdue(self, now: dt.datetime) -> ComplaintQuerySet:
        """Complaints whose acceptance decision (7 working days) is late and not yet chased."""
        return self.open().filter(kind=ComplaintKind.COMPLAINT, decision_due_at__lt=now, decided_at__isnull=True,
                                  decision_supervised_at__isnull=True)

    def notice_overdue(self, now: dt.datetime) -> ComplaintQuerySet:
        """Reports whose real-name reporter has not been told of the decision in time and not yet chased."""
        return self.exclude(status__in=(ComplaintStatus.MERGED, ComplaintStatus.INVALID)).filter(
            notify_due_at__lt=now, reporter_told_at__isnull=True, notice_supervised_at__isnull=True)

    def awaiting_dispatch(self) -> ComplaintQuerySet:
        return self.filter(status__in=(ComplaintStatus.RECEIVED, ComplaintStatus.REGISTERED))

    def awaiting_reply(self) -> ComplaintQuerySet:
        return self.filter(status__in=(ComplaintStatus.DISPATCHED, ComplaintStatus.HANDLING))

    def awaiting_visit(self) -> ComplaintQuerySet:
        return self.filter(status=ComplaintStatus.CLOSED)

    def done(self) -> ComplaintQuerySet:
        return self.filter(status__in=DONE_STATUSES)

    def for_subject(self, subject: Any) -> ComplaintQuerySet:
        return self.filter(subject=subject)

    def for_region(self, code: str) -> ComplaintQuerySet:
        return self.filter(handling_region__code__startswith=code.rstrip("0") or code)

    def in_window(self, start: dt.datetime, end: dt.datetime) -> ComplaintQuerySet:
        return self.filter(submitted_at__gte=start, submitted_at__lt=end)

    def with_text(self, text: str) -> ComplaintQuerySet:
        text = text.strip()
        if not text:
            return self
        return self.filter(Q(ticket_no=text) | Q(title__icontains=text) | Q(subject_name__icontains=text))


class ComplaintChildQuerySet(ScopedQuerySet[_M]):
    """Rows that belong to a ticket (timeline, assignments, supervisions …): scoped through their ticket."""

    def in_scope_of(self, user: Any) -> ComplaintChildQuerySet[_M]:
        from jianguan.complaints.models import Complaint

        visible = Complaint.objects.in_scope_of(user).values("pk")
        return self.filter(complaint_id__in=visible)
