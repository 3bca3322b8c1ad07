"""Moving a dossier: the officials receive, refuse and ask for supplements; the citizen answers
and withdraws. One guard over DOSSIER_TRANSITIONS (409), the waits that stop the clock, the
appointment date in working days, who may do what (404/403/401), and the access log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.actions.officials import official_create_or_update
from accounts.models import DataAccessLog, Role, User
from services import dossier_flow as flow
from services.errors import DossierTransitionRefused, InvalidForm
from services.models import Dossier, Procedure, ProcessingUnit
from tests.conftest import client_for, with_units_query
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/api/v1/dossiers/"
OFFICIAL_URL = "/api/v1/official/dossiers/"
MARRIAGE = "1.004873"  # 3 working days, form {"purpose"}, no household
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
NOT_FOUND = {"code": "not_found", "message": "Không tìm thấy.", "fields": {}}
REFUSED_MOVE = {
    "code": "invalid_transition",
    "message": "Không thể thực hiện việc này ở trạng thái hiện tại của hồ sơ.",
    "fields": {},
}
FORBIDDEN = {
    "code": "permission_denied",
    "message": "Bạn không có quyền thực hiện thao tác này.",
    "fields": {},
}
REQUIRED = "Trường này là bắt buộc."


@pytest.fixture(autouse=True)
def catalog(db) -> None:
    call_command("load_demo_procedures", stdout=StringIO())


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of March 2026, local time (2 March is a Monday; no holiday that fortnight)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=LOCAL)


@pytest.fixture
def clock(monkeypatch) -> Callable[[datetime], None]:
    """Set the outside world's clock (timezone.now) to a fixed moment."""

    def set_clock(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_clock


def official_with(roles: list[str], phone: str = "+84900000099") -> User:
    return official_create_or_update(
        phone=phone,
        full_name="Đinh Văn Văn Thư",
        password=PASSWORD,
        roles=roles,
        unit_codes=[6040],
    )


def submit(user: User) -> str:
    response = client_for(user).post(
        URL,
        {"procedure": MARRIAGE, "unit": 6040, "form_data": {"purpose": "x"}},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()["code"]


def act(user: User, code: str, action: str, body: dict | None = None):
    return client_for(user).post(f"{OFFICIAL_URL}{code}/{action}/", body or {}, format="json")


def answer(user: User, code: str, action: str, body: dict | None = None):
    """The citizen's moves: supplement/ or withdraw/."""
    return client_for(user).post(f"{URL}{code}/{action}/", body or {}, format="json")


def row(code: str) -> tuple:
    d = Dossier.objects.get(code=code)
    return (d.status, d.received_at, d.appointment_date, d.supplement_requests, d.updated_at)


def events(code: str) -> list[tuple]:
    return list(
        Dossier.objects.get(code=code)
        .events.order_by("id")
        .values_list("from_status", "to_status", "actor_id", "note")
    )


def waits(code: str) -> list[tuple]:
    return list(
        Dossier.objects.get(code=code)
        .waits.order_by("id")
        .values_list("status", "started_at", "ended_at")
    )


def state(code: str) -> tuple:
    """Everything a move writes: the dossier's fields, its timeline and its waits."""
    return row(code), events(code), waits(code)


# --- the happy path ------------------------------------------------------------------------------


def test_received_asked_for_a_supplement_answered_then_withdrawn(citizen, official, clock):
    clock(at(2, 9))
    code = submit(citizen)

    received = act(official, code, "receive", {"note": "Đủ thành phần"})

    assert received.status_code == 200
    body = received.json()
    assert (body["code"], body["status"], body["status_display"]) == (code, 4, "Đang xử lý")
    assert (body["appointment_date"], body["remaining_working_days"], body["overdue"]) == (
        "2026-03-05",
        3,
        False,
    )
    assert (body["applicant"], body["supplement_requests"]) == ("Nguyễn Văn An", 0)
    assert row(code) == (4, at(2, 9), date(2026, 3, 5), 0, at(2, 9))
    assert events(code) == [
        (None, 1, citizen.pk, ""),
        (1, 2, official.pk, "Đủ thành phần"),
        (2, 4, official.pk, ""),
    ]
    assert waits(code) == []

    clock(at(3, 10))
    asked = act(official, code, "request-supplement", {"missing": "Bản sao CCCD"})

    assert asked.status_code == 200
    body = asked.json()
    assert (body["status"], body["status_display"]) == (5, "Yêu cầu bổ sung")
    # the clock stops: no working days counted down while the citizen holds the dossier
    assert (body["appointment_date"], body["remaining_working_days"], body["overdue"]) == (
        "2026-03-05",
        None,
        False,
    )
    assert body["supplement_requests"] == 1
    assert row(code) == (5, at(2, 9), date(2026, 3, 5), 1, at(3, 10))
    assert events(code)[3:] == [(4, 5, official.pk, "Bản sao CCCD")]
    assert waits(code) == [(5, at(3, 10), None)]

    clock(at(5, 9))
    answered = answer(citizen, code, "supplement", {"note": "  Đã bổ sung  "})

    assert answered.status_code == 200
    body = answered.json()
    # Wednesday and Thursday were waited: the appointment moves from Thursday to Monday
    assert (body["status"], body["appointment_date"], body["remaining_working_days"]) == (
        4,
        "2026-03-09",
        2,
    )
    assert "applicant" not in body
    assert row(code) == (4, at(2, 9), date(2026, 3, 9), 1, at(5, 9))
    assert events(code)[4:] == [(5, 4, citizen.pk, "Đã bổ sung")]
    assert waits(code) == [(5, at(3, 10), at(5, 9))]

    clock(at(6, 8))
    withdrawn = answer(citizen, code, "withdraw", {"note": "Không cần nữa"})

    assert withdrawn.status_code == 200
    body = withdrawn.json()
    assert (body["status"], body["status_display"]) == (7, "Công dân rút")
    assert (body["appointment_date"], body["remaining_working_days"], body["overdue"]) == (
        "2026-03-09",
        None,
        False,
    )
    assert row(code) == (7, at(2, 9), date(2026, 3, 9), 1, at(6, 8))
    assert events(code)[5:] == [(4, 7, citizen.pk, "Không cần nữa")]
    assert waits(code) == [(5, at(3, 10), at(5, 9))]


def test_received_after_the_cutoff_counts_from_the_next_working_day(citizen, official, clock):
    clock(at(2, 16, 30))
    code = submit(citizen)

    response = act(official, code, "receive")

    assert (response.status_code, response.json()["appointment_date"]) == (200, "2026-03-06")
    assert row(code) == (4, at(2, 16, 30), date(2026, 3, 6), 0, at(2, 16, 30))


def test_a_second_supplement_request_counts_two_and_both_waits_move_the_date(
    citizen, official, clock
):
    clock(at(2, 9))
    code = submit(citizen)
    act(official, code, "receive")
    clock(at(3, 10))
    act(official, code, "request-supplement", {"missing": "Bản sao CCCD"})
    clock(at(5, 9))
    answer(citizen, code, "supplement")
    clock(at(5, 15))

    again = act(official, code, "request-supplement", {"missing": "Giấy xác nhận cư trú"})

    assert (again.status_code, again.json()["supplement_requests"]) == (200, 2)
    assert row(code) == (5, at(2, 9), date(2026, 3, 9), 2, at(5, 15))
    assert waits(code) == [(5, at(3, 10), at(5, 9)), (5, at(5, 15), None)]

    clock(at(9, 9))
    answered = answer(citizen, code, "supplement")

    # 2 + 2 working days waited (Wed, Thu; Fri, Mon): 3 + 4 working days after Monday 2
    assert (answered.status_code, answered.json()["appointment_date"]) == (200, "2026-03-11")
    assert row(code) == (4, at(2, 9), date(2026, 3, 11), 2, at(9, 9))
    assert waits(code) == [(5, at(3, 10), at(5, 9)), (5, at(5, 15), at(9, 9))]
    assert [e[:3] for e in events(code)] == [
        (None, 1, citizen.pk),
        (1, 2, official.pk),
        (2, 4, official.pk),
        (4, 5, official.pk),
        (5, 4, citizen.pk),
        (4, 5, official.pk),
        (5, 4, citizen.pk),
    ]


def test_a_refusal_keeps_its_reason(citizen, official, clock):
    clock(at(2, 9))
    code = submit(citizen)

    response = act(official, code, "refuse", {"reason": "Sai thẩm quyền"})

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["status_display"]) == (3, "Không được tiếp nhận")
    assert (body["appointment_date"], body["remaining_working_days"]) == (None, None)
    assert row(code) == (3, None, None, 0, at(2, 9))
    assert events(code) == [(None, 1, citizen.pk, ""), (1, 3, official.pk, "Sai thẩm quyền")]
    assert waits(code) == []


def test_withdrawing_while_waiting_closes_the_wait(citizen, official, clock):
    clock(at(2, 9))
    code = submit(citizen)
    act(official, code, "receive")
    clock(at(3, 10))
    act(official, code, "request-supplement", {"missing": "Bản sao CCCD"})
    clock(at(4, 11))

    response = answer(citizen, code, "withdraw")

    assert response.status_code == 200
    assert row(code) == (7, at(2, 9), date(2026, 3, 5), 1, at(4, 11))
    assert events(code)[-1] == (5, 7, citizen.pk, "")
    assert waits(code) == [(5, at(3, 10), at(4, 11))]


# --- what the citizen and the public see ---------------------------------------------------------


def test_the_citizen_sees_the_timeline_with_notes_and_the_public_without(
    citizen, official, clock, api_client
):
    clock(at(2, 9))
    code = submit(citizen)
    act(official, code, "receive", {"note": "Đủ thành phần"})
    clock(at(3, 10))
    act(official, code, "request-supplement", {"missing": "Bản sao CCCD"})
    clock(at(5, 9))
    answer(citizen, code, "supplement", {"note": "Đã bổ sung"})

    mine = client_for(citizen).get(f"{URL}{code}/")
    tracked = api_client.get(f"/api/v1/track/{code}/")

    assert mine.status_code == 200
    timeline = mine.json()["timeline"]
    assert [e.pop("created_at") for e in timeline][1:] == [
        "2026-03-02T09:00:00+07:00",
        "2026-03-02T09:00:00+07:00",
        "2026-03-03T10:00:00+07:00",
        "2026-03-05T09:00:00+07:00",
    ]
    assert timeline == [
        {"status": 1, "status_display": "Mới đăng ký", "note": ""},
        {"status": 2, "status_display": "Được tiếp nhận", "note": "Đủ thành phần"},
        {"status": 4, "status_display": "Đang xử lý", "note": ""},
        {"status": 5, "status_display": "Yêu cầu bổ sung", "note": "Bản sao CCCD"},
        {"status": 4, "status_display": "Đang xử lý", "note": "Đã bổ sung"},
    ]
    assert tracked.status_code == 200
    public = tracked.json()["timeline"]
    assert [set(e) for e in public] == [{"status", "status_display", "created_at"}] * 5
    assert [e["status"] for e in public] == [1, 2, 4, 5, 4]
    text = tracked.content.decode()
    for private in ["Đủ thành phần", "Bản sao CCCD", "Đã bổ sung", '"note"', citizen.full_name]:
        assert private not in text, private


# --- the one guard -------------------------------------------------------------------------------


def _receive(code, official, citizen):
    return act(official, code, "receive")


def _refuse(code, official, citizen):
    return act(official, code, "refuse", {"reason": "Sai thẩm quyền"})


def _ask(code, official, citizen):
    return act(official, code, "request-supplement", {"missing": "Bản sao CCCD"})


def _supplement(code, official, citizen):
    return answer(citizen, code, "supplement")


def _withdraw(code, official, citizen):
    return answer(citizen, code, "withdraw")


@pytest.mark.parametrize(
    ("before", "move"),
    [
        pytest.param([_receive], _receive, id="receive-twice"),
        pytest.param([_receive], _refuse, id="refuse-after-receipt"),
        pytest.param([_refuse], _receive, id="receive-after-refusal"),
        pytest.param([_refuse], _withdraw, id="withdraw-after-refusal"),
        pytest.param([], _supplement, id="supplement-on-1"),
        pytest.param([_receive], _supplement, id="supplement-on-4"),
        pytest.param([_withdraw], _withdraw, id="withdraw-after-7"),
        pytest.param([_receive, _withdraw], _supplement, id="supplement-after-7"),
        pytest.param([], _ask, id="request-supplement-on-1"),
        pytest.param([_receive, _ask], _ask, id="request-supplement-on-5"),
        pytest.param([_receive, _ask], _receive, id="receive-on-5"),
    ],
)
def test_an_undeclared_move_is_refused_and_changes_nothing(citizen, official, clock, before, move):
    clock(at(2, 9))
    code = submit(citizen)
    for step in before:
        assert step(code, official, citizen).status_code == 200
    snapshot = state(code)
    logged = DataAccessLog.objects.count()
    clock(at(3, 10))

    response = move(code, official, citizen)

    assert (response.status_code, response.json()) == (409, REFUSED_MOVE)
    assert state(code) == snapshot
    assert DataAccessLog.objects.count() == logged


def test_the_actions_refuse_an_undeclared_move_directly(citizen, official, clock):
    clock(at(2, 9))
    code = submit(citizen)
    dossier = flow.dossier_receive(actor=official, dossier=Dossier.objects.get(code=code))
    snapshot = state(code)

    with pytest.raises(DossierTransitionRefused):
        flow.dossier_receive(actor=official, dossier=dossier)
    with pytest.raises(DossierTransitionRefused):
        flow.dossier_refuse(actor=official, dossier=dossier, reason="Sai thẩm quyền")
    with pytest.raises(DossierTransitionRefused):
        flow.dossier_supplement(actor=citizen, dossier=dossier)

    assert state(code) == snapshot


# --- reasons -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "field", "received"),
    [("refuse", "reason", False), ("request-supplement", "missing", True)],
)
@pytest.mark.parametrize(
    ("sent", "message"),
    [({}, REQUIRED), ({"x": " "}, "Trường này không được để trống.")],
    ids=["absent", "blank"],
)
def test_the_reason_and_what_is_missing_are_required(
    citizen, official, clock, action, field, received, sent, message
):
    clock(at(2, 9))
    code = submit(citizen)
    if received:
        act(official, code, "receive")
    snapshot = state(code)
    body = {field: sent["x"]} if sent else {}

    response = act(official, code, action, body)

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "Dữ liệu không hợp lệ.",
        "fields": {field: [message]},
    }
    assert state(code) == snapshot


