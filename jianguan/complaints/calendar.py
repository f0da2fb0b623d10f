"""The public-holiday calendar as data: ``jianguan/core/data/holidays/YYYY.csv`` loaded into a
:class:`jianguan.lib.workdays.WorkCalendar` (one per process; reload with ``work_calendar.cache_clear()``)."""

from __future__ import annotations

import csv
import datetime as dt
import logging
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from jianguan.lib.workdays import WorkCalendar

logger = logging.getLogger(__name__)

HOLIDAY_DIR = Path(__file__).resolve().parent.parent / "core" / "data" / "holidays"


def load_calendar(directory: Path = HOLIDAY_DIR) -> tuple[WorkCalendar, frozenset[int]]:
    """Read every ``YYYY.csv``; returns the calendar and the years whose data is only provisional."""
    holidays: set[dt.date] = set()
    workdays: set[dt.date] = set()
    years: set[int] = set()
    provisional: set[int] = set()
    for path in sorted(directory.glob("[0-9][0-9][0-9][0-9].csv")):
        year = int(path.stem)
        years.add(year)
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for number, row in enumerate(csv.DictReader(fh), start=2):
                try:
                    day = dt.date.fromisoformat(row["date"])
                except (KeyError, ValueError):
                    raise ValueError(f"{path.name} line {number}: bad date {row.get('date')!r}") from None
                kind = row.get("kind", "")
                if kind == "holiday":
                    holidays.add(day)
                elif kind == "workday":
                    if day.weekday() < 5:
                        raise ValueError(f"{path.name} line {number}: {day} is a weekday, not an adjusted weekend")
                    workdays.add(day)
                else:
                    raise ValueError(f"{path.name} line {number}: kind must be holiday or workday, not {kind!r}")
                if row.get("status") == "provisional":
                    provisional.add(year)
    return WorkCalendar.build(holidays, workdays, years), frozenset(provisional)


@lru_cache(maxsize=1)
def work_calendar() -> WorkCalendar:
    calendar, provisional = load_calendar(getattr(settings, "COMPLAINTS_HOLIDAY_DIR", HOLIDAY_DIR))
    if provisional:
        logger.info("holiday calendar: years %s are provisional", sorted(provisional))
    return calendar


def deadline(start: dt.datetime, days: int) -> dt.datetime:
    """End of the due day of a ``days``-working-day limit starting at ``start``, in Beijing time."""
    local = timezone.localtime(start)
    return work_calendar().deadline(local, days)


def reminder_point(start: dt.datetime, days: int, fraction: float) -> dt.datetime:
    return work_calendar().point_in_limit(timezone.localtime(start), days, fraction)


def extend(due: dt.datetime, days: int) -> dt.datetime:
    """A due date moved on by ``days`` further working days."""
    local = timezone.localtime(due)
    return work_calendar().deadline(local, days)
