"""Job kinds the kernel offers (registered from ``CoreConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from jianguan.core import audit
from jianguan.core.jobs import JobReporter, register_job


def verify_audit_chain(params: dict[str, Any], reporter: JobReporter) -> dict[str, Any]:
    """Recompute the audit hash chain and report the first altered or missing entry."""
    from jianguan.core.models import AuditEntry

    reporter.total(AuditEntry.objects.count())
    result = audit.verify_chain(progress=lambda n: reporter.progress(n))
    reporter.progress(result.checked)
    if result.ok:
        audit.write_checkpoint()
    else:
        reporter.error(seq=result.seq, problem=result.problem)
    audit.record_event(
        "core.audit.verified", details={"ok": result.ok, "checked": result.checked, "problem": result.problem}
    )
    return {"ok": result.ok, "checked": result.checked, "problem": result.problem, "seq": result.seq}


def register() -> None:
    register_job(
        "audit.verify", verify_audit_chain, label=_("Verify the audit chain"), permission="core.view_auditentry"
    )
