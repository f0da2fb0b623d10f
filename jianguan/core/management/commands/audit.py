"""``jianguan audit verify`` and ``jianguan audit prune``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jianguan.core import audit


class Command(BaseCommand):
    help = "Verify the audit hash chain, or prune entries past the retention period."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="Recompute the chain; exit 1 naming the first altered or missing entry.")
        prune = sub.add_parser("prune", help="Delete entries older than JIANGUAN_AUDIT_RETENTION_DAYS.")
        prune.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "verify":
            with audit.audit_context(actor_name="system:audit-verify"):
                result = audit.verify_chain()
                audit.record_event(
                    "core.audit.verified",
                    details={"ok": result.ok, "checked": result.checked, "problem": result.problem},
                )
            if not result.ok:
                raise CommandError(
                    f"audit chain BROKEN after {result.checked} good entries: {result.problem}", returncode=1
                )
            head = audit.write_checkpoint()
            self.stdout.write(f"audit chain OK: {result.checked} entries verified; checkpoint written at #{head}")
            return
        with audit.audit_context(actor_name="system:audit-prune"):
            count = audit.prune_expired(dry_run=options["dry_run"])
        verb = "would prune" if options["dry_run"] else "pruned"
        self.stdout.write(f"{verb} {count} entries older than the retention period")
