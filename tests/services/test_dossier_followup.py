"""Following a dossier up: assigning it to a processing official, apologising with a new
appointment date (Mẫu 04, and its printable letter), what the KPIs store at the decision, the
citizen's rating, the citizen's inbox message for every move the officials make, and the
officials' queue filtered by overdue, due soon and assignee."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.actions.officials import official_create_or_update
from accounts.models import DataAccessLog, Role, User
from notifications.actions import notify
from notifications.models import Category, Notification
from services import dossier_flow as flow
from services.dossier_notices import notify_citizen_of_moves
from services.errors import InvalidForm
from services.models import Dossier, DossierExtension, DossierRating
from services.payments import FakePaymentProvider
from tests.conftest import client_for, with_units_query
from tests.factories import PASSWORD
from tests.notifications.text_events import text_event

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
BAD_ASSIGNEE = "Chọn một cán bộ xử lý hồ sơ của đơn vị tiếp nhận."
NOT_EXTENDABLE = {
    "code": "invalid_transition",
    "message": "Chỉ hồ sơ đang xử lý mới được hẹn lại ngày trả kết quả.",
    "fields": {},
}
LETTER_TITLE = "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"


def invalid(fields: dict) -> dict:
    return {"code": "invalid", "message": "Dữ liệu không hợp lệ.", "fields": fields}


@pytest.fixture(autouse=True)
def catalog(db) -> None:
    call_command("load_demo_procedures", stdout=StringIO())


@pytest.fixture(autouse=True)
def _fresh_payments():
    FakePaymentProvider.reset()
    yield
    FakePaymentProvider.reset()


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of March 2026, local time (2 March is a Monday; no holiday that month)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=LOCAL)


@pytest.fixture
def clock(monkeypatch) -> Callable[[datetime], None]:
    """Set the outside world's clock (timezone.now, which timezone.localdate reads too)."""

    def set_clock(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_clock


def official_of(
    roles: list[str], phone: str, name: str = "Đinh Văn Văn Thư", unit: int = 6040
) -> User:
    return official_create_or_update(
        phone=phone, full_name=name, password=PASSWORD, roles=roles, unit_codes=[unit]
    )


@pytest.fixture
def leader(ward) -> User:
    return official_of([Role.APPROVAL], "+84900000077", "Lãnh Đạo Xã")


@pytest.fixture
def desk(ward) -> User:
    return official_of([Role.RECEPTION], "+84900000078", "Vi Thị Một Cửa")


@pytest.fixture
def processor(ward) -> User:
    return official_of([Role.PROCESSING], "+84900000079", "Nông Văn Xử Lý")


def submit(user: User, unit: int = 6040) -> str:
    response = client_for(user).post(
        URL,
        {"procedure": MARRIAGE, "unit": unit, "form_data": {"purpose": "x"}},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()["code"]


def act(user: User, code: str, action: str, body: dict | None = None, **extra):
    return client_for(user).post(
        f"{OFFICIAL_URL}{code}/{action}/", body or {}, format="json", **extra
    )


def answer(user: User, code: str, action: str, body: dict | None = None):
    """The citizen's moves: supplement/, withdraw/, pay/, rating/."""
    return client_for(user).post(f"{URL}{code}/{action}/", body or {}, format="json")


def ok(response, status: int = 200):
    assert response.status_code == status, response.content
    return response


def received(citizen: User, official: User, clock, day: int = 2) -> str:
    """Submitted and received on ``day`` of March at 09:00: the appointment is 3 working days
    on (received Monday 2 → Thursday 5)."""
    clock(at(day, 9))
    code = submit(citizen)
    ok(act(official, code, "receive"))
    return code


def decide(leader: User, code: str, outcome: str = "approved", note: str = ""):
    return act(leader, code, "decide", {"outcome": outcome, "note": note})


def returned(citizen: User, official: User, leader: User, clock) -> str:
    """Received Monday 2, decided Tuesday 3, returned Wednesday 4: status 10."""
    code = received(citizen, official, clock)
    clock(at(3, 10))
    ok(decide(leader, code))
    clock(at(4, 10))
    ok(act(official, code, "return"))
    return code


def iso(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat()


def inbox(user: User) -> list[tuple]:
    return list(
        Notification.objects.filter(user=user)
        .order_by("id")
        .values_list("category", "title", "body", "data")
    )


def state(code: str) -> tuple:
    """Everything the follow-up actions write: the dossier's row, its timeline, waits,
    apology letters and rating, the inbox messages and the access log."""
    d = Dossier.objects.get(code=code)
    return (
        (
            d.status,
            d.appointment_date,
            d.assignee_id,
            d.extensions,
            d.supplement_requests,
            d.decided_at,
            d.on_time,
            d.working_days_taken,
            d.updated_at,
        ),
        list(d.events.order_by("id").values_list("from_status", "to_status", "actor_id", "note")),
        list(d.waits.order_by("id").values_list("status", "started_at", "ended_at")),
        list(DossierExtension.objects.filter(dossier=d).values_list("id", "new_date")),
        list(DossierRating.objects.filter(dossier=d).values_list("stars", "comment")),
        list(Notification.objects.order_by("id").values_list("user_id", "key")),
        DataAccessLog.objects.count(),
    )


# --- assigning -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["desk", "leader"])
def test_the_desk_or_the_leader_assigns_and_the_assignee_is_told_once(
    citizen, official, processor, clock, request, who
):
    assigner = request.getfixturevalue(who)
    code = received(citizen, official, clock)
    before = inbox(citizen)
    clock(at(3, 10))

    response = act(assigner, code, "assign", {"assignee": processor.pk})

    assert response.status_code == 200, response.content
    assert response.json()["assignee"] == {"id": processor.pk, "name": "Nông Văn Xử Lý"}
    dossier = Dossier.objects.get(code=code)
    assert (dossier.assignee_id, dossier.updated_at, dossier.status) == (
        processor.pk,
        at(3, 10),
        4,
    )
    assert inbox(processor) == [
        (
            "dossier",
            f"Hồ sơ {code} được giao cho bạn",
            f"{dossier.procedure.name}. Ngày hẹn trả kết quả: 05/03/2026.",
            {"dossier": code, "official": True},
        )
    ]
    # the citizen is not told about the officials' internal work
    assert inbox(citizen) == before
    assert inbox(assigner) == []

    clock(at(3, 11))
    again = act(assigner, code, "assign", {"assignee": processor.pk})

    assert (again.status_code, again.json()["assignee"]["id"]) == (200, processor.pk)
    assert Notification.objects.filter(user=processor).count() == 1
    # assigning to the one already assigned changes nothing
    assert Dossier.objects.get(code=code).updated_at == at(3, 10)


def test_reassigning_tells_the_new_assignee(citizen, official, desk, processor, clock):
    code = received(citizen, official, clock)
    clock(at(3, 10))
    ok(act(desk, code, "assign", {"assignee": processor.pk}))
    clock(at(3, 11))

    # the reception+processing official of the ward may process too
    response = act(desk, code, "assign", {"assignee": official.pk})

    assert response.json()["assignee"] == {"id": official.pk, "name": "Lý Thị Cán Bộ"}
    assert Dossier.objects.get(code=code).assignee_id == official.pk
    assert [n[1] for n in inbox(official)] == [f"Hồ sơ {code} được giao cho bạn"]
    assert Notification.objects.filter(user=processor).count() == 1


def _reception_only(ward, other_ward, citizen, other_official):
    return official_of([Role.RECEPTION], "+84900000081")


def _leader_only(ward, other_ward, citizen, other_official):
    return official_of([Role.APPROVAL], "+84900000082")


def _the_citizen(ward, other_ward, citizen, other_official):
    return citizen


def _processing_of_another_unit(ward, other_ward, citizen, other_official):
    return official_of([Role.PROCESSING], "+84900000083", unit=other_ward.code)


def _the_other_official(ward, other_ward, citizen, other_official):
    return other_official


def _inactive_processing(ward, other_ward, citizen, other_official):
    user = official_of([Role.PROCESSING], "+84900000084")
    User.objects.filter(pk=user.pk).update(is_active=False)
    return user


def _nobody(ward, other_ward, citizen, other_official):
    return User(pk=987654)


@pytest.mark.parametrize(
    "assignee",
    [
        _reception_only,
        _leader_only,
        _the_citizen,
        _processing_of_another_unit,
        _the_other_official,
        _inactive_processing,
        _nobody,
    ],
)
def test_only_a_processing_official_of_the_unit_can_be_assigned(
    citizen, official, other_official, desk, ward, other_ward, clock, assignee
):
    code = received(citizen, official, clock)
    target = assignee(ward, other_ward, citizen, other_official)
    snapshot = state(code)
    clock(at(3, 10))

    response = act(desk, code, "assign", {"assignee": target.pk})

    assert (response.status_code, response.json()) == (400, invalid({"assignee": [BAD_ASSIGNEE]}))
    assert state(code) == snapshot


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, REQUIRED),
        ({"assignee": "x"}, "Vui lòng nhập một số nguyên hợp lệ."),
        ({"assignee": 0}, "Giá trị phải lớn hơn hoặc bằng 1."),
    ],
    ids=["absent", "not-a-number", "zero"],
)
def test_the_assignee_is_a_user_id(citizen, official, desk, clock, body, message):
    code = received(citizen, official, clock)
    snapshot = state(code)

    response = act(desk, code, "assign", body)

    assert (response.status_code, response.json()) == (400, invalid({"assignee": [message]}))
    assert state(code) == snapshot


