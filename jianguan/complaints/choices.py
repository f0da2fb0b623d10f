"""Stable codes of the complaints module (translated labels; the codes never change)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ComplaintKind(models.TextChoices):
    """工单类型. A filing that is both a complaint and a report is split in two at intake."""

    COMPLAINT = "complaint", _("Complaint")
    REPORT = "report", _("Report")
    CONSULTATION = "consultation", _("Consultation")
    SUGGESTION = "suggestion", _("Suggestion")
    HELP = "help", _("Request for help")


#: Intake-only kind: "complaint and report" in one filing; never stored (split into one of each).
COMPLAINT_AND_REPORT = "complaint_report"
INTAKE_KINDS = (*ComplaintKind.values, COMPLAINT_AND_REPORT)


class ComplaintStatus(models.TextChoices):
    """工单状态: 受理 → 调度 → 办理 → 回复 → 办结 → 回访/评价 (督办 runs alongside)."""

    RECEIVED = "received", _("Received")
    REGISTERED = "registered", _("Registered, awaiting dispatch")
    DISPATCHED = "dispatched", _("Dispatched")
    HANDLING = "handling", _("Being handled")
    REPLIED = "replied", _("Replied")
    CLOSED = "closed", _("Closed")
    EVALUATED = "evaluated", _("Rated")
    MERGED = "merged", _("Merged")
    INVALID = "invalid", _("Not accepted")


OPEN_STATUSES = (
    ComplaintStatus.RECEIVED,
    ComplaintStatus.REGISTERED,
    ComplaintStatus.DISPATCHED,
    ComplaintStatus.HANDLING,
    ComplaintStatus.REPLIED,
)
#: States in which a handling clock runs (registered work orders not yet replied).
CLOCK_STATUSES = (ComplaintStatus.REGISTERED, ComplaintStatus.DISPATCHED, ComplaintStatus.HANDLING)
DONE_STATUSES = (ComplaintStatus.CLOSED, ComplaintStatus.EVALUATED)
FINAL_STATUSES = (ComplaintStatus.EVALUATED, ComplaintStatus.MERGED, ComplaintStatus.INVALID)


class Channel(models.TextChoices):
    PORTAL = "portal", _("Public portal")
    HOTLINE = "hotline", _("12345 hotline")
    API = "api", _("Department system (API)")
    OPEN311 = "open311", _("Open311 client")
    STAFF = "staff", _("Registered by staff")


class ReturnReason(models.TextChoices):
    """退单原因."""

    NOT_COMPETENT = "not_competent", _("Not this department's duty")
    WRONG_REGION = "wrong_region", _("Outside this department's area")
    INSUFFICIENT = "insufficient", _("Information insufficient to act on")
    DUPLICATE = "duplicate", _("Duplicate of another ticket")
    OTHER = "other", _("Other")


class RejectionGround(models.TextChoices):
    """不予受理 grounds (总局令第20号) and the 12345 centre's own ones."""

    HANDLED_ELSEWHERE = "handled_elsewhere", _("Already handled or being handled elsewhere")
    NOT_CONSUMER = "not_consumer", _("Not a consumer dispute")
    TIME_BARRED = "time_barred", _("More than three years since the harm was known")
    MATERIALS_MISSING = "materials_missing", _("Required information missing")
    NO_JURISDICTION = "no_jurisdiction", _("Outside the department's jurisdiction")
    NO_CONTENT = "no_content", _("No actionable content")
    OTHER = "other", _("Other")


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASICALLY_SATISFIED = "basically_satisfied", _("Basically satisfied")
    DISSATISFIED = "dissatisfied", _("Dissatisfied")


SATISFIED_RATINGS = (Rating.SATISFIED, Rating.BASICALLY_SATISFIED)


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("Lead unit")
    CO = "co", _("Co-unit")


class AssignmentStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting sign-off")
    ACCEPTED = "accepted", _("Signed off")
    RETURNED = "returned", _("Returned to the centre")
    WITHDRAWN = "withdrawn", _("Withdrawn on re-dispatch")


class SupervisionKind(models.TextChoices):
    """督办: a reminder before the deadline (催办), an automatic one when overdue, or a supervisor's instruction."""

    REMINDER = "reminder", _("Reminder before the deadline")
    OVERDUE = "overdue", _("Automatic supervision (overdue)")
    MANUAL = "manual", _("Supervision by a supervisor")
    DECISION = "decision", _("Automatic supervision (acceptance decision overdue)")
    NOTICE = "notice", _("Automatic supervision (real-name reporter not told)")


class SupervisionStatus(models.TextChoices):
    OPEN = "open", _("Awaiting answer")
    ANSWERED = "answered", _("Answered")


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class SubjectMatch(models.TextChoices):
    """How the entity concerned was linked to a 监管对象 record."""

    NONE = "none", _("Not linked")
    USCC = "uscc", _("By credit code")
    CANDIDATE = "candidate", _("Candidate by name and address (to confirm)")
    CONFIRMED = "confirmed", _("Confirmed by staff")


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    MERGED = "merged", _("Merged")
    DISMISSED = "dismissed", _("Dismissed")


class Step(models.TextChoices):
    """Timeline steps (工单流转记录)."""

    RECEIVED = "received", _("Received")
    SPLIT = "split", _("Split into complaint and report")
    REGISTERED = "registered", _("Registered")
    REJECTED = "rejected", _("Not accepted")
    MERGED = "merged", _("Merged into another ticket")
    DISPATCHED = "dispatched", _("Dispatched")
    REASSIGNED = "reassigned", _("Re-dispatched")
    RETURNED = "returned", _("Returned by the department")
    ACCEPTED = "accepted", _("Signed off by the department")
    DECIDED = "decided", _("Acceptance decision")
    PROGRESS = "progress", _("Investigation")
    REPLIED = "replied", _("Replied")
    SENT_BACK = "sent_back", _("Reply sent back for rework")
    CLOSED = "closed", _("Closed")
    VISITED = "visited", _("Follow-up call")
    RATED = "rated", _("Rated")
    REOPENED = "reopened", _("Reopened (dissatisfied)")
    REMINDED = "reminded", _("Reminder")
    SUPERVISED = "supervised", _("Supervision")
    SUPERVISION_ANSWERED = "supervision_answered", _("Supervision answered")
    EXTENSION_REQUESTED = "extension_requested", _("Extension requested")
    EXTENSION_DECIDED = "extension_decided", _("Extension decided")
    CLASSIFIED = "classified", _("Category corrected")
    SUBJECT_LINKED = "subject_linked", _("Entity linked")
    PUBLIC_UPDATE = "public_update", _("Update from the public")
    REPORTER_TOLD = "reporter_told", _("Reporter told of the decision")
