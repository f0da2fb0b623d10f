"""``jianguan outbox status``, ``retry`` and ``prune``: the events waiting for delivery, and the delivered ones past
their retention."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jianguan.core import events


class Command(BaseCommand):
    help = "Show the undelivered outbox events, or give up-on ones a fresh set of attempts."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("status", help="count undelivered events by topic, with the newest error")
        sub.add_parser("retry", help="retry every undelivered event now, including those past the attempt limit")
        sub.add_parser("prune", help="delete events delivered more than JIANGUAN_OUTBOX_RETENTION_DAYS ago")

    def handle(self, *args: Any, **options: Any) -> None:
        from jianguan.core.models import OutboxEvent

        if options["subcommand"] == "prune":
            self.stdout.write(f"pruned {events.prune_delivered()} delivered events")
            return
        if options["subcommand"] == "retry":
            count = events.retry_abandoned()
            left = OutboxEvent.objects.filter(delivered_at__isnull=True).count()
            self.stdout.write(f"retried {count} events; {left} still undelivered")
            return
        waiting = OutboxEvent.objects.filter(delivered_at__isnull=True)
        if not waiting.exists():
            self.stdout.write("every event is delivered")
            return
        for topic in sorted(set(waiting.values_list("topic", flat=True))):
            of_topic = waiting.filter(topic=topic)
            given_up = of_topic.filter(attempts__gte=events.MAX_ATTEMPTS).count()
            newest = of_topic.exclude(last_error="").order_by("-created_at").values_list("last_error", flat=True)
            error = (newest.first() or "").splitlines()[0:1]
            self.stdout.write(f"{topic}: {of_topic.count()} waiting, {given_up} given up"
                              + (f" — {error[0][:200]}" if error else ""))
