"""Staff pages of 投诉举报: the scoped list (with CSV export), the ticket page with its timeline and one form per
allowed step, reporter unmasking, statistics, and the dispatch catalogue. Views fetch through scope, validate a
form, call a service, and show a ``DomainError`` on the form."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from jianguan.complaints import forms as f
from jianguan.complaints import services, stats, workflow
from jianguan.complaints.access import get_complaint_for
from jianguan.complaints.choices import Channel, ComplaintKind, ComplaintStatus, SupervisionStatus
from jianguan.complaints.filtersets import ComplaintFilterSet
from jianguan.complaints.models import (
    Category,
    Complaint,
    DeadlineExtension,
    DispatchRule,
    DuplicateProposal,
    Supervision,
)
from jianguan.complaints.routing import route
from jianguan.core import audit
from jianguan.core.errors import DomainError
from jianguan.core.models import Organization, Subject
from jianguan.core.views.base import (
    apply_domain_error,
    no_store,
    paginate,
    permission_required,
    polish_filter_form,
    render_page,
)

VIEW = "complaints.view_complaint"


# --- list and export -----------------------------------------------------------------------------------------------


def _filterset(request: HttpRequest, action: str) -> ComplaintFilterSet:
    queryset = (
        Complaint.objects.visible_to(request.user, action)
        .select_related("category", "handling_org", "handling_region")
        .order_by("-submitted_at", "-id")
    )
    filterset = ComplaintFilterSet(request.GET, queryset=queryset)
    polish_filter_form(filterset, request.user, {
        "q": _("Keyword or ticket number"), "kind": _("Type"), "status": _("Status"), "channel": _("Channel"),
        "region": _("Handling region"), "overdue": _("Overdue"),
    })
    form = filterset.form
    for name in ("ticket_no", "filing_no", "place_region", "handling_org_id", "handling_org_code", "subject_id",
                 "subject_uscc", "category", "submitted_after", "submitted_before"):
        form.fields.pop(name, None)
    return filterset


@permission_required(VIEW)
def complaint_list(request: HttpRequest) -> HttpResponse:
    filterset = _filterset(request, "view")
    page = paginate(request, filterset.qs)
    context = {
        "filterset": filterset,
        "page": page,
        "now": timezone.now(),
        "can_add": request.user.has_perm("complaints.add_complaint"),
        "can_export": request.user.has_perm("complaints.export_complaint"),
    }
    return render_page(request, "complaints/complaint_list.html", "complaints/partials/complaint_table.html", context)


def _csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


@permission_required("complaints.export_complaint")
def complaint_export(request: HttpRequest) -> HttpResponse:
    """The filtered, scoped list as CSV. Reporter identity is never exported (not even masked)."""
    filterset = _filterset(request, "export")
    if not filterset.is_valid():
        messages.error(request, _("The filter is not valid; nothing was exported."))
        return redirect("complaints:complaint_list")
    queryset = filterset.qs
    audit.record_export("complaints.complaint.exported", object_type="complaints.complaint", count=queryset.count(),
                        filters={k: str(v) for k, v in filterset.form.cleaned_data.items() if v not in (None, "", [])},
                        fmt="csv")
    kinds, statuses = dict(ComplaintKind.choices), dict(ComplaintStatus.choices)
    header = [_("Ticket number"), _("Type"), _("Status"), _("Title"), _("Category"), _("Place region"),
              _("Handling department"), _("Entity concerned"), _("Submitted at"), _("Due at"), _("Replied at"),
              _("Rating")]

    def rows() -> Iterator[str]:
        writer = csv.writer(_Echo())
        yield "\ufeff"
        yield writer.writerow([str(h) for h in header])
        for c in queryset.iterator(chunk_size=2000):
            yield writer.writerow([_csv_cell(v) for v in (
                c.ticket_no, kinds.get(c.kind, c.kind), statuses.get(c.status, c.status), c.title,
                c.category.name if c.category else "", c.region_id, c.handling_org.name if c.handling_org else "",
                c.subject_name, timezone.localtime(c.submitted_at).strftime("%Y-%m-%d %H:%M"),
                timezone.localtime(c.due_at).strftime("%Y-%m-%d") if c.due_at else "",
                timezone.localtime(c.replied_at).strftime("%Y-%m-%d") if c.replied_at else "", c.rating,
            )])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="complaints-{timezone.localdate().isoformat()}.csv"'
    return no_store(response)


@permission_required("complaints.add_complaint")
@require_http_methods(["GET", "POST"])
def complaint_create(request: HttpRequest) -> HttpResponse:
    """A 12345 operator registers a call (channel: hotline)."""
    form = f.IntakeForm(request.POST or None, request.FILES or None)
    form.fields.pop("attachments")
    if request.method == "POST" and form.is_valid():
        try:
            result = services.receive_complaint(form.record(), actor=request.user, channel=Channel.HOTLINE)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Registered as %(numbers)s; verification code %(code)s.") % {
                "numbers": "、".join(result.ticket_numbers), "code": result.tracking_code})
            return redirect("complaints:complaint_detail", pk=result.complaints[0].pk)
    return render(request, "complaints/complaint_form.html", {"form": form})


# --- detail and actions ----------------------------------------------------------------------------------------------


def _category(code: str) -> Category:
    category = Category.objects.filter(code=code, active=True).first()
    if category is None:
        raise DomainError("complaint.category", _("Unknown category."), fields={"category": [_("Unknown category.")]})
    return category


def _merge_target(user: Any, ref: str) -> Complaint:
    pk = Complaint.objects.filter(ticket_no=ref.strip()).values_list("pk", flat=True).first()
    try:
        return get_complaint_for(user, pk or 0, "dispatch")
    except Http404:
        raise DomainError("complaint.merge_target", _("No such ticket."), fields={"into": [_("No such ticket.")]}) \
            from None


def _supervision(c: Complaint, pk: int) -> Supervision:
    found = Supervision.objects.filter(pk=pk, complaint=c, status=SupervisionStatus.OPEN).first()
    if found is None:
        raise DomainError("complaint.supervision", _("No such open supervision."))
    return found


def _extension(c: Complaint, pk: int) -> DeadlineExtension:
    found = DeadlineExtension.objects.filter(pk=pk, complaint=c).first()
    if found is None:
        raise DomainError("complaint.extension", _("No such extension request."))
    return found


def _subject(user: Any, pk: int) -> Subject:
    subject = Subject.objects.visible_to(user, "view").filter(pk=pk).first()
    if subject is None:
        raise DomainError("complaint.subject", _("No such entity in your scope."),
                          fields={"subject": [_("Not found.")]})
    return subject


@dataclass(frozen=True)
class UiAction:
    label: Any
    form: type[forms.Form]
    permission: str  # the ticket action (complaints.<permission>_complaint)
    workflow_action: str
    run: Callable[[Complaint, Any, dict[str, Any]], Any]
    primary: bool = False


UI_ACTIONS: dict[str, UiAction] = {
    "accept": UiAction(gettext_lazy("Accept and register"), f.AcceptForm, "dispatch", "accept",
                       lambda c, u, d: services.accept_complaint(c, actor=u, category=_category(d["category"]),
                                                                 kind=d["kind"], note=d["note"]), True),
    "classify": UiAction(gettext_lazy("Correct the category"), f.ClassifyForm, "dispatch", "classify",
                         lambda c, u, d: services.classify_complaint(c, actor=u, category=_category(d["category"]),
                                                                     note=d["note"])),
    "dispatch": UiAction(gettext_lazy("Dispatch"), f.DispatchForm, "dispatch", "dispatch",
                         lambda c, u, d: services.dispatch_complaint(c, actor=u, lead_org=d["lead_org"],
                                                                     co_orgs=list(d["co_orgs"]) if d["lead_org"]
                                                                     else None, note=d["note"]), True),
    "reassign": UiAction(gettext_lazy("Re-dispatch"), f.DispatchForm, "dispatch", "reassign",
                         lambda c, u, d: services.dispatch_complaint(c, actor=u, lead_org=d["lead_org"],
                                                                     co_orgs=list(d["co_orgs"]) if d["lead_org"]
                                                                     else None, note=d["note"])),
    "answer_directly": UiAction(gettext_lazy("Answer directly and close"), f.DirectAnswerForm, "dispatch",
                                "answer_directly",
                                lambda c, u, d: services.answer_directly(c, actor=u, reply=d["reply"])),
    "merge": UiAction(gettext_lazy("Merge into another ticket"), f.MergeForm, "dispatch", "merge",
                      lambda c, u, d: services.merge_complaint(c, actor=u, into=_merge_target(u, d["into"]),
                                                               note=d["note"])),
    "split": UiAction(gettext_lazy("Split into complaint and report"), f.NoteForm, "dispatch", "split",
                      lambda c, u, d: services.split_complaint(c, actor=u, note=d["note"])),
    "reject": UiAction(gettext_lazy("Do not accept"), f.RejectForm, "dispatch", "reject_intake",
                       lambda c, u, d: services.reject_intake(c, actor=u, ground=d["ground"], note=d["note"])),
    "sign": UiAction(gettext_lazy("Sign for the ticket"), f.NoteForm, "handle", "sign",
                     lambda c, u, d: services.sign_for_complaint(c, actor=u, note=d["note"]), True),
    "return": UiAction(gettext_lazy("Return to the centre"), f.ReturnForm, "handle", "return",
                       lambda c, u, d: services.return_complaint(c, actor=u, reason=d["reason"], note=d["note"])),
    "decide": UiAction(gettext_lazy("Acceptance decision"), f.DecideForm, "handle", "decide",
                       lambda c, u, d: services.decide_complaint(c, actor=u, accepted=d["accepted"],
                                                                 ground=d["ground"], note=d["note"],
                                                                 case_opened=d["case_opened"])),
    "tell_reporter": UiAction(gettext_lazy("Record that the reporter was told"), f.TellReporterForm, "handle",
                              "tell_reporter",
                              lambda c, u, d: services.tell_reporter(c, actor=u, method=d["method"], note=d["note"])),
    "progress": UiAction(gettext_lazy("Investigation note"), f.ProgressForm, "handle", "progress",
                         lambda c, u, d: services.record_progress(c, actor=u, note=d["note"])),
    "reply": UiAction(gettext_lazy("Reply"), f.ReplyForm, "handle", "reply",
                      lambda c, u, d: services.reply_complaint(c, actor=u, reply=d["reply"], result=d["result"]),
                      True),
    "request_extension": UiAction(gettext_lazy("Request an extension"), f.ExtensionRequestForm, "handle",
                                  "request_extension",
                                  lambda c, u, d: services.request_extension(c, actor=u, days=d["days"],
                                                                             reason=d["reason"])),
    "answer_supervision": UiAction(gettext_lazy("Answer the supervision"), f.AnswerSupervisionForm, "handle",
                                   "answer_supervision",
                                   lambda c, u, d: services.answer_supervision(_supervision(c, d["supervision"]),
                                                                               actor=u, answer=d["answer"])),
    "send_back": UiAction(gettext_lazy("Send the reply back"), f.RequiredNoteForm, "dispatch", "send_back",
                          lambda c, u, d: services.send_back_complaint(c, actor=u, note=d["note"])),
    "close": UiAction(gettext_lazy("Close the ticket"), f.NoteForm, "dispatch", "close",
                      lambda c, u, d: services.close_complaint(c, actor=u, note=d["note"]), True),
    "visit": UiAction(gettext_lazy("Follow-up call and rating"), f.VisitForm, "dispatch", "rate",
                      lambda c, u, d: services.rate_complaint(c, actor=u, rating=d["rating"], comment=d["note"]),
                      True),
    "supervise": UiAction(gettext_lazy("Supervise"), f.SuperviseForm, "supervise", "supervise",
                          lambda c, u, d: services.supervise_complaint(c, actor=u, instructions=d["instructions"],
                                                                       reply_days=d["reply_days"])),
    "decide_extension": UiAction(gettext_lazy("Decide the extension"), f.ExtensionDecisionForm, "supervise",
                                 "decide_extension",
                                 lambda c, u, d: services.decide_extension(_extension(c, d["extension"]), actor=u,
                                                                           approve=d["approve"], note=d["note"])),
    "link_subject": UiAction(gettext_lazy("Link the entity"), f.LinkSubjectForm, "dispatch", "link_subject",
                             lambda c, u, d: services.link_subject(c, actor=u, subject=_subject(u, d["subject"]))),
}


def _make_form(name: str, complaint: Complaint, user: Any, data: Any = None) -> forms.Form:
    spec = UI_ACTIONS[name]
    prefix = name
    if spec.form is f.DispatchForm:
        return f.DispatchForm(data, user=user, region_prefix=complaint.region_id, prefix=prefix)
    initial: dict[str, Any] = {}
    if spec.form is f.AcceptForm:
        suggested = complaint.category or complaint.suggested_category
        initial = {"category": suggested.code if suggested else "", "kind": complaint.kind}
    return spec.form(data, prefix=prefix, initial=initial)


def _available(complaint: Complaint, user: Any) -> list[str]:
    out = []
    for name, spec in UI_ACTIONS.items():
        if complaint.status not in workflow.ACTIONS[spec.workflow_action].sources:
            continue
        if not user.has_perm(f"complaints.{spec.permission}_complaint"):
            continue
        if name == "answer_supervision" and not complaint.supervisions.filter(status=SupervisionStatus.OPEN).exists():
            continue
        if name == "decide_extension" and not complaint.extensions.filter(status="pending").exists():
            continue
        if name == "split" and complaint.kind not in (ComplaintKind.COMPLAINT, ComplaintKind.REPORT):
            continue
        if name == "answer_directly" and complaint.kind in (ComplaintKind.COMPLAINT, ComplaintKind.REPORT):
            continue
        if name == "link_subject" and complaint.subject_id:
            continue
        if name == "tell_reporter" and (complaint.notify_due_at is None or complaint.reporter_told_at is not None):
            continue
        out.append(name)
    return out


def _detail_context(request: HttpRequest, complaint: Complaint, *, failed: tuple[str, forms.Form] | None = None,
                    plain: dict[str, str] | None = None, unmask_form: forms.Form | None = None) -> dict[str, Any]:
    user = request.user
    if user.has_perm("complaints.dispatch_complaint") and complaint.status in (ComplaintStatus.RECEIVED,
                                                                                ComplaintStatus.REGISTERED):
        services.suggest_classification(complaint)
    services.find_subject_candidate(complaint)
    available = _available(complaint, user)
    panels = []
    for name in available:
        form = failed[1] if failed and failed[0] == name else _make_form(name, complaint, user)
        panels.append({"name": name, "label": UI_ACTIONS[name].label, "form": form,
                       "primary": UI_ACTIONS[name].primary, "open": bool(failed and failed[0] == name)})
    routed = None
    if complaint.status in (ComplaintStatus.RECEIVED, ComplaintStatus.REGISTERED):
        routed = route(complaint.category or complaint.suggested_category, complaint.region,
                       kind_hint=complaint.suggested_kind_id)
    proposals = list(
        DuplicateProposal.objects.filter(complaint=complaint, candidate__in=Complaint.objects.visible_to(user))
        .select_related("candidate")[:10]
    )
    return {
        "complaint": complaint,
        "now": timezone.now(),
        "reporter": services.reporter_masked(complaint),
        "plain": plain,
        "can_unmask": user.has_perm("complaints.unmask_complaint") and not complaint.anonymous,
        "unmask_form": unmask_form or f.UnmaskForm(),
        "panels": panels,
        "routed": routed,
        "proposals": proposals,
        "events": complaint.events.select_related("organization").all(),
        "assignments": complaint.assignments.select_related("organization").all(),
        "supervisions": complaint.supervisions.all(),
        "extensions": complaint.extensions.all(),
        "attachments": complaint.attachments.all(),
        "merged_tickets": complaint.merged_tickets.all(),
    }


def _load(user: Any, pk: int, action: str = "view") -> Complaint:
    complaint = get_complaint_for(user, pk, action)
    return Complaint.objects.select_related(
        "category__parent", "suggested_category", "suggested_kind", "handling_org", "handling_region", "region",
        "subject", "subject_candidate", "merged_into", "split_from",
    ).get(pk=complaint.pk)


@permission_required(VIEW)
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _load(request.user, pk)
    return render(request, "complaints/complaint_detail.html", _detail_context(request, complaint))


@require_POST
@permission_required(VIEW)
def complaint_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One workflow step from the ticket page."""
    spec = UI_ACTIONS.get(action)
    if spec is None:
        raise Http404
    complaint = _load(request.user, pk, spec.permission)
    form = _make_form(action, complaint, request.user, request.POST)
    if form.is_valid():
        try:
            outcome = spec.run(complaint, request.user, form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Done: %(step)s.") % {"step": spec.label})
            if action == "split" and isinstance(outcome, Complaint):
                return redirect("complaints:complaint_detail", pk=outcome.pk)
            if action == "return":
                return redirect("complaints:complaint_list")  # the ticket has left this department
            return redirect("complaints:complaint_detail", pk=complaint.pk)
    complaint = _load(request.user, pk)
    return render(request, "complaints/complaint_detail.html",
                  _detail_context(request, complaint, failed=(action, form)), status=400)


@require_POST
@permission_required(VIEW)
def complaint_unmask(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the reporter's identity once, after recording why."""
    complaint = _load(request.user, pk, "unmask")
    form = f.UnmaskForm(request.POST)
    plain = None
    if form.is_valid():
        try:
            plain = services.unmask_reporter(complaint, actor=request.user, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            apply_domain_error(form, exc)
    context = _detail_context(request, complaint, plain=plain, unmask_form=form if plain is None else None)
    return no_store(render_page(request, "complaints/complaint_detail.html", "complaints/partials/reporter.html",
                                context))


@permission_required(VIEW)
def attachment_download(request: HttpRequest, pk: int, attachment_id: int) -> HttpResponse:
    """A ticket's attachment, for staff who may see the ticket (never public); each download is audited."""
    from django.http import FileResponse

    from jianguan.complaints.models import Attachment

    complaint = get_complaint_for(request.user, pk, "view")
    attachment = Attachment.objects.filter(pk=attachment_id, complaint=complaint).first()
    if attachment is None:
        raise Http404
    audit.record_read("complaints.attachment.downloaded", target=complaint, fields=[attachment.name],
                      reason="download")
    response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name,
                            content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return no_store(response)


# --- statistics and catalogue ----------------------------------------------------------------------------------------


@permission_required(VIEW)
def stats_page(request: HttpRequest) -> HttpResponse:
    try:
        months = max(1, min(int(request.GET.get("months", "12")), 36))
    except ValueError:
        months = 12
    data = stats.compute(Complaint.objects.visible_to(request.user, "view"), months=months)
    return render(request, "complaints/stats.html", {"stats": data, "months": months})


class DispatchRuleForm(forms.ModelForm):  # type: ignore[type-arg]
    co_kinds_text = forms.CharField(label=gettext_lazy("Co-unit department kinds (codes, space separated)"),
                                    required=False, max_length=100)

    class Meta:
        model = DispatchRule
        fields = ["category", "region", "lead_kind", "level", "active", "note"]


@permission_required("complaints.manage_complaint", "complaints.dispatch_complaint")
@require_http_methods(["GET", "POST"])
def catalogue(request: HttpRequest) -> HttpResponse:
    """派单目录: the rules in the user's region subtree; holders of ``manage_complaint`` add or change them."""
    can_manage = request.user.has_perm("complaints.manage_complaint")
    form = DispatchRuleForm(request.POST or None) if can_manage else None
    if form is not None:
        form.fields["region"].queryset = form.fields["region"].queryset.filter(
            code__startswith=request.user.region.scope_prefix if request.user.region_id else "none")
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            co_kinds = form.cleaned_data.get("co_kinds_text", "").split()
            services.save_dispatch_rule(actor=request.user, co_kinds=co_kinds, **{
                k: form.cleaned_data[k] for k in ("category", "region", "lead_kind", "level", "active", "note")})
            messages.success(request, _("The dispatch rule has been saved."))
            return redirect("complaints:catalogue")
    region = request.user.region
    ancestors = [c for c in (f"{region.code[:2]}0000", f"{region.code[:4]}00") if region is not None]
    rules = DispatchRule.objects.filter(
        Q(region__code__startswith=region.scope_prefix if region is not None else "none") | Q(region_id__in=ancestors)
    )
    categories = Category.objects.select_related("parent", "department_kind").annotate(n=Count("rules"))
    return render(request, "complaints/catalogue.html", {
        "rules": rules.select_related("category", "region", "lead_kind").order_by("category__code", "region_id"),
        "categories": categories,
        "form": form,
        "orgs_total": Organization.objects.count(),
    })
