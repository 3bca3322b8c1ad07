"""The officials' KPI page (/admin/kpis/): a small data set with known answers (dossiers decided
on time and late, online and at the desk, rated; field reports resolved on time, late and
disputed; households verified against the estimate; push and SMS delivered, sent and failed),
read per unit and in total; who sees which units; the period's validation; the charts; the
language; and the queries, which do not grow with the number of units."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.actions.officials import official_create_or_update
from accounts.models import Role, User
from digital_address.models import Ward
from notifications.models import Delivery, DeliveryStatus, Notification
from services.models import (
    Channel,
    Dossier,
    DossierRating,
    DossierStatus,
    FieldReport,
    Procedure,
    ReportCategory,
    ReportStatus,
)
from tests.factories import PASSWORD, HouseholdFactory, UserFactory, WardFactory

pytestmark = pytest.mark.django_db

URL = "/admin/kpis/"
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
MARRIAGE = "1.004873"
BIRTH = "1.001193"
CENTRE = ("22.257000", "106.474000")


def at(day: int, hour: int = 9, month: int = 3) -> datetime:
    """A moment of 2026, Vietnam's time (2 March is a Monday)."""
    return datetime(2026, month, day, hour, tzinfo=LOCAL)


@pytest.fixture(autouse=True)
def catalog(db) -> None:
    call_command("load_demo_procedures", stdout=StringIO())


