"""The field-report KPIs over a period: a data set built through the API with exact timing
(acknowledged and resolved on time or late, confirmed, disputed and resolved again, a fix
disputed and then confirmed, liked and disliked by the reporter and a follower who followed
before the fix) across two communes and two categories, read through both statistics
endpoints; who sees which units; and who may like or dislike a report (the reporter, or a
follower who followed it before it was fixed; only once resolved or closed with a fix), when,
and how a reaction is changed or taken back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIClient

from accounts.models import User
from services.kpis import report_kpis
from services.models import (
    FieldReport,
    ReportCategory,
    ReportFollower,
    ReportReaction,
    ReportStatus,
)
from tests.conftest import client_for
from tests.factories import UserFactory, WardFactory
from tests.services.reports import URL, reload, resolve, step, submit

pytestmark = pytest.mark.django_db

R = ReportStatus
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICIAL_STATS = "/api/v1/official/stats/"
PUBLIC_STATS = "/api/v1/stats/units/"
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
LIGHTING = ("lighting", "Chiếu sáng công cộng")
ROADS = ("roads", "Giao thông, đường sá")
THAT_KHE = (6040, "Xã Thất Khê")
DOAN_KET = (6001, "Xã Đoàn Kết")
NOT_FOUND = {"code": "not_found", "message": "Không tìm thấy.", "fields": {}}
REFUSED_MOVE = {
    "code": "invalid_transition",
    "message": "Không thể thực hiện việc này ở trạng thái hiện tại của phản ánh.",
    "fields": {},
}
# In English (Accept-Language: en): the Vietnamese message is the catalog's business.
REACTION_REFUSED = {
    "code": "reaction_refused",
    "message": "Only the reporter and the citizens who followed the report before it was fixed "
    "may rate the fix.",
    "fields": {},
}
# Written into every description of the data set: no statistics body may carry it.
MARKER = "Phản ánh số liệu KPI"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def clock(monkeypatch) -> Callable[[datetime], None]:
    """Set the outside world's clock (timezone.now) to a fixed moment, the moment a follow is
    stamped with included: ReportFollower.created_at has ``default=timezone.now``, the function
    itself taken when the model was imported, which patching timezone.now does not reach (every
    follow would be stamped with the real time, after every fix of this file)."""
    followed_at = ReportFollower._meta.get_field("created_at")

    def set_clock(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)
        monkeypatch.setattr(followed_at, "get_default", lambda: moment)

    return set_clock


@pytest.fixture
def neighbour(ward) -> User:
    """A third citizen of the ward, who follows the citizen's reports."""
    return UserFactory(phone="+84911111111", full_name="Phạm Thị Hàng Xóm", ward=ward)


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """A moment of 2026, local time (2 March is a Monday; no holiday from 23 February to 24
    April)."""
    return datetime(2026, month, day, hour, minute, tzinfo=LOCAL)


def figures(
    *,
    received: int = 0,
    acknowledged: int = 0,
    acknowledged_on_time: int = 0,
    acknowledged_on_time_rate: float | None = None,
    resolved: int = 0,
    resolved_on_time: int = 0,
    resolved_on_time_rate: float | None = None,
    confirmed: int = 0,
    disputed: int = 0,
    likes: int = 0,
    dislikes: int = 0,
    satisfaction: float | None = None,
) -> dict:
    return {
        "received": received,
        "acknowledged": acknowledged,
        "acknowledged_on_time": acknowledged_on_time,
        "acknowledged_on_time_rate": acknowledged_on_time_rate,
        "resolved": resolved,
        "resolved_on_time": resolved_on_time,
        "resolved_on_time_rate": resolved_on_time_rate,
        "confirmed": confirmed,
        "disputed": disputed,
        "likes": likes,
        "dislikes": dislikes,
        "satisfaction": satisfaction,
    }


def row(key: tuple, numbers: dict) -> dict:
    return {"code": key[0], "name": key[1], **numbers}


# --- moving reports through the API --------------------------------------------------------------


def new(user: User, *, category: str = "lighting", ward: int = 6040, **fields) -> int:
    """POST reports/ as ``user``; the new report's id."""
    return submit(
        client_for(user),
        category=category,
        ward=ward,
        description=f"{MARKER}: {category} ở xã {ward}.",
        **fields,
    )["id"]


def act(official: User, report_id: int, name: str, body: dict | None = None) -> None:
    """One of the official's steps (accept, refuse, start, close); asserts 200."""
    response = step(client_for(official), report_id, name, body)
    assert response.status_code == 200, (name, response.content)


def fix(official: User, report_id: int) -> None:
    response = resolve(client_for(official), report_id)
    assert response.status_code == 200, response.content


