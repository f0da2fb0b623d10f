"""Root conftest: personas and factories for every test module."""

from __future__ import annotations

import pytest

pytest_plugins = ["jianguan.core.testing.personas"]


@pytest.fixture(autouse=True)
def _isolated_audit_checkpoints(settings, tmp_path):
    """Audit checkpoints live outside the database; each test gets its own file, as each gets its own data."""
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "audit-checkpoints.log"
