"""``jianguan load_reference``: load a newer edition of the division list, department kinds or industries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jianguan.core import audit, reference


class Command(BaseCommand):
    help = "Load reference data files (regions per GB/T 2260, department kinds, GB/T 4754 industries)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--regions", type=Path, help="CSV: code,name,short_name,level,kind,parent_code")
        parser.add_argument("--edition", default="", help="Edition label for the region file, e.g. 2024")
        parser.add_argument("--department-kinds", type=Path)
        parser.add_argument("--industries", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        if not any(options[k] for k in ("regions", "department_kinds", "industries")):
            raise CommandError("name at least one file: --regions, --department-kinds or --industries")
        with audit.audit_context(actor_name="system:load-reference"):
            try:
                if options["regions"]:
                    counts = reference.load_regions(options["regions"], edition=options["edition"])
                    audit.record_event(
                        "core.region.edition_loaded", details={**counts, "file": str(options["regions"])}
                    )
                    self.stdout.write(
                        "regions: {created} created, {updated} updated, {retired} retired".format(**counts)
                    )
                if options["department_kinds"]:
                    n = reference.load_department_kinds(options["department_kinds"])
                    self.stdout.write(f"department kinds: {n} loaded")
                if options["industries"]:
                    n = reference.load_industries(options["industries"])
                    self.stdout.write(f"industries: {n} loaded")
            except (reference.ReferenceDataError, OSError) as exc:
                raise CommandError(str(exc)) from None
