"""Splitting complaint+report filings, linking the entity concerned, and resolving the place."""

from __future__ import annotations

import pytest

from jianguan.complaints import places, services
from jianguan.complaints.choices import ComplaintStatus, SubjectMatch
from jianguan.complaints.models import Complaint, Reporter
from jianguan.complaints.tests.factories import intake_record, make_ticket
from jianguan.core.errors import DomainError
from jianguan.core.testing.personas import make_subject

pytestmark = pytest.mark.django_db


def receive(**kw):
    return services.receive_complaint(intake_record(**kw), actor=None, channel="portal")


def test_a_filing_that_is_both_becomes_a_complaint_and_a_report() -> None:
    result = receive(kind="complaint_report")
    complaint, report = result.complaints
    assert (complaint.kind, report.kind) == ("complaint", "report")
    assert complaint.filing_no == report.filing_no and report.split_from == complaint
    assert services.track_complaint(report.ticket_no, result.tracking_code) == report
    assert report.events.filter(step="split").exists()


def test_a_registered_complaint_can_be_split_later(nanjing_dispatcher) -> None:
    ticket = make_ticket(ComplaintStatus.RECEIVED)
    sibling = services.split_complaint(ticket, actor=nanjing_dispatcher, note="另有违法线索")
    assert sibling.kind == "report" and sibling.filing_no == ticket.filing_no
    assert Reporter.objects.get(complaint=sibling).phone == "13912345678"


def test_an_anonymous_complaint_is_refused_but_an_anonymous_report_is_taken() -> None:
    with pytest.raises(DomainError) as exc:
        receive(kind="complaint", anonymous=True)
    assert "anonymous" in exc.value.fields
    report = receive(kind="report", anonymous=True).complaints[0]
    assert report.anonymous and not Reporter.objects.filter(complaint=report).exists()


def test_the_entity_is_linked_by_credit_code() -> None:
    subject = make_subject("320106")
    ticket = receive(subject_uscc=subject.uscc).complaints[0]
    assert ticket.subject == subject and ticket.subject_match == SubjectMatch.USCC


def test_an_entity_named_without_a_code_is_proposed_as_a_candidate(nanjing_dispatcher) -> None:
    subject = make_subject("320106", name="南京金陵小吃店")
    make_subject("320508", name="南京金陵小吃店")  # same name in another city: not a candidate
    ticket = services.find_subject_candidate(receive(subject_name="南京金陵小吃店").complaints[0])
    assert ticket.subject is None and ticket.subject_candidate == subject
    assert ticket.subject_match == SubjectMatch.CANDIDATE
    services.link_subject(ticket, actor=nanjing_dispatcher, subject=subject)
    assert ticket.subject == subject and ticket.subject_match == SubjectMatch.CONFIRMED


@pytest.mark.parametrize(("address", "expected"), [
    ("南京市鼓楼区中山北路1号", "320106"),
    ("徐州市鼓楼区淮海路", "320302"),
    ("江宁区双龙大道", "320115"),
    ("苏州市某某路", "320500"),
    ("某地某路", None),
])
def test_the_place_is_resolved_from_the_address(address: str, expected: str | None) -> None:
    assert places.region_from_address(address) == expected


def test_a_point_is_placed_in_its_city() -> None:
    assert places.resolve(lat=32.06, lon=118.79) == "320100"
    assert places.resolve(lat=39.9, lon=116.4) == "320000"


def test_ticket_numbers_are_unique_and_prefixed_by_type() -> None:
    numbers = {receive(kind="report", anonymous=True).complaints[0].ticket_no for _ in range(5)}
    assert len(numbers) == 5 and all(n.startswith("JB") and len(n) == 20 for n in numbers)
    assert Complaint.objects.count() == 5
