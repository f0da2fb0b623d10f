"""A reporter's tracking code is derived under the key active when the filing was made; after a key rotation,
``jianguan keys rotate`` re-hashes it under the new key, so the same code keeps working once the old key is gone."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from jianguan.complaints import rotation, services
from jianguan.complaints.choices import Channel
from jianguan.complaints.models import Complaint
from jianguan.complaints.tests.factories import intake_record
from jianguan.core.models import AuditEntry
from jianguan.core.testing import keys
from jianguan.core.testing.personas import make_user

pytestmark = pytest.mark.django_db
field_keys = keys.field_keys  # the fixture


def _file(**kw: object) -> services.IntakeResult:
    return services.receive_complaint(intake_record(**kw), actor=None, channel=Channel.PORTAL)


def test_a_code_issued_before_the_rotation_works_after_the_old_key_is_removed(field_keys) -> None:
    field_keys("k0")
    old = _file()
    code, ticket_no = old.tracking_code, old.complaints[0].ticket_no
    assert code and services.track_complaint(ticket_no, code) == old.complaints[0]

    field_keys("k1", "k0")
    new = _file()
    assert services.track_complaint(ticket_no, code) is not None  # the old key is still in the ring
    assert rotation.rehash_tracking_codes(dry_run=True) == {"rehashed": 1, "current": 1, "unverifiable": 0}
    stored = Complaint.objects.get(ticket_no=ticket_no).tracking_code_hash
    assert Complaint.objects.get(ticket_no=ticket_no).tracking_code_hash == stored  # a dry run writes nothing

    out = StringIO()
    call_command("keys", "rotate", stdout=out)
    assert "complaints.tracking_codes" in out.getvalue()
    event = AuditEntry.objects.get(event=rotation.REHASHED_EVENT)
    assert event.details["rehashed"] == 1 and event.details["from_keys"] == {"k0": 1}
    assert code not in str(event.details)
    assert rotation.rehash_tracking_codes(dry_run=False) == {"rehashed": 0, "current": 2, "unverifiable": 0}

    field_keys("k1")  # the old key retired
    assert services.track_complaint(ticket_no, code) == old.complaints[0]
    assert services.track_complaint(new.complaints[0].ticket_no, new.tracking_code) == new.complaints[0]
    assert services.track_complaint(ticket_no, "WRONGCOD") is None


def test_without_the_rotation_the_old_code_stops_working_with_the_old_key(field_keys) -> None:
    field_keys("k0")
    old = _file()
    field_keys("k1")
    assert services.track_complaint(old.complaints[0].ticket_no, old.tracking_code) is None
    assert rotation.rehash_tracking_codes(dry_run=True) == {"rehashed": 0, "current": 0, "unverifiable": 1}


def test_a_retried_submission_is_answered_with_the_code_it_was_given_across_a_rotation(field_keys) -> None:
    client = make_user("hotline_api", "320000", "011", ["api_client"])
    field_keys("k0")
    first = services.receive_complaint(intake_record(), actor=client, channel=Channel.API, idempotency_key="r-1")
    field_keys("k1", "k0")
    again = services.receive_complaint(intake_record(), actor=client, channel=Channel.API, idempotency_key="r-1")
    assert not again.created and again.tracking_code == first.tracking_code
    call_command("keys", "rotate", stdout=StringIO())
    field_keys("k1")
    again = services.receive_complaint(intake_record(), actor=client, channel=Channel.API, idempotency_key="r-1")
    # the old key gone, the code cannot be derived again (only its hash is kept): the retry is still answered
    # with the same ticket, without a code, and the code the client was given keeps working
    assert not again.created and again.complaints == first.complaints and again.tracking_code is None
    assert services.track_complaint(first.complaints[0].ticket_no, first.tracking_code) == first.complaints[0]
