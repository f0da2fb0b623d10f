"""``jianguan complaints <subcommand>``: ``train`` (retrain the classifier, print held-out accuracy),
``sweep-overdue [--dry-run]`` (reminders and automatic 督办), ``load-reference`` (categories and the default dispatch
catalogue, idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "投诉举报: train the classifier, sweep deadlines, load reference data."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        train = sub.add_parser("train", help="Retrain the category/department classifier on labelled tickets.")
        train.add_argument("--held-out", type=float, default=0.2, help="Share of tickets held out for accuracy.")
        train.add_argument("--seed", type=int, default=20190222)
        sweep = sub.add_parser("sweep-overdue", help="Reminders before the deadline; automatic 督办 when overdue.")
        sweep.add_argument("--dry-run", action="store_true", help="Only list what would be done.")
        sub.add_parser("load-reference", help="Load the category tree and the default dispatch catalogue.")

    def handle(self, *args: Any, **options: Any) -> None:
        command = options["subcommand"]
        if command == "train":
            self._train(options)
        elif command == "sweep-overdue":
            self._sweep(options)
        else:
            from jianguan.complaints import reference

            categories = reference.load_categories()
            rules = reference.load_dispatch_catalogue()
            self.stdout.write(f"categories: {categories}; new dispatch rules: {rules}")

    def _train(self, options: dict[str, Any]) -> None:
        from jianguan.complaints import classifier
        from jianguan.core import audit

        if not 0 < options["held_out"] < 1:
            raise CommandError("--held-out must be between 0 and 1")
        with audit.audit_context(actor_name="system:complaints-train"):
            try:
                result = classifier.train(seed=options["seed"], held_out_share=options["held_out"])
            except classifier.TooLittleData as exc:
                raise CommandError(str(exc)) from None
            audit.record_event("complaints.classifier.trained", details={
                "version": result.version, "trained_on": result.trained_on, "held_out": result.held_out,
                "category_accuracy": round(result.category_accuracy, 4),
                "department_accuracy": round(result.department_accuracy, 4),
                "corrections_used": result.corrections_used,
            })
        self.stdout.write(
            f"classifier v{result.version}: trained on {result.trained_on} tickets "
            f"({result.corrections_used} handler corrections), held out {result.held_out}\n"
            f"held-out accuracy: category {result.category_accuracy:.1%}, department {result.department_accuracy:.1%}\n"
            f"artifact: {result.path}"
        )

    def _sweep(self, options: dict[str, Any]) -> None:
        from jianguan.complaints import services

        result = services.sweep_deadlines(dry_run=options["dry_run"])
        prefix = "[dry run] would create: " if options["dry_run"] else ""
        self.stdout.write(f"{prefix}reminders {len(result.reminded)}, automatic supervisions {len(result.supervised)}, "
                          f"late acceptance decisions {len(result.decision_supervised)}, "
                          f"reporters not told {len(result.notice_supervised)}")
        for label, tickets in (("overdue", result.supervised), ("decision late", result.decision_supervised),
                               ("reporter not told", result.notice_supervised)):
            for ticket_no in tickets[:50]:
                self.stdout.write(f"  {label}: {ticket_no}")