def _refused(code, citizen, official, leader):
    ok(act(official, code, "refuse", {"reason": "Sai thẩm quyền"}))


def _withdrawn_after_receipt(code, citizen, official, leader):
    ok(act(official, code, "receive"))
    ok(answer(citizen, code, "withdraw"))


def _stopped(code, citizen, official, leader):
    ok(act(official, code, "receive"))
    ok(act(official, code, "stop", {"reason": "Quá hạn bổ sung"}))


def _returned(code, citizen, official, leader):
    ok(act(official, code, "receive"))
    ok(decide(leader, code))
    ok(act(official, code, "return"))


@pytest.mark.parametrize(
    ("ending", "status"),
    [(_refused, 3), (_withdrawn_after_receipt, 7), (_stopped, 8), (_returned, 10)],
)
def test_a_final_dossier_cannot_be_assigned(
    citizen, official, leader, processor, desk, clock, ending, status
):
    clock(at(2, 9))
    code = submit(citizen)
    ending(code, citizen, official, leader)
    assert Dossier.objects.get(code=code).status == status
    snapshot = state(code)

    response = act(desk, code, "assign", {"assignee": processor.pk})

    assert (response.status_code, response.json()) == (409, REFUSED_MOVE)
    assert state(code) == snapshot


def test_who_may_not_assign(
    citizen, other_citizen, official, other_official, province_admin, processor, api_client, clock
):
    code = received(citizen, official, clock)
    snapshot = state(code)
    body = {"assignee": processor.pk}

    by_citizen = act(citizen, code, "assign", body)
    by_other_citizen = act(other_citizen, code, "assign", body)
    by_other_unit = act(other_official, code, "assign", body)
    by_processing_only = act(processor, code, "assign", body)
    by_province = act(province_admin, code, "assign", body)
    anonymous = api_client.post(f"{OFFICIAL_URL}{code}/assign/", body, format="json")

    assert (by_citizen.status_code, by_citizen.json()) == (403, FORBIDDEN)
    assert (by_other_citizen.status_code, by_other_citizen.json()) == (403, FORBIDDEN)
    assert (by_other_unit.status_code, by_other_unit.json()) == (404, NOT_FOUND)
    assert (by_processing_only.status_code, by_processing_only.json()) == (404, NOT_FOUND)
    assert (by_province.status_code, by_province.json()) == (404, NOT_FOUND)
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")
    assert state(code) == snapshot


def test_the_assign_action_refuses_directly(citizen, official, processor, clock):
    code = received(citizen, official, clock)
    dossier = Dossier.objects.get(code=code)
    snapshot = state(code)

    with pytest.raises(InvalidForm) as refused:
        flow.dossier_assign(actor=official, dossier=dossier, assignee_id=citizen.pk)

    assert refused.value.fields == {"assignee": [BAD_ASSIGNEE]}
    assert state(code) == snapshot


