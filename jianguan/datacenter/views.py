"""The data centre's pages: sources, batches with live progress, quality, quarantine with correction, the entity
master with its lineage, links and conflicts. Every list starts from ``visible_to``; every object comes through
``jianguan.datacenter.access``; every change goes through ``jianguan.datacenter.services``."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from jianguan.core.access import get_object_for
from jianguan.core.errors import DomainError
from jianguan.core.models import Subject
from jianguan.core.views.base import (
    apply_domain_error,
    no_store,
    paginate,
    permission_required,
    polish_filter_form,
    render_page,
)
from jianguan.datacenter import access, collect, inbox, personal, selectors, services
from jianguan.datacenter.choices import BatchStatus, Channel, ConflictStatus, LinkStatus, QuarantineStatus
from jianguan.datacenter.filtersets import (
    BatchFilterSet,
    ConflictFilterSet,
    EntityLinkFilterSet,
    QuarantinedRowFilterSet,
    SourceFilterSet,
)
from jianguan.datacenter.forms import CorrectionForm, ReasonForm, ResolveForm, SourceForm, UnmaskForm, UploadForm
from jianguan.datacenter.models import Batch, Conflict, EntityLink, QuarantinedRow, Source
from jianguan.datacenter.pipeline.fields import FIELD_LABELS, LINEAGE_LABELS, STEP_LABELS

ACTIVE = (BatchStatus.PENDING, BatchStatus.RUNNING)
VIEW_ANY = ("datacenter.view_batch", "datacenter.view_source")


@permission_required(*VIEW_ANY)
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "sources": Source.objects.visible_to(user, "view").count(),
        "batches": Batch.objects.visible_to(user, "view").select_related("source").order_by("-id")[:10],
        "open_rows": QuarantinedRow.objects.visible_to(user, "view").filter(status=QuarantineStatus.OPEN).count(),
        "open_conflicts": Conflict.objects.visible_to(user, "view").filter(status=ConflictStatus.OPEN).count(),
        "links_to_review": EntityLink.objects.visible_to(user, "view").filter(status=LinkStatus.AUTO).count(),
    }
    return render(request, "datacenter/home.html", context)


def _back(request: HttpRequest, default: str) -> HttpResponse:
    """Redirect to the page the form came from (only a local path), else ``default``."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect(default)


# --- Sources ----------------------------------------------------------------------------------------------------------


@permission_required("datacenter.view_source")
def source_list(request: HttpRequest) -> HttpResponse:
    queryset = Source.objects.visible_to(request.user, "view").select_related("owner").order_by("code")
    filterset = polish_filter_form(SourceFilterSet(request.GET, queryset=queryset), request.user, {
        "q": _("Keyword"), "kind": _("Kind"), "library": _("Library"), "channel": _("Channel"),
        "enabled": _("Enabled")})
    context = {"filterset": filterset, "page": paginate(request, filterset.qs),
               "can_add": request.user.has_perm("datacenter.add_source")}
    return render_page(request, "datacenter/source_list.html", "datacenter/partials/source_table.html", context)


@permission_required("datacenter.add_source")
@require_http_methods(["GET", "POST"])
def source_create(request: HttpRequest) -> HttpResponse:
    form = SourceForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            source = services.create_source(actor=request.user, owner=form.cleaned_data["owner"],
                                            **form.service_data())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("The data source has been registered."))
            return redirect("datacenter:source_detail", pk=source.pk)
    return render(request, "datacenter/source_form.html", {"form": form, "source": None})


@permission_required("datacenter.change_source")
@require_http_methods(["GET", "POST"])
def source_edit(request: HttpRequest, pk: int) -> HttpResponse:
    source = access.get_source_for(request.user, pk, "change")
    initial = {name: getattr(source, name) for name in SourceForm.base_fields if hasattr(source, name)}
    form = SourceForm(request.POST or None, user=request.user, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_source(source, actor=request.user, **form.service_data())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("The changes have been saved."))
            return redirect("datacenter:source_detail", pk=source.pk)
    return render(request, "datacenter/source_form.html", {"form": form, "source": source})


