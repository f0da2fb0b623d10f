"""``jianguan demo``: build the deterministic demo (idempotent) and print the demo logins."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from jianguan.core import demo


class Command(BaseCommand):
    help = "Build the deterministic demo data set and print the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--entities", type=int, default=50_000, help="supervised entities (default 50,000)")
        parser.add_argument("--officers", type=int, default=2_000, help="enforcement officers (default 2,000)")
        parser.add_argument("--seed", type=int, default=20190222)
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "the demo publishes its passwords and TOTP secret: refused with JIANGUAN_PRODUCTION=True"
            )
        if demo.demo_loaded():
            self.stdout.write("demo data already loaded; nothing to do")
        else:
            started = time.perf_counter()
            with tqdm(
                total=options["entities"],
                unit=" entities",
                disable=options["no_progress"],
                desc="entities",
                mininterval=0.5,
            ) as bar:
                summary = demo.build(
                    options["entities"], options["officers"], seed=options["seed"], progress=bar.update
                )
            self.stdout.write(
                f"demo built in {time.perf_counter() - started:.1f}s: {summary.organizations} departments, "
                f"{summary.users} users, {summary.subjects} entities ({summary.rate:,.0f} entities/s), "
                f"{summary.officers} enforcement officers"
            )
            for name, line in summary.extra.items():
                self.stdout.write(f"  {name}: {line}")
        self.print_logins()

    def print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {demo.DEMO_PASSWORD})")
        for username, role, place, needs_totp in demo.demo_accounts():
            flag = "  [TOTP]" if needs_totp else ""
            self.stdout.write(f"  {username:<16} {role:<12} {place}{flag}")
        self.stdout.write(
            "[TOTP] accounts need a one-time code: add the demo secret "
            f"{demo.demo_totp_secret()} to an authenticator app, or run `jianguan demo_totp`."
        )