def test_the_actions_refuse_a_blank_reason_or_missing(citizen, official, clock):
    clock(at(2, 9))
    code = submit(citizen)
    dossier = Dossier.objects.get(code=code)
    snapshot = state(code)

    with pytest.raises(InvalidForm) as refused:
        flow.dossier_refuse(actor=official, dossier=dossier, reason=" \n ")
    with pytest.raises(InvalidForm) as asked:
        flow.dossier_request_supplement(actor=official, dossier=dossier, missing="")

    assert refused.value.fields == {"reason": [REQUIRED]}
    assert asked.value.fields == {"missing": [REQUIRED]}
    assert state(code) == snapshot


# --- who may --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "status"), [("supplement", 5), ("withdraw", 4)], ids=["supplement", "withdraw"]
)
def test_another_citizen_cannot_move_my_dossier(
    citizen, other_citizen, official, clock, action, status
):
    clock(at(2, 9))
    code = submit(citizen)
    act(official, code, "receive")
    if status == 5:
        act(official, code, "request-supplement", {"missing": "Bản sao CCCD"})
    snapshot = state(code)

    response = answer(other_citizen, code, action, {"note": "của tôi"})

    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert state(code) == snapshot


def test_an_official_cannot_answer_or_withdraw_as_the_citizen(citizen, official, clock):
    clock(at(2, 9))
    code = submit(citizen)
    act(official, code, "receive")
    act(official, code, "request-supplement", {"missing": "Bản sao CCCD"})
    snapshot = state(code)

    answered = answer(official, code, "supplement")
    withdrawn = answer(official, code, "withdraw")

    assert (answered.status_code, answered.json()) == (404, NOT_FOUND)
    assert (withdrawn.status_code, withdrawn.json()) == (404, NOT_FOUND)
    assert state(code) == snapshot