@permission_required("datacenter.view_source")
@require_http_methods(["GET", "POST"])
def source_detail(request: HttpRequest, pk: int) -> HttpResponse:
    source = access.get_source_for(request.user, pk, "view")
    can_ingest = request.user.has_perm("datacenter.ingest_source") and source.enabled
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not can_ingest:
            raise PermissionDenied
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                batch = _submit_upload(source, request.user, upload, form.cleaned_data["force"])
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("The file has been received and is being processed."))
                return redirect("datacenter:batch_detail", pk=batch.pk)
    batches = Batch.objects.visible_to(request.user, "view").filter(source=source).select_related("source")
    context = {"source": source, "form": form, "can_ingest": can_ingest,
               "inbox": inbox.inbox_root() / source.code if source.channel == Channel.FILE else None,
               "inbox_files": inbox.waiting_files(source) if source.channel == Channel.FILE else [],
               "can_pull": can_ingest and source.channel in (Channel.HTTP_API, Channel.SQL),
               "can_change": request.user.has_perm("datacenter.change_source"),
               "batches": batches.order_by("-id")[:20]}
    return render(request, "datacenter/source_detail.html", context)


@permission_required("datacenter.ingest_source")
@require_http_methods(["POST"])
def source_scan_inbox(request: HttpRequest, pk: int) -> HttpResponse:
    """Take the files waiting in the source's drop folder now instead of at the next scheduled scan."""
    source = access.get_source_for(request.user, pk, "view")  # the delivery itself re-checks ingest and scope
    result = inbox.scan_inboxes(actor=request.user, only=source.code)
    for _code, name, reason in result.rejected:
        messages.error(request, _("%(name)s was not taken: %(reason)s") % {"name": name, "reason": reason})
    if result.taken:
        messages.success(request, _("%(count)d dropped file(s) taken.") % {"count": len(result.taken)})
    elif not result.rejected:
        messages.info(request, _("No settled file is waiting in the drop folder."))
    return redirect("datacenter:source_detail", pk=source.pk)


def _submit_upload(source: Source, user: Any, upload: Any, force: bool) -> Batch:
    suffix = Path(upload.name).suffix.lower()
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        for chunk in upload.chunks():
            tmp.write(chunk)
        tmp.flush()
        return services.submit_file(source, actor=user, path=Path(tmp.name), file_name=upload.name, force=force)