@pytest.fixture
def clock(monkeypatch) -> Callable[[datetime], None]:
    def set_clock(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_clock


@pytest.fixture(autouse=True)
def end_of_march(clock) -> None:
    clock(at(31, 12))


def admin_client(user: User, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


@pytest.fixture
def superuser() -> User:
    return User.objects.create_superuser(
        phone="+84900000099", password=PASSWORD, full_name="Quản Trị Kỹ Thuật"
    )


# --- the data set --------------------------------------------------------------------------------

_numbers: dict[int, int] = {}


def dossier(
    unit: Ward,
    applicant: User,
    *,
    submitted_at: datetime,
    channel: int = Channel.ONLINE,
    decided_at: datetime | None = None,
    on_time: bool | None = None,
    days: int | None = None,
    stars: int | None = None,
    procedure: str = MARRIAGE,
) -> Dossier:
    """A dossier written straight to the database with the figures a decision stores (the
    decision itself is tested in tests/services)."""
    number = _numbers[unit.code] = _numbers.get(unit.code, 0) + 1
    row = Dossier.objects.create(
        code=f"{unit.agency_code}-{submitted_at:%y%m%d}-{number:04d}",
        procedure=Procedure.objects.get(code=procedure),
        applicant=applicant,
        unit=unit,
        status=DossierStatus.RETURNED if decided_at else DossierStatus.PROCESSING,
        channel=channel,
        submitted_at=submitted_at,
        updated_at=submitted_at,
        decided_at=decided_at,
        on_time=on_time,
        working_days_taken=days,
    )
    if stars is not None:
        DossierRating.objects.create(dossier=row, stars=stars, created_at=decided_at)
    return row


def report(
    unit: Ward,
    reporter: User,
    *,
    created_at: datetime,
    resolved_at: datetime | None = None,
    on_time: bool | None = None,
    disputed: bool = False,
) -> FieldReport:
    return FieldReport.objects.create(
        category=ReportCategory.objects.get(code="lighting"),
        reporter=reporter,
        description="Đèn đường hỏng.",
        unit=unit,
        status=ReportStatus.RESOLVED if resolved_at else ReportStatus.ACCEPTED,
        escalated=disputed,
        received_at=created_at,
        acknowledge_due=created_at.date() + timedelta(days=2),
        resolve_due=created_at.date() + timedelta(days=21),
        acknowledged_at=created_at + timedelta(hours=2),
        acknowledged_on_time=True,
        resolved_at=resolved_at,
        resolved_on_time=on_time,
        created_at=created_at,
        updated_at=resolved_at or created_at,
    )


def delivery(user: User, channel: str, status: str, created_at: datetime) -> Delivery:
    notification = Notification.objects.create(
        user=user,
        category="dossier",
        key=f"kpi-{Notification.objects.count()}",
        title="Hồ sơ đã được tiếp nhận",
        body="Hồ sơ của bạn đã được tiếp nhận.",
    )
    row = Delivery.objects.create(
        notification=notification, channel=channel, status=status, body="…", due_at=created_at
    )
    Delivery.objects.filter(pk=row.pk).update(created_at=created_at)
    return row


S = DeliveryStatus


@pytest.fixture
def data_set(ward, other_ward, citizen, other_citizen) -> None:
    """Xã Thất Khê (A) and Xã Đoàn Kết (B), March 2026.

    Dossiers. A: two online decided on time (3 and 2 working days; rated 5 and 1 stars, one
    dislike), one at the desk decided late (6 days), one at the desk still processing; one
    submitted and decided in April (outside). B: one online decided on time (1 day), one by post
    still processing.
    Field reports. A: one resolved on time, one resolved late, one not resolved. B: one resolved
    on time and disputed.
    Households. A (4 expected): two verified and located, one verified without a location, one
    pending. B (2 expected): one verified and located.
    Deliveries. A: push delivered, sent, sent, failed; SMS delivered, delivered, technical
    failure; a push of April and an email (neither counted). B: push sent, push waiting. And a
    push to someone of no unit (counted nowhere)."""
    a, b = ward, other_ward
    dossier(a, citizen, submitted_at=at(2), decided_at=at(5), on_time=True, days=3, stars=5)
    dossier(a, citizen, submitted_at=at(2, 10), decided_at=at(6), on_time=True, days=2, stars=1)
    dossier(a, citizen, submitted_at=at(3), channel=Channel.IN_PERSON, decided_at=at(9),
            on_time=False, days=6, procedure=BIRTH)  # fmt: skip
    dossier(a, citizen, submitted_at=at(4), channel=Channel.IN_PERSON)
    dossier(a, citizen, submitted_at=at(1, month=4), decided_at=at(2, month=4), on_time=False,
            days=1)  # fmt: skip
    dossier(b, other_citizen, submitted_at=at(2), decided_at=at(3), on_time=True, days=1)
    dossier(b, other_citizen, submitted_at=at(5), channel=Channel.POSTAL, procedure=BIRTH)

    report(a, citizen, created_at=at(2), resolved_at=at(10), on_time=True)
    report(a, citizen, created_at=at(3), resolved_at=at(20), on_time=False)
    report(a, citizen, created_at=at(4))
    report(b, other_citizen, created_at=at(5), resolved_at=at(6), on_time=True, disputed=True)

    a.estimated_households, b.estimated_households = 4, 2
    a.save(update_fields=["estimated_households"])
    b.save(update_fields=["estimated_households"])
    HouseholdFactory(ward=a, status="verified", latitude=CENTRE[0], longitude=CENTRE[1])
    HouseholdFactory(ward=a, status="verified", latitude=CENTRE[0], longitude=CENTRE[1])
    HouseholdFactory(ward=a, status="verified")
    HouseholdFactory(ward=a, status="pending", latitude=CENTRE[0], longitude=CENTRE[1])
    HouseholdFactory(ward=b, status="verified", latitude=CENTRE[0], longitude=CENTRE[1])

    for channel, status in [
        ("push", S.DELIVERED),
        ("push", S.SENT),
        ("push", S.SENT),
        ("push", S.PERMANENT_FAILURE),
        ("sms", S.DELIVERED),
        ("sms", S.DELIVERED),
        ("sms", S.TECHNICAL_FAILURE),
        ("email", S.DELIVERED),
    ]:
        delivery(citizen, channel, status, at(10))
    delivery(citizen, "push", S.SENT, at(1, month=4))
    delivery(other_citizen, "push", S.SENT, at(12))
    delivery(other_citizen, "push", S.CREATED, at(31, 11))
    delivery(UserFactory(full_name="Người Không Xã"), "push", S.DELIVERED, at(12))


# What the page writes, in English: each cell's figure, and what it is of.
UNIT_A = [
    ("50.0%", "2/4"),  # submitted online
    ("66.7%", "2/3"),  # decided on time
    ("3.7", ""),  # (3 + 2 + 6) / 3 working days
    ("33.3%", ""),  # 100 − (33.3 late + 33.3 disliked)
    ("3", ""),  # reports received
    ("50.0%", "1/2"),  # resolved on time
    ("50.0%", ""),  # 100 − 50 late
    ("75.0%", "3/4"),  # households verified
    ("50.0%", "2/4"),  # with a digital address
    ("33.3%", "1/3"),  # push delivered of sent
    ("100.0%", "2/2"),  # SMS delivered of sent
]
UNIT_B = [
    ("50.0%", "1/2"),
    ("100.0%", "1/1"),
    ("1.0", ""),
    ("100.0%", ""),
    ("1", ""),
    ("100.0%", "1/1"),
    ("0.0%", ""),  # 100 − 100 disputed
    ("50.0%", "1/2"),
    ("50.0%", "1/2"),
    ("0.0%", "0/1"),
    ("—", ""),  # nothing sent
]
TOTAL = [
    ("50.0%", "3/6"),
    ("75.0%", "3/4"),
    ("3.0", ""),  # (3 + 2 + 6 + 1) / 4
    ("50.0%", ""),  # 100 − (25 late + 25 disliked)
    ("4", ""),
    ("66.7%", "2/3"),
    ("33.3%", ""),  # 100 − (33.3 late + 33.3 disputed)
    ("66.7%", "4/6"),
    ("50.0%", "3/6"),
    ("25.0%", "1/4"),
    ("100.0%", "2/2"),
]


def cells(row) -> list[tuple[str, str]]:
    return [(cell.text, cell.detail) for cell in row.cells]


def table_rows(response) -> dict[str, list[tuple[str, str]]]:
    return {row.name: cells(row) for row in response.context["rows"]}


def test_the_figures_of_each_unit_and_of_the_province(data_set, province_admin):
    response = admin_client(province_admin).get(URL, MARCH)

    assert response.status_code == 200
    # In Vietnamese order: Đoàn Kết before Thất Khê.
    assert list(table_rows(response)) == ["Xã Đoàn Kết", "Xã Thất Khê"]
    assert table_rows(response) == {"Xã Đoàn Kết": UNIT_B, "Xã Thất Khê": UNIT_A}
    assert response.context["total"].name == "Total"
    assert cells(response.context["total"]) == TOTAL
    assert [c.header for c in response.context["columns"]] == [
        "Submitted online",
        "Decided on time",
        "Average processing time (working days)",
        "Satisfaction",
        "New reports",
        "Resolved on time",
        "Satisfaction",
        "Verified households",
        "With a digital address",
        "Push delivered",
        "SMS delivered",
    ]
    assert response.context["groups"] == [
        ("Dossiers", 4),
        ("Field reports", 3),
        ("Digital addresses", 2),
        ("Messages", 2),
    ]
    html = response.content.decode()
    assert '<tr data-unit="6040">' in html and '<tr data-unit="total">' in html
    assert '<td>66.7%<span class="kpi-detail">2/3</span></td>' in html


def test_the_messages_per_channel(data_set, province_admin):
    response = admin_client(province_admin).get(URL, MARCH)

    assert response.context["page"].channels == {
        "push": {
            "sent": 4,
            "delivered": 1,
            "failed": 1,
            "waiting": 1,
            "sent_rate": 80.0,
            "delivery_rate": 25.0,
        },
        "sms": {
            "sent": 2,
            "delivered": 2,
            "failed": 1,
            "waiting": 0,
            "sent_rate": 66.7,
            "delivery_rate": 100.0,
        },
    }
    assert [
        (row["name"], [c.text for c in row["cells"]]) for row in response.context["channels"]
    ] == [
        ("Push", ["6", "4", "1", "1", "1", "80.0%", "25.0%"]),
        ("SMS", ["3", "2", "2", "1", "0", "66.7%", "100.0%"]),
    ]


def test_the_dossiers_per_procedure(data_set, province_admin):
    response = admin_client(province_admin).get(URL, MARCH)

    assert [(row.code, cells(row)) for row in response.context["procedures"]] == [
        (MARRIAGE, [("75.0%", "3/4"), ("100.0%", "3/3"), ("2.0", ""), ("66.7%", "")]),
        (BIRTH, [("0.0%", "0/2"), ("0.0%", "0/1"), ("6.0", ""), ("0.0%", "")]),
    ]


def test_one_unit_chosen(data_set, province_admin):
    response = admin_client(province_admin).get(URL, {**MARCH, "unit": "6001"})

    assert response.status_code == 200
    assert table_rows(response) == {"Xã Đoàn Kết": UNIT_B}
    assert response.context["total"] is None  # one unit: its row is the total
    assert response.context["page"].channels["push"]["sent"] == 1
    # Every unit of the official stays in the choice.
    assert '<option value="6040">Xã Thất Khê</option>' in response.content.decode()
    assert '<option value="6001" selected>Xã Đoàn Kết</option>' in response.content.decode()


# --- who sees what -------------------------------------------------------------------------------


def test_an_official_sees_their_unit_only(data_set, official):
    response = admin_client(official).get(URL, MARCH)

    assert response.status_code == 200
    assert table_rows(response) == {"Xã Thất Khê": UNIT_A}
    assert response.context["total"] is None
    assert [u.ward_code for u in response.context["units"]] == [6040]
    assert "Đoàn Kết" not in response.content.decode()


def test_an_official_of_another_unit_sees_none_of_this_units_figures(data_set, other_official):
    mine = admin_client(other_official).get(URL, MARCH)
    theirs = admin_client(other_official).get(URL, {**MARCH, "unit": "6040"})
    junk = admin_client(other_official).get(URL, {**MARCH, "unit": "x"})

    assert table_rows(mine) == {"Xã Đoàn Kết": UNIT_B}
    assert mine.context["page"].channels["push"]["sent"] == 1
    assert mine.context["page"].channels["sms"]["sent"] == 0
    assert "Thất Khê" not in mine.content.decode()
    assert theirs.status_code == 404
    assert "Thất Khê" not in theirs.content.decode()
    assert junk.status_code == 404


def test_a_superuser_sees_the_deployments_province(data_set, superuser):
    WardFactory(code=1, name="Phường Hoàn Kiếm", province__code=1, province__name="Hà Nội")

    response = admin_client(superuser).get(URL, MARCH)

    assert response.status_code == 200
    assert list(table_rows(response)) == ["Xã Đoàn Kết", "Xã Thất Khê"]
    assert cells(response.context["total"]) == TOTAL
    assert admin_client(superuser).get(URL, {**MARCH, "unit": "1"}).status_code == 404


def test_the_reports_handler_without_dossiers_may_open_it(data_set, ward):
    handler = official_create_or_update(
        phone="+84900000041", full_name="Cán Bộ Phản Ánh", password=PASSWORD, roles=[],
        unit_codes=[ward.code],
    )  # fmt: skip
    assert admin_client(handler).get(URL, MARCH).status_code == 403

    handler.user_permissions.add(Permission.objects.get(codename="view_fieldreport"))
    handler = User.objects.get(pk=handler.pk)  # the permission cache

    assert admin_client(handler).get(URL, MARCH).status_code == 200


def test_officials_without_the_permissions_and_citizens_are_refused(
    data_set, broadcaster, citizen, client
):
    staff = admin_client(broadcaster).get(URL, MARCH)
    citizens = admin_client(citizen).get(URL, MARCH)
    anonymous = client.get(URL, MARCH)

    assert staff.status_code == 403
    assert "Thất Khê" not in staff.content.decode()
    for response in (citizens, anonymous):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


# --- the period ----------------------------------------------------------------------------------


def test_the_current_month_up_to_today_by_default(data_set, official, clock):
    clock(at(10, 15))

    response = admin_client(official).get(URL)

    page = response.context["page"]
    assert (page.start, page.end) == (date(2026, 3, 1), date(2026, 3, 10))
    # Decided by 10 March: the three of A (the dossiers' figures are the same as for March).
    assert cells(response.context["rows"][0])[1] == ("66.7%", "2/3")
    html = response.content.decode()
    assert 'name="from" value="2026-03-01"' in html
    assert 'name="to" value="2026-03-10"' in html


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"from": "2026-04-01", "to": "2026-03-01"}, "to", "The end is before the start."),
        ({"from": "31/31/2026"}, "from", "Enter a valid date."),
        ({"from": "1999-12-31", "to": "2000-01-31"}, "from", "Choose a day from 2000 on."),
        ({"to": "2027-06-01"}, "to", "Choose a day within a year from today."),
        ({"from": "2020-01-01", "to": "2026-03-31"}, "from", "Choose a period of at most 5 years."),
    ],
)
def test_a_wrong_period_shows_the_forms_errors(data_set, official, query, field, message):
    response = admin_client(official).get(URL, query)

    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    assert "page" not in response.context
    assert message in response.content.decode()
    assert "kpi-units" not in response.content.decode()


