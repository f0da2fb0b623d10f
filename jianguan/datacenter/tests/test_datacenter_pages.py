"""The data centre's pages: scoped lists and details, upload, live progress, correction, review, query caps."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jianguan.core.models import Subject
from jianguan.core.testing.personas import login_verified
from jianguan.datacenter.models import Batch, Conflict, EntityLink, QuarantinedRow
from jianguan.datacenter.tests.conftest import ingest, make_source, uscc, write_csv

HEADER = ["uscc", "name", "legal_representative", "address", "established_on", "phone"]


@pytest.fixture
def nj(client, nanjing_officer):
    login_verified(client, nanjing_officer)
    return client


@pytest.fixture
def nj_source(nanjing_officer):
    return make_source(nanjing_officer, code="nj-registry", region="320100")


@pytest.fixture
def nj_batch(nanjing_officer, nj_source, tmp_path, django_capture_on_commit_callbacks):
    path = write_csv(tmp_path / "nj.csv", HEADER, [
        [uscc("320106", 81), "南京八十一号有限公司", "张三", "南京市鼓楼区中山路81号", "2019-01-01", "13800000081"],
        [uscc("320106", 82)[:-1] + "0", "南京八十二号有限公司", "李四", "南京市鼓楼区中山路82号", "2019-13-01", ""],
    ])
    return ingest(nj_source, nanjing_officer, path, django_capture_on_commit_callbacks)


def test_every_page_opens_for_a_data_manager(nj, nj_batch) -> None:
    subject = Subject.objects.get(uscc=uscc("320106", 81))
    row = QuarantinedRow.objects.get(batch=nj_batch)
    for url in ("/datacenter/", "/datacenter/sources/", f"/datacenter/sources/{nj_batch.source_id}/",
                f"/datacenter/sources/{nj_batch.source_id}/edit/", "/datacenter/sources/new/",
                "/datacenter/batches/", f"/datacenter/batches/{nj_batch.pk}/", "/datacenter/quarantine/",
                f"/datacenter/quarantine/{row.pk}/", "/datacenter/entities/", f"/datacenter/entities/{subject.pk}/",
                "/datacenter/links/", "/datacenter/conflicts/"):
        response = nj.get(url)
        assert response.status_code == 200, url
    detail = nj.get(f"/datacenter/batches/{nj_batch.pk}/").content.decode()
    assert "南京八十一号有限公司" not in detail and "Quality report" in detail or "质量" in detail
    # the record's page names where its values came from: the batch and row that created it (an entry the record
    # keeps on itself, ADR 0007), the value as delivered and the steps applied
    entity = nj.get(f"/datacenter/entities/{subject.pk}/").content.decode()
    assert f'href="/datacenter/batches/{nj_batch.pk}/">#{nj_batch.pk}</a>' in entity
    assert "市场主体登记系统 · 行 2" in entity  # the header is row 1
    assert "<td>江苏省南京市鼓楼区中山路81号</td>" in entity and "南京市鼓楼区中山路81号</td>" in entity
    assert "补全省市县前缀" in entity


def test_an_outsider_sees_nothing(client, suzhou_officer, nj_batch) -> None:
    login_verified(client, suzhou_officer)
    subject = Subject.objects.get(uscc=uscc("320106", 81))
    row = QuarantinedRow.objects.get(batch=nj_batch)
    for url in (f"/datacenter/sources/{nj_batch.source_id}/", f"/datacenter/batches/{nj_batch.pk}/",
                f"/datacenter/quarantine/{row.pk}/", f"/datacenter/entities/{subject.pk}/"):
        assert client.get(url).status_code == 404, url
    assert "nj-registry" not in client.get("/datacenter/sources/").content.decode()


def test_a_file_uploaded_on_the_source_page_is_processed(nj, nj_source, django_capture_on_commit_callbacks) -> None:
    content = ("uscc,name,address\n" f"{uscc('320106', 91)},南京上传公司,南京市鼓楼区中山路91号\n").encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = nj.post(f"/datacenter/sources/{nj_source.pk}/",
                           {"file": SimpleUploadedFile("upload.csv", content, content_type="text/csv")})
    batch = Batch.objects.get(source=nj_source)
    assert response.status_code == 302 and response["Location"] == f"/datacenter/batches/{batch.pk}/"
    assert batch.status == "loaded" and Subject.objects.filter(uscc=uscc("320106", 91)).exists()


def test_a_running_batch_page_polls_its_status(nj, nj_batch) -> None:
    Batch.objects.filter(pk=nj_batch.pk).update(status="running")
    page = nj.get(f"/datacenter/batches/{nj_batch.pk}/").content.decode()
    assert 'hx-trigger="every 2s"' in page
    partial = nj.get(f"/datacenter/batches/{nj_batch.pk}/", HTTP_HX_REQUEST="true")
    assert partial.content.decode().startswith('\n<div id="batch-status"') or 'id="batch-status"' in \
        partial.content.decode()[:200]
    Batch.objects.filter(pk=nj_batch.pk).update(status="loaded")
    assert 'hx-trigger="every 2s"' not in nj.get(f"/datacenter/batches/{nj_batch.pk}/").content.decode()


def test_a_row_is_corrected_on_its_page_and_rerun(nj, nj_batch, django_capture_on_commit_callbacks) -> None:
    row = QuarantinedRow.objects.get(batch=nj_batch)
    values = {**row.record, "uscc": uscc("320106", 82), "established_on": "2019-12-01"}
    response = nj.post(f"/datacenter/quarantine/{row.pk}/", values)
    assert response.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        response = nj.post(f"/datacenter/batches/{nj_batch.pk}/rerun/")
    assert response.status_code == 302
    assert Subject.objects.filter(uscc=uscc("320106", 82)).exists()


def test_links_and_conflicts_are_reviewed_on_the_pages(nj, nanjing_officer, nj_batch, tmp_path,
                                                       django_capture_on_commit_callbacks) -> None:
    other = make_source(nanjing_officer, code="nj-tax", region="320100", name="税务")
    path = write_csv(tmp_path / "tax.csv", HEADER, [
        [uscc("320106", 81), "南京八十一号科技有限公司", "", "", "", ""],
        ["", "八十一号有限责任公司", "张三", "南京市鼓楼区中山路81号", "", "13800000081"],
    ])
    ingest(other, nanjing_officer, path, django_capture_on_commit_callbacks)
    link = EntityLink.objects.get()
    conflict = Conflict.objects.get()
    subject_page = f"/datacenter/entities/{link.subject_id}/"
    assert nj.post(f"/datacenter/links/{link.pk}/review/", {"decision": "confirm", "next": subject_page})[
        "Location"] == subject_page
    link.refresh_from_db()
    assert link.status == "confirmed"
    assert nj.post(f"/datacenter/links/{link.pk}/review/", {"decision": "x", "next": "https://evil.example/"})[
        "Location"] == "/datacenter/links/"
    nj.post(f"/datacenter/conflicts/{conflict.pk}/resolve/", {"apply": "1"})
    conflict.refresh_from_db()
    assert conflict.status == "applied"
    assert Subject.objects.get(uscc=uscc("320106", 81)).name == "南京八十一号科技有限公司"


def test_lists_use_a_fixed_number_of_queries(client, data_admin, tmp_path, django_capture_on_commit_callbacks,
                                             django_assert_max_num_queries) -> None:
    source = make_source(data_admin, code="many")
    for i in range(11):
        path = write_csv(tmp_path / f"f{i}.csv", HEADER, [
            [uscc("320106", 900 + i), f"南京{i}号公司", "", "", "", ""],
            [uscc("320106", 950 + i)[:-1] + "0", f"南京坏{i}号公司", "", "", "", ""],
        ])
        ingest(source, data_admin, path, django_capture_on_commit_callbacks)
    login_verified(client, data_admin)
    for url in ("/datacenter/batches/", "/datacenter/sources/", "/datacenter/quarantine/", "/datacenter/links/",
                "/datacenter/conflicts/", "/datacenter/entities/", "/datacenter/"):
        with django_assert_max_num_queries(20):
            assert client.get(url).status_code == 200, url


def test_the_libraries_and_the_knowledge_search_pages_open(nj, nanjing_officer) -> None:
    from jianguan.datacenter import knowledge
    from jianguan.datacenter.models import KnowledgeDocument

    doc = KnowledgeDocument.objects.create(doc_no="国务院令第654号", kind="regulation", title="企业信息公示暂行条例",
                                           body="企业应当于每年1月1日至6月30日报送年度报告。")
    knowledge.reindex([doc])
    assert nj.get("/datacenter/libraries/").status_code == 200
    for name in ("catalog", "penalties", "complaints", "knowledge"):
        assert nj.get(f"/datacenter/libraries/{name}/").status_code == 200, name
    assert nj.get("/datacenter/libraries/nonsense/").status_code == 404
    page = nj.get("/datacenter/libraries/knowledge/search/", {"q": "年度报告"}).content.decode()
    assert "企业信息公示暂行条例" in page
