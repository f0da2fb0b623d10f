"""Group commit: concurrent requests that each write a little share one transaction.

Under load, most of a single-row write's cost is the transaction around it (BEGIN, COMMIT's WAL flush, the
statements' fixed overhead). ``GroupCommit.submit(key, item)`` lets the requests that arrive while another one is
writing go together: the first request of a key becomes the *leader* and writes the items queued so far with
``run_batch``; requests arriving meanwhile queue up and wait; when the leader's batch has committed it hands the
lead to the oldest waiting request, which writes everything queued by then, and so on. Nobody waits on a timer, so a
lone request is written at once, in its own thread and on its own database connection (as if there were no
grouping); batches grow only when requests overlap.

``run_batch(key, items)`` must return one result (or an exception instance) per item, in order, after its
transaction has committed; each ``submit`` returns its own result or raises its own exception. If ``run_batch``
raises, every item of that batch gets the exception. A request that waits longer than ``timeout`` gets
``GroupCommitTimeout``; its item may still be written later, so callers use it only for idempotent work.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommitTimeout(Exception):
    """The request's item was not written within the wait limit (it may still be)."""


@dataclass
class _Slot(Generic[T]):
    item: T
    ready: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    result: Any = None


@dataclass
class _Queue(Generic[T]):
    waiting: list[_Slot[T]] = field(default_factory=list)
    leading: bool = False


class GroupCommit(Generic[T, R]):
    """Per-process grouping of writes by key (e.g. the client account); see the module docstring."""

    def __init__(self, run_batch: Callable[[Any, list[T]], Sequence[R | BaseException]], *, max_batch: int = 100,
                 timeout: float = 30.0) -> None:
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._timeout = timeout
        self._lock = threading.Lock()
        self._queues: dict[Hashable, _Queue[T]] = {}

    def submit(self, key: Hashable, item: T) -> R:
        slot: _Slot[T] = _Slot(item)
        with self._lock:
            queue = self._queues.setdefault(key, _Queue())
            queue.waiting.append(slot)
            if not queue.leading:
                queue.leading = True
                slot.lead = True
        if not slot.lead and not slot.ready.wait(self._timeout):
            with self._lock:
                if not slot.lead and slot in queue.waiting:  # not taken by any batch: withdraw it
                    queue.waiting.remove(slot)
                    raise GroupCommitTimeout()
            slot.ready.wait()  # being written in a batch, or just handed the lead: either comes at once
        if slot.lead:
            self._lead(key, queue)
        if isinstance(slot.result, BaseException):
            raise slot.result
        result: R = slot.result
        return result

    def _lead(self, key: Hashable, queue: _Queue[T]) -> None:
        with self._lock:
            batch, queue.waiting = queue.waiting[: self._max_batch], queue.waiting[self._max_batch:]
        try:
            results: list[Any] = list(self._run_batch(key, [s.item for s in batch]))
            if len(results) != len(batch):
                raise RuntimeError("run_batch returned a different number of results")
        except BaseException as exc:  # noqa: BLE001 - handed to every waiting request, re-raised there
            results = [exc] * len(batch)
        finally:
            successor: _Slot[T] | None
            with self._lock:  # hand the lead on before anyone is woken, so no batch is ever left without one
                if queue.waiting:
                    successor = queue.waiting[0]
                    successor.lead = True
                else:
                    successor = None
                    queue.leading = False
            if successor is not None:
                successor.ready.set()
        for slot, result in zip(batch, results, strict=True):
            slot.result = result
            slot.ready.set()
