"""The public portal: submit (with attachments, optionally anonymous), track by number + code, rate; no identity
ever appears on a public page."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from jianguan.complaints.choices import ComplaintStatus
from jianguan.complaints.models import Attachment, Complaint
from jianguan.complaints.services import tracking_code_for
from jianguan.complaints.tests.factories import make_ticket

pytestmark = pytest.mark.django_db
SUBMIT = reverse("complaints_portal:submit")
TRACK = reverse("complaints_portal:track")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

FORM = {
    "kind": "complaint", "content": "网购的电饭煲收到就坏了，商家拒绝退货。", "place_address": "苏州市姑苏区人民路1号",
    "subject_name": "苏州某某电器商行", "reporter_name": "王五", "reporter_phone": "13600002222",
    "submission_id": "a" * 32,
}


def test_anyone_submits_with_an_attachment_and_gets_number_and_code(client) -> None:
    upload = SimpleUploadedFile("receipt.png", PNG, content_type="image/png")
    response = client.post(SUBMIT, {**FORM, "attachments": [upload]})
    assert response.status_code == 200, response.content.decode()[:2000]
    body = response.content.decode()
    ticket = Complaint.objects.get()
    assert ticket.ticket_no in body and tracking_code_for(ticket.filing_no) in body
    assert ticket.channel == "portal" and ticket.region_id == "320508"
    assert Attachment.objects.get().name == "receipt.png"
    assert response["Cache-Control"].startswith("no-store")


def test_staff_in_scope_download_an_attachment_and_others_get_404(client, nanjing_dispatcher, gulou_handler) -> None:
    from jianguan.core.testing.personas import login_verified

    upload = SimpleUploadedFile("receipt.png", PNG, content_type="image/png")
    client.post(SUBMIT, {**FORM, "place_address": "南京市鼓楼区中山路1号", "attachments": [upload]})
    ticket, attachment = Complaint.objects.get(), Attachment.objects.get()
    url = reverse("complaints:attachment_download", args=[ticket.pk, attachment.pk])
    assert client.get(url).status_code == 302  # anonymous: sign in first
    login_verified(client, gulou_handler)
    assert client.get(url).status_code == 404  # not dispatched to this department yet
    login_verified(client, nanjing_dispatcher)
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG


def test_a_double_submit_does_not_create_two_tickets(client) -> None:
    client.post(SUBMIT, FORM)
    client.post(SUBMIT, FORM)
    assert Complaint.objects.count() == 1


def test_a_fake_attachment_is_refused(client) -> None:
    upload = SimpleUploadedFile("virus.png", b"MZ\x90\x00", content_type="image/png")
    response = client.post(SUBMIT, {**FORM, "attachments": [upload]})
    assert response.status_code == 400 and not Complaint.objects.exists()


def test_an_anonymous_report_keeps_no_identity(client) -> None:
    response = client.post(SUBMIT, {**FORM, "kind": "report", "anonymous": "on"})
    assert response.status_code == 200
    ticket = Complaint.objects.get()
    assert ticket.anonymous and not hasattr(ticket, "reporter") or ticket.anonymous


def test_tracking_shows_status_and_public_steps_but_no_identity(client, gulou_handler) -> None:
    ticket = make_ticket(ComplaintStatus.CLOSED, region="320106")
    response = client.post(TRACK, {"ticket_no": ticket.ticket_no, "code": tracking_code_for(ticket.filing_no)})
    body = response.content.decode()
    assert response.status_code == 200 and "已办结" in body and "经核查情况属实" in body
    for secret in ("张三", "13912345678", "11010519491231002X", "宁海路", "factory_", "鼓楼承办人"):
        assert secret not in body
    assert "rate-form" in body


def test_a_wrong_code_reveals_nothing(client) -> None:
    ticket = make_ticket(ComplaintStatus.HANDLING)
    body = client.post(TRACK, {"ticket_no": ticket.ticket_no, "code": "AAAAAAAA"}).content.decode()
    assert "饭店卫生差" not in body and "不正确" in body


def test_tracking_is_throttled(client) -> None:
    for _ in range(20):
        client.post(TRACK, {"ticket_no": "TS000", "code": "AAAAAAAA"})
    assert "稍后" in client.post(TRACK, {"ticket_no": "TS000", "code": "AAAAAAAA"}).content.decode()


def test_a_dissatisfied_rating_reopens_the_ticket(client) -> None:
    from django.core.cache import cache

    cache.clear()
    ticket = make_ticket(ComplaintStatus.CLOSED)
    response = client.post(reverse("complaints_portal:rate"), {
        "ticket_no": ticket.ticket_no, "code": tracking_code_for(ticket.filing_no), "rating": "dissatisfied",
        "comment": "问题没解决"})
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == ComplaintStatus.HANDLING and ticket.reopen_count == 1
    assert ticket.events.filter(step="reopened", public=True).exists()


def test_the_portal_pages_are_public(client) -> None:
    for url in (SUBMIT, TRACK):
        response = client.get(url)
        assert response.status_code == 200
        assert not re.search(r"<script>(?!\s*</script>)", response.content.decode())


def test_a_reporter_still_tracks_a_ticket_filed_before_a_key_rotation(client, settings) -> None:
    """The stored hash of the verification code was made with the key active at filing; after a new key becomes
    the active one (the old one kept in the ring to decrypt), the reporter's code still opens the ticket."""
    import base64
    import hashlib

    from jianguan.core.fields import field_cipher

    field_cipher.cache_clear()
    ticket = make_ticket(ComplaintStatus.HANDLING)
    code = tracking_code_for(ticket.filing_no)
    old = hashlib.sha256(b"jianguan-field-key:" + settings.SECRET_KEY.encode()).digest()
    new = hashlib.sha256(b"a rotated field key").digest()
    try:
        settings.FIELD_ENCRYPTION_KEYS = f"k1:{base64.b64encode(new).decode()},k0:{base64.b64encode(old).decode()}"
        field_cipher.cache_clear()
        assert field_cipher().active_key_id == "k1"
        body = client.post(TRACK, {"ticket_no": ticket.ticket_no, "code": code}).content.decode()
        assert "饭店卫生差" in body
        wrong = client.post(TRACK, {"ticket_no": ticket.ticket_no, "code": "AAAAAAAA"}).content.decode()
        assert "饭店卫生差" not in wrong and "不正确" in wrong
        settings.FIELD_ENCRYPTION_KEYS = f"k1:{base64.b64encode(new).decode()}"  # the old key retired
        field_cipher.cache_clear()
        assert "饭店卫生差" not in client.post(TRACK, {"ticket_no": ticket.ticket_no, "code": code}).content.decode()
    finally:
        field_cipher.cache_clear()