def test_my_assigned_dossiers(citizen, official, desk, processor, clock):
    first = received(citizen, official, clock)
    second = received(citizen, official, clock, day=3)
    third = received(citizen, official, clock, day=4)
    unassigned = received(citizen, official, clock, day=5)
    ok(act(desk, first, "assign", {"assignee": processor.pk}))
    ok(act(desk, second, "assign", {"assignee": official.pk}))
    ok(act(desk, third, "assign", {"assignee": processor.pk}))

    def listed(user: User, query: str = "") -> list[tuple]:
        response = client_for(user).get(f"{OFFICIAL_URL}{query}")
        assert response.status_code == 200, response.content
        return [(d["code"], d["assignee"]) for d in response.json()["results"]]

    mine = {"id": processor.pk, "name": "Nông Văn Xử Lý"}
    theirs = {"id": official.pk, "name": "Lý Thị Cán Bộ"}
    assert listed(processor, "?assigned_to_me=true") == [(third, mine), (first, mine)]
    assert listed(official, "?assigned_to_me=true") == [(second, theirs)]
    assert listed(desk, "?assigned_to_me=true") == []
    assert (
        listed(desk, "?assigned_to_me=false")
        == listed(desk)
        == [
            (unassigned, None),
            (third, mine),
            (second, theirs),
            (first, mine),
        ]
    )
    assert listed(processor, "?assigned_to_me=true&status=4") == [(third, mine), (first, mine)]
    bad = client_for(processor).get(f"{OFFICIAL_URL}?assigned_to_me=maybe")
    assert (bad.status_code, bad.json()) == (
        400,
        invalid({"assigned_to_me": ["Phải là giá trị đúng/sai hợp lệ."]}),
    )


# --- apologising with a new appointment date -----------------------------------------------------


def test_a_new_appointment_date_the_citizen_reads_and_the_letter(citizen, official, clock):
    code = received(citizen, official, clock)  # appointment Thursday 5 March
    clock(at(4, 10))
    logged = DataAccessLog.objects.count()

    response = act(
        official, code, "extend", {"new_date": "2026-03-10", "reason": "  Chờ xác minh  "}
    )

    assert response.status_code == 200, response.content
    letter = DossierExtension.objects.get()
    assert (
        letter.dossier.code,
        letter.previous_date,
        letter.new_date,
        letter.reason,
        letter.official_id,
    ) == (code, date(2026, 3, 5), date(2026, 3, 10), "Chờ xác minh", official.pk)
    shown = {
        "id": letter.pk,
        "previous_date": "2026-03-05",
        "new_date": "2026-03-10",
        "reason": "Chờ xác minh",
        "created_at": iso(letter.created_at),
    }
    body = response.json()
    # Wednesday 4 → Tuesday 10: Thursday, Friday, Monday, Tuesday
    assert (body["status"], body["appointment_date"], body["remaining_working_days"]) == (
        4,
        "2026-03-10",
        4,
    )
    assert body["extensions"] == [shown]
    dossier = Dossier.objects.get(code=code)
    assert (dossier.appointment_date, dossier.extensions, dossier.updated_at) == (
        date(2026, 3, 10),
        1,
        at(4, 10),
    )
    # no move: the timeline is untouched
    assert [e["status"] for e in body["timeline"]] == [1, 2, 4]
    mine = client_for(citizen).get(f"{URL}{code}/")
    assert (mine.status_code, mine.json()["extensions"]) == (200, [shown])
    assert mine.json()["appointment_date"] == "2026-03-10"
    assert inbox(citizen)[1:] == [
        (
            "dossier",
            f"Hồ sơ {code}: hẹn lại ngày trả kết quả",
            "Chúng tôi xin lỗi vì kết quả bị chậm (Chờ xác minh). "
            "Ngày hẹn trả kết quả mới: 10/03/2026.",
            {"dossier": code, "appointment_date": "2026-03-10"},
        )
    ]
    # the answer to the move is a logged read, like every move's
    assert DataAccessLog.objects.count() == logged + 1

    page = client_for(official).get(f"{OFFICIAL_URL}{code}/extensions/{letter.pk}/letter/")

    assert page.status_code == 200
    assert page["Content-Type"] == "text/html; charset=utf-8"
    assert page["Cache-Control"] == "private, no-store"
    html = page.content.decode()
    for part in [
        LETTER_TITLE,
        "Kính gửi: Ông/Bà Nguyễn Văn An",
        f"Mã hồ sơ: {code}.",
        "Lý do: Chờ xác minh",
        "Vào ngày 02 tháng 03 năm 2026, Xã Thất Khê tiếp nhận",
        "Thời hạn giải quyết hồ sơ theo quy định là: ngày 05 tháng 03 năm 2026.",
        "trả kết quả giải quyết hồ sơ cho Ông/Bà vào ngày 10 tháng 03 năm 2026.",
    ]:
        assert part in html, part
    assert list(
        DataAccessLog.objects.order_by("id").values_list(
            "official_id", "subject_id", "resource", "purpose", "channel", "object_id"
        )
    )[logged + 1 :] == [(official.pk, citizen.pk, "dossier", "dossier_processing", "api", code)]


def test_the_letter_escapes_the_reason(citizen, official, clock):
    code = received(citizen, official, clock)
    clock(at(4, 10))
    reason = '<script>alert("x")</script> & <b>chậm</b>'
    ok(act(official, code, "extend", {"new_date": "2026-03-10", "reason": reason}))
    letter = DossierExtension.objects.get()

    page = client_for(official).get(f"{OFFICIAL_URL}{code}/extensions/{letter.pk}/letter/")

    html = page.content.decode()
    assert page.status_code == 200
    assert (
        "Lý do: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;chậm&lt;/b&gt;"
        in html
    )
    assert "<script>" not in html
    assert "<b>" not in html
    # the inbox is plain text: the reason as written
    assert inbox(citizen)[-1][2] == (
        f"Chúng tôi xin lỗi vì kết quả bị chậm ({reason}). Ngày hẹn trả kết quả mới: 10/03/2026."
    )


def test_a_second_extension_starts_from_the_first(citizen, official, clock):
    code = received(citizen, official, clock)
    clock(at(4, 10))
    ok(act(official, code, "extend", {"new_date": "2026-03-10", "reason": "Lần một"}))
    clock(at(9, 10))

    again = act(official, code, "extend", {"new_date": "2026-03-10", "reason": "Lần hai"})
    later = act(official, code, "extend", {"new_date": "2026-03-12", "reason": "Lần hai"})

    assert (again.status_code, again.json()["fields"]) == (
        400,
        {
            "new_date": [
                "Chọn một ngày sau ngày hẹn hiện tại (10/03/2026) và không ở trong quá khứ."
            ]
        },
    )
    assert later.status_code == 200, later.content
    assert [(e["previous_date"], e["new_date"]) for e in later.json()["extensions"]] == [
        ("2026-03-05", "2026-03-10"),
        ("2026-03-10", "2026-03-12"),
    ]
    dossier = Dossier.objects.get(code=code)
    assert (dossier.appointment_date, dossier.extensions) == (date(2026, 3, 12), 2)
    assert [n[1] for n in inbox(citizen)] == [
        f"Hồ sơ {code} đã được tiếp nhận",
        f"Hồ sơ {code}: hẹn lại ngày trả kết quả",
        f"Hồ sơ {code}: hẹn lại ngày trả kết quả",
    ]


