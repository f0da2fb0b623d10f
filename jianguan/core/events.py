"""Events between apps: an outbox row written in the publishing transaction, delivered after commit.

Handlers subscribe by topic in their app's ``ready()``. Delivery is at least once; each handler runs at most once
per event because a ``ProcessedEvent`` row is written in the handler's own transaction. In embedded mode (no broker)
the Celery task runs at once in-process, so the same dispatcher serves both modes.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], None]
_subscribers: dict[str, list[tuple[str, Handler]]] = defaultdict(list)


def subscribe(topic: str, handler: Handler, *, name: str | None = None) -> None:
    """Register ``handler(event_id, payload)`` for ``topic``; ``name`` keys its idempotency records."""
    key = name or f"{handler.__module__}.{handler.__qualname__}"
    if all(existing != key for existing, _h in _subscribers[topic]):
        _subscribers[topic].append((key, handler))


def publish(topic: str, payload: Any) -> Any:
    """Write the event to the outbox inside the current transaction and schedule delivery after commit."""
    from jianguan.core.models import OutboxEvent

    if dataclasses.is_dataclass(payload) and not isinstance(payload, type):
        payload = dataclasses.asdict(payload)
    event = OutboxEvent.objects.create(topic=topic, payload=payload)
    transaction.on_commit(lambda: _enqueue(str(event.id)))
    return event


def _enqueue(event_id: str) -> None:
    from jianguan.core.tasks import deliver_event

    try:
        deliver_event.delay(event_id)
    except Exception:  # broker down: the periodic sweep delivers it later
        logger.warning("could not enqueue event %s; the outbox sweep will deliver it", event_id, exc_info=True)


def deliver(event_id: str) -> int:
    """Run every subscriber of one event that has not processed it yet; returns how many ran now."""
    from jianguan.core.models import OutboxEvent, ProcessedEvent

    event = OutboxEvent.objects.filter(pk=event_id).first()
    if event is None or event.delivered_at is not None:
        return 0
    ran = 0
    errors: list[str] = []
    for name, handler in list(_subscribers.get(event.topic, [])):
        if ProcessedEvent.objects.filter(event_id=event.id, handler=name).exists():
            continue  # processed by an earlier delivery
        try:
            with transaction.atomic():
                handler(str(event.id), event.payload)
                ProcessedEvent.objects.create(event_id=event.id, handler=name)
            ran += 1
        except IntegrityError as exc:
            if ProcessedEvent.objects.filter(event_id=event.id, handler=name).exists():
                continue  # a concurrent delivery got there first; its work stands, ours rolled back
            logger.exception("handler %s failed for event %s", name, event.id)
            errors.append(f"{name}: {exc}")
        except Exception as exc:
            logger.exception("handler %s failed for event %s", name, event.id)
            errors.append(f"{name}: {exc}")
    OutboxEvent.objects.filter(pk=event.id).update(
        attempts=event.attempts + 1,
        last_error="\n".join(errors)[:2000],
        delivered_at=None if errors else timezone.now(),
    )
    return ran


def deliver_pending(limit: int = 500) -> int:
    """Deliver events whose after-commit delivery did not happen (crash, broker outage)."""
    from jianguan.core.models import OutboxEvent

    ids = list(
        OutboxEvent.objects.filter(delivered_at__isnull=True, attempts__lt=20)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    return sum(1 for event_id in ids if deliver(str(event_id)) >= 0)
