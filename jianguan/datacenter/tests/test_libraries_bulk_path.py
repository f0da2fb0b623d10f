"""Writing the record libraries through the database's bulk path: on PostgreSQL the rows are COPYed into a staging
table and merged with one INSERT … ON CONFLICT; every field is stored exactly as the ORM stores it (the expected
values below are what ``bulk_create`` stored before), a re-delivery updates instead of duplicating, personal data is
stored as tokens, and a failure leaves nothing written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jianguan.core import bulkload
from jianguan.core.crypto import field_cipher
from jianguan.core.fields import blind_index
from jianguan.core.models import AuditEntry, EnforcementOfficer, Organization
from jianguan.core.testing.personas import make_org, make_subject
from jianguan.datacenter import libraries
from jianguan.datacenter.models import AdministrativePenalty, KnowledgeDocument, KnowledgeTerm, QuarantinedRow
from jianguan.datacenter.tests.conftest import ingest, make_source, write_csv
from jianguan.lib.validators import make_id_number, make_uscc

on_postgresql = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's bulk path")

PERSON = make_id_number("32010619850101001")
OFFICER_ID = make_id_number("32010619800101002")


def _at(*parts: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(*parts))  # type: ignore[arg-type]


def _behaviour(kind: str, no: str, ctx: dict[str, Any]) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """The columns every behaviour shares: a full row (a company, every column filled) and a sparse one (a person,
    only what is required), with the values stored for each."""
    full = {"item_code": "32001030010001", "implementation_code": "320106001JC0001", "behaviour_no": f"{no}1",
            "behaviour_name": f"{kind}一", "agency_name": "南京市鼓楼区市场监督管理局", "agency_code": ctx["agency"],
            "entrusted_name": "鼓楼区综合执法大队", "entrusted_code": "ZF320106", "object_type": "企业",
            "object_name": "一号店", "party_name": ctx["subject"].name, "party_nature": "法人",
            "credential_type": "统一社会信用代码", "party_code": ctx["subject"].uscc, "registered_address": "中山路1号",
            "business_address": "汉中路2号", "region": "320106", "reported_at": "2026-05-02 10:00",
            "reporter": "李报送"}
    sparse = {"item_code": "32001030010001", "behaviour_no": f"{no}2", "behaviour_name": f"{kind}二",
              "agency_name": "南京市鼓楼区市场监督管理局", "party_name": "张三", "party_nature": "自然人",
              "credential_type": "身份证", "party_code": PERSON, "region": "320106"}
    stored_full = {**{k: v for k, v in full.items() if k not in ("agency_code", "party_nature", "party_code",
                                                                 "region", "reported_at")},
                   "agency_code": ctx["agency"], "party_nature": "legal_person", "party_uscc": ctx["subject"].uscc,
                   "party_id_number": "", "party_id_index": "", "subject_id": ctx["subject"].pk,
                   "region_id": "320106", "organization_id": ctx["org"].pk, "reported_at": _at(2026, 5, 2, 10)}
    stored_sparse = {"item_code": "32001030010001", "implementation_code": "", "behaviour_no": f"{no}2",
                     "behaviour_name": f"{kind}二", "agency_name": "南京市鼓楼区市场监督管理局", "agency_code": "",
                     "entrusted_name": "", "entrusted_code": "", "object_type": "", "object_name": "",
                     "party_name": "张三", "party_nature": "natural_person", "credential_type": "身份证",
                     "party_uscc": "", "party_id_number": PERSON, "party_id_index": blind_index(PERSON),
                     "subject_id": None, "registered_address": "", "business_address": "", "region_id": "320106",
                     "organization_id": None, "reported_at": None, "reporter": ""}
    return [full, sparse], [stored_full, stored_sparse]


def _delivery(name: str, ctx: dict[str, Any]) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """A delivery of two rows for the library ``name`` and the field values each must be stored with."""
    if name == "inspections":
        rows, stored = _behaviour("检查", "JC", ctx)
        rows[0] |= {"plan_id": "SJ2026-01", "inspection_form": "现场检查", "inspection_category": "双随机",
                    "inspection_manner": "书面", "inspection_result": "未发现问题",
                    "inspected_at": "2026-05-01 09:30:15", "inspectors": "王执法，李执法", "certificate_nos": "A1;A2"}
        rows[1] |= {"inspection_form": "现场检查", "inspection_category": "专项", "inspection_result": "责令整改",
                    "inspected_at": "2026/5/1", "inspectors": "王执法"}
        stored[0] |= {"plan_id": "SJ2026-01", "inspection_form": "现场检查", "inspection_category": "双随机",
                      "inspection_manner": "书面", "inspection_result": "未发现问题",
                      "inspected_at": _at(2026, 5, 1, 9, 30, 15), "inspectors": ["王执法", "李执法"],
                      "certificate_nos": ["A1", "A2"]}
        stored[1] |= {"plan_id": "", "inspection_form": "现场检查", "inspection_category": "专项",
                      "inspection_manner": "", "inspection_result": "责令整改", "inspected_at": _at(2026, 5, 1),
                      "inspectors": ["王执法"], "certificate_nos": []}
    elif name == "penalties":
        rows, stored = _behaviour("处罚", "CF", ctx)
        rows[0] |= {"case_source": "投诉举报", "inspection_no": "JC1", "facts": "未公示年报", "basis": "第十八条",
                    "procedure": "普通", "hearing": "是", "filed_at": "2026-03-01 09:00", "criminal": "否",
                    "major": "是", "legal_review": "是", "legal_review_on": "2026-03-20",
                    "legal_review_opinion": "同意", "collective": "是", "collective_on": "2026-03-25",
                    "collective_conclusion": "罚款", "decision_no": "宁鼓罚〔2026〕1号", "decided_on": "2026年4月1日",
                    "penalty_kind": "罚款", "fine_amount": "5,000.00元", "penalty_result": "罚款五千元",
                    "reconsideration": "无", "execution_manner": "自觉履行", "execution_result": "已缴纳",
                    "fine_paid": "1,234.567", "no_penalty": "否", "closed_on": "2026-05-01",
                    "other_handling": "无", "transferred_at": "2026-04-15 16:45"}
        rows[1] |= {"inspection_no": "JC2", "decision_no": "宁鼓罚〔2026〕2号", "decided_on": "2026-04-02",
                    "penalty_kind": "警告"}
        stored[0] |= {"case_source": "投诉举报", "inspection_no": "JC1", "facts": "未公示年报", "basis": "第十八条",
                      "procedure": "普通", "hearing": True, "filed_at": _at(2026, 3, 1, 9), "criminal": False,
                      "major": True, "legal_review": True, "legal_review_on": dt.date(2026, 3, 20),
                      "legal_review_opinion": "同意", "collective": True, "collective_on": dt.date(2026, 3, 25),
                      "collective_conclusion": "罚款", "decision_no": "宁鼓罚〔2026〕1号",
                      "decided_on": dt.date(2026, 4, 1), "penalty_kind": "罚款", "fine_amount": Decimal("5000.00"),
                      "penalty_result": "罚款五千元", "reconsideration": "无", "execution_manner": "自觉履行",
                      "execution_result": "已缴纳", "fine_paid": Decimal("1234.57"), "no_penalty": False,
                      "closed_on": dt.date(2026, 5, 1), "other_handling": "无",
                      "transferred_at": _at(2026, 4, 15, 16, 45)}
        stored[1] |= {"case_source": "", "inspection_no": "JC2", "facts": "", "basis": "", "procedure": "",
                      "hearing": False, "filed_at": None, "criminal": False, "major": False, "legal_review": False,
                      "legal_review_on": None, "legal_review_opinion": "", "collective": False,
                      "collective_on": None, "collective_conclusion": "", "decision_no": "宁鼓罚〔2026〕2号",
                      "decided_on": dt.date(2026, 4, 2), "penalty_kind": "警告", "fine_amount": None,
                      "penalty_result": "", "reconsideration": "", "execution_manner": "", "execution_result": "",
                      "fine_paid": None, "no_penalty": False, "closed_on": None, "other_handling": "",
                      "transferred_at": None}
    elif name == "coercions":
        rows, stored = _behaviour("强制", "QZ", ctx)
        rows[0] |= {"inspection_no": "JC1", "matter_source": "检查发现", "measure": "查封", "decided_on": "2026-04-01",
                    "lifted_on": "2026-04-20", "coercion_result": "已解除"}
        rows[1] |= {"inspection_no": "JC2", "measure": "扣押", "decided_on": "2026-04-03"}
        stored[0] |= {"inspection_no": "JC1", "matter_source": "检查发现", "measure": "查封",
                      "decided_on": dt.date(2026, 4, 1), "lifted_on": dt.date(2026, 4, 20), "coercion_result": "已解除"}
        stored[1] |= {"inspection_no": "JC2", "matter_source": "", "measure": "扣押",
                      "decided_on": dt.date(2026, 4, 3), "lifted_on": None, "coercion_result": ""}
    elif name == "licenses":
        rows, stored = _behaviour("许可", "XK", ctx)
        rows[0] |= {"license_no": "JY32010600001", "license_kind": "食品经营", "content": "预包装食品销售",
                    "decided_on": "2026-01-05", "valid_from": "2026-01-05", "valid_to": "2031-01-04"}
        rows[1] |= {"decided_on": "2026-01-06"}
        stored[0] |= {"license_no": "JY32010600001", "license_kind": "食品经营", "content": "预包装食品销售",
                      "decided_on": dt.date(2026, 1, 5), "valid_from": dt.date(2026, 1, 5),
                      "valid_to": dt.date(2031, 1, 4)}
        stored[1] |= {"license_no": "", "license_kind": "", "content": "", "decided_on": dt.date(2026, 1, 6),
                      "valid_from": None, "valid_to": None}
    elif name == "credit":
        subject = ctx["subject"]
        rows = [{"record_no": "XY-1", "kind": "严重违法失信名单", "uscc": subject.uscc, "party_name": subject.name,
                 "reason": "提供虚假材料", "authority": "南京市市场监督管理局", "decided_on": "2026-02-01",
                 "valid_until": "2029-02-01", "removed_on": "2026-12-31", "risk_class": "B", "region": "320106"},
                {"record_no": "XY-2", "kind": "commitment", "uscc": ctx["other_uscc"], "party_name": "外地公司",
                 "authority": "南京市市场监督管理局", "decided_on": "2026-02-02", "region": "320106"}]
        stored = [{"record_no": "XY-1", "kind": "serious_list", "uscc": subject.uscc, "party_name": subject.name,
                   "subject_id": subject.pk, "reason": "提供虚假材料", "authority": "南京市市场监督管理局",
                   "decided_on": dt.date(2026, 2, 1), "valid_until": dt.date(2029, 2, 1),
                   "removed_on": dt.date(2026, 12, 31), "risk_class": "B", "region_id": "320106"},
                  {"record_no": "XY-2", "kind": "commitment", "uscc": ctx["other_uscc"], "party_name": "外地公司",
                   "subject_id": None, "reason": "", "authority": "南京市市场监督管理局",
                   "decided_on": dt.date(2026, 2, 2), "valid_until": None, "removed_on": None, "risk_class": "",
                   "region_id": "320106"}]
    elif name == "internet":
        subject = ctx["subject"]
        rows = [{"record_no": "WL-1", "provider": "舆情平台", "url": "https://example.cn/a?id=1&b=\"x\"",
                 "title": "某店被投诉", "content": "多名消费者反映，价格\"不透明\"", "published_at": "2026-06-01 08:00",
                 "uscc": subject.uscc, "party_name": subject.name, "sentiment": "负面", "keywords": "价格|投诉",
                 "region": "320106"},
                {"record_no": "WL-2", "provider": "第三方", "title": "好评", "published_at": "2026-06-02",
                 "sentiment": "1", "region": "320106"}]
        stored = [{"record_no": "WL-1", "provider": "舆情平台", "url": "https://example.cn/a?id=1&b=\"x\"",
                   "title": "某店被投诉", "content": "多名消费者反映,价格\"不透明\"",
                   "published_at": _at(2026, 6, 1, 8), "uscc": subject.uscc, "party_name": subject.name,
                   "subject_id": subject.pk, "sentiment": -1, "keywords": ["价格", "投诉"], "region_id": "320106"},
                  {"record_no": "WL-2", "provider": "第三方", "url": "", "title": "好评", "content": "",
                   "published_at": _at(2026, 6, 2), "uscc": "", "party_name": "", "subject_id": None,
                   "sentiment": 1, "keywords": [], "region_id": "320106"}]
    elif name == "knowledge":
        rows = [{"doc_no": "国务院令第654号", "kind": "行政法规", "title": "企业信息公示暂行条例", "issuer": "国务院",
                 "issued_on": "2014-08-07", "effective_on": "2014-10-01", "status": "已修改",
                 "body": "企业应当于每年1月1日至6月30日报送年度报告。"},
                {"doc_no": "案例2026-1", "kind": "case", "title": "虚假宣传案", "body": "当事人发布虚假宣传内容。"}]
        stored = [{"doc_no": "国务院令第654号", "kind": "regulation", "title": "企业信息公示暂行条例",
                   "issuer": "国务院", "issued_on": dt.date(2014, 8, 7), "effective_on": dt.date(2014, 10, 1),
                   "status": "amended", "body": "企业应当于每年1月1日至6月30日报送年度报告。", "region_id": "320000"},
                  {"doc_no": "案例2026-1", "kind": "case", "title": "虚假宣传案", "issuer": "", "issued_on": None,
                   "effective_on": None, "status": "effective",  # a blank 效力状态: in force, the model's default
                   "body": "当事人发布虚假宣传内容。", "region_id": "320000"}]
    else:  # officers
        org = ctx["org"]
        rows = [{"certificate_no": "32001000001", "name": "王执法", "id_number": OFFICER_ID, "organization": org.code,
                 "fields": "market、food", "phone": "+86 139-0000-0001", "active": "是"},
                {"certificate_no": "32001000002", "name": "李执法", "id_number": PERSON, "organization": org.code}]
        stored = [{"certificate_no": "32001000001", "name": "王执法", "id_number": OFFICER_ID,
                   "id_number_index": blind_index(OFFICER_ID), "organization_id": org.pk, "region_id": "320106",
                   "fields": ["market", "food"], "phone": "13900000001", "active": True},
                  {"certificate_no": "32001000002", "name": "李执法", "id_number": PERSON,
                   "id_number_index": blind_index(PERSON), "organization_id": org.pk, "region_id": "320106",
                   "fields": [], "phone": "", "active": True}]  # a blank 在岗: on duty, as the model's default
    return rows, stored


@pytest.fixture
def ctx(db) -> dict[str, Any]:
    org = make_org("320106")
    Organization.objects.filter(pk=org.pk).update(uscc=make_uscc("11320106MB0000001"))
    org.refresh_from_db()
    return {"org": org, "agency": org.uscc, "subject": make_subject("320106"),
            "other_uscc": make_uscc("91320106000000099")}


def _deliver(data_admin: Any, tmp_path: Any, capture: Any, name: str, rows: list[dict[str, str]], *,
             file_name: str = "delivery.csv", code: str | None = None, **kw: Any) -> Any:
    spec = libraries.SPECS[name]
    source_kw: dict[str, Any] = {"library": spec.library}
    if name in ("inspections", "penalties", "coercions", "licenses"):
        source_kw["options"] = {"behaviour": name}
    if name == "knowledge":
        source_kw["name"] = "法规库"
    from jianguan.datacenter.models import Source

    source = Source.objects.filter(code=code or name).first() or make_source(data_admin, code=code or name,
                                                                               **source_kw)
    header = [c.name for c in spec.columns]
    path = write_csv(tmp_path / file_name, header, [[row.get(h, "") for h in header] for row in rows])
    return ingest(source, data_admin, path, capture, **kw)


_NOT_DELIVERED = {"id", "batch_id", "row_no", "created_at", "updated_at", "indexed_at"}


@pytest.mark.parametrize("name", list(libraries.SPECS))
def test_every_library_stores_each_field_as_the_orm_does(name, data_admin, ctx, tmp_path,
                                                         django_capture_on_commit_callbacks) -> None:
    rows, stored = _delivery(name, ctx)
    before = timezone.now()
    batch = _deliver(data_admin, tmp_path, django_capture_on_commit_callbacks, name, rows)
    assert batch.status == "loaded", batch.message
    assert (batch.created_count, batch.updated_count, batch.rows_quarantined) == (2, 0, 0)
    spec = libraries.SPECS[name]
    model = spec.model
    attnames = {f.attname for f in model._meta.concrete_fields}
    found = list(model._default_manager.order_by("id"))
    assert [getattr(o, spec.key) for o in found] == [s[spec.key] for s in stored]  # ids follow the delivery's order
    for obj, expected, row_no in zip(found, stored, (2, 3), strict=True):
        assert attnames - _NOT_DELIVERED == set(expected), "every delivered column is checked"
        assert {a: getattr(obj, a) for a in expected} == expected
        for attname in expected:
            assert type(getattr(obj, attname)) is type(expected[attname]) or expected[attname] is None, attname
        assert obj.created_at >= before and obj.updated_at >= obj.created_at
        if "batch_id" in attnames:
            assert (obj.batch_id, obj.row_no) == (batch.pk, row_no)
    if name == "knowledge":
        assert KnowledgeTerm.objects.filter(document=found[1], term="虚假").exists()  # reindexed after the write


@on_postgresql
@pytest.mark.parametrize("name", ["inspections", "penalties", "internet", "officers"])
def test_the_text_copy_fallback_stores_the_same_values(name, data_admin, ctx, tmp_path, monkeypatch,
                                                       django_capture_on_commit_callbacks) -> None:
    # A column type the binary path does not know sends the whole table as CSV: NULL and "" must stay apart,
    # JSON lists, decimals, booleans and timestamps must come back as they went in.
    monkeypatch.setattr(bulkload, "_ARROW_TYPES", {k: v for k, v in bulkload._ARROW_TYPES.items()
                                                   if k not in ("jsonb", "numeric")})
    rows, stored = _delivery(name, ctx)
    with CaptureQueriesContext(connection) as queries:
        batch = _deliver(data_admin, tmp_path, django_capture_on_commit_callbacks, name, rows)
    assert batch.status == "loaded", batch.message
    assert any(q["sql"].startswith("COPY") and "FORMAT csv" in q["sql"] for q in queries.captured_queries)
    spec = libraries.SPECS[name]
    for obj, expected in zip(spec.model._default_manager.order_by("id"), stored, strict=True):
        assert {a: getattr(obj, a) for a in expected} == expected


@on_postgresql
def test_on_postgresql_the_rows_are_copied_and_merged_in_one_statement(data_admin, ctx, tmp_path,
                                                                       django_capture_on_commit_callbacks) -> None:
    rows, _stored = _delivery("penalties", ctx)
    with CaptureQueriesContext(connection) as queries:
        batch = _deliver(data_admin, tmp_path, django_capture_on_commit_callbacks, "penalties", rows)
    assert batch.status == "loaded", batch.message
    table = AdministrativePenalty._meta.db_table
    statements = [q["sql"] for q in queries.captured_queries]
    copies = [s for s in statements if s.startswith("COPY")]
    assert len(copies) == 1 and "FORMAT binary" in copies[0] and table in copies[0]
    merges = [s for s in statements if f'INSERT INTO "{table}"' in s and "ON CONFLICT" in s]
    assert len(merges) == 1 and "SELECT" in merges[0] and 'ON CONFLICT ("behaviour_no") DO UPDATE' in merges[0]
    assert '"created_at" = EXCLUDED' not in merges[0]
    assert not [s for s in statements if f'INSERT INTO "{table}"' in s and "VALUES" in s]


def test_a_redelivery_updates_the_records_instead_of_duplicating_them(data_admin, ctx, tmp_path,
                                                                      django_capture_on_commit_callbacks) -> None:
    rows, _stored = _delivery("penalties", ctx)
    first = _deliver(data_admin, tmp_path, django_capture_on_commit_callbacks, "penalties", rows)
    assert (first.created_count, first.updated_count) == (2, 0)
    kept = AdministrativePenalty.objects.get(behaviour_no="CF2")
    changed = [{**rows[1], "fine_amount": "300", "penalty_kind": "罚款"},
               {**rows[0], "behaviour_no": "CF3", "decision_no": "宁鼓罚〔2026〕3号"}]
    second = _deliver(data_admin, tmp_path, django_capture_on_commit_callbacks, "penalties", changed,
                      file_name="again.csv")
    assert second.status == "loaded", second.message
    assert (second.created_count, second.updated_count, second.rows_loaded) == (1, 1, 2)
    assert AdministrativePenalty.objects.count() == 3
    updated = AdministrativePenalty.objects.get(behaviour_no="CF2")
    assert updated.pk == kept.pk and updated.created_at == kept.created_at and updated.updated_at > kept.updated_at
    assert (updated.fine_amount, updated.penalty_kind) == (Decimal("300.00"), "罚款")
    assert (updated.batch_id, updated.row_no) == (second.pk, 2)
    assert updated.party_id_number == PERSON
    untouched = AdministrativePenalty.objects.get(behaviour_no="CF1")
    assert untouched.batch_id == first.pk


def test_personal_data_is_stored_as_tokens_and_read_back_in_clear(data_admin, ctx, tmp_path,
                                                                  django_capture_on_commit_callbacks) -> None:
    rows, _stored = _delivery("officers", ctx)
    _deliver(data_admin, tmp_path, django_capture_on_commit_callbacks, "officers", rows)
    rows, _stored = _delivery("penalties", ctx)
    _deliver(data_admin, tmp_path, django_capture_on_commit_callbacks, "penalties", rows)
    cipher = field_cipher()
    with connection.cursor() as cursor:
        cursor.execute("SELECT certificate_no, id_number, phone FROM core_enforcementofficer ORDER BY id")
        officers = cursor.fetchall()
        cursor.execute(f"SELECT party_id_number FROM {AdministrativePenalty._meta.db_table} "  # noqa: S608
                       "WHERE behaviour_no = 'CF2'")
        (party_token,) = cursor.fetchone()
    for _no, id_token, _phone in officers:
        assert cipher.is_token(id_token) and OFFICER_ID not in id_token and PERSON not in id_token
    assert cipher.is_token(officers[0][2]) and "13900000001" not in officers[0][2]
    assert officers[1][2] == ""  # no phone: empty, not a token of ""
    assert cipher.is_token(party_token) and PERSON not in party_token
    officer = EnforcementOfficer.objects.get(id_number_index=blind_index(OFFICER_ID))
    assert (officer.certificate_no, officer.id_number, officer.phone) == ("32001000001", OFFICER_ID, "13900000001")
    assert AdministrativePenalty.objects.get(party_id_index=blind_index(PERSON)).party_id_number == PERSON


def test_a_crash_after_the_records_are_written_leaves_no_partial_load(data_admin, ctx, tmp_path, monkeypatch,
                                                                      django_capture_on_commit_callbacks) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    rows, _stored = _delivery("penalties", ctx)
    rows.append({**rows[0], "behaviour_no": "CF9", "fine_amount": "很多"})  # one row for the quarantine
    with monkeypatch.context() as patch:
        patch.setattr(libraries, "quality", explode)  # runs after the write, in the same transaction
        batch = _deliver(data_admin, tmp_path, django_capture_on_commit_callbacks, "penalties", rows)
    assert batch.status == "failed" and "disk full" in batch.message
    assert AdministrativePenalty.objects.count() == 0
    assert QuarantinedRow.objects.count() == 0
    assert AuditEntry.objects.filter(event="datacenter.batch.failed").count() == 1
    again = _deliver(data_admin, tmp_path, django_capture_on_commit_callbacks, "penalties", rows[:2],
                     file_name="again.csv")
    assert again.status == "loaded" and again.created_count == 2, again.message


def test_a_failing_knowledge_index_rolls_the_documents_back(data_admin, ctx, tmp_path, monkeypatch,
                                                           django_capture_on_commit_callbacks) -> None:
    from jianguan.datacenter import knowledge

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("index broken")

    monkeypatch.setattr(knowledge, "reindex", explode)
    rows, _stored = _delivery("knowledge", ctx)
    batch = _deliver(data_admin, tmp_path, django_capture_on_commit_callbacks, "knowledge", rows)
    assert batch.status == "failed" and "index broken" in batch.message
    assert KnowledgeDocument.objects.count() == 0


@pytest.mark.parametrize("name", list(libraries.SPECS))
def test_the_same_rows_delivered_again_change_nothing(name, data_admin, ctx, tmp_path,
                                                      django_capture_on_commit_callbacks) -> None:
    """Every library: the records keep their batch, row and time stamps, and the batch says they are unchanged —
    encrypted fields compared by their plaintext (their tokens differ on every delivery)."""
    rows, _stored = _delivery(name, ctx)
    first = _deliver(data_admin, tmp_path, django_capture_on_commit_callbacks, name, rows)
    assert first.status == "loaded", first.message
    model = libraries.SPECS[name].model
    before = list(model._default_manager.order_by("pk").values())
    again = _deliver(data_admin, tmp_path, django_capture_on_commit_callbacks, name, rows, force=True)
    assert again.status == "loaded", again.message
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 2)
    assert again.rows_loaded == 2 and "未变2" in again.message
    assert list(model._default_manager.order_by("pk").values()) == before


def test_a_change_only_to_an_encrypted_field_is_still_an_update(data_admin, ctx, tmp_path,
                                                               django_capture_on_commit_callbacks) -> None:
    rows, _stored = _delivery("officers", ctx)
    _deliver(data_admin, tmp_path, django_capture_on_commit_callbacks, "officers", rows)
    changed = [{**rows[0], "phone": "13900001111"}, rows[1]]
    again = _deliver(data_admin, tmp_path, django_capture_on_commit_callbacks, "officers", changed,
                     file_name="again.csv")
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 1, 1), again.message
    from jianguan.core.models import EnforcementOfficer

    assert EnforcementOfficer.objects.get(certificate_no=rows[0]["certificate_no"]).phone == "13900001111"
