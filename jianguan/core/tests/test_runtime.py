"""Server process start-up: the URLconf is loaded and the start-up heap frozen, so full collections stay short."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap

import pytest

import jianguan.core.runtime as runtime


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(runtime, "_prepared", False)
    yield
    gc.unfreeze()


def test_the_start_up_heap_is_frozen_once(fresh, monkeypatch) -> None:
    monkeypatch.delenv("JIANGUAN_GC_FREEZE", raising=False)
    gc.unfreeze()
    runtime.prepare_server_process()
    frozen = gc.get_freeze_count()
    assert frozen > 10_000
    calls = []
    monkeypatch.setattr(runtime.gc, "freeze", lambda: calls.append(1))
    runtime.prepare_server_process()  # a second call (both Celery signals) freezes nothing more
    assert calls == [] and gc.get_freeze_count() <= frozen  # (frozen objects may still be freed)


def test_it_can_be_turned_off(fresh, monkeypatch) -> None:
    monkeypatch.setenv("JIANGUAN_GC_FREEZE", "False")
    gc.unfreeze()
    runtime.prepare_server_process()
    assert gc.get_freeze_count() == 0


@pytest.mark.slow
def test_the_wsgi_module_loads_every_view_before_freezing() -> None:
    """In a new process, as gunicorn loads it: after ``config.wsgi`` the views of the API are imported already and
    a full collection has little left to look at."""
    code = textwrap.dedent("""
        import gc, sys, time
        import config.wsgi
        assert "jianguan.complaints.api.views" in sys.modules, "views not loaded"
        assert "redis" in sys.modules and "kombu.transport.redis" in sys.modules, "backends not loaded"
        assert gc.get_freeze_count() > 50_000, gc.get_freeze_count()
        print(len(gc.get_objects()), gc.get_freeze_count())
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings",
                              # never contacted: the clients are built, not connected
                              "JIANGUAN_BROKER_URL": "redis://127.0.0.1:1/0", "JIANGUAN_CACHE_URL": "redis://127.0.0.1:1/0"})
    assert out.returncode == 0, out.stderr
    unfrozen, frozen = map(int, out.stdout.split())
    assert unfrozen < frozen / 10
