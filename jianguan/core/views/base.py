"""Small helpers shared by the UI views of every app: permission gates, pagination, htmx detection and turning a
``DomainError`` into form errors. Views stay thin: fetch through scope, validate a form, call a service."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from jianguan.core.errors import DomainError
from jianguan.core.models import Region

PAGE_SIZE = 50

ViewFunc = Callable[..., HttpResponse]


def permission_required(*perms: str) -> Callable[[ViewFunc], ViewFunc]:
    """Anonymous → login redirect; signed in without any of ``perms`` → 403. With no perms: login only."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if perms and not any(user.has_perm(p) for p in perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


login_required = permission_required()


def is_htmx(request: HttpRequest) -> bool:
    """True for an htmx request that wants only a partial (boosted loads and history restores want the whole page)."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def render_page(request: HttpRequest, template: str, partial: str, context: dict[str, Any],
                status: int = 200) -> HttpResponse:
    """The whole page, or only ``partial`` for an htmx request; caches are told the answer varies on HX-Request."""
    response = render(request, partial if is_htmx(request) else template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def paginate(request: HttpRequest, queryset: QuerySet[Any], per_page: int = PAGE_SIZE) -> Page[Any]:
    paginator = Paginator(queryset, per_page)
    return paginator.get_page(request.GET.get("page"))


def apply_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service's refusal on the form: field messages on their fields, the rest at the top."""
    placed = False
    for name, messages in exc.fields.items():
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def scoped_regions(user: Any) -> QuerySet[Region]:
    """Regions inside ``user``'s region subtree (for dropdowns and filters)."""
    region = getattr(user, "region", None)
    if region is None:
        return Region.objects.none()
    return Region.objects.filter(code__startswith=region.scope_prefix, active=True).select_related("parent")


def region_choices(user: Any, *, blank_label: str = "") -> list[tuple[str, str]]:
    """``(code, indented name)`` pairs for a region select, the user's own region first."""
    choices = [("", blank_label or "---------")]
    for region in scoped_regions(user).order_by("code"):
        indent = {"province": "", "city": "\u3000", "county": "\u3000\u3000"}.get(region.level, "")
        choices.append((region.code, f"{indent}{region.name}"))
    return choices


def no_store(response: HttpResponse) -> HttpResponse:
    """Responses that show a secret or plaintext personal data once must not be cached anywhere."""
    response["Cache-Control"] = "no-store, private"
    response["Pragma"] = "no-cache"
    return response


def polish_filter_form(filterset: Any, user: Any, labels: dict[str, Any]) -> Any:
    """Make a shared filterset's form fit the UI: translated labels, “all” instead of blank/unknown choices, and a
    region select limited to the user's scope (the API keeps plain codes)."""
    from django.utils.translation import gettext as _

    form = filterset.form
    for name, label in labels.items():
        if name in form.fields:
            form.fields[name].label = label
    for name, field in form.fields.items():
        if name == "region":
            field.widget = forms.Select(choices=region_choices(user, blank_label=_("All regions")))
        elif isinstance(field.widget, forms.NullBooleanSelect):
            field.widget = forms.Select(choices=[("", _("All")), ("true", _("Yes")), ("false", _("No"))])
        elif hasattr(field, "empty_label") and hasattr(field, "choices"):
            # django-filter choice fields add their blank choice while iterating; the widget must see the new label.
            field.empty_label = _("All")
            field.widget.choices = field.choices
    return filterset
