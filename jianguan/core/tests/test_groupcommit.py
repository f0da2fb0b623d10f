"""Group commit: overlapping submissions share a batch, a lone one is written at once, answers stay per item."""

from __future__ import annotations

import threading
import time

import pytest

from jianguan.core.groupcommit import GroupCommit, GroupCommitTimeout


def test_a_lone_submission_is_written_at_once_in_the_callers_thread() -> None:
    seen = []
    group = GroupCommit(lambda key, items: [(threading.get_ident(), key, i) for i in items])
    seen.append(group.submit("a", 1))
    assert seen == [(threading.get_ident(), "a", 1)]


def test_overlapping_submissions_share_batches_and_each_gets_its_own_answer() -> None:
    sizes: list[int] = []
    gate = threading.Event()

    def run_batch(key, items):
        if not sizes:
            gate.wait(5)  # the first batch is slow, so the others queue up behind it
        sizes.append(len(items))
        return [item * 10 if item != 7 else ValueError("bad item 7") for item in items]

    group = GroupCommit(run_batch)
    answers: dict[int, object] = {}

    def client(n: int) -> None:
        try:
            answers[n] = group.submit("k", n)
        except ValueError as exc:
            answers[n] = str(exc)

    first = threading.Thread(target=client, args=(0,))
    first.start()
    time.sleep(0.1)
    others = [threading.Thread(target=client, args=(n,)) for n in range(1, 20)]
    for thread in others:
        thread.start()
    time.sleep(0.2)
    gate.set()
    for thread in [first, *others]:
        thread.join(10)
    assert answers == {n: (n * 10 if n != 7 else "bad item 7") for n in range(20)}
    assert sizes[0] == 1 and sum(sizes) == 20 and len(sizes) < 20  # the 19 waiting ones went in fewer batches


def test_a_failing_batch_fails_its_items_only_and_the_next_batch_runs() -> None:
    calls = {"n": 0}

    def run_batch(key, items):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database went away")
        return items

    group = GroupCommit(run_batch)
    with pytest.raises(RuntimeError, match="went away"):
        group.submit("k", 1)
    assert group.submit("k", 2) == 2


def test_keys_are_grouped_apart() -> None:
    keys = []
    group = GroupCommit(lambda key, items: keys.append(key) or items)
    assert group.submit("a", 1) == 1 and group.submit("b", 2) == 2
    assert keys == ["a", "b"]


def test_a_waiter_gives_up_after_the_timeout_and_is_not_written_later() -> None:
    release = threading.Event()
    written = []

    def run_batch(key, items):
        release.wait(5)
        written.extend(items)
        return items

    group = GroupCommit(run_batch, timeout=0.2)
    leader = threading.Thread(target=group.submit, args=("k", "first"))
    leader.start()
    time.sleep(0.05)
    with pytest.raises(GroupCommitTimeout):
        group.submit("k", "second")
    release.set()
    leader.join(5)
    assert written == ["first"]
