"""Events this module publishes (its public contract). Payloads carry ids and codes only — never the reporter's
identity. The data centre's 投诉举报 library consumes them (``complaints.*``)."""

from __future__ import annotations

from dataclasses import dataclass

RECEIVED = "complaints.complaint_received"
ACCEPTED = "complaints.complaint_accepted"  # registered (受理) as a work order
DISPATCHED = "complaints.complaint_dispatched"
REPLIED = "complaints.complaint_replied"
SUPERVISED = "complaints.complaint_supervised"
CLOSED = "complaints.complaint_closed"
RATED = "complaints.complaint_rated"
REOPENED = "complaints.complaint_reopened"
MERGED = "complaints.complaint_merged"
REJECTED = "complaints.complaint_rejected"


@dataclass(frozen=True)
class ComplaintEventPayload:
    """The one payload shape of every complaints event."""

    complaint_id: int
    ticket_no: str
    filing_no: str
    kind: str
    status: str
    channel: str
    category_code: str | None
    region_code: str
    handling_region_code: str
    handling_org_code: str | None
    subject_id: int | None
    subject_uscc: str | None
    at: str
    due_at: str | None = None
    rating: str | None = None
    supervision_kind: str | None = None
    merged_into: str | None = None
