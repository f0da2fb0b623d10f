"""Celery tasks of the kernel: thin wrappers over services."""

from __future__ import annotations

from celery import shared_task

from jianguan.core import events, jobs


@shared_task(name="jianguan.core.tasks.run_job", acks_late=True)
def run_job(job_id: str) -> str:
    return jobs.run_job(job_id)


@shared_task(name="jianguan.core.tasks.deliver_event", acks_late=True)
def deliver_event(event_id: str) -> int:
    return events.deliver(event_id)


@shared_task(name="jianguan.core.tasks.deliver_outbox")
def deliver_outbox() -> int:
    return events.deliver_pending()


@shared_task(name="jianguan.core.tasks.seal_audit")
def seal_audit() -> int:
    """Chain the committed audit entries (scheduled after commits, and every 10 s from beat)."""
    from jianguan.core import audit

    return audit.seal_pending()


@shared_task(name="jianguan.core.tasks.audit_checkpoint")
def audit_checkpoint() -> int:
    from jianguan.core import audit

    return audit.write_checkpoint()


@shared_task(name="jianguan.core.tasks.outbox_prune")
def outbox_prune() -> int:
    """Daily: drop outbox events delivered more than JIANGUAN_OUTBOX_RETENTION_DAYS ago."""
    from jianguan.core import events

    return events.prune_delivered()


@shared_task(name="jianguan.core.tasks.audit_prune")
def audit_prune() -> int:
    """Daily: drop audit entries past JIANGUAN_AUDIT_RETENTION_DAYS (the chain stays verifiable via its anchor)."""
    from jianguan.core import audit

    with audit.audit_context(actor_name="system:audit-prune"):
        return audit.prune_expired()
