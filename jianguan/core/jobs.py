"""Background jobs: a ``Job`` row per long piece of work, run by Celery (or at once in embedded mode)."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jianguan.core import audit
from jianguan.core.choices import JobStatus
from jianguan.core.errors import DomainError

logger = logging.getLogger(__name__)


class JobReporter:
    """Handed to a job runner: report progress, log problems."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self.errors: list[dict[str, Any]] = []

    def total(self, total: int) -> None:
        from jianguan.core.models import Job

        Job.objects.filter(pk=self.job_id).update(progress_total=total)

    def progress(self, done: int, message: str = "") -> None:
        from jianguan.core.models import Job

        fields: dict[str, Any] = {"progress_done": done}
        if message:
            fields["message"] = message[:500]
        Job.objects.filter(pk=self.job_id).update(**fields)

    def error(self, **details: Any) -> None:
        self.errors.append(details)


Runner = Callable[[dict[str, Any], JobReporter], dict[str, Any]]
_runners: dict[str, tuple[Runner, Any, str]] = {}


def register_job(kind: str, runner: Runner, *, label: Any, permission: str = "core.add_job") -> None:
    """Make ``kind`` runnable by holders of ``permission``. ``runner(params, reporter)`` returns a JSON result."""
    _runners[kind] = (runner, label, permission)


def job_kinds(user: Any = None) -> dict[str, Any]:
    """Kinds and labels; with ``user``, only the kinds that user may start."""
    return {
        kind: label
        for kind, (_r, label, perm) in _runners.items()
        if user is None or user.has_perm(perm)
    }


def start_job(kind: str, *, actor: Any, params: dict[str, Any] | None = None) -> Any:
    """Create the job row and enqueue it after commit."""
    from jianguan.core.models import Job

    if kind not in _runners:
        raise DomainError("job.unknown_kind", f"未知的任务类型：{kind}")
    permission = _runners[kind][2]
    if getattr(actor, "pk", None) is not None and not actor.has_perm(permission):
        raise PermissionDenied(permission)
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind,
            params=params or {},
            created_by=actor if getattr(actor, "pk", None) else None,
            region_id=getattr(actor, "region_id", None),
            organization_id=getattr(actor, "organization_id", None),
        )
        audit.record_event("core.job.started", target=job, details={"kind": kind, "params": params or {}})
        transaction.on_commit(lambda: _enqueue(str(job.pk)))
    return job


def _enqueue(job_id: str) -> None:
    from jianguan.core.tasks import run_job

    run_job.delay(job_id)


def run_job(job_id: str) -> str:
    """Execute a pending job once (a second delivery of the same message finds it no longer pending)."""
    from jianguan.core.models import Job

    claimed = Job.objects.filter(pk=job_id, status=JobStatus.PENDING).update(
        status=JobStatus.RUNNING, started_at=timezone.now()
    )
    if claimed != 1:
        return "skipped"
    job = Job.objects.get(pk=job_id)
    runner, _label, _perm = _runners[job.kind]
    reporter = JobReporter(job_id)
    actor_name = f"job:{job.kind}"
    if job.created_by is not None:
        actor_name = f"{job.created_by.username}({job.created_by.display_name})"
    with audit.audit_context(actor_name=actor_name, request_id=f"job:{job_id}"):
        try:
            result = runner(job.params, reporter)
        except Exception as exc:
            logger.exception("job %s failed", job_id)
            message = exc.message if isinstance(exc, DomainError) else str(exc)
            Job.objects.filter(pk=job_id).update(
                status=JobStatus.FAILED,
                finished_at=timezone.now(),
                message=message[:500],
                errors=[*reporter.errors, {"error": message, "trace": traceback.format_exc()[-2000:]}],
            )
            return JobStatus.FAILED
        Job.objects.filter(pk=job_id).update(
            status=JobStatus.SUCCEEDED,
            finished_at=timezone.now(),
            result=result,
            errors=reporter.errors,
        )
        Job.objects.filter(pk=job_id, progress_total__isnull=False).update(progress_done=F("progress_total"))
    return JobStatus.SUCCEEDED
