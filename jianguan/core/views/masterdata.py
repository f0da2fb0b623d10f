"""Master data pages: 监管对象 (subjects) and 执法人员 (enforcement officers), plus the subject CSV export.

Every list starts from ``visible_to(user, action)`` and every single object comes from ``get_object_for``; writes go
through ``jianguan.core.services``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from jianguan.core import audit, services
from jianguan.core.access import get_object_for
from jianguan.core.choices import SubjectType
from jianguan.core.errors import DomainError
from jianguan.core.filtersets import EnforcementOfficerFilterSet, SubjectFilterSet
from jianguan.core.forms import OfficerForm, SubjectForm, UnmaskForm
from jianguan.core.models import EnforcementOfficer, Organization, Subject
from jianguan.core.views.base import (
    apply_domain_error,
    no_store,
    paginate,
    permission_required,
    polish_filter_form,
    render_page,
)

# --- Subjects ---------------------------------------------------------------------------------------------------------


def _subject_filterset(request: HttpRequest, action: str) -> SubjectFilterSet:
    queryset = (
        Subject.objects.visible_to(request.user, action)
        .select_related("region", "region__parent", "industry")
        .order_by("id")
    )
    filterset = SubjectFilterSet(request.GET, queryset=queryset)
    return polish_filter_form(filterset, request.user, {
        "q": _("Keyword"), "uscc": _("Unified social credit code"), "region": _("Region"), "subject_type": _("Type"),
        "status": _("Status"), "industry": _("Industry code"),
    })


@permission_required("core.view_subject")
def subject_list(request: HttpRequest) -> HttpResponse:
    filterset = _subject_filterset(request, "view")
    page = paginate(request, filterset.qs)
    context = {
        "filterset": filterset,
        "page": page,
        "can_add": request.user.has_perm("core.add_subject"),
        "can_export": request.user.has_perm("core.export_subject"),
    }
    return render_page(request, "core/subject_list.html", "core/partials/subject_table.html", context)


@permission_required("core.view_subject")
def subject_detail(request: HttpRequest, pk: int) -> HttpResponse:
    subject = get_object_for(request.user, Subject, pk, "view")
    return render(request, "core/subject_detail.html", {
        "subject": subject,
        "can_change": request.user.has_perm("core.change_subject"),
    })


@permission_required("core.add_subject")
@require_http_methods(["GET", "POST"])
def subject_create(request: HttpRequest) -> HttpResponse:
    form = SubjectForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            subject = services.create_subject(actor=request.user, **form.service_data())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("The supervised entity has been registered."))
            return redirect("core:subject_detail", pk=subject.pk)
    return render(request, "core/subject_form.html", {"form": form, "subject": None})


@permission_required("core.change_subject")
@require_http_methods(["GET", "POST"])
def subject_edit(request: HttpRequest, pk: int) -> HttpResponse:
    subject = get_object_for(request.user, Subject, pk, "change")
    initial = {
        "uscc": subject.uscc, "name": subject.name, "subject_type": subject.subject_type,
        "legal_representative": subject.legal_representative, "address": subject.address,
        "region": subject.region_id, "industry": subject.industry_id,
        "registered_capital": subject.registered_capital, "established_on": subject.established_on,
        "status": subject.status,
    }
    form = SubjectForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_subject(subject, actor=request.user, **form.service_data())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("The changes have been saved."))
            return redirect("core:subject_detail", pk=subject.pk)
    return render(request, "core/subject_form.html", {"form": form, "subject": subject})


_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> str:
    """Neutralise spreadsheet formulas (CSV injection)."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_PREFIXES) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


@permission_required("core.export_subject")
def subject_export(request: HttpRequest) -> HttpResponse:
    """Stream the filtered, scoped list as CSV; one export audit event records what was taken."""
    filterset = _subject_filterset(request, "export")
    if not filterset.is_valid():
        messages.error(request, _("The filter is not valid; nothing was exported."))
        return redirect("core:subject_list")
    queryset = filterset.qs
    count = queryset.count()
    filters = {k: v for k, v in filterset.form.cleaned_data.items() if v not in (None, "")}
    audit.record_export("core.subject.exported", object_type="core.subject", count=count,
                        filters={k: str(v) for k, v in filters.items()}, fmt="csv")
    labels = dict(SubjectType.choices)

    def rows() -> Iterator[list[str]]:
        yield [str(h) for h in (_("Unified social credit code"), _("Name"), _("Type"), _("Legal representative"),
                                _("Address"), _("Region code"), _("Region"), _("Industry code"), _("Status"),
                                _("Established on"))]
        for subject in queryset.iterator(chunk_size=2000):
            yield [_csv_cell(v) for v in (
                subject.uscc,
                subject.name,
                labels.get(subject.subject_type, subject.subject_type),
                subject.display_legal_representative,
                subject.display_address,
                subject.region_id,
                subject.region.full_name,
                subject.industry_id or "",
                subject.get_status_display(),
                subject.established_on.isoformat() if subject.established_on else "",
            )]

    writer = csv.writer(_Echo())

    def stream() -> Iterator[str]:
        yield "\ufeff"  # BOM, so spreadsheet programs read the file as UTF-8
        for row in rows():
            yield writer.writerow(row)

    filename = f"subjects-{timezone.localdate().isoformat()}.csv"
    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return no_store(response)


