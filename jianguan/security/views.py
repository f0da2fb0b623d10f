"""Security administration (安全审计): departments, accounts, roles, API tokens and the audit log.

Thin views over ``jianguan.core.services``: every list is scoped with ``visible_to``, every object comes from
``get_object_for`` (or, for the global role table, by code), and there is no edit or delete of audit entries.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jianguan.core import services
from jianguan.core.access import get_object_for
from jianguan.core.errors import DomainError
from jianguan.core.filtersets import AuditEntryFilterSet, OrganizationFilterSet, UserFilterSet
from jianguan.core.jobs import start_job
from jianguan.core.models import ApiToken, AuditEntry, DepartmentKind, Organization, Region, Role, User
from jianguan.core.views.base import (
    apply_domain_error,
    no_store,
    paginate,
    permission_required,
    polish_filter_form,
    render_page,
)
from jianguan.security.forms import (
    OrganizationCreateForm,
    OrganizationEditForm,
    RoleForm,
    TokenIssueForm,
    UserCreateForm,
    UserEditForm,
    jianguan_permissions,
)

# --- Organisations ----------------------------------------------------------------------------------------------------


@permission_required("core.view_organization")
def organization_list(request: HttpRequest) -> HttpResponse:
    queryset = (
        Organization.objects.visible_to(request.user, "view")
        .select_related("region", "region__parent", "kind")
        .order_by("code")
    )
    filterset = OrganizationFilterSet(request.GET, queryset=queryset)
    polish_filter_form(filterset, request.user, {"q": _("Name"), "region": _("Region"), "kind": _("Department kind")})
    kinds = DepartmentKind.objects.order_by("code")  # national reference list, not scoped data
    filterset.form.fields["kind"].widget = forms.Select(
        choices=[("", _("All department kinds")), *((k.code, k.short_name) for k in kinds)]
    )
    page = paginate(request, filterset.qs)
    context = {
        "filterset": filterset,
        "page": page,
        "can_add": request.user.has_perm("core.add_organization"),
        "can_change": request.user.has_perm("core.change_organization"),
    }
    return render_page(request, "security/organization_list.html", "security/partials/organization_table.html",
                       context)


@permission_required("core.add_organization")
@require_http_methods(["GET", "POST"])
def organization_create(request: HttpRequest) -> HttpResponse:
    form = OrganizationCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            org = services.create_organization(actor=request.user, region=data["region"], kind=data["kind"],
                                               name=data["name"], uscc=data["uscc"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Department “%(name)s” has been created.") % {"name": org.name})
            return redirect("security:organization_list")
    return render(request, "security/organization_form.html", {"form": form, "organization": None})


@permission_required("core.change_organization")
@require_http_methods(["GET", "POST"])
def organization_edit(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_object_for(request.user, Organization, pk, "change")
    initial = {"name": org.name, "uscc": org.uscc, "active": org.active}
    form = OrganizationEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_organization(org, actor=request.user, name=data["name"], uscc=data["uscc"],
                                         active=data["active"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("The changes have been saved."))
            return redirect("security:organization_list")
    return render(request, "security/organization_form.html", {"form": form, "organization": org})


# --- Users ------------------------------------------------------------------------------------------------------------


@permission_required("core.view_user")
def user_list(request: HttpRequest) -> HttpResponse:
    queryset = (
        User.objects.visible_to(request.user, "view")
        .select_related("region", "region__parent", "organization")
        .prefetch_related("roles")
        .defer("phone")
        .order_by("username")
    )
    filterset = UserFilterSet(request.GET, queryset=queryset)
    polish_filter_form(filterset, request.user, {
        "q": _("Username or name"), "region": _("Region"), "organization": _("Department"), "role": _("Role"),
        "is_active": _("Account enabled"),
    })
    form = filterset.form
    orgs = Organization.objects.visible_to(request.user, "view").only("id", "name").order_by("code")
    form.fields["organization"].widget = forms.Select(choices=[("", _("All departments"))] +
                                                      [(o.pk, o.name) for o in orgs])
    from jianguan.core.templatetags.jianguan import role_label

    form.fields["role"].widget = forms.Select(choices=[("", _("All roles"))] +
                                              [(r.code, role_label(r)) for r in Role.objects.order_by("code")])
    page = paginate(request, filterset.qs)
    context = {
        "filterset": filterset,
        "page": page,
        "can_add": request.user.has_perm("core.add_user"),
        "can_change": request.user.has_perm("core.change_user"),
        "now": timezone.now(),
    }
    return render_page(request, "security/user_list.html", "security/partials/user_table.html", context)


@permission_required("core.add_user")
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        org: Organization = data["organization"]
        try:
            created, initial = services.create_user(
                actor=request.user, username=data["username"], full_name=data["full_name"], region=org.region,
                organization=org, roles=data["roles"], phone=data["phone"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            context = {"target": created, "password": initial, "created": True}
            return no_store(render(request, "security/user_password.html", context))
    return render(request, "security/user_form.html", {"form": form, "target": None})


@permission_required("core.view_user")
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The account page: details for viewers, an edit form for those who may change accounts."""
    target = get_object_for(request.user, User, pk, "view")
    can_change = request.user.has_perm("core.change_user")
    form = None
    if can_change:
        initial = {
            "full_name": target.full_name, "organization": target.organization_id,
            "roles": list(target.roles.all()), "is_active": target.is_active,
        }
        form = UserEditForm(request.POST or None, user=request.user, target=target, initial=initial)
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.update_user(target, actor=request.user, full_name=data["full_name"],
                                     organization=data["organization"], roles=data["roles"],
                                     phone=data["phone"] or None, is_active=data["is_active"])
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("The changes have been saved."))
                return redirect("security:user_edit", pk=target.pk)
    context = {
        "target": target,
        "form": form,
        "roles": list(target.roles.all()),
        "can_reset": request.user.has_perm("core.reset_password_user"),
        "locked": services.is_locked(target),
    }
    return render(request, "security/user_form.html", context)


