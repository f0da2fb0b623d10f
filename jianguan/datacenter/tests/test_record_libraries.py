"""The record libraries (监管行为, 执法人员, 信用, 互联网及第三方, 监管知识): documented schemas, checked rows,
quarantine, provenance, and the knowledge library's Chinese full-text search."""

from __future__ import annotations

import json

import pytest

from jianguan.core.errors import DomainError
from jianguan.core.models import EnforcementOfficer
from jianguan.core.testing.personas import make_org
from jianguan.datacenter import knowledge, services
from jianguan.datacenter.models import (
    AdministrativePenalty,
    CreditRecord,
    KnowledgeDocument,
    QuarantinedRow,
)
from jianguan.datacenter.tests.conftest import ingest, make_source, uscc, write_csv
from jianguan.lib.validators import make_id_number

PENALTY_HEADER = ["监管事项目录编码", "处罚行为编号", "处罚行为名称", "实施机构", "实施机构编码", "行政相对人名称",
                  "行政相对人性质", "证件类型", "行政相对人编码", "行政区划代码", "检查行为编号", "处罚程序",
                  "处罚立案时间", "处罚文书号", "作出行政处罚决定日期", "处罚种类", "罚款金额", "结案日期", "报送时间",
                  "是否听证"]


def _penalty(no: str, code: str, **kw: str) -> list[str]:
    row = {"item": "32001030010001", "no": no, "name": "未按规定公示年度报告", "agency": "南京市鼓楼区市场监督管理局",
           "agency_code": "", "party": "南京鼓楼一号有限公司", "nature": "法人", "cred": "统一社会信用代码",
           "code": code, "region": "320106", "insp": f"JC{no}", "proc": "普通", "filed": "2026-03-01 09:00",
           "doc": f"宁鼓市监罚〔2026〕{no[-3:]}号", "decided": "2026-04-01", "kind": "罚款", "fine": "5,000.00",
           "closed": "2026-05-01", "reported": "2026-05-02 10:00", "hearing": "否"}
    row.update(kw)
    return list(row.values())


def test_penalties_are_checked_against_domain_rules_and_stamped_with_their_row(
        data_admin, tmp_path, django_capture_on_commit_callbacks) -> None:
    source = make_source(data_admin, code="nj-penalties", library="behaviours", options={"behaviour": "penalties"})
    person = make_id_number("32010619850101001")
    path = write_csv(tmp_path / "penalties.csv", PENALTY_HEADER, [
        _penalty("CF2026001", uscc("320106", 1)),
        _penalty("CF2026002", person, party="张三", nature="自然人", cred="身份证"),
        _penalty("CF2026003", uscc("320106", 3), item="3200103001000"),
        _penalty("CF2026004", uscc("320106", 4), closed="2026-02-01"),
        _penalty("CF2026005", uscc("320106", 5), hearing="也许"),
    ])
    batch = ingest(source, data_admin, path, django_capture_on_commit_callbacks)
    assert batch.status == "loaded", batch.message
    assert batch.created_count == 2 and batch.rows_quarantined == 3
    first = AdministrativePenalty.objects.get(behaviour_no="CF2026001")
    assert first.batch == batch and first.row_no == 2 and first.fine_amount == 5000
    assert first.item_code == "32001030010001" and first.party_uscc == uscc("320106", 1)
    second = AdministrativePenalty.objects.get(behaviour_no="CF2026002")
    assert second.party_uscc == "" and second.party_id_number == person  # stored encrypted, read in clear
    problems = {q.row_no: [e["code"] for e in q.errors] for q in QuarantinedRow.objects.filter(batch=batch)}
    assert problems[4] == ["catalog_code.length"]
    assert "closed_on.order" in problems[5]
    assert problems[6] == ["hearing.invalid"]


def test_a_corrected_penalty_is_rerun_with_the_library_schema(data_admin, tmp_path,
                                                              django_capture_on_commit_callbacks) -> None:
    source = make_source(data_admin, code="nj-penalties", library="behaviours", options={"behaviour": "penalties"})
    path = write_csv(tmp_path / "p.csv", PENALTY_HEADER, [_penalty("CF2026009", uscc("320106", 9), fine="很多")])
    batch = ingest(source, data_admin, path, django_capture_on_commit_callbacks)
    row = QuarantinedRow.objects.get(batch=batch)
    services.correct_row(row, actor=data_admin, values={"fine_amount": "3000"})
    with django_capture_on_commit_callbacks(execute=True):
        rerun = services.rerun_corrections(batch, actor=data_admin)
    rerun.refresh_from_db()
    assert rerun.status == "loaded" and rerun.created_count == 1
    assert AdministrativePenalty.objects.get(behaviour_no="CF2026009").row_no == 2


