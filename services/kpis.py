"""The public-service KPIs of the national citizen-service index (QĐ 766/QĐ-TTg), per unit and
per procedure, over a period:

- on-time rate: dossiers decided by their appointment date (waits on the citizen subtracted:
  the appointment moved on by them), with at most one supplement request and no apology
  letter, over the dossiers decided in the period;
- online share: dossiers submitted online over the dossiers submitted in the period;
- average processing time: working days from the receipt day to the decision, waits
  subtracted;
- satisfaction: 100% − (late% + dislike%), a dislike being a rating of one or two stars.

The figures a decision fixes are stored on the dossier when it is decided, so each grouping
is two aggregate queries.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Avg, Count, Q, QuerySet

from digital_address.vietnamese_text import fold
from services.models import DISLIKE_MAX_STARS, Channel, Dossier
from services.workdays import LOCAL

GROUPINGS = {
    "units": ("unit_id", "unit__name"),
    "procedures": ("procedure__code", "procedure__name"),
}


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _figures(decided: dict, submitted: dict) -> dict:
    finished = decided.get("finished", 0)
    on_time = decided.get("on_time", 0)
    dislikes = decided.get("dislikes", 0)
    on_time_rate = _percent(on_time, finished)
    satisfaction = None
    if finished:
        late = 100 * (finished - on_time) / finished
        satisfaction = round(max(0.0, 100 - late - 100 * dislikes / finished), 1)
    average = decided.get("average_days")
    return {
        "submitted": submitted.get("submitted", 0),
        "online": submitted.get("online", 0),
        "online_share": _percent(submitted.get("online", 0), submitted.get("submitted", 0)),
        "finished": finished,
        "on_time": on_time,
        "late": finished - on_time,
        "on_time_rate": on_time_rate,
        "average_working_days": round(average, 1) if average is not None else None,
        "dislikes": dislikes,
        "satisfaction": satisfaction,
    }


_DECIDED = {
    "finished": Count("id"),
    "on_time": Count("id", filter=Q(on_time=True)),
    "average_days": Avg("working_days_taken"),
    "dislikes": Count("id", filter=Q(rating__stars__lte=DISLIKE_MAX_STARS)),
}
_SUBMITTED = {"submitted": Count("id"), "online": Count("id", filter=Q(channel=Channel.ONLINE))}


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period's days, inclusive, in Vietnam's time."""
    return (
        datetime.combine(start, time.min, tzinfo=LOCAL),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=LOCAL),
    )


def dossier_kpis(*, dossiers: QuerySet[Dossier], start: date, end: date) -> dict:
    """The KPIs of ``dossiers`` (already limited to what the reader may see) for the period:
    the total, and one row per unit and per procedure, in the alphabetical order of their names."""
    lower, upper = _bounds(start, end)
    decided = dossiers.filter(decided_at__gte=lower, decided_at__lt=upper).order_by()
    submitted = dossiers.filter(submitted_at__gte=lower, submitted_at__lt=upper).order_by()
    body: dict = {
        "from": start,
        "to": end,
        "total": _figures(decided.aggregate(**_DECIDED), submitted.aggregate(**_SUBMITTED)),
    }
    for name, (key, label) in GROUPINGS.items():
        rows: dict = {}
        for row in decided.values(key, label).annotate(**_DECIDED):
            rows.setdefault((row[key], row[label]), [{}, {}])[0] = row
        for row in submitted.values(key, label).annotate(**_SUBMITTED):
            rows.setdefault((row[key], row[label]), [{}, {}])[1] = row
        body[name] = [
            {"code": code, "name": title, **_figures(*figures)}
            # In Vietnamese order (Đoàn Kết before Thất Khê), not by code point.
            for (code, title), figures in sorted(rows.items(), key=lambda item: fold(item[0][1]))
        ]
    return body


# --- field reports ---------------------------------------------------------------------------

