"""Start-up of long-running server processes (gunicorn workers, Celery workers).

CPython's cyclic garbage collector periodically makes a full pass over every tracked object while all threads of
the process wait. A Django process holds a few hundred thousand such objects after start-up (modules, classes,
URL patterns, serializer fields, settings), none of which ever become garbage; under load a full pass over them
ran every few seconds and took 80–140 ms on the reference machine, stopping every request in flight in that
process. ``prepare_server_process`` loads what the first requests would otherwise import lazily (the whole URLconf
with its views and serializers, the cache backend's client library, the Celery app's tasks and broker transport)
and then moves everything alive into the permanent generation (``gc.freeze``), so later passes look only at
objects that requests create. It changes nothing else: the collector stays on and no connection is opened.

Loading early matters most right after a restart, when the retries of every request the dead process lost arrive
at once: a lazy import on the first request holds all its threads behind the import lock.
"""

from __future__ import annotations

import gc
import logging
import os
from typing import Any

logger = logging.getLogger(__name__)

_prepared = False


def prepare_server_process() -> None:
    """Import the URLconf and the lazily loaded backends, then freeze the start-up heap; once per process
    (``JIANGUAN_GC_FREEZE=False`` leaves the heap unfrozen)."""
    global _prepared
    if _prepared:
        return
    _prepared = True
    from django.urls import get_resolver

    def walk(patterns: list[Any]) -> None:
        for pattern in patterns:
            nested = getattr(pattern, "url_patterns", None)
            if nested is not None:
                walk(nested)

    walk(get_resolver().url_patterns)  # imports every urls module and, through them, the views
    _load_backends()
    if os.environ.get("JIANGUAN_GC_FREEZE", "True").lower() in ("0", "false", "no"):
        return
    gc.collect()  # start-up garbage goes now, not into the permanent generation
    gc.freeze()
    logger.debug("froze %d start-up objects", gc.get_freeze_count())


def _load_backends() -> None:
    """Instantiate, without connecting, the clients that Django and Celery otherwise build on first use."""
    from django.conf import settings
    from django.core.cache import caches

    for alias in settings.CACHES:
        getattr(caches[alias], "_cache", None)  # the Redis backend imports redis-py when its client is first built
    if getattr(settings, "CELERY_BROKER_URL", None):
        from config.celery import app

        app.finalize(auto=True)  # registers the built-in and project tasks
        with app.connection_for_write() as connection:
            connection.transport  # noqa: B018 - resolves and imports the broker's transport class; no socket yet
