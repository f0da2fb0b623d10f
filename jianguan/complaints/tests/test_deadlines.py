"""Time limits: working days over the holiday calendar (调休 included), versioned settings stored on the ticket,
the overdue sweep creating 督办 exactly once, reminders, and extensions."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from jianguan.complaints import services
from jianguan.complaints.calendar import load_calendar, work_calendar
from jianguan.complaints.choices import ComplaintStatus
from jianguan.complaints.models import Category, Complaint, Supervision
from jianguan.complaints.tests.factories import intake_record, make_ticket
from jianguan.core import params as core_params
from jianguan.core.errors import DomainError
from jianguan.core.testing.personas import make_org, make_user

pytestmark = pytest.mark.django_db
BJ = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BJ)


def received(**kw):
    return services.receive_complaint(intake_record(**kw), actor=None, channel="portal").complaints[0]


def test_the_shipped_calendar_knows_2019_to_2027_and_marks_2027_provisional() -> None:
    calendar, provisional = load_calendar()
    assert calendar.years == frozenset(range(2019, 2028))
    assert provisional == {2027}
    assert not calendar.is_working_day(dt.date(2026, 2, 16))  # 春节
    assert calendar.is_working_day(dt.date(2026, 2, 14))  # Saturday, 调休
    assert calendar.is_working_day(dt.date(2025, 9, 28))  # Sunday, 调休


def test_it_counts_the_limit_across_the_national_day_holiday_and_its_adjusted_weekend(nanjing_dispatcher) -> None:
    ticket = received()
    with time_machine.travel(at(2025, 9, 26, 16, 0), tick=False):
        services.accept_complaint(ticket, actor=nanjing_dispatcher, category=Category.objects.get(code="0101"))
    # 15 working days from Friday 2025-09-26: 9-28 (Sun, 调休), 9-29, 9-30, 10-9, 10-10, 10-11 (Sat, 调休) … 10-23.
    assert ticket.due_at.astimezone(BJ).date() == dt.date(2025, 10, 23)
    assert ticket.due_at.astimezone(BJ).time() == dt.time.max
    assert (ticket.due_days, ticket.due_param, ticket.due_param_version) == (15, "complaints.limit.complaint_days", 0)


def test_a_complaints_acceptance_decision_is_due_within_7_working_days_of_dispatch(nanjing_dispatcher) -> None:
    make_org("320106", "001")
    ticket = received()
    with time_machine.travel(at(2026, 2, 12, 10, 0), tick=False):
        services.accept_complaint(ticket, actor=nanjing_dispatcher, category=Category.objects.get(code="0101"))
        services.dispatch_complaint(ticket, actor=nanjing_dispatcher)
    # Thursday 2026-02-12: 2-13, 2-14 (Sat, 调休), 春节 2-15…2-23, then 2-24, 2-25, 2-26, 2-27, 2-28 (Sat, 调休).
    assert ticket.decision_due_at.astimezone(BJ).date() == dt.date(2026, 2, 28)


def test_a_new_setting_version_applies_to_new_tickets_only(nanjing_dispatcher, security_admin) -> None:
    old = received()
    new = received()
    food = Category.objects.get(code="0101")
    with time_machine.travel(at(2025, 3, 3, 9, 0), tick=False):
        services.accept_complaint(old, actor=nanjing_dispatcher, category=food)
    admin = make_user("param_admin", "320000", "011", ["system_admin"])
    from django.contrib.auth.models import Permission

    admin.user_permissions.add(Permission.objects.get(codename="add_parametervalue"))
    core_params.set_value("complaints.limit.complaint_days", 10, actor=admin, effective_from=at(2025, 3, 4, 0, 0),
                          reason="省12345热线管理办法修订")
    with time_machine.travel(at(2025, 3, 5, 9, 0), tick=False):
        services.accept_complaint(new, actor=nanjing_dispatcher, category=food)
    old.refresh_from_db()
    assert (old.due_days, old.due_param_version) == (15, 0)
    assert (new.due_days, new.due_param_version) == (10, 1)
    assert new.due_at.astimezone(BJ).date() == dt.date(2025, 3, 19)


def test_a_category_override_wins_over_the_type_limit(nanjing_dispatcher) -> None:
    admin = make_user("param_admin2", "320000", "011", ["system_admin"])
    from django.contrib.auth.models import Permission

    admin.user_permissions.add(Permission.objects.get(codename="add_parametervalue"))
    core_params.set_value("complaints.limit.category_overrides", '{"0104": {"complaint": 5}}', actor=admin,
                          effective_from=at(2025, 1, 1, 0, 0), reason="网络订餐投诉提速")
    ticket = received()
    with time_machine.travel(at(2025, 3, 3, 9, 0), tick=False):
        services.accept_complaint(ticket, actor=nanjing_dispatcher, category=Category.objects.get(code="0104"))
    assert (ticket.due_days, ticket.due_param, ticket.due_param_version) == (
        5, "complaints.limit.category_overrides", 1)


def test_the_overdue_sweep_creates_supervision_once(nanjing_dispatcher) -> None:
    with time_machine.travel(at(2025, 3, 3, 9, 0), tick=False):
        ticket = make_ticket(ComplaintStatus.HANDLING)
    due = ticket.due_at
    with time_machine.travel(due - dt.timedelta(days=1), tick=False):
        first = services.sweep_deadlines()
        assert first.reminded == [ticket.ticket_no] and first.supervised == []
        assert services.sweep_deadlines().reminded == []
    with time_machine.travel(due + dt.timedelta(hours=1), tick=False):
        assert services.sweep_deadlines(dry_run=True).supervised == [ticket.ticket_no]
        assert Supervision.objects.filter(kind="overdue").count() == 0
        assert services.sweep_deadlines().supervised == [ticket.ticket_no]
        assert services.sweep_deadlines().supervised == []
        assert Complaint.objects.overdue(due + dt.timedelta(hours=1)).filter(pk=ticket.pk).exists()
    kinds = list(Supervision.objects.filter(complaint=ticket).values_list("kind", flat=True))
    assert sorted(kinds) == ["decision", "overdue", "reminder"]  # never decided either: chased once for that too
    assert ticket.events.filter(step="supervised").count() == 2


def test_the_sweep_command_has_a_dry_run(capsys) -> None:
    with time_machine.travel(at(2025, 3, 3, 9, 0), tick=False):
        ticket = make_ticket(ComplaintStatus.HANDLING)
    with time_machine.travel(ticket.due_at + dt.timedelta(days=1), tick=False):
        call_command("complaints", "sweep-overdue", "--dry-run")
        assert "1" in capsys.readouterr().out and not Supervision.objects.exists()
        call_command("complaints", "sweep-overdue")
        assert Supervision.objects.filter(kind="overdue").count() == 1


def test_the_celery_task_runs_the_sweep() -> None:
    from jianguan.complaints.tasks import sweep_deadlines

    with time_machine.travel(at(2025, 3, 3, 9, 0), tick=False):
        ticket = make_ticket(ComplaintStatus.DISPATCHED)
    with time_machine.travel(ticket.due_at + dt.timedelta(days=1), tick=False):
        assert sweep_deadlines.delay().get() == {"reminded": 0, "supervised": 1, "decision_supervised": 1,
                                                 "notice_supervised": 0}


def test_a_reopened_ticket_gets_a_new_clock_and_can_be_swept_again(nanjing_dispatcher) -> None:
    with time_machine.travel(at(2025, 3, 3, 9, 0), tick=False):
        ticket = make_ticket(ComplaintStatus.HANDLING)
    with time_machine.travel(ticket.due_at + dt.timedelta(hours=1), tick=False):
        services.sweep_deadlines()
    handler = make_user("rh", "320106", "001", ["complaint_handler"])
    with time_machine.travel(at(2025, 4, 1, 9, 0), tick=False):
        services.decide_complaint(ticket, actor=handler, accepted=True)
        services.reply_complaint(ticket, actor=handler, reply="已处理")
        services.close_complaint(ticket, actor=nanjing_dispatcher)
        services.rate_complaint(ticket, actor=nanjing_dispatcher, rating="dissatisfied")
    assert ticket.reopen_count == 1 and ticket.overdue_supervised_at is None
    with time_machine.travel(ticket.due_at + dt.timedelta(hours=1), tick=False):
        assert services.sweep_deadlines().supervised == [ticket.ticket_no]
    assert Supervision.objects.filter(complaint=ticket, kind="overdue").count() == 2


def test_an_extension_needs_approval_and_moves_the_due_date(nanjing_supervisor) -> None:
    with time_machine.travel(at(2025, 9, 15, 9, 0), tick=False):
        ticket = make_ticket(ComplaintStatus.HANDLING, kind="report", reporter_name="", reporter_phone="",
                             anonymous=True)
        handler = make_user("ext_h", "320106", "001", ["complaint_handler"])
        before = ticket.due_at
        with pytest.raises(DomainError):
            services.request_extension(ticket, actor=handler, days=16, reason="需检测")
        extension = services.request_extension(ticket, actor=handler, days=15, reason="需送检，等待检测报告")
        ticket.refresh_from_db()
        assert ticket.due_at == before  # not before approval
        services.decide_extension(extension, actor=nanjing_supervisor, approve=True, note="同意")
    ticket.refresh_from_db()
    assert ticket.extension_days == 15
    assert ticket.due_at.astimezone(BJ).date() == work_calendar().add_working_days(before.astimezone(BJ).date(), 15)
    with pytest.raises(DomainError):
        services.request_extension(ticket, actor=handler, days=1, reason="再延")


def test_a_late_acceptance_decision_is_supervised_once(nanjing_dispatcher) -> None:
    with time_machine.travel(at(2025, 3, 3, 9, 0), tick=False):
        ticket = make_ticket(ComplaintStatus.HANDLING)
    late = ticket.decision_due_at + dt.timedelta(hours=1)
    with time_machine.travel(ticket.decision_due_at - dt.timedelta(hours=1), tick=False):
        assert services.sweep_deadlines().decision_supervised == []
    with time_machine.travel(late, tick=False):
        assert services.sweep_deadlines().decision_supervised == [ticket.ticket_no]
        assert services.sweep_deadlines().decision_supervised == []
    supervision = Supervision.objects.get(complaint=ticket, kind="decision")
    assert "受理决定" in supervision.instructions and supervision.reply_due_at is not None
    ticket.refresh_from_db()
    assert ticket.decision_supervised_at == late


def test_a_decided_complaint_is_not_chased_for_its_decision(nanjing_dispatcher) -> None:
    with time_machine.travel(at(2025, 3, 3, 9, 0), tick=False):
        ticket = make_ticket(ComplaintStatus.REPLIED)
    with time_machine.travel(ticket.decision_due_at + dt.timedelta(days=1), tick=False):
        assert services.sweep_deadlines().decision_supervised == []


def _decided_report(case_opened: bool = True) -> tuple[Complaint, object]:
    from jianguan.complaints.tests.factories import _handler

    ticket = make_ticket(ComplaintStatus.HANDLING, kind="report", category="0301")
    handler = _handler(ticket.handling_org)
    services.decide_complaint(ticket, actor=handler, accepted=True, case_opened=case_opened)
    ticket.refresh_from_db()
    return ticket, handler


def test_a_real_name_reporter_not_told_in_5_working_days_is_chased_until_told() -> None:
    with time_machine.travel(at(2025, 3, 3, 9, 0), tick=False):
        ticket, handler = _decided_report()
    assert ticket.notify_due_at.astimezone(BJ).date() == dt.date(2025, 3, 10)
    with time_machine.travel(ticket.notify_due_at + dt.timedelta(hours=1), tick=False):
        assert services.sweep_deadlines().notice_supervised == [ticket.ticket_no]
        assert services.sweep_deadlines().notice_supervised == []
        services.tell_reporter(ticket, actor=handler, method="电话", note="已电话告知已立案")
    ticket.refresh_from_db()
    assert ticket.reporter_told_at is not None
    step = ticket.events.get(step="reporter_told")
    assert step.public and step.details == {"method": "电话", "on_time": False}
    with pytest.raises(DomainError):
        services.tell_reporter(ticket, actor=handler, method="电话")


def test_telling_the_reporter_in_time_stops_the_chase() -> None:
    with time_machine.travel(at(2025, 3, 3, 9, 0), tick=False):
        ticket, handler = _decided_report(case_opened=False)
        services.tell_reporter(ticket, actor=handler, method="书面告知")
    with time_machine.travel(ticket.notify_due_at + dt.timedelta(days=1), tick=False):
        assert services.sweep_deadlines().notice_supervised == []


def test_there_is_nothing_to_tell_without_a_notice_deadline() -> None:
    from jianguan.complaints.tests.factories import _handler

    ticket = make_ticket(ComplaintStatus.HANDLING)
    with pytest.raises(DomainError) as excinfo:
        services.tell_reporter(ticket, actor=_handler(ticket.handling_org), method="电话")
    assert excinfo.value.code == "complaint.no_notice_due"
