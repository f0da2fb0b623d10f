"""Catalogue pages: list and filter, item detail with its history, edit with validation, submit, review with the
field-by-field diff, publish, abolish, revise the items citing a law together, import with the error report,
national alignment, implementation lists, and the public catalogue on the portal.

Views fetch through the scope layer (``access.py``), validate a form, call a service and turn a ``DomainError``
into form errors or a message.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from jianguan.catalog import access, exporter, importer, push, services
from jianguan.catalog.choices import (
    OPEN_STATUSES,
    AdministrativeLevel,
    ItemState,
    SupervisionMethod,
    VersionStatus,
)
from jianguan.catalog.filtersets import (
    ImplementationItemFilterSet,
    LegalBasisFilterSet,
    PublicItemFilterSet,
    SupervisionItemFilterSet,
    public_items,
)
from jianguan.catalog.forms import (
    AbolishForm,
    CitationFormSet,
    CommentForm,
    ContentForm,
    ImplementationForm,
    ImportForm,
    ItemCreateForm,
    LegalBasisForm,
    MapForm,
    NationalLoadForm,
    ReasonForm,
    ReviseCitingForm,
    VersionEditForm,
    citation_initial,
    citations_from,
)
from jianguan.catalog.models import (
    BasisCitation,
    ImplementationItem,
    ImportBatch,
    ItemVersion,
    LegalBasis,
    NationalItem,
    NationalMapping,
    SupervisionItem,
)
from jianguan.catalog.national import read_national_file
from jianguan.core import audit
from jianguan.core.errors import DomainError
from jianguan.core.models import DepartmentKind
from jianguan.core.views.base import (
    apply_domain_error,
    no_store,
    paginate,
    permission_required,
    polish_filter_form,
    render_page,
)

VIEW = "catalog.view_supervisionitem"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _department_choices(blank: str) -> list[tuple[str, str]]:
    kinds = DepartmentKind.objects.filter(supervisionitem__isnull=False).distinct().order_by("code")
    return [("", blank)] + [(k.code, k.province_name) for k in kinds]


def _polish_item_filters(filterset: Any, user: Any) -> Any:
    from django import forms

    polish_filter_form(filterset, user, {
        "q": _("Keyword"), "department": _("Department"), "method": _("Method"), "target": _("Supervised object"),
        "level": _("Level"), "state": _("State"), "status": _("Latest version"), "kind": _("Main or sub-item"),
    })
    form = filterset.form
    form.fields["department"].widget = forms.Select(choices=_department_choices(_("All departments")))
    for hidden in ("main", "code", "basis"):
        form.fields.pop(hidden, None)
    return filterset


def _download(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return no_store(response)


# --- items ----------------------------------------------------------------------------------------------------------


@permission_required(VIEW)
def item_list(request: HttpRequest) -> HttpResponse:
    queryset = (SupervisionItem.objects.visible_to(request.user, "view")
                .select_related("department_kind", "main", "latest_version", "current_version")
                .order_by("code"))
    filterset = _polish_item_filters(SupervisionItemFilterSet(request.GET, queryset=queryset), request.user)
    page = paginate(request, filterset.qs)
    user = request.user
    context = {
        "filterset": filterset,
        "page": page,
        "can_add": user.has_perm("catalog.add_supervisionitem"),
        "can_import": user.has_perm("catalog.import_supervisionitem"),
        "can_export": user.has_perm("catalog.export_supervisionitem"),
        "can_map": user.has_perm("catalog.map_supervisionitem"),
    }
    return render_page(request, "catalog/item_list.html", "catalog/partials/item_table.html", context)


def _form_pair(request: HttpRequest, form: Any, version: ItemVersion | None) -> Any:
    prefix = "citations"
    if request.method == "POST":
        return CitationFormSet(request.POST, prefix=prefix)
    return CitationFormSet(initial=citation_initial(version), prefix=prefix)


def _save_content(request: HttpRequest, form: Any, formset: Any, save: Any) -> Any:
    """Validate both forms and call ``save(content)``; a refusal lands on the form. Returns the result or None."""
    if request.method != "POST" or not (form.is_valid() & formset.is_valid()):
        return None
    try:
        return save(form.content(citations_from(formset)))
    except DomainError as exc:
        apply_domain_error(form, exc)
        if "citations" in exc.fields:
            for message in exc.fields["citations"]:
                form.add_error(None, message)
        return None


@permission_required("catalog.add_supervisionitem")
@require_http_methods(["GET", "POST"])
def item_create(request: HttpRequest) -> HttpResponse:
    form = ItemCreateForm(request.POST or None, user=request.user)
    formset = _form_pair(request, form, None)

    def save(content: services.ItemContent) -> SupervisionItem:
        return services.create_item(actor=request.user, department_kind=form.cleaned_data["department_kind"],
                                    method=form.cleaned_data["method"], content=content,
                                    reason=form.cleaned_data["reason"])

    item = _save_content(request, form, formset, save)
    if item is not None:
        messages.success(request, _("Item %(code)s has been created as a draft.") % {"code": item.main_code})
        return redirect("catalog:item_detail", pk=item.pk)
    return render(request, "catalog/item_form.html", {"form": form, "formset": formset, "title": _("New main item")})


@permission_required("catalog.add_supervisionitem")
@require_http_methods(["GET", "POST"])
def sub_item_create(request: HttpRequest, pk: int) -> HttpResponse:
    main = access.get_item_for(request.user, pk, "add")
    form = ContentForm(request.POST or None)
    formset = _form_pair(request, form, None)
    item = _save_content(request, form, formset, lambda content: services.create_sub_item(
        main, actor=request.user, content=content, reason=form.cleaned_data["reason"]))
    if item is not None:
        messages.success(request, _("Sub-item %(code)s has been created as a draft.") % {"code": item.code})
        return redirect("catalog:item_detail", pk=item.pk)
    return render(request, "catalog/item_form.html", {"form": form, "formset": formset, "main": main,
                                                      "title": _("New sub-item")})


def _version_with_citations(queryset: QuerySet[ItemVersion]) -> QuerySet[ItemVersion]:
    return queryset.prefetch_related(Prefetch("citations", queryset=BasisCitation.objects.select_related("basis")))


@permission_required(VIEW)
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = access.get_item_for(request.user, pk, "view")
    versions = list(_version_with_citations(item.versions.select_related(
        "created_by", "submitted_by", "reviewed_by", "published_by")).order_by("-number"))
    shown = next((v for v in versions if v.pk == item.current_version_id), None) or (versions[0] if versions else None)
    open_version = next((v for v in versions if v.status in OPEN_STATUSES), None)
    user = request.user
    in_scope = SupervisionItem.objects.in_scope_of(user).filter(pk=item.pk).exists()
    sub_items = item.sub_items.select_related("current_version", "latest_version").order_by("code")
    implementations = (ImplementationItem.objects.visible_to(user, "view").filter(item=item)
                       .select_related("organization", "region").order_by("code"))
    mapping = NationalMapping.objects.filter(item=item).select_related("national_item").first()
    context = {
        "item": item,
        "shown": shown,
        "open_version": open_version,
        "versions": versions,
        "sub_items": sub_items,
        "implementations": implementations,
        "history": item.history.select_related("version").order_by("-at", "-id"),
        "mapping": mapping,
        "can_edit": in_scope and user.has_perm("catalog.change_supervisionitem") and item.state != ItemState.ABOLISHED,
        "can_add_sub": in_scope and item.is_main and user.has_perm("catalog.add_supervisionitem")
        and item.state != ItemState.ABOLISHED,
        "can_abolish": in_scope and user.has_perm("catalog.abolish_supervisionitem")
        and item.state != ItemState.ABOLISHED,
        "can_map": in_scope and user.has_perm("catalog.map_supervisionitem") and item.state != ItemState.ABOLISHED,
        "revise_form": ReasonForm(),
        "map_form": MapForm(),
    }
    return render(request, "catalog/item_detail.html", context)


@permission_required("catalog.change_supervisionitem")
@require_POST
def item_revise(request: HttpRequest, pk: int) -> HttpResponse:
    item = access.get_item_for(request.user, pk, "change")
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason for the revision."))
        return redirect("catalog:item_detail", pk=item.pk)
    try:
        version = services.start_revision(item, actor=request.user, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("catalog:item_detail", pk=item.pk)
    messages.success(request, _("Revision %(number)s has been started.") % {"number": version.number})
    return redirect("catalog:version_edit", pk=version.pk)


@permission_required("catalog.abolish_supervisionitem")
@require_http_methods(["GET", "POST"])
def item_abolish(request: HttpRequest, pk: int) -> HttpResponse:
    item = access.get_item_for(request.user, pk, "abolish")
    form = AbolishForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.abolish_item(item, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("The item has been abolished; its code will never be reused."))
            return redirect("catalog:item_detail", pk=item.pk)
    return render(request, "catalog/abolish_form.html", {"item": item, "form": form})


@permission_required("catalog.map_supervisionitem")
@require_POST
def item_map(request: HttpRequest, pk: int) -> HttpResponse:
    item = access.get_item_for(request.user, pk, "map")
    if request.POST.get("unmap"):
        services.unmap_item(item, actor=request.user)
        messages.success(request, _("The national mapping has been removed."))
        return redirect("catalog:item_detail", pk=item.pk)
    form = MapForm(request.POST)
    national = None
    if form.is_valid():
        national = NationalItem.objects.filter(code=form.cleaned_data["national_code"].strip()).first()
    if national is None:
        messages.error(request, _("No national item has that code. Load the national catalogue first."))
    else:
        services.map_item(item, national, actor=request.user, note=form.cleaned_data["note"])
        messages.success(request, _("Mapped to national item %(code)s.") % {"code": national.code})
    if request.POST.get("next") == "national":
        return redirect("catalog:national")
    return redirect("catalog:item_detail", pk=item.pk)


# --- versions -------------------------------------------------------------------------------------------------------


@permission_required(VIEW)
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = access.get_version_for(request.user, pk, "view")
    version = _version_with_citations(ItemVersion.objects.filter(pk=version.pk)).select_related(
        "item", "item__main", "item__department_kind", "based_on", "created_by", "submitted_by", "reviewed_by",
        "published_by").get()
    user = request.user
    item = version.item
    in_scope = SupervisionItem.objects.in_scope_of(user).filter(pk=item.pk).exists()
    status = version.status
    context = {
        "version": version,
        "item": item,
        "diff": services.version_diff(version),
        "comment_form": CommentForm(),
        "can_edit": in_scope and user.has_perm("catalog.change_supervisionitem")
        and status in (VersionStatus.DRAFT, VersionStatus.REJECTED),
        "can_submit": in_scope and user.has_perm("catalog.change_supervisionitem") and status == VersionStatus.DRAFT,
        "can_withdraw": in_scope and user.has_perm("catalog.change_supervisionitem")
        and status == VersionStatus.SUBMITTED,
        "can_review": in_scope and user.has_perm("catalog.review_supervisionitem")
        and status in (VersionStatus.SUBMITTED, VersionStatus.APPROVED),
        "can_approve": status == VersionStatus.SUBMITTED,
        "can_publish": in_scope and user.has_perm("catalog.publish_supervisionitem")
        and status == VersionStatus.APPROVED,
    }
    return render(request, "catalog/version_detail.html", context)


@permission_required("catalog.change_supervisionitem")
@require_http_methods(["GET", "POST"])
def version_edit(request: HttpRequest, pk: int) -> HttpResponse:
    version = access.get_version_for(request.user, pk, "change")
    if version.status not in (VersionStatus.DRAFT, VersionStatus.REJECTED):
        messages.error(request, _("Only drafts can be edited; start a revision of a published item."))
        return redirect("catalog:version_detail", pk=version.pk)
    initial = {**ContentForm.initial_for(version), "updated_at": version.updated_at}
    form = VersionEditForm(request.POST or None, initial=initial)
    formset = _form_pair(request, form, version)
    saved = _save_content(request, form, formset, lambda content: services.update_draft(
        version, actor=request.user, content=content, reason=form.cleaned_data["reason"],
        expected_updated_at=form.cleaned_data.get("updated_at")))
    if saved is not None:
        messages.success(request, _("The draft has been saved."))
        return redirect("catalog:version_detail", pk=version.pk)
    return render(request, "catalog/item_form.html", {
        "form": form, "formset": formset, "version": version, "item": version.item,
        "title": _("Edit %(code)s, version %(number)s") % {"code": version.item.display_code,
                                                            "number": version.number},
    })


_STEPS = {
    "submit": ("change", services.submit_version, gettext_lazy("Submitted for review.")),
    "withdraw": ("change", services.withdraw_version, gettext_lazy("Withdrawn to draft.")),
    "approve": ("review", services.approve_version, gettext_lazy("Approved.")),
    "reject": ("review", services.reject_version, gettext_lazy("Returned to the editors.")),
    "publish": ("publish", services.publish_version,
                gettext_lazy("Published: this version is now the catalogue entry.")),
}


@permission_required(VIEW)
@require_POST
def version_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    if step not in _STEPS:
        raise Http404
    permission, service, done = _STEPS[step]
    if not request.user.has_perm(f"catalog.{permission}_supervisionitem"):
        raise PermissionDenied
    version = access.get_version_for(request.user, pk, permission)
    form = CommentForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    try:
        service(version, actor=request.user, comment=comment)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, str(done))
    if request.POST.get("next") == "review":
        return redirect("catalog:review_queue")
    return redirect("catalog:version_detail", pk=version.pk)


@permission_required("catalog.review_supervisionitem", "catalog.change_supervisionitem")
def review_queue(request: HttpRequest) -> HttpResponse:
    """Versions waiting for the caller: submitted and approved ones in their scope (reviewers), own drafts and
    returned versions (editors)."""
    user = request.user
    base = (ItemVersion.objects.visible_to(user, "view").filter(item__in=SupervisionItem.objects.in_scope_of(user))
            .select_related("item", "item__department_kind", "item__main", "submitted_by", "created_by")
            .order_by("submitted_at", "item__code"))
    context = {
        "submitted": base.filter(status=VersionStatus.SUBMITTED) if user.has_perm(
            "catalog.review_supervisionitem") else base.none(),
        "approved": base.filter(status=VersionStatus.APPROVED) if user.has_perm(
            "catalog.publish_supervisionitem") else base.none(),
        "drafts": base.filter(status__in=(VersionStatus.DRAFT, VersionStatus.REJECTED)) if user.has_perm(
            "catalog.change_supervisionitem") else base.none(),
    }
    return render(request, "catalog/review_queue.html", context)


# --- legal bases ----------------------------------------------------------------------------------------------------


@permission_required("catalog.view_legalbasis")
def basis_list(request: HttpRequest) -> HttpResponse:
    filterset = LegalBasisFilterSet(request.GET, queryset=LegalBasis.objects.visible_to(request.user, "view"))
    polish_filter_form(filterset, request.user, {"q": _("Name or document number"), "level": _("Level"),
                                                 "status": _("Status")})
    page = paginate(request, filterset.qs.order_by("name"))
    return render_page(request, "catalog/basis_list.html", "catalog/partials/basis_table.html", {
        "filterset": filterset, "page": page, "can_add": request.user.has_perm("catalog.add_legalbasis"),
    })


def _basis_data(form: LegalBasisForm) -> dict[str, Any]:
    data = dict(form.cleaned_data)
    data.pop("reason", None)
    return data


@permission_required("catalog.add_legalbasis")
@require_http_methods(["GET", "POST"])
def basis_create(request: HttpRequest) -> HttpResponse:
    form = LegalBasisForm(request.POST or None, initial={"status": "in_force"})
    if request.method == "POST" and form.is_valid():
        try:
            basis = services.create_legal_basis(actor=request.user, **_basis_data(form))
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("The law or regulation has been registered."))
            return redirect("catalog:basis_detail", pk=basis.pk)
    return render(request, "catalog/basis_form.html", {"form": form, "basis": None})


@permission_required("catalog.change_legalbasis")
@require_http_methods(["GET", "POST"])
def basis_edit(request: HttpRequest, pk: int) -> HttpResponse:
    basis = access.get_basis_for(request.user, pk, "change")
    initial = {f: getattr(basis, f) for f in ("name", "level", "issuing_body", "document_number", "effective_on",
                                               "amended_on", "repealed_on", "status", "note")}
    form = LegalBasisForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_legal_basis(basis, actor=request.user, reason=form.cleaned_data["reason"],
                                        **_basis_data(form))
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("The register has been updated."))
            return redirect("catalog:basis_detail", pk=basis.pk)
    return render(request, "catalog/basis_form.html", {"form": form, "basis": basis})


def _citing(basis: LegalBasis) -> QuerySet[SupervisionItem]:
    return (services.items_citing(basis).select_related("department_kind", "main", "latest_version",
                                                        "current_version").order_by("code"))


@permission_required("catalog.view_legalbasis")
@require_http_methods(["GET", "POST"])
def basis_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A law or regulation, every item citing it, and the form that revises the chosen ones together."""
    basis = access.get_basis_for(request.user, pk, "view")
    citing = list(_citing(basis))
    user = request.user
    editable = set(SupervisionItem.objects.in_scope_of(user).filter(pk__in=[i.pk for i in citing])
                   .values_list("pk", flat=True)) if user.has_perm("catalog.change_supervisionitem") else set()
    choices = [(i.pk, f"{i.display_code} {i.name}") for i in citing if i.pk in editable]
    form = ReviseCitingForm(request.POST or None, items=choices, basis=basis,
                            initial={"items": [str(pk) for pk, _label in choices]})
    outcomes = None
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        if form.is_valid():
            try:
                outcomes = services.revise_citing_items(
                    basis, actor=user, reason=form.cleaned_data["reason"],
                    item_ids=[int(i) for i in form.cleaned_data["items"]],
                    replace_with=form.cleaned_data["replace_with"])
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                if form.cleaned_data["submit"]:
                    results = services.submit_many(
                        [o.version for o in outcomes if o.version is not None and o.outcome != "skipped"],
                        actor=user, comment=form.cleaned_data["reason"])
                    failures = [f"{v.item.display_code}：{error}" for v, error in results if error]
                    for failure in failures:
                        messages.warning(request, failure)
                started = sum(1 for o in outcomes if o.outcome != "skipped")
                messages.success(request, _("%(count)s items are being revised together.") % {"count": started})
    return render(request, "catalog/basis_detail.html", {
        "basis": basis, "citing": citing, "editable": editable, "form": form, "outcomes": outcomes,
        "can_change": user.has_perm("catalog.change_legalbasis"),
    })


