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
