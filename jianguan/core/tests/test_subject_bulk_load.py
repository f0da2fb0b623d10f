"""The bulk path for master records (``reserve_subject_ids``, ``bulk_insert_subjects``, ``bulk_update_subjects``,
``bulk_loading_subjects``) and the indexes ``core_subject`` keeps for the queries the application runs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from jianguan.core import bulkload, services
from jianguan.core.models import Subject
from jianguan.core.testing.personas import make_subject, make_uscc_for

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's bulk-load practice")


def _rows(ids: list[int], regions: list[str], *, start: int = 500) -> pa.Table:
    n = len(ids)
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "uscc": [make_uscc_for(r, start + i) for i, r in enumerate(regions)],
        "name": [f"批量企业{start + i}有限公司" for i in range(n)],
        "subject_type": ["enterprise"] * n,
        "legal_representative": ["李四"] * n,
        "address": [""] * n,
        "region": regions,
        "industry": ["521"] + [None] * (n - 1),
        "registered_capital": ["120.5000"] + [None] * (n - 1),
        "established_on": ["2019-02-22"] + [None] * (n - 1),
        "status": ["active"] * n,
    })


def _index_names() -> set[str]:
    return {name for name, info in connection.introspection.get_constraints(connection.cursor(), "core_subject")
            .items() if info["index"] or info["unique"] or info["primary_key"]}


def _foreign_keys() -> set[str]:
    return {name for name, info in connection.introspection.get_constraints(connection.cursor(), "core_subject")
            .items() if info["foreign_key"]}


@pytest.mark.django_db
def test_it_inserts_master_records_with_the_ids_it_reserved() -> None:
    existing = make_subject("320106")
    with transaction.atomic():
        ids = services.reserve_subject_ids(3)
        assert len(set(ids)) == 3 and min(ids) > existing.pk
        written = services.bulk_insert_subjects(_rows(ids, ["320106", "320115", "320508"]), now=timezone.now())
    assert written == 3
    first = Subject.objects.get(pk=ids[0])
    assert first.region_id == "320106" and first.industry_id == "521"
    assert first.registered_capital == Decimal("120.5000") and first.established_on == dt.date(2019, 2, 22)
    assert first.created_at is not None and first.updated_at == first.created_at
    assert Subject.objects.get(pk=ids[2]).registered_capital is None
    assert make_subject("320106").pk > max(ids)  # later records never collide with a reserved id


@pytest.mark.django_db
def test_it_updates_master_records_in_bulk() -> None:
    subject = make_subject("320106", name="旧名称有限公司")
    rows = pa.table({
        "id": pa.array([subject.pk], pa.int64()), "name": ["新名称有限公司"], "subject_type": ["enterprise"],
        "legal_representative": ["王五"], "address": ["南京市鼓楼区中山路1号"], "region": ["320106"],
        "industry": ["521"], "registered_capital": ["88.0000"], "established_on": ["2020-01-02"],
        "status": ["revoked"],
    })
    with transaction.atomic():
        assert services.bulk_update_subjects(rows, now=timezone.now()) == 1
    subject.refresh_from_db()
    assert (subject.name, subject.legal_representative, subject.status) == ("新名称有限公司", "王五", "revoked")
    assert subject.registered_capital == Decimal("88.0000") and subject.established_on == dt.date(2020, 1, 2)


@postgres_only
@pytest.mark.django_db
def test_many_ids_are_reserved_as_one_range_that_later_records_skip() -> None:
    with transaction.atomic():
        ids = services.reserve_subject_ids(bulkload.ID_RANGE_FROM)
    assert ids == list(range(ids[0], ids[0] + bulkload.ID_RANGE_FROM)) and ids[0] > 0
    assert make_subject("320106").pk == ids[-1] + 1  # the sequence goes on after the range, one at a time
    assert make_subject("320106").pk == ids[-1] + 2


@postgres_only
@pytest.mark.django_db
def test_a_range_from_a_sequence_never_drawn_from_starts_at_its_first_value() -> None:
    """A new table's sequence hands out its start value first, without the increment: the range must not end
    there (it once did: the first load into an empty table got ids from -9998 to 1)."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE jg_reserve_probe (id bigserial PRIMARY KEY, note text)")
        with transaction.atomic():
            ids = bulkload.reserve_ids("jg_reserve_probe", bulkload.ID_RANGE_FROM)
        assert ids == list(range(2, bulkload.ID_RANGE_FROM + 2))  # the start value, 1, is left unused
        cursor.execute("INSERT INTO jg_reserve_probe (note) VALUES ('next') RETURNING id")
        assert cursor.fetchone()[0] == ids[-1] + 1
        with transaction.atomic():
            again = bulkload.reserve_ids("jg_reserve_probe", bulkload.ID_RANGE_FROM)
        assert again == list(range(ids[-1] + 2, ids[-1] + 2 + bulkload.ID_RANGE_FROM))


