"""The public portal (公众门户) at /portal/complaints/: submit a complaint or report (with attachments, optionally
anonymous), track it with the ticket number and the verification code, and rate the answer.

Public pages never show who filed a ticket, internal notes or handlers' names: only the status, the public steps of
the timeline, and the reply. Tracking attempts are throttled per address.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jianguan.complaints import forms as f
from jianguan.complaints import services
from jianguan.complaints.choices import Channel, ComplaintStatus
from jianguan.complaints.models import Complaint
from jianguan.core.errors import DomainError
from jianguan.core.middleware import client_ip
from jianguan.core.views.base import apply_domain_error, no_store

TRACK_LIMIT = 20  # attempts per address per 10 minutes
TRACK_WINDOW = 600


def _throttled(request: HttpRequest, bucket: str) -> bool:
    key = f"complaints:{bucket}:{client_ip(request)}"
    count = cache.get(key, 0)
    if count >= TRACK_LIMIT:
        return True
    cache.set(key, count + 1, TRACK_WINDOW)
    return False


def _uploads(form: f.IntakeForm) -> list[services.UploadedFile]:
    files = []
    for upload in form.cleaned_data.get("attachments") or []:
        files.append(services.UploadedFile(name=upload.name, content_type=upload.content_type or "",
                                           data=upload.read()))
    return files


@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest) -> HttpResponse:
    """The submission form; on success the ticket number(s) and the verification code are shown once."""
    form = f.IntakeForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        if _throttled(request, "submit"):
            form.add_error(None, _("Too many submissions from your address; please try again later."))
        else:
            try:
                result = services.receive_complaint(
                    form.record(), actor=None, channel=Channel.PORTAL, attachments=_uploads(form),
                    idempotency_key=request.POST.get("submission_id") or None,
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                return no_store(render(request, "complaints/portal/submitted.html", {"result": result}))
    import uuid

    return render(request, "complaints/portal/submit.html", {"form": form, "submission_id": uuid.uuid4().hex},
                  status=400 if form.errors else 200)


def public_view(complaint: Complaint) -> dict[str, Any]:
    """What the public may see of a ticket: no reporter, no internal notes, no staff names."""
    events = [
        {"step": e.get_step_display(), "at": e.at, "note": e.note}
        for e in complaint.events.filter(public=True).order_by("at", "id")
    ]
    return {
        "ticket_no": complaint.ticket_no,
        "kind": complaint.get_kind_display(),
        "status": complaint.get_status_display(),
        "status_code": complaint.status,
        "title": complaint.title,
        "submitted_at": complaint.submitted_at,
        "due_at": complaint.due_at,
        "department": complaint.handling_org.name if complaint.handling_org_id and complaint.handling_org else "",
        "reply": complaint.reply if complaint.status in (ComplaintStatus.REPLIED, ComplaintStatus.CLOSED,
                                                         ComplaintStatus.EVALUATED) else "",
        "rating": complaint.get_rating_display() if complaint.rating else "",
        "can_rate": complaint.status == ComplaintStatus.CLOSED,
        "merged_into": complaint.merged_into.ticket_no if complaint.merged_into_id and complaint.merged_into else "",
        "events": events,
    }


@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    """Look a ticket up by number and verification code (POST, so the code never sits in a URL or a log)."""
    form = f.TrackForm(request.POST or None)
    ticket = None
    rate_form = None
    if request.method == "POST" and form.is_valid():
        if _throttled(request, "track"):
            form.add_error(None, _("Too many attempts; please try again in a few minutes."))
        else:
            complaint = services.track_complaint(form.cleaned_data["ticket_no"], form.cleaned_data["code"])
            if complaint is None:
                form.add_error(None, _("The ticket number or the verification code is not correct."))
            else:
                ticket = public_view(complaint)
                rate_form = f.PublicRateForm(initial={"ticket_no": complaint.ticket_no,
                                                      "code": form.cleaned_data["code"]})
    response = render(request, "complaints/portal/track.html", {"form": form, "ticket": ticket,
                                                                "rate_form": rate_form})
    return no_store(response)


@require_http_methods(["POST"])
def rate(request: HttpRequest) -> HttpResponse:
    """The person rates a closed ticket; dissatisfied reopens it."""
    form = f.PublicRateForm(request.POST)
    ticket = None
    message = ""
    if form.is_valid() and not _throttled(request, "track"):
        try:
            complaint = services.rate_by_reporter(form.cleaned_data["ticket_no"], form.cleaned_data["code"],
                                                  rating=form.cleaned_data["rating"],
                                                  comment=form.cleaned_data.get("comment", ""))
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            ticket = public_view(complaint)
            message = _("Thank you for your rating.")
    return no_store(render(request, "complaints/portal/track.html", {
        "form": f.TrackForm(initial={"ticket_no": request.POST.get("ticket_no", "")}), "ticket": ticket,
        "rate_form": form if ticket is None else None, "message": message,
    }, status=200 if ticket is not None else 400))
