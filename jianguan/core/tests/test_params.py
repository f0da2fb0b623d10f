"""Versioned, effective-dated domain parameters."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from jianguan.core import params
from jianguan.core.errors import DomainError
from jianguan.core.models import AuditEntry
from jianguan.core.testing.personas import make_user

params.register_parameter(params.ParameterDefinition(
    name="test.reply_days", label="答复期限", kind=int, default=15, unit="working days", minimum=1, maximum=60,
    source="市场监督管理投诉举报处理暂行办法",
))


@pytest.fixture
def editor(db):
    from django.contrib.auth.models import Permission

    user = make_user("param_editor", "320000", roles=["system_admin"])
    user.user_permissions.add(Permission.objects.get(codename="add_parametervalue"))
    return user


def test_the_default_applies_until_a_value_is_set(db) -> None:
    reading = params.reading("test.reply_days")
    assert (reading.value, reading.version) == (15, 0)


def test_a_new_value_applies_from_its_effective_date_and_history_stays(editor) -> None:
    now = timezone.now()
    params.set_value("test.reply_days", 10, actor=editor, effective_from=now + dt.timedelta(days=30),
                     reason="省政府通知")
    assert params.get("test.reply_days") == 15
    later = params.reading("test.reply_days", at=now + dt.timedelta(days=31))
    assert (later.value, later.version) == (10, 1)
    assert params.get("test.reply_days", at=now) == 15
    assert AuditEntry.objects.filter(event="core.parameter.changed").count() == 1


def test_it_refuses_values_out_of_range_or_without_reason(editor) -> None:
    with pytest.raises(DomainError) as excinfo:
        params.set_value("test.reply_days", 0, actor=editor, effective_from=timezone.now(), reason="x")
    assert excinfo.value.code == "parameter.range"
    with pytest.raises(DomainError):
        params.set_value("test.reply_days", 5, actor=editor, effective_from=timezone.now(), reason=" ")


def test_it_needs_the_permission(gulou_inspector) -> None:
    with pytest.raises(PermissionDenied):
        params.set_value("test.reply_days", 5, actor=gulou_inspector, effective_from=timezone.now(), reason="x")


@pytest.mark.django_db(transaction=True)
def test_committed_values_are_cached_outside_transactions_and_a_change_applies_at_once(
    django_assert_num_queries,
) -> None:
    from django.contrib.auth.models import Permission

    editor = make_user("param_editor_tx", "320000", roles=["system_admin"])
    editor.user_permissions.add(Permission.objects.get(codename="add_parametervalue"))
    params.forget_cached_values()
    assert params.get("test.reply_days") == 15
    with django_assert_num_queries(0):  # read from the cache
        assert params.get("test.reply_days") == 15
    params.set_value("test.reply_days", 12, actor=editor, effective_from=timezone.now() - dt.timedelta(seconds=1),
                     reason="省政府通知")
    assert params.get("test.reply_days") == 12  # the change in this process is seen at once
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        params.set_value("test.reply_days", 20, actor=editor, effective_from=timezone.now() - dt.timedelta(seconds=1),
                         reason="未生效的修改")
        assert params.get("test.reply_days") == 20  # inside its transaction, not cached
        raise RuntimeError("rolled back")
    assert params.get("test.reply_days") == 12  # what was rolled back never reached the cache
