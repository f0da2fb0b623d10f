"""Single-object access for the complaints module: out of scope looks exactly like not found."""

from __future__ import annotations

from typing import Any

from jianguan.complaints.models import Complaint
from jianguan.core.access import get_object_for


def get_complaint_for(user: Any, pk: Any, action: str = "view") -> Complaint:
    """The ticket ``pk`` if ``user`` may do ``action`` on it: 404 when missing or out of scope, 403 when visible but
    the action is not granted."""
    return get_object_for(user, Complaint, pk, action)


def get_complaint_by_number_for(user: Any, ticket_no: str, action: str = "view") -> Complaint:
    pk = Complaint.objects.filter(ticket_no=ticket_no.strip()).values_list("pk", flat=True).first()
    return get_object_for(user, Complaint, pk if pk is not None else 0, action)
