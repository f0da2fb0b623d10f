"""The catalogue pages: list with filters, item detail with history, edit with validation, review with the diff,
publish, abolish, basis revision, import with the error report, national alignment, implementation lists."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jianguan.catalog import services
from jianguan.catalog.choices import ItemState, VersionStatus
from jianguan.catalog.models import ImplementationItem, ImportBatch, ItemVersion, NationalItem, SupervisionItem
from jianguan.catalog.tests.factories import (
    agency_with_uscc,
    make_basis,
    new_item,
    published_item,
    published_sub_item,
)
from jianguan.catalog.tests.spreadsheets import DRUG, read_rows, row, xlsx
from jianguan.core.testing.personas import login_verified


@pytest.fixture
def as_editor(client, province_editor):
    login_verified(client, province_editor)
    return client


@pytest.fixture
def as_reviewer(client, province_reviewer):
    login_verified(client, province_reviewer)
    return client


def _formset(prefix="citations", rows=()):
    data = {f"{prefix}-TOTAL_FORMS": str(max(len(rows), 1)), f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "20"}
    for i, values in enumerate(rows):
        for key, value in values.items():
            data[f"{prefix}-{i}-{key}"] = value
    return data


def test_the_list_filters_by_keyword_inside_names_and_bases(as_editor) -> None:
    published_item("对食品生产者的监督检查")
    published_item("对药品经营企业的监督检查", basis=make_basis("药品经营和使用质量监督管理办法", "dept_rule"))
    response = as_editor.get(reverse("catalog:item_list"), {"q": "药品经营和使用"})
    body = response.content.decode()
    assert "对药品经营企业的监督检查" in body and "对食品生产者的监督检查" not in body
    partial = as_editor.get(reverse("catalog:item_list"), {"q": "生产者"}, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode() and "对食品生产者的监督检查" in partial.content.decode()


def test_the_list_has_a_query_budget(as_editor, django_assert_max_num_queries) -> None:
    for i in range(22):
        item = new_item(f"事项{i}")
        if i % 2:
            services.create_sub_item(item, actor=services.SYSTEM, content=services.ItemContent(name=f"子项{i}"))
    with django_assert_max_num_queries(16):
        response = as_editor.get(reverse("catalog:item_list"))
    assert response.status_code == 200
    assert response.content.decode().count("/catalog/items/") >= 30


def test_an_editor_creates_an_item_with_citations_and_chinese_validation(as_editor) -> None:
    basis = make_basis()
    url = reverse("catalog:item_create")
    empty = as_editor.post(url, {"department_kind": "001", "method": "01", "name": "", **_formset()})
    assert empty.status_code == 200
    assert "该字段是必填项。" in empty.content.decode()
    bad = as_editor.post(url, {"department_kind": "001", "method": "01", "name": "对食品生产者的监督检查",
                               **_formset(rows=[{"article": "第十条"}])})
    assert "请选择该依据所引用的法律法规。" in bad.content.decode()
    response = as_editor.post(url, {
        "department_kind": "001", "method": "01", "name": "对食品生产者的监督检查", "measures": "现场检查",
        "targets": "食品生产者", "process": "检查", "result": "公开", "levels": ["province", "city"],
        **_formset(rows=[{"basis": str(basis.pk), "article": "第一百一十条", "text": "有权进行现场检查。"}]),
    })
    item = SupervisionItem.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("catalog:item_detail", args=[item.pk])
    assert item.main_code == "32001010001"
    assert [c.article for c in item.latest_version.citations.all()] == ["第一百一十条"]
    assert item.latest_version.levels == ["province", "city"]


def test_the_create_form_offers_only_the_editors_department(as_editor) -> None:
    body = as_editor.get(reverse("catalog:item_create")).content.decode()
    assert "江苏省市场监督管理局" in body and "江苏省生态环境厅" not in body


def test_an_incomplete_draft_cannot_be_submitted_and_says_why(as_editor) -> None:
    item = services.create_item(actor=services.SYSTEM, department_kind=services.DepartmentKind.objects.get(
        code="001"), method="01", content=services.ItemContent(name="未填完的事项"))
    response = as_editor.post(reverse("catalog:version_step", args=[item.latest_version.pk, "submit"]), follow=True)
    assert "内容不完整：请填写监管措施。" in response.content.decode()


def test_the_whole_review_through_the_pages(client, province_editor, province_reviewer) -> None:
    item = published_item("对食品生产者的监督检查")
    login_verified(client, province_editor)
    response = client.post(reverse("catalog:item_revise", args=[item.pk]), {"reason": "法律修正"})
    revision = ItemVersion.objects.get(item=item, number=2)
    assert response["Location"] == reverse("catalog:version_edit", args=[revision.pk])
    edit = client.get(response["Location"])
    assert "有权进行现场检查" in edit.content.decode()
    basis = item.current_version.citations.get().basis
    client.post(response["Location"], {
        "name": "对食品生产者的监督检查", "measures": "现场检查、飞行检查", "targets": "食品生产者", "process": "检查",
        "result": "公开", "levels": ["province"], "reason": "增加飞行检查",
        **_formset(rows=[{"basis": str(basis.pk), "article": "第一百一十条", "text": "有权进行现场检查。"}]),
    })
    client.post(reverse("catalog:version_step", args=[revision.pk, "submit"]))
    login_verified(client, province_reviewer)
    page = client.get(reverse("catalog:version_detail", args=[revision.pk])).content.decode()
    assert 'data-field="measures"' in page and "现场检查、飞行检查" in page
    assert '<tr class="changed" data-field="measures">' in page
    assert '<tr class="same" data-field="name">' in page
    client.post(reverse("catalog:version_step", args=[revision.pk, "approve"]), {"comment": "同意"})
    client.post(reverse("catalog:version_step", args=[revision.pk, "publish"]))
    item.refresh_from_db()
    assert item.current_version.pk == revision.pk
    detail = client.get(reverse("catalog:item_detail", args=[item.pk])).content.decode()
    assert "增加飞行检查" in detail and "同意" in detail  # the history timeline


def test_the_review_queue_lists_submitted_versions(as_reviewer) -> None:
    item = new_item("待审核的事项")
    services.submit_version(item.latest_version, actor=services.SYSTEM)
    assert "待审核的事项" in as_reviewer.get(reverse("catalog:review_queue")).content.decode()


def test_a_reviewer_abolishes_with_reason_and_date(as_reviewer) -> None:
    item = published_item()
    url = reverse("catalog:item_abolish", args=[item.pk])
    response = as_reviewer.post(url, {"reason": "", "abolished_on": ""})
    assert response.status_code == 200 and "该字段是必填项。" in response.content.decode()
    as_reviewer.post(url, {"reason": "法律废止", "abolished_on": "2025-01-01"})
    item.refresh_from_db()
    assert item.state == ItemState.ABOLISHED


def test_another_department_gets_404_on_actions(client, ecology_editor) -> None:
    item = new_item()
    login_verified(client, ecology_editor)
    assert client.get(reverse("catalog:item_detail", args=[item.pk])).status_code == 200  # the catalogue is shared
    assert client.get(reverse("catalog:version_edit", args=[item.latest_version.pk])).status_code == 404
    assert client.post(reverse("catalog:version_step", args=[item.latest_version.pk, "submit"])).status_code == 404


def test_revising_the_items_citing_a_basis_together(as_editor) -> None:
    old = make_basis("江苏省食品小作坊和食品摊贩管理条例", "local_regulation")
    new = make_basis("江苏省食品小作坊和食品摊贩管理条例（修正）", "local_regulation")
    a = published_item("对食品小作坊的监督检查", basis=old)
    b = published_item("对食品摊贩的监督检查", basis=old)
    url = reverse("catalog:basis_detail", args=[old.pk])
    page = as_editor.get(url).content.decode()
    assert "2 项事项引用" in page
    as_editor.post(url, {"items": [str(a.pk), str(b.pk)], "reason": "条例修正", "replace_with": str(new.pk),
                         "submit": "on"})
    for item in (a, b):
        version = ItemVersion.objects.get(item=item, number=2)
        assert version.status == VersionStatus.SUBMITTED
        assert version.citations.get().basis == new


def test_import_page_shows_the_counts_and_the_error_report(as_editor) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = xlsx([row("对药品经营企业的监督检查", basis=DRUG), row("对化妆品的监督检查", method="指导")])
    upload = SimpleUploadedFile("目录.xlsx", data)
    response = as_editor.post(reverse("catalog:import"), {"file": upload})
    batch = ImportBatch.objects.get()
    assert response["Location"] == reverse("catalog:import_detail", args=[batch.pk])
    page = as_editor.get(response["Location"]).content.decode()
    assert "监管方式“指导”无法识别" in page
    report = as_editor.get(reverse("catalog:import_report", args=[batch.pk]))
    assert report["Content-Type"].startswith("application/vnd.openxmlformats")
    assert read_rows(report.content)[1][1:3] == [3, "监管方式"]


def test_export_downloads_xlsx_and_json(as_editor) -> None:
    published_item("对药品经营企业的监督检查")
    xlsx_response = as_editor.get(reverse("catalog:export"), {"file_type": "xlsx"})
    assert read_rows(xlsx_response.content)[1][1] == "对药品经营企业的监督检查"
    json_response = as_editor.get(reverse("catalog:export"), {"file_type": "json"})
    assert json_response.json()["rows"][0]["main_name"] == "对药品经营企业的监督检查"


def test_the_national_page_loads_maps_and_builds_the_push_package(as_reviewer) -> None:
    import json

    from django.core.files.uploadedfile import SimpleUploadedFile

    published_item("对食品生产者的监督检查")
    published_item("对药品经营企业的监督检查")
    national = json.dumps({"edition": "2024", "items": [{"code": "N001", "name": "对食品生产者的监督检查"},
                                                         {"code": "N002", "name": "对特种设备的监督检查"}]},
                          ensure_ascii=False).encode()
    as_reviewer.post(reverse("catalog:national"), {"file": SimpleUploadedFile("national.json", national)})
    assert NationalItem.objects.count() == 2
    as_reviewer.post(reverse("catalog:national"), {"auto_map": "1"})
    page = as_reviewer.get(reverse("catalog:national")).content.decode()
    assert "对药品经营企业的监督检查" in page and "对特种设备的监督检查" in page
    package = as_reviewer.get(reverse("catalog:push_package"))
    assert package.json()["items"][0]["national_code"] == "N001"


def test_a_city_editor_creates_its_implementation_list(client, nanjing_editor) -> None:
    item = published_item()
    login_verified(client, nanjing_editor)
    org = agency_with_uscc("320100")
    response = client.post(reverse("catalog:implementation_create"), {
        "item_code": item.code, "organization": str(org.pk), "place": "南京市建邺区江东中路265号",
    })
    implementation = ImplementationItem.objects.get()
    assert response["Location"] == reverse("catalog:implementation_detail", args=[implementation.pk])
    assert implementation.code == f"{org.uscc}3{item.code}"


def test_an_outsider_city_gets_404_for_another_citys_implementation_list(client, nanjing_editor,
                                                                        suzhou_editor) -> None:
    implementation = services.create_implementation(actor=nanjing_editor, item=published_item(),
                                                    organization=agency_with_uscc("320100"))
    login_verified(client, suzhou_editor)
    assert client.get(reverse("catalog:implementation_detail", args=[implementation.pk])).status_code == 404
    assert client.get(reverse("catalog:implementation_edit", args=[implementation.pk])).status_code == 404


def test_the_implementation_list_has_a_query_budget(client, nanjing_editor, django_assert_max_num_queries) -> None:
    org = agency_with_uscc("320100")
    main = published_item()
    for i in range(21):
        sub = published_sub_item(main, f"子项{i}")
        services.create_implementation(actor=nanjing_editor, item=sub, organization=org)
    login_verified(client, nanjing_editor)
    with django_assert_max_num_queries(16):
        response = client.get(reverse("catalog:implementation_list"))
    assert response.content.decode().count("/catalog/implementations/") >= 21
