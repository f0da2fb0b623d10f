"""``core.deferred.run_soon``: one task run per window and key, whichever process asks first, after every caller."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.cache import cache

from jianguan.core import deferred


class FakeTask:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail = fail

    def apply_async(self, **options: Any) -> None:
        if self.fail:
            raise ConnectionError("broker down")
        self.calls.append(options)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1_800_000_000.4]  # 0.4 s into a 2-second window
    monkeypatch.setattr(deferred.time, "time", lambda: now[0])
    cache.clear()
    yield now
    cache.clear()


def test_one_run_per_window_due_after_the_window_ends(clock: list[float]) -> None:
    task = FakeTask()
    assert deferred.run_soon(task, "k", 2) is True
    clock[0] += 1.0  # same window
    assert deferred.run_soon(task, "k", 2) is False
    assert len(task.calls) == 1
    eta = task.calls[0]["eta"]
    window_end = (int(1_800_000_000.4 // 2) + 1) * 2
    assert eta == datetime.fromtimestamp(window_end + deferred.CLOCK_MARGIN, tz=UTC)
    assert eta.timestamp() > clock[0]  # later than every call of the window

    clock[0] += 1.0  # the next window gets its own run
    assert deferred.run_soon(task, "k", 2) is True
    assert len(task.calls) == 2
    assert task.calls[1]["eta"].timestamp() == window_end + 2 + deferred.CLOCK_MARGIN


def test_other_process_already_enqueued_the_window(clock: list[float]) -> None:
    task = FakeTask()
    window = int(clock[0] // 2)
    cache.add(f"jianguan:soon:k:{window}", 1, timeout=3)  # as another process's first call would
    assert deferred.run_soon(task, "k", 2) is False
    assert task.calls == []
    assert deferred._scheduled_here["k"] == window  # remembered: no further cache round trip in this window
    cache.delete(f"jianguan:soon:k:{window}")
    assert deferred.run_soon(task, "k", 2) is False
    assert task.calls == []


def test_keys_are_independent(clock: list[float]) -> None:
    task = FakeTask()
    assert deferred.run_soon(task, "a", 2) is True
    assert deferred.run_soon(task, "b", 2) is True
    assert len(task.calls) == 2


def test_broker_failure_is_not_remembered(clock: list[float]) -> None:
    broken = FakeTask(fail=True)
    assert deferred.run_soon(broken, "k", 2) is False
    assert "k" not in deferred._scheduled_here
    assert cache.get(f"jianguan:soon:k:{int(clock[0] // 2)}") is None  # the next caller tries again
    working = FakeTask()
    assert deferred.run_soon(working, "k", 2) is True
    assert len(working.calls) == 1


def test_fractional_delay_rounds_up_to_whole_seconds(clock: list[float]) -> None:
    task = FakeTask()
    assert deferred.run_soon(task, "k", 0.2) is True
    assert task.calls[0]["eta"].timestamp() == int(clock[0]) + 1 + deferred.CLOCK_MARGIN