def answer(user: User, report_id: int, name: str, body: dict | None = None) -> Response:
    """One of the citizen's steps: POST reports/{id}/{name}/."""
    return client_for(user).post(f"{URL}{report_id}/{name}/", body or {}, format="json")


def answered(user: User, report_id: int, name: str, body: dict | None = None) -> dict:
    response = answer(user, report_id, name, body)
    assert response.status_code == 200, (name, response.content)
    return response.json()


def react(user: User, report_id: int, like: bool) -> Response:
    return answer(user, report_id, "reaction", {"like": like})


def reacted(user: User, report_id: int, like: bool) -> None:
    response = react(user, report_id, like)
    assert response.status_code == 200, response.content


# --- the data set ---------------------------------------------------------------------------------


@pytest.fixture
def data_set(
    ward, other_ward, citizen, other_citizen, neighbour, official, other_official, clock
) -> dict[str, int]:
    """Reports with known timing (acknowledgement due two working days after receipt,
    resolution fifteen: received Monday 2 March, due Wednesday 4 and Monday 23).

    Thất Khê (6040), reporter ``citizen``, follower ``neighbour`` (who follows a1 and a3 on the
    day they are received, long before their fixes: so they may react):
    - a0 roads: all of it in February, liked on 3 March: nothing counts;
    - a1 lighting: acknowledged on time, resolved on time, confirmed; liked by both;
    - a2 lighting: acknowledged late, resolved late (25 March), disliked by the reporter;
    - a3 roads: acknowledged on its due day, resolved, disputed, resolved again on time; the
      follower disliked the first fix and liked the second (replaced);
    - a4 roads: received only;
    - a5 lighting: received in February, acknowledged (on time) in March, resolved in April
      and disliked then: only the acknowledgement counts;
    - a6 lighting: received at 23:30 on 31 March (still March);
    - a7 lighting: received at 00:30 on 1 April (already April, though still 31 March in UTC);
    - a8 roads: acknowledged and resolved on time, confirmed;
    - a9 roads: acknowledged on time, resolved, disputed, resolved again on time, confirmed
      and liked by the reporter: confirmed, and disputed all the same.

    Đoàn Kết (6001), reporter ``other_citizen``:
    - b1 lighting: refused late;
    - b2 roads: accepted on time, work started;
    - b3 roads: accepted on time, closed without a fix (nobody may react: no fix to rate)."""
    ids: dict[str, int] = {}

    clock(at(23, 9, month=2))
    ids["a0"] = new(citizen, category="roads")
    clock(at(24, 9, month=2))
    act(official, ids["a0"], "accept")
    clock(at(26, 9, month=2))
    fix(official, ids["a0"])
    clock(at(27, 9, month=2))
    answered(citizen, ids["a0"], "confirm")
    clock(at(3, 9))
    reacted(citizen, ids["a0"], True)

    clock(at(2, 9))
    ids["a1"] = new(citizen)
    answered(neighbour, ids["a1"], "follow")
    clock(at(3, 10))
    act(official, ids["a1"], "accept")
    clock(at(10, 10))
    fix(official, ids["a1"])
    clock(at(11, 9))
    answered(citizen, ids["a1"], "confirm")
    reacted(citizen, ids["a1"], True)
    reacted(neighbour, ids["a1"], True)

    clock(at(2, 9, 10))
    ids["a2"] = new(citizen)
    clock(at(5, 10))
    act(official, ids["a2"], "accept")
    clock(at(25, 10))
    fix(official, ids["a2"])
    clock(at(26, 9))
    reacted(citizen, ids["a2"], False)

    clock(at(2, 9, 20))
    ids["a3"] = new(citizen, category="roads")
    answered(neighbour, ids["a3"], "follow")
    clock(at(4, 15))
    act(official, ids["a3"], "accept")
    clock(at(9, 10))
    fix(official, ids["a3"])
    clock(at(9, 15))
    reacted(neighbour, ids["a3"], False)
    clock(at(10, 9))
    answered(citizen, ids["a3"], "dispute", {"reason": "Ổ gà vẫn còn."})
    clock(at(12, 10))
    fix(official, ids["a3"])
    clock(at(13, 9))
    reacted(neighbour, ids["a3"], True)

    clock(at(3, 9))
    ids["a4"] = new(citizen, category="roads")

    clock(at(27, 9, month=2))
    ids["a5"] = new(citizen)
    clock(at(2, 10))
    act(official, ids["a5"], "accept")
    clock(at(1, 6, month=4))
    fix(official, ids["a5"])
    clock(at(1, 7, month=4))
    reacted(citizen, ids["a5"], False)

    clock(at(31, 23, 30))
    ids["a6"] = new(citizen)
    clock(at(1, 0, 30, month=4))
    ids["a7"] = new(citizen)

    clock(at(2, 10))
    ids["a8"] = new(citizen, category="roads")
    clock(at(2, 11))
    act(official, ids["a8"], "accept")
    clock(at(13, 10))
    fix(official, ids["a8"])
    clock(at(16, 9))
    answered(citizen, ids["a8"], "confirm")

    clock(at(2, 10, 30))
    ids["a9"] = new(citizen, category="roads")
    clock(at(3, 9))
    act(official, ids["a9"], "accept")
    clock(at(5, 10))
    fix(official, ids["a9"])
    clock(at(6, 9))
    answered(citizen, ids["a9"], "dispute", {"reason": "Vẫn còn đọng nước."})
    clock(at(11, 10))
    fix(official, ids["a9"])
    clock(at(12, 9))
    answered(citizen, ids["a9"], "confirm")
    reacted(citizen, ids["a9"], True)

    clock(at(2, 9))
    ids["b1"] = new(other_citizen, ward=6001)
    clock(at(6, 9))
    act(other_official, ids["b1"], "refuse", {"reason": "Không thuộc thẩm quyền của xã."})

    clock(at(3, 9))
    ids["b2"] = new(other_citizen, category="roads", ward=6001)
    clock(at(3, 10))
    act(other_official, ids["b2"], "accept")
    act(other_official, ids["b2"], "start")

    clock(at(4, 9))
    ids["b3"] = new(other_citizen, category="roads", ward=6001)
    clock(at(5, 9))
    act(other_official, ids["b3"], "accept")
    clock(at(9, 9))
    act(other_official, ids["b3"], "close", {"reason": "planned"})

    clock(at(2, 12, month=4))
    return ids


