"""``jianguan demo_totp``: print the current one-time code of the demo administrators (never in production)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from jianguan.core import demo


class Command(BaseCommand):
    help = "Print the current TOTP code shared by the demo administrator accounts."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION or settings.SECRET_KEY != settings.EMBEDDED_INSECURE_KEY:
            raise CommandError("only available in the embedded demo")
        self.stdout.write(demo.current_demo_totp())
