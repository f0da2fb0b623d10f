"""A ticket from intake through dispatch, handling, 督办, reply, rating and reopening, by the right users."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from jianguan.complaints import events, services
from jianguan.complaints.choices import ComplaintStatus, Step
from jianguan.complaints.models import Assignment, Category, Complaint, Supervision
from jianguan.complaints.tests.factories import intake_record
from jianguan.core.errors import ConflictError, DomainError
from jianguan.core.models import AuditEntry, OutboxEvent
from jianguan.core.testing.personas import make_org

pytestmark = pytest.mark.django_db


def receive(**kw):
    return services.receive_complaint(intake_record(**kw), actor=None, channel="portal").complaints[0]


def test_it_takes_a_ticket_from_intake_to_rating(nanjing_dispatcher, gulou_handler, nanjing_supervisor,
                                                 django_capture_on_commit_callbacks) -> None:
    ticket = receive()
    assert ticket.status == ComplaintStatus.RECEIVED
    assert ticket.handling_region_id == "320106"
    food = Category.objects.get(code="0101")

    services.accept_complaint(ticket, actor=nanjing_dispatcher, category=food)
    assert ticket.status == ComplaintStatus.REGISTERED
    assert ticket.due_at is not None and ticket.due_param == "complaints.limit.complaint_days"
    assert ticket.due_days == 15 and ticket.due_param_version == 0

    services.dispatch_complaint(ticket, actor=nanjing_dispatcher)  # by the dispatch catalogue
    assert ticket.status == ComplaintStatus.DISPATCHED
    assert ticket.handling_org == make_org("320106", "001")
    assert ticket.decision_due_at is not None

    services.sign_for_complaint(ticket, actor=gulou_handler)
    services.decide_complaint(ticket, actor=gulou_handler, accepted=True, note="符合受理条件")
    services.record_progress(ticket, actor=gulou_handler, note="现场检查，后厨卫生不达标")
    supervision = services.supervise_complaint(ticket, actor=nanjing_supervisor, instructions="请加快办理并反馈")
    services.answer_supervision(supervision, actor=gulou_handler, answer="正在调解")
    services.reply_complaint(ticket, actor=gulou_handler, reply="已责令整改，商家同意退款。", result="调解成功")
    assert ticket.status == ComplaintStatus.REPLIED
    services.close_complaint(ticket, actor=nanjing_dispatcher)
    assert ticket.status == ComplaintStatus.CLOSED

    services.rate_complaint(ticket, actor=nanjing_dispatcher, rating="dissatisfied", comment="退款未到账")
    assert ticket.status == ComplaintStatus.HANDLING
    assert ticket.reopen_count == 1 and ticket.closed_at is None

    services.reply_complaint(ticket, actor=gulou_handler, reply="已督促退款到账。")
    services.close_complaint(ticket, actor=nanjing_dispatcher)
    services.rate_complaint(ticket, actor=nanjing_dispatcher, rating="satisfied")
    assert ticket.status == ComplaintStatus.EVALUATED

    steps = list(ticket.events.values_list("step", flat=True))
    assert steps[:3] == [Step.RECEIVED, Step.REGISTERED, Step.DISPATCHED]
    assert Step.REOPENED in steps and steps[-1] == Step.RATED
    assert all(e.actor_name for e in ticket.events.all())
    topics = set(OutboxEvent.objects.values_list("topic", flat=True))
    assert {events.RECEIVED, events.ACCEPTED, events.DISPATCHED, events.SUPERVISED, events.REPLIED, events.CLOSED,
            events.REOPENED, events.RATED} <= topics
    codes = set(AuditEntry.objects.values_list("event", flat=True))
    assert {"complaints.complaint.received", "complaints.complaint.accepted", "complaints.complaint.dispatched",
            "complaints.complaint.closed", "complaints.complaint.rated"} <= codes


def test_no_event_payload_carries_the_reporters_identity(nanjing_dispatcher) -> None:
    ticket = receive()
    services.accept_complaint(ticket, actor=nanjing_dispatcher, category=Category.objects.get(code="0101"))
    text = str(list(OutboxEvent.objects.values_list("payload", flat=True)))
    text += str(list(AuditEntry.objects.values_list("details", flat=True)))
    for secret in ("张三", "13912345678", "11010519491231002X", "宁海路"):
        assert secret not in text


def test_it_refuses_a_step_the_state_does_not_allow(nanjing_dispatcher, gulou_handler) -> None:
    ticket = receive()
    with pytest.raises(ConflictError):
        services.close_complaint(ticket, actor=nanjing_dispatcher)


def test_a_stale_page_loses_the_compare_and_swap(nanjing_dispatcher) -> None:
    ticket = receive()
    stale = Complaint.objects.get(pk=ticket.pk)
    services.accept_complaint(ticket, actor=nanjing_dispatcher, category=Category.objects.get(code="0101"))
    with pytest.raises(ConflictError):
        services.reject_intake(stale, actor=nanjing_dispatcher, ground="no_content")


def test_a_handler_cannot_dispatch_and_a_dispatcher_cannot_reply(nanjing_dispatcher, gulou_handler) -> None:
    ticket = receive()
    with pytest.raises(PermissionDenied):
        services.accept_complaint(ticket, actor=gulou_handler, category=Category.objects.get(code="0101"))
    services.accept_complaint(ticket, actor=nanjing_dispatcher, category=Category.objects.get(code="0101"))
    services.dispatch_complaint(ticket, actor=nanjing_dispatcher)
    with pytest.raises(PermissionDenied):
        services.sign_for_complaint(ticket, actor=nanjing_dispatcher)


def test_a_department_returns_a_ticket_and_the_centre_redispatches_it(nanjing_dispatcher, gulou_handler) -> None:
    ticket = receive()
    services.accept_complaint(ticket, actor=nanjing_dispatcher, category=Category.objects.get(code="0101"))
    services.dispatch_complaint(ticket, actor=nanjing_dispatcher)
    with pytest.raises(DomainError):
        services.return_complaint(ticket, actor=gulou_handler, reason="other", note="")
    services.return_complaint(ticket, actor=gulou_handler, reason="not_competent", note="属卫健部门职责")
    assert ticket.status == ComplaintStatus.REGISTERED and ticket.handling_org is None
    assert not Complaint.objects.visible_to(gulou_handler).filter(pk=ticket.pk).exists()
    health = make_org("320106", "007")
    services.dispatch_complaint(ticket, actor=nanjing_dispatcher, lead_org=health, co_orgs=[make_org("320106", "001")])
    assert ticket.status == ComplaintStatus.DISPATCHED and ticket.handling_org == health
    active = Assignment.objects.filter(complaint=ticket, active=True)
    assert {(a.organization.kind_id, a.role) for a in active} == {("007", "lead"), ("001", "co")}
    assert Assignment.objects.get(complaint=ticket, active=False).return_reason == "not_competent"
    # the market bureau is now a co-unit: it sees the ticket but cannot reply for the lead unit
    assert Complaint.objects.visible_to(gulou_handler).filter(pk=ticket.pk).exists()
    with pytest.raises(DomainError) as exc:
        services.sign_for_complaint(ticket, actor=gulou_handler)
    assert exc.value.code == "complaint.not_lead_unit"
    services.record_progress(ticket, actor=gulou_handler, note="协办意见：该店持有食品经营许可证")


def test_a_dispatcher_cannot_send_a_ticket_outside_the_own_city(nanjing_dispatcher) -> None:
    ticket = receive()
    services.accept_complaint(ticket, actor=nanjing_dispatcher, category=Category.objects.get(code="0101"))
    with pytest.raises(DomainError):
        services.dispatch_complaint(ticket, actor=nanjing_dispatcher, lead_org=make_org("320508", "001"))
    ticket.refresh_from_db()
    assert ticket.status == ComplaintStatus.REGISTERED


def test_a_consultation_is_answered_directly(nanjing_dispatcher) -> None:
    ticket = receive(kind="consultation", reporter_name="", reporter_phone="", anonymous=True)
    services.accept_complaint(ticket, actor=nanjing_dispatcher, category=Category.objects.get(code="1401"))
    services.answer_directly(ticket, actor=nanjing_dispatcher, reply="可通过政务服务网在线办理。")
    assert ticket.status == ComplaintStatus.CLOSED


def test_a_manual_supervision_needs_instructions_and_the_right_role(nanjing_supervisor, gulou_handler) -> None:
    from jianguan.complaints.tests.factories import make_ticket

    ticket = make_ticket(ComplaintStatus.HANDLING)
    with pytest.raises(DomainError):
        services.supervise_complaint(ticket, actor=nanjing_supervisor, instructions=" ")
    with pytest.raises(PermissionDenied):
        services.supervise_complaint(ticket, actor=gulou_handler, instructions="快")
    supervision = services.supervise_complaint(ticket, actor=nanjing_supervisor, instructions="限期回复", reply_days=2)
    assert supervision.reply_due_at > timezone.now()
    assert Supervision.objects.filter(complaint=ticket, kind="manual").count() == 1