# Disputed: a report resolved in the period that was disputed at least once (escalated), whatever
# became of its later fix: in March a3 (its second fix awaits an answer) and a9 (its second fix
# confirmed). Satisfaction: 100 − (late % + complaint %), a complaint being a disputed report or
# a dislike, over the reports resolved in the period.
THAT_KHE_FIGURES = figures(
    received=7,  # a1 a2 a3 a4 a6 a8 a9
    acknowledged=6, acknowledged_on_time=5, acknowledged_on_time_rate=83.3,  # a1 a2 a3 a5 a8 a9
    resolved=5, resolved_on_time=4, resolved_on_time_rate=80.0,  # a1 a2 a3 a8 a9
    confirmed=3, disputed=2, likes=4, dislikes=1,  # a1 a8 a9; a3 a9; a1 ×2 a3 a9; a2
    satisfaction=20.0,  # 100 − (20 % late + 60 %: two disputes and a dislike of 5)
)  # fmt: skip
DOAN_KET_FIGURES = figures(
    received=3, acknowledged=3, acknowledged_on_time=2, acknowledged_on_time_rate=66.7,
)  # fmt: skip
LIGHTING_FIGURES = figures(
    received=4,  # a1 a2 a6 b1
    acknowledged=4, acknowledged_on_time=2, acknowledged_on_time_rate=50.0,  # a1 a2 a5 b1
    resolved=2, resolved_on_time=1, resolved_on_time_rate=50.0,  # a1 a2
    confirmed=1, disputed=0, likes=2, dislikes=1,
    satisfaction=0.0,  # 100 − (50 % late + 50 %: a dislike of 2)
)  # fmt: skip
ROADS_FIGURES = figures(
    received=6,  # a3 a4 a8 a9 b2 b3
    acknowledged=5, acknowledged_on_time=5, acknowledged_on_time_rate=100.0,  # a3 a8 a9 b2 b3
    resolved=3, resolved_on_time=3, resolved_on_time_rate=100.0,  # a3 a8 a9
    confirmed=2, disputed=2, likes=2, dislikes=0,  # a8 a9; a3 a9; a3 a9
    satisfaction=33.3,  # 100 − (0 % late + 66.7 %: two disputes of 3)
)  # fmt: skip
PROVINCE_TOTAL = figures(
    received=10,
    acknowledged=9, acknowledged_on_time=7, acknowledged_on_time_rate=77.8,
    resolved=5, resolved_on_time=4, resolved_on_time_rate=80.0,
    confirmed=3, disputed=2, likes=4, dislikes=1,
    satisfaction=20.0,  # 100 − (20 % late + 60 %: two disputes and a dislike of 5)
)  # fmt: skip
PROVINCE_REPORTS = {
    **MARCH,
    "total": PROVINCE_TOTAL,
    # In Vietnamese order: Đoàn Kết before Thất Khê (by code point Đ comes after T).
    "units": [row(DOAN_KET, DOAN_KET_FIGURES), row(THAT_KHE, THAT_KHE_FIGURES)],
    "categories": [row(LIGHTING, LIGHTING_FIGURES), row(ROADS, ROADS_FIGURES)],
}