AFTER_THE_APPOINTMENT = "Chọn một ngày sau ngày hẹn hiện tại (05/03/2026) và không ở trong quá khứ."


@pytest.mark.parametrize(
    ("today", "body", "fields"),
    [
        (4, {"new_date": "2026-03-05", "reason": "x"}, {"new_date": [AFTER_THE_APPOINTMENT]}),
        (4, {"new_date": "2026-03-04", "reason": "x"}, {"new_date": [AFTER_THE_APPOINTMENT]}),
        # after the appointment, but the appointment has passed and so has this day
        (11, {"new_date": "2026-03-10", "reason": "x"}, {"new_date": [AFTER_THE_APPOINTMENT]}),
        (4, {"new_date": "2026-03-07", "reason": "x"}, {"new_date": ["Chọn một ngày làm việc."]}),
        (4, {"new_date": "2026-03-08", "reason": "x"}, {"new_date": ["Chọn một ngày làm việc."]}),
        # 369 days after Wednesday 4 March 2026
        (
            4,
            {"new_date": "2027-03-08", "reason": "x"},
            {"new_date": ["Chọn một ngày trong vòng một năm."]},
        ),
        (
            4,
            {"new_date": "10/03/2026", "reason": "x"},
            {"new_date": ["Ngày sai định dạng. Hãy dùng một trong các định dạng: YYYY-MM-DD."]},
        ),
        (4, {"reason": "x"}, {"new_date": [REQUIRED]}),
        (4, {"new_date": "2026-03-10"}, {"reason": [REQUIRED]}),
        (
            4,
            {"new_date": "2026-03-10", "reason": "  "},
            {"reason": ["Trường này không được để trống."]},
        ),
    ],
    ids=[
        "the-appointment-itself",
        "before-the-appointment",
        "in-the-past",
        "a-saturday",
        "a-sunday",
        "beyond-a-year",
        "not-iso",
        "no-date",
        "no-reason",
        "blank-reason",
    ],
)
def test_the_new_date_and_the_reason_are_checked(citizen, official, clock, today, body, fields):
    code = received(citizen, official, clock)
    clock(at(today, 10))
    snapshot = state(code)

    response = act(official, code, "extend", body)

    assert (response.status_code, response.json()) == (400, invalid(fields))
    assert state(code) == snapshot


@pytest.mark.parametrize(
    ("today", "new_date"),
    [(4, "2027-03-05"), (11, "2026-03-11")],
    ids=["366-days-on", "today-after-an-overdue-appointment"],
)
def test_the_limits_of_the_new_date_are_accepted(citizen, official, clock, today, new_date):
    code = received(citizen, official, clock)
    clock(at(today, 10))

    response = act(official, code, "extend", {"new_date": new_date, "reason": "x"})

    assert (response.status_code, response.json()["appointment_date"]) == (200, new_date)
    assert DossierExtension.objects.get().new_date == date.fromisoformat(new_date)


def test_the_extend_action_refuses_a_blank_reason(citizen, official, clock):
    code = received(citizen, official, clock)
    snapshot = state(code)

    with pytest.raises(InvalidForm) as refused:
        flow.dossier_extend(
            actor=official,
            dossier=Dossier.objects.get(code=code),
            new_date=date(2026, 3, 10),
            reason=" \n",
        )

    assert refused.value.fields == {"reason": [REQUIRED]}
    assert state(code) == snapshot


def _submitted(code, citizen, official, leader):
    pass


def _waiting_for_papers(code, citizen, official, leader):
    ok(act(official, code, "receive"))
    ok(act(official, code, "request-supplement", {"missing": "Bản sao CCCD"}))


def _waiting_for_payment(code, citizen, official, leader):
    ok(act(official, code, "receive"))
    ok(act(official, code, "request-fee", {"amount": "30000", "note": "Lệ phí"}))


def _decided(code, citizen, official, leader):
    ok(act(official, code, "receive"))
    ok(decide(leader, code))


def _withdrawn(code, citizen, official, leader):
    ok(act(official, code, "receive"))
    ok(answer(citizen, code, "withdraw"))


@pytest.mark.parametrize(
    ("before", "status"),
    [
        (_submitted, 1),
        (_waiting_for_papers, 5),
        (_waiting_for_payment, 6),
        (_withdrawn, 7),
        (_decided, 9),
    ],
)
def test_only_a_dossier_being_processed_gets_a_new_date(
    citizen, official, leader, clock, before, status
):
    clock(at(2, 9))
    code = submit(citizen)
    before(code, citizen, official, leader)
    assert Dossier.objects.get(code=code).status == status
    clock(at(4, 10))
    snapshot = state(code)

    response = act(official, code, "extend", {"new_date": "2026-03-20", "reason": "x"})

    assert (response.status_code, response.json()) == (409, NOT_EXTENDABLE)
    assert state(code) == snapshot


def test_who_may_not_extend(
    citizen, other_citizen, official, other_official, desk, leader, province_admin, clock
):
    code = received(citizen, official, clock)
    clock(at(4, 10))
    snapshot = state(code)
    body = {"new_date": "2026-03-10", "reason": "x"}

    answers = {
        "citizen": act(citizen, code, "extend", body),
        "other citizen": act(other_citizen, code, "extend", body),
        "other unit": act(other_official, code, "extend", body),
        "desk": act(desk, code, "extend", body),
        "leader": act(leader, code, "extend", body),
        "province": act(province_admin, code, "extend", body),
    }

    assert {who: (r.status_code, r.json()) for who, r in answers.items()} == {
        "citizen": (403, FORBIDDEN),
        "other citizen": (403, FORBIDDEN),
        "other unit": (404, NOT_FOUND),
        "desk": (404, NOT_FOUND),
        "leader": (404, NOT_FOUND),
        "province": (404, NOT_FOUND),
    }
    assert state(code) == snapshot


