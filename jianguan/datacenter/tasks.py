"""Celery tasks of the data centre: thin wrappers over services."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="jianguan.datacenter.tasks.run_due_pulls")
def run_due_pulls() -> list[str]:
    """Every few minutes (beat): pull the sources whose schedule is due."""
    from jianguan.core import audit
    from jianguan.datacenter import collect

    with audit.audit_context(actor_name="system:datacenter"):
        return collect.run_due_pulls()