def test_the_data_set_is_what_it_says(data_set):
    """The stored facts the figures rest on, so that a wrong figure points at the KPIs."""
    stored = {
        name: FieldReport.objects.filter(pk=pk)
        .values_list("status", "acknowledged_on_time", "resolved_on_time", "satisfied", "escalated")
        .get()
        for name, pk in data_set.items()
    }

    assert stored == {
        "a0": (R.CLOSED, True, True, True, False),
        "a1": (R.CLOSED, True, True, True, False),
        "a2": (R.RESOLVED, False, False, None, False),
        "a3": (R.RESOLVED, True, True, False, True),
        "a4": (R.SUBMITTED, None, None, None, False),
        "a5": (R.RESOLVED, True, False, None, False),
        "a6": (R.SUBMITTED, None, None, None, False),
        "a7": (R.SUBMITTED, None, None, None, False),
        "a8": (R.CLOSED, True, True, True, False),
        "a9": (R.CLOSED, True, True, True, True),
        "b1": (R.REFUSED, False, None, None, False),
        "b2": (R.IN_PROGRESS, True, None, None, False),
        "b3": (R.CLOSED_NOT_FIXED, True, None, None, False),
    }
    a3 = reload(data_set["a3"])
    assert (a3.resolved_at, a3.resolve_due) == (at(12, 10), date(2026, 3, 23))
    assert reload(data_set["a2"]).acknowledge_due == date(2026, 3, 4)
    assert list(
        ReportReaction.objects.filter(report_id=data_set["a3"]).values_list("user__phone", "like")
    ) == [("+84911111111", True)]
    assert not ReportReaction.objects.filter(report_id=data_set["b3"]).exists()
    # The follower followed on the day of receipt, before the fixes they rated.
    assert list(
        ReportFollower.objects.order_by("report_id").values_list("report_id", "created_at")
    ) == [(data_set["a1"], at(2, 9)), (data_set["a3"], at(2, 9, 20))]


def test_the_province_administrator_sees_every_figure_of_the_province(data_set, province_admin):
    response = client_for(province_admin).get(OFFICIAL_STATS, MARCH)

    assert response.status_code == 200, response.content
    assert response.json()["reports"] == PROVINCE_REPORTS
    assert [u["name"] for u in response.json()["reports"]["units"]] == [
        "Xã Đoàn Kết",
        "Xã Thất Khê",
    ]


def test_the_ward_official_sees_the_figures_of_their_unit_only(data_set, official):
    response = client_for(official).get(OFFICIAL_STATS, MARCH)

    assert response.status_code == 200, response.content
    assert response.json()["reports"] == {
        **MARCH,
        "total": THAT_KHE_FIGURES,
        "units": [row(THAT_KHE, THAT_KHE_FIGURES)],
        "categories": [
            row(
                LIGHTING,
                figures(
                    received=3,  # a1 a2 a6
                    acknowledged=3, acknowledged_on_time=2, acknowledged_on_time_rate=66.7,
                    resolved=2, resolved_on_time=1, resolved_on_time_rate=50.0,
                    confirmed=1, likes=2, dislikes=1, satisfaction=0.0,
                ),
            ),
            row(
                ROADS,
                figures(
                    received=4,  # a3 a4 a8 a9
                    acknowledged=3, acknowledged_on_time=3, acknowledged_on_time_rate=100.0,
                    resolved=3, resolved_on_time=3, resolved_on_time_rate=100.0,
                    confirmed=2, disputed=2, likes=2,  # a8 a9; a3 a9; a3 a9
                    satisfaction=33.3,  # 100 − (0 % late + 66.7 %: two disputes of 3)
                ),
            ),
        ],
    }  # fmt: skip


def test_the_official_of_the_other_ward_sees_none_of_that_khes_figures(data_set, other_official):
    response = client_for(other_official).get(OFFICIAL_STATS, MARCH)

    assert response.status_code == 200, response.content
    assert response.json()["reports"] == {
        **MARCH,
        "total": DOAN_KET_FIGURES,
        "units": [row(DOAN_KET, DOAN_KET_FIGURES)],
        "categories": [
            row(LIGHTING, figures(received=1, acknowledged=1, acknowledged_on_time_rate=0.0)),
            row(
                ROADS,
                figures(
                    received=2, acknowledged=2, acknowledged_on_time=2,
                    acknowledged_on_time_rate=100.0,
                ),
            ),
        ],
    }  # fmt: skip