def test_officers_are_filled_into_the_kernel_register(data_admin, tmp_path, django_capture_on_commit_callbacks) -> None:
    org = make_org("320106")
    source = make_source(data_admin, code="officers", library="officers")
    person = make_id_number("32010619800101002")
    header = ["执法证号", "姓名", "身份证号码", "所属部门编码", "执法领域", "手机号码"]
    path = write_csv(tmp_path / "officers.csv", header, [
        ["32001000001", "王执法", person, org.code, "market,food", "13900000001"],
        ["32001000002", "李执法", "123", org.code, "market", ""],
    ])
    batch = ingest(source, data_admin, path, django_capture_on_commit_callbacks)
    officer = EnforcementOfficer.objects.get(certificate_no="32001000001")
    assert officer.id_number == person and officer.region_id == "320106" and officer.fields == ["market", "food"]
    assert batch.rows_quarantined == 1


def test_credit_records_link_to_their_entity(data_admin, source, tmp_path, django_capture_on_commit_callbacks) -> None:
    from jianguan.core.testing.personas import make_subject

    subject = make_subject("320106")
    credit = make_source(data_admin, code="credit", library="credit")
    header = ["记录编号", "信用信息类别", "统一社会信用代码", "主体名称", "决定机关", "决定日期", "行政区划代码",
              "事由"]
    path = write_csv(tmp_path / "credit.csv", header, [
        ["YC-1", "经营异常名录", subject.uscc, subject.name, "南京市鼓楼区市场监督管理局", "2026-07-10", "320106",
         "未按规定报送年度报告"],
    ])
    ingest(credit, data_admin, path, django_capture_on_commit_callbacks)
    record = CreditRecord.objects.get(record_no="YC-1")
    assert record.kind == "abnormal_list" and record.subject == subject


def test_event_fed_libraries_refuse_deliveries(data_admin, tmp_path) -> None:
    source = make_source(data_admin, code="cat", library="catalog")
    with pytest.raises(DomainError):
        services.submit_file(source, actor=data_admin, path=write_csv(tmp_path / "x.csv", ["a"], [["1"]]),
                             file_name="x.csv")


def test_the_knowledge_library_is_searched_in_chinese(data_admin, suzhou_officer, tmp_path,
                                                      django_capture_on_commit_callbacks) -> None:
    source = make_source(data_admin, code="laws", library="knowledge", file_format="jsonl")
    docs = [
        {"文号": "国务院令第654号", "类别": "行政法规", "标题": "企业信息公示暂行条例", "发布机关": "国务院",
         "正文": "企业应当于每年1月1日至6月30日，通过企业信用信息公示系统向市场监督管理部门报送上一年度年度报告。"},
        {"文号": "总局令第45号", "类别": "部门规章", "标题": "市场监督管理行政处罚信息公示规定",
         "正文": "市场监督管理部门应当公示行政处罚信息，行政处罚决定书应当在作出之日起二十个工作日内公示。"},
        {"文号": "案例2026-1", "类别": "典型案例", "标题": "某食品公司虚假宣传案",
         "正文": "当事人在网络平台发布虚假宣传内容，市场监督管理部门依法作出罚款的行政处罚。"},
    ]
    path = tmp_path / "laws.jsonl"
    path.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in docs), encoding="utf-8")
    batch = ingest(source, data_admin, path, django_capture_on_commit_callbacks)
    assert batch.created_count == 3, batch.message
    visible = KnowledgeDocument.objects.visible_to(data_admin, "view")
    hits = knowledge.search(visible, "行政处罚信息公示")
    assert hits[0]["doc_no"] == "总局令第45号"
    assert {h["doc_no"] for h in knowledge.search(visible, "年度报告")} == {"国务院令第654号"}
    assert knowledge.search(visible, "虚假宣传")[0]["kind"] == "case"
    # Shared knowledge: a 苏州 officer finds it too; a user without the permission does not.
    assert knowledge.search(KnowledgeDocument.objects.visible_to(suzhou_officer, "view"), "年度报告")
    from jianguan.core.testing.personas import MARKET, make_user

    nobody = make_user("nobody", "320100", MARKET, [])
    assert knowledge.search(KnowledgeDocument.objects.visible_to(nobody, "view"), "年度报告") == []


def test_library_records_are_served_by_the_api_with_personal_data_masked(
        data_admin, suzhou_officer, tmp_path, django_capture_on_commit_callbacks) -> None:
    from rest_framework.test import APIClient

    source = make_source(data_admin, code="nj-penalties", library="behaviours", options={"behaviour": "penalties"})
    person = make_id_number("32010619850101001")
    path = write_csv(tmp_path / "penalties.csv", PENALTY_HEADER, [
        _penalty("CF2026002", person, party="张三", nature="自然人", cred="身份证")])
    ingest(source, data_admin, path, django_capture_on_commit_callbacks)
    client = APIClient()
    client.force_authenticate(user=data_admin)
    rows = client.get("/api/v1/datacenter/libraries/penalties/").json()["results"]
    assert rows[0]["behaviour_no"] == "CF2026002"
    assert rows[0]["party_id_masked"] == person[:4] + "*" * 10 + person[-4:]
    assert person not in str(rows)
    client.force_authenticate(user=suzhou_officer)
    assert client.get("/api/v1/datacenter/libraries/penalties/").json()["results"] == []
