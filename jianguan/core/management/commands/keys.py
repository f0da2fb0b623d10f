"""``jianguan keys status`` and ``jianguan keys rotate [--dry-run] [--batch-size N]``: where the tokens of personal
data stand against the active field key, and moving them (and the blind indexes beside them) to it after a key
rotation, so the old key can be removed from ``JIANGUAN_FIELD_KEYS`` (see :mod:`jianguan.core.keyring`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jianguan.core import audit, keyring
from jianguan.lib.crypto import CryptoError


def _by_key(counts: Mapping[str, int], ring: list[str], active: str) -> str:
    def name(key_id: str) -> str:
        if key_id == keyring.NOT_A_TOKEN:
            return key_id
        return f"{key_id} (active)" if key_id == active else key_id if key_id in ring else f"{key_id} (not in ring)"

    return ", ".join(f"{name(k)}: {n}" for k, n in sorted(counts.items(), key=lambda kv: (kv[0] != active, kv[0])))


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {n}" for k, n in counts.items()) or "nothing"


class Command(BaseCommand):
    help = "Field keys: count tokens per key id, or re-encrypt them and their blind indexes under the active key."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        status = sub.add_parser("status", help="tokens per key id and blind indexes not under the active key")
        status.add_argument("--batch-size", type=int, default=keyring.DEFAULT_BATCH_SIZE)
        rotate = sub.add_parser("rotate", help="re-encrypt every token and blind index under the active key")
        rotate.add_argument("--dry-run", action="store_true", help="count what would change, write nothing")
        rotate.add_argument("--batch-size", type=int, default=keyring.DEFAULT_BATCH_SIZE,
                            help=f"rows read and written per statement (default {keyring.DEFAULT_BATCH_SIZE})")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            if options["subcommand"] == "status":
                self.handle_status(options)
            else:
                self.handle_rotate(options)
        except CryptoError as exc:  # a stored value or file that does not decrypt: the step that met it rolled back
            raise CommandError(f"stopped: {exc} (the step that met it changed nothing; `jianguan keys status` shows "
                               "what is left)") from None

    def handle_status(self, options: dict[str, Any]) -> None:
        state = keyring.status(batch_size=options["batch_size"])
        ring, active = state.key_ids, state.active_key
        self.stdout.write(f"active key {active}; key ring: {', '.join(ring)}")
        for model in dict.fromkeys(f.model for f in state.fields):
            for f in (f for f in state.fields if f.model == model):
                keys = f"{f.tokens} tokens — {_by_key(f.by_key, ring, active)}" if f.tokens else "no tokens"
                self.stdout.write(f"{f.model}.{f.name}: {keys}" + (f"; {f.empty} empty" if f.empty else ""))
            for i in (i for i in state.indexes if i.model == model):
                line = (f"{i.model}.{i.column} (blind index of {i.of}): {i.stale} of {i.rows} not under the "
                        "active key")
                detail = {**i.by_key, **({"matching no key": i.unmatched} if i.unmatched else {})}
                self.stdout.write(line + (f" — {_by_key(detail, ring, active)}" if detail else ""))
        for label, counts in state.hooks.items():
            self.stdout.write(f"{label} (would change): {_counts(counts)}")
        unknown = state.unknown_keys()
        self.stdout.write(f"total: {state.old_tokens} tokens and {state.stale_indexes} blind indexes not under the "
                          f"active key {active}")
        if unknown:
            self.stdout.write(self.style.WARNING(
                "tokens under keys missing from the ring: " + _by_key(unknown, ring, active)))

    def handle_rotate(self, options: dict[str, Any]) -> None:
        dry_run = options["dry_run"]
        try:
            with audit.audit_context(actor_name="system:keys"):
                result = keyring.rotate(dry_run=dry_run, batch_size=options["batch_size"])
        except keyring.RotationError as exc:
            raise CommandError(str(exc)) from None
        verb = "would re-encrypt" if dry_run else "re-encrypted"
        index_verb = "would recompute" if dry_run else "recomputed"
        self.stdout.write(f"active key {result.active_key}" + (" (dry run: nothing written)" if dry_run else ""))
        for part in result.models:
            for count in part.counts:
                if count.index:
                    self.stdout.write(f"{part.model}.{count.name}: {index_verb} {count.recomputed} blind indexes")
                else:
                    keys = f" (from {_counts(count.from_keys)})" if count.from_keys else ""
                    self.stdout.write(f"{part.model}.{count.name}: {verb} {count.changed} tokens{keys}")
        for label, counts in result.hooks.items():
            self.stdout.write(f"{label}: {_counts(counts)}")
        rows = sum(m.rows for m in result.models)
        self.stdout.write(f"total: {verb} {result.tokens} tokens, {index_verb} {result.indexes} blind indexes "
                          f"in {rows} rows of {sum(1 for m in result.models if m.rows)} models")
        if not result.changed:
            self.stdout.write(f"nothing to do: every token and blind index is under the active key "
                              f"{result.active_key}")
