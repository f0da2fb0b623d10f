"""API throttles count requests per fixed window: constant work per request, same rates and 429 answers."""

from __future__ import annotations

import time_machine
from django.core.cache import cache
from rest_framework.test import APIRequestFactory

from jianguan.core.api.throttling import UserRateThrottle


class _View:
    throttle_scope = None


def test_it_refuses_past_the_rate_and_allows_again_in_the_next_window(gulou_inspector) -> None:
    cache.clear()
    request = APIRequestFactory().get("/")
    request.user = gulou_inspector
    throttle = UserRateThrottle()
    throttle.rate = "3/min"
    throttle.num_requests, throttle.duration = 3, 60
    with time_machine.travel("2026-12-01 10:00:05 +0800", tick=False):
        assert [throttle.allow_request(request, _View()) for _ in range(4)] == [True, True, True, False]
        assert 0 < throttle.wait() <= 55
        stored = [v for k, v in cache._cache.items() if "throttle_user" in k]  # one counter, not a list of times
        assert len(stored) == 1
    with time_machine.travel("2026-12-01 10:01:01 +0800", tick=False):
        assert throttle.allow_request(request, _View())
    cache.clear()
