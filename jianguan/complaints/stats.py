"""Statistics over a scoped queryset of work orders: volumes by type, category, region, department and entity over
time; on-time, closure and satisfaction rates; top entities; rising categories. Used by the page and the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Substr, TruncMonth
from django.utils import timezone

from jianguan.complaints.choices import ComplaintKind, ComplaintStatus
from jianguan.complaints.models import Category
from jianguan.core.models import DepartmentKind, Region


def _month_start(day: dt.date, back: int) -> dt.date:
    year, month = day.year, day.month - back
    while month <= 0:
        month += 12
        year -= 1
    return dt.date(year, month, 1)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def compute(queryset: Any, *, months: int = 12, now: dt.datetime | None = None) -> dict[str, Any]:
    months = max(1, min(months, 36))
    now = now or timezone.now()
    today = timezone.localdate(now)
    start_day = _month_start(today, months - 1)
    start = timezone.make_aware(dt.datetime.combine(start_day, dt.time.min))
    qs = queryset.filter(submitted_at__gte=start, submitted_at__lte=now).order_by()

    monthly_rows = (
        qs.annotate(month=TruncMonth("submitted_at")).values("month", "kind").annotate(n=Count("id")).order_by("month")
    )
    month_keys = [_month_start(today, months - 1 - i).strftime("%Y-%m") for i in range(months)]
    monthly = {key: {k: 0 for k in ComplaintKind.values} for key in month_keys}
    for row in monthly_rows:
        month = row["month"]
        key = (timezone.localtime(month) if isinstance(month, dt.datetime) and timezone.is_aware(month)
               else month).strftime("%Y-%m")
        if key in monthly:
            monthly[key][row["kind"]] = row["n"]

    by_kind = {k: 0 for k in ComplaintKind.values}
    by_kind.update({r["kind"]: r["n"] for r in qs.values("kind").annotate(n=Count("id"))})

    top_names = dict(Category.objects.filter(parent__isnull=True).values_list("code", "name"))
    by_category_rows = (
        qs.filter(category__isnull=False).annotate(top=Substr("category__code", 1, 2)).values("top")
        .annotate(n=Count("id")).order_by("-n")
    )
    by_category = [{"code": r["top"], "name": top_names.get(r["top"], r["top"]), "count": r["n"]}
                   for r in by_category_rows]

    city_names = dict(Region.objects.filter(level="city").values_list("code", "name"))
    by_city_rows = qs.annotate(city=Substr("handling_region_id", 1, 4)).values("city").annotate(n=Count("id"))
    by_city = sorted(
        ({"code": f"{r['city']}00", "name": city_names.get(f"{r['city']}00", "省级"), "count": r["n"]}
         for r in by_city_rows),
        key=lambda r: -r["count"],
    )

    kind_names = dict(DepartmentKind.objects.values_list("code", "short_name"))
    by_department = [
        {"code": r["handling_org__kind_id"], "name": kind_names.get(r["handling_org__kind_id"], ""), "count": r["n"]}
        for r in qs.filter(handling_org__isnull=False).values("handling_org__kind_id").annotate(n=Count("id"))
        .order_by("-n")[:15]
    ]

    top_subjects = [
        {"name": r["subject_name"], "uscc": r["subject_uscc"], "count": r["n"]}
        for r in qs.exclude(subject_name="").values("subject_name", "subject_uscc").annotate(n=Count("id"))
        .order_by("-n", "subject_name")[:10]
    ]

    counted = qs.exclude(status__in=(ComplaintStatus.MERGED, ComplaintStatus.INVALID))
    totals = counted.aggregate(
        total=Count("id"),
        done=Count("id", filter=Q(status__in=(ComplaintStatus.CLOSED, ComplaintStatus.EVALUATED))),
        replied=Count("id", filter=Q(replied_at__isnull=False, due_at__isnull=False)),
        on_time=Count("id", filter=Q(replied_at__isnull=False, due_at__isnull=False, replied_at__lte=F("due_at"))),
        rated=Count("id", filter=~Q(rating="")),
        satisfied=Count("id", filter=Q(rating__in=("satisfied", "basically_satisfied"))),
        overdue=Count("id", filter=Q(status__in=(ComplaintStatus.REGISTERED, ComplaintStatus.DISPATCHED,
                                                 ComplaintStatus.HANDLING), due_at__lt=now)),
        reopened=Count("id", filter=Q(reopen_count__gt=0)),
        dissatisfied_reopenings=Sum("reopen_count"),
    )
    totals["dissatisfied_reopenings"] = totals["dissatisfied_reopenings"] or 0

    recent_start = timezone.make_aware(dt.datetime.combine(_month_start(today, 2), dt.time.min))
    prior_start = timezone.make_aware(dt.datetime.combine(_month_start(today, 5), dt.time.min))
    leaf_names = dict(Category.objects.filter(parent__isnull=False).values_list("code", "name"))
    windows = (
        queryset.filter(submitted_at__gte=prior_start, submitted_at__lte=now, category__isnull=False).order_by()
        .values("category__code")
        .annotate(recent=Count("id", filter=Q(submitted_at__gte=recent_start)),
                  prior=Count("id", filter=Q(submitted_at__lt=recent_start)))
    )
    rising = sorted(
        (
            {"code": r["category__code"], "name": leaf_names.get(r["category__code"], r["category__code"]),
             "recent": r["recent"], "prior": r["prior"],
             "growth": round((r["recent"] - r["prior"]) / max(r["prior"], 1), 3)}
            for r in windows if r["recent"] >= 5 and r["recent"] > r["prior"]
        ),
        key=lambda r: (-r["growth"], -r["recent"]),
    )[:8]

    return {
        "period": {"from": start_day.isoformat(), "to": today.isoformat(), "months": months},
        "totals": totals,
        "rates": {
            "closure": _rate(totals["done"], totals["total"]),
            "on_time": _rate(totals["on_time"], totals["replied"]),
            # every dissatisfied rating reopened its ticket, so it counts among the ratings given
            "satisfaction": _rate(totals["satisfied"], totals["rated"] + totals["dissatisfied_reopenings"]),
        },
        "monthly": [{"month": key, **counts} for key, counts in monthly.items()],
        "by_kind": by_kind,
        "by_category": by_category,
        "by_city": by_city,
        "by_department": by_department,
        "top_subjects": top_subjects,
        "rising_categories": rising,
    }
