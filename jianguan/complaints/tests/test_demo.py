"""The demo step: tickets in every state, nothing in the future, reporters encrypted, the step idempotent."""

from __future__ import annotations

import random

import pytest
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from jianguan.complaints.choices import ComplaintStatus
from jianguan.complaints.demo import build_demo
from jianguan.complaints.models import Complaint, ComplaintEvent, Reporter
from jianguan.core import demo as core_demo

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def test_the_demo_builds_tickets_in_every_state(settings, tmp_path) -> None:
    settings.VAR_DIR = tmp_path
    core_demo.build_organizations()
    core_demo.build_users()
    core_demo.build_subjects(500, random.Random(1))
    summary = build_demo(random.Random(7), tickets=800, train=True)
    assert "800 tickets" in summary and "classifier v1" in summary
    statuses = set(Complaint.objects.values_list("status", flat=True))
    assert statuses == set(ComplaintStatus.values)
    now = timezone.now()
    assert ComplaintEvent.objects.aggregate(m=Max("at"))["m"] <= now
    assert Complaint.objects.aggregate(m=Max("replied_at"))["m"] <= now
    reporter = Reporter.objects.exclude(phone="").first()
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM complaints_reporter WHERE complaint_id = %s", [reporter.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("v1$") and reporter.phone not in stored
    assert "already loaded" in build_demo(random.Random(7), tickets=10, train=False)