@require_POST
@permission_required("core.reset_password_user")
def user_reset_password(request: HttpRequest, pk: int) -> HttpResponse:
    target = get_object_for(request.user, User, pk, "reset_password")
    try:
        temporary = services.reset_password(target, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("security:user_edit", pk=target.pk)
    return no_store(render(request, "security/user_password.html",
                           {"target": target, "password": temporary, "created": False}))


# --- Roles ------------------------------------------------------------------------------------------------------------


@permission_required("core.view_role")
def role_list(request: HttpRequest) -> HttpResponse:
    from django.contrib.auth.models import Permission

    roles = Role.objects.order_by("code").prefetch_related(
        Prefetch("permissions", queryset=Permission.objects.select_related("content_type")
                 .order_by("content_type__model", "codename"))
    )
    return render(request, "security/role_list.html", {
        "roles": roles,
        "can_manage": request.user.has_perm("core.manage_role"),
    })


def _permission_groups(form: RoleForm) -> list[dict[str, Any]]:
    """The permission checkboxes grouped by model, for a readable role editor."""
    permissions = {str(p.pk): p for p in jianguan_permissions()}
    checkboxes = list(form["permissions"])
    groups = []
    for model, items in groupby(checkboxes, key=lambda c: permissions[str(c.data["value"])].content_type_id):
        items = list(items)
        first = permissions[str(items[0].data["value"])]
        model_class = first.content_type.model_class()
        label = model_class._meta.verbose_name if model_class is not None else first.content_type.model
        groups.append({"label": label, "checkboxes": [(c, permissions[str(c.data["value"])]) for c in items],
                       "key": model})
    return groups


@permission_required("core.manage_role")
@require_http_methods(["GET", "POST"])
def role_edit(request: HttpRequest, code: str) -> HttpResponse:
    role = get_object_or_404(Role, pk=code)  # roles are global configuration, not scoped data
    initial = {"permissions": list(role.permissions.all()), "all_departments": role.all_departments}
    form = RoleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_role(role, actor=request.user, permissions=form.cleaned_data["permissions"],
                                 all_departments=form.cleaned_data["all_departments"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("The role has been updated."))
            return redirect("security:role_list")
    return render(request, "security/role_form.html",
                  {"role": role, "form": form, "groups": _permission_groups(form)})


# --- API tokens -------------------------------------------------------------------------------------------------------


def token_status(token: ApiToken, now: Any) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at <= now:
        return "expired"
    return "active"


@permission_required("core.view_apitoken")
def token_list(request: HttpRequest) -> HttpResponse:
    queryset = (
        ApiToken.objects.visible_to(request.user, "view")
        .select_related("user", "user__organization", "created_by")
        .order_by("-created_at")
    )
    page = paginate(request, queryset)
    now = timezone.now()
    rows = [(token, token_status(token, now)) for token in page.object_list]
    return render(request, "security/token_list.html", {
        "page": page,
        "rows": rows,
        "can_add": request.user.has_perm("core.add_apitoken"),
        "can_revoke": request.user.has_perm("core.change_apitoken"),
    })


@permission_required("core.add_apitoken")
@require_http_methods(["GET", "POST"])
def token_issue(request: HttpRequest) -> HttpResponse:
    form = TokenIssueForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            token, secret = services.issue_token(actor=request.user, user=data["user"], name=data["name"],
                                                 scopes=data["scopes"], days=data["days"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            return no_store(render(request, "security/token_secret.html", {"token": token, "secret": secret}))
    return render(request, "security/token_form.html", {"form": form})


@require_POST
@permission_required("core.change_apitoken")
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_for(request.user, ApiToken, pk, "change")
    try:
        services.revoke_token(token, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Token “%(name)s” has been revoked.") % {"name": token.name})
    return redirect("security:token_list")


# --- Audit log (read only) --------------------------------------------------------------------------------------------


@require_GET
@permission_required("core.view_auditentry")
def audit_list(request: HttpRequest) -> HttpResponse:
    queryset = AuditEntry.objects.visible_to(request.user, "view").order_by("-id")
    filterset = polish_filter_form(AuditEntryFilterSet(request.GET, queryset=queryset), request.user, {
        "actor": _("Actor"), "action": _("Action"), "event": _("Event code"), "object_type": _("Object type"),
        "object_id": _("Object id"), "ip": _("From"), "since": _("From time"), "until": _("Until"),
        "success": _("Result"),
    })
    for name in ("since", "until"):
        filterset.form.fields[name].widget = forms.DateTimeInput(attrs={"type": "datetime-local"})
    page = paginate(request, filterset.qs)
    codes = {e.actor_region for e in page.object_list if e.actor_region}
    region_names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    context = {"filterset": filterset, "page": page, "region_names": region_names}
    return render_page(request, "security/audit_list.html", "security/partials/audit_table.html", context)


def _diff_rows(before: Any, after: Any) -> list[dict[str, Any]]:
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    rows = []
    for key in sorted(set(before) | set(after)):
        rows.append({
            "field": key,
            "before": before.get(key),
            "after": after.get(key),
            "in_before": key in before,
            "in_after": key in after,
            "changed": before.get(key) != after.get(key),
        })
    return rows


@require_GET
@permission_required("core.view_auditentry")
def audit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_for(request.user, AuditEntry, pk, "view")
    return render(request, "security/audit_detail.html", {
        "entry": entry,
        "diff": _diff_rows(entry.before, entry.after),
    })


@require_POST
@permission_required("core.view_auditentry")
def audit_verify(request: HttpRequest) -> HttpResponse:
    """Start a background verification of the whole hash chain and go to its job page."""
    try:
        job = start_job("audit.verify", actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("security:audit_list")
    messages.info(request, _("Verification of the audit chain has started."))
    return redirect("core:job_detail", pk=job.pk)
