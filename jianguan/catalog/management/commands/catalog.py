"""``jianguan catalog``: the catalogue from the command line, doing what the pages do.

* ``import FILE [--report PATH] [--dry-run] [--publish] [--user NAME]`` prints the counts and writes the error
  report (default ``FILE.errors.xlsx``); exit status 1 when rows were rejected (the valid rows are still imported)
  or the import failed (nothing is written then);
* ``export --format xlsx|json [--status published|latest] FILE``;
* ``national-load FILE [--edition NAME]`` loads the national catalogue, then prints the alignment report;
* ``push-package FILE`` writes the push package for the national system (validated against its schema).

Without ``--user`` the command acts as the system (every permission, the whole province), recorded in the audit
log as ``system:catalog-cli``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jianguan.catalog import exporter, importer, push, services
from jianguan.catalog.national import read_national_file
from jianguan.core import audit


class Command(BaseCommand):
    help = "Import, export, align and push the supervision item catalogue."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", help="act as this user (default: the system)")
        sub = parser.add_subparsers(dest="subcommand", required=True)
        imp = sub.add_parser("import", help="import a catalogue spreadsheet (xlsx) or JSON export")
        imp.add_argument("file")
        imp.add_argument("--report", help="where to write the error report (default FILE.errors.xlsx)")
        imp.add_argument("--dry-run", action="store_true", help="check and count only; write nothing")
        imp.add_argument("--publish", action="store_true", help="publish the imported items at once")
        exp = sub.add_parser("export", help="export the catalogue")
        exp.add_argument("--format", choices=("xlsx", "json"), required=True)
        exp.add_argument("--status", choices=exporter.EXPORT_STATUSES, default="published")
        exp.add_argument("file")
        nat = sub.add_parser("national-load", help="load the national catalogue (xlsx or JSON)")
        nat.add_argument("file")
        nat.add_argument("--edition", default="")
        pkg = sub.add_parser("push-package", help="build the push package for the national system")
        pkg.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        actor: Any = services.SYSTEM
        if options.get("user"):
            from jianguan.core.models import User

            actor = User.objects.filter(username=options["user"], is_active=True).first()
            if actor is None:
                raise CommandError(f"no active user {options['user']!r}")
        context = (audit.audit_context(actor) if actor is not services.SYSTEM
                   else audit.audit_context(actor_name="system:catalog-cli"))
        with context:
            getattr(self, "do_" + options["subcommand"].replace("-", "_"))(actor, options)

    def do_import(self, actor: Any, options: dict[str, Any]) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            result = importer.import_catalogue(path.read_bytes(), file_name=path.name, actor=actor,
                                               dry_run=options["dry_run"], publish=options["publish"])
        except importer.ImportFailed as failed:
            result = failed.result
        self.stdout.write(f"{'dry run: ' if options['dry_run'] else ''}{result.rows_total} rows: "
                          f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged, "
                          f"{result.error_rows} rejected")
        self.stdout.write(result.message)
        if result.errors:
            report = Path(options["report"] or f"{path}.errors.xlsx")
            report.write_bytes(exporter.error_report_xlsx([e.as_dict() for e in result.errors], file_name=path.name))
            self.stdout.write(f"error report written to {report}")
        if result.status == "failed":
            raise CommandError(result.message, returncode=1)
        if result.errors:
            raise CommandError(f"{result.error_rows} rows rejected (see the error report)", returncode=1)

    def do_export(self, actor: Any, options: dict[str, Any]) -> None:
        if not actor.has_perm("catalog.view_supervisionitem"):
            raise CommandError("permission denied: catalog.view_supervisionitem")
        rows = exporter.export_rows(status=options["status"])
        data = exporter.export_xlsx(rows) if options["format"] == "xlsx" else exporter.export_json(
            rows, status=options["status"])
        Path(options["file"]).write_bytes(data)
        audit.record_export("catalog.item.exported", object_type="catalog.supervisionitem", count=len(rows),
                            filters={"status": options["status"]}, fmt=options["format"])
        self.stdout.write(f"{len(rows)} rows exported to {options['file']}")

    def do_national_load(self, actor: Any, options: dict[str, Any]) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        edition, rows, errors = read_national_file(path.read_bytes(), edition=options["edition"])
        for error in errors:
            self.stderr.write(f"row {error.row} {error.column}: {error.reason}")
        if not rows:
            raise CommandError("no national items in the file", returncode=1)
        loaded = services.load_national_catalogue(rows, actor=actor, edition=edition or path.stem)
        self.stdout.write(f"national catalogue {edition or path.stem}: {loaded.created} added, {loaded.updated} "
                          f"updated, {loaded.unchanged} unchanged, {loaded.retired} no longer listed")
        report = services.alignment_report()
        self.stdout.write(f"{report.mapped} local items mapped; {len(report.local_unmapped)} local items without a "
                          f"national counterpart; {len(report.national_unmapped)} national items without a local one")

    def do_push_package(self, actor: Any, options: dict[str, Any]) -> None:
        data = push.build_for(actor)
        Path(options["file"]).write_bytes(data)
        self.stdout.write(f"push package written to {options['file']} ({len(data)} bytes)")