OFFICIAL_MOVES = [
    ("receive", {}, False),
    ("refuse", {"reason": "Sai thẩm quyền"}, False),
    ("request-supplement", {"missing": "Bản sao CCCD"}, True),
]


def test_an_official_of_another_unit_sees_nothing(citizen, official, other_official, clock):
    clock(at(2, 9))
    code = submit(citizen)

    detail = client_for(other_official).get(f"{OFFICIAL_URL}{code}/")
    listed = client_for(other_official).get(OFFICIAL_URL)

    assert (detail.status_code, detail.json()) == (404, NOT_FOUND)
    assert (listed.status_code, listed.json()["results"]) == (200, [])
    assert DataAccessLog.objects.count() == 0


@pytest.mark.parametrize(("action", "body", "received"), OFFICIAL_MOVES)
def test_an_official_of_another_unit_cannot_move_it(
    citizen, official, other_official, clock, action, body, received
):
    clock(at(2, 9))
    code = submit(citizen)
    if received:
        act(official, code, "receive")
    snapshot = state(code)
    logged = DataAccessLog.objects.count()

    response = act(other_official, code, action, body)

    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert state(code) == snapshot
    assert DataAccessLog.objects.count() == logged


@pytest.mark.parametrize(
    "request_",
    [
        lambda client, code: client.get(OFFICIAL_URL),
        lambda client, code: client.get(f"{OFFICIAL_URL}{code}/"),
        lambda client, code: client.post(f"{OFFICIAL_URL}{code}/receive/", {}, format="json"),
        lambda client, code: client.post(
            f"{OFFICIAL_URL}{code}/refuse/", {"reason": "x"}, format="json"
        ),
    ],
    ids=["list", "detail", "receive", "refuse"],
)
def test_a_clerk_without_a_role_and_a_citizen_are_forbidden(citizen, ward, clock, request_):
    clock(at(2, 9))
    code = submit(citizen)
    clerk = official_with([])
    snapshot = state(code)

    as_clerk = request_(client_for(clerk), code)
    as_citizen = request_(client_for(citizen), code)

    assert (as_clerk.status_code, as_clerk.json()) == (403, FORBIDDEN)
    assert (as_citizen.status_code, as_citizen.json()) == (403, FORBIDDEN)
    assert state(code) == snapshot
    assert DataAccessLog.objects.count() == 0


