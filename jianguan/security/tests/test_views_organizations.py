"""Department pages: scoped list with a region filter, create and edit through the services."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from jianguan.core.models import Organization, Region, User
from jianguan.core.testing.personas import login_verified, make_org
from jianguan.lib.validators import make_uscc

pytestmark = pytest.mark.django_db


def test_it_lists_departments_filtered_by_region(client: Client, province_admin: User) -> None:
    make_org("320106")
    make_org("320505")
    login_verified(client, province_admin)
    response = client.get(reverse("security:organization_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "南京市鼓楼区" in html and "苏州市" in html
    response = client.get(reverse("security:organization_list"), {"region": "320100"})
    names = [o.name for o in response.context["page"].object_list]
    assert names and all(name.startswith("南京市") for name in names)


def test_it_lists_only_departments_in_the_users_region(client: Client, nanjing_officer: User) -> None:
    make_org("320106")
    make_org("320505")
    client.force_login(nanjing_officer)
    response = client.get(reverse("security:organization_list"))
    codes = {o.region_id for o in response.context["page"].object_list}
    assert codes and all(code.startswith("3201") for code in codes)


def test_it_keeps_the_department_list_within_its_query_budget(
    client: Client, province_admin: User, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for code in Region.objects.filter(level="county").values_list("code", flat=True)[:22]:
        make_org(code)
    login_verified(client, province_admin)
    client.get(reverse("security:organization_list"))
    with django_assert_max_num_queries(18):
        response = client.get(reverse("security:organization_list"))
    assert len(response.context["page"].object_list) >= 20


def test_it_creates_a_department(client: Client, province_admin: User) -> None:
    login_verified(client, province_admin)
    assert client.get(reverse("security:organization_create")).status_code == 200
    uscc = make_uscc("11320115MB0123456")
    response = client.post(reverse("security:organization_create"),
                           {"region": "320115", "kind": "002", "name": "", "uscc": uscc})
    assert response.status_code == 302
    org = Organization.objects.get(region_id="320115", kind_id="002")
    assert org.code == "320115002" and org.uscc == uscc
    assert org.name.startswith("南京市江宁区")


def test_it_shows_a_service_refusal_on_the_form(client: Client, province_admin: User) -> None:
    make_org("320115", "001")
    login_verified(client, province_admin)
    response = client.post(reverse("security:organization_create"), {"region": "320115", "kind": "001"})
    assert response.status_code == 200
    assert "已有" in response.content.decode()


def test_it_edits_a_department(client: Client, province_admin: User) -> None:
    org = make_org("320106")
    login_verified(client, province_admin)
    assert client.get(reverse("security:organization_edit", args=[org.pk])).status_code == 200
    response = client.post(reverse("security:organization_edit", args=[org.pk]), {"name": "鼓楼区市场监管局（新）"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.name == "鼓楼区市场监管局（新）" and org.active is False


def test_it_refuses_department_creation_to_a_department_administrator(client: Client, nanjing_officer: User) -> None:
    client.force_login(nanjing_officer)
    assert client.get(reverse("security:organization_create")).status_code == 403