# --- import and export ----------------------------------------------------------------------------------------------


@permission_required("catalog.import_supervisionitem")
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    can_publish = user.has_perm("catalog.publish_supervisionitem") and user.has_perm("catalog.review_supervisionitem")
    form = ImportForm(request.POST or None, request.FILES or None, can_publish=can_publish)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result: importer.ImportResult | None = None
        try:
            result = importer.import_catalogue(upload.read(), file_name=upload.name, actor=user,
                                               dry_run=form.cleaned_data["dry_run"],
                                               publish=form.cleaned_data.get("publish", False))
        except importer.ImportFailed as failed:
            result = failed.result
        except DomainError as exc:
            apply_domain_error(form, exc)
        if result is not None and result.batch is not None:
            return redirect("catalog:import_detail", pk=result.batch.pk)
    batches = ImportBatch.objects.visible_to(user, "view").order_by("-created_at")[:20]
    return render(request, "catalog/import.html", {"form": form, "batches": batches,
                                                   "columns": exporter.COLUMNS})


@permission_required("catalog.view_importbatch")
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = access.get_import_for(request.user, pk)
    return render(request, "catalog/import_detail.html", {"batch": batch})


@permission_required("catalog.view_importbatch")
def import_report(request: HttpRequest, pk: int) -> HttpResponse:
    batch = access.get_import_for(request.user, pk)
    return _download(exporter.error_report_xlsx(batch.errors, file_name=batch.file_name), XLSX,
                     f"import-{batch.pk}-errors.xlsx")