def test_the_public_statistics_have_the_same_figures_and_no_personal_data(
    data_set, api_client, citizen, other_citizen, neighbour
):
    response = api_client.get(PUBLIC_STATS, {"province": 20, **MARCH})

    assert response.status_code == 200, response.content
    assert response.json()["reports"] == PROVINCE_REPORTS
    text = response.content.decode()
    for person in (citizen, other_citizen, neighbour):
        assert person.full_name not in text
        assert person.phone not in text
        assert person.phone[3:] not in text  # the national form without +84: 912345678
    assert MARKER not in text
    assert "Ổ gà" not in text  # the disputes' reasons
    assert "đọng nước" not in text
    assert "Không thuộc thẩm quyền" not in text  # the refusal's reason


def test_the_reports_of_another_province_count_there_only(data_set, api_client, province_admin):
    hanoi = WardFactory(code=1, name="Phường Hoàn Kiếm", province__code=1, province__name="Hà Nội")
    FieldReport.objects.create(
        category=ReportCategory.objects.get(code="roads"),
        reporter=UserFactory(full_name="Phạm Thị Hà Nội"),
        description="Ổ gà trên phố Hàng Bài.",
        unit=hanoi,
        received_at=at(2, 9),
        acknowledge_due=date(2026, 3, 4),
        resolve_due=date(2026, 3, 23),
        created_at=at(2, 9),
    )

    ours = api_client.get(PUBLIC_STATS, {"province": 20, **MARCH})
    mine = client_for(province_admin).get(OFFICIAL_STATS, MARCH)
    theirs = api_client.get(PUBLIC_STATS, {"province": 1, **MARCH})

    assert ours.json()["reports"] == PROVINCE_REPORTS
    assert mine.json()["reports"] == PROVINCE_REPORTS
    assert theirs.json()["reports"] == {
        **MARCH,
        "total": figures(received=1),
        "units": [row((1, "Phường Hoàn Kiếm"), figures(received=1))],
        "categories": [row(ROADS, figures(received=1))],
    }
    assert "Phạm Thị Hà Nội" not in theirs.content.decode()


def test_a_period_outside_the_data_set_counts_nothing(data_set, province_admin):
    response = client_for(province_admin).get(
        OFFICIAL_STATS, {"from": "2026-01-01", "to": "2026-01-31"}
    )

    assert response.status_code == 200
    assert response.json()["reports"] == {
        "from": "2026-01-01",
        "to": "2026-01-31",
        "total": figures(),
        "units": [],
        "categories": [],
    }


def test_the_days_are_vietnams_days(data_set, province_admin):
    # 1 April: a7 received at 00:30 local (31 March in UTC), a5 resolved at 06:00 local.
    response = client_for(province_admin).get(
        OFFICIAL_STATS, {"from": "2026-04-01", "to": "2026-04-01"}
    )

    april = figures(
        received=1, resolved=1, resolved_on_time=0, resolved_on_time_rate=0.0, dislikes=1,
        satisfaction=0.0,
    )  # fmt: skip
    assert response.json()["reports"] == {
        "from": "2026-04-01",
        "to": "2026-04-01",
        "total": april,
        "units": [row(THAT_KHE, april)],
        "categories": [row(LIGHTING, april)],
    }


def test_february_holds_what_happened_in_february(data_set, province_admin):
    response = client_for(province_admin).get(
        OFFICIAL_STATS, {"from": "2026-02-01", "to": "2026-02-28"}
    )

    # a0 (received, acknowledged, resolved and confirmed; liked in March, counted with its fix)
    # and a5 (received).
    assert response.json()["reports"]["total"] == figures(
        received=2, acknowledged=1, acknowledged_on_time=1, acknowledged_on_time_rate=100.0,
        resolved=1, resolved_on_time=1, resolved_on_time_rate=100.0, confirmed=1, likes=1,
        satisfaction=100.0,
    )  # fmt: skip