def test_the_letter_is_only_read_through_its_own_dossier(
    citizen, official, other_official, api_client, clock
):
    code = received(citizen, official, clock)
    other = received(citizen, official, clock, day=3)
    clock(at(4, 10))
    ok(act(official, code, "extend", {"new_date": "2026-03-10", "reason": "x"}))
    ok(act(official, other, "extend", {"new_date": "2026-03-11", "reason": "y"}))
    letter = DossierExtension.objects.get(dossier__code=code)
    logged = DataAccessLog.objects.count()
    path = f"{OFFICIAL_URL}{{code}}/extensions/{{letter}}/letter/"

    crossed = client_for(official).get(path.format(code=other, letter=letter.pk))
    missing = client_for(official).get(path.format(code=code, letter=987654))
    other_unit = client_for(other_official).get(path.format(code=code, letter=letter.pk))
    by_citizen = client_for(citizen).get(path.format(code=code, letter=letter.pk))
    anonymous = api_client.get(path.format(code=code, letter=letter.pk))

    assert (crossed.status_code, crossed.json()) == (404, NOT_FOUND)
    assert (missing.status_code, missing.json()) == (404, NOT_FOUND)
    assert (other_unit.status_code, other_unit.json()) == (404, NOT_FOUND)
    assert (by_citizen.status_code, by_citizen.json()) == (403, FORBIDDEN)
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")
    assert DataAccessLog.objects.count() == logged


def test_a_processing_only_official_prints_the_letter(citizen, official, processor, clock):
    code = received(citizen, official, clock)
    clock(at(4, 10))
    ok(act(processor, code, "extend", {"new_date": "2026-03-10", "reason": "x"}))
    letter = DossierExtension.objects.get()

    page = client_for(processor).get(f"{OFFICIAL_URL}{code}/extensions/{letter.pk}/letter/")

    assert (page.status_code, LETTER_TITLE in page.content.decode()) == (200, True)
    assert letter.official_id == processor.pk
    assert DataAccessLog.objects.filter(official=processor).count() == 2  # the move, the letter


# --- what the KPIs store at the decision ---------------------------------------------------------


def scored(code: str) -> tuple:
    d = Dossier.objects.get(code=code)
    return (d.status, d.decided_at, d.on_time, d.working_days_taken)


def test_decided_by_the_appointment_after_one_supplement_is_on_time(
    citizen, official, leader, clock
):
    code = received(citizen, official, clock)  # Monday 2, appointment Thursday 5
    clock(at(3, 10))
    ok(act(official, code, "request-supplement", {"missing": "Bản sao CCCD"}))
    clock(at(5, 9))
    ok(answer(citizen, code, "supplement"))  # waited Wednesday and Thursday: → Monday 9
    assert Dossier.objects.get(code=code).appointment_date == date(2026, 3, 9)
    clock(at(9, 15))

    response = decide(leader, code)

    assert response.status_code == 200, response.content
    # Tuesday 3 to Monday 9 are 5 working days, 2 of them waited on the citizen
    assert scored(code) == (9, at(9, 15), True, 3)


def test_a_payment_wait_is_subtracted_and_keeps_the_dossier_on_time(
    citizen, official, leader, clock
):
    code = received(citizen, official, clock)  # Monday 2, appointment Thursday 5
    clock(at(3, 10))
    ok(act(official, code, "request-fee", {"amount": "30000", "note": "Lệ phí"}))
    clock(at(5, 9))
    ok(answer(citizen, code, "pay"))  # waited Wednesday and Thursday: → Monday 9
    clock(at(9, 15))

    ok(decide(leader, code))

    assert scored(code) == (9, at(9, 15), True, 3)


def test_decided_the_day_after_the_appointment_is_late(citizen, official, leader, clock):
    code = received(citizen, official, clock)
    clock(at(6, 10))

    ok(decide(leader, code))

    assert scored(code) == (9, at(6, 10), False, 4)


def test_decided_the_day_it_was_received_took_no_working_day(citizen, official, leader, clock):
    code = received(citizen, official, clock)
    clock(at(2, 15))

    ok(decide(leader, code, "rejected", "Không đủ điều kiện"))

    assert scored(code) == (9, at(2, 15), True, 0)


def test_an_apology_letter_makes_the_dossier_late_even_decided_early(
    citizen, official, leader, clock
):
    code = received(citizen, official, clock)
    clock(at(3, 10))
    ok(act(official, code, "extend", {"new_date": "2026-03-10", "reason": "Chờ xác minh"}))
    clock(at(4, 10))

    ok(decide(leader, code))

    # decided before the original appointment and before the new one
    assert scored(code) == (9, at(4, 10), False, 2)


def test_a_second_supplement_request_makes_the_dossier_late(citizen, official, leader, clock):
    code = received(citizen, official, clock)
    clock(at(3, 10))
    ok(act(official, code, "request-supplement", {"missing": "Bản sao CCCD"}))
    clock(at(5, 9))
    ok(answer(citizen, code, "supplement"))
    clock(at(5, 15))
    ok(act(official, code, "request-supplement", {"missing": "Giấy xác nhận cư trú"}))
    clock(at(9, 9))
    ok(answer(citizen, code, "supplement"))  # appointment Wednesday 11
    clock(at(9, 10))

    ok(decide(leader, code))

    # 5 working days from Monday 2 to Monday 9, 2 + 2 of them waited
    assert scored(code) == (9, at(9, 10), False, 1)


# --- rating --------------------------------------------------------------------------------------


def test_the_citizen_rates_a_returned_dossier_once(citizen, official, leader, clock):
    code = returned(citizen, official, leader, clock)
    clock(at(5, 10))
    snapshot = Notification.objects.count()

    response = answer(citizen, code, "rating", {"stars": 4, "comment": "  Nhanh gọn  "})

    assert response.status_code == 201, response.content
    rating = DossierRating.objects.get()
    assert (rating.dossier.code, rating.stars, rating.comment) == (code, 4, "Nhanh gọn")
    expected = {"stars": 4, "comment": "Nhanh gọn", "created_at": iso(rating.created_at)}
    body = response.json()
    assert (body["code"], body["status"], body["rating"]) == (code, 10, expected)
    assert "applicant" not in body
    assert client_for(citizen).get(f"{URL}{code}/").json()["rating"] == expected
    official_view = client_for(official).get(f"{OFFICIAL_URL}{code}/")
    assert official_view.json()["rating"] == expected
    assert Notification.objects.count() == snapshot

    again = answer(citizen, code, "rating", {"stars": 1, "comment": "Đổi ý"})

    assert (again.status_code, again.json()) == (
        409,
        {"code": "already_rated", "message": "Bạn đã đánh giá hồ sơ này.", "fields": {}},
    )
    assert list(DossierRating.objects.values_list("stars", "comment")) == [(4, "Nhanh gọn")]


def test_a_rating_needs_no_comment(citizen, official, leader, clock):
    code = returned(citizen, official, leader, clock)

    response = answer(citizen, code, "rating", {"stars": 1})

    assert (response.status_code, response.json()["rating"]["stars"]) == (201, 1)
    assert response.json()["rating"]["comment"] == ""