REPORT_GROUPINGS = {
    "units": ("unit_id", "unit__name"),
    "categories": ("category__code", "category__name"),
}
_REPORT_RECEIVED = {"received": Count("id")}
_REPORT_ACKNOWLEDGED = {
    "acknowledged": Count("id"),
    "acknowledged_on_time": Count("id", filter=Q(acknowledged_on_time=True)),
}
# Reactions are joined: each report counted once (distinct), each reaction once.
_REPORT_RESOLVED = {
    "resolved": Count("id", distinct=True),
    "resolved_on_time": Count("id", filter=Q(resolved_on_time=True), distinct=True),
    "confirmed": Count("id", filter=Q(satisfied=True), distinct=True),
    # Disputed at least once (escalated), even if a later fix was confirmed: a complaint.
    "disputed": Count("id", filter=Q(escalated=True), distinct=True),
    "likes": Count("reactions", filter=Q(reactions__like=True)),
    "dislikes": Count("reactions", filter=Q(reactions__like=False)),
}


def _report_figures(received: dict, acknowledged: dict, resolved: dict) -> dict:
    done = resolved.get("resolved", 0)
    on_time = resolved.get("resolved_on_time", 0)
    complaints = resolved.get("disputed", 0) + resolved.get("dislikes", 0)
    satisfaction = None
    if done:
        late = 100 * (done - on_time) / done
        satisfaction = round(max(0.0, 100 - late - 100 * complaints / done), 1)
    return {
        "received": received.get("received", 0),
        "acknowledged": acknowledged.get("acknowledged", 0),
        "acknowledged_on_time": acknowledged.get("acknowledged_on_time", 0),
        "acknowledged_on_time_rate": _percent(
            acknowledged.get("acknowledged_on_time", 0), acknowledged.get("acknowledged", 0)
        ),
        "resolved": done,
        "resolved_on_time": on_time,
        "resolved_on_time_rate": _percent(on_time, done),
        "confirmed": resolved.get("confirmed", 0),
        "disputed": resolved.get("disputed", 0),
        "likes": resolved.get("likes", 0),
        "dislikes": resolved.get("dislikes", 0),
        "satisfaction": satisfaction,
    }


def report_kpis(*, reports: QuerySet, start: date, end: date) -> dict:
    """The field-report KPIs of ``reports`` (already limited to what the reader may see) for
    the period, in total and per unit and per category:

    - acknowledged on time: accepted or refused by the category's working-day deadline;
    - resolved on time: resolved by the deadline (a disputed fix counts at its new resolution);
    - satisfaction: 100% − (late% + complaint%), a complaint being a disputed fix or a dislike,
      over the reports resolved in the period.

    One query per measure, grouped by unit and category; the totals and the two groupings are
    sums of those rows (a report has one unit and one category)."""
    lower, upper = _bounds(start, end)
    measures = [
        ("created_at", _REPORT_RECEIVED),
        ("acknowledged_at", _REPORT_ACKNOWLEDGED),
        ("resolved_at", _REPORT_RESOLVED),
    ]
    keys = ("unit_id", "unit__name", "category__code", "category__name")
    total: list[dict] = [{}, {}, {}]
    groups: dict[str, dict] = {name: {} for name in REPORT_GROUPINGS}
    for index, (moment, aggregates) in enumerate(measures):
        rows = (
            reports.filter(**{f"{moment}__gte": lower, f"{moment}__lt": upper})
            .order_by()
            .values(*keys)
            .annotate(**aggregates)
        )
        for row in rows:
            _add(total[index], row, aggregates)
            for name, (key, label) in REPORT_GROUPINGS.items():
                figures = groups[name].setdefault((row[key], row[label]), [{}, {}, {}])
                _add(figures[index], row, aggregates)
    body: dict = {"from": start, "to": end, "total": _report_figures(*total)}
    for name, rows in groups.items():
        body[name] = [
            {"code": code, "name": title, **_report_figures(*figures)}
            for (code, title), figures in sorted(rows.items(), key=lambda item: fold(item[0][1]))
        ]
    return body


def _add(into: dict, row: dict, aggregates: dict) -> None:
    for measure in aggregates:
        into[measure] = into.get(measure, 0) + row[measure]