def test_a_disputed_fix_counts_at_its_new_resolution(citizen, official, province_admin, clock):
    clock(at(2, 9))
    report_id = new(citizen)
    act(official, report_id, "accept")
    clock(at(3, 9))
    fix(official, report_id)
    clock(at(4, 9))
    answered(citizen, report_id, "dispute", {"reason": "Đèn vẫn chưa sáng."})
    clock(at(31, 12))

    before = client_for(province_admin).get(OFFICIAL_STATS, MARCH).json()["reports"]["total"]
    clock(at(24, 9))  # a day after the resolution was due
    fix(official, report_id)
    clock(at(31, 12))
    after = client_for(province_admin).get(OFFICIAL_STATS, MARCH).json()["reports"]["total"]
    clock(at(25, 9))
    answered(citizen, report_id, "confirm")
    clock(at(31, 12))
    confirmed = client_for(province_admin).get(OFFICIAL_STATS, MARCH).json()["reports"]["total"]

    acknowledged = {
        "received": 1,
        "acknowledged": 1,
        "acknowledged_on_time": 1,
        "acknowledged_on_time_rate": 100.0,
    }
    assert before == figures(**acknowledged)
    assert after == figures(
        **acknowledged, resolved=1, resolved_on_time=0, resolved_on_time_rate=0.0, disputed=1,
        satisfaction=0.0,
    )  # fmt: skip
    # The new fix confirmed: confirmed, and still disputed (it was, once).
    assert confirmed == figures(
        **acknowledged, resolved=1, resolved_on_time=0, resolved_on_time_rate=0.0, confirmed=1,
        disputed=1, satisfaction=0.0,
    )  # fmt: skip


def test_a_fix_disputed_then_confirmed_is_a_complaint(citizen, official, clock):
    # Two fixes on time, both confirmed, one of them only after a dispute: 100 − (0 % late +
    # 50 %: one disputed report of 2), not 100.
    clock(at(2, 9))
    plain, disputed = new(citizen), new(citizen)
    for report_id in (plain, disputed):
        act(official, report_id, "accept")
    clock(at(3, 9))
    for report_id in (plain, disputed):
        fix(official, report_id)
    clock(at(4, 9))
    answered(citizen, plain, "confirm")
    answered(citizen, disputed, "dispute", {"reason": "Đèn vẫn chưa sáng."})
    clock(at(5, 9))
    fix(official, disputed)
    clock(at(6, 9))
    answered(citizen, disputed, "confirm")

    kpis = report_kpis(
        reports=FieldReport.objects.all(), start=date(2026, 3, 1), end=date(2026, 3, 31)
    )

    assert kpis["total"] == figures(
        received=2, acknowledged=2, acknowledged_on_time=2, acknowledged_on_time_rate=100.0,
        resolved=2, resolved_on_time=2, resolved_on_time_rate=100.0, confirmed=2, disputed=1,
        satisfaction=50.0,
    )  # fmt: skip


def test_satisfaction_is_never_below_zero(citizen, neighbour, official, clock):
    # One fix, late (100 %), disliked by the reporter and a follower (200 %): 0, not −200.
    clock(at(2, 9))
    report_id = new(citizen)
    answered(neighbour, report_id, "follow")
    act(official, report_id, "accept")
    clock(at(25, 9))
    fix(official, report_id)
    reacted(citizen, report_id, False)
    reacted(neighbour, report_id, False)

    kpis = report_kpis(
        reports=FieldReport.objects.all(), start=date(2026, 3, 1), end=date(2026, 3, 31)
    )

    assert kpis["total"] == figures(
        received=1, acknowledged=1, acknowledged_on_time=1, acknowledged_on_time_rate=100.0,
        resolved=1, resolved_on_time=0, resolved_on_time_rate=0.0, dislikes=2, satisfaction=0.0,
    )  # fmt: skip


def test_reactions_do_not_multiply_the_reports_they_join(citizen, official, clock):
    # Three reactions on one fix: still one report resolved, confirmed and on time.
    followers = [
        UserFactory(phone=f"+8491000000{n}", full_name=f"Người theo dõi {n}") for n in range(2)
    ]
    clock(at(2, 9))
    report_id = new(citizen)
    for follower in followers:
        answered(follower, report_id, "follow")
    act(official, report_id, "accept")
    clock(at(3, 9))
    fix(official, report_id)
    answered(citizen, report_id, "confirm")
    reacted(citizen, report_id, True)
    reacted(followers[0], report_id, True)
    reacted(followers[1], report_id, False)

    kpis = report_kpis(
        reports=FieldReport.objects.all(), start=date(2026, 3, 1), end=date(2026, 3, 31)
    )

    assert kpis["total"] == figures(
        received=1, acknowledged=1, acknowledged_on_time=1, acknowledged_on_time_rate=100.0,
        resolved=1, resolved_on_time=1, resolved_on_time_rate=100.0, confirmed=1,
        likes=2, dislikes=1, satisfaction=0.0,
    )  # fmt: skip


# --- reactions ------------------------------------------------------------------------------------


