"""Background jobs and the outbox: embedded (eager) mode, and a real Celery worker against Redis."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from jianguan.core import audit, events
from jianguan.core.choices import JobStatus
from jianguan.core.jobs import start_job
from jianguan.core.models import AuditEntry, Job, OutboxEvent, ProcessedEvent
from jianguan.core.testing.processes import database_url_for_processes


def test_a_job_runs_at_once_in_embedded_mode(audit_admin, django_capture_on_commit_callbacks) -> None:
    for i in range(3):
        audit.record_event("test.event", details={"i": i})
    with django_capture_on_commit_callbacks(execute=True):
        job = start_job("audit.verify", actor=audit_admin)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.result["ok"] is True
    assert job.progress_done == job.progress_total
    assert job.region_id == "320000"
    assert job.started_at and job.finished_at


def test_a_job_is_not_run_twice(audit_admin, django_capture_on_commit_callbacks) -> None:
    from jianguan.core.jobs import run_job

    with django_capture_on_commit_callbacks(execute=True):
        job = start_job("audit.verify", actor=audit_admin)
    assert run_job(str(job.pk)) == "skipped"


def test_a_failing_job_records_its_error(audit_admin, django_capture_on_commit_callbacks) -> None:
    from jianguan.core.jobs import register_job

    def explode(params, reporter):
        reporter.total(10)
        reporter.progress(3)
        raise RuntimeError("source file unreadable")

    register_job("test.explode", explode, label="explode", permission="core.view_auditentry")
    with django_capture_on_commit_callbacks(execute=True):
        job = start_job("test.explode", actor=audit_admin)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.progress_done == 3
    assert "source file unreadable" in job.message
    assert job.errors[-1]["error"] == "source file unreadable"


def test_events_are_delivered_after_commit_once_per_handler(db, django_capture_on_commit_callbacks) -> None:
    seen: list[str] = []
    events.subscribe("test.thing_happened", lambda event_id, payload: seen.append(payload["id"]), name="test.h1")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with transaction.atomic():
            event = events.publish("test.thing_happened", {"id": "A1"})
        assert seen == []  # nothing before commit
    for callback in callbacks:
        callback()
    assert seen == ["A1"]
    assert events.deliver(str(event.pk)) == 0  # a second delivery is harmless
    assert seen == ["A1"]
    event.refresh_from_db()
    assert event.delivered_at is not None
    assert ProcessedEvent.objects.filter(event_id=event.pk, handler="test.h1").count() == 1


def test_a_rolled_back_transaction_publishes_nothing(db) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        events.publish("test.thing_happened", {"id": "B1"})
        raise RuntimeError("boom")
    assert not OutboxEvent.objects.exists()


def test_a_failing_handler_is_retried_by_the_sweep(db, django_capture_on_commit_callbacks) -> None:
    calls = {"n": 0}

    def flaky(event_id, payload):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("temporarily down")

    events.subscribe("test.flaky", flaky, name="test.flaky")
    with django_capture_on_commit_callbacks(execute=True):
        event = events.publish("test.flaky", {"id": "C1"})
    event.refresh_from_db()
    assert event.delivered_at is None and "temporarily down" in event.last_error
    events.deliver_pending()  # too soon: a failed event waits before it is tried again
    assert calls["n"] == 1
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=31)):
        events.deliver_pending()
    event.refresh_from_db()
    assert event.delivered_at is not None
    assert calls["n"] == 2


def test_retries_back_off_and_an_abandoned_event_can_be_re_driven(db, django_capture_on_commit_callbacks,
                                                                  capsys) -> None:
    from django.core.management import call_command

    state = {"up": False, "calls": 0}

    def handler(event_id, payload):
        state["calls"] += 1
        if not state["up"]:
            raise RuntimeError("library offline")

    events.subscribe("test.backoff", handler, name="test.backoff")
    with django_capture_on_commit_callbacks(execute=True):
        event = events.publish("test.backoff", {"id": "E1"})
    start = timezone.now()
    for second in range(1, 6):  # a drain every second: none of them retries it yet
        with time_machine.travel(start + dt.timedelta(seconds=second)):
            events.deliver_pending()
    assert state["calls"] == 1
    assert [events.retry_delay(n).total_seconds() for n in (1, 2, 3, 8, 20)] == [30, 60, 120, 3600, 3600]
    OutboxEvent.objects.filter(pk=event.pk).update(attempts=events.MAX_ATTEMPTS)
    events.deliver_pending()
    assert state["calls"] == 1  # given up on
    call_command("outbox", "status")
    assert "test.backoff: 1 waiting, 1 given up — test.backoff: library offline" in capsys.readouterr().out
    state["up"] = True
    call_command("outbox", "retry")
    assert "retried 1 events; 0 still undelivered" in capsys.readouterr().out
    event.refresh_from_db()
    assert event.delivered_at is not None


def test_delivered_events_past_their_retention_are_pruned_undelivered_ones_kept(
        db, settings, capsys, django_capture_on_commit_callbacks) -> None:
    from django.core.management import call_command

    from jianguan.core import tasks

    settings.OUTBOX_RETENTION_DAYS = 14
    events.subscribe("test.pruned", lambda event_id, payload: None, name="test.pruned")

    def broken(event_id, payload):
        raise RuntimeError("down")

    events.subscribe("test.stuck", broken, name="test.stuck")
    start = timezone.now()
    with time_machine.travel(start - dt.timedelta(days=20)), django_capture_on_commit_callbacks(execute=True):
        old = [events.publish("test.pruned", {"n": n}) for n in range(3)]
        stuck = events.publish("test.stuck", {"n": 9})
    with time_machine.travel(start - dt.timedelta(days=2)), django_capture_on_commit_callbacks(execute=True):
        recent = events.publish("test.pruned", {"n": 4})
    assert ProcessedEvent.objects.filter(event_id__in=[e.pk for e in old]).count() == 3
    assert events.prune_delivered(chunk=2) == 3  # in chunks of two: 2 + 1
    assert set(OutboxEvent.objects.values_list("pk", flat=True)) == {stuck.pk, recent.pk}  # undelivered, recent
    assert not ProcessedEvent.objects.filter(event_id__in=[e.pk for e in old]).exists()
    assert ProcessedEvent.objects.filter(event_id=recent.pk).exists()
    assert tasks.outbox_prune() == 0  # nothing more to do
    with time_machine.travel(start + dt.timedelta(days=13)):
        call_command("outbox", "prune")
    assert "pruned 1 delivered events" in capsys.readouterr().out
    assert list(OutboxEvent.objects.values_list("pk", flat=True)) == [stuck.pk]
    assert "outbox-prune" in settings.CELERY_BEAT_SCHEDULE


def test_an_integrity_error_inside_a_handler_is_a_failure_not_a_delivery(
    db, django_capture_on_commit_callbacks
) -> None:
    from django.db import IntegrityError

    def broken(event_id, payload):
        raise IntegrityError("duplicate key in the handler's own table")

    events.subscribe("test.integrity", broken, name="test.integrity")
    with django_capture_on_commit_callbacks(execute=True):
        event = events.publish("test.integrity", {"id": "D1"})
    event.refresh_from_db()
    assert event.delivered_at is None
    assert "duplicate key" in event.last_error
    assert not ProcessedEvent.objects.filter(event_id=event.pk).exists()


def test_a_batch_handler_takes_a_burst_of_events_in_one_call(db, django_capture_on_commit_callbacks) -> None:
    calls: list[list[int]] = []
    events.subscribe("test.burst", lambda batch: calls.append([p["n"] for _id, p in batch]), name="test.burst",
                     batch=True)
    with django_capture_on_commit_callbacks(execute=False):  # as with a broker: nothing delivered at the commit
        for n in range(5):
            events.publish("test.burst", {"n": n})
    assert events.deliver_pending() == 5
    assert calls == [[0, 1, 2, 3, 4]]
    assert ProcessedEvent.objects.filter(handler="test.burst").count() == 5
    assert not OutboxEvent.objects.filter(delivered_at__isnull=True).exists()
    assert events.deliver_pending() == 0


def test_a_failing_batch_is_retried_one_by_one_so_only_the_bad_event_waits(
    db, django_capture_on_commit_callbacks
) -> None:
    handled: list[int] = []

    def handler(batch):
        if any(p["n"] == 2 for _id, p in batch):
            raise ValueError("event 2 is malformed")
        handled.extend(p["n"] for _id, p in batch)

    events.subscribe("test.partly_bad", handler, name="test.partly_bad", batch=True)
    with django_capture_on_commit_callbacks(execute=False):
        published = [events.publish("test.partly_bad", {"n": n}) for n in range(4)]
    events.deliver_pending()
    assert handled == [0, 1, 3]
    bad = OutboxEvent.objects.get(pk=published[2].pk)
    assert bad.delivered_at is None and "malformed" in bad.last_error and bad.attempts == 1
    assert OutboxEvent.objects.filter(delivered_at__isnull=False).count() == 3


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _reset_connection_pools(app) -> None:
    """Drop pools built for the broker configured before this test (eager mode still builds them lazily)."""
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    from kombu import pools

    pools.reset()  # kombu keeps producer pools per broker URL; a closed one would be reused by the next test


@contextlib.contextmanager
def _real_worker(broker: str, port: int, tmp_path: Path, settings: Any) -> Iterator[None]:
    """A Celery worker process on ``broker`` sharing the test database; this process sends to it (broker mode)."""
    if not _port_open(port):
        if os.environ.get("JIANGUAN_REQUIRE_SERVICES") == "True":
            pytest.fail(f"the broker is not reachable on 127.0.0.1:{port}")
        pytest.skip("broker not running")
    from config.celery import app

    env = {**os.environ, "JIANGUAN_BROKER_URL": broker, "JIANGUAN_DATABASE_URL": database_url_for_processes(),
           "DJANGO_SETTINGS_MODULE": "config.settings", "JIANGUAN_VAR_DIR": str(tmp_path)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
         "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    old = {"task_always_eager": app.conf.task_always_eager, "broker_url": app.conf.broker_url}
    app.conf.update(task_always_eager=False, broker_url=broker)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    _reset_connection_pools(app)
    try:
        yield
    finally:
        app.conf.update(**old)
        _reset_connection_pools(app)
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        if worker.returncode not in (0, -15):
            print(output)


def _wait_for(check: Callable[[], bool], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.3)
    return False


BROKERS = pytest.mark.parametrize(
    ("broker", "port"),
    [("redis://127.0.0.1:6379/14", 6379), ("amqp://guest:guest@127.0.0.1:5672//", 5672)],
    ids=["redis", "rabbitmq"],
)


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@BROKERS
def test_a_job_runs_through_a_real_celery_worker(audit_admin, tmp_path: Path, broker: str, port: int,
                                                 settings) -> None:
    with _real_worker(broker, port, tmp_path, settings):
        for i in range(5):
            audit.record_event("test.event", details={"i": i})
        job = start_job("audit.verify", actor=audit_admin)
        assert _wait_for(lambda: Job.objects.get(pk=job.pk).status in (JobStatus.SUCCEEDED, JobStatus.FAILED))
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED, job.errors
        assert job.result["ok"] is True
        assert job.result["checked"] >= 5
        assert Job.objects.get(pk=job.pk).finished_at is not None


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@BROKERS
def test_a_worker_seals_the_audit_chain_and_delivers_events_in_batches(tmp_path: Path, broker: str, port: int,
                                                                       settings) -> None:
    from django.core.cache import cache

    cache.clear()
    with _real_worker(broker, port, tmp_path, settings):
        entries = []
        for i in range(30):
            with transaction.atomic():
                entries.append(audit.record_event("test.event", details={"i": i}))
                events.publish("complaints.complaint_received", {
                    "complaint_id": 900 + i, "ticket_no": f"TS20261201{i:010d}", "filing_no": "",
                    "kind": "complaint", "status": "received", "channel": "api", "category_code": "",
                    "region_code": "320106", "handling_region_code": "320106", "handling_org_code": "",
                    "subject_id": None, "subject_uscc": "", "at": "2026-12-01T09:00:00+08:00"})
        # Committed at once; chained and delivered by the worker shortly after, not by this process.
        assert _wait_for(lambda: not AuditEntry.objects.filter(pk__in=[e.pk for e in entries],
                                                               seq__isnull=True).exists())
        assert _wait_for(lambda: not OutboxEvent.objects.filter(delivered_at__isnull=True).exists())
        assert audit.verify_chain(seal=False).ok
        # The data centre's batch handler took them (its library rows are tested in the data centre).
        handler = "datacenter.complaint_record:complaints.complaint_received"
        assert ProcessedEvent.objects.filter(handler=handler).count() == 30


def test_dataclass_payloads_are_stored_as_plain_json(db) -> None:
    """A flat payload (scalars, choice enums among them) is read field by field, a nested one through ``asdict``:
    either way the outbox holds plain JSON, and the flat one's values are not copied."""
    import dataclasses

    from django.db import models

    class Kind(models.TextChoices):
        COMPLAINT = "complaint", "投诉"

    @dataclasses.dataclass(frozen=True)
    class Flat:
        id: int
        kind: str
        note: str | None

    @dataclasses.dataclass(frozen=True)
    class Nested:
        flat: Flat
        tags: list[str]

    flat = Flat(7, Kind.COMPLAINT, None)
    as_dict = events._as_payload(flat)
    assert as_dict == {"id": 7, "kind": "complaint", "note": None} and as_dict["kind"] is Kind.COMPLAINT
    nested = Nested(flat, ["a"])
    assert events._as_payload(nested) == {"flat": {"id": 7, "kind": "complaint", "note": None}, "tags": ["a"]}
    with transaction.atomic():
        [event] = events.publish_many("test.flat", [flat])
    assert OutboxEvent.objects.get(pk=event.pk).payload == {"id": 7, "kind": "complaint", "note": None}


