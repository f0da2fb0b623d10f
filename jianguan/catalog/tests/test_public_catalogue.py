"""The public catalogue on the portal: no sign-in, published versions only, searchable, with a query budget."""

from __future__ import annotations

from django.urls import reverse

from jianguan.catalog import services
from jianguan.catalog.tests.factories import make_basis, new_item, published_item, published_sub_item


def test_it_shows_only_published_versions_to_anyone(client) -> None:
    item = published_item("对食品生产者的监督检查")
    new_item("尚未发布的事项")
    revision = services.start_revision(item, actor=services.SYSTEM, reason="修订")
    draft = services.content_of(revision)
    services.update_draft(revision, actor=services.SYSTEM, content=services.ItemContent(
        "草稿中的新名称", "草稿中的措施", draft.targets, draft.process, draft.result, draft.levels, draft.citations))
    body = client.get(reverse("catalog:public_list")).content.decode()
    assert "对食品生产者的监督检查" in body
    assert "尚未发布的事项" not in body and "草稿中的新名称" not in body
    detail = client.get(reverse("catalog:public_detail", args=[item.code])).content.decode()
    assert "现场检查、抽样检验、查阅复制有关合同票据" in detail and "草稿中的措施" not in detail
    assert client.get(reverse("catalog:public_detail", args=["32001010002000"])).status_code == 404


def test_a_main_item_with_sub_items_is_shown_through_them(client) -> None:
    main = published_item("对食品生产经营活动的监督检查")
    sub = published_sub_item(main, "对食品生产者的监督检查")
    body = client.get(reverse("catalog:public_list")).content.decode()
    assert sub.code in body and f'"{reverse("catalog:public_detail", args=[main.code])}"' not in body


def test_it_searches_inside_names_and_bases_by_department_method_object_and_level(client) -> None:
    published_item("对食品生产者的监督检查")
    published_item("对排污单位的监督检查", kind_code="002", method="02", levels=("province",), targets="排污单位",
                   basis=make_basis("中华人民共和国大气污染防治法"))
    url = reverse("catalog:public_list")

    def names(**params: str) -> set[str]:
        body = client.get(url, params, HTTP_HX_REQUEST="true").content.decode()
        return {n for n in ("对食品生产者的监督检查", "对排污单位的监督检查") if n in body}

    assert names(q="大气污染") == {"对排污单位的监督检查"}
    assert names(q="生产者") == {"对食品生产者的监督检查"}
    assert names(department="002") == {"对排污单位的监督检查"}
    assert names(method="01") == {"对食品生产者的监督检查"}
    assert names(target="排污") == {"对排污单位的监督检查"}
    assert names(level="county") == {"对食品生产者的监督检查"}


def test_the_public_list_has_a_query_budget(client, django_assert_max_num_queries) -> None:
    main = published_item("对食品生产经营活动的监督检查")
    for i in range(22):
        published_sub_item(main, f"子项{i}")
    with django_assert_max_num_queries(6):
        response = client.get(reverse("catalog:public_list"))
    assert response.content.decode().count("/catalog/public/items/") >= 22