@pytest.fixture
def accepted(citizen, neighbour, official, clock) -> int:
    """A report of ``citizen`` followed by ``neighbour`` on 2 March, accepted; the clock on 3
    March at 9:00, when the tests fix it (the follow before the fix)."""
    clock(at(2, 9))
    report_id = new(citizen)
    answered(neighbour, report_id, "follow")
    act(official, report_id, "accept")
    clock(at(3, 9))
    return report_id


@pytest.fixture
def latecomer(ward) -> User:
    """A fourth citizen of the ward, who starts following the report once it is fixed."""
    return UserFactory(phone="+84922222222", full_name="Đỗ Văn Đến Muộn", ward=ward)


def reactions(report_id: int) -> list[tuple[str, bool]]:
    return list(
        ReportReaction.objects.filter(report_id=report_id)
        .order_by("user__phone")
        .values_list("user__phone", "like")
    )


def detail(user: User, report_id: int) -> dict:
    response = client_for(user).get(f"{URL}{report_id}/")
    assert response.status_code == 200, response.content
    return response.json()


def in_english(user: User, method: str, report_id: int, body: dict | None = None) -> Response:
    """POST or DELETE reports/{id}/reaction/ with Accept-Language: en."""
    send = getattr(client_for(user), method)
    return send(f"{URL}{report_id}/reaction/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")


def test_no_reaction_before_the_fix(accepted, citizen, neighbour, official):
    act(official, accepted, "start")

    for user in (citizen, neighbour):
        response = react(user, accepted, True)
        assert (response.status_code, response.json()) == (409, REFUSED_MOVE)
    assert reactions(accepted) == []
    assert detail(citizen, accepted)["my_reaction"] is None


def test_the_reporter_and_a_follower_react_once_resolved(accepted, citizen, neighbour, official):
    fix(official, accepted)

    mine = react(citizen, accepted, True)
    theirs = react(neighbour, accepted, False)

    assert (mine.status_code, mine.json()["my_reaction"], mine.json()["is_mine"]) == (
        200,
        True,
        True,
    )
    assert (theirs.status_code, theirs.json()["my_reaction"], theirs.json()["is_mine"]) == (
        200,
        False,
        False,
    )
    assert reactions(accepted) == [("+84911111111", False), ("+84912345678", True)]
    assert detail(citizen, accepted)["my_reaction"] is True
    assert detail(neighbour, accepted)["my_reaction"] is False


def test_another_citizen_cannot_react(accepted, other_citizen, official, api_client):
    fix(official, accepted)

    posted = react(other_citizen, accepted, False)
    deleted = client_for(other_citizen).delete(f"{URL}{accepted}/reaction/")
    anonymous = api_client.post(f"{URL}{accepted}/reaction/", {"like": False}, format="json")

    assert (posted.status_code, posted.json()) == (404, NOT_FOUND)
    assert (deleted.status_code, deleted.json()) == (404, NOT_FOUND)
    assert anonymous.status_code == 401
    assert reactions(accepted) == []
    # The report is public: they read it, with no reaction of theirs.
    assert detail(other_citizen, accepted)["my_reaction"] is None


def test_a_reaction_again_replaces_it_and_delete_takes_it_back(accepted, citizen, official, clock):
    fix(official, accepted)
    reacted(citizen, accepted, True)
    first = ReportReaction.objects.get()
    clock(at(4, 9))

    changed = react(citizen, accepted, False)

    assert (changed.status_code, changed.json()["my_reaction"]) == (200, False)
    again = ReportReaction.objects.get()
    assert (first.created_at, again.pk, again.like, again.created_at) == (
        at(3, 9),
        first.pk,
        False,
        at(4, 9),
    )

    removed = client_for(citizen).delete(f"{URL}{accepted}/reaction/")

    assert (removed.status_code, removed.json()["my_reaction"]) == (200, None)
    assert reactions(accepted) == []
    assert detail(citizen, accepted)["my_reaction"] is None


def test_the_kpis_count_the_reaction_as_it_is_now(accepted, citizen, neighbour, official, clock):
    fix(official, accepted)
    reacted(citizen, accepted, False)
    reacted(neighbour, accepted, False)
    reacted(citizen, accepted, True)
    assert client_for(neighbour).delete(f"{URL}{accepted}/reaction/").status_code == 200
    clock(at(31, 12))

    total = client_for(official).get(OFFICIAL_STATS, MARCH).json()["reports"]["total"]

    assert (total["likes"], total["dislikes"], total["satisfaction"]) == (1, 0, 100.0)


def test_a_closed_report_may_be_reacted_to(accepted, citizen, neighbour, official):
    fix(official, accepted)
    answered(citizen, accepted, "confirm")
    assert reload(accepted).status == R.CLOSED

    mine = react(citizen, accepted, False)
    theirs = react(neighbour, accepted, True)

    assert (mine.status_code, mine.json()["my_reaction"]) == (200, False)
    assert (theirs.status_code, theirs.json()["my_reaction"]) == (200, True)
    assert reactions(accepted) == [("+84911111111", True), ("+84912345678", False)]


