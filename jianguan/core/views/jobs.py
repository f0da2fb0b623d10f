"""Background jobs: list and a detail page that polls itself (htmx) while the job is pending or running."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from jianguan.core import jobs as job_registry
from jianguan.core.access import get_object_for
from jianguan.core.choices import JobStatus
from jianguan.core.filtersets import JobFilterSet
from jianguan.core.models import Job
from jianguan.core.views.base import paginate, permission_required, polish_filter_form, render_page

ACTIVE = (JobStatus.PENDING, JobStatus.RUNNING)


@permission_required("core.view_job")
def job_list(request: HttpRequest) -> HttpResponse:
    queryset = Job.objects.visible_to(request.user, "view").select_related("created_by").order_by("-created_at")
    filterset = polish_filter_form(JobFilterSet(request.GET, queryset=queryset), request.user,
                                   {"kind": _("Kind"), "status": _("Status")})
    kinds = job_registry.job_kinds()
    filterset.form.fields["kind"].widget = forms.Select(
        choices=[("", _("All")), *((code, str(label)) for code, label in sorted(kinds.items()))]
    )
    page = paginate(request, filterset.qs)
    context = {"filterset": filterset, "page": page, "kinds": kinds}
    return render_page(request, "core/job_list.html", "core/partials/job_table.html", context)


@permission_required("core.view_job")
def job_detail(request: HttpRequest, pk: str) -> HttpResponse:
    job = get_object_for(request.user, Job, pk, "view")
    context = {
        "job": job,
        "active": job.status in ACTIVE,
        "kind_label": job_registry.job_kinds().get(job.kind, job.kind),
        # Tracebacks stay in the server log and the row; the page shows what went wrong, not the stack.
        "errors": [{k: v for k, v in e.items() if k != "trace"} if isinstance(e, dict) else e for e in job.errors],
    }
    return render_page(request, "core/job_detail.html", "core/partials/job_status.html", context)