@permission_required("catalog.export_supervisionitem")
def export(request: HttpRequest) -> HttpResponse:
    file_type = request.GET.get("file_type", "xlsx")
    status = request.GET.get("status", "published")
    if file_type not in ("xlsx", "json") or status not in exporter.EXPORT_STATUSES:
        raise Http404
    rows = exporter.export_rows(status=status)
    audit.record_export("catalog.item.exported", object_type="catalog.supervisionitem", count=len(rows),
                        filters={"status": status}, fmt=file_type)
    if file_type == "json":
        return _download(exporter.export_json(rows, status=status), "application/json", "catalogue.json")
    return _download(exporter.export_xlsx(rows), XLSX, "catalogue.xlsx")


# --- national alignment ---------------------------------------------------------------------------------------------


@permission_required("catalog.view_nationalmapping")
@require_http_methods(["GET", "POST"])
def national(request: HttpRequest) -> HttpResponse:
    user = request.user
    can_map = user.has_perm("catalog.map_supervisionitem")
    form = NationalLoadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not can_map:
            raise PermissionDenied
        if request.POST.get("auto_map"):
            count = services.auto_map_by_name(actor=user)
            messages.success(request, _("%(count)s items were mapped by identical name.") % {"count": count})
            return redirect("catalog:national")
        if form.is_valid():
            upload = form.cleaned_data["file"]
            edition, rows, errors = read_national_file(upload.read(), edition=form.cleaned_data["edition"])
            for error in errors[:20]:
                messages.warning(request, f"第{error.row}行 {error.column}：{error.reason}")
            if rows:
                result = services.load_national_catalogue(rows, actor=user,
                                                          edition=edition or upload.name.rsplit(".", 1)[0])
                messages.success(request, _("National catalogue loaded: %(created)s added, %(updated)s updated, "
                                            "%(retired)s no longer listed.") % {
                    "created": result.created, "updated": result.updated, "retired": result.retired})
                return redirect("catalog:national")
            form.add_error("file", _("No national items could be read from the file."))
    report = services.alignment_report()
    mappings = (NationalMapping.objects.visible_to(user, "view").select_related("item", "national_item")
                .order_by("item__code"))
    return render(request, "catalog/national.html", {
        "form": form, "report": report, "mappings": mappings, "can_map": can_map,
        "can_export": user.has_perm("catalog.export_supervisionitem"),
        "national_count": NationalItem.objects.filter(active=True).count(),
    })