def _reltuples(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        return float(cursor.fetchone()[0])


@postgres_only
@pytest.mark.django_db
def test_a_large_load_refreshes_the_planners_statistics_once_it_commits(django_capture_on_commit_callbacks,
                                                                         monkeypatch) -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE jg_analyze_probe (id bigserial PRIMARY KEY, note text)")
        assert _reltuples("jg_analyze_probe") < 0  # never analysed
        with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
            cursor.execute("INSERT INTO jg_analyze_probe (note) SELECT 'row ' || i FROM generate_series(1, 12000) i")
            assert bulkload.analyze_after_commit("jg_analyze_probe", 12000)
            assert _reltuples("jg_analyze_probe") < 0  # not inside the loading transaction
        assert len(callbacks) == 1 and _reltuples("jg_analyze_probe") == 12000
        # too few rows, or too small a share of the table: left to autovacuum
        assert not bulkload.analyze_after_commit("jg_analyze_probe", bulkload.ANALYZE_MIN_ROWS - 1)
        monkeypatch.setattr(bulkload, "ANALYZE_MIN_ROWS", 100)
        assert not bulkload.analyze_after_commit("jg_analyze_probe", 1000)  # under a tenth of 12,000
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            cursor.execute("DELETE FROM jg_analyze_probe WHERE id <= 2000")
            assert bulkload.analyze_after_commit("jg_analyze_probe", 2000)
        assert _reltuples("jg_analyze_probe") == 10000


@pytest.mark.django_db
def test_statistics_are_left_to_sqlite_itself() -> None:
    if connection.vendor == "postgresql":
        pytest.skip("SQLite's behaviour")
    assert not bulkload.analyze_after_commit(Subject._meta.db_table, 1_000_000)


@postgres_only
@pytest.mark.django_db
def test_a_rolled_back_range_reservation_leaves_the_sequence_as_it_was() -> None:
    before = make_subject("320106").pk
    with pytest.raises(RuntimeError), transaction.atomic():
        services.reserve_subject_ids(bulkload.ID_RANGE_FROM)
        raise RuntimeError("load failed")
    assert make_subject("320106").pk == before + 1


@postgres_only
@pytest.mark.django_db
def test_a_large_load_rebuilds_the_indexes_and_foreign_keys_it_took_off(monkeypatch) -> None:
    monkeypatch.setattr(bulkload, "REBUILD_MIN_ROWS", 1)
    indexes, foreign_keys = _index_names(), _foreign_keys()
    with transaction.atomic(), services.bulk_loading_subjects(2) as rebuild:
        assert rebuild.active
        assert "core_subject_name" not in _index_names() and not _foreign_keys()
        assert "core_subject_pkey" in _index_names()  # other tables' foreign keys rely on it: it stays
        ids = services.reserve_subject_ids(2)
        services.bulk_insert_subjects(_rows(ids, ["320106", "320115"]), now=timezone.now())
    assert _index_names() == indexes and _foreign_keys() == foreign_keys
    assert Subject.objects.filter(pk__in=ids).count() == 2


@postgres_only
@pytest.mark.django_db
def test_a_large_load_referencing_a_missing_region_fails_whole(monkeypatch) -> None:
    monkeypatch.setattr(bulkload, "REBUILD_MIN_ROWS", 1)
    indexes, foreign_keys = _index_names(), _foreign_keys()
    with pytest.raises(IntegrityError), transaction.atomic(), services.bulk_loading_subjects(2):
        ids = services.reserve_subject_ids(2)
        services.bulk_insert_subjects(_rows(ids, ["320106", "329999"]), now=timezone.now())
    assert not Subject.objects.filter(pk__in=ids).exists()
    assert _index_names() == indexes and _foreign_keys() == foreign_keys


@pytest.mark.django_db
def test_a_small_load_keeps_every_index_in_place() -> None:
    make_subject("320106")
    with transaction.atomic(), services.bulk_loading_subjects(1) as rebuild:
        assert not rebuild.active
        assert "core_subject_name" in _index_names()


@postgres_only
@pytest.mark.django_db
def test_a_large_load_with_a_duplicate_credit_code_fails_whole(monkeypatch) -> None:
    monkeypatch.setattr(bulkload, "REBUILD_MIN_ROWS", 1)
    indexes = _index_names()
    with pytest.raises(IntegrityError), transaction.atomic(), services.bulk_loading_subjects(2) as rebuild:
        assert rebuild.active
        assert "core_subject_unique_uscc" not in _index_names()  # re-checked over the whole table when re-added
        ids = services.reserve_subject_ids(2)
        rows = _rows(ids, ["320106", "320106"])
        rows = rows.set_column(1, "uscc", pa.array([rows.column("uscc")[0].as_py()] * 2))
        services.bulk_insert_subjects(rows, now=timezone.now())
    assert not Subject.objects.filter(pk__in=ids).exists() and _index_names() == indexes


@postgres_only
@pytest.mark.django_db
def test_a_large_load_after_other_writes_in_its_transaction_goes_the_ordinary_way(monkeypatch) -> None:
    """Deferred checks already pending on the table (here: a record created in the same transaction) forbid
    ALTER TABLE until the commit: the load then keeps every index and constraint in place and still succeeds."""
    monkeypatch.setattr(bulkload, "REBUILD_MIN_ROWS", 1)
    with transaction.atomic():
        make_subject("320106")
        with services.bulk_loading_subjects(5) as rebuild:
            assert not rebuild.active and rebuild.reason
            assert "core_subject_name" in _index_names()
            ids = services.reserve_subject_ids(2)
            services.bulk_insert_subjects(_rows(ids, ["320106", "320115"]), now=timezone.now())
    assert Subject.objects.filter(pk__in=ids).count() == 2


def test_copy_upsert_is_refused_where_there_is_no_copy(db) -> None:
    from django.db import NotSupportedError, connection

    from jianguan.core import bulkload

    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL has COPY")
    import pyarrow as pa

    with pytest.raises(NotSupportedError, match="PostgreSQL"):
        bulkload.copy_upsert("core_subject", ("name",), pa.table({"name": ["x"]}), "uscc", ("name",))