def test_a_report_closed_without_a_fix_cannot_be_reacted_to(accepted, citizen, neighbour, official):
    act(official, accepted, "close", {"reason": "planned"})
    before = FieldReport.objects.filter(pk=accepted).values().get()
    assert before["status"] == R.CLOSED_NOT_FIXED

    for user in (citizen, neighbour):
        posted = react(user, accepted, False)
        deleted = client_for(user).delete(f"{URL}{accepted}/reaction/")
        assert (posted.status_code, posted.json()) == (409, REFUSED_MOVE)
        assert (deleted.status_code, deleted.json()) == (409, REFUSED_MOVE)

    assert reactions(accepted) == []
    assert FieldReport.objects.filter(pk=accepted).values().get() == before
    assert detail(citizen, accepted)["my_reaction"] is None


def test_a_follower_who_came_after_the_fix_cannot_react(
    accepted, citizen, neighbour, latecomer, official, clock
):
    fix(official, accepted)  # 3 March, 9:00
    reacted(citizen, accepted, True)
    reacted(neighbour, accepted, False)
    clock(at(3, 9, 1))
    answered(latecomer, accepted, "follow")
    report = FieldReport.objects.filter(pk=accepted).values().get()
    follows = list(ReportFollower.objects.order_by("pk").values())
    written = list(ReportReaction.objects.order_by("pk").values())

    refused = react(latecomer, accepted, False)
    posted = in_english(latecomer, "post", accepted, {"like": False})
    deleted = in_english(latecomer, "delete", accepted)

    assert (refused.status_code, refused.json()["code"]) == (409, "reaction_refused")
    assert (posted.status_code, posted.json()) == (409, REACTION_REFUSED)
    assert (deleted.status_code, deleted.json()) == (409, REACTION_REFUSED)
    # Nothing written: no reaction of theirs, the others' untouched, still a follower.
    assert list(ReportReaction.objects.order_by("pk").values()) == written
    assert reactions(accepted) == [("+84911111111", False), ("+84912345678", True)]
    assert list(ReportFollower.objects.order_by("pk").values()) == follows
    assert FieldReport.objects.filter(pk=accepted).values().get() == report
    assert detail(latecomer, accepted)["my_reaction"] is None


def test_a_follower_who_came_at_the_moment_of_the_fix_may_react(accepted, latecomer, official):
    # Not after the fix: the same moment is in time.
    fix(official, accepted)
    answered(latecomer, accepted, "follow")
    assert ReportFollower.objects.get(user=latecomer).created_at == reload(accepted).resolved_at

    response = react(latecomer, accepted, True)

    assert (response.status_code, response.json()["my_reaction"]) == (200, True)
    assert reactions(accepted) == [("+84922222222", True)]


def test_a_follower_who_came_between_two_fixes_may_rate_the_second(
    accepted, citizen, latecomer, official, clock
):
    fix(official, accepted)  # 3 March, 9:00
    clock(at(3, 10))
    answered(latecomer, accepted, "follow")
    clock(at(4, 9))
    refused = react(latecomer, accepted, False)
    answered(citizen, accepted, "dispute", {"reason": "Đèn vẫn chưa sáng."})
    clock(at(5, 9))
    fix(official, accepted)  # after their follow: the fix they may rate

    response = react(latecomer, accepted, False)

    assert (refused.status_code, refused.json()["code"]) == (409, "reaction_refused")
    assert (response.status_code, response.json()["my_reaction"]) == (200, False)
    assert reactions(accepted) == [("+84922222222", False)]


def test_a_refused_report_cannot_be_reacted_to(citizen, official):
    report_id = new(citizen)
    act(official, report_id, "refuse", {"reason": "Không thuộc thẩm quyền của xã."})

    response = react(citizen, report_id, False)

    assert (response.status_code, response.json()) == (409, REFUSED_MOVE)
    assert reactions(report_id) == []


def test_a_reaction_must_say_like_or_dislike(accepted, citizen, official):
    fix(official, accepted)

    response = client_for(citizen).post(f"{URL}{accepted}/reaction/", {}, format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["like"]
    assert reactions(accepted) == []


def test_the_public_sees_no_reaction(accepted, citizen, official):
    fix(official, accepted)
    reacted(citizen, accepted, True)

    response = APIClient().get(f"{URL}{accepted}/")

    assert response.status_code == 200
    assert response.json().get("my_reaction") is None
