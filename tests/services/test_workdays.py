"""The working-day calendar every deadline uses: weekends, Tết and the other public holidays,
announced swaps, the intake cut-off, pauses while a dossier waits on the citizen."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from services.models import CalendarDay
from services.workdays import WorkCalendar, work_calendar

VN = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = ZoneInfo("UTC")
PLAIN = WorkCalendar(cutoff=time(16, 0))


def at(day: str, clock: str = "09:00", tz=VN) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=tz)


@pytest.mark.parametrize(
    ("received", "days", "expected", "why"),
    [
        (at("2026-03-02"), 3, date(2026, 3, 5), "Monday morning + 3 → Thursday"),
        (at("2026-03-06"), 1, date(2026, 3, 9), "Friday + 1 → Monday: the weekend does not count"),
        (at("2026-03-02", "15:59"), 1, date(2026, 3, 3), "just before the cut-off: that day"),
        (at("2026-03-02", "16:00"), 1, date(2026, 3, 4), "at the cut-off: the next working day"),
        (at("2026-03-07", "10:00"), 1, date(2026, 3, 10), "a Saturday: received on Monday"),
        (at("2026-02-13"), 3, date(2026, 2, 25), "Tết 2026 (16–20 Feb) does not count"),
        (at("2026-02-13", "16:30"), 3, date(2026, 2, 26), "after the cut-off before Tết"),
        (at("2026-02-17", "10:00"), 0, date(2026, 2, 23), "received during Tết: Monday after"),
        (at("2026-04-24"), 1, date(2026, 4, 28), "Hùng Kings on Sunday 26 Apr, off on Monday 27"),
        (at("2026-04-28"), 2, date(2026, 5, 4), "30 April and 1 May"),
        (at("2026-08-28"), 1, date(2026, 9, 3), "National Day: 31 Aug (substitute), 1–2 Sep"),
        (at("2027-02-03"), 1, date(2027, 2, 11), "Tết 2027 (4–10 Feb)"),
        (at("2026-03-02", "08:59", UTC), 1, date(2026, 3, 3), "15:59 in Hà Nội: before"),
        (at("2026-03-02", "09:00", UTC), 1, date(2026, 3, 4), "16:00 in Hà Nội: after"),
    ],
)
def test_the_appointment_date(received, days, expected, why):
    assert PLAIN.appointment(received, days) == expected, why


def test_an_announced_working_saturday_counts():
    swapped = WorkCalendar(swaps={date(2026, 8, 22): True}, cutoff=time(16, 0))

    assert PLAIN.appointment(at("2026-08-21"), 1) == date(2026, 8, 24)
    assert swapped.appointment(at("2026-08-21"), 1) == date(2026, 8, 22)
    assert swapped.receipt_day(at("2026-08-22", "10:00")) == date(2026, 8, 22)


def test_an_announced_day_off_does_not_count():
    bridge = WorkCalendar(swaps={date(2026, 12, 31): False}, cutoff=time(16, 0))

    assert PLAIN.appointment(at("2026-12-30"), 1) == date(2026, 12, 31)
    # 31 Dec announced off, 1 Jan a holiday, then the weekend.
    assert bridge.appointment(at("2026-12-30"), 1) == date(2027, 1, 4)


def test_the_clock_stops_while_the_dossier_waits_on_the_citizen():
    received = at("2026-03-02")  # Monday; 5 working days → Monday 9 March
    assert PLAIN.appointment(received, 5) == date(2026, 3, 9)

    # Asked for a supplement on Tuesday, answered on Thursday: Wednesday and Thursday waited.
    two_days = [(at("2026-03-03", "10:00"), at("2026-03-05", "09:00"))]
    assert PLAIN.appointment(received, 5, two_days) == date(2026, 3, 11)
    # Asked and answered the same day: nothing waited.
    same_day = [(at("2026-03-03", "10:00"), at("2026-03-03", "15:00"))]
    assert PLAIN.appointment(received, 5, same_day) == date(2026, 3, 9)
    # A wait over a weekend counts its working days only (Fri → Tue: Mon and Tue).
    weekend = [(at("2026-03-06", "10:00"), at("2026-03-10", "09:00"))]
    assert PLAIN.appointment(received, 5, weekend) == date(2026, 3, 11)
    # Still waiting: counted up to now.
    still = [(at("2026-03-03", "10:00"), None)]
    assert PLAIN.appointment(received, 5, still, now=at("2026-03-04")) == date(2026, 3, 10)
    # Two waits add up.
    assert PLAIN.appointment(received, 5, two_days + weekend) == date(2026, 3, 13)


def test_remaining_time_and_overdue():
    appointment = date(2026, 3, 9)  # a Monday

    assert PLAIN.remaining_working_days(appointment, now=at("2026-03-05")) == 2
    assert PLAIN.remaining_working_days(appointment, now=at("2026-03-09", "16:59")) == 0
    assert PLAIN.is_overdue(appointment, now=at("2026-03-09", "23:59")) is False
    assert PLAIN.is_overdue(appointment, now=at("2026-03-10", "00:00")) is True
    assert PLAIN.remaining_working_days(appointment, now=at("2026-03-11")) == -2


def test_counting_working_days():
    assert PLAIN.working_days_between(date(2026, 2, 13), date(2026, 2, 23)) == 1
    assert PLAIN.working_days_between(date(2026, 2, 23), date(2026, 2, 13)) == -1
    assert PLAIN.working_days_between(date(2026, 3, 2), date(2026, 3, 2)) == 0
    assert PLAIN.add_working_days(date(2026, 3, 7), 0) == date(2026, 3, 7)
    with pytest.raises(ValueError, match="cannot count"):
        PLAIN.add_working_days(date(2026, 3, 2), -1)


@pytest.mark.django_db
def test_the_configured_calendar_reads_the_swaps_and_the_cut_off(settings):
    CalendarDay.objects.create(date=date(2026, 8, 22), is_working_day=True, reason="Làm bù")
    settings.INTAKE_CUTOFF = time(15, 0)

    calendar = work_calendar()

    assert calendar.is_working_day(date(2026, 8, 22)) is True
    assert calendar.receipt_day(at("2026-03-02", "15:30")) == date(2026, 3, 3)