@permission_required("catalog.export_supervisionitem")
def push_package(request: HttpRequest) -> HttpResponse:
    return _download(push.build_for(request.user), "application/json", "push-package-v1.json")


# --- implementation lists -------------------------------------------------------------------------------------------


@permission_required("catalog.view_implementationitem")
def implementation_list(request: HttpRequest) -> HttpResponse:
    queryset = (ImplementationItem.objects.visible_to(request.user, "view")
                .select_related("item", "item__main", "organization", "region").order_by("region_id", "item__code"))
    filterset = ImplementationItemFilterSet(request.GET, queryset=queryset)
    polish_filter_form(filterset, request.user, {"q": _("Keyword"), "region": _("Region"),
                                                 "status": _("Status")})
    for hidden in ("organization", "item_code"):
        filterset.form.fields.pop(hidden, None)
    page = paginate(request, filterset.qs)
    return render_page(request, "catalog/implementation_list.html", "catalog/partials/implementation_table.html", {
        "filterset": filterset, "page": page, "can_add": request.user.has_perm("catalog.add_implementationitem"),
    })


@permission_required("catalog.add_implementationitem")
@require_http_methods(["GET", "POST"])
def implementation_create(request: HttpRequest) -> HttpResponse:
    initial = {"item_code": request.GET.get("item", "")}
    form = ImplementationForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        item = SupervisionItem.objects.filter(code=data.pop("item_code").strip()).first()
        if item is None:
            form.add_error("item_code", _("No item has that code."))
        else:
            try:
                implementation = services.create_implementation(actor=request.user, item=item, **data)
            except DomainError as exc:
                apply_domain_error(form, exc)
                if "item" in exc.fields:
                    form.add_error("item_code", exc.fields["item"][0])
            else:
                messages.success(request, _("Implementation list %(code)s has been created.") % {
                    "code": implementation.code})
                return redirect("catalog:implementation_detail", pk=implementation.pk)
    return render(request, "catalog/implementation_form.html", {"form": form, "implementation": None})


