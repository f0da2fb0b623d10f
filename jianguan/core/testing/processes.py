"""Helpers for tests that start other processes (a Celery worker, a gunicorn server) on the test database."""

from __future__ import annotations

from django.db import connection


def database_url_for_processes() -> str:
    """The ``JIANGUAN_DATABASE_URL`` of the database this test runs on, for a process it starts (the test database
    of a transactional test: a file for SQLite, a database of its own for PostgreSQL)."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings_dict['NAME']}"
    return (f"postgres://{settings_dict['USER']}@{settings_dict['HOST'] or '127.0.0.1'}:"
            f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}")