@pytest.mark.parametrize(
    ("stars", "message"),
    [
        (0, "Giá trị phải lớn hơn hoặc bằng 1."),
        (6, "Giá trị phải nhỏ hơn hoặc bằng 5."),
        ("nhiều", "Vui lòng nhập một số nguyên hợp lệ."),
        (None, "Trường này không được để trống (null)."),
    ],
)
def test_stars_are_1_to_5(citizen, official, leader, clock, stars, message):
    code = returned(citizen, official, leader, clock)
    snapshot = state(code)

    response = answer(citizen, code, "rating", {"stars": stars, "comment": "x"})

    assert (response.status_code, response.json()) == (400, invalid({"stars": [message]}))
    assert state(code) == snapshot


def test_the_rate_action_refuses_stars_out_of_range(citizen, official, leader, clock):
    code = returned(citizen, official, leader, clock)
    dossier = Dossier.objects.get(code=code)

    for stars in (0, 6):
        with pytest.raises(InvalidForm) as refused:
            flow.dossier_rate(actor=citizen, dossier=dossier, stars=stars)
        assert refused.value.fields == {"stars": ["Chọn từ 1 đến 5 sao."]}

    assert DossierRating.objects.count() == 0


@pytest.mark.parametrize("status", [1, 4, 9])
def test_only_a_returned_dossier_is_rated(citizen, official, leader, clock, status):
    clock(at(2, 9))
    code = submit(citizen)
    if status >= 4:
        ok(act(official, code, "receive"))
    if status == 9:
        ok(decide(leader, code))
    snapshot = state(code)

    response = answer(citizen, code, "rating", {"stars": 5})

    assert (response.status_code, response.json()) == (
        409,
        {
            "code": "invalid_transition",
            "message": "Chỉ đánh giá được hồ sơ sau khi đã trả kết quả.",
            "fields": {},
        },
    )
    assert state(code) == snapshot


def test_nobody_else_rates_my_dossier(citizen, other_citizen, official, leader, api_client, clock):
    code = returned(citizen, official, leader, clock)
    snapshot = state(code)
    body = {"stars": 1, "comment": "x"}

    by_other = answer(other_citizen, code, "rating", body)
    by_official = answer(official, code, "rating", body)
    by_leader = answer(leader, code, "rating", body)
    anonymous = api_client.post(f"{URL}{code}/rating/", body, format="json")

    assert (by_other.status_code, by_other.json()) == (404, NOT_FOUND)
    assert (by_official.status_code, by_official.json()) == (404, NOT_FOUND)
    assert (by_leader.status_code, by_leader.json()) == (404, NOT_FOUND)
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")
    assert state(code) == snapshot


# --- the citizen's inbox -------------------------------------------------------------------------


def test_each_move_of_the_officials_tells_the_citizen_once(citizen, official, leader, clock):
    clock(at(2, 9))
    code = submit(citizen)
    assert inbox(citizen) == []

    ok(act(official, code, "receive"))
    clock(at(3, 10))
    ok(act(official, code, "request-supplement", {"missing": "Bản sao CCCD"}))
    clock(at(4, 10))
    ok(answer(citizen, code, "supplement"))
    ok(act(official, code, "request-fee", {"amount": "150000", "note": "Lệ phí đăng ký"}))
    ok(answer(citizen, code, "pay"))
    clock(at(5, 10))
    ok(decide(leader, code, "approved"))
    ok(act(official, code, "return"))
    ok(
        answer(
            citizen,
            code,
            "rating",
            {"stars": 5},
        ),
        201,
    )

    assert inbox(citizen) == [
        (
            "dossier",
            f"Hồ sơ {code} đã được tiếp nhận",
            "Hồ sơ của bạn đã được tiếp nhận. Ngày hẹn trả kết quả: 05/03/2026.",
            {"dossier": code, "status": 4},
        ),
        (
            "dossier",
            f"Hồ sơ {code} cần bổ sung",
            "Đề nghị bổ sung hồ sơ: Bản sao CCCD",
            {"dossier": code, "status": 5},
        ),
        (
            "dossier",
            f"Hồ sơ {code}: cần thực hiện nghĩa vụ tài chính",
            "Số tiền phải nộp: 150.000 đ. Lệ phí đăng ký",
            {"dossier": code, "status": 6},
        ),
        (
            "dossier",
            f"Hồ sơ {code} đã có kết quả",
            "Hồ sơ đã được giải quyết. Đã có kết quả.",
            {"dossier": code, "status": 9},
        ),
        (
            "dossier",
            f"Hồ sơ {code} đã trả kết quả",
            "Kết quả đã được trả. Mời bạn đánh giá việc giải quyết hồ sơ.",
            {"dossier": code, "status": 10},
        ),
    ]
    # nobody else was told; the keys name the events
    assert Notification.objects.exclude(user=citizen).count() == 0
    events = list(Dossier.objects.get(code=code).events.order_by("id").values_list("id", flat=True))
    assert list(Notification.objects.order_by("id").values_list("key", flat=True)) == [
        f"dossier:{code}:event:{events[i]}" for i in (2, 3, 5, 7, 8)
    ]
    assert list(Notification.objects.values_list("created_at", flat=True).order_by("id")) == [
        at(2, 9),
        at(3, 10),
        at(4, 10),
        at(5, 10),
        at(5, 10),
    ]


def test_a_refusal_tells_the_reason(citizen, official, clock):
    clock(at(2, 9))
    code = submit(citizen)

    ok(act(official, code, "refuse", {"reason": "Sai thẩm quyền"}))

    assert inbox(citizen) == [
        (
            "dossier",
            f"Hồ sơ {code} không được tiếp nhận",
            "Sai thẩm quyền",
            {"dossier": code, "status": 3},
        )
    ]


def test_a_stop_and_a_rejection_tell_the_reason(citizen, official, leader, clock):
    stopped = received(citizen, official, clock)
    rejected = received(citizen, official, clock)
    clock(at(3, 10))

    ok(act(official, stopped, "stop", {"reason": "Quá hạn bổ sung"}))
    ok(decide(leader, rejected, "rejected", "Không đủ điều kiện"))

    assert inbox(citizen)[2:] == [
        (
            "dossier",
            f"Hồ sơ {stopped} đã dừng xử lý",
            "Quá hạn bổ sung",
            {"dossier": stopped, "status": 8},
        ),
        (
            "dossier",
            f"Hồ sơ {rejected} đã có kết quả",
            "Hồ sơ không được giải quyết: Không đủ điều kiện",
            {"dossier": rejected, "status": 9},
        ),
    ]


