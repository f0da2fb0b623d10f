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


@shared_task(name="jianguan.datacenter.tasks.scan_inboxes")
def scan_inboxes() -> int:
    """Every minute (beat): deliver the files dropped into the sources' inbox folders."""
    from jianguan.core import audit
    from jianguan.datacenter import inbox, services

    with audit.audit_context(actor_name="system:datacenter"):
        return len(inbox.scan_inboxes(actor=services.SystemActor()).taken)
