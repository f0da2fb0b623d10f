"""Job kinds of the complaints module (registered from ``ComplaintsConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from jianguan.core.jobs import JobReporter, register_job


def train_classifier(params: dict[str, Any], reporter: JobReporter) -> dict[str, Any]:
    """Retrain the category/department classifier on the registered tickets and their corrections."""
    from jianguan.complaints import classifier

    result = classifier.train()
    return {"version": result.version, "trained_on": result.trained_on, "held_out": result.held_out,
            "category_accuracy": round(result.category_accuracy, 4),
            "department_accuracy": round(result.department_accuracy, 4),
            "corrections_used": result.corrections_used}


def sweep(params: dict[str, Any], reporter: JobReporter) -> dict[str, Any]:
    """Reminders and automatic 督办 now (the same service as the scheduled task)."""
    from jianguan.complaints import services

    result = services.sweep_deadlines(dry_run=bool(params.get("dry_run")))
    return {"reminded": len(result.reminded), "supervised": len(result.supervised),
            "decision_supervised": len(result.decision_supervised), "notice_supervised": len(result.notice_supervised)}


def register() -> None:
    register_job("complaints.train", train_classifier, label=_("Retrain the complaint classifier"),
                 permission="complaints.manage_complaint")
    register_job("complaints.sweep", sweep, label=_("Complaint reminders and automatic supervision"),
                 permission="complaints.supervise_complaint")