@permission_required("datacenter.ingest_source")
@require_POST
def source_pull(request: HttpRequest, pk: int) -> HttpResponse:
    source = access.get_source_for(request.user, pk, "view")
    try:
        batch = collect.pull_source(source, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("datacenter:source_detail", pk=source.pk)
    if batch is None:
        messages.info(request, _("Nothing has changed since the last pull."))
        return redirect("datacenter:source_detail", pk=source.pk)
    return redirect("datacenter:batch_detail", pk=batch.pk)


# --- Batches ----------------------------------------------------------------------------------------------------------


@permission_required("datacenter.view_batch")
def batch_list(request: HttpRequest) -> HttpResponse:
    queryset = Batch.objects.visible_to(request.user, "view").select_related("source", "job").order_by("-id")
    filterset = polish_filter_form(BatchFilterSet(request.GET, queryset=queryset), request.user, {
        "status": _("Status"), "kind": _("Kind")})
    filterset.form.fields.pop("source", None)
    filterset.form.fields["source_code"].label = _("Source code")
    context = {"filterset": filterset, "page": paginate(request, filterset.qs)}
    return render_page(request, "datacenter/batch_list.html", "datacenter/partials/batch_table.html", context)


@permission_required("datacenter.view_batch")
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = Batch.objects.select_related("source", "job", "parent", "duplicate_of").get(
        pk=access.get_batch_for(request.user, pk, "view").pk)
    quality = batch.quality or {}
    fields = [{"field": f, "label": FIELD_LABELS.get(f, f), **v} for f, v in (quality.get("fields") or {}).items()]
    problems = [{"code": c, "count": n} for c, n in (quality.get("problems") or {}).items()]
    context = {
        "batch": batch,
        "active": batch.status in ACTIVE,
        "quality_fields": fields,
        "problems": problems,
        "overall": quality.get("overall") or {},
        "can_rerun": request.user.has_perm("datacenter.ingest_source")
        and batch.quarantined.filter(status=QuarantineStatus.CORRECTED).exists(),
        "open_rows": batch.quarantined.filter(status=QuarantineStatus.OPEN).count(),
    }
    return render_page(request, "datacenter/batch_detail.html", "datacenter/partials/batch_status.html", context)


@permission_required("datacenter.ingest_source")
@require_POST
def batch_rerun(request: HttpRequest, pk: int) -> HttpResponse:
    batch = access.get_batch_for(request.user, pk, "view")
    try:
        new = services.rerun_corrections(batch, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("datacenter:batch_detail", pk=batch.pk)
    messages.success(request, _("The corrected rows are being processed again."))
    return redirect("datacenter:batch_detail", pk=new.pk)


# --- Quarantine -------------------------------------------------------------------------------------------------------


def _problems(row: QuarantinedRow, names: dict[str, str]) -> list[dict[str, Any]]:
    """The row's problems for display: the delivered value decrypted, with how the template masks it (``kind``)."""
    return [{**e, "kind": personal.display_kind(names.get(e.get("field", "")), e.get("value"))}
            for e in personal.open_errors(row.errors or [])]


@permission_required("datacenter.view_quarantinedrow")
def quarantine_list(request: HttpRequest) -> HttpResponse:
    queryset = QuarantinedRow.objects.visible_to(request.user, "view").select_related("batch", "batch__source")
    filterset = polish_filter_form(QuarantinedRowFilterSet(request.GET, queryset=queryset.order_by("-batch_id",
                                                                                                   "row_no")),
                                   request.user, {"batch": _("Batch"), "status": _("Status")})
    page = paginate(request, filterset.qs)
    for row in page.object_list:
        row.problems = _problems(row, personal.names_for_source(row.batch.source))
    context = {"filterset": filterset, "page": page}
    return render_page(request, "datacenter/quarantine_list.html", "datacenter/partials/quarantine_table.html",
                       context)


def _quarantine_page(request: HttpRequest, row: QuarantinedRow, *, form: CorrectionForm | None = None,
                     revealed: dict[str, str] | None = None, unmask_form: UnmaskForm | None = None,
                     status: int = 200) -> HttpResponse:
    """The quarantined row's page: its problems and values with personal ones masked, and for a data manager the
    correction form — personal values in it masked too unless just revealed (``revealed``, after a read event)."""
    source = row.batch.source
    names = personal.names_for_source(source)
    values = personal.row_values(row)
    can_change = request.user.has_perm("datacenter.change_quarantinedrow") and row.status in (
        QuarantineStatus.OPEN, QuarantineStatus.CORRECTED)
    if form is None:
        shown = {k: (v if revealed and k in revealed else personal.mask(names.get(k), v)) for k, v in values.items()}
        form = CorrectionForm(values=shown, problem_fields={e["field"] for e in row.errors},
                              fields=services.correction_fields(source))
    delivered = personal.open_values(row.record, personal.QUARANTINE_RECORD_AAD) or {}
    context = {
        "row": row, "form": form, "can_change": can_change, "discard_form": ReasonForm(),
        "problems": _problems(row, names),
        "delivered": [(k, v, personal.display_kind(names.get(k), v)) for k, v in delivered.items()],
        "personal_fields": [label for name, label in services.correction_fields(source)
                            if name in names and values.get(name)],
        "revealed": revealed or {}, "unmask_form": unmask_form or UnmaskForm(),
    }
    return no_store(render(request, "datacenter/quarantine_detail.html", context, status=status))


@permission_required("datacenter.view_quarantinedrow")
@require_http_methods(["GET", "POST"])
def quarantine_detail(request: HttpRequest, pk: int) -> HttpResponse:
    row = access.get_quarantined_row_for(request.user, pk, "view")
    if request.method != "POST":
        return _quarantine_page(request, row)
    row = access.get_quarantined_row_for(request.user, pk, "change")
    form = CorrectionForm(request.POST, values={}, problem_fields={e["field"] for e in row.errors},
                          fields=services.correction_fields(row.batch.source))
    if form.is_valid():
        try:
            services.correct_row(row, actor=request.user, values=form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("The correction has been saved; re-run the batch's corrections to load "
                                        "it."))
            return redirect("datacenter:batch_detail", pk=row.batch_id)
    return _quarantine_page(request, row, form=form)


@permission_required("datacenter.change_quarantinedrow")
@require_POST
def quarantine_unmask(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a data manager the row's personal values in the correction form, after recording why (a read event)."""
    row = access.get_quarantined_row_for(request.user, pk, "change")
    form = UnmaskForm(request.POST)
    revealed = None
    if form.is_valid():
        try:
            revealed = services.unmask_quarantined_row(row, actor=request.user, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            apply_domain_error(form, exc)
    return _quarantine_page(request, row, revealed=revealed, unmask_form=form if revealed is None else None,
                            status=200 if revealed is not None else 400)


@permission_required("datacenter.change_quarantinedrow")
@require_POST
def quarantine_discard(request: HttpRequest, pk: int) -> HttpResponse:
    row = access.get_quarantined_row_for(request.user, pk, "change")
    form = ReasonForm(request.POST)
    try:
        services.discard_row(row, actor=request.user, reason=form.data.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("datacenter:quarantine_detail", pk=row.pk)
    messages.success(request, _("The row has been discarded."))
    return redirect("datacenter:batch_detail", pk=row.batch_id)


# --- Entity master, links, conflicts ----------------------------------------------------------------------------------


@permission_required("datacenter.view_lineagerecord")
def entity_list(request: HttpRequest) -> HttpResponse:
    """监管对象主数据: the master records in scope, each opening on its lineage, links and conflicts."""
    from jianguan.core.filtersets import SubjectFilterSet

    queryset = Subject.objects.visible_to(request.user, "view").select_related("region").order_by("id")
    filterset = polish_filter_form(SubjectFilterSet(request.GET, queryset=queryset), request.user, {
        "q": _("Keyword"), "uscc": _("Unified social credit code"), "region": _("Region"),
        "subject_type": _("Type"), "status": _("Status"), "industry": _("Industry code")})
    context = {"filterset": filterset, "page": paginate(request, filterset.qs)}
    return render_page(request, "datacenter/entity_list.html", "datacenter/partials/entity_table.html", context)


@permission_required("datacenter.view_lineagerecord")
def entity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """监管对象主数据: the record, where each value came from (lineage), its linked rows and its conflicts."""
    subject = get_object_for(request.user, Subject, pk, "view")
    explanation = selectors.explain_subject(request.user, subject.pk)
    links = EntityLink.objects.visible_to(request.user, "view").filter(subject=subject).select_related(
        "batch", "batch__source").order_by("-id")
    conflicts = Conflict.objects.visible_to(request.user, "view").filter(subject=subject).select_related(
        "subject", "source", "current_source").order_by("-id")
    context = {"subject": subject, "fields": explanation["fields"], "links": links, "conflicts": conflicts,
               "can_review": request.user.has_perm("datacenter.change_entitylink"),
               "can_resolve": request.user.has_perm("datacenter.change_conflict"),
               "resolve_form": ResolveForm(), "step_labels": STEP_LABELS, "field_labels": LINEAGE_LABELS,
               "personal": subject.personal_data_fields()}
    return render(request, "datacenter/entity_detail.html", context)


@permission_required("datacenter.view_entitylink")
def link_list(request: HttpRequest) -> HttpResponse:
    queryset = EntityLink.objects.visible_to(request.user, "view").select_related(
        "subject", "batch", "batch__source").order_by("-id")
    filterset = polish_filter_form(EntityLinkFilterSet(request.GET or {"status": "auto"}, queryset=queryset),
                                   request.user, {"status": _("Status")})
    for name in ("subject", "batch"):
        filterset.form.fields.pop(name, None)
    context = {"filterset": filterset, "page": paginate(request, filterset.qs),
               "can_review": request.user.has_perm("datacenter.change_entitylink")}
    return render_page(request, "datacenter/link_list.html", "datacenter/partials/link_table.html", context)


@permission_required("datacenter.change_entitylink")
@require_POST
def link_review(request: HttpRequest, pk: int) -> HttpResponse:
    link = access.get_link_for(request.user, pk, "change")
    try:
        if request.POST.get("decision") == "split":
            services.split_link(link, actor=request.user, reason=request.POST.get("reason", ""))
            messages.success(request, _("The link has been split; the row is now a record of its own."))
        else:
            services.confirm_link(link, actor=request.user)
            messages.success(request, _("The link has been confirmed."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return _back(request, "datacenter:link_list")


@permission_required("datacenter.view_conflict")
def conflict_list(request: HttpRequest) -> HttpResponse:
    queryset = Conflict.objects.visible_to(request.user, "view").select_related(
        "subject", "source", "current_source").order_by("-id")
    filterset = polish_filter_form(ConflictFilterSet(request.GET or {"status": "open"}, queryset=queryset),
                                   request.user, {"status": _("Status"), "kind": _("Kind"), "field": _("Field")})
    for name in ("subject", "batch"):
        filterset.form.fields.pop(name, None)
    context = {"filterset": filterset, "page": paginate(request, filterset.qs), "field_labels": LINEAGE_LABELS,
               "can_resolve": request.user.has_perm("datacenter.change_conflict")}
    return render_page(request, "datacenter/conflict_list.html", "datacenter/partials/conflict_table.html", context)


@permission_required("datacenter.change_conflict")
@require_POST
def conflict_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    conflict = access.get_conflict_for(request.user, pk, "change")
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose whether to apply the incoming value or keep the current one."))
    else:
        try:
            services.resolve_conflict(conflict, actor=request.user, apply=form.cleaned_data["apply"],
                                      note=form.cleaned_data["note"])
            messages.success(request, _("The conflict has been resolved."))
        except DomainError as exc:
            messages.error(request, exc.message)
    return _back(request, "datacenter:conflict_list")


# --- Libraries --------------------------------------------------------------------------------------------------------

#: Browsable libraries: (model, columns shown, how the library is fed).
LIBRARY_PAGES: dict[str, tuple[Any, tuple[str, ...], str]] = {}


def _library_pages() -> dict[str, tuple[Any, tuple[str, ...], str]]:
    if not LIBRARY_PAGES:
        from jianguan.datacenter import models as m

        events_fed, batches = _("catalogue events"), _("batches from its sources")
        LIBRARY_PAGES.update({
            "catalog": (m.CatalogEntry, ("item_code", "name", "version", "status"), events_fed),
            "implementations": (m.ImplementationEntry, ("code", "item_code", "region", "status"), events_fed),
            "licenses": (m.AdministrativeLicense, ("behaviour_no", "item_code", "party_name", "decided_on"), batches),
            "inspections": (m.AdministrativeInspection, ("behaviour_no", "item_code", "party_name", "inspected_at",
                                                         "inspection_result"), batches),
            "penalties": (m.AdministrativePenalty, ("behaviour_no", "item_code", "party_name", "decision_no",
                                                    "decided_on", "fine_amount"), batches),
            "coercions": (m.AdministrativeCoercion, ("behaviour_no", "item_code", "party_name", "measure",
                                                     "decided_on"), batches),
            "complaints": (m.ComplaintRecord, ("ticket_no", "kind", "status", "channel", "last_event_at"),
                           _("complaints events")),
            "credit": (m.CreditRecord, ("record_no", "kind", "party_name", "uscc", "decided_on"), batches),
            "internet": (m.InternetRecord, ("record_no", "provider", "title", "published_at"), batches),
            "knowledge": (m.KnowledgeDocument, ("doc_no", "kind", "title", "status", "issued_on"), batches),
        })
    return LIBRARY_PAGES


@permission_required(*VIEW_ANY)
def library_list(request: HttpRequest) -> HttpResponse:
    """The libraries of the data centre (监管对象库 and 执法人员库 are the kernel's master records)."""
    rows = []
    for name, (model, _columns, fed) in _library_pages().items():
        visible = model.objects.visible_to(request.user, "view")
        rows.append({"name": name, "label": model._meta.verbose_name_plural, "count": visible.count(), "fed": fed,
                     "can_view": request.user.has_perm(f"datacenter.view_{model._meta.model_name}")})
    return render(request, "datacenter/library_list.html", {"libraries": rows})


@permission_required(*VIEW_ANY)
def library_records(request: HttpRequest, name: str) -> HttpResponse:
    pages = _library_pages()
    if name not in pages:
        raise Http404
    model, columns, _fed = pages[name]
    queryset = model.objects.visible_to(request.user, "view").order_by("-id")
    page = paginate(request, queryset)
    labels = [str(model._meta.get_field(c).verbose_name) for c in columns]
    rows = [[_cell(obj, c) for c in columns] for obj in page.object_list]
    context = {"name": name, "label": model._meta.verbose_name_plural, "labels": labels, "rows": rows, "page": page}
    return render(request, "datacenter/library_records.html", context)


def _cell(obj: Any, column: str) -> str:
    field = obj._meta.get_field(column)
    if field.is_relation:
        return str(getattr(obj, field.attname) or "—")
    if field.choices:
        return str(getattr(obj, f"get_{column}_display")())
    value = getattr(obj, column)
    if value is None or value == "":
        return "—"
    return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "hour") else str(value)


@permission_required("datacenter.view_knowledgedocument")
def knowledge_search(request: HttpRequest) -> HttpResponse:
    from jianguan.datacenter import knowledge
    from jianguan.datacenter.models import KnowledgeDocument

    query = request.GET.get("q", "").strip()
    hits = knowledge.search(KnowledgeDocument.objects.visible_to(request.user, "view"), query) if query else []
    return render(request, "datacenter/knowledge_search.html", {"query": query, "hits": hits})