# --- the charts ----------------------------------------------------------------------------------


def charts(response) -> dict[str, str]:
    return {chart["key"]: str(chart["svg"]) for chart in response.context["charts"]}


def bars(svg: str) -> list[str]:
    return re.findall(r'<rect class="bar[^"]*"', svg)


def test_the_charts_are_svg_with_a_title_and_a_bar_per_figure(data_set, province_admin):
    response = admin_client(province_admin).get(URL, MARCH)
    html = response.content.decode()

    svgs = charts(response)
    assert list(svgs) == ["on-time", "online", "coverage", "delivery"]
    for key, svg in svgs.items():
        assert svg in html
        assert svg.startswith(
            '<svg class="bar-chart" xmlns="http://www.w3.org/2000/svg" role="img"'
        )
        assert f'aria-labelledby="kpi-{key}-title"><title id="kpi-{key}-title">' in svg
    # Two units and the total; the total drawn apart.
    assert len(bars(svgs["on-time"])) == 3
    assert len(bars(svgs["online"])) == 3
    assert len(bars(svgs["coverage"])) == 3
    assert bars(svgs["on-time"])[0] == '<rect class="bar bar-emphasis"'
    # Push and SMS, each taken by the provider and delivered.
    assert len(bars(svgs["delivery"])) == 4
    assert "<title>Xã Thất Khê: 66.7% (2/3)</title>" in svgs["on-time"]
    assert 'width="32.02%"' in svgs["on-time"]  # 66.7% of the 48% the bars span
    assert "<title>Push: delivered: 25.0% (1/4)</title>" in svgs["delivery"]
    assert "<script" not in html.split('id="content"')[1]
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")


