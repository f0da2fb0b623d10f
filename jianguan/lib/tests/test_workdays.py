"""Tests for :mod:`jianguan.lib.workdays`: working days with holidays and adjusted working weekends (调休)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from jianguan.lib.workdays import CalendarGap, WorkCalendar

D = dt.date
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


# 2025 国庆节、中秋节: 10-01..10-08 off; Sunday 09-28 and Saturday 10-11 are working days.
CAL_2025 = WorkCalendar.build(
    holidays=[*_days(D(2025, 10, 1), D(2025, 10, 8)), *_days(D(2025, 1, 28), D(2025, 2, 4))],
    workdays=[D(2025, 9, 28), D(2025, 10, 11), D(2025, 1, 26), D(2025, 2, 8)],
    years=[2025],
)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2025, 9, 26), True),  # Friday
        (D(2025, 9, 27), False),  # Saturday
        (D(2025, 9, 28), True),  # Sunday, adjusted working day
        (D(2025, 10, 1), False),  # National Day
        (D(2025, 10, 8), False),  # Wednesday inside the holiday
        (D(2025, 10, 9), True),
        (D(2025, 10, 11), True),  # Saturday, adjusted working day
        (D(2025, 10, 12), False),  # Sunday
    ],
)
def test_it_knows_which_days_are_working_days(day: dt.date, working: bool) -> None:
    assert CAL_2025.is_working_day(day) is working


def test_it_counts_from_the_next_working_day() -> None:
    # Registered on Friday 09-26: 9-28 (Sun, 调休), 9-29, 9-30, 10-9, 10-10, 10-11 (Sat, 调休), 10-13.
    assert CAL_2025.add_working_days(D(2025, 9, 26), 1) == D(2025, 9, 28)
    assert CAL_2025.add_working_days(D(2025, 9, 26), 4) == D(2025, 10, 9)
    assert CAL_2025.add_working_days(D(2025, 9, 26), 7) == D(2025, 10, 13)


def test_it_does_not_count_the_start_day_even_when_it_is_a_working_day() -> None:
    assert CAL_2025.add_working_days(D(2025, 11, 3), 1) == D(2025, 11, 4)  # Monday -> Tuesday
    assert CAL_2025.add_working_days(D(2025, 11, 3), 0) == D(2025, 11, 3)


def test_a_start_on_a_holiday_counts_from_the_first_working_day_after_it() -> None:
    assert CAL_2025.add_working_days(D(2025, 10, 3), 1) == D(2025, 10, 9)


def test_it_skips_plain_weekends() -> None:
    assert CAL_2025.add_working_days(D(2025, 11, 7), 1) == D(2025, 11, 10)  # Friday -> Monday
    assert CAL_2025.add_working_days(D(2025, 11, 7), 15) == D(2025, 11, 28)


def test_it_handles_the_spring_festival_with_two_adjusted_weekends() -> None:
    # 01-24 Fri; 01-26 Sun works; 01-27 Mon; 01-28..02-04 off; 02-05..02-07; 02-08 Sat works.
    assert CAL_2025.add_working_days(D(2025, 1, 24), 2) == D(2025, 1, 27)
    assert CAL_2025.add_working_days(D(2025, 1, 24), 3) == D(2025, 2, 5)
    assert CAL_2025.add_working_days(D(2025, 1, 24), 6) == D(2025, 2, 8)


def test_it_counts_working_days_between_two_dates() -> None:
    assert CAL_2025.working_days_between(D(2025, 9, 26), D(2025, 10, 13)) == 7
    assert CAL_2025.working_days_between(D(2025, 10, 13), D(2025, 9, 26)) == 0


def test_the_deadline_is_the_end_of_the_due_day_in_the_start_time_zone() -> None:
    start = dt.datetime(2025, 9, 26, 16, 30, tzinfo=SHANGHAI)
    due = CAL_2025.deadline(start, 7)
    assert due.date() == D(2025, 10, 13)
    assert due.time() == dt.time.max
    assert due.tzinfo is SHANGHAI


def test_a_reminder_point_lies_inside_the_limit() -> None:
    start = dt.datetime(2025, 11, 3, 9, 0, tzinfo=SHANGHAI)
    at = CAL_2025.point_in_limit(start, 5, 0.8)
    assert start < at < CAL_2025.deadline(start, 5)
    with pytest.raises(ValueError):
        CAL_2025.point_in_limit(start, 5, 1.5)


def test_a_strict_calendar_refuses_years_without_data() -> None:
    strict = WorkCalendar.build(holidays=[D(2025, 1, 1)], years=[2025], strict=True)
    assert strict.is_working_day(D(2025, 1, 2))
    with pytest.raises(CalendarGap):
        strict.is_working_day(D(2031, 1, 2))
    assert not strict.covers(D(2031, 1, 2))


def test_a_lenient_calendar_falls_back_to_weekends() -> None:
    assert CAL_2025.is_working_day(D(2031, 1, 2))
    assert not CAL_2025.is_working_day(D(2031, 1, 4))


def test_it_refuses_contradictory_data_and_negative_limits() -> None:
    with pytest.raises(ValueError):
        WorkCalendar.build(holidays=[D(2025, 1, 1)], workdays=[D(2025, 1, 1)])
    with pytest.raises(ValueError):
        CAL_2025.add_working_days(D(2025, 1, 1), -1)


def test_it_is_consistent_between_adding_and_counting() -> None:
    start = D(2025, 9, 15)
    for n in range(0, 40):
        assert CAL_2025.working_days_between(start, CAL_2025.add_working_days(start, n)) == n
