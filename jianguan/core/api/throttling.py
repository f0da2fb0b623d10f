"""Request throttles with a constant cost per request.

DRF's ``SimpleRateThrottle`` keeps every request time of the current window in one cached list and rewrites the
list on each request, so at a machine client's rate (tens of thousands a minute) each call pickles a list of that
many floats. These throttles count requests in fixed windows instead (one ``add`` and one ``incr``), with the same
rate syntax, scopes and 429 answer.
"""

from __future__ import annotations

import time
from typing import Any

from rest_framework import throttling


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
        self.cache.add(key, 0, timeout=self.duration + 1)
        try:
            count = self.cache.incr(key)
        except ValueError:  # expired between add and incr
            self.cache.add(key, 1, timeout=self.duration + 1)
            count = 1
        self.window_end = (window + 1) * self.duration
        return bool(count <= self.num_requests)

    def wait(self) -> float | None:
        return max(0.0, self.window_end - time.time()) if hasattr(self, "window_end") else None


class AnonRateThrottle(FixedWindowMixin, throttling.AnonRateThrottle):
    """Anonymous callers, by address (scope ``anon``)."""


class UserRateThrottle(FixedWindowMixin, throttling.UserRateThrottle):
    """Signed-in callers and tokens, by account (scope ``user``)."""