@pytest.mark.django_db(transaction=True)
def test_a_worker_keeps_its_database_connection_across_tasks_until_it_is_too_old(settings) -> None:
    """Celery's Django fix-up closed the connection around every task (a new PostgreSQL session per background task);
    with ``CELERY_DB_REUSE_MAX`` it keeps it, and ``config.celery`` applies ``CONN_MAX_AGE`` around each task as
    Django does around each request. An eager task (inside a request) never touches the connection."""
    from types import SimpleNamespace

    from celery import signals
    from celery.fixups.django import DjangoWorkerFixup

    from config.celery import app

    fixup = DjangoWorkerFixup(app)
    assert fixup.db_reuse_max == settings.CELERY_DB_REUSE_MAX >= 1000
    signals.task_prerun.connect(fixup.on_task_prerun)
    signals.task_postrun.connect(fixup.on_task_postrun)
    class Task:  # what the signals are sent with: a task whose request says how it runs
        def __init__(self, eager: bool) -> None:
            self.name, self.request = "test.task", SimpleNamespace(is_eager=eager)

    task = Task(eager=False)
    try:
        connection.settings_dict["CONN_MAX_AGE"] = 60
        connection.close()
        connection.ensure_connection()
        first = connection.connection
        for _ in range(5):  # five tasks: the same connection throughout
            signals.task_prerun.send(sender=task, task_id="t", task=task)
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            signals.task_postrun.send(sender=task, task_id="t", task=task)
            assert connection.connection is first
        connection.close_at = time.monotonic() - 1  # older than CONN_MAX_AGE: replaced before the next task
        signals.task_prerun.send(sender=task, task_id="t", task=task)
        assert connection.connection is None
        connection.ensure_connection()
        second = connection.connection
        with transaction.atomic():  # an eager task inside a transaction leaves its connection alone
            eager = Task(eager=True)
            connection.close_at = time.monotonic() - 1
            signals.task_prerun.send(sender=eager, task_id="t", task=eager)
            assert connection.connection is second and connection.in_atomic_block
    finally:
        signals.task_prerun.disconnect(fixup.on_task_prerun)
        signals.task_postrun.disconnect(fixup.on_task_postrun)
        connection.settings_dict["CONN_MAX_AGE"] = 0
        connection.close()
