"""``/api/v1/catalog/…``: the same services through REST, scope respected, published versions only in public."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from jianguan.catalog import push, services
from jianguan.catalog.choices import ItemState, VersionStatus
from jianguan.catalog.models import SupervisionItem
from jianguan.catalog.tests.factories import (
    agency_with_uscc,
    make_basis,
    new_item,
    published_item,
    published_sub_item,
)
from jianguan.catalog.tests.spreadsheets import DRUG, read_rows, row, xlsx
from jianguan.core.testing.personas import make_user
from jianguan.core.testing.scope_matrix import assert_error, assert_scope_matrix, call, list_ids


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def viewer(db):
    """A county inspector: may read the catalogue, may change nothing in it."""
    return make_user("gulou_viewer", "320106", roles=["inspector"])


@pytest.fixture
def suzhou_reviewer(db):
    """A reviewer in the outsider city: the provincial catalogue is outside their edit scope."""
    return make_user("suzhou_reviewer", "320500", "011", ["catalog_reviewer"])


def version_url(version, step: str) -> str:
    return reverse(f"api:catalog-version-{step}", args=[version.pk])


def test_every_account_with_the_view_permission_reads_the_whole_catalogue(api, viewer, suzhou_editor) -> None:
    a, b = published_item(), published_item(kind_code="002")
    expected = {a.pk, b.pk}
    assert list_ids(api, viewer, reverse("api:catalog-item-list")) == expected
    assert list_ids(api, suzhou_editor, reverse("api:catalog-item-list")) == expected
    assert call(api, suzhou_editor, "get", reverse("api:catalog-item-detail", args=[a.pk])).status_code == 200


def test_the_item_list_filters_by_keyword_department_method_and_level(api, viewer) -> None:
    food = published_item("对食品生产者的监督检查")
    published_item("对排污单位的监督检查", kind_code="002", method="02", levels=("province",))
    url = reverse("api:catalog-item-list")
    assert list_ids(api, viewer, url, q="生产者") == {food.pk}
    assert list_ids(api, viewer, url, department="001") == {food.pk}
    assert list_ids(api, viewer, url, method="01") == {food.pk}
    assert list_ids(api, viewer, url, level="county") == {food.pk}


def test_lists_have_a_query_budget(api, viewer, nanjing_editor, django_assert_max_num_queries) -> None:
    main = published_item()
    org = agency_with_uscc("320100")
    for i in range(21):
        sub = published_sub_item(main, f"子项{i}")
        services.create_implementation(actor=nanjing_editor, item=sub, organization=org)
    for name, user in (("api:catalog-item-list", viewer), ("api:catalog-version-list", viewer),
                       ("api:catalog-implementation-list", nanjing_editor)):
        api.force_authenticate(user)
        with django_assert_max_num_queries(10):
            response = api.get(reverse(name), {"page_size": 100})
        assert response.status_code == 200 and response.json()["count"] >= 21, name
    api.force_authenticate(None)
    with django_assert_max_num_queries(6):
        response = api.get(reverse("api:catalog-public-item-list"), {"page_size": 100})
    assert response.json()["count"] == 21


def test_an_editor_creates_an_item_and_a_sub_item(api, province_editor) -> None:
    basis = make_basis()
    body = {"department_code": "001", "method": "01", "name": "对食品生产经营活动的监督检查"}
    response = call(api, province_editor, "post", reverse("api:catalog-item-list"), body)
    assert response.status_code == 201, response.content
    item = response.json()
    assert item["code"] == "32001010001000" and item["main_code"] == "32001010001"
    assert item["latest_version"]["status"] == "draft"
    sub = call(api, province_editor, "post", reverse("api:catalog-item-sub-items", args=[item["id"]]), {
        "name": "对食品生产者的监督检查", "measures": "现场检查", "targets": "食品生产者", "process": "检查",
        "result": "公开", "levels": ["province", "city"],
        "citations": [{"basis": basis.pk, "article": "第一百一十条", "text": "有权进行现场检查。"}],
    })
    assert sub.status_code == 201 and sub.json()["code"] == "32001010001001"


def test_another_department_may_not_create_an_item_of_this_department(api, ecology_editor) -> None:
    response = call(api, ecology_editor, "post", reverse("api:catalog-item-list"),
                    {"department_code": "001", "method": "01", "name": "越权事项"})
    assert_error(response, 403, "scope.department")
    assert not SupervisionItem.objects.exists()


def test_a_city_editor_may_not_create_provincial_items(api, nanjing_editor) -> None:
    response = call(api, nanjing_editor, "post", reverse("api:catalog-item-list"),
                    {"department_code": "001", "method": "01", "name": "越权事项"})
    assert_error(response, 403, "scope.region")


def test_submit_scope_matrix(api, province_editor, ecology_editor, viewer) -> None:
    item = new_item()
    assert_scope_matrix(api, method="post", url=version_url(item.latest_version, "submit"), data={},
                        outsider=ecology_editor, without_permission=viewer, with_permission=province_editor)


def test_approve_and_publish_scope_matrix(api, province_editor, province_reviewer, suzhou_reviewer) -> None:
    item = new_item()
    version = services.submit_version(item.latest_version, actor=services.SYSTEM)
    assert_scope_matrix(api, method="post", url=version_url(version, "approve"), data={"comment": "同意"},
                        outsider=suzhou_reviewer, without_permission=province_editor,
                        with_permission=province_reviewer)
    response = assert_scope_matrix(api, method="post", url=version_url(version, "publish"), data={},
                                   outsider=suzhou_reviewer, without_permission=province_editor,
                                   with_permission=province_reviewer)
    assert response.json()["status"] == "published"


def test_edit_draft_scope_matrix_and_optimistic_lock(api, province_editor, ecology_editor, viewer) -> None:
    item = new_item()
    url = reverse("api:catalog-version-detail", args=[item.latest_version.pk])
    body = {"name": "改名后的事项", "reason": "规范名称"}
    response = assert_scope_matrix(api, method="patch", url=url, data=body, outsider=ecology_editor,
                                   without_permission=viewer, with_permission=province_editor)
    assert response.json()["name"] == "改名后的事项"
    stale = call(api, province_editor, "patch", url, {**body, "expected_updated_at": "2020-01-01T00:00:00Z"})
    assert_error(stale, 409, "catalog.conflict")


def test_abolish_scope_matrix(api, province_reviewer, suzhou_reviewer, province_editor) -> None:
    item = published_item()
    response = assert_scope_matrix(api, method="post", url=reverse("api:catalog-item-abolish", args=[item.pk]),
                                   data={"reason": "职能调整", "abolished_on": "2025-01-01"},
                                   outsider=suzhou_reviewer, without_permission=province_editor,
                                   with_permission=province_reviewer)
    assert response.json()["state"] == ItemState.ABOLISHED


def test_the_review_diff_and_history(api, province_editor, viewer) -> None:
    item = published_item("对食品生产者的监督检查")
    revision = call(api, province_editor, "post", reverse("api:catalog-item-revise", args=[item.pk]),
                    {"reason": "法律修正"}).json()
    call(api, province_editor, "patch", reverse("api:catalog-version-detail", args=[revision["id"]]),
         {"name": "对食品生产企业的监督检查", "reason": "规范名称"})
    diff = call(api, viewer, "get", reverse("api:catalog-version-diff", args=[revision["id"]])).json()
    changes = {c["field"]: c for c in diff["changes"]}
    assert diff["based_on"] == 1 and diff["version"] == 2
    assert changes["name"] == {"field": "name", "label": "名称", "before": "对食品生产者的监督检查",
                               "after": "对食品生产企业的监督检查", "changed": True}
    assert changes["measures"]["changed"] is False
    history = call(api, viewer, "get", reverse("api:catalog-item-history", args=[item.pk])).json()
    assert [h["action"] for h in history][-2:] == ["revision_started", "edited"]
    assert history[-1]["comment"] == "规范名称"


def test_returning_needs_a_comment(api, province_reviewer) -> None:
    item = new_item()
    version = services.submit_version(item.latest_version, actor=services.SYSTEM)
    body = assert_error(call(api, province_reviewer, "post", version_url(version, "reject"), {}), 400,
                        "catalog.reject_comment")
    assert body["message"] == "退回须填写审核意见。"


def test_implementation_lists_scope_matrix(api, nanjing_editor, suzhou_editor) -> None:
    item = published_item()
    org = agency_with_uscc("320100")
    created = call(api, nanjing_editor, "post", reverse("api:catalog-implementation-list"),
                   {"item": item.pk, "organization": org.pk, "place": "南京市建邺区江东中路265号"})
    assert created.status_code == 201, created.content
    assert created.json()["code"] == f"{org.uscc}3{item.code}"
    nanjing_inspector = make_user("nanjing_inspector", "320100", roles=["inspector"])
    url = reverse("api:catalog-implementation-detail", args=[created.json()["id"]])
    assert_scope_matrix(api, method="patch", url=url, data={"contact_phone": "025-12315"}, outsider=suzhou_editor,
                        without_permission=nanjing_inspector, with_permission=nanjing_editor)
    assert list_ids(api, suzhou_editor, reverse("api:catalog-implementation-list")) == set()


def test_a_city_editor_cannot_create_another_citys_list(api, nanjing_editor) -> None:
    item = published_item()
    org = agency_with_uscc("320500")
    response = call(api, nanjing_editor, "post", reverse("api:catalog-implementation-list"),
                    {"item": item.pk, "organization": org.pk})
    assert_error(response, 400, "validation")


def test_the_public_catalogue_shows_only_published_versions(api) -> None:
    published = published_item("对食品生产者的监督检查")
    new_item("尚未发布的事项")
    revision = services.start_revision(published, actor=services.SYSTEM, reason="修订中")
    services.update_draft(revision, actor=services.SYSTEM, content=services.content_of(revision).__class__(
        name="修订中的新名称", measures="草稿中的措施", targets="x", process="x", result="x", levels=("city",),
        citations=services.content_of(revision).citations))
    body = api.get(reverse("api:catalog-public-item-list")).json()
    assert [r["code"] for r in body["results"]] == [published.code]
    entry = body["results"][0]
    assert entry["main_name"] == "对食品生产者的监督检查" and entry["version"] == 1
    assert entry["measures"] == "现场检查、抽样检验、查阅复制有关合同票据"
    assert "草稿中的措施" not in json.dumps(body, ensure_ascii=False)
    detail = api.get(reverse("api:catalog-public-item-detail", args=[published.code]))
    assert detail.status_code == 200 and detail.json()["basis"][0]["name"] == "中华人民共和国食品安全法"
    draft = SupervisionItem.objects.get(name="尚未发布的事项")
    assert api.get(reverse("api:catalog-public-item-detail", args=[draft.code])).status_code == 404


def test_the_public_search_finds_words_inside_names_and_bases(api) -> None:
    a = published_item("对食品生产者的监督检查")
    b = published_item("对药品经营企业的监督检查", basis=make_basis("药品经营和使用质量监督管理办法", "dept_rule"))
    url = reverse("api:catalog-public-item-list")
    codes = lambda **p: {r["code"] for r in api.get(url, p).json()["results"]}  # noqa: E731
    assert codes(q="生产者") == {a.code}
    assert codes(q="质量监督管理") == {b.code}
    assert codes(target="食品生产经营者") == {a.code, b.code}


def test_the_public_catalogue_is_throttled(api, monkeypatch) -> None:
    from jianguan.core.api.throttling import AnonRateThrottle

    cache.clear()
    monkeypatch.setattr(AnonRateThrottle, "rate", "2/min", raising=False)
    url = reverse("api:catalog-public-item-list")
    assert [api.get(url).status_code for _ in range(3)] == [200, 200, 429]
    cache.clear()


def test_import_export_and_error_report_through_the_api(api, province_editor) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = xlsx([row("对药品经营企业的监督检查", basis=DRUG), row("对化妆品的监督检查", method="指导")])
    api.force_authenticate(province_editor)
    response = api.post(reverse("api:catalog-import-list"), {"file": SimpleUploadedFile("目录.xlsx", data)},
                        format="multipart")
    assert response.status_code == 201, response.content
    batch = response.json()
    assert (batch["created_count"], batch["error_count"], batch["status"]) == (1, 1, "partial")
    reason = "监管方式“指导”无法识别（应为行政检查、行政处罚、行政强制、行政许可后监管、其他之一）"
    assert batch["errors"][0] == {"sheet": "监管事项目录清单", "row": 3, "column": "监管方式", "reason": reason}
    report = api.get(reverse("api:catalog-import-report", args=[batch["id"]]))
    assert read_rows(report.content)[1][1:3] == [3, "监管方式"]
    exported = api.get(reverse("api:catalog-export"), {"file_type": "json", "status": "latest"})
    assert exported.json()["rows"][0]["main_name"] == "对药品经营企业的监督检查"
    api.force_authenticate(None)


def test_the_push_package_endpoint(api, province_reviewer, viewer) -> None:
    published_item()
    assert_error(call(api, viewer, "get", reverse("api:catalog-push-package")), 403, "permission.denied")
    response = call(api, province_reviewer, "get", reverse("api:catalog-push-package"))
    assert push.validate_push_package(json.loads(response.content)) == []


def test_revising_the_items_citing_a_basis_through_the_api(api, province_editor) -> None:
    old = make_basis("江苏省食品小作坊和食品摊贩管理条例", "local_regulation")
    a = published_item("对食品小作坊的监督检查", basis=old)
    citing = call(api, province_editor, "get", reverse("api:catalog-basis-citing-items", args=[old.pk])).json()
    assert [i["id"] for i in citing] == [a.pk]
    outcomes = call(api, province_editor, "post", reverse("api:catalog-basis-revise-citing", args=[old.pk]),
                    {"reason": "条例修正", "submit": True}).json()
    assert outcomes[0]["outcome"] == "started"
    assert a.versions.get(number=2).status == VersionStatus.SUBMITTED


def test_national_mapping_through_the_api(api, province_editor, ecology_editor) -> None:
    from jianguan.catalog.models import NationalItem

    item = published_item("对食品生产者的监督检查")
    national = NationalItem.objects.create(code="N001", name="对食品生产者的监督检查")
    assert_error(call(api, ecology_editor, "post", reverse("api:catalog-mapping-list"),
                      {"item": item.pk, "national_item": national.pk}), 404, "not_found")
    created = call(api, province_editor, "post", reverse("api:catalog-mapping-list"),
                   {"item": item.pk, "national_item": national.pk})
    assert created.status_code == 201
    report = call(api, province_editor, "get", reverse("api:catalog-alignment-report")).json()
    assert report["mapped"] == 1 and report["local_unmapped"] == []
    mapping_url = reverse("api:catalog-mapping-detail", args=[created.json()["id"]])
    assert_error(call(api, ecology_editor, "delete", mapping_url), 404, "not_found")
    assert call(api, province_editor, "delete", mapping_url).status_code == 204


def test_the_schema_lists_the_catalogue_endpoints(db) -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = set(schema["paths"])
    for expected in ("/api/v1/catalog/items/", "/api/v1/catalog/items/{id}/abolish/",
                     "/api/v1/catalog/versions/{id}/submit/", "/api/v1/catalog/versions/{id}/approve/",
                     "/api/v1/catalog/versions/{id}/publish/", "/api/v1/catalog/versions/{id}/diff/",
                     "/api/v1/catalog/bases/{id}/revise-citing/", "/api/v1/catalog/imports/{id}/report/",
                     "/api/v1/catalog/export/", "/api/v1/catalog/push-package/",
                     "/api/v1/catalog/public/items/{code}/"):
        assert expected in paths, expected
    assert schema["paths"]["/api/v1/catalog/public/items/"]["get"].get("security", [{}]) == [{}]  # no sign-in
