"""Celery application. Without JIANGUAN_BROKER_URL tasks run eagerly in-process (embedded mode)."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("jianguan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect  # a prefork child, after the fork
@worker_ready.connect  # the solo and threads pools run tasks in the main process
def _prepare_worker(**_kwargs: object) -> None:
    from jianguan.core.runtime import prepare_server_process

    prepare_server_process()