def test_receiving_and_refusing_need_the_reception_role(citizen, official, clock):
    clock(at(2, 9))
    code = submit(citizen)
    refused_code = submit(citizen)
    processing = official_with([Role.PROCESSING])
    snapshot, refused_snapshot = state(code), state(refused_code)

    detail = client_for(processing).get(f"{OFFICIAL_URL}{code}/")
    received = act(processing, code, "receive")
    refused = act(processing, refused_code, "refuse", {"reason": "Sai thẩm quyền"})

    # processing officials see the unit's dossiers but the one-stop desk receives them
    assert (detail.status_code, detail.json()["code"]) == (200, code)
    assert (received.status_code, received.json()) == (404, NOT_FOUND)
    assert (refused.status_code, refused.json()) == (404, NOT_FOUND)
    assert (state(code), state(refused_code)) == (snapshot, refused_snapshot)


def test_asking_for_a_supplement_needs_the_processing_role(citizen, official, clock):
    clock(at(2, 9))
    code = submit(citizen)
    reception = official_with([Role.RECEPTION])

    received = act(reception, code, "receive")
    snapshot = state(code)
    asked = act(reception, code, "request-supplement", {"missing": "Bản sao CCCD"})

    assert (received.status_code, received.json()["status"]) == (200, 4)
    assert (asked.status_code, asked.json()) == (404, NOT_FOUND)
    assert state(code) == snapshot
    assert events(code)[1:] == [(1, 2, reception.pk, ""), (2, 4, reception.pk, "")]


