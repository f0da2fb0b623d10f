"""Celery tasks: thin, idempotent, callable synchronously in embedded mode. Beat schedule (config/settings.py):

    "complaints-sweep-deadlines": {"task": "jianguan.complaints.tasks.sweep_deadlines", "schedule": 900.0},
"""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(name="jianguan.complaints.tasks.sweep_deadlines")
def sweep_deadlines() -> dict[str, Any]:
    """Reminders before the deadline and automatic 督办 when overdue (each once per handling cycle)."""
    from jianguan.complaints import services

    result = services.sweep_deadlines()
    return {"reminded": len(result.reminded), "supervised": len(result.supervised)}


@shared_task(name="jianguan.complaints.tasks.assist_new_complaint")
def assist_new_complaint(complaint_id: int) -> str:
    """After intake: the classifier's suggestion and the duplicate proposals (safe to run twice)."""
    from jianguan.complaints import services
    from jianguan.complaints.models import Complaint

    complaint = Complaint.objects.filter(pk=complaint_id).first()
    if complaint is None:
        return "missing"
    services.suggest_classification(complaint)
    services.find_subject_candidate(complaint)
    services.propose_duplicates(complaint)
    return "done"
