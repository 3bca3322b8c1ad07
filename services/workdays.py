"""Vietnamese working days, for every deadline of a dossier.

A day is a working day when it is Monday to Friday and not a public holiday (the ``holidays``
package's Vietnam calendar: Tết and the other lunar holidays, and the substitute days off it
knows), unless an administrator entered it in the table of announced day swaps
(:class:`services.models.CalendarDay`), which wins both ways.

Counting (Decree 61/2018/NĐ-CP and the national portal's practice): a dossier received on a
working day before the intake cut-off (``INTAKE_CUTOFF``, local time) is received that day;
received later, or on a day off, it is received on the next working day. Its appointment date
(ngày hẹn trả) is the N-th working day after that. While it waits on the citizen (statuses 5 and
6) the clock stops: every working day the wait covers moves the appointment one working day on.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
# A bound on every walk over the calendar: no procedure lasts years of working days, so a loop
# that goes this far is a bug, not a long deadline.
MAX_WORKING_DAYS = 2000


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=year))


@dataclass(frozen=True)
class WorkCalendar:
    swaps: Mapping[date, bool] = field(default_factory=dict)
    cutoff: time = time(16, 0)

    def is_working_day(self, day: date) -> bool:
        if day in self.swaps:
            return self.swaps[day]
        return day.weekday() < 5 and day not in _public_holidays(day.year)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        for _ in range(MAX_WORKING_DAYS):
            day += timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise ValueError(f"no working day within {MAX_WORKING_DAYS} days after {day}")

    def add_working_days(self, day: date, count: int) -> date:
        """The ``count``-th working day after ``day`` (``day`` itself when ``count`` is 0)."""
        if not 0 <= count <= MAX_WORKING_DAYS:
            raise ValueError(f"cannot count {count} working days")
        for _ in range(count):
            day = self.next_working_day(day)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when ``end`` is before ``start``."""
        if end < start:
            return -self.working_days_between(end, start)
        if (end - start).days > MAX_WORKING_DAYS * 2:
            raise ValueError("range too long")
        return sum(
            1
            for offset in range(1, (end - start).days + 1)
            if self.is_working_day(start + timedelta(days=offset))
        )

    def receipt_day(self, received_at: datetime) -> date:
        """The day a dossier counts as received: that day when it is a working day and the
        dossier came before the cut-off, otherwise the next working day."""
        local = received_at.astimezone(LOCAL)
        if self.is_working_day(local.date()) and local.time() < self.cutoff:
            return local.date()
        return self.next_working_day(local.date())

    def appointment(
        self,
        received_at: datetime,
        working_days: int,
        pauses: Iterable[tuple[datetime, datetime | None]] = (),
        now: datetime | None = None,
    ) -> date:
        """The appointment date: ``working_days`` after the receipt day, moved on by the
        working days spent waiting on the citizen (a pause still open counts up to ``now``)."""
        paused = sum(self.paused_days(start, end, now) for start, end in pauses)
        return self.add_working_days(self.receipt_day(received_at), working_days + paused)

    def paused_days(self, start: datetime, end: datetime | None, now: datetime | None) -> int:
        """Working days a wait covers: those after the day it began, up to the day it ended
        (a wait begun and answered within one day costs nothing)."""
        finish = end or now or timezone.now()
        return max(
            0,
            self.working_days_between(
                start.astimezone(LOCAL).date(), finish.astimezone(LOCAL).date()
            ),
        )

    def remaining_working_days(self, appointment: date, now: datetime | None = None) -> int:
        """Working days left until the appointment date (0 on the day itself; negative when
        overdue: the working days since)."""
        today = (now or timezone.now()).astimezone(LOCAL).date()
        return self.working_days_between(today, appointment)

    def is_overdue(self, appointment: date, now: datetime | None = None) -> bool:
        return (now or timezone.now()).astimezone(LOCAL).date() > appointment


# The announced day swaps change a few times a year, and every deadline reads them: each process
# keeps them, with the version (in the shared cache) it read them at. Saving or deleting a swap
# gives the version a new value once its transaction commits (services.signals), so every
# process reads the table again on its next call. Without a cache (or with Redis down) the
# table is read on every call.
SWAPS_VERSION_KEY = "services:calendar-swaps:version"
_swaps_memo: tuple[str, dict[date, bool]] | None = None


def swaps_changed() -> None:
    """A swap was saved or deleted: every process reads the table again (now, and once the
    transaction commits, so that none keeps what it read in between)."""
    cache.delete(SWAPS_VERSION_KEY)
    transaction.on_commit(lambda: cache.delete(SWAPS_VERSION_KEY))


def _swaps() -> dict[date, bool]:
    global _swaps_memo
    from services.models import CalendarDay

    version = cache.get(SWAPS_VERSION_KEY)
    if version is None:
        cache.add(SWAPS_VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(SWAPS_VERSION_KEY)
    elif _swaps_memo is not None and _swaps_memo[0] == version:
        return _swaps_memo[1]
    swaps = dict(CalendarDay.objects.values_list("date", "is_working_day"))
    if version is not None:
        _swaps_memo = (version, swaps)
    return swaps


def work_calendar() -> WorkCalendar:
    """The calendar as configured now: the announced swaps (an administrator's new swap counts
    at once) and the cut-off from the settings."""
    return WorkCalendar(swaps=_swaps(), cutoff=settings.INTAKE_CUTOFF)