@permission_required("catalog.view_implementationitem")
def implementation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    implementation = access.get_implementation_for(request.user, pk, "view")
    item = (SupervisionItem.objects.select_related("current_version", "main", "main__current_version",
                                                   "department_kind")
            .prefetch_related("current_version__citations__basis").get(pk=implementation.item_id))
    return render(request, "catalog/implementation_detail.html", {
        "implementation": implementation, "item": item,
        "can_change": request.user.has_perm("catalog.change_implementationitem"),
        "withdraw_form": ReasonForm(),
    })


@permission_required("catalog.change_implementationitem")
@require_http_methods(["GET", "POST"])
def implementation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    implementation = access.get_implementation_for(request.user, pk, "change")
    initial = {f: getattr(implementation, f) for f in ("handling_unit", "contact_phone", "place", "local_basis",
                                                       "notes")}
    form = ImplementationForm(request.POST or None, user=request.user, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_implementation(implementation, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("The changes have been saved."))
            return redirect("catalog:implementation_detail", pk=implementation.pk)
    return render(request, "catalog/implementation_form.html", {"form": form, "implementation": implementation})


@permission_required("catalog.change_implementationitem")
@require_POST
def implementation_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    implementation = access.get_implementation_for(request.user, pk, "change")
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason for the withdrawal."))
    else:
        try:
            services.withdraw_implementation(implementation, actor=request.user, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The implementation list has been withdrawn."))
    return redirect("catalog:implementation_detail", pk=implementation.pk)


# --- the public catalogue (no sign-in) ------------------------------------------------------------------------------


def public_list(request: HttpRequest) -> HttpResponse:
    """The published catalogue for everyone: published versions only, searchable."""
    from django import forms

    queryset = (public_items().select_related("department_kind", "current_version", "main", "main__current_version")
                .order_by("code"))
    filterset = PublicItemFilterSet(request.GET, queryset=queryset)
    form = filterset.form
    labels = {"q": _("Keyword"), "department": _("Department"), "method": _("Method"),
              "target": _("Supervised object"), "level": _("Level")}
    for name, label in labels.items():
        form.fields[name].label = label
    form.fields["department"].widget = forms.Select(choices=[("", _("All departments"))] + [
        (k.code, k.province_name) for k in DepartmentKind.objects.filter(
            supervisionitem__state=ItemState.PUBLISHED).distinct().order_by("code")])
    form.fields["method"].widget = forms.Select(choices=[("", _("All"))] + list(SupervisionMethod.choices))
    form.fields["level"].widget = forms.Select(choices=[("", _("All"))] + list(AdministrativeLevel.choices))
    page = paginate(request, filterset.qs, per_page=30)
    return render_page(request, "catalog/public_list.html", "catalog/partials/public_table.html",
                       {"filterset": filterset, "page": page})


def public_detail(request: HttpRequest, code: str) -> HttpResponse:
    item = (public_items().filter(code=code)
            .select_related("department_kind", "current_version", "main", "main__current_version")
            .prefetch_related(Prefetch("current_version__citations",
                                       queryset=BasisCitation.objects.select_related("basis")))
            .first())
    if item is None:
        raise Http404
    implementations = (ImplementationItem.objects.filter(item=item, status="active")
                       .select_related("organization", "region").order_by("region_id"))
    return render(request, "catalog/public_detail.html", {"item": item, "version": item.current_version,
                                                          "implementations": implementations})
