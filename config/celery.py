"""Celery application. Without JIANGUAN_BROKER_URL tasks run eagerly in-process (embedded mode)."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("jianguan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect  # a prefork child, after the fork
@worker_ready.connect  # the solo and threads pools run tasks in the main process
def _prepare_worker(**_kwargs: object) -> None:
    from jianguan.core.runtime import prepare_server_process

    prepare_server_process()


@task_prerun.connect
@task_postrun.connect
def _recycle_old_connections(sender: object = None, **_kwargs: object) -> None:
    """Around each task in a worker, what Django does around each request: close a connection that is broken or
    older than ``CONN_MAX_AGE`` (the next query opens a new one) and keep the others. Not for an eager task, which
    runs inside its caller's request and transaction."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
