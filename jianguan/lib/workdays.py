"""Working-day arithmetic on the Chinese public-holiday calendar (pure Python, no Django).

China's State Council publishes each year's holidays together with *adjusted working days* (调休): weekend days that
become working days to bridge a holiday. A day is a working day when it is an adjusted working day, or when it is a
weekday (Monday–Friday) that is not a holiday.

The project's convention (DOMAIN.md, "Our own conventions"): a time limit of "within N working days" counts from the
**next** working day after the start. A ticket registered on Friday with a 1-working-day limit is due at the end of
the following Monday (if Monday is a working day); N = 0 means "the same day".

The calendar data is passed in (``WorkCalendar(holidays=..., workdays=...)``); loading it from files is the caller's
job. ``covers(day)`` tells whether a day falls in a year the data describes; outside those years only weekends are
known, and ``strict=True`` makes the calendar refuse such days instead of guessing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["CalendarGap", "WorkCalendar"]


class CalendarGap(LookupError):
    """A strict calendar was asked about a year it holds no holiday data for."""


@dataclass(frozen=True)
class WorkCalendar:
    """Holidays and adjusted working days; ``years`` are the years the data describes completely."""

    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    workdays: frozenset[dt.date] = field(default_factory=frozenset)
    years: frozenset[int] = field(default_factory=frozenset)
    strict: bool = False

    @classmethod
    def build(
        cls,
        holidays: Iterable[dt.date] = (),
        workdays: Iterable[dt.date] = (),
        years: Iterable[int] | None = None,
        *,
        strict: bool = False,
    ) -> WorkCalendar:
        """A calendar from day lists; ``years`` defaults to every year mentioned in the data."""
        hol = frozenset(holidays)
        work = frozenset(workdays)
        both = hol & work
        if both:
            raise ValueError(f"days listed both as holiday and as working day: {sorted(both)}")
        covered = frozenset(years) if years is not None else frozenset(d.year for d in hol | work)
        return cls(hol, work, covered, strict)

    def covers(self, day: dt.date) -> bool:
        return day.year in self.years

    def _check(self, day: dt.date) -> None:
        if self.strict and not self.covers(day):
            raise CalendarGap(f"no holiday data for {day.year}")

    def is_working_day(self, day: dt.date) -> bool:
        """Adjusted working days work; holidays rest; otherwise Monday–Friday work."""
        self._check(day)
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``."""
        current = day + dt.timedelta(days=1)
        while not self.is_working_day(current):
            current += dt.timedelta(days=1)
        return current

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The last day of a limit of ``days`` working days starting on ``start`` (counting from the next working
        day). ``days == 0`` gives ``start`` itself."""
        if days < 0:
            raise ValueError("days must not be negative")
        current = start
        for _ in range(days):
            current = self.next_working_day(current)
        return current

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """How many working days lie after ``start`` up to and including ``end`` (0 when ``end <= start``)."""
        count = 0
        current = start
        while current < end:
            current += dt.timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count

    def deadline(self, start: dt.datetime, days: int) -> dt.datetime:
        """The end (23:59:59.999999, in ``start``'s time zone) of the due day of a ``days``-working-day limit that
        starts at ``start`` (an aware or naive datetime; the due day is computed on its local date)."""
        due = self.add_working_days(start.date(), days)
        return dt.datetime.combine(due, dt.time.max, tzinfo=start.tzinfo)

    def point_in_limit(self, start: dt.datetime, days: int, fraction: float) -> dt.datetime:
        """The moment ``fraction`` (0–1) of the way from ``start`` to the deadline, in elapsed time (used for
        reminders at, say, 80 % of a limit)."""
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        end = self.deadline(start, days)
        return start + (end - start) * fraction
