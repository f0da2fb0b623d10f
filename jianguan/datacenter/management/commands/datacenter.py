"""``jianguan datacenter``: the data centre's command-line tools.

``resolve INPUT.csv --output OUT.csv [--truth COLUMN] [--engine duckdb|spark] [--threshold P]``
    entity resolution of a file of records (see :mod:`jianguan.datacenter.linkage.resolve`);
``ingest SOURCE_CODE FILE [--force] [--dry-run]``
    batch exchange of a file for a registered source, as the system account;
``pull [--dry-run]``
    run the scheduled pulls that are due (paged HTTP APIs and SQL databases);
``scan-inbox [--source CODE] [--dry-run]``
    deliver the settled files waiting in the sources' drop folders (see :mod:`jianguan.datacenter.inbox`);
``rekey-phones --from-key KEY_ID [--dry-run]``
    after the blind-index key changed (a new active key in ``JIANGUAN_FIELD_KEYS``, the old one still in the ring),
    re-key every master record's phone key from the old key's pepper to the current one (see
    :mod:`jianguan.datacenter.rekey`);
``seal-store [--dry-run]``
    encrypt the batch store's files still in clear (stored before the encryption), re-encrypt sealed ones under an
    older key with the active key, remove leftover ``work/`` files and replace the drop folders' clear ``.done/``
    copies by receipts (see :mod:`jianguan.datacenter.store`; ``jianguan keys rotate`` runs the same);
``train_model [--records N] [--seed S]``
    retrain the shipped default linkage model on generated data.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jianguan.core import audit


class Command(BaseCommand):
    help = "Data centre tools: resolve, ingest, pull, scan-inbox, rekey-phones, seal-store, train_model."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        resolve = sub.add_parser("resolve", help="cluster the records of a CSV file into entities")
        resolve.add_argument("input", type=Path)
        resolve.add_argument("--output", "-o", type=Path, required=True)
        resolve.add_argument("--truth", help="column with the true entity, to print pairwise precision/recall/F1")
        resolve.add_argument("--engine", choices=("duckdb", "spark"), default=None)
        resolve.add_argument("--threshold", type=float, default=None, help="match probability to link (0-1)")
        ingest = sub.add_parser("ingest", help="deliver a file for a registered source")
        ingest.add_argument("source")
        ingest.add_argument("file", type=Path)
        ingest.add_argument("--force", action="store_true", help="process even if the same content was loaded")
        ingest.add_argument("--dry-run", action="store_true")
        pull = sub.add_parser("pull", help="run the scheduled pulls that are due")
        pull.add_argument("--dry-run", action="store_true")
        pull.add_argument("--source", help="pull this source now, whatever its schedule")
        scan = sub.add_parser("scan-inbox", help="deliver the files dropped into the sources' inbox folders")
        scan.add_argument("--source", help="only this source's inbox")
        scan.add_argument("--dry-run", action="store_true")
        rekey = sub.add_parser("rekey-phones", help="re-key the master records' phone keys after a key rotation")
        rekey.add_argument("--from-key", required=True, metavar="KEY_ID",
                           help="id of the key (still in JIANGUAN_FIELD_KEYS) the current phone keys were made with")
        rekey.add_argument("--dry-run", action="store_true")
        seal = sub.add_parser("seal-store", help="encrypt the batch store's clear files, re-encrypt old-key ones")
        seal.add_argument("--dry-run", action="store_true")
        train = sub.add_parser("train_model", help="retrain the shipped default linkage model")
        train.add_argument("--records", type=int, default=200_000)
        train.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        getattr(self, f"handle_{action.replace('-', '_')}")(options)

    def handle_resolve(self, options: dict[str, Any]) -> None:
        from jianguan.datacenter import conf
        from jianguan.datacenter.linkage import model as lm
        from jianguan.datacenter.linkage.resolve import resolve_file, summary_lines
        from jianguan.datacenter.pipeline.engines import make_engine
        from jianguan.datacenter.pipeline.extract import ExtractError

        if not options["input"].is_file():
            raise CommandError(f"input file not found: {options['input']}")
        threshold = options["threshold"] if options["threshold"] is not None else lm.DEFAULT_THRESHOLD
        if not 0 < threshold < 1:
            raise CommandError("--threshold must be between 0 and 1")
        ref = _reference()
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="jianguan-resolve-") as tmp, \
                make_engine(options["engine"] or conf.engine_name()) as engine:
            try:
                result = resolve_file(options["input"], options["output"], engine=engine, ref=ref,
                                      work_dir=Path(tmp), truth_column=options["truth"], threshold=threshold)
            except ExtractError as exc:
                raise CommandError(str(exc)) from None
        for line in summary_lines(result):
            self.stdout.write(line)
        self.stdout.write(f"wrote {options['output']} in {time.perf_counter() - started:.1f}s ({engine.name})")

    def handle_ingest(self, options: dict[str, Any]) -> None:
        from jianguan.datacenter import services
        from jianguan.datacenter.models import Source

        source = Source.objects.filter(code=options["source"]).first()
        if source is None:
            raise CommandError(f"unknown source: {options['source']}")
        if not options["file"].is_file():
            raise CommandError(f"file not found: {options['file']}")
        if options["dry_run"]:
            self.stdout.write(f"would deliver {options['file']} to {source.code} ({source.name})")
            return
        with audit.audit_context(actor_name="system:datacenter"):
            batch = services.submit_file(source, actor=services.SystemActor(), path=options["file"],
                                         file_name=options["file"].name, force=options["force"])
        batch.refresh_from_db()
        self.stdout.write(f"batch #{batch.pk}: {batch.get_status_display()} — {batch.message}")

    def handle_pull(self, options: dict[str, Any]) -> None:
        from jianguan.datacenter import collect

        with audit.audit_context(actor_name="system:datacenter"):
            results = collect.run_due_pulls(dry_run=options["dry_run"], only=options.get("source"))
        for line in results:
            self.stdout.write(line)
        if not results:
            self.stdout.write("no pull is due")

    def handle_scan_inbox(self, options: dict[str, Any]) -> None:
        from jianguan.datacenter import inbox, services

        with audit.audit_context(actor_name="system:datacenter"):
            result = inbox.scan_inboxes(actor=services.SystemActor(), only=options.get("source"),
                                        dry_run=options["dry_run"])
        verb = "would take" if options["dry_run"] else "took"
        for code, name, batch_id in result.taken:
            self.stdout.write(f"{verb} {code}/{name}" + (f" as batch #{batch_id}" if batch_id else ""))
        for code, name, reason in result.rejected:
            self.stdout.write(f"rejected {code}/{name}: {reason}")
        for code, name in result.waiting:
            self.stdout.write(f"waiting for {code}/{name} to settle")
        if not (result.taken or result.rejected or result.waiting):
            self.stdout.write(f"no file waiting under {inbox.inbox_root()}")

    def handle_rekey_phones(self, options: dict[str, Any]) -> None:
        from jianguan.core.errors import DomainError
        from jianguan.datacenter.rekey import RekeyError, rekey_subject_phones
        from jianguan.lib.crypto import CryptoError

        try:
            with audit.audit_context(actor_name="system:datacenter"):
                result = rekey_subject_phones(from_key=options["from_key"], dry_run=options["dry_run"])
        except (CryptoError, RekeyError) as exc:
            raise CommandError(str(exc)) from None
        except DomainError as exc:  # a stored raw copy that does not open
            raise CommandError(exc.message) from None
        verb = "would re-key" if options["dry_run"] else "re-keyed"
        self.stdout.write(
            f"{verb} {result.rekeyed} master records ({result.current} already current, {result.cleared} cleared: "
            f"no stored source row gives their phone; {result.rows_read} source rows read); "
            f"{result.links} links, {result.conflicts} open conflicts translated")

    def handle_seal_store(self, options: dict[str, Any]) -> None:
        from django.db import transaction

        from jianguan.datacenter.store import reseal_store
        from jianguan.lib.crypto import CryptoError

        try:
            with audit.audit_context(actor_name="system:datacenter"), transaction.atomic():
                counts = reseal_store(options["dry_run"])
        except CryptoError as exc:
            raise CommandError(str(exc)) from None
        verb = "would seal" if options["dry_run"] else "sealed"
        self.stdout.write(
            f"{verb} {counts['sealed']} files stored in clear; {counts['reencrypted']} sealed files re-encrypted "
            f"under the active key; {counts['work_removed']} leftover work "
            f"directories removed; {counts['receipts']} clear .done copies replaced by receipts"
            + (" (dry run: nothing changed)" if options["dry_run"] else ""))

    def handle_train_model(self, options: dict[str, Any]) -> None:
        from jianguan.datacenter.linkage.training import DEFAULT_MODEL_PATH, train_default_model

        data = train_default_model(_reference(), records=options["records"], seed=options["seed"])
        self.stdout.write(f"wrote {DEFAULT_MODEL_PATH}: {data['stats']}")


def _reference() -> Any:
    from django.db import DatabaseError

    from jianguan.datacenter.pipeline.reference import load_reference, reference_from_files

    try:
        return load_reference()
    except (DatabaseError, StopIteration):
        return reference_from_files()