def test_a_processing_official_asks_for_a_supplement(citizen, official, clock):
    clock(at(2, 9))
    code = submit(citizen)
    act(official, code, "receive")
    processing = official_with([Role.PROCESSING])

    asked = act(processing, code, "request-supplement", {"missing": "Bản sao CCCD"})

    assert (asked.status_code, asked.json()["status"]) == (200, 5)
    assert events(code)[-1] == (4, 5, processing.pk, "Bản sao CCCD")


def test_a_reception_official_refuses(citizen, official, clock):
    clock(at(2, 9))
    code = submit(citizen)
    reception = official_with([Role.RECEPTION])

    refused = act(reception, code, "refuse", {"reason": "Sai thẩm quyền"})

    assert (refused.status_code, refused.json()["status"]) == (200, 3)
    assert events(code)[-1] == (1, 3, reception.pk, "Sai thẩm quyền")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", OFFICIAL_URL, None),
        ("get", f"{OFFICIAL_URL}{{code}}/", None),
        ("post", f"{OFFICIAL_URL}{{code}}/receive/", {}),
        ("post", f"{OFFICIAL_URL}{{code}}/refuse/", {"reason": "x"}),
        ("post", f"{OFFICIAL_URL}{{code}}/request-supplement/", {"missing": "x"}),
        ("post", f"{URL}{{code}}/supplement/", {}),
        ("post", f"{URL}{{code}}/withdraw/", {}),
    ],
)
def test_anonymous_is_not_authenticated(citizen, clock, api_client, method, path, body):
    clock(at(2, 9))
    code = submit(citizen)
    snapshot = state(code)

    response = getattr(api_client, method)(path.format(code=code), body, format="json")

    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
    assert state(code) == snapshot


