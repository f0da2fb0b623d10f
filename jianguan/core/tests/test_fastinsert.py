"""``fastinsert.insert`` stores exactly what ``save()`` would, with a cached statement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from jianguan.core import fastinsert
from jianguan.core.models import ApiToken, OutboxEvent, ProcessedEvent, Subject
from jianguan.core.testing.personas import make_user


def test_it_stores_the_same_row_as_save(db) -> None:
    user = make_user("fast_machine", "320106", roles=["api_client"], is_machine=True)
    expires = timezone.now() + dt.timedelta(days=3)
    saved = ApiToken.objects.create(name="by save", user=user, prefix="aaaa1111", secret_hash="h" * 64,
                                    scopes=["view", "add"], expires_at=expires)
    fast = ApiToken(name="by insert", user=user, prefix="bbbb2222", secret_hash="h" * 64, scopes=["view", "add"],
                    expires_at=expires)
    fastinsert.insert(fast)
    assert fast.pk is not None and fast.pk != saved.pk and not fast._state.adding
    stored = ApiToken.objects.get(pk=fast.pk)
    assert stored.scopes == ["view", "add"] and stored.user_id == user.pk and stored.expires_at == expires
    assert stored.updated_at is not None and stored.created_at is not None  # auto_now and defaults applied


def test_it_keeps_a_given_primary_key_and_inserts_several(db) -> None:
    first, second = OutboxEvent(topic="test.a", payload={"n": 1, "名称": "中文"}), OutboxEvent(topic="test.b")
    fastinsert.insert(first, second)
    assert OutboxEvent.objects.get(pk=first.pk).payload == {"n": 1, "名称": "中文"}
    assert OutboxEvent.objects.get(pk=second.pk).payload == {}
    processed = ProcessedEvent(event_id=first.pk, handler="test")
    fastinsert.insert(processed)
    assert ProcessedEvent.objects.get(pk=processed.pk).handler == "test"


def test_it_refuses_models_audited_through_signals(db) -> None:
    with pytest.raises(TypeError, match="audited"):
        fastinsert.insert(Subject(name="某某有限公司", region_id="320106"))


def test_a_constraint_violation_is_the_usual_integrity_error(db) -> None:
    from django.db import IntegrityError, transaction

    event = OutboxEvent(topic="test.c")
    fastinsert.insert(event)
    with pytest.raises(IntegrityError), transaction.atomic():
        fastinsert.insert(ProcessedEvent(event_id=event.pk, handler="x"), ProcessedEvent(event_id=event.pk,
                                                                                          handler="x"))


def test_many_rows_of_one_model_go_in_one_statement_with_their_keys_in_order(db, django_assert_num_queries) -> None:
    user = make_user("fast_many", "320106", roles=["api_client"], is_machine=True)
    expires = timezone.now() + dt.timedelta(days=3)
    tokens = [ApiToken(name=f"t{i}", user=user, prefix=f"pre{i:05d}", secret_hash="h" * 64, expires_at=expires)
              for i in range(7)]
    with django_assert_num_queries(1):
        fastinsert.insert(*tokens)
    stored = dict(ApiToken.objects.filter(user=user).values_list("pk", "name"))
    assert [stored[t.pk] for t in tokens] == [f"t{i}" for i in range(7)]


def test_queued_inserts_of_several_tables_reach_the_database_together(db, django_assert_num_queries) -> None:
    from django.db import connection, transaction

    user = make_user("fast_queued", "320106", roles=["api_client"], is_machine=True)
    expires = timezone.now() + dt.timedelta(days=3)
    tokens = [ApiToken(name=f"q{i}", user=user, prefix=f"que{i:05d}", secret_hash="h" * 64, expires_at=expires)
              for i in range(3)]
    event = OutboxEvent(topic="test.q", payload={"n": 1})
    # one round trip on PostgreSQL (one multi-statement query); SQLite runs the statements one after the other
    with transaction.atomic(), django_assert_num_queries(1 if connection.vendor == "postgresql" else 3):
        with fastinsert.queued():
            fastinsert.insert(*tokens)
            fastinsert.insert(event)
            processed = ProcessedEvent(event_id=event.pk, handler="queued")
            fastinsert.insert(processed)
            assert tokens[0].pk is None  # keys arrive when the queue is sent
    assert all(t.pk is not None and not t._state.adding for t in tokens)
    stored = dict(ApiToken.objects.filter(user=user).values_list("pk", "name"))
    assert [stored[t.pk] for t in tokens] == ["q0", "q1", "q2"]
    assert ProcessedEvent.objects.get(pk=processed.pk).event_id == event.pk  # written after the row it refers to


def test_other_sql_inside_a_queued_block_sees_the_queued_rows(db) -> None:
    from django.db import transaction

    with transaction.atomic(), fastinsert.queued():
        fastinsert.insert(OutboxEvent(topic="test.visible"))
        assert OutboxEvent.objects.filter(topic="test.visible").count() == 1  # the queue went first
        fastinsert.insert(OutboxEvent(topic="test.visible"))
    assert OutboxEvent.objects.filter(topic="test.visible").count() == 2


def test_a_failing_queued_block_writes_nothing(db) -> None:
    from django.db import IntegrityError, transaction

    event = OutboxEvent(topic="test.fail")
    fastinsert.insert(event)
    with pytest.raises(IntegrityError), transaction.atomic(), fastinsert.queued():
        fastinsert.insert(OutboxEvent(topic="test.fail.new"))
        fastinsert.insert(ProcessedEvent(event_id=event.pk, handler="x"), ProcessedEvent(event_id=event.pk,
                                                                                          handler="x"))
    assert not OutboxEvent.objects.filter(topic="test.fail.new").exists()
    with pytest.raises(RuntimeError), transaction.atomic(), fastinsert.queued():
        fastinsert.insert(OutboxEvent(topic="test.fail.raised"))
        raise RuntimeError("the caller fails before the queue is sent")
    assert not OutboxEvent.objects.filter(topic="test.fail.raised").exists()


def test_values_that_look_like_sql_or_placeholders_are_stored_verbatim(db) -> None:
    tricky = "100%s %% 'quoted' \\backslash\\ ; DROP TABLE x; -- 中文 \u2028"
    events = [OutboxEvent(topic=tricky[:100], payload={"text": tricky, "none": None, "list": [1, "%s"]}),
              OutboxEvent(topic="plain", payload={})]
    fastinsert.insert(*events)
    stored = OutboxEvent.objects.get(pk=events[0].pk)
    assert stored.topic == tricky[:100] and stored.payload == {"text": tricky, "none": None, "list": [1, "%s"]}
    assert OutboxEvent.objects.get(pk=events[1].pk).payload == {}


def test_plain_values_go_in_as_they_are_and_the_rest_as_save_prepares_them(db) -> None:
    """Values of exact plain field classes skip preparation; anything else — a value of another type (a lazy
    string, a Decimal for an integer) or a field class of its own, such as an encrypted text field — is prepared
    as ``save()`` prepares it."""
    from django.utils.functional import lazystr

    from jianguan.core.fields import EncryptedTextField
    from jianguan.core.models import EnforcementOfficer

    fields, plain = fastinsert._columns(EnforcementOfficer, True)
    kinds = {f.name: kind for f, kind in zip(fields, plain, strict=True)}
    encrypted = [f.name for f in fields if isinstance(f, EncryptedTextField)]
    assert encrypted and all(kinds[name] is None for name in encrypted)  # never taken as they are
    assert kinds["name"] is str and kinds["organization"] is int
    user = make_user("fast_lazy", "320106", roles=["api_client"], is_machine=True)
    token = ApiToken(name=lazystr("懒字符串"), user=user, prefix="cccc3333", secret_hash="h" * 64, scopes=["view"],
                     expires_at=timezone.now() + dt.timedelta(days=1))
    fastinsert.insert(token)
    assert ApiToken.objects.get(pk=token.pk).name == "懒字符串"


def test_empty_dates_go_in_as_null_but_auto_dates_are_still_filled(db) -> None:
    """An empty date, time or decimal is written as NULL without preparation; a date with ``auto_now`` or
    ``auto_now_add`` still gets its value from ``pre_save``, and a set date is prepared as ``save()`` prepares it."""
    fields, plain = fastinsert._columns(ApiToken, True)
    kinds = {f.name: kind for f, kind in zip(fields, plain, strict=True)}
    assert kinds["last_used_at"] is type(None) and kinds["expires_at"] is type(None)
    assert kinds["updated_at"] is None  # auto_now: always prepared (a default, as created_at's, is set at init)
    user = make_user("fast_dates", "320106", roles=["api_client"], is_machine=True)
    expires = timezone.now() + dt.timedelta(days=2)
    token = ApiToken(name="dates", user=user, prefix="dddd4444", secret_hash="h" * 64, scopes=["view"],
                     expires_at=expires)
    fastinsert.insert(token)
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.last_used_at is None and stored.expires_at == expires
    assert stored.created_at is not None and stored.updated_at is not None


def test_an_upsert_updates_the_row_it_conflicts_with_and_inserts_the_others(db) -> None:
    """``upsert=(unique fields, fields to update)``: as ``bulk_create(update_conflicts=True)``, in one statement;
    each instance gets its row's key, the existing one's for an update."""
    import uuid

    one, two = uuid.uuid4(), uuid.uuid4()
    earlier = timezone.now() - dt.timedelta(days=1)
    first = ProcessedEvent(event_id=one, handler="h.one", processed_at=earlier)
    fastinsert.insert(first)
    again = ProcessedEvent(event_id=one, handler="h.one")
    new = ProcessedEvent(event_id=two, handler="h.one")
    fastinsert.insert(again, new, upsert=(("event_id", "handler"), ("processed_at",)))
    assert again.pk == first.pk and new.pk not in (None, first.pk)
    assert ProcessedEvent.objects.count() == 2
    assert ProcessedEvent.objects.get(pk=first.pk).processed_at == again.processed_at > earlier
