"""Celery tasks: thin, idempotent, callable synchronously in embedded mode. Beat schedule (config/settings.py):

    "complaints-sweep-deadlines": {"task": "jianguan.complaints.tasks.sweep_deadlines", "schedule": 900.0},
    "complaints-assist": {"task": "jianguan.complaints.tasks.assist_new_complaints", "schedule": 60.0},
"""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(name="jianguan.complaints.tasks.sweep_deadlines")
def sweep_deadlines() -> dict[str, Any]:
    """Reminders before the deadline and automatic 督办 when overdue (each once per handling cycle)."""
    from jianguan.complaints import services

    result = services.sweep_deadlines()
    return {"reminded": len(result.reminded), "supervised": len(result.supervised),
            "decision_supervised": len(result.decision_supervised), "notice_supervised": len(result.notice_supervised)}


@shared_task(name="jianguan.complaints.tasks.assist_new_complaints")
def assist_new_complaints() -> int:
    """After intake (broker mode): suggestions, candidate entities and duplicate proposals for the new tickets."""
    from jianguan.complaints import services

    return services.assist_pending()