def test_the_province_administrator_sees_the_province_queue_but_does_not_receive(
    citizen, other_citizen, official, province_admin, ward, other_ward, clock
):
    clock(at(2, 9))
    here = submit(citizen)
    response = client_for(other_citizen).post(
        URL, {"procedure": MARRIAGE, "unit": 6001, "form_data": {"purpose": "y"}}, format="json"
    )
    there = response.json()["code"]
    snapshot = state(here)

    queue = client_for(province_admin).get(OFFICIAL_URL)
    detail = client_for(province_admin).get(f"{OFFICIAL_URL}{here}/")
    received = act(province_admin, here, "receive")
    refused = act(province_admin, here, "refuse", {"reason": "Sai thẩm quyền"})

    assert queue.status_code == 200
    assert [d["code"] for d in queue.json()["results"]] == [there, here]
    assert (detail.status_code, detail.json()["applicant"]) == (200, "Nguyễn Văn An")
    # no receive_dossier permission: the moves answer 404 although the detail is visible
    assert (received.status_code, received.json()) == (404, NOT_FOUND)
    assert (refused.status_code, refused.json()) == (404, NOT_FOUND)
    assert state(here) == snapshot
    assert list(DataAccessLog.objects.values_list("official_id", "object_id")) == [
        (province_admin.pk, here)
    ]


# --- the officials' queue and detail -------------------------------------------------------------


def test_reading_a_dossier_is_logged_and_listing_is_not(citizen, official, clock):
    clock(at(2, 9))
    code = submit(citizen)

    listed = client_for(official).get(OFFICIAL_URL)

    assert listed.status_code == 200
    assert DataAccessLog.objects.count() == 0

    detail = client_for(official).get(f"{OFFICIAL_URL}{code}/")

    assert detail.status_code == 200
    assert list(
        DataAccessLog.objects.values_list(
            "official_id", "subject_id", "resource", "purpose", "channel", "object_id"
        )
    ) == [(official.pk, citizen.pk, "dossier", "dossier_processing", "api", code)]


def test_the_answer_to_a_move_is_a_logged_read(citizen, official, clock):
    clock(at(2, 9))
    code = submit(citizen)

    act(official, code, "receive")

    # the move answers the dossier in detail, with the applicant: that read is logged
    assert list(DataAccessLog.objects.values_list("official_id", "subject_id", "object_id")) == [
        (official.pk, citizen.pk, code)
    ]


