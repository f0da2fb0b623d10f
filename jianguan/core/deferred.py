"""Background work that follows commits in bursts: one task run per window instead of one per commit.

With a broker, a commit that leaves work behind (audit entries to chain, outbox events to deliver, new tickets to
assist) calls ``run_soon``. The first call in a window enqueues the task to run when the window ends; later calls
in the same window do nothing, because that run will see their commits too: the window's cache key expires no
later than the task's start, and every caller committed before it found the key. The cache is the deployment's
(Redis with ``JIANGUAN_CACHE_URL``) or, without one, each process's own, which only means one run per process.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from django.db import connections, transaction

logger = logging.getLogger(__name__)


#: cache key → until when (monotonic) this process knows a run it enqueued is still ahead
_scheduled_here: dict[str, float] = {}


def on_commit_once(func: Callable[[], None], *, using: str = "default") -> None:
    """``transaction.on_commit(func, robust=True)`` unless ``func`` is already waiting for this transaction's commit
    (an import that audits ten thousand rows schedules one seal, not ten thousand)."""
    connection = connections[using]
    # Django keeps (savepoint ids, callback, robust) per pending callback; the stubs know only two of the three.
    if connection.in_atomic_block and any(entry[1] is func for entry in connection.run_on_commit):
        return
    transaction.on_commit(func, using=using, robust=True)


def run_soon(task: Any, key: str, delay: float) -> bool:
    """Enqueue ``task`` to run in ``delay`` seconds (whole seconds, at least 1) unless a run is already due in this
    window; returns True when this call enqueued it. A broker failure is logged: the beat schedule catches up."""
    from django.core.cache import cache

    seconds = max(1, math.ceil(delay))
    cache_key = f"jianguan:soon:{key}"
    if _scheduled_here.get(cache_key, 0.0) > time.monotonic():
        return False  # this process enqueued the run of this window itself: no need to ask the cache
    try:
        if not cache.add(cache_key, 1, timeout=seconds):
            return False
        _scheduled_here[cache_key] = time.monotonic() + seconds - 0.05
        task.apply_async(countdown=seconds)
    except Exception:  # cache or broker down: never fail the caller, whose data is committed
        logger.warning("could not enqueue %s; the beat schedule will run it", key, exc_info=True)
        try:
            cache.delete(cache_key)
        except Exception:  # noqa: S110 - the cache is the thing that is down
            pass
        return False
    return True
