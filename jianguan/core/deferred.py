"""Background work that follows commits in bursts: one task run per window instead of one per commit.

With a broker, a commit that leaves work behind (audit entries to chain, outbox events to deliver, new tickets to
assist) calls ``run_soon``. Time is cut into windows of ``delay`` seconds on the wall clock; the first call in a
window enqueues the task to run when the window ends (plus a small margin for clock differences between hosts);
every later call in the same window, in any process, does nothing, because that run starts after their commits
and sees them. Which call is first is decided by an atomic ``cache.add`` of the window's key in the deployment's
cache (Redis with ``JIANGUAN_CACHE_URL``; without one, each process's own cache, which only means one run per
process and window). A process asks the cache once per window and key: it then knows the run is due.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.db import connections, transaction

logger = logging.getLogger(__name__)


#: seconds added to the end of a window before its run starts (clock differences between the web hosts and workers)
CLOCK_MARGIN = 0.25

#: key → the window (``int(time / seconds)``) for which this process knows a run is due
_scheduled_here: dict[str, int] = {}


def on_commit_once(func: Callable[[], None], *, using: str = "default") -> None:
    """``transaction.on_commit(func, robust=True)`` unless ``func`` is already waiting for this transaction's commit
    (an import that audits ten thousand rows schedules one seal, not ten thousand)."""
    connection = connections[using]
    # Django keeps (savepoint ids, callback, robust) per pending callback; the stubs know only two of the three.
    if connection.in_atomic_block and any(entry[1] is func for entry in connection.run_on_commit):
        return
    transaction.on_commit(func, using=using, robust=True)


def run_soon(task: Any, key: str, delay: float) -> bool:
    """Enqueue ``task`` to run at the end of the current ``delay``-second window (whole seconds, at least 1)
    unless a run is already due for this window; returns True when this call enqueued it. A broker failure is
    logged: the beat schedule catches up."""
    from django.core.cache import cache

    seconds = max(1, math.ceil(delay))
    window = int(time.time() // seconds)
    if _scheduled_here.get(key) == window:
        return False  # this process already knows of the run that ends this window
    cache_key = f"jianguan:soon:{key}:{window}"
    try:
        if not cache.add(cache_key, 1, timeout=seconds + 1):
            _scheduled_here[key] = window  # another process enqueued it
            return False
        task.apply_async(eta=datetime.fromtimestamp((window + 1) * seconds + CLOCK_MARGIN, tz=UTC))
    except Exception:  # cache or broker down: never fail the caller, whose data is committed
        logger.warning("could not enqueue %s; the beat schedule will run it", key, exc_info=True)
        try:
            cache.delete(cache_key)
        except Exception:  # noqa: S110 - the cache is the thing that is down
            pass
        return False
    _scheduled_here[key] = window
    return True
