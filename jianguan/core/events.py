"""Events between apps: an outbox row written in the publishing transaction, delivered after commit.

Handlers subscribe by topic in their app's ``ready()``. Delivery is at least once; each handler runs at most once
per event because a ``ProcessedEvent`` row is written in the handler's own transaction. In embedded mode (no
broker) each event is delivered in-process right after its commit. With a broker, commits schedule one drain task
per ``EVENT_DELIVERY_DELAY`` seconds and process; the drain delivers every pending event in batches, handing a
batch handler (``subscribe(..., batch=True)``) all events of its topic at once, so a burst of events costs a few
transactions instead of several per event. The beat schedule drains whatever a lost task left behind.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from jianguan.core import fastinsert

logger = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], None]
BatchHandler = Callable[[list[tuple[str, dict[str, Any]]]], None]


@dataclasses.dataclass(frozen=True)
class _Subscriber:
    name: str
    handler: Callable[..., None]
    batch: bool


_subscribers: dict[str, list[_Subscriber]] = defaultdict(list)
MAX_ATTEMPTS = 30


def subscribe(topic: str, handler: Callable[..., None], *, name: str | None = None, batch: bool = False) -> None:
    """Register a handler for ``topic``; ``name`` keys its idempotency records.

    A plain handler is called as ``handler(event_id, payload)``; a batch handler (``batch=True``) as
    ``handler([(event_id, payload), ...])`` with the topic's pending events in publication order, all in one
    transaction: it must give the same result as handling them one by one (it is retried one by one when it fails).
    """
    key = name or f"{handler.__module__}.{handler.__qualname__}"
    if all(existing.name != key for existing in _subscribers[topic]):
        _subscribers[topic].append(_Subscriber(key, handler, batch))


def publish(topic: str, payload: Any) -> Any:
    """Write the event to the outbox inside the current transaction and schedule delivery after commit."""
    [event] = publish_many(topic, [payload])
    return event


def publish_many(topic: str, payloads: list[Any]) -> list[Any]:
    """``publish`` for several events of one topic, written with one statement."""
    from jianguan.core.models import OutboxEvent

    written = [OutboxEvent(topic=topic, payload=_as_payload(p)) for p in payloads]
    fastinsert.insert(*written)
    ids = [str(e.id) for e in written]
    transaction.on_commit(lambda: _enqueue_many(ids), robust=True)  # the commit stands whatever happens here
    return written


_SCALARS = (str, int, float, bool, type(None))


def _as_payload(payload: Any) -> Any:
    """A dataclass payload as a dict (``dataclasses.asdict``, which deep-copies every value: for the flat payloads
    of hot paths, whose fields are all scalars — choice enums, being ``str`` subclasses, count — the fields are read
    as they are); anything else unchanged."""
    if not dataclasses.is_dataclass(payload) or isinstance(payload, type):
        return payload
    values = {f.name: getattr(payload, f.name) for f in dataclasses.fields(payload)}
    if all(isinstance(v, _SCALARS) for v in values.values()):
        return values
    return dataclasses.asdict(payload)


def _enqueue_many(event_ids: list[str]) -> None:
    from jianguan.core.tasks import deliver_event, deliver_outbox

    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", True):
        for event_id in event_ids:
            try:
                deliver_event.delay(event_id)
            except Exception:  # a handler's failure is kept on the event; this is only a safety net
                logger.warning("could not deliver event %s; the outbox sweep will", event_id, exc_info=True)
        return
    from jianguan.core.deferred import run_soon

    run_soon(deliver_outbox, "outbox-drain", settings.EVENT_DELIVERY_DELAY)


def deliver(event_id: str) -> int:
    """Run every subscriber of one event that has not processed it yet; returns how many handler calls ran."""
    return deliver_many([event_id])


def deliver_many(event_ids: Iterable[str]) -> int:
    """Deliver these events (those not delivered yet) to their subscribers; returns how many handler calls ran.

    Events are grouped by topic; a batch handler gets its topic's events in one call and one transaction, a plain
    handler one event per transaction. An event is marked delivered when every subscriber has processed it; a
    failure is kept on the event (``last_error``) and retried by the sweep.
    """
    from jianguan.core.models import OutboxEvent, ProcessedEvent

    pending = list(OutboxEvent.objects.filter(pk__in=list(event_ids), delivered_at__isnull=True)
                   .order_by("created_at"))
    if not pending:
        return 0
    done = set(ProcessedEvent.objects.filter(event_id__in=[e.id for e in pending])
               .values_list("event_id", "handler"))
    by_topic: dict[str, list[Any]] = defaultdict(list)
    for event in pending:
        by_topic[event.topic].append(event)
    errors: dict[Any, list[str]] = defaultdict(list)
    ran = 0
    for topic, topic_events in by_topic.items():
        for subscriber in list(_subscribers.get(topic, [])):
            todo = [e for e in topic_events if (e.id, subscriber.name) not in done]
            if not todo:
                continue
            if subscriber.batch and len(todo) > 1 and _run(subscriber, todo) is None:
                ran += len(todo)
                continue
            for event in todo:  # one by one: plain handlers, and a failed batch to find the failing event
                problem = _run(subscriber, [event])
                if problem is None:
                    ran += 1
                elif problem:
                    errors[event.id].append(f"{subscriber.name}: {problem}")
    now = timezone.now()
    delivered = [e.id for e in pending if e.id not in errors]
    if delivered:
        OutboxEvent.objects.filter(pk__in=delivered).update(
            attempts=F("attempts") + 1, last_error="", delivered_at=now)
    by_id = {e.id: e for e in pending}
    for event_id, messages in errors.items():
        OutboxEvent.objects.filter(pk=event_id).update(
            attempts=F("attempts") + 1, last_error="\n".join(messages)[:2000], delivered_at=None,
            next_attempt_at=now + retry_delay(by_id[event_id].attempts + 1))
    return ran


def retry_delay(attempts: int) -> dt.timedelta:
    """How long a failed event waits before its next attempt: 30 s, doubling per attempt, at most an hour."""
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def _run(subscriber: _Subscriber, batch: Sequence[Any]) -> str | None:
    """Run one handler over events in one transaction with their idempotency records.

    Returns None when it ran, "" when a concurrent delivery had already processed the (single) event, and the
    error text when it failed.
    """
    from jianguan.core.models import ProcessedEvent

    try:
        with transaction.atomic():
            if subscriber.batch:
                subscriber.handler([(str(e.id), e.payload) for e in batch])
            else:
                subscriber.handler(str(batch[0].id), batch[0].payload)
            fastinsert.insert(*[ProcessedEvent(event_id=e.id, handler=subscriber.name) for e in batch])
        return None
    except IntegrityError as exc:
        if len(batch) == 1 and ProcessedEvent.objects.filter(event_id=batch[0].id,
                                                             handler=subscriber.name).exists():
            return ""  # a concurrent delivery got there first; its work stands, ours rolled back
        if len(batch) == 1:
            logger.exception("handler %s failed for event %s", subscriber.name, batch[0].id)
        return str(exc) or exc.__class__.__name__
    except Exception as exc:
        if len(batch) == 1:
            logger.exception("handler %s failed for event %s", subscriber.name, batch[0].id)
        return str(exc) or exc.__class__.__name__


def deliver_pending(limit: int = 500, *, rounds: int = 100) -> int:
    """Deliver events whose delivery has not happened yet (the broker-mode drain, a crash, a broker outage).

    Works through the outbox oldest first, ``limit`` events at a time, for at most ``rounds`` batches; returns how
    many events it attempted. A failed event waits (``retry_delay``: 30 s doubling to an hour) before it is tried
    again, up to ``MAX_ATTEMPTS`` times (about a day); ``jianguan outbox retry`` re-drives the ones given up on.
    """
    from jianguan.core.models import OutboxEvent

    attempted = 0
    failed: set[Any] = set()
    now = timezone.now()
    due = OutboxEvent.objects.filter(delivered_at__isnull=True, attempts__lt=MAX_ATTEMPTS).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    for _round in range(rounds):
        ids = list(due.exclude(pk__in=failed).order_by("created_at").values_list("id", flat=True)[:limit])
        if not ids:
            break
        deliver_many([str(i) for i in ids])
        attempted += len(ids)
        failed.update(OutboxEvent.objects.filter(pk__in=ids, delivered_at__isnull=True).values_list("id", flat=True))
    return attempted


def retry_abandoned() -> int:
    """Give every undelivered event a fresh set of attempts (after fixing what made a handler fail); returns how
    many, then delivers them."""
    from jianguan.core.models import OutboxEvent

    count = OutboxEvent.objects.filter(delivered_at__isnull=True).update(attempts=0, next_attempt_at=None)
    deliver_pending()
    return count


def prune_delivered(*, now: dt.datetime | None = None, chunk: int = 5000) -> int:
    """Delete events delivered more than ``OUTBOX_RETENTION_DAYS`` ago, with their handlers' idempotency records;
    returns how many. Undelivered events stay, however old (``jianguan outbox status`` shows them). Each chunk is
    its own transaction, so a long prune holds no lock on the outbox for long and an interrupted one has removed
    whole events only."""
    from jianguan.core.models import OutboxEvent, ProcessedEvent

    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    removed = 0
    while True:
        with transaction.atomic():
            ids = list(OutboxEvent.objects.filter(delivered_at__lt=cutoff).order_by()
                       .values_list("id", flat=True)[:chunk])
            if not ids:
                return removed
            ProcessedEvent.objects.filter(event_id__in=ids).delete()
            removed += OutboxEvent.objects.filter(pk__in=ids).delete()[0]
