"""The province administrator keeps the announced day swaps in the admin."""

from __future__ import annotations

from datetime import date

from django.test import Client

from services.models import CalendarDay

URL = "/admin/services/calendarday/"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_province_administrator_enters_a_working_saturday(province_admin):
    response = logged_in(province_admin).post(
        f"{URL}add/",
        {"date": "22/08/2026", "is_working_day": "on", "reason": "Làm bù cho ngày 31/8/2026"},
        HTTP_ACCEPT_LANGUAGE="vi",
    )

    assert response.status_code == 302, response.content.decode()[:500]
    assert list(CalendarDay.objects.values_list("date", "is_working_day", "reason")) == [
        (date(2026, 8, 22), True, "Làm bù cho ngày 31/8/2026")
    ]


def test_an_official_of_a_ward_cannot_change_the_calendar(official):
    client = logged_in(official)

    assert client.get(URL).status_code == 403
    response = client.post(f"{URL}add/", {"date": "22/08/2026", "reason": "x"})
    assert response.status_code == 403
    assert CalendarDay.objects.count() == 0