def test_a_figure_with_nothing_to_measure_has_no_bar(data_set, other_official):
    response = admin_client(other_official).get(URL, {"from": "2026-03-20", "to": "2026-03-31"})

    svgs = charts(response)
    # One unit, no total; nothing decided or submitted in those days; one push waiting.
    assert bars(svgs["on-time"]) == bars(svgs["online"]) == []
    assert "none decided" in svgs["on-time"]
    assert len(bars(svgs["coverage"])) == 1
    assert bars(svgs["delivery"]) == []


# --- the language --------------------------------------------------------------------------------


def test_vietnamese_by_default_english_on_request(data_set, official):
    vietnamese = admin_client(official, language="vi").get(URL, MARCH)
    english = admin_client(official, language="en").get(URL, MARCH)

    assert '<html lang="vi"' in vietnamese.content.decode()
    assert "Trang chủ" in vietnamese.content.decode()  # the breadcrumb, Django's own catalog
    assert cells(vietnamese.context["rows"][0])[:3] == [("50,0%", "2/4"), ("66,7%", "2/3"),
                                                        ("3,7", "")]  # fmt: skip
    assert '<html lang="en"' in english.content.decode()
    assert "<h1>Key performance indicators</h1>" in english.content.decode()
    assert cells(english.context["rows"][0])[:3] == [("50.0%", "2/4"), ("66.7%", "2/3"),
                                                     ("3.7", "")]  # fmt: skip


