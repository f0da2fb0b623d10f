"""Request throttles with a constant cost per request.

DRF's ``SimpleRateThrottle`` keeps every request time of the current window in one cached list and rewrites the
list on each request, so at a machine client's rate (tens of thousands a minute) each call pickles a list of that
many floats. These throttles count requests in fixed windows instead, with the same rate syntax, scopes and 429
answer. Each process adds its requests to the shared counter in small batches (a batch is at most 1 % of the
limit, and 1 for small limits such as the anonymous 60/min, which are therefore counted exactly): a high-rate
client then costs one cache round trip per batch, not two per request, and may exceed its limit by at most one
batch per process.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from rest_framework import throttling

#: window key → (total the shared counter last reported, requests of this process not yet added to it)
_windows: dict[str, tuple[int, int]] = {}
_lock = threading.Lock()


class FixedWindowMixin:
    """Counts requests per ``duration`` window in the cache; the first request past ``num_requests`` is refused."""

    cache: Any
    num_requests: int | None
    duration: int | None
    rate: str | None
    get_cache_key: Any  # from the DRF throttle this is mixed into

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None or not self.num_requests or not self.duration:
            return True
        ident = self.get_cache_key(request, view)
        if ident is None:
            return True
        self.now = time.time()
        window = int(self.now // self.duration)
        key = f"{ident}:w{window}"
        self.window_end = (window + 1) * self.duration
        flush_every = max(1, min(50, self.num_requests // 100))
        with _lock:
            known, pending = _windows.get(key, (0, 0))
            pending += 1
            if pending < flush_every and known:
                _windows[key] = (known, pending)
                return bool(known + pending <= self.num_requests)
            _windows[key] = (known, 0)
        total = self._add(key, pending)
        with _lock:
            if len(_windows) > 10_000:
                _windows.clear()
            _windows[key] = (total, _windows.get(key, (0, 0))[1])
        return bool(total <= self.num_requests)

    def _add(self, key: str, count: int) -> int:
        self.cache.add(key, 0, timeout=self.duration + 1)
        try:
            return int(self.cache.incr(key, count))
        except ValueError:  # expired between add and incr
            self.cache.add(key, count, timeout=self.duration + 1)
            return count

    def wait(self) -> float | None:
        return max(0.0, self.window_end - time.time()) if hasattr(self, "window_end") else None


class AnonRateThrottle(FixedWindowMixin, throttling.AnonRateThrottle):
    """Anonymous callers, by address (scope ``anon``)."""


class UserRateThrottle(FixedWindowMixin, throttling.UserRateThrottle):
    """Signed-in callers and tokens, by account (scope ``user``)."""
