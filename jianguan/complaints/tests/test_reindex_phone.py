"""After a field-key rotation, ``jianguan keys rotate`` re-encrypts reporters and recomputes their phone keys under
the new key, so a repeat filer is found again (并单 proposals) across the rotation, and the old key can go."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from jianguan.complaints import services
from jianguan.complaints.models import Reporter
from jianguan.complaints.tests.factories import make_ticket
from jianguan.core import keyring
from jianguan.core.fields import blind_index
from jianguan.core.testing import keys

pytestmark = pytest.mark.django_db
field_keys = keys.field_keys  # the fixture

FIRST = "该店后厨卫生条件很差，餐具未消毒，吃完后腹泻，要求查处并退款。"
AGAIN = "这家饭馆的餐具没有消毒，吃完后肚子疼，要求退款。"  # alike, but not enough on its own text


def reporter_index_status() -> keyring.IndexStatus:
    [index] = [i for i in keyring.status().indexes if i.model == "complaints.Reporter"]
    return index


def test_a_repeat_filer_is_proposed_for_merging_across_the_rotation_once_rotated(field_keys) -> None:
    field_keys("k0")
    first = make_ticket(content=FIRST, subject_name="甲饭店", place_address="南京市鼓楼区中山路1号",
                        reporter_phone="139 1234 5678")
    field_keys("k1", "k0")  # the new key made active; the same person files again
    second = make_ticket(content=AGAIN, subject_name="乙饭馆", place_address="南京市鼓楼区汉中路2号",
                         reporter_phone="13912345678")
    phone_key = blind_index("13912345678")
    assert Reporter.objects.filter(phone_index=phone_key).count() == 1
    assert first not in [p.candidate for p in services.propose_duplicates(second)]

    call_command("keys", "rotate")
    assert set(Reporter.objects.filter(phone_index=phone_key).values_list("complaint_id", flat=True)) == \
        {first.pk, second.pk}
    [proposal] = [p for p in services.propose_duplicates(second) if p.candidate == first]
    assert "same_reporter" in proposal.reasons


def test_the_declaration_reproduces_the_phone_key_intake_stores(field_keys) -> None:
    field_keys("k0")
    make_ticket(reporter_phone="+86 139-1234-5678")
    make_ticket(reporter_phone="025-83201234")  # a landline: kept as given
    make_ticket(kind="report", reporter_phone="", reporter_id_number="")  # no phone: no key
    make_ticket(kind="report", anonymous=True, reporter_name="", reporter_phone="", reporter_id_number="")
    assert set(Reporter.objects.values_list("phone", flat=True)) == {"13912345678", "025-83201234", ""}
    index = reporter_index_status()
    assert (index.rows, index.stale) == (3, 0)

    field_keys("k1", "k0")
    index = reporter_index_status()
    assert (index.stale, dict(index.by_key), index.unmatched) == (2, {"k0": 2}, 0)


def test_reporters_read_the_same_with_the_old_key_removed_after_the_rotation(field_keys) -> None:
    field_keys("k0")
    ticket = make_ticket(reporter_phone="13912345678")
    before = Reporter.objects.values("name", "phone", "id_number", "address", "email").get(complaint=ticket)
    field_keys("k1", "k0")
    call_command("keys", "rotate")
    field_keys("k1")
    assert Reporter.objects.values("name", "phone", "id_number", "address", "email").get(complaint=ticket) == before
    assert Reporter.objects.get(complaint=ticket).phone_index == blind_index("13912345678")
    state = keyring.status()
    assert state.old_tokens == 0 and state.stale_indexes == 0