def test_the_official_detail(citizen, official, clock):
    clock(at(2, 9))
    code = submit(citizen)
    act(official, code, "receive", {"note": "Đủ thành phần"})

    response = client_for(official).get(f"{OFFICIAL_URL}{code}/")

    assert response.status_code == 200
    body = response.json()
    body.pop("submitted_at")
    assert [e.pop("created_at") for e in body["timeline"]][1:] == [
        "2026-03-02T09:00:00+07:00",
        "2026-03-02T09:00:00+07:00",
    ]
    assert body == {
        "code": code,
        "procedure": {"code": MARRIAGE, "name": Dossier.objects.get(code=code).procedure.name},
        "unit": {"code": 6040, "name": "Xã Thất Khê"},
        "status": 4,
        "status_display": "Đang xử lý",
        "channel": 2,
        "appointment_date": "2026-03-05",
        "remaining_working_days": 3,
        "overdue": False,
        "household": None,
        "form_data": {"purpose": "x"},
        "timeline": [
            {"status": 1, "status_display": "Mới đăng ký", "note": ""},
            {"status": 2, "status_display": "Được tiếp nhận", "note": "Đủ thành phần"},
            {"status": 4, "status_display": "Đang xử lý", "note": ""},
        ],
        "fee_due": None,
        "outcome": "",
        "attachments": [],
        "extensions": [],
        "rating": None,
        "applicant": "Nguyễn Văn An",
        "supplement_requests": 0,
        "fee_requests": 0,
        "assignee": None,
    }


def test_the_queue_filters_by_status_and_procedure(citizen, official, clock):
    clock(at(2, 9))
    first = submit(citizen)
    second = submit(citizen)
    act(official, first, "receive")
    client = client_for(official)

    def codes(query: str) -> list[str]:
        response = client.get(f"{OFFICIAL_URL}{query}")
        assert response.status_code == 200, response.content
        return [d["code"] for d in response.json()["results"]]

    assert codes("") == [second, first]
    assert codes("?status=1") == [second]
    assert codes("?status=4") == [first]
    assert codes("?status=5") == []
    assert codes(f"?procedure={MARRIAGE}") == [second, first]
    assert codes("?procedure=1.001193") == []
    bad = client.get(f"{OFFICIAL_URL}?status=11")
    assert (bad.status_code, list(bad.json()["fields"])) == (400, ["status"])


def test_the_queue_shows_no_applicant(citizen, official, clock):
    clock(at(2, 9))
    submit(citizen)

    response = client_for(official).get(OFFICIAL_URL)

    assert set(response.json()["results"][0]) == {
        "code",
        "procedure",
        "unit",
        "status",
        "status_display",
        "channel",
        "submitted_at",
        "appointment_date",
        "remaining_working_days",
        "overdue",
        "assignee",
    }
    assert citizen.full_name not in response.content.decode()


@pytest.mark.parametrize("count", [2, 6])
def test_the_queue_costs_the_same_queries_for_any_count(
    citizen, other_citizen, official, other_ward, clock, count, django_assert_num_queries
):
    clock(at(2, 9))
    for _ in range(count):
        submit(citizen)
    client_for(other_citizen).post(
        URL, {"procedure": MARRIAGE, "unit": 6001, "form_data": {"purpose": "y"}}, format="json"
    )
    client = client_for(official)

    # the user (JWT) with the official profile, the user's and the groups' permissions (one
    # query), the official's units, the page (the day swaps: read once per process)
    with django_assert_num_queries(with_units_query(4)):
        response = client.get(OFFICIAL_URL)

    assert len(response.json()["results"]) == count


def test_nothing_moves_without_a_dossier(official):
    response = act(official, "H20.6040-260302-9999", "receive")

    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_a_procedure_counted_in_working_hours_is_not_counted_in_days(citizen, official, clock):
    Procedure.objects.filter(code=MARRIAGE).update(
        processing_time=4, processing_unit=ProcessingUnit.WORKING_HOURS
    )
    clock(at(2, 9))
    code = submit(citizen)

    response = act(official, code, "receive")

    assert response.status_code == 200
    # 4 working hours round up to one working day: Monday 09:00 → Tuesday.
    assert Dossier.objects.get(code=code).appointment_date == date(2026, 3, 3)
