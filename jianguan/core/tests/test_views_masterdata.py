"""Master-data pages: subjects and enforcement officers, scope on lists and details, forms, unmask, CSV export."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from jianguan.core.models import AuditEntry, EnforcementOfficer, Subject, User
from jianguan.core.testing.personas import make_officer, make_org, make_subject
from jianguan.lib.validators import make_id_number, make_uscc

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


# --- Subjects: lists and scope ----------------------------------------------------------------------------------------


def test_it_lists_the_subjects_of_a_citys_counties(client: Client, nanjing_officer: User) -> None:
    gulou = make_subject("320106", name="鼓楼某公司")
    jiangning = make_subject("320115", name="江宁某公司")
    suzhou = make_subject("320505", name="苏州某公司")
    client.force_login(nanjing_officer)
    response = client.get(reverse("core:subject_list"))
    assert response.status_code == 200
    shown = set(response.context["page"].object_list)
    assert {gulou, jiangning} <= shown
    assert suzhou not in shown
    html = response.content.decode()
    assert "鼓楼某公司" in html and "江宁某公司" in html and "苏州某公司" not in html


def test_it_lists_only_the_own_county_for_a_county_inspector(client: Client, gulou_inspector: User) -> None:
    make_subject("320106", name="鼓楼某公司")
    make_subject("320115", name="江宁某公司")
    client.force_login(gulou_inspector)
    html = client.get(reverse("core:subject_list")).content.decode()
    assert "鼓楼某公司" in html
    assert "江宁某公司" not in html


def test_it_offers_only_regions_in_scope_in_the_filter(client: Client, gulou_inspector: User) -> None:
    client.force_login(gulou_inspector)
    response = client.get(reverse("core:subject_list"))
    html = response.content.decode()
    assert 'value="320106"' in html
    assert 'value="320115"' not in html and 'value="320500"' not in html


def test_it_filters_subjects_and_returns_only_the_table_to_htmx(client: Client, nanjing_officer: User) -> None:
    make_subject("320106", name="鼓楼某公司")
    make_subject("320115", name="江宁某公司")
    client.force_login(nanjing_officer)
    response = client.get(reverse("core:subject_list"), {"region": "320115"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "<table" in html
    assert "江宁某公司" in html and "鼓楼某公司" not in html


def test_it_searches_subjects_by_name(client: Client, nanjing_officer: User) -> None:
    make_subject("320106", name="鼓楼甲公司")
    make_subject("320106", name="鼓楼乙公司")
    client.force_login(nanjing_officer)
    html = client.get(reverse("core:subject_list"), {"q": "甲"}).content.decode()
    assert "鼓楼甲公司" in html and "鼓楼乙公司" not in html


def test_it_paginates_subjects_by_fifty(client: Client, nanjing_officer: User) -> None:
    for _ in range(55):
        make_subject("320106")
    client.force_login(nanjing_officer)
    response = client.get(reverse("core:subject_list"))
    assert len(response.context["page"].object_list) == 50
    assert "?page=2" in response.content.decode()
    response = client.get(reverse("core:subject_list"), {"page": 2})
    assert len(response.context["page"].object_list) == 5


def test_it_keeps_the_subject_list_within_its_query_budget(
    client: Client, nanjing_officer: User, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for i in range(25):
        make_subject("320106" if i % 2 else "320115", industry_id=None)
    client.force_login(nanjing_officer)
    client.get(reverse("core:subject_list"))  # warm the session and permission caches
    with django_assert_max_num_queries(18):
        response = client.get(reverse("core:subject_list"))
    assert len(response.context["page"].object_list) == 25


def test_it_refuses_the_subject_list_to_a_user_without_the_permission(client: Client, public_user: User) -> None:
    client.force_login(public_user)
    assert client.get(reverse("core:subject_list")).status_code == 403


def test_it_sends_anonymous_users_to_login_from_the_subject_list(client: Client) -> None:
    response = client.get(reverse("core:subject_list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Subjects: detail -------------------------------------------------------------------------------------------------


def test_it_shows_a_subject_in_scope(client: Client, gulou_inspector: User) -> None:
    subject = make_subject("320106", name="鼓楼某公司")
    client.force_login(gulou_inspector)
    response = client.get(reverse("core:subject_detail", args=[subject.pk]))
    assert response.status_code == 200
    assert "鼓楼某公司" in response.content.decode()
    assert subject.uscc in response.content.decode()


def test_it_hides_another_countys_subject_as_not_found(client: Client, gulou_inspector: User) -> None:
    subject = make_subject("320115")
    client.force_login(gulou_inspector)
    response = client.get(reverse("core:subject_detail", args=[subject.pk]))
    assert response.status_code == 404
    assert "不在您的数据范围内" in response.content.decode()


def test_it_hides_a_nanjing_subject_from_the_suzhou_outsider(client: Client, suzhou_officer: User) -> None:
    subject = make_subject("320106")
    client.force_login(suzhou_officer)
    assert client.get(reverse("core:subject_detail", args=[subject.pk])).status_code == 404
    assert client.get(reverse("core:subject_edit", args=[subject.pk])).status_code == 404


def test_it_masks_an_individual_business_owners_name(client: Client, gulou_inspector: User) -> None:
    subject = make_subject("320106", subject_type="individual", legal_representative="王小明",
                           address="鼓楼区中山路100号3单元")
    client.force_login(gulou_inspector)
    html = client.get(reverse("core:subject_detail", args=[subject.pk])).content.decode()
    assert "王**" in html and "王小明" not in html
    assert "中山路100号3单元" not in html


# --- Subjects: create and edit ----------------------------------------------------------------------------------------


def _subject_form(region: str = "320106", **overrides: str) -> dict[str, str]:
    data = {
        "uscc": make_uscc(f"91{region}MA1X2Y3K4"), "name": "南京新登记有限公司", "subject_type": "enterprise",
        "legal_representative": "李四", "address": "鼓楼区北京西路1号", "region": region, "industry": "",
        "registered_capital": "100", "established_on": "2020-05-01", "status": "active",
    }
    data.update(overrides)
    return data


def test_it_registers_a_subject_through_the_service(client: Client, nanjing_officer: User) -> None:
    client.force_login(nanjing_officer)
    assert client.get(reverse("core:subject_create")).status_code == 200
    response = client.post(reverse("core:subject_create"), _subject_form())
    subject = Subject.objects.get(name="南京新登记有限公司")
    assert response.status_code == 302
    assert response["Location"] == reverse("core:subject_detail", args=[subject.pk])
    assert subject.region_id == "320106"
    assert AuditEntry.objects.filter(action="create", object_type="core.subject", object_id=str(subject.pk)).exists()


def test_it_rejects_an_invalid_uscc_with_a_chinese_message(client: Client, nanjing_officer: User) -> None:
    client.force_login(nanjing_officer)
    response = client.post(reverse("core:subject_create"), _subject_form(uscc="91320106MA1X2Y3Z4Q"))
    assert response.status_code == 200
    assert "统一社会信用代码" in str(response.context["form"].errors["uscc"])
    assert not Subject.objects.filter(name="南京新登记有限公司").exists()


def test_it_refuses_a_region_outside_the_users_scope(client: Client, nanjing_officer: User) -> None:
    client.force_login(nanjing_officer)
    response = client.post(reverse("core:subject_create"), _subject_form(region="320505"))
    assert response.status_code == 200
    assert "region" in response.context["form"].errors
    assert not Subject.objects.filter(name="南京新登记有限公司").exists()


def test_it_reports_a_duplicate_uscc_from_the_service_on_the_form(client: Client, nanjing_officer: User) -> None:
    existing = make_subject("320106")
    client.force_login(nanjing_officer)
    response = client.post(reverse("core:subject_create"), _subject_form(uscc=existing.uscc))
    assert response.status_code == 200
    assert "已登记" in str(response.context["form"].errors)


def test_it_edits_a_subject(client: Client, nanjing_officer: User) -> None:
    subject = make_subject("320106", name="旧名称公司")
    client.force_login(nanjing_officer)
    page = client.get(reverse("core:subject_edit", args=[subject.pk]))
    assert "旧名称公司" in page.content.decode()
    data = _subject_form(uscc=subject.uscc, name="新名称公司")
    response = client.post(reverse("core:subject_edit", args=[subject.pk]), data)
    assert response.status_code == 302
    subject.refresh_from_db()
    assert subject.name == "新名称公司"


def test_it_refuses_subject_editing_to_an_inspector_without_the_permission(client: Client) -> None:
    from jianguan.core.testing.personas import make_user

    inspector = make_user("plain_inspector", "320106", roles=["inspector"])
    subject = make_subject("320106")
    client.force_login(inspector)
    assert client.get(reverse("core:subject_create")).status_code == 403
    assert client.get(reverse("core:subject_edit", args=[subject.pk])).status_code == 403


def test_it_requires_csrf_to_create_a_subject(nanjing_officer: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(nanjing_officer)
    assert client.post(reverse("core:subject_create"), _subject_form()).status_code == 403


# --- Subjects: export -------------------------------------------------------------------------------------------------


def test_it_exports_the_scoped_filtered_subjects_and_audits_it(client: Client, nanjing_officer: User) -> None:
    make_subject("320106", name="鼓楼某公司")
    make_subject("320115", name="江宁某公司")
    make_subject("320505", name="苏州某公司")
    client.force_login(nanjing_officer)
    before = AuditEntry.objects.filter(action="export").count()
    response = client.get(reverse("core:subject_export"), {"region": "320106"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "鼓楼某公司" in body
    assert "江宁某公司" not in body and "苏州某公司" not in body
    entries = AuditEntry.objects.filter(action="export")
    assert entries.count() == before + 1
    entry = entries.order_by("-id").first()
    assert entry.details["count"] == 1
    assert entry.details["filters"] == {"region": "320106"}
    assert entry.actor_id == nanjing_officer.pk


def test_it_masks_personal_names_and_defuses_formulas_in_the_export(client: Client, nanjing_officer: User) -> None:
    make_subject("320106", name="=cmd|' /C calc'!A0", subject_type="individual", legal_representative="王小明")
    client.force_login(nanjing_officer)
    body = b"".join(client.get(reverse("core:subject_export")).streaming_content).decode("utf-8-sig")
    assert "王小明" not in body and "王**" in body
    assert "'=cmd" in body


def test_it_refuses_the_export_without_the_export_permission(client: Client) -> None:
    from jianguan.core.testing.personas import make_user

    inspector = make_user("plain_inspector", "320106", roles=["inspector"])
    client.force_login(inspector)
    assert client.get(reverse("core:subject_export")).status_code == 403
    assert not AuditEntry.objects.filter(action="export").exists()


# --- Officers ---------------------------------------------------------------------------------------------------------


def test_it_lists_the_officers_of_a_citys_counties(client: Client, nanjing_officer: User) -> None:
    gulou = make_officer(make_org("320106"), name="鼓楼执法员")
    jiangning = make_officer(make_org("320115"), name="江宁执法员")
    suzhou = make_officer(make_org("320505"), name="苏州执法员")
    client.force_login(nanjing_officer)
    response = client.get(reverse("core:officer_list"))
    assert response.status_code == 200
    shown = set(response.context["page"].object_list)
    assert {gulou, jiangning} <= shown and suzhou not in shown
    html = response.content.decode()
    assert gulou.id_number not in html  # lists never show personal data


def test_it_keeps_the_officer_list_within_its_query_budget(
    client: Client, nanjing_officer: User, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    orgs = [make_org("320106"), make_org("320115"), make_org("320100")]
    for i in range(24):
        make_officer(orgs[i % 3])
    client.force_login(nanjing_officer)
    client.get(reverse("core:officer_list"))
    with django_assert_max_num_queries(18):
        response = client.get(reverse("core:officer_list"))
    assert len(response.context["page"].object_list) == 24


def test_it_shows_an_officer_with_personal_data_masked(client: Client, nanjing_officer: User) -> None:
    officer = make_officer(make_org("320106"), phone="13912345678")
    client.force_login(nanjing_officer)
    response = client.get(reverse("core:officer_detail", args=[officer.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert officer.id_number not in html and "13912345678" not in html
    assert "139****5678" in html
    assert f"{officer.id_number[:4]}**********{officer.id_number[-4:]}" in html


def test_it_hides_another_countys_officer_as_not_found(client: Client, gulou_inspector: User) -> None:
    officer = make_officer(make_org("320115"))
    client.force_login(gulou_inspector)
    assert client.get(reverse("core:officer_detail", args=[officer.pk])).status_code == 404
    assert client.post(reverse("core:officer_unmask", args=[officer.pk]), {"reason": "核查"}).status_code == 404


def test_it_hides_a_nanjing_officer_from_the_suzhou_outsider(client: Client, suzhou_officer: User) -> None:
    officer = make_officer(make_org("320106"))
    client.force_login(suzhou_officer)
    assert client.get(reverse("core:officer_detail", args=[officer.pk])).status_code == 404
    assert client.get(reverse("core:officer_edit", args=[officer.pk])).status_code == 404


def test_it_needs_a_reason_to_unmask_an_officer(client: Client, nanjing_officer: User) -> None:
    officer = make_officer(make_org("320106"))
    client.force_login(nanjing_officer)
    response = client.post(reverse("core:officer_unmask", args=[officer.pk]), {"reason": ""})
    assert response.status_code == 200
    assert officer.id_number not in response.content.decode()
    assert "事由" in response.content.decode()
    assert not AuditEntry.objects.filter(action="read").exists()


def test_it_unmasks_an_officer_once_and_audits_the_read(client: Client, nanjing_officer: User) -> None:
    officer = make_officer(make_org("320106"), phone="13912345678")
    client.force_login(nanjing_officer)
    response = client.post(reverse("core:officer_unmask", args=[officer.pk]), {"reason": "案件2024-031联系执法人员"})
    assert response.status_code == 200
    html = response.content.decode()
    assert officer.id_number in html and "13912345678" in html
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action="read")
    assert entry.object_id == str(officer.pk)
    assert entry.reason == "案件2024-031联系执法人员"
    assert entry.actor_id == nanjing_officer.pk
    # The next page load is masked again.
    again = client.get(reverse("core:officer_detail", args=[officer.pk])).content.decode()
    assert officer.id_number not in again


def test_it_returns_only_the_personal_panel_to_htmx_on_unmask(client: Client, nanjing_officer: User) -> None:
    officer = make_officer(make_org("320106"))
    client.force_login(nanjing_officer)
    response = client.post(reverse("core:officer_unmask", args=[officer.pk]), {"reason": "核查资格"}, **HTMX)
    html = response.content.decode()
    assert "<html" not in html and officer.id_number in html


def test_it_refuses_unmasking_without_the_unmask_permission(client: Client) -> None:
    from jianguan.core.testing.personas import make_user

    inspector = make_user("plain_inspector", "320106", roles=["inspector"])
    officer = make_officer(inspector.organization)
    client.force_login(inspector)
    page = client.get(reverse("core:officer_detail", args=[officer.pk]))
    assert page.status_code == 200
    assert reverse("core:officer_unmask", args=[officer.pk]) not in page.content.decode()
    response = client.post(reverse("core:officer_unmask", args=[officer.pk]), {"reason": "好奇"})
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="read").exists()


def test_it_only_unmasks_by_post(client: Client, nanjing_officer: User) -> None:
    officer = make_officer(make_org("320106"))
    client.force_login(nanjing_officer)
    assert client.get(reverse("core:officer_unmask", args=[officer.pk])).status_code == 405


def test_it_registers_an_officer_in_a_department_in_scope(client: Client, nanjing_officer: User) -> None:
    org = make_org("320106")
    outside = make_org("320505")
    client.force_login(nanjing_officer)
    page = client.get(reverse("core:officer_create"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'value="{org.pk}"' in html and f'value="{outside.pk}"' not in html
    id_number = make_id_number("32010619900101123")
    response = client.post(reverse("core:officer_create"), {
        "name": "新执法员", "id_number": id_number, "certificate_no": "JS320106999001", "organization": org.pk,
        "competence": ["market", "food"], "phone": "13800001111", "active": "on",
    })
    officer = EnforcementOfficer.objects.get(certificate_no="JS320106999001")
    assert response["Location"] == reverse("core:officer_detail", args=[officer.pk])
    assert officer.id_number == id_number and officer.region_id == "320106"
    assert officer.fields == ["market", "food"]


def test_it_rejects_a_bad_id_number_with_a_chinese_message(client: Client, nanjing_officer: User) -> None:
    org = make_org("320106")
    client.force_login(nanjing_officer)
    response = client.post(reverse("core:officer_create"), {
        "name": "新执法员", "id_number": "320106199001011230", "certificate_no": "JS320106999002",
        "organization": org.pk, "phone": "12345",
    })
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "居民身份证号码" in str(errors["id_number"])
    assert "手机号码" in str(errors["phone"])


def test_it_edits_an_officer_keeping_personal_data_when_left_empty(client: Client, nanjing_officer: User) -> None:
    officer = make_officer(make_org("320106"), phone="13912345678")
    client.force_login(nanjing_officer)
    page = client.get(reverse("core:officer_edit", args=[officer.pk]))
    assert page.status_code == 200
    assert officer.id_number not in page.content.decode() and "13912345678" not in page.content.decode()
    response = client.post(reverse("core:officer_edit", args=[officer.pk]), {
        "name": "改名执法员", "id_number": "", "certificate_no": officer.certificate_no,
        "organization": officer.organization_id, "competence": ["market"], "phone": "", "active": "on",
    })
    assert response.status_code == 302
    fresh = EnforcementOfficer.objects.get(pk=officer.pk)
    assert fresh.name == "改名执法员"
    assert fresh.id_number == officer.id_number and fresh.phone == "13912345678"


def test_it_answers_an_htmx_history_restore_with_the_whole_page(client: Client, nanjing_officer: User) -> None:
    client.force_login(nanjing_officer)
    response = client.get(reverse("core:subject_list"), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in response.content.decode()
    assert "HX-Request" in response["Vary"]