def test_large_counts_are_grouped_the_local_way(ward, official):
    ward.estimated_households = 230000
    ward.save(update_fields=["estimated_households"])

    vietnamese = admin_client(official, language="vi").get(URL, MARCH)
    english = admin_client(official, language="en").get(URL, MARCH)

    assert cells(vietnamese.context["rows"][0])[7] == ("0,0%", "0/230.000")
    assert cells(english.context["rows"][0])[7] == ("0.0%", "0/230,000")


# --- the queries ---------------------------------------------------------------------------------


def official_of(units: int) -> User:
    codes = [6100 + n for n in range(units)]
    for code in codes:
        ward = WardFactory(code=code, name=f"Xã Số {code}", estimated_households=10)
        person = UserFactory(ward=ward)
        dossier(ward, person, submitted_at=at(2), decided_at=at(5), on_time=True, days=3, stars=5)
        report(ward, person, created_at=at(2), resolved_at=at(10), on_time=True)
        HouseholdFactory(ward=ward, status="verified", latitude=CENTRE[0], longitude=CENTRE[1])
        delivery(person, "push", S.SENT, at(10))
    return official_create_or_update(
        phone=f"+8490000{units:04d}",
        full_name="Cán Bộ Nhiều Xã",
        password=PASSWORD,
        roles=[Role.APPROVAL],
        unit_codes=codes,
    )


# The session, the user, the official's profile and units (read once by the admin site), the
# permissions (one query: the user's and their groups'); then the figures: coverage (1),
# dossiers (decided and submitted, in total, per unit and per procedure: 6), field reports
# (received, acknowledged, resolved: 3) and deliveries (1).
QUERIES = 16


@pytest.mark.parametrize("units", [3, 6])
def test_the_queries_do_not_grow_with_the_units(units, django_assert_num_queries):
    client = admin_client(official_of(units))

    with django_assert_num_queries(QUERIES):
        response = client.get(URL, MARCH)

    assert response.status_code == 200
    assert len(response.context["rows"]) == units
    assert cells(response.context["total"])[1] == ("100.0%", f"{units}/{units}")
