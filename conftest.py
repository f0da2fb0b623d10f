"""Root conftest: personas and factories for every test module."""

from __future__ import annotations

import pytest

pytest_plugins = ["jianguan.core.testing.personas"]


@pytest.fixture(autouse=True)
def _isolated_audit_checkpoints(settings, tmp_path):
    """Audit checkpoints live outside the database; each test gets its own file, as each gets its own data."""
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "audit-checkpoints.log"


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Per-process memories (token look-ups, parameter versions, throttle counts, scheduled runs) start empty in
    every test, as they would in a new process."""
    from jianguan.core import deferred, params, services
    from jianguan.core.api import throttling

    for forget in (services._token_cache.clear, params._versions.clear, throttling._windows.clear,
                   deferred._scheduled_here.clear):
        forget()
    yield