def test_a_large_fee_is_grouped_in_thousands(citizen, official, clock):
    code = received(citizen, official, clock)

    ok(act(official, code, "request-fee", {"amount": "1500000", "note": "Lệ phí"}))

    assert inbox(citizen)[-1][2] == "Số tiền phải nộp: 1.500.000 đ. Lệ phí"


def test_the_citizens_own_moves_tell_nobody(citizen, official, clock):
    code = received(citizen, official, clock)
    clock(at(3, 10))
    ok(act(official, code, "request-supplement", {"missing": "Bản sao CCCD"}))
    told = inbox(citizen)
    assert len(told) == 2

    ok(answer(citizen, code, "supplement"))
    ok(act(official, code, "request-fee", {"amount": "10000", "note": "Lệ phí"}))
    ok(answer(citizen, code, "pay"))
    ok(answer(citizen, code, "withdraw"))
    fresh = submit(citizen)
    ok(answer(citizen, fresh, "withdraw"))

    assert [n[3]["status"] for n in inbox(citizen)] == [4, 5, 6]
    assert Notification.objects.count() == 3


def test_a_refused_move_writes_no_message(citizen, official, clock):
    code = received(citizen, official, clock)
    told = inbox(citizen)

    again = act(official, code, "receive")

    assert again.status_code == 409
    assert inbox(citizen) == told


def test_an_english_reader_gets_english(citizen, official, leader, clock):
    User.objects.filter(pk=citizen.pk).update(language="en")
    code = received(citizen, official, clock)
    ok(act(official, code, "request-fee", {"amount": "150000", "note": "Lệ phí"}))
    ok(answer(citizen, code, "pay"))
    clock(at(3, 10))
    ok(act(official, code, "extend", {"new_date": "2026-03-10", "reason": "Chờ xác minh"}))
    ok(decide(leader, code, "rejected", "Không đủ điều kiện"))
    ok(act(official, code, "return"))

    assert [n[1:3] for n in inbox(citizen)] == [
        (
            f"Dossier {code} received",
            "Your dossier was received. Appointment date for the result: 05/03/2026.",
        ),
        (f"Dossier {code}: payment due", "Amount due: 150.000 đ. Lệ phí"),
        (
            f"Dossier {code}: new appointment date",
            "We apologise: your result is delayed (Chờ xác minh). "
            "New appointment date: 10/03/2026.",
        ),
        (f"Dossier {code}: result ready", "Your application was rejected: Không đủ điều kiện"),
        (
            f"Dossier {code}: result returned",
            "The result was handed over. Please rate how your dossier was handled.",
        ),
    ]


def test_the_message_follows_the_reader_not_the_official(citizen, official, clock):
    clock(at(2, 9))
    code = submit(citizen)

    response = act(official, code, "receive", HTTP_ACCEPT_LANGUAGE="en")

    assert response.json()["status_display"] == "Being processed"
    assert inbox(citizen)[0][1] == f"Hồ sơ {code} đã được tiếp nhận"


def test_the_same_event_written_twice_leaves_one_message(citizen, official, clock):
    code = received(citizen, official, clock)
    dossier = Dossier.objects.select_related("applicant").get(code=code)
    event = dossier.events.get(from_status=2, to_status=4)
    before = inbox(citizen)

    notify_citizen_of_moves(dossier, [event])
    written = notify(
        users=[citizen],
        event=text_event(Category.DOSSIER),
        key=f"dossier:{code}:event:{event.pk}",
        context={"title": "Khác", "body": "Khác"},
    )

    assert written == 1
    assert inbox(citizen) == before
    assert len(before) == 1


# --- the queue: overdue, due soon ----------------------------------------------------------------


@pytest.fixture
def queue(citizen, other_citizen, official, other_official, leader, clock) -> dict[str, str]:
    """Dossiers of ward 6040, each received at 09:00 on a day of March (appointment: 3
    working days on), and one of ward 6001, overdue."""
    built = {
        "past": received(citizen, official, clock, day=5),  # appointment Tuesday 10
        "today": received(citizen, official, clock, day=6),  # Wednesday 11
        "next": received(citizen, official, clock, day=9),  # Thursday 12
        "second": received(citizen, official, clock, day=10),  # Friday 13
        "far": received(citizen, official, clock, day=11),  # Monday 16
        "paused": received(citizen, official, clock, day=5),  # 10, then waits on papers
        "decided": received(citizen, official, clock, day=5),  # 10, then decided
        "unpaid": received(citizen, official, clock, day=5),  # 10, then waits on a payment
    }
    clock(at(6, 10))
    ok(act(official, built["paused"], "request-supplement", {"missing": "Bản sao CCCD"}))
    ok(act(official, built["unpaid"], "request-fee", {"amount": "30000", "note": "Lệ phí"}))
    ok(decide(leader, built["decided"]))
    built["new"] = submit(citizen)  # no appointment yet
    clock(at(5, 9))
    built["elsewhere"] = submit(other_citizen, unit=6001)
    ok(act(other_official, built["elsewhere"], "receive"))  # Tuesday 10
    appointments = {
        name: Dossier.objects.get(code=code).appointment_date for name, code in built.items()
    }
    assert appointments == {
        "past": date(2026, 3, 10),
        "today": date(2026, 3, 11),
        "next": date(2026, 3, 12),
        "second": date(2026, 3, 13),
        "far": date(2026, 3, 16),
        "paused": date(2026, 3, 10),
        "decided": date(2026, 3, 10),
        "unpaid": date(2026, 3, 10),
        "new": None,
        "elsewhere": date(2026, 3, 10),
    }
    return built


def names(user: User, query: str, built: dict[str, str]) -> set[str]:
    response = client_for(user).get(f"{OFFICIAL_URL}{query}")
    assert response.status_code == 200, response.content
    by_code = {code: name for name, code in built.items()}
    return {by_code[d["code"]] for d in response.json()["results"]}


