"""The public-service KPIs (QĐ 766/QĐ-TTg) over a period: a constructed data set with known
answers read through ``dossier_kpis`` and both statistics endpoints, two dossiers taken through
the real flow (two supplement requests: late; a wait on the citizen: subtracted), who sees
which units, the period's validation, and the queries the endpoints cost."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.actions.officials import official_create_or_update
from accounts.models import Role, User
from digital_address.models import Ward
from services.kpis import dossier_kpis
from services.models import Channel, Dossier, DossierRating, DossierStatus, Procedure
from tests.conftest import client_for, with_units_query
from tests.factories import PASSWORD, UserFactory, WardFactory

pytestmark = pytest.mark.django_db

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICIAL_STATS = "/api/v1/official/stats/"
PUBLIC_STATS = "/api/v1/stats/units/"
URL = "/api/v1/dossiers/"
OFFICIAL_URL = "/api/v1/official/dossiers/"
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}

MARRIAGE = "1.004873"  # 3 working days
MARRIAGE_NAME = "Thủ tục cấp Giấy xác nhận tình trạng hôn nhân"
BIRTH = "1.001193"  # 1 working day
BIRTH_NAME = "Thủ tục đăng ký khai sinh"
THAT_KHE = (6040, "Xã Thất Khê")
DOAN_KET = (6001, "Xã Đoàn Kết")


@pytest.fixture(autouse=True)
def catalog(db) -> None:
    call_command("load_demo_procedures", stdout=StringIO())


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """A moment of 2026, local time (2 March is a Monday; no holiday that fortnight)."""
    return datetime(2026, month, day, hour, minute, tzinfo=LOCAL)


@pytest.fixture
def clock(monkeypatch) -> Callable[[datetime], None]:
    """Set the outside world's clock (timezone.now) to a fixed moment."""

    def set_clock(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_clock


def leader_of(unit: int, phone: str = "+84900000077") -> User:
    return official_create_or_update(
        phone=phone,
        full_name="Lãnh Đạo Xã",
        password=PASSWORD,
        roles=[Role.APPROVAL],
        unit_codes=[unit],
    )


def figures(
    *,
    submitted: int = 0,
    online: int = 0,
    online_share: float | None = None,
    finished: int = 0,
    on_time: int = 0,
    late: int = 0,
    on_time_rate: float | None = None,
    average_working_days: float | None = None,
    dislikes: int = 0,
    satisfaction: float | None = None,
) -> dict:
    return {
        "submitted": submitted,
        "online": online,
        "online_share": online_share,
        "finished": finished,
        "on_time": on_time,
        "late": late,
        "on_time_rate": on_time_rate,
        "average_working_days": average_working_days,
        "dislikes": dislikes,
        "satisfaction": satisfaction,
    }


_numbers: dict[int, int] = {}


def dossier(
    unit: Ward,
    procedure: str,
    applicant: User,
    *,
    submitted_at: datetime,
    channel: int = Channel.ONLINE,
    status: int = DossierStatus.SUBMITTED,
    decided_at: datetime | None = None,
    on_time: bool | None = None,
    days: int | None = None,
    supplements: int = 0,
    extensions: int = 0,
    stars: int | None = None,
) -> Dossier:
    """A dossier written straight to the database with the figures a decision stores."""
    number = _numbers[unit.code] = _numbers.get(unit.code, 0) + 1
    row = Dossier.objects.create(
        code=f"{unit.agency_code}-{submitted_at:%y%m%d}-{number:04d}",
        procedure=Procedure.objects.get(code=procedure),
        applicant=applicant,
        unit=unit,
        status=status,
        channel=channel,
        submitted_at=submitted_at,
        updated_at=submitted_at,
        decided_at=decided_at,
        on_time=on_time,
        working_days_taken=days,
        supplement_requests=supplements,
        extensions=extensions,
    )
    if stars is not None:
        DossierRating.objects.create(dossier=row, stars=stars, created_at=decided_at)
    return row


@pytest.fixture(autouse=True)
def _fresh_numbers():
    _numbers.clear()


# --- the constructed data set --------------------------------------------------------------------

DECIDED = DossierStatus.DECIDED
RETURNED = DossierStatus.RETURNED


@pytest.fixture
def data_set(ward, other_ward, citizen, other_citizen) -> list[Dossier]:
    """Unit A (Thất Khê): 4 decided in March (3 on time, 1 late with two supplement requests),
    1 decided in April at 06:00 local (still 31 March in UTC: outside), two of March's rated
    (1 star, a dislike; 5 stars) and the April one rated 1 star (outside); 6 submitted in
    March (one at 00:30 on 1 March local, still February in UTC: inside), 4 of them online;
    one submitted on 1 April at 00:00 local (outside). Unit B (Đoàn Kết): 2 submitted (in
    person, by post), nothing decided. Another province's ward: 1 decided in March."""
    a, b = ward, other_ward
    rows = [
        dossier(a, MARRIAGE, citizen, submitted_at=at(2, 9), status=RETURNED,
                decided_at=at(5, 10), on_time=True, days=3, stars=5),
        dossier(a, MARRIAGE, citizen, submitted_at=at(2, 10), status=RETURNED,
                decided_at=at(6, 10), on_time=True, days=2, stars=1),
        dossier(a, BIRTH, citizen, submitted_at=at(3, 9), channel=Channel.IN_PERSON,
                status=DECIDED, decided_at=at(9, 10), on_time=True, days=None),
        dossier(a, BIRTH, citizen, submitted_at=at(25, 9, month=2), status=DECIDED,
                decided_at=at(10, 10), on_time=False, days=6, supplements=2),
        dossier(a, MARRIAGE, citizen, submitted_at=at(20, 9, month=2),
                channel=Channel.IN_PERSON, status=RETURNED, decided_at=at(1, 6, month=4),
                on_time=False, days=5, stars=1),
        dossier(a, MARRIAGE, citizen, submitted_at=at(4, 9), status=DossierStatus.PROCESSING),
        dossier(a, BIRTH, citizen, submitted_at=at(4, 10)),
        dossier(a, BIRTH, citizen, submitted_at=at(1, 0, 30), channel=Channel.IN_PERSON),
        dossier(a, MARRIAGE, citizen, submitted_at=at(1, 0, 0, month=4)),
        dossier(b, MARRIAGE, other_citizen, submitted_at=at(5, 9), channel=Channel.IN_PERSON),
        dossier(b, BIRTH, other_citizen, submitted_at=at(6, 9), channel=Channel.POSTAL),
    ]  # fmt: skip
    hanoi = WardFactory(code=1, name="Phường Hoàn Kiếm", province__code=1, province__name="Hà Nội")
    rows.append(
        dossier(hanoi, BIRTH, UserFactory(full_name="Phạm Thị Hà Nội"), submitted_at=at(2, 9),
                status=DECIDED, decided_at=at(3, 9), on_time=False, days=4)
    )  # fmt: skip
    return rows


UNIT_A = figures(
    submitted=6, online=4, online_share=66.7,
    finished=4, on_time=3, late=1, on_time_rate=75.0,
    average_working_days=3.7,  # (3 + 2 + 6) / 3: a decision without the figure is not averaged
    dislikes=1, satisfaction=50.0,  # 100 − (25 + 25)
)  # fmt: skip
UNIT_B = figures(submitted=2, online=0, online_share=0.0)
MARRIAGE_ALL = figures(
    submitted=4, online=3, online_share=75.0,
    finished=2, on_time=2, late=0, on_time_rate=100.0, average_working_days=2.5,
    dislikes=1, satisfaction=50.0,
)  # fmt: skip
BIRTH_ALL = figures(
    submitted=4, online=1, online_share=25.0,
    finished=2, on_time=1, late=1, on_time_rate=50.0, average_working_days=6.0,
    dislikes=0, satisfaction=50.0,
)  # fmt: skip
PROVINCE_TOTAL = figures(
    submitted=8, online=4, online_share=50.0,
    finished=4, on_time=3, late=1, on_time_rate=75.0, average_working_days=3.7,
    dislikes=1, satisfaction=50.0,
)  # fmt: skip
# In Vietnamese alphabetical order (Đ after D, before T), not by code point.
PROVINCE_UNITS = [
    {"code": DOAN_KET[0], "name": DOAN_KET[1], **UNIT_B},
    {"code": THAT_KHE[0], "name": THAT_KHE[1], **UNIT_A},
]
PROVINCE_PROCEDURES = [
    {"code": MARRIAGE, "name": MARRIAGE_NAME, **MARRIAGE_ALL},
    {"code": BIRTH, "name": BIRTH_NAME, **BIRTH_ALL},
]


def as_json(body: dict) -> dict:
    """What the endpoints answer for a ``dossier_kpis`` body: the days as ISO dates."""
    return {**body, "from": body["from"].isoformat(), "to": body["to"].isoformat()}


PROVINCE_KPIS = {
    "from": date(2026, 3, 1),
    "to": date(2026, 3, 31),
    "total": PROVINCE_TOTAL,
    "units": PROVINCE_UNITS,
    "procedures": PROVINCE_PROCEDURES,
}


def test_the_kpis_of_the_constructed_data_set(data_set):
    kpis = dossier_kpis(
        dossiers=Dossier.objects.filter(unit__province_id=20),
        start=date(2026, 3, 1),
        end=date(2026, 3, 31),
    )

    assert kpis == PROVINCE_KPIS
    assert [row["name"] for row in kpis["units"]] == ["Xã Đoàn Kết", "Xã Thất Khê"]


def test_the_kpis_of_one_unit(data_set):
    kpis = dossier_kpis(
        dossiers=Dossier.objects.filter(unit_id=6040),
        start=date(2026, 3, 1),
        end=date(2026, 3, 31),
    )

    assert kpis == {
        "from": date(2026, 3, 1),
        "to": date(2026, 3, 31),
        "total": UNIT_A,
        "units": [{"code": 6040, "name": "Xã Thất Khê", **UNIT_A}],
        "procedures": [
            {
                "code": MARRIAGE,
                "name": MARRIAGE_NAME,
                **figures(
                    submitted=3, online=3, online_share=100.0,
                    finished=2, on_time=2, late=0, on_time_rate=100.0,
                    average_working_days=2.5, dislikes=1, satisfaction=50.0,
                ),
            },
            {
                "code": BIRTH,
                "name": BIRTH_NAME,
                **figures(
                    submitted=3, online=1, online_share=33.3,
                    finished=2, on_time=1, late=1, on_time_rate=50.0,
                    average_working_days=6.0, dislikes=0, satisfaction=50.0,
                ),
            },
        ],
    }  # fmt: skip


def test_a_period_with_nothing_has_no_rates(data_set):
    kpis = dossier_kpis(
        dossiers=Dossier.objects.all(), start=date(2025, 1, 1), end=date(2025, 12, 31)
    )

    assert kpis == {
        "from": date(2025, 1, 1),
        "to": date(2025, 12, 31),
        "total": figures(),
        "units": [],
        "procedures": [],
    }


def test_the_days_are_vietnams_days(data_set):
    # 1 April 06:00 local is 31 March 23:00 UTC: a decision of April.
    april = dossier_kpis(
        dossiers=Dossier.objects.filter(unit_id=6040),
        start=date(2026, 4, 1),
        end=date(2026, 4, 1),
    )

    assert april["total"] == figures(
        submitted=1, online=1, online_share=100.0,
        finished=1, on_time=0, late=1, on_time_rate=0.0, average_working_days=5.0,
        dislikes=1, satisfaction=0.0,
    )  # fmt: skip


def test_satisfaction_is_never_below_zero(ward, citizen):
    # 1 of 2 late (50 %) and both disliked (100 %): 100 − 150 is shown as 0.
    dossier(
        ward,
        MARRIAGE,
        citizen,
        submitted_at=at(2, 9),
        status=RETURNED,
        decided_at=at(3, 9),
        on_time=True,
        days=1,
        stars=2,
    )
    dossier(ward, MARRIAGE, citizen, submitted_at=at(2, 9), status=RETURNED,
            decided_at=at(9, 9), on_time=False, days=5, stars=1)  # fmt: skip

    kpis = dossier_kpis(
        dossiers=Dossier.objects.all(), start=date(2026, 3, 1), end=date(2026, 3, 31)
    )

    assert kpis["total"] == figures(
        submitted=2, online=2, online_share=100.0,
        finished=2, on_time=1, late=1, on_time_rate=50.0, average_working_days=3.0,
        dislikes=2, satisfaction=0.0,
    )  # fmt: skip


def test_three_stars_are_no_dislike(ward, citizen):
    dossier(ward, MARRIAGE, citizen, submitted_at=at(2, 9), status=RETURNED,
            decided_at=at(3, 9), on_time=True, days=1, stars=3)  # fmt: skip

    kpis = dossier_kpis(
        dossiers=Dossier.objects.all(), start=date(2026, 3, 1), end=date(2026, 3, 31)
    )

    assert (kpis["total"]["dislikes"], kpis["total"]["satisfaction"]) == (0, 100.0)


# --- the endpoints -------------------------------------------------------------------------------


def test_the_public_statistics_show_the_provinces_kpis(data_set, api_client, clock):
    clock(at(31, 12))

    response = api_client.get(PUBLIC_STATS, {"province": 20, **MARCH})

    assert response.status_code == 200, response.content
    assert response.json()["dossiers"] == as_json(PROVINCE_KPIS)


def test_the_public_statistics_show_counts_only(data_set, api_client, citizen, clock):
    clock(at(31, 12))

    response = api_client.get(PUBLIC_STATS, {"province": 20, **MARCH})

    text = response.content.decode()
    assert response.status_code == 200
    for name in (citizen.full_name, "Trần Thị Bình", "Phạm Thị Hà Nội"):
        assert name not in text
    for row in data_set:
        assert row.code not in text
    assert "H20." not in text  # the agency codes every dossier code begins with
    assert b"+849" not in response.content


def test_the_public_statistics_of_another_province(data_set, api_client, clock):
    clock(at(31, 12))

    response = api_client.get(PUBLIC_STATS, {"province": 1, **MARCH})

    hanoi = figures(
        submitted=1, online=1, online_share=100.0,
        finished=1, on_time=0, late=1, on_time_rate=0.0, average_working_days=4.0,
        dislikes=0, satisfaction=0.0,
    )  # fmt: skip
    assert response.status_code == 200
    assert response.json()["dossiers"] == {
        **MARCH,
        "total": hanoi,
        "units": [{"code": 1, "name": "Phường Hoàn Kiếm", **hanoi}],
        "procedures": [{"code": BIRTH, "name": BIRTH_NAME, **hanoi}],
    }


def test_the_official_sees_the_kpis_of_their_units_only(data_set, official, clock):
    clock(at(31, 12))

    response = client_for(official).get(OFFICIAL_STATS, MARCH)

    assert response.status_code == 200, response.content
    assert response.json()["dossiers"] == as_json(
        dossier_kpis(
            dossiers=Dossier.objects.filter(unit_id=6040),
            start=date(2026, 3, 1),
            end=date(2026, 3, 31),
        )
    )
    assert response.json()["dossiers"]["total"] == UNIT_A
    assert response.json()["dossiers"]["units"] == [{"code": 6040, "name": "Xã Thất Khê", **UNIT_A}]


def test_an_official_of_another_unit_sees_none_of_unit_as_dossiers(data_set, other_official, clock):
    clock(at(31, 12))

    response = client_for(other_official).get(OFFICIAL_STATS, MARCH)

    assert response.status_code == 200
    assert response.json()["dossiers"] == {
        **MARCH,
        "total": UNIT_B,
        "units": [{"code": 6001, "name": "Xã Đoàn Kết", **UNIT_B}],
        "procedures": [
            {
                "code": MARRIAGE,
                "name": MARRIAGE_NAME,
                **figures(submitted=1, online=0, online_share=0.0),
            },
            {"code": BIRTH, "name": BIRTH_NAME, **figures(submitted=1, online=0, online_share=0.0)},
        ],
    }


def test_the_province_administrator_sees_the_province(data_set, province_admin, clock):
    clock(at(31, 12))

    response = client_for(province_admin).get(OFFICIAL_STATS, MARCH)

    assert response.status_code == 200
    assert response.json()["dossiers"] == as_json(PROVINCE_KPIS)


def test_the_official_statistics_are_for_officials(data_set, citizen, api_client, clock):
    clock(at(31, 12))

    assert client_for(citizen).get(OFFICIAL_STATS, MARCH).status_code == 403
    assert api_client.get(OFFICIAL_STATS, MARCH).status_code == 401


def test_the_period_is_this_year_to_today_by_default(ward, citizen, official, api_client, clock):
    dossier(
        ward,
        MARRIAGE,
        citizen,
        submitted_at=at(31, 9, month=12).replace(year=2025),
        status=DECIDED,
        decided_at=at(31, 10, month=12).replace(year=2025),
        on_time=True,
        days=1,
    )
    dossier(
        ward,
        MARRIAGE,
        citizen,
        submitted_at=at(2, 9, month=1),
        status=DECIDED,
        decided_at=at(5, 9, month=1),
        on_time=True,
        days=2,
    )
    dossier(
        ward,
        MARRIAGE,
        citizen,
        submitted_at=at(10, 9),
        status=DECIDED,
        decided_at=at(10, 11),
        on_time=False,
        days=0,
    )
    dossier(ward, MARRIAGE, citizen, submitted_at=at(11, 9), status=DECIDED,
            decided_at=at(11, 9), on_time=True, days=0)  # fmt: skip
    clock(at(10, 15))

    official_body = client_for(official).get(OFFICIAL_STATS).json()["dossiers"]
    public_body = api_client.get(PUBLIC_STATS).json()["dossiers"]

    expected = figures(
        submitted=2, online=2, online_share=100.0,
        finished=2, on_time=1, late=1, on_time_rate=50.0, average_working_days=1.0,
        dislikes=0, satisfaction=50.0,
    )  # fmt: skip
    assert (official_body["from"], official_body["to"]) == ("2026-01-01", "2026-03-10")
    assert official_body["total"] == expected
    assert public_body == official_body


# --- through the real flow -----------------------------------------------------------------------


def submit(user: User) -> str:
    response = client_for(user).post(
        URL,
        {"procedure": MARRIAGE, "unit": 6040, "form_data": {"purpose": "x"}},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()["code"]


def act(user: User, code: str, action: str, body: dict | None = None):
    response = client_for(user).post(f"{OFFICIAL_URL}{code}/{action}/", body or {}, format="json")
    assert response.status_code == 200, response.content
    return response


def answer(user: User, code: str, action: str, body: dict | None = None):
    response = client_for(user).post(f"{URL}{code}/{action}/", body or {}, format="json")
    assert response.status_code in (200, 201), response.content
    return response


def test_two_supplement_requests_make_a_dossier_late(citizen, official, clock):
    leader = leader_of(6040)
    clock(at(2, 9))
    code = submit(citizen)
    act(official, code, "receive")
    clock(at(3, 10))
    act(official, code, "request-supplement", {"missing": "Bản sao CCCD"})
    clock(at(3, 11))
    answer(citizen, code, "supplement")
    clock(at(3, 14))
    act(official, code, "request-supplement", {"missing": "Giấy xác nhận cư trú"})
    clock(at(3, 15))
    answer(citizen, code, "supplement")
    clock(at(4, 10))

    # decided before the appointment (Thursday 5), but after two requests for papers
    act(leader, code, "decide", {"outcome": "approved", "note": "Đủ điều kiện"})

    stored = Dossier.objects.get(code=code)
    assert (stored.appointment_date, stored.supplement_requests) == (date(2026, 3, 5), 2)
    assert (stored.decided_at, stored.on_time, stored.working_days_taken) == (
        at(4, 10),
        False,
        2,
    )
    response = client_for(official).get(OFFICIAL_STATS, MARCH)
    assert response.status_code == 200
    late = figures(
        submitted=1, online=1, online_share=100.0,
        finished=1, on_time=0, late=1, on_time_rate=0.0, average_working_days=2.0,
        dislikes=0, satisfaction=0.0,
    )  # fmt: skip
    assert response.json()["dossiers"] == {
        **MARCH,
        "total": late,
        "units": [{"code": 6040, "name": "Xã Thất Khê", **late}],
        "procedures": [{"code": MARRIAGE, "name": MARRIAGE_NAME, **late}],
    }


def test_the_wait_on_the_citizen_is_subtracted(citizen, official, clock):
    leader = leader_of(6040)
    clock(at(2, 9))
    code = submit(citizen)
    act(official, code, "receive")  # appointment: Thursday 5
    clock(at(3, 10))
    act(official, code, "request-supplement", {"missing": "Bản sao CCCD"})
    clock(at(6, 9))
    # Wednesday, Thursday and Friday waited: the appointment moves to Tuesday 10
    answer(citizen, code, "supplement")
    clock(at(9, 10))

    # two working days after the first appointment, within the moved one
    act(leader, code, "decide", {"outcome": "approved", "note": "Đủ điều kiện"})
    clock(at(9, 11))
    act(official, code, "return")
    answer(citizen, code, "rating", {"stars": 5})

    stored = Dossier.objects.get(code=code)
    assert (stored.appointment_date, stored.supplement_requests) == (date(2026, 3, 10), 1)
    # Tuesday 3 to Monday 9 are five working days after the receipt day, three of them waited
    assert (stored.decided_at, stored.on_time, stored.working_days_taken) == (
        at(9, 10),
        True,
        2,
    )
    on_time = figures(
        submitted=1, online=1, online_share=100.0,
        finished=1, on_time=1, late=0, on_time_rate=100.0, average_working_days=2.0,
        dislikes=0, satisfaction=100.0,
    )  # fmt: skip
    response = client_for(official).get(OFFICIAL_STATS, MARCH)
    assert response.json()["dossiers"]["total"] == on_time


def test_an_extension_makes_a_dossier_late_and_a_one_star_rating_a_dislike(
    citizen, official, clock
):
    leader = leader_of(6040)
    clock(at(2, 9))
    code = submit(citizen)
    act(official, code, "receive")  # appointment: Thursday 5
    clock(at(4, 9))
    act(official, code, "extend", {"new_date": "2026-03-09", "reason": "Chờ xác minh"})
    clock(at(9, 9))
    act(leader, code, "decide", {"outcome": "approved", "note": "Đủ điều kiện"})
    act(official, code, "return")
    answer(citizen, code, "rating", {"stars": 1})

    response = client_for(official).get(OFFICIAL_STATS, MARCH)

    assert response.json()["dossiers"]["total"] == figures(
        submitted=1, online=1, online_share=100.0,
        finished=1, on_time=0, late=1, on_time_rate=0.0, average_working_days=5.0,
        dislikes=1, satisfaction=0.0,
    )  # fmt: skip


# --- the period ----------------------------------------------------------------------------------

REVERSED = {"from": "2026-03-10", "to": "2026-03-09"}
SIX_YEARS = {"from": "2020-03-10", "to": "2026-03-10"}
# The calendar's ends: no 500 (a day after 31 December 9999 does not exist).
FAR_FUTURE = {"from": "9999-01-01", "to": "9999-12-31"}
ANCIENT = {"from": "0001-01-01", "to": "0001-12-31"}


@pytest.mark.parametrize(
    ("period", "field", "message"),
    [
        (REVERSED, "to", "Ngày kết thúc trước ngày bắt đầu."),
        (SIX_YEARS, "from", "Chọn khoảng thời gian không quá 5 năm."),
        (FAR_FUTURE, "to", "Chọn một ngày trong vòng một năm kể từ hôm nay."),
        (ANCIENT, "from", "Chọn một ngày từ năm 2000 trở đi."),
    ],
)
def test_a_bad_period_is_refused_in_vietnamese(official, api_client, clock, period, field, message):
    clock(at(10, 12))
    expected = {"code": "invalid", "message": "Dữ liệu không hợp lệ.", "fields": {field: [message]}}

    mine = client_for(official).get(OFFICIAL_STATS, period)
    public = api_client.get(PUBLIC_STATS, {"province": 20, **period})

    assert (mine.status_code, mine.json()) == (400, expected)
    assert (public.status_code, public.json()) == (400, expected)


@pytest.mark.parametrize(
    ("period", "field", "message"),
    [
        (REVERSED, "to", "The end is before the start."),
        (SIX_YEARS, "from", "Choose a period of at most 5 years."),
        (FAR_FUTURE, "to", "Choose a day within a year from today."),
        (ANCIENT, "from", "Choose a day from 2000 on."),
    ],
)
def test_a_bad_period_is_refused_in_english(official, api_client, clock, period, field, message):
    clock(at(10, 12))

    mine = client_for(official).get(OFFICIAL_STATS, period, HTTP_ACCEPT_LANGUAGE="en")
    public = api_client.get(PUBLIC_STATS, {"province": 20, **period}, HTTP_ACCEPT_LANGUAGE="en")

    for response in (mine, public):
        assert response.status_code == 400
        assert response.json()["fields"] == {field: [message]}


def test_a_period_of_five_years_is_allowed(official, clock):
    clock(at(10, 12))
    end = date(2026, 3, 10)
    longest = {"from": (end - timedelta(days=5 * 366)).isoformat(), "to": end.isoformat()}
    one_day_more = {**longest, "from": (end - timedelta(days=5 * 366 + 1)).isoformat()}
    client = client_for(official)

    allowed = client.get(OFFICIAL_STATS, longest)
    refused = client.get(OFFICIAL_STATS, one_day_more)

    assert (allowed.status_code, allowed.json()["dossiers"]["from"]) == (200, "2021-03-06")
    assert (refused.status_code, refused.json()["fields"]) == (
        400,
        {"from": ["Chọn khoảng thời gian không quá 5 năm."]},
    )


def test_a_single_day_is_a_period(official, clock):
    clock(at(10, 12))

    response = client_for(official).get(OFFICIAL_STATS, {"from": "2026-03-10", "to": "2026-03-10"})

    assert response.status_code == 200
    assert response.json()["dossiers"] == {
        "from": "2026-03-10",
        "to": "2026-03-10",
        "total": figures(),
        "units": [],
        "procedures": [],
    }


# --- what the endpoints cost ---------------------------------------------------------------------


def many(ward, other_ward, citizen, other_citizen, count: int) -> None:
    for n in range(count):
        unit, applicant = (ward, citizen) if n % 2 == 0 else (other_ward, other_citizen)
        dossier(unit, (MARRIAGE, BIRTH)[n % 3 == 0], applicant, submitted_at=at(2, 9),
                status=RETURNED, decided_at=at(3, 9), on_time=n % 4 != 0, days=n % 5,
                stars=1 + n % 5)  # fmt: skip


@pytest.mark.parametrize("count", [1, 10])
def test_the_official_statistics_cost_the_same_queries_for_any_count(
    ward, other_ward, citizen, other_citizen, province_admin, clock, count,
    django_assert_num_queries,
):  # fmt: skip
    many(ward, other_ward, citizen, other_citizen, count)
    clock(at(31, 12))
    client = client_for(province_admin)

    # The token's user with the official profile, its units, the province administrator's
    # group and the province's wards, one aggregate over the wards; the dossier KPIs: decided
    # and submitted, in total, per unit and per procedure; the report KPIs: received,
    # acknowledged and resolved, each grouped by unit and category.
    with django_assert_num_queries(with_units_query(14)):
        response = client.get(OFFICIAL_STATS, MARCH)

    assert response.json()["dossiers"]["total"]["finished"] == count


@pytest.mark.parametrize("count", [1, 10])
def test_the_public_statistics_cost_the_same_queries_for_any_count(
    ward, other_ward, citizen, other_citizen, api_client, clock, count,
    django_assert_num_queries,
):  # fmt: skip
    many(ward, other_ward, citizen, other_citizen, count)
    clock(at(31, 12))

    # The province, one aggregate over its wards, the six of the dossier KPIs, the three of
    # the report KPIs.
    with django_assert_num_queries(11):
        response = api_client.get(PUBLIC_STATS, {"province": 20, **MARCH})

    assert response.json()["dossiers"]["total"]["finished"] == count