# --- Enforcement officers ---------------------------------------------------------------------------------------------


@permission_required("core.view_enforcementofficer")
def officer_list(request: HttpRequest) -> HttpResponse:
    queryset = (
        EnforcementOfficer.objects.visible_to(request.user, "view")
        .select_related("organization", "region", "region__parent")
        .defer("id_number", "phone")  # personal data is neither decrypted nor shown in lists
        .order_by("id")
    )
    filterset = EnforcementOfficerFilterSet(request.GET, queryset=queryset)
    polish_filter_form(filterset, request.user, {
        "q": _("Name or certificate number"), "region": _("Region"), "organization": _("Department"),
        "active": _("Active"),
    })
    form = filterset.form
    orgs = Organization.objects.visible_to(request.user, "view").filter(active=True).only("id", "name")
    form.fields["organization"].widget = forms.Select(
        choices=[("", _("All departments"))] + [(o.pk, o.name) for o in orgs]
    )
    form.fields.pop("organization_code", None)
    page = paginate(request, filterset.qs)
    context = {"filterset": filterset, "page": page, "can_add": request.user.has_perm("core.add_enforcementofficer")}
    return render_page(request, "core/officer_list.html", "core/partials/officer_table.html", context)


def _officer_context(request: HttpRequest, officer: EnforcementOfficer, **extra: Any) -> dict[str, Any]:
    context = {
        "officer": officer,
        "masked": services.officer_masked(officer),
        "can_change": request.user.has_perm("core.change_enforcementofficer"),
        "can_unmask": request.user.has_perm("core.unmask_enforcementofficer"),
        "unmask_form": UnmaskForm(),
        "plain": None,
    }
    context.update(extra)
    return context


@permission_required("core.view_enforcementofficer")
def officer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    officer = get_object_for(request.user, EnforcementOfficer, pk, "view")
    return render(request, "core/officer_detail.html", _officer_context(request, officer))


@require_POST
@permission_required("core.view_enforcementofficer")
def officer_unmask(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the officer's personal data in full on this one response, after recording why (a read audit event)."""
    officer = get_object_for(request.user, EnforcementOfficer, pk, "unmask")
    form = UnmaskForm(request.POST)
    plain = None
    if form.is_valid():
        try:
            plain = services.unmask_officer(officer, actor=request.user, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            apply_domain_error(form, exc)
    context = _officer_context(request, officer, unmask_form=form if plain is None else UnmaskForm(), plain=plain)
    return no_store(render_page(request, "core/officer_detail.html", "core/partials/officer_personal.html", context))


@permission_required("core.add_enforcementofficer")
@require_http_methods(["GET", "POST"])
def officer_create(request: HttpRequest) -> HttpResponse:
    form = OfficerForm(request.POST or None, user=request.user, initial={"active": True})
    if request.method == "POST" and form.is_valid():
        try:
            officer = services.create_officer(actor=request.user, **form.service_data())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("The enforcement officer has been registered."))
            return redirect("core:officer_detail", pk=officer.pk)
    return render(request, "core/officer_form.html", {"form": form, "officer": None})


@permission_required("core.change_enforcementofficer")
@require_http_methods(["GET", "POST"])
def officer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    officer = get_object_for(request.user, EnforcementOfficer, pk, "change")
    initial = {
        "name": officer.name, "certificate_no": officer.certificate_no, "organization": officer.organization_id,
        "competence": officer.fields, "active": officer.active,
    }
    form = OfficerForm(request.POST or None, user=request.user, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_officer(officer, actor=request.user, **form.service_data())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("The changes have been saved."))
            return redirect("core:officer_detail", pk=officer.pk)
    masked = services.officer_masked(officer)
    form.fields["id_number"].widget.attrs["placeholder"] = masked["id_number"]
    form.fields["phone"].widget.attrs["placeholder"] = masked["phone"]
    return render(request, "core/officer_form.html", {"form": form, "officer": officer})