def test_overdue_and_due_soon_on_a_wednesday(official, province_admin, queue, clock):
    clock(at(11, 10))

    assert names(official, "?overdue=true", queue) == {"past"}
    assert names(official, "?due_soon=true", queue) == {"today", "next"}
    assert names(official, "?overdue=true&due_soon=true", queue) == set()
    assert names(official, "?overdue=false&due_soon=false", queue) == set(queue) - {"elsewhere"}
    assert names(official, "?overdue=true&status=5", queue) == set()
    assert names(official, "?status=5", queue) == {"paused"}
    assert names(official, "?overdue=true&status=4", queue) == {"past"}
    assert names(province_admin, "?overdue=true", queue) == {"past", "elsewhere"}
    listed = client_for(official).get(f"{OFFICIAL_URL}?overdue=true").json()["results"]
    assert [(d["overdue"], d["remaining_working_days"]) for d in listed] == [(True, -1)]
    soon = client_for(official).get(f"{OFFICIAL_URL}?due_soon=true").json()["results"]
    assert [(d["overdue"], d["remaining_working_days"]) for d in soon] == [(False, 1), (False, 0)]
    # the list's own flag agrees: a dossier waiting on the citizen or decided is not overdue
    everything = client_for(official).get(OFFICIAL_URL).json()["results"]
    by_code = {code: name for name, code in queue.items()}
    assert {by_code[d["code"]]: d["overdue"] for d in everything} == {
        "past": True,
        "today": False,
        "next": False,
        "second": False,
        "far": False,
        "paused": False,
        "decided": False,
        "unpaid": False,
        "new": False,
    }


def test_due_soon_over_a_weekend(official, queue, clock):
    clock(at(13, 16, 30))

    assert names(official, "?overdue=true", queue) == {"past", "today", "next"}
    # Friday: the next working day is Monday
    assert names(official, "?due_soon=true", queue) == {"second", "far"}


def test_due_soon_on_a_saturday_looks_to_monday(official, queue, clock):
    clock(at(14, 10))

    assert names(official, "?overdue=true", queue) == {"past", "today", "next", "second"}
    assert names(official, "?due_soon=true", queue) == {"far"}


def test_due_soon_counts_the_configured_working_days(official, queue, clock, settings):
    settings.DOSSIER_DUE_SOON_WORKING_DAYS = 2
    clock(at(11, 10))

    assert names(official, "?due_soon=true", queue) == {"today", "next", "second"}

    settings.DOSSIER_DUE_SOON_WORKING_DAYS = 0

    assert names(official, "?due_soon=true", queue) == {"today"}


@pytest.mark.parametrize("field", ["overdue", "due_soon"])
def test_a_filter_is_a_boolean(official, clock, field):
    clock(at(11, 10))

    response = client_for(official).get(f"{OFFICIAL_URL}?{field}=maybe")

    assert (response.status_code, response.json()) == (
        400,
        invalid({field: ["Phải là giá trị đúng/sai hợp lệ."]}),
    )


# --- pinned query counts -------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 5])
def test_the_queue_with_its_assignees_costs_the_same_queries(
    citizen, official, desk, clock, count, django_assert_num_queries
):
    assignees = [
        official_of([Role.PROCESSING], f"+8490000010{i}", f"Cán Bộ Số {i}") for i in range(count)
    ]
    codes = [received(citizen, official, clock, day=2 + i) for i in range(count)]
    for code, assignee in zip(codes, assignees, strict=True):
        ok(act(desk, code, "assign", {"assignee": assignee.pk}))
    client = client_for(official)
    clock(at(12, 10))

    # the user (JWT) with the official profile, the user's and the groups' permissions (one
    # query), the official's units, the page (assignees joined); the day swaps are read once
    # per process (services.workdays)
    with django_assert_num_queries(with_units_query(4)):
        response = client.get(OFFICIAL_URL)

    assert [d["assignee"]["name"] for d in response.json()["results"]] == [
        f"Cán Bộ Số {i}" for i in reversed(range(count))
    ]


@pytest.mark.parametrize("letters", [1, 3])
def test_the_citizens_detail_costs_the_same_queries_with_letters_and_a_rating(
    citizen, official, leader, clock, letters, django_assert_num_queries
):
    code = received(citizen, official, clock)
    clock(at(3, 10))
    for i in range(letters):
        ok(act(official, code, "extend", {"new_date": f"2026-03-1{i}", "reason": f"Lần {i}"}))
    ok(decide(leader, code))
    ok(act(official, code, "return"))
    ok(answer(citizen, code, "rating", {"stars": 2, "comment": "Chậm"}), 201)
    client = client_for(citizen)

    # the user (JWT), the dossier with its procedure, unit and rating, the timeline, the files,
    # the apology letters (the day swaps: read once per process)
    with django_assert_num_queries(5):
        response = client.get(f"{URL}{code}/")

    body = response.json()
    assert (len(body["extensions"]), body["rating"]["stars"]) == (letters, 2)


def test_an_assignee_id_beyond_any_row_is_refused(citizen, official, desk, clock):
    code = received(citizen, official, clock)
    snapshot = state(code)

    response = act(desk, code, "assign", {"assignee": 10**20})

    assert (response.status_code, response.json()) == (400, invalid({"assignee": [BAD_ASSIGNEE]}))
    assert state(code) == snapshot


def test_a_letter_id_beyond_any_row_is_not_found(citizen, official, clock):
    code = received(citizen, official, clock)

    page = client_for(official).get(f"{OFFICIAL_URL}{code}/extensions/{10**20}/letter/")

    assert (page.status_code, page.json()) == (404, NOT_FOUND)


def test_a_new_dossier_assigned_before_receipt_is_told_without_a_date(
    citizen, desk, processor, clock
):
    clock(at(2, 9))
    code = submit(citizen)

    response = act(desk, code, "assign", {"assignee": processor.pk})

    assert response.status_code == 200, response.content
    assert inbox(processor) == [
        (
            "dossier",
            f"Hồ sơ {code} được giao cho bạn",
            Dossier.objects.get(code=code).procedure.name,
            {"dossier": code, "official": True},
        )
    ]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_queue_rows_are_what_the_list_serializer_writes(
    citizen, official, desk, processor, clock, language
):
    from django.utils import translation

    from services.api.serializers import OfficialDossierListSerializer
    from services.workdays import work_calendar

    code = received(citizen, official, clock)  # 4, with an appointment
    act(desk, code, "assign", {"assignee": processor.pk})
    clock(at(3, 9))
    submit(citizen)  # 1, no appointment, nobody assigned
    paused = received(citizen, official, clock, day=3)
    act(official, paused, "request-supplement", {"missing": "CCCD"})  # 5: the clock stopped
    clock(at(10, 9))  # the first one overdue by then

    response = client_for(official).get(OFFICIAL_URL, HTTP_ACCEPT_LANGUAGE=language)

    with translation.override(language):
        expected = OfficialDossierListSerializer(
            Dossier.objects.order_by("-submitted_at", "-id"),
            many=True,
            context={"calendar": work_calendar()},
        ).data
    assert response.status_code == 200
    assert response.json()["results"] == json.loads(json.dumps(expected))
    assert [row["overdue"] for row in response.json()["results"]] == [False, False, True]
