"""Area broadcasts and emergency check-ins: an official's notice to the wards they manage (or a
province administrator's to the whole province), scheduled, approved, cancelled, fanned out in
resumable set-based chunks to each person of the area once (inbox, push, SMS for emergencies),
answered by check-ins, and read back by the response team's report and the public alert list.

The outside world is the clock (``timezone.now``, frozen in UTC as the real one answers) and the
push and SMS providers (the in-memory ones). Celery messages go to the in-process broker and are
observed with ``published_tasks``; the fan-out is run by calling its action, as a worker would."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.actions.officials import official_create_or_update
from accounts.models import DataAccessLog, Role, User
from digital_address.models import Household
from notifications.actions import notification_preferences_update
from notifications.actions.broadcasts import (
    broadcast_create,
    broadcast_fan_out,
    broadcasts_start_due,
)
from notifications.actions.deliveries import deliveries_send
from notifications.models import (
    Broadcast,
    BroadcastLane,
    CheckIn,
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationPreference,
)
from notifications.providers.push import MemoryPushProvider
from notifications.tasks import fan_out_broadcast, start_due_broadcasts
from tests.conftest import PublishedTask, client_for, with_units_query
from tests.factories import (
    PASSWORD,
    DeviceFactory,
    HouseholdFactory,
    HouseholdMemberFactory,
    ProvinceFactory,
    UserFactory,
    WardFactory,
)

pytestmark = pytest.mark.django_db

S = DeliveryStatus
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment given in Lạng Sơn's local time, as ``timezone.now()`` answers it (in UTC)."""
    return datetime(2026, 3, day, hour, minute, second, tzinfo=LOCAL).astimezone(UTC)


# A Monday morning.
T0 = at(2, 9)
T0_JSON = "2026-03-02T09:00:00+07:00"

BROADCASTS = "/api/v1/official/broadcasts/"
ACTIVE = "/api/v1/broadcasts/active/"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}

TITLE = "Cảnh báo lũ quét"
BODY = "Nước sông Kỳ Cùng dâng cao. Người dân vùng trũng di chuyển lên chỗ cao ngay."
SMS_TEXT = (
    "Canh bao lu quet. Nuoc song Ky Cung dang cao. Nguoi dan vung trung di chuyen len cho cao ngay."
)

NOT_FOUND_EN = {"code": "not_found", "message": "Not found.", "fields": {}}
FORBIDDEN_EN = {
    "code": "permission_denied",
    "message": "You do not have permission to perform this action.",
    "fields": {},
}
UNAUTHENTICATED_EN = {
    "code": "not_authenticated",
    "message": "Authentication credentials were not provided.",
    "fields": {},
}
REFUSED_EN = "This broadcast cannot be sent as asked."


def detail_path(pk: int) -> str:
    return f"{BROADCASTS}{pk}/"


def approve_path(pk: int) -> str:
    return f"{BROADCASTS}{pk}/approve/"


def cancel_path(pk: int) -> str:
    return f"{BROADCASTS}{pk}/cancel/"


def report_path(pk: int) -> str:
    return f"{BROADCASTS}{pk}/check-ins/"


def check_in_path(pk: int) -> str:
    return f"/api/v1/broadcasts/{pk}/check-in/"


def refused(fields: dict[str, list[str]], message: str = REFUSED_EN) -> dict:
    return {"code": "invalid", "message": message, "fields": fields}


def conflict(message: str) -> dict:
    return {"code": "invalid", "message": message, "fields": {}}


class Clock:
    """The outside world's clock (``timezone.now``), frozen at ``now`` until moved."""

    def __init__(self, moment: datetime) -> None:
        self.now = moment

    def set(self, moment: datetime) -> datetime:
        self.now = moment
        return moment

    def move(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> Clock:
    frozen = Clock(T0)
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


@pytest.fixture(autouse=True)
def _clean_push_provider():
    # tests/conftest.py already resets MemorySmsProvider.
    MemoryPushProvider.reset()
    yield
    MemoryPushProvider.reset()


# --- actors -----------------------------------------------------------------------------------


@pytest.fixture
def approver(ward) -> User:
    """The ward's leader (Role.APPROVAL): the second pair of eyes on an emergency."""
    return official_create_or_update(
        phone="+84900000022",
        full_name="Nông Thị Duyệt",
        password=PASSWORD,
        roles=[Role.APPROVAL],
        unit_codes=[ward.code],
    )


@pytest.fixture
def other_broadcaster(other_official, other_ward) -> User:
    """The official of the other ward, given the broadcasting role there."""
    return official_create_or_update(
        phone=other_official.phone,
        full_name=other_official.full_name,
        password=PASSWORD,
        roles=[Role.BROADCASTING],
        unit_codes=[other_ward.code],
    )


@pytest.fixture
def other_approver(other_ward) -> User:
    return official_create_or_update(
        phone="+84900000023",
        full_name="Lường Văn Duyệt",
        password=PASSWORD,
        roles=[Role.APPROVAL],
        unit_codes=[other_ward.code],
    )


@pytest.fixture
def superuser() -> User:
    return UserFactory(phone="+84900000001", is_superuser=True, is_staff=True)


# --- helpers ----------------------------------------------------------------------------------


def send(official: User, *, kind: str = "emergency", wards=(6040,), **options) -> Broadcast:
    """An official's broadcast due now, created and fanned out to the end (as the worker would)."""
    broadcast = broadcast_create(
        official=official,
        title=options.pop("title", TITLE),
        body=options.pop("body", BODY),
        kind=kind,
        ward_codes=wards,
        **options,
    )
    assert broadcast_fan_out(broadcast_id=broadcast.pk) is True
    broadcast.refresh_from_db()
    return broadcast


def state(broadcast: Broadcast) -> dict:
    """What an official's move may change on the row."""
    return Broadcast.objects.filter(pk=broadcast.pk).values(
        "status",
        "approved_by",
        "approved_at",
        "cancelled_by",
        "cancelled_at",
        "started_at",
        "sent_at",
        "fanout_lanes",
        "recipients",
        "inbox_written",
        "updated_at",
    )[0]


def inbox_rows() -> list[tuple]:
    return list(
        Notification.objects.order_by("user_id", "id").values_list(
            "user_id", "category", "event", "key", "title", "body", "data", "broadcast_id"
        )
    )


def deliveries() -> list[tuple]:
    """Every delivery: recipient, channel, status, title, body, due, fallback, attempts, error."""
    return list(
        Delivery.objects.order_by("notification__user_id", "channel").values_list(
            "notification__user_id",
            "channel",
            "status",
            "title",
            "body",
            "due_at",
            "is_fallback",
            "attempts",
            "error",
        )
    )


def push(user: User, *, title: str = TITLE, body: str = BODY, due_at: datetime = T0) -> tuple:
    return (user.pk, "push", S.CREATED, title, body, due_at, False, 0, "")


def sms(
    user: User,
    *,
    text: str = SMS_TEXT,
    status: str = S.CREATED,
    error: str = "",
    due_at: datetime = T0,
) -> tuple:
    return (user.pk, "sms", status, "", text, due_at, True, 0, error)


def message(user: User, broadcast: Broadcast, *, kind: str = "emergency") -> tuple:
    category = "emergency" if kind == "emergency" else "broadcast"
    return (
        user.pk,
        category,
        f"broadcast.{kind}",
        f"broadcast:{broadcast.pk}",
        broadcast.title,
        broadcast.body,
        {"broadcast": broadcast.pk, "kind": kind},
        broadcast.pk,
    )


def fan_out_published(broadcast: Broadcast, lanes: int = 2) -> list[PublishedTask]:
    """The fan-out tasks of a broadcast that starts: one per lane (BROADCAST_FANOUT_LANES)."""
    return [
        PublishedTask("notifications.fan_out_broadcast", [broadcast.pk, lane], "default")
        for lane in range(lanes)
    ]


def lanes(broadcast: Broadcast) -> list[tuple]:
    return list(
        BroadcastLane.objects.filter(broadcast=broadcast)
        .order_by("lane")
        .values_list("lane", "cursor", "done_at")
    )


def deliver_published(channel: str) -> PublishedTask:
    return PublishedTask(
        "notifications.deliver", [channel], "sms" if channel == "sms" else "default"
    )


def member(household: Household, user: User | None = None, **fields) -> None:
    HouseholdMemberFactory(
        household=household, user=user, relationship=fields.pop("relationship", "other"), **fields
    )


def broadcast_json(broadcast: Broadcast, **fields) -> dict:
    """A freshly created broadcast of ``broadcaster`` as the API shows it; ``fields`` override."""
    return {
        "id": broadcast.pk,
        "title": TITLE,
        "body": BODY,
        "kind": "emergency",
        "status": "sending",
        "wards": [6040],
        "whole_province": None,
        "send_sms": False,
        "scheduled_at": T0_JSON,
        "expires_at": "2026-03-03T09:00:00+07:00",
        "created_by": "Đinh Văn Phát",
        "created_at": T0_JSON,
        "approved_by": None,
        "approved_at": None,
        "cancelled_at": None,
        "started_at": T0_JSON,
        "sent_at": None,
        "recipients": 0,
        "inbox_written": 0,
        **fields,
    }


# --- 1. targeting -----------------------------------------------------------------------------


def test_an_alert_reaches_each_current_resident_and_each_user_of_the_ward_once(
    citizen,
    other_citizen,
    ward,
    other_ward,
    broadcaster,
    published_tasks,
    django_capture_on_commit_callbacks,
):
    home = HouseholdFactory(ward=ward, head=citizen)  # profile ward and household: once
    member_only = UserFactory(full_name="Chỉ là thành viên")  # no profile ward
    member(home, member_only, relationship="spouse")
    moved_in = UserFactory(ward=other_ward)  # the profile is out of date; the household counts
    member(HouseholdFactory(ward=ward), moved_in, relationship="head")
    profile_only = UserFactory(ward=ward)  # lives in a household of the other ward
    HouseholdFactory(ward=other_ward, head=profile_only)
    moved_out = UserFactory(ward=other_ward)  # left the household in the ward
    member(home, moved_out, relationship="child", ended_at=T0 - timedelta(days=30))
    UserFactory(ward=ward, is_active=False)
    member(home, UserFactory(is_active=False), relationship="parent")
    member(home, None, full_name="Bé không có tài khoản", relationship="child")
    HouseholdFactory(ward=other_ward, head=UserFactory())

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(broadcaster).post(
            BROADCASTS, {"title": TITLE, "body": BODY, "kind": "emergency", "wards": [6040]}
        )

    assert response.status_code == 201, response.content
    broadcast = Broadcast.objects.get()
    assert response.json() == broadcast_json(broadcast)
    assert published_tasks == fan_out_published(broadcast)
    assert Notification.objects.exists() is False

    assert broadcast_fan_out(broadcast_id=broadcast.pk) is True

    recipients = sorted([citizen, member_only, moved_in, profile_only], key=lambda u: u.pk)
    assert inbox_rows() == [message(u, broadcast) for u in recipients]
    assert Notification.objects.filter(read_at__isnull=False).exists() is False
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.sent_at, broadcast.recipients, broadcast.inbox_written) == (
        "sent",
        T0,
        4,
        4,
    )
    # Nobody has a device and the alert asked for no SMS: the inbox only.
    assert deliveries() == []
    assert other_citizen.notifications.exists() is False


def test_a_province_wide_notice_reaches_every_ward_of_the_province_and_no_other(
    citizen,
    other_citizen,
    ward,
    other_ward,
    province_admin,
    django_capture_on_commit_callbacks,
    published_tasks,
):
    third_ward = WardFactory(code=6043, name="Phường Tam Thanh")
    resident = UserFactory()
    HouseholdFactory(ward=third_ward, head=resident)
    cao_bang = ProvinceFactory(code=4, name="Cao Bằng")
    far_ward = WardFactory(code=1279, name="Phường Thục Phán", province=cao_bang)
    UserFactory(ward=far_ward)
    HouseholdFactory(ward=far_ward, head=UserFactory())

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(province_admin).post(
            BROADCASTS,
            {
                "title": "Lịch cắt điện",
                "body": "Cắt điện toàn tỉnh.",
                "kind": "warning",
                "whole_province": True,
            },
        )

    assert response.status_code == 201, response.content
    broadcast = Broadcast.objects.get()
    assert response.json() == broadcast_json(
        broadcast,
        title="Lịch cắt điện",
        body="Cắt điện toàn tỉnh.",
        kind="warning",
        wards=[],
        whole_province=20,
        created_by="Vi Văn Tỉnh",
    )
    assert published_tasks == fan_out_published(broadcast)

    assert broadcast_fan_out(broadcast_id=broadcast.pk) is True

    recipients = sorted([citizen, other_citizen, resident], key=lambda u: u.pk)
    assert inbox_rows() == [message(u, broadcast, kind="warning") for u in recipients]
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.recipients, broadcast.inbox_written) == ("sent", 3, 3)


# --- 2. who may send what ---------------------------------------------------------------------


MINE = {"title": TITLE, "body": BODY, "kind": "emergency", "wards": [6040]}


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"wards": [6001]}, {"wards": ["You do not manage these wards: 6001."]}),
        ({"wards": [6040, 6001]}, {"wards": ["You do not manage these wards: 6001."]}),
        (
            {"wards": [], "whole_province": True},
            {"whole_province": ["Only a province administrator targets the province."]},
        ),
        (
            {"whole_province": True},
            {"wards": ["Choose wards or the whole province, not both."]},
        ),
        ({"wards": [99999]}, {"wards": ["Unknown ward: 99999."]}),
        ({"wards": []}, {"wards": ["Choose at least one ward, or the whole province."]}),
        (
            {"kind": "information", "send_sms": True},
            {"send_sms": ["Only emergencies are sent by SMS."]},
        ),
        (
            {"kind": "warning", "send_sms": True},
            {"send_sms": ["Only emergencies are sent by SMS."]},
        ),
        (
            {"scheduled_at": "2026-03-02T08:54:59+07:00"},
            {"scheduled_at": ["The sending time has passed."]},
        ),
        (
            {"scheduled_at": "2026-04-01T09:00:01+07:00"},
            {"scheduled_at": ["A broadcast is scheduled at most 30 days ahead."]},
        ),
        (
            {"expires_at": "2026-03-02T08:00:00+07:00"},
            {"expires_at": ["It must expire after it is sent."]},
        ),
        ({"expires_at": T0_JSON}, {"expires_at": ["It must expire after it is sent."]}),
        (
            {
                "scheduled_at": "2026-03-02T12:00:00+07:00",
                "expires_at": "2026-03-02T11:00:00+07:00",
            },
            {"expires_at": ["It must expire after it is sent."]},
        ),
        (
            {"expires_at": "2026-04-01T09:00:01+07:00"},
            {"expires_at": ["A broadcast stays active at most 30 days."]},
        ),
    ],
)
def test_a_broadcast_outside_the_rules_is_refused_and_nothing_is_written(
    broadcaster, other_ward, payload, fields, published_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(broadcaster).post(BROADCASTS, {**MINE, **payload}, **EN)

    assert response.status_code == 400
    assert response.json() == refused(fields)
    assert Broadcast.objects.exists() is False
    assert Notification.objects.exists() is False
    assert published_tasks == []


def test_refusals_are_in_vietnamese_by_default(broadcaster, citizen, other_ward):
    sent = send(broadcaster)
    client = client_for(broadcaster)

    refusal = client.post(BROADCASTS, {**MINE, "wards": [6001]})
    too_late = client.post(cancel_path(sent.pk))
    not_mine = client_for(citizen).post(check_in_path(sent.pk + 1), {"status": "safe"})

    assert (refusal.status_code, refusal.json()) == (
        400,
        {
            "code": "invalid",
            "message": "Không thể gửi thông báo như yêu cầu.",
            "fields": {"wards": ["Bạn không quản lý các xã, phường này: 6001."]},
        },
    )
    assert (too_late.status_code, too_late.json()) == (
        409,
        {"code": "invalid", "message": "Thông báo này đang được gửi, không thể hủy.", "fields": {}},
    )
    assert (not_mine.status_code, not_mine.json()) == (
        404,
        {"code": "not_found", "message": "Không tìm thấy.", "fields": {}},
    )
    assert Broadcast.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"kind": "alarm"}, {"kind": ['"alarm" is not a valid choice.']}),
        ({"title": ""}, {"title": ["This field may not be blank."]}),
        ({"wards": ["abc"]}, {"wards": {"0": ["A valid integer is required."]}}),
    ],
)
def test_a_malformed_broadcast_is_refused_by_field(broadcaster, payload, fields):
    response = client_for(broadcaster).post(BROADCASTS, {**MINE, **payload}, **EN)

    assert response.status_code == 400
    assert response.json() == {"code": "invalid", "message": "Invalid input.", "fields": fields}
    assert Broadcast.objects.exists() is False


def test_a_sending_time_up_to_five_minutes_ago_is_taken_as_now(broadcaster):
    response = client_for(broadcaster).post(
        BROADCASTS, {**MINE, "scheduled_at": "2026-03-02T08:55:00+07:00"}
    )

    assert response.status_code == 201, response.content
    broadcast = Broadcast.objects.get()
    assert response.json() == broadcast_json(
        broadcast, scheduled_at="2026-03-02T08:55:00+07:00", expires_at="2026-03-03T08:55:00+07:00"
    )


def test_a_ward_official_without_the_broadcasting_role_cannot_send_or_see_broadcasts(
    official, broadcaster
):
    sent = send(broadcaster)
    client = client_for(official)

    responses = [
        client.post(BROADCASTS, MINE, **EN),
        client.get(BROADCASTS, **EN),
        client.get(detail_path(sent.pk), **EN),
        client.post(cancel_path(sent.pk), **EN),
        client.post(approve_path(sent.pk), **EN),
        client.get(report_path(sent.pk), **EN),
    ]

    assert [(r.status_code, r.json()) for r in responses] == [(403, FORBIDDEN_EN)] * 6
    assert Broadcast.objects.count() == 1
    assert DataAccessLog.objects.exists() is False


def test_an_approver_sees_broadcasts_but_cannot_send_or_cancel_them(approver, broadcaster):
    sent = send(broadcaster, kind="information")
    scheduled = broadcast_create(
        official=broadcaster,
        title=TITLE,
        body=BODY,
        kind="information",
        ward_codes=[6040],
        scheduled_at=at(2, 12),
    )
    before = state(scheduled)
    client = client_for(approver)

    responses = [client.post(BROADCASTS, MINE, **EN), client.post(cancel_path(scheduled.pk), **EN)]

    assert [(r.status_code, r.json()) for r in responses] == [(403, FORBIDDEN_EN)] * 2
    assert state(scheduled) == before
    assert Broadcast.objects.count() == 2
    assert client.get(detail_path(sent.pk)).status_code == 200


def test_a_citizen_is_refused_every_official_broadcast_endpoint(citizen, broadcaster):
    sent = send(broadcaster)
    client = client_for(citizen)

    responses = [
        client.get(BROADCASTS, **EN),
        client.post(BROADCASTS, MINE, **EN),
        client.get(detail_path(sent.pk), **EN),
        client.post(approve_path(sent.pk), **EN),
        client.post(cancel_path(sent.pk), **EN),
        client.get(report_path(sent.pk), **EN),
    ]

    assert [(r.status_code, r.json()) for r in responses] == [(403, FORBIDDEN_EN)] * 6
    assert Broadcast.objects.count() == 1
    assert DataAccessLog.objects.exists() is False


def test_anonymous_requests_to_the_official_endpoints_must_log_in(api_client, broadcaster):
    sent = send(broadcaster)

    responses = [
        api_client.get(BROADCASTS, **EN),
        api_client.post(BROADCASTS, MINE, format="json", **EN),
        api_client.get(detail_path(sent.pk), **EN),
        api_client.post(approve_path(sent.pk), **EN),
        api_client.post(cancel_path(sent.pk), **EN),
        api_client.get(report_path(sent.pk), **EN),
        api_client.post(check_in_path(sent.pk), {"status": "safe"}, format="json", **EN),
    ]

    assert [(r.status_code, r.json()) for r in responses] == [(401, UNAUTHENTICATED_EN)] * 7
    assert Broadcast.objects.count() == 1
    assert CheckIn.objects.exists() is False


def test_a_ward_code_too_large_for_the_database_is_refused_not_a_server_error(broadcaster):
    response = client_for(broadcaster).post(BROADCASTS, {**MINE, "wards": [10**20]}, **EN)

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], list(body["fields"])) == ("invalid", ["wards"])
    assert Broadcast.objects.exists() is False


# --- 3. scheduling and cancelling -------------------------------------------------------------


def test_a_scheduled_broadcast_waits_then_starts_when_its_time_comes(
    broadcaster, citizen, clock, published_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(broadcaster).post(
            BROADCASTS, {**MINE, "scheduled_at": "2026-03-02T11:00:00+07:00"}
        )

    assert response.status_code == 201, response.content
    broadcast = Broadcast.objects.get()
    assert response.json() == broadcast_json(
        broadcast,
        status="scheduled",
        scheduled_at="2026-03-02T11:00:00+07:00",
        expires_at="2026-03-03T11:00:00+07:00",
        started_at=None,
    )
    assert published_tasks == []

    clock.set(at(2, 10, 59, 59))
    with django_capture_on_commit_callbacks(execute=True):
        assert broadcasts_start_due() == []
    assert published_tasks == []
    assert state(broadcast)["status"] == "scheduled"

    clock.set(at(2, 11))
    with django_capture_on_commit_callbacks(execute=True):
        assert start_due_broadcasts() == 1

    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.started_at) == ("sending", at(2, 11))
    assert published_tasks == fan_out_published(broadcast)
    assert Notification.objects.exists() is False

    assert broadcast_fan_out(broadcast_id=broadcast.pk) is True
    assert inbox_rows() == [message(citizen, broadcast)]


def test_a_fan_out_whose_task_was_lost_is_published_again_after_two_minutes(
    broadcaster, clock, published_tasks, django_capture_on_commit_callbacks
):
    broadcast = broadcast_create(
        official=broadcaster, title=TITLE, body=BODY, kind="emergency", ward_codes=[6040]
    )
    assert state(broadcast)["status"] == "sending"

    clock.move(seconds=119)
    with django_capture_on_commit_callbacks(execute=True):
        assert broadcasts_start_due() == []
    assert published_tasks == []

    clock.move(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert broadcasts_start_due() == [broadcast.pk]
    assert published_tasks == fan_out_published(broadcast)
    assert state(broadcast)["status"] == "sending"


def test_a_cancelled_broadcast_is_never_sent(
    broadcaster, citizen, clock, published_tasks, django_capture_on_commit_callbacks
):
    broadcast = broadcast_create(
        official=broadcaster,
        title=TITLE,
        body=BODY,
        kind="emergency",
        ward_codes=[6040],
        scheduled_at=at(2, 11),
    )
    clock.set(at(2, 10))

    response = client_for(broadcaster).post(cancel_path(broadcast.pk))

    assert response.status_code == 200, response.content
    assert response.json() == {
        **broadcast_json(
            broadcast,
            status="cancelled",
            scheduled_at="2026-03-02T11:00:00+07:00",
            expires_at="2026-03-03T11:00:00+07:00",
            started_at=None,
            cancelled_at="2026-03-02T10:00:00+07:00",
        ),
        "progress": {
            "recipients": 0,
            "inbox_written": 0,
            "push": {"sent": 0, "delivered": 0, "failed": 0, "waiting": 0},
            "sms": {"sent": 0, "delivered": 0, "failed": 0, "waiting": 0},
        },
    }
    assert (state(broadcast)["cancelled_by"], state(broadcast)["status"]) == (
        broadcaster.pk,
        "cancelled",
    )

    clock.set(at(2, 12))
    with django_capture_on_commit_callbacks(execute=True):
        assert broadcasts_start_due() == []
    assert broadcast_fan_out(broadcast_id=broadcast.pk) is True

    assert state(broadcast)["status"] == "cancelled"
    assert published_tasks == []
    assert Notification.objects.exists() is False


CANNOT_CANCEL = "This broadcast is already being sent and cannot be cancelled."


def test_a_broadcast_being_sent_or_sent_cannot_be_cancelled(broadcaster, citizen, clock):
    sending = broadcast_create(
        official=broadcaster, title=TITLE, body=BODY, kind="emergency", ward_codes=[6040]
    )
    sent = send(broadcaster, title="Đã gửi")
    before = [state(sending), state(sent)]
    clock.move(minutes=1)
    client = client_for(broadcaster)

    responses = [client.post(cancel_path(b.pk), **EN) for b in (sending, sent)]

    assert [(r.status_code, r.json()) for r in responses] == [(409, conflict(CANNOT_CANCEL))] * 2
    assert [state(sending), state(sent)] == before


def test_a_cancelled_broadcast_cannot_be_cancelled_again(broadcaster, clock):
    broadcast = broadcast_create(
        official=broadcaster,
        title=TITLE,
        body=BODY,
        kind="information",
        ward_codes=[6040],
        scheduled_at=at(2, 11),
    )
    client = client_for(broadcaster)
    assert client.post(cancel_path(broadcast.pk)).status_code == 200
    before = state(broadcast)
    clock.move(minutes=1)

    response = client.post(cancel_path(broadcast.pk), **EN)

    assert (response.status_code, response.json()) == (409, conflict(CANNOT_CANCEL))
    assert state(broadcast) == before


# --- 4. approval of emergencies ---------------------------------------------------------------


@pytest.fixture
def approval_on(settings) -> None:
    settings.BROADCAST_EMERGENCY_APPROVAL = True


NOT_PENDING = "This broadcast is not waiting for approval."


def test_an_emergency_waits_for_a_second_official_of_the_ward(
    approval_on,
    broadcaster,
    approver,
    other_approver,
    citizen,
    clock,
    published_tasks,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(broadcaster).post(BROADCASTS, MINE)

    assert response.status_code == 201, response.content
    broadcast = Broadcast.objects.get()
    assert response.json() == broadcast_json(broadcast, status="pending_approval", started_at=None)
    assert published_tasks == []
    assert broadcast_fan_out(broadcast_id=broadcast.pk) is True
    assert Notification.objects.exists() is False
    pending = state(broadcast)

    clock.set(at(2, 9, 5))
    with django_capture_on_commit_callbacks(execute=True):
        own = client_for(broadcaster).post(approve_path(broadcast.pk), **EN)
        foreign = client_for(other_approver).post(approve_path(broadcast.pk), **EN)

    assert (own.status_code, own.json()) == (403, FORBIDDEN_EN)
    assert (foreign.status_code, foreign.json()) == (404, NOT_FOUND_EN)
    assert state(broadcast) == pending
    assert published_tasks == []

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(approver).post(approve_path(broadcast.pk))

    assert response.status_code == 200, response.content
    assert response.json() == {
        **broadcast_json(
            broadcast,
            approved_by="Nông Thị Duyệt",
            approved_at="2026-03-02T09:05:00+07:00",
            started_at="2026-03-02T09:05:00+07:00",
        ),
        "progress": {
            "recipients": 0,
            "inbox_written": 0,
            "push": {"sent": 0, "delivered": 0, "failed": 0, "waiting": 0},
            "sms": {"sent": 0, "delivered": 0, "failed": 0, "waiting": 0},
        },
    }
    assert state(broadcast)["approved_by"] == approver.pk
    assert published_tasks == fan_out_published(broadcast)

    assert broadcast_fan_out(broadcast_id=broadcast.pk) is True
    assert inbox_rows() == [message(citizen, broadcast)]


def test_an_author_who_may_approve_still_cannot_approve_their_own_emergency(
    approval_on, ward, province_admin, published_tasks, django_capture_on_commit_callbacks
):
    broadcast = broadcast_create(
        official=province_admin, title=TITLE, body=BODY, kind="emergency", ward_codes=[6040]
    )
    before = state(broadcast)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(province_admin).post(approve_path(broadcast.pk), **EN)

    assert response.status_code == 403
    assert response.json() == {
        "code": "invalid",
        "message": "Another official must approve your broadcast.",
        "fields": {},
    }
    assert state(broadcast) == before
    assert published_tasks == []


def test_an_approved_emergency_scheduled_later_waits_for_its_time(
    approval_on, broadcaster, approver, clock, published_tasks, django_capture_on_commit_callbacks
):
    broadcast = broadcast_create(
        official=broadcaster,
        title=TITLE,
        body=BODY,
        kind="emergency",
        ward_codes=[6040],
        scheduled_at=at(2, 11),
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(approver).post(approve_path(broadcast.pk))

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["started_at"]) == ("scheduled", None)
    assert published_tasks == []

    clock.set(at(2, 11))
    with django_capture_on_commit_callbacks(execute=True):
        assert broadcasts_start_due() == [broadcast.pk]
    assert published_tasks == fan_out_published(broadcast)


@pytest.mark.parametrize("kind", ["information", "warning"])
def test_only_emergencies_wait_for_approval(
    approval_on, broadcaster, approver, kind, published_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(broadcaster).post(BROADCASTS, {**MINE, "kind": kind})

    assert response.status_code == 201
    broadcast = Broadcast.objects.get()
    assert response.json()["status"] == "sending"
    assert published_tasks == fan_out_published(broadcast)
    before = state(broadcast)

    refusal = client_for(approver).post(approve_path(broadcast.pk), **EN)

    assert (refusal.status_code, refusal.json()) == (409, conflict(NOT_PENDING))
    assert state(broadcast) == before


def test_without_the_approval_setting_an_emergency_goes_at_once(
    broadcaster, published_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(broadcaster).post(BROADCASTS, MINE)

    assert response.json()["status"] == "sending"
    assert published_tasks == fan_out_published(Broadcast.objects.get())


def test_approving_an_emergency_already_approved_or_cancelled_is_a_conflict(
    approval_on, broadcaster, approver, clock
):
    approved = broadcast_create(
        official=broadcaster, title=TITLE, body=BODY, kind="emergency", ward_codes=[6040]
    )
    cancelled = broadcast_create(
        official=broadcaster, title=TITLE, body=BODY, kind="emergency", ward_codes=[6040]
    )
    client = client_for(approver)
    assert client.post(approve_path(approved.pk)).status_code == 200
    assert client_for(broadcaster).post(cancel_path(cancelled.pk)).status_code == 200
    before = [state(approved), state(cancelled)]
    clock.move(minutes=1)

    responses = [client.post(approve_path(b.pk), **EN) for b in (approved, cancelled)]

    assert [(r.status_code, r.json()) for r in responses] == [(409, conflict(NOT_PENDING))] * 2
    assert [state(approved), state(cancelled)] == before


def test_a_pending_emergency_may_be_cancelled(approval_on, broadcaster, approver):
    broadcast = broadcast_create(
        official=broadcaster, title=TITLE, body=BODY, kind="emergency", ward_codes=[6040]
    )

    response = client_for(broadcaster).post(cancel_path(broadcast.pk))

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert client_for(approver).post(approve_path(broadcast.pk)).status_code == 409


# --- 5. preferences and quiet hours -----------------------------------------------------------


def test_an_emergency_goes_through_opt_outs_and_quiet_hours(broadcaster, ward, clock):
    clock.set(at(2, 23))
    quiet = UserFactory(ward=ward)
    DeviceFactory(user=quiet)
    # Written before emergencies became mandatory (the API refuses these opt-outs now).
    NotificationPreference.objects.create(
        user=quiet,
        disabled=["broadcast:push", "emergency:push"],
        quiet_start=time(22),
        quiet_end=time(6),
    )
    plain = UserFactory(ward=ward)
    DeviceFactory(user=plain)

    broadcast = send(broadcaster)

    assert inbox_rows() == [message(quiet, broadcast), message(plain, broadcast)]
    assert deliveries() == [push(quiet, due_at=at(2, 23)), push(plain, due_at=at(2, 23))]


@pytest.mark.parametrize("kind", ["information", "warning"])
def test_a_notice_respects_the_push_opt_out_and_holds_push_in_quiet_hours(
    broadcaster, ward, clock, kind
):
    clock.set(at(2, 23))
    opted_out = UserFactory(ward=ward)
    DeviceFactory(user=opted_out, token="tok-opted-out")
    notification_preferences_update(user=opted_out, channels={"broadcast": {"push": False}})
    quiet = UserFactory(ward=ward)
    DeviceFactory(user=quiet, token="tok-quiet")
    notification_preferences_update(user=quiet, quiet_hours={"start": time(22), "end": time(6)})
    other_opt_out = UserFactory(ward=ward)
    DeviceFactory(user=other_opt_out, token="tok-other")
    notification_preferences_update(user=other_opt_out, channels={"dossier": {"push": False}})
    plain = UserFactory(ward=ward)
    DeviceFactory(user=plain, token="tok-plain")

    broadcast = send(broadcaster, kind=kind)

    assert inbox_rows() == [
        message(u, broadcast, kind=kind) for u in (opted_out, quiet, other_opt_out, plain)
    ]
    assert deliveries() == [
        push(quiet, due_at=at(3, 6)),
        push(other_opt_out, due_at=at(2, 23)),
        push(plain, due_at=at(2, 23)),
    ]

    clock.set(at(2, 23, 0, 1))
    assert deliveries_send(channel="push").claimed == 2
    assert sorted(m.token for m in MemoryPushProvider.outbox) == ["tok-other", "tok-plain"]

    clock.set(at(3, 5, 59, 59))
    assert deliveries_send(channel="push").claimed == 0

    # The end of the quiet hours: the held push goes. (On SQLite the raw INSERT stored the release
    # time with its +07:00 offset, which the claim's text comparison reads as 7 hours later.)
    clock.set(at(3, 6, 0, 1))
    assert deliveries_send(channel="push").claimed == 1
    assert [m.token for m in MemoryPushProvider.outbox[2:]] == ["tok-quiet"]
    assert Delivery.objects.filter(status=S.SENT).count() == 3


# --- 6. SMS -----------------------------------------------------------------------------------


def test_an_emergency_with_sms_texts_those_without_an_active_device_and_pushes_the_others(
    broadcaster, citizen, ward, clock, published_tasks, django_capture_on_commit_callbacks
):
    with_device = UserFactory(ward=ward)
    DeviceFactory(user=with_device)
    old_phone = UserFactory(ward=ward)
    DeviceFactory(user=old_phone, is_active=False)
    broadcast = broadcast_create(
        official=broadcaster,
        title=TITLE,
        body=BODY,
        kind="emergency",
        ward_codes=[6040],
        send_sms=True,
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert broadcast_fan_out(broadcast_id=broadcast.pk) is True

    assert deliveries() == [sms(citizen), push(with_device), sms(old_phone)]
    # Each lane's chunk publishes the channels it wrote.
    assert sorted(published_tasks, key=repr) == sorted(
        [deliver_published("push"), deliver_published("sms")], key=repr
    )
    assert Notification.objects.filter(user=citizen).values_list(
        "fallback_text", "fallback_due_at"
    )[0] == ("", None)


def test_the_sms_is_unaccented_and_cut_to_two_segments_and_the_push_to_its_limits(
    broadcaster, citizen, ward
):
    with_device = UserFactory(ward=ward)
    DeviceFactory(user=with_device)
    title = "Cảnh báo lũ quét khẩn cấp cho toàn bộ các thôn bản ven sông Kỳ Cùng và suối Ba Xã"
    body = "Nước lên nhanh. " * 30

    send(broadcaster, title=title, body=body, send_sms=True)

    long_title_sms = (
        "Canh bao lu quet khan cap cho toan bo cac thon ban ven song Ky Cung va suoi Ba Xa. "
    )
    assert deliveries() == [
        sms(
            citizen,
            # 83 + 13 × 16 + 12 + 3 = 306 characters: two GSM-7 segments of 153.
            text=long_title_sms + "Nuoc len nhanh. " * 13 + "Nuoc len nha...",
        ),
        push(
            with_device,
            # 64 characters and the ellipsis: FCM's title limit of 65.
            title="Cảnh báo lũ quét khẩn cấp cho toàn bộ các thôn bản ven sông Kỳ C…",
            body="Nước lên nhanh. " * 14 + "Nước lên nhanh.…",
        ),
    ]
    # The inbox keeps the whole text.
    assert list(Notification.objects.values_list("title", "body")) == [(title, body)] * 2


@pytest.mark.parametrize("kind", ["information", "warning", "emergency"])
def test_without_sms_users_without_a_device_get_only_the_inbox_message(
    broadcaster, citizen, kind, published_tasks, django_capture_on_commit_callbacks
):
    broadcast = broadcast_create(
        official=broadcaster, title=TITLE, body=BODY, kind=kind, ward_codes=[6040]
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert broadcast_fan_out(broadcast_id=broadcast.pk) is True

    assert inbox_rows() == [message(citizen, broadcast, kind=kind)]
    assert deliveries() == []
    assert published_tasks == []


def test_sms_beyond_the_daily_budget_are_recorded_unsent_and_the_administrators_told(
    broadcaster,
    other_broadcaster,
    citizen,
    other_citizen,
    ward,
    superuser,
    settings,
    published_tasks,
    django_capture_on_commit_callbacks,
):
    # One lane: the budget goes to recipients in user-id order.
    settings.BROADCAST_FANOUT_LANES = 1
    settings.NOTIFICATION_SMS_DAILY_BUDGET = 2
    # One SMS of the budget is already spent today (an alert of the other ward).
    send(other_broadcaster, wards=(6001,), send_sms=True, title="Sạt lở")
    second = UserFactory(ward=ward)
    third = UserFactory(ward=ward)
    broadcast = broadcast_create(
        official=broadcaster,
        title=TITLE,
        body=BODY,
        kind="emergency",
        ward_codes=[6040],
        send_sms=True,
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert broadcast_fan_out(broadcast_id=broadcast.pk) is True

    over = {"status": S.TECHNICAL_FAILURE, "error": "daily SMS budget reached"}
    assert deliveries() == [
        sms(citizen),
        sms(other_citizen, text="Sat lo. " + SMS_TEXT.removeprefix("Canh bao lu quet. ")),
        sms(second, **over),
        sms(third, **over),
    ]
    assert list(
        Notification.objects.filter(user=superuser).values_list("category", "event", "key")
    ) == [("account", "account.sms_budget_reached", "sms-budget:2026-03-02")]
    assert Notification.objects.filter(event="account.sms_budget_reached").count() == 1
    # The one SMS queued; the alert has no channel to go by (no device, no email address).
    assert published_tasks == [deliver_published("sms")]


# --- 7. chunks and resuming -------------------------------------------------------------------


@pytest.fixture
def five(citizen, ward) -> list[User]:
    """Five people of the ward in user-id order; the 2nd, 3rd and 5th have the app."""
    people = [citizen, *(UserFactory(ward=ward) for _ in range(4))]
    for person in (people[1], people[2], people[4]):
        DeviceFactory(user=person)
    return people


def test_the_fan_out_goes_in_chunks_and_resumes_after_the_last_committed_one(
    broadcaster, five, settings, clock, published_tasks, django_capture_on_commit_callbacks
):
    settings.BROADCAST_FANOUT_CHUNK = 2
    settings.BROADCAST_FANOUT_LANES = 1
    broadcast = broadcast_create(
        official=broadcaster,
        title=TITLE,
        body=BODY,
        kind="emergency",
        ward_codes=[6040],
        send_sms=True,
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert broadcast_fan_out(broadcast_id=broadcast.pk, max_chunks=1) is False

    first = state(broadcast)
    assert (
        first["status"],
        first["recipients"],
        first["inbox_written"],
        first["sent_at"],
    ) == ("sending", 2, 2, None)
    assert lanes(broadcast) == [(0, five[1].pk, None)]
    assert inbox_rows() == [message(u, broadcast) for u in five[:2]]
    assert deliveries() == [sms(five[0]), push(five[1])]
    assert published_tasks == [deliver_published("push"), deliver_published("sms")]

    later = clock.move(seconds=10)
    assert broadcast_fan_out(broadcast_id=broadcast.pk) is True

    done = state(broadcast)
    assert (
        done["status"],
        done["recipients"],
        done["inbox_written"],
        done["sent_at"],
    ) == ("sent", 5, 5, later)
    assert lanes(broadcast) == [(0, five[4].pk, later)]
    assert inbox_rows() == [message(u, broadcast) for u in five]
    written = [
        sms(five[0]),
        push(five[1]),
        push(five[2], due_at=later),
        sms(five[3], due_at=later),
        push(five[4], due_at=later),
    ]
    assert deliveries() == written

    # A task run again after the end writes nothing.
    clock.move(seconds=10)
    assert broadcast_fan_out(broadcast_id=broadcast.pk) is True
    assert state(broadcast) == done
    assert inbox_rows() == [message(u, broadcast) for u in five]
    assert deliveries() == written

    # A worker that wrote every chunk and died before its bookkeeping committed: the next run
    # starts from the beginning again and writes no second message, push or SMS.
    Broadcast.objects.filter(pk=broadcast.pk).update(
        status="sending", recipients=0, inbox_written=0, sent_at=None
    )
    BroadcastLane.objects.filter(broadcast=broadcast).update(cursor=0, done_at=None)
    assert broadcast_fan_out(broadcast_id=broadcast.pk) is True

    again = state(broadcast)
    assert (again["status"], again["recipients"], again["inbox_written"]) == ("sent", 5, 0)
    assert inbox_rows() == [message(u, broadcast) for u in five]
    assert deliveries() == written


def test_the_fan_out_task_publishes_itself_again_until_the_broadcast_is_sent(
    broadcaster, ward, settings, published_tasks
):
    # A task writes 20 chunks, then hands over to the next run.
    settings.BROADCAST_FANOUT_CHUNK = 1
    settings.BROADCAST_FANOUT_LANES = 1
    people = [UserFactory(ward=ward) for _ in range(21)]
    broadcast = broadcast_create(
        official=broadcaster, title=TITLE, body=BODY, kind="information", ward_codes=[6040]
    )

    assert fan_out_broadcast(broadcast.pk) is False

    assert published_tasks == fan_out_published(broadcast, lanes=1)
    assert state(broadcast)["recipients"] == 20
    assert state(broadcast)["status"] == "sending"

    assert fan_out_broadcast(broadcast.pk) is True

    assert published_tasks == fan_out_published(broadcast, lanes=1)
    assert state(broadcast)["status"] == "sent"
    assert inbox_rows() == [message(u, broadcast, kind="information") for u in people]


def test_two_lanes_share_the_audience_by_user_id_and_the_last_one_done_sends_it(
    broadcaster, five, settings, clock, published_tasks, django_capture_on_commit_callbacks
):
    settings.BROADCAST_FANOUT_CHUNK = 1
    with django_capture_on_commit_callbacks(execute=True):
        broadcast = broadcast_create(
            official=broadcaster, title=TITLE, body=BODY, kind="emergency", ward_codes=[6040]
        )
    assert published_tasks == fan_out_published(broadcast, lanes=2)
    assert (state(broadcast)["fanout_lanes"], lanes(broadcast)) == (2, [(0, 0, None), (1, 0, None)])
    odd = [u for u in five if u.pk % 2 == 1]
    even = [u for u in five if u.pk % 2 == 0]
    assert odd and even

    # Lane 1 (odd ids) first: its people only, one chunk each, then done; the broadcast waits
    # for lane 0.
    one_done = clock.move(seconds=5)
    assert broadcast_fan_out(broadcast_id=broadcast.pk, lane=1) is True
    assert inbox_rows() == [message(u, broadcast) for u in odd]
    assert lanes(broadcast) == [(0, 0, None), (1, odd[-1].pk, one_done)]
    assert (state(broadcast)["status"], state(broadcast)["recipients"]) == ("sending", len(odd))
    # Run again, the done lane writes nothing.
    assert broadcast_fan_out(broadcast_id=broadcast.pk, lane=1) is True
    assert state(broadcast)["recipients"] == len(odd)

    all_done = clock.move(seconds=5)
    assert broadcast_fan_out(broadcast_id=broadcast.pk, lane=0, max_chunks=1) is False
    assert state(broadcast)["status"] == "sending"
    assert broadcast_fan_out(broadcast_id=broadcast.pk, lane=0) is True

    done = state(broadcast)
    assert (done["status"], done["sent_at"], done["recipients"], done["inbox_written"]) == (
        "sent",
        all_done,
        5,
        5,
    )
    assert lanes(broadcast) == [(0, even[-1].pk, all_done), (1, odd[-1].pk, one_done)]
    assert inbox_rows() == [message(u, broadcast) for u in five]


def test_only_the_lane_whose_task_was_lost_is_published_again(
    broadcaster, five, settings, clock, published_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        broadcast = broadcast_create(
            official=broadcaster, title=TITLE, body=BODY, kind="emergency", ward_codes=[6040]
        )
    published_tasks.clear()
    clock.move(seconds=100)
    assert broadcast_fan_out(broadcast_id=broadcast.pk, lane=0) is True

    clock.move(seconds=20)
    with django_capture_on_commit_callbacks(execute=True):
        assert broadcasts_start_due() == [broadcast.pk]
    assert published_tasks == [
        PublishedTask("notifications.fan_out_broadcast", [broadcast.pk, 1], "default")
    ]
    # Published again only after another stale period.
    published_tasks.clear()
    clock.move(seconds=119)
    with django_capture_on_commit_callbacks(execute=True):
        assert broadcasts_start_due() == []
    assert published_tasks == []

    assert fan_out_broadcast(broadcast.pk, 1) is True
    assert state(broadcast)["status"] == "sent"
    assert inbox_rows() == [message(u, broadcast) for u in five]


def test_a_broadcast_without_lanes_has_nothing_to_fan_out(broadcaster):
    broadcast = broadcast_create(
        official=broadcaster,
        title=TITLE,
        body=BODY,
        kind="emergency",
        ward_codes=[6040],
        scheduled_at=at(2, 11),
    )

    assert broadcast_fan_out(broadcast_id=broadcast.pk) is True
    assert broadcast_fan_out(broadcast_id=broadcast.pk, lane=0) is True
    assert (state(broadcast)["status"], lanes(broadcast), inbox_rows()) == ("scheduled", [], [])


def test_a_person_who_joins_the_ward_while_a_fan_out_runs_is_reached_by_its_next_chunk(
    broadcaster, citizen, ward, settings
):
    settings.BROADCAST_FANOUT_CHUNK = 1
    # One lane: with two, the newcomer's lane may be done already (nobody else in it).
    settings.BROADCAST_FANOUT_LANES = 1
    broadcast = broadcast_create(
        official=broadcaster, title=TITLE, body=BODY, kind="emergency", ward_codes=[6040]
    )
    assert broadcast_fan_out(broadcast_id=broadcast.pk, max_chunks=1) is False
    newcomer = UserFactory()
    HouseholdFactory(ward=ward, head=newcomer)

    assert broadcast_fan_out(broadcast_id=broadcast.pk) is True

    assert inbox_rows() == [message(citizen, broadcast), message(newcomer, broadcast)]
    assert state(broadcast)["recipients"] == 2


# --- 8. check-ins -----------------------------------------------------------------------------


def check_ins() -> list[tuple]:
    return list(
        CheckIn.objects.order_by("user_id").values_list(
            "broadcast_id",
            "user_id",
            "household_id",
            "ward_id",
            "status",
            "note",
            "latitude",
            "longitude",
            "created_at",
            "updated_at",
        )
    )


def test_a_recipient_answers_safe_then_need_help_and_the_answer_is_replaced(
    broadcaster, citizen, ward, clock
):
    home = HouseholdFactory(ward=ward, head=citizen)
    broadcast = send(broadcaster)
    client = client_for(citizen)

    clock.set(at(2, 9, 5))
    response = client.post(check_in_path(broadcast.pk), {"status": "safe"})

    assert response.status_code == 200, response.content
    assert response.json() == {
        "broadcast": broadcast.pk,
        "status": "safe",
        "note": "",
        "latitude": None,
        "longitude": None,
        "updated_at": "2026-03-02T09:05:00+07:00",
    }
    assert check_ins() == [
        (broadcast.pk, citizen.pk, home.pk, 6040, "safe", "", None, None, at(2, 9, 5), at(2, 9, 5))
    ]
    # Answering is reading the alert.
    assert list(Notification.objects.values_list("user_id", "read_at")) == [
        (citizen.pk, at(2, 9, 5))
    ]

    clock.set(at(2, 9, 30))
    response = client.post(
        check_in_path(broadcast.pk),
        {
            "status": "need_help",
            "note": "Nước vào nhà, có người già",
            "latitude": "21.8537081",
            "longitude": 106.761519,
        },
    )

    assert response.status_code == 200, response.content
    assert response.json() == {
        "broadcast": broadcast.pk,
        "status": "need_help",
        "note": "Nước vào nhà, có người già",
        "latitude": "21.853708",
        "longitude": "106.761519",
        "updated_at": "2026-03-02T09:30:00+07:00",
    }
    assert check_ins() == [
        (
            broadcast.pk,
            citizen.pk,
            home.pk,
            6040,
            "need_help",
            "Nước vào nhà, có người già",
            Decimal("21.853708"),
            Decimal("106.761519"),
            at(2, 9, 5),
            at(2, 9, 30),
        )
    ]
    # Read once: the first answer's time stays.
    assert list(Notification.objects.values_list("user_id", "read_at")) == [
        (citizen.pk, at(2, 9, 5))
    ]


def test_a_recipient_without_a_household_answers_for_their_profile_ward(
    broadcaster, citizen, other_ward
):
    moved = UserFactory(ward=other_ward)
    past = HouseholdFactory(ward=other_ward)
    member(past, moved, relationship="head", ended_at=T0 - timedelta(days=1))
    member(HouseholdFactory(ward=citizen.ward), None, full_name="Ông Nông Văn Cả")
    broadcast = send(broadcaster)

    response = client_for(citizen).post(check_in_path(broadcast.pk), {"status": "safe"})

    assert response.status_code == 200
    assert check_ins() == [(broadcast.pk, citizen.pk, None, 6040, "safe", "", None, None, T0, T0)]


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        (
            {"status": "need_help", "latitude": "21.85"},
            {"longitude": ["Give both the latitude and the longitude, or neither."]},
        ),
        (
            {"status": "need_help", "longitude": "106.76"},
            {"latitude": ["Give both the latitude and the longitude, or neither."]},
        ),
        ({"status": "maybe"}, {"status": ['"maybe" is not a valid choice.']}),
        ({}, {"status": ["This field is required."]}),
        (
            {"status": "safe", "latitude": "91", "longitude": "106"},
            {"latitude": ["Ensure this value is less than or equal to 90."]},
        ),
        (
            {"status": "safe", "note": "x" * 501},
            {"note": ["Ensure this field has no more than 500 characters."]},
        ),
    ],
)
def test_a_malformed_check_in_is_refused_and_the_previous_answer_stays(
    broadcaster, citizen, clock, payload, fields
):
    broadcast = send(broadcaster)
    client = client_for(citizen)
    assert client.post(check_in_path(broadcast.pk), {"status": "safe"}).status_code == 200
    before = check_ins()
    clock.move(minutes=5)

    response = client.post(check_in_path(broadcast.pk), payload, **EN)

    assert response.status_code == 400
    assert response.json() == {"code": "invalid", "message": "Invalid input.", "fields": fields}
    assert check_ins() == before


def test_only_a_recipient_of_an_emergency_may_check_in(
    broadcaster, other_broadcaster, citizen, other_citizen
):
    emergency = send(broadcaster)
    notice = send(broadcaster, kind="information", title="Thông báo")
    warning = send(broadcaster, kind="warning", title="Cảnh báo")
    elsewhere = send(other_broadcaster, wards=(6001,), title="Sạt lở")

    responses = [
        client_for(other_citizen).post(check_in_path(emergency.pk), {"status": "safe"}, **EN),
        client_for(citizen).post(check_in_path(notice.pk), {"status": "safe"}, **EN),
        client_for(citizen).post(check_in_path(warning.pk), {"status": "safe"}, **EN),
        client_for(citizen).post(check_in_path(elsewhere.pk), {"status": "safe"}, **EN),
        client_for(citizen).post(check_in_path(elsewhere.pk + 100), {"status": "safe"}, **EN),
    ]

    assert [(r.status_code, r.json()) for r in responses] == [(404, NOT_FOUND_EN)] * 5
    assert CheckIn.objects.exists() is False
    assert Notification.objects.filter(read_at__isnull=False).exists() is False


# --- 9. the response team's report ------------------------------------------------------------


def place(household: Household) -> dict:
    return {
        "code": household.formatted_code,
        "address": household.address_line,
        "ward": household.ward_id,
        "latitude": None if household.latitude is None else f"{household.latitude:.6f}",
        "longitude": None if household.longitude is None else f"{household.longitude:.6f}",
    }


def access_log() -> list[tuple]:
    return list(
        DataAccessLog.objects.order_by("id").values_list(
            "official_id", "subject_id", "resource", "object_id", "purpose", "channel"
        )
    )


@pytest.fixture
def flood(ward, other_ward, province_admin, citizen, other_citizen, clock) -> dict:
    """An emergency for both wards (the province administrator's), three answers, and the
    members the team must look for: everything the report shows, by name."""
    p: dict = {}
    p["home"] = home = HouseholdFactory(
        ward=ward,
        head=citizen,
        house_number="12",
        street="Đường Lê Lợi",
        hamlet="Khối 3",
        latitude=Decimal("21.853708"),
        longitude=Decimal("106.761519"),
    )
    # Their household answered (through citizen): not listed.
    member(
        home, None, full_name="Nguyễn Bé Ba", date_of_birth=date(2016, 5, 1), relationship="child"
    )

    p["nacan"] = nacan = HouseholdFactory(ward=ward, hamlet="Thôn Nà Cạn")
    p["head"] = head = UserFactory(full_name="Lộc Văn Hai")
    member(nacan, head, relationship="head", date_of_birth=date(1986, 7, 1))
    p["grandma"] = grandma = UserFactory(full_name="Lộc Thị Bà")
    member(nacan, grandma, full_name="Lộc Thị Bà", date_of_birth=date(1950, 5, 1))
    member(nacan, None, full_name="Lộc Bé Út", date_of_birth=date(2015, 3, 3))  # 10
    member(nacan, None, full_name="Lộc Văn Sáu Mươi", date_of_birth=date(1966, 3, 2))  # 60 today
    member(nacan, None, full_name="Lộc Văn Năm Chín", date_of_birth=date(1966, 3, 3))  # 59
    member(nacan, None, full_name="Lộc Thị Mười Sáu", date_of_birth=date(2010, 3, 2))  # 16 today
    member(nacan, None, full_name="Lộc Thị Mười Lăm", date_of_birth=date(2010, 3, 3))  # 15
    member(
        nacan,
        None,
        full_name="Lộc Thị Cần Giúp",
        date_of_birth=date(1996, 1, 1),
        needs_assistance=True,
    )
    member(nacan, None, full_name="Lộc Văn Không Rõ")  # no date of birth, not flagged
    member(
        nacan,
        None,
        full_name="Lộc Văn Đã Đi",
        date_of_birth=date(1940, 1, 1),
        ended_at=T0 - timedelta(days=3),
    )

    p["answered"] = answered = HouseholdFactory(ward=ward, hamlet="Thôn Pác Cáp")
    p["safe"] = safe = UserFactory(full_name="Hoàng Văn An Toàn")
    member(answered, safe, relationship="head")
    member(answered, None, full_name="Hoàng Thị Cụ", date_of_birth=date(1930, 1, 1))

    p["riverside"] = riverside = HouseholdFactory(
        ward=other_ward,
        head=other_citizen,
        hamlet="Bản Ven Suối",
        latitude=Decimal("21.800000"),
        longitude=Decimal("106.700000"),
    )
    member(riverside, None, full_name="Trần Văn Ông", date_of_birth=date(1940, 1, 1))

    p["renter"] = renter = UserFactory(
        full_name="Vi Thị Trọ", phone="+84977123456", ward=other_ward
    )

    untargeted = WardFactory(code=6043, name="Phường Tam Thanh")
    member(
        HouseholdFactory(ward=untargeted),
        None,
        full_name="Cụ Ngoài Vùng",
        date_of_birth=date(1930, 1, 1),
    )

    p["broadcast"] = broadcast = send(province_admin, wards=(6040, 6001))
    clock.set(at(2, 9, 10))
    assert (
        client_for(citizen)
        .post(
            check_in_path(broadcast.pk),
            {"status": "need_help", "note": "Nước vào nhà", "latitude": 21.85, "longitude": 106.76},
        )
        .status_code
        == 200
    )
    clock.set(at(2, 9, 15))
    assert client_for(safe).post(check_in_path(broadcast.pk), {"status": "safe"}).status_code == 200
    clock.set(at(2, 9, 20))
    assert (
        client_for(renter).post(check_in_path(broadcast.pk), {"status": "need_help"}).status_code
        == 200
    )
    clock.set(at(2, 9, 30))
    p["members"] = {m.full_name: m for m in nacan.members.all() | riverside.members.all()}
    return p


def vulnerable(flood: dict, name: str, age: int, needs_assistance: bool = False) -> dict:
    m = flood["members"][name]
    return {
        "member": m.pk,
        "full_name": name,
        "age": age,
        "needs_assistance": needs_assistance,
        "household": place(m.household),
    }


def test_the_report_shows_answers_per_ward_who_needs_help_and_who_nobody_answered_for(
    flood, province_admin, citizen
):
    broadcast = flood["broadcast"]

    response = client_for(province_admin).get(report_path(broadcast.pk))

    assert response.status_code == 200, response.content
    renter_need = {
        "user": flood["renter"].pk,
        "full_name": "Vi Thị Trọ",
        "phone": "+849*****456",
        "note": "",
        "latitude": None,
        "longitude": None,
        "household": None,
        "updated_at": "2026-03-02T09:20:00+07:00",
    }
    citizen_need = {
        "user": citizen.pk,
        "full_name": "Nguyễn Văn An",
        "phone": "+849*****678",
        "note": "Nước vào nhà",
        "latitude": "21.850000",
        "longitude": "106.760000",
        "household": {
            "code": flood["home"].formatted_code,
            "address": "12, Đường Lê Lợi, Khối 3",
            "ward": 6040,
            "latitude": "21.853708",
            "longitude": "106.761519",
        },
        "updated_at": "2026-03-02T09:10:00+07:00",
    }
    in_6040 = [
        vulnerable(flood, "Lộc Thị Bà", 75),
        vulnerable(flood, "Lộc Bé Út", 10),
        vulnerable(flood, "Lộc Văn Sáu Mươi", 60),
        vulnerable(flood, "Lộc Thị Mười Lăm", 15),
        vulnerable(flood, "Lộc Thị Cần Giúp", 30, needs_assistance=True),
    ]
    assert response.json() == {
        "recipients": 6,
        "wards": [
            {"ward": 6001, "name": "Xã Đoàn Kết", "safe": 0, "need_help": 1},
            {"ward": 6040, "name": "Xã Thất Khê", "safe": 1, "need_help": 1},
        ],
        "need_help": [renter_need, citizen_need],
        "need_help_total": 2,
        "vulnerable_not_responded": [vulnerable(flood, "Trần Văn Ông", 86), *in_6040],
        "vulnerable_not_responded_total": 6,
    }
    assert in_6040[0]["household"] == {
        "code": flood["nacan"].formatted_code,
        "address": "Thôn Nà Cạn",
        "ward": 6040,
        "latitude": None,
        "longitude": None,
    }
    members = flood["members"]
    read = ("emergency_response", "api")
    assert access_log() == [
        (province_admin.pk, flood["renter"].pk, "check_in", str(broadcast.pk), *read),
        (province_admin.pk, citizen.pk, "check_in", str(broadcast.pk), *read),
        (province_admin.pk, None, "household_member", str(members["Trần Văn Ông"].pk), *read),
        (
            province_admin.pk,
            flood["grandma"].pk,
            "household_member",
            str(members["Lộc Thị Bà"].pk),
            *read,
        ),
        *(
            (province_admin.pk, None, "household_member", str(members[name].pk), *read)
            for name in ("Lộc Bé Út", "Lộc Văn Sáu Mươi", "Lộc Thị Mười Lăm", "Lộc Thị Cần Giúp")
        ),
    ]


def test_the_report_narrowed_to_a_ward_lists_and_logs_only_its_people(
    flood, province_admin, citizen
):
    broadcast = flood["broadcast"]

    response = client_for(province_admin).get(report_path(broadcast.pk), {"ward": 6001})

    assert response.status_code == 200, response.content
    assert response.json() == {
        "recipients": 6,
        "wards": [
            {"ward": 6001, "name": "Xã Đoàn Kết", "safe": 0, "need_help": 1},
            {"ward": 6040, "name": "Xã Thất Khê", "safe": 1, "need_help": 1},
        ],
        "need_help": [
            {
                "user": flood["renter"].pk,
                "full_name": "Vi Thị Trọ",
                "phone": "+849*****456",
                "note": "",
                "latitude": None,
                "longitude": None,
                "household": None,
                "updated_at": "2026-03-02T09:20:00+07:00",
            }
        ],
        "need_help_total": 1,
        "vulnerable_not_responded": [vulnerable(flood, "Trần Văn Ông", 86)],
        "vulnerable_not_responded_total": 1,
    }
    read = ("emergency_response", "api")
    assert access_log() == [
        (province_admin.pk, flood["renter"].pk, "check_in", str(broadcast.pk), *read),
        (
            province_admin.pk,
            None,
            "household_member",
            str(flood["members"]["Trần Văn Ông"].pk),
            *read,
        ),
    ]


def test_a_household_answered_for_by_any_member_leaves_the_list(flood, province_admin):
    broadcast = flood["broadcast"]
    assert (
        client_for(flood["head"]).post(check_in_path(broadcast.pk), {"status": "safe"}).status_code
        == 200
    )

    response = client_for(province_admin).get(report_path(broadcast.pk), {"ward": 6040})

    body = response.json()
    assert (body["vulnerable_not_responded"], body["vulnerable_not_responded_total"]) == ([], 0)
    assert body["wards"][1] == {"ward": 6040, "name": "Xã Thất Khê", "safe": 2, "need_help": 1}


@pytest.mark.parametrize("ward_param", ["abc", "-1", "6040.0", "²"])
def test_a_report_narrowed_to_a_ward_that_is_not_a_code_is_refused(
    flood, province_admin, ward_param
):
    response = client_for(province_admin).get(
        report_path(flood["broadcast"].pk), {"ward": ward_param}, **EN
    )

    assert response.status_code == 400
    assert response.json() == refused({"ward": ["A ward code is a number."]})
    assert DataAccessLog.objects.exists() is False


def test_a_report_with_nobody_to_look_for_logs_nothing(broadcaster, citizen):
    broadcast = send(broadcaster)

    response = client_for(broadcaster).get(report_path(broadcast.pk))

    assert response.json() == {
        "recipients": 1,
        "wards": [{"ward": 6040, "name": "Xã Thất Khê", "safe": 0, "need_help": 0}],
        "need_help": [],
        "need_help_total": 0,
        "vulnerable_not_responded": [],
        "vulnerable_not_responded_total": 0,
    }
    assert DataAccessLog.objects.exists() is False


# --- 10. who sees which broadcasts ------------------------------------------------------------


def test_the_list_shows_the_broadcasts_of_my_wards_and_of_my_province_newest_first(
    broadcaster, other_broadcaster, province_admin, clock
):
    mine = send(broadcaster, kind="information", title="Họp dân")
    clock.move(minutes=1)
    theirs = send(other_broadcaster, wards=(6001,), title="Sạt lở")
    clock.move(minutes=1)
    both = send(province_admin, wards=(6040, 6001), kind="warning", title="Rét đậm")
    clock.move(minutes=1)
    province_wide = broadcast_create(
        official=province_admin,
        title="Diễn tập",
        body="Diễn tập phòng cháy.",
        kind="information",
        whole_province=True,
        scheduled_at=at(3, 8),
    )
    cao_bang = ProvinceFactory(code=4, name="Cao Bằng")
    WardFactory(code=1279, name="Phường Thục Phán", province=cao_bang)
    Broadcast.objects.create(
        title="Cao Bằng",
        body="Của tỉnh khác.",
        kind="information",
        province=cao_bang,
        scheduled_at=T0,
        expires_at=at(3, 9),
        created_by=province_admin,
    )

    mine_ids = [r["id"] for r in client_for(broadcaster).get(BROADCASTS).json()["results"]]
    theirs_ids = [r["id"] for r in client_for(other_broadcaster).get(BROADCASTS).json()["results"]]

    assert mine_ids == [province_wide.pk, both.pk, mine.pk]
    assert theirs_ids == [province_wide.pk, both.pk, theirs.pk]

    response = client_for(broadcaster).get(BROADCASTS)
    assert response.json() == {
        "next": None,
        "previous": None,
        "results": [
            {
                "id": province_wide.pk,
                "title": "Diễn tập",
                "body": "Diễn tập phòng cháy.",
                "kind": "information",
                "status": "scheduled",
                "wards": [],
                "whole_province": 20,
                "send_sms": False,
                "scheduled_at": "2026-03-03T08:00:00+07:00",
                "expires_at": "2026-03-04T08:00:00+07:00",
                "created_by": "Vi Văn Tỉnh",
                "created_at": "2026-03-02T09:03:00+07:00",
                "approved_by": None,
                "approved_at": None,
                "cancelled_at": None,
                "started_at": None,
                "sent_at": None,
                "recipients": 0,
                "inbox_written": 0,
            },
            {
                "id": both.pk,
                "title": "Rét đậm",
                "body": BODY,
                "kind": "warning",
                "status": "sent",
                "wards": [6001, 6040],
                "whole_province": None,
                "send_sms": False,
                "scheduled_at": "2026-03-02T09:02:00+07:00",
                "expires_at": "2026-03-03T09:02:00+07:00",
                "created_by": "Vi Văn Tỉnh",
                "created_at": "2026-03-02T09:02:00+07:00",
                "approved_by": None,
                "approved_at": None,
                "cancelled_at": None,
                "started_at": "2026-03-02T09:02:00+07:00",
                "sent_at": "2026-03-02T09:02:00+07:00",
                "recipients": 0,
                "inbox_written": 0,
            },
            {
                "id": mine.pk,
                "title": "Họp dân",
                "body": BODY,
                "kind": "information",
                "status": "sent",
                "wards": [6040],
                "whole_province": None,
                "send_sms": False,
                "scheduled_at": T0_JSON,
                "expires_at": "2026-03-03T09:00:00+07:00",
                "created_by": "Đinh Văn Phát",
                "created_at": T0_JSON,
                "approved_by": None,
                "approved_at": None,
                "cancelled_at": None,
                "started_at": T0_JSON,
                "sent_at": T0_JSON,
                "recipients": 0,
                "inbox_written": 0,
            },
        ],
    }


def test_an_official_of_another_ward_gets_404_for_a_broadcast_of_mine_and_changes_nothing(
    approval_on, broadcaster, other_broadcaster, other_approver, citizen
):
    pending = broadcast_create(
        official=broadcaster, title=TITLE, body=BODY, kind="emergency", ward_codes=[6040]
    )
    scheduled = broadcast_create(
        official=broadcaster,
        title=TITLE,
        body=BODY,
        kind="information",
        ward_codes=[6040],
        scheduled_at=at(2, 12),
    )
    before = [state(pending), state(scheduled)]
    broadcaster_client, approver_client = client_for(other_broadcaster), client_for(other_approver)

    responses = [
        broadcaster_client.get(detail_path(pending.pk), **EN),
        broadcaster_client.get(detail_path(scheduled.pk), **EN),
        broadcaster_client.post(cancel_path(pending.pk), **EN),
        broadcaster_client.post(cancel_path(scheduled.pk), **EN),
        broadcaster_client.get(report_path(scheduled.pk), **EN),
        approver_client.get(detail_path(pending.pk), **EN),
        approver_client.post(approve_path(pending.pk), **EN),
        approver_client.get(report_path(pending.pk), **EN),
    ]

    # Approving is not their role at all: refused before any broadcast is looked up.
    responses.append(broadcaster_client.post(approve_path(pending.pk), **EN))

    assert [(r.status_code, r.json()) for r in responses] == [(404, NOT_FOUND_EN)] * 8 + [
        (403, FORBIDDEN_EN)
    ]
    assert [state(pending), state(scheduled)] == before
    assert DataAccessLog.objects.exists() is False


def test_an_unknown_broadcast_is_404(broadcaster):
    client = client_for(broadcaster)

    responses = [
        client.get(detail_path(999), **EN),
        client.post(cancel_path(999), **EN),
        client.get(report_path(999), **EN),
    ]

    assert [(r.status_code, r.json()) for r in responses] == [(404, NOT_FOUND_EN)] * 3


def make_broadcasts(official: User, count: int) -> None:
    for n in range(count):
        wards = (6040,) if n % 2 else (6040, 6001)
        broadcast_create(
            official=official,
            title=f"Thông báo {n}",
            body=BODY,
            kind="information",
            ward_codes=wards,
            scheduled_at=at(3, 8),
        )


@pytest.mark.parametrize("count", [3, 12])
def test_the_list_reads_a_fixed_number_of_queries(
    province_admin, broadcaster, other_ward, count, django_assert_num_queries
):
    make_broadcasts(province_admin, count)
    client = client_for(broadcaster)

    # 1 the token's user with their official profile; 2 their permissions (view_broadcast), one
    # statement; 3 their wards (the link table; a ward official has no province to check);
    # 4 the page of broadcasts with their authors and approvers; 5 the wards of the page.
    with django_assert_num_queries(with_units_query(5)):
        response = client.get(BROADCASTS)

    assert len(response.json()["results"]) == count


def test_the_list_pages_by_cursor_fifty_at_a_time(province_admin, broadcaster, other_ward):
    make_broadcasts(province_admin, 52)
    client = client_for(broadcaster)
    newest_first = list(Broadcast.objects.order_by("-id").values_list("id", flat=True))

    page = client.get(BROADCASTS).json()
    rest = client.get(page["next"]).json()

    assert [r["id"] for r in page["results"]] == newest_first[:50]
    assert [r["id"] for r in rest["results"]] == newest_first[50:]
    assert (page["previous"], rest["next"]) == (None, None)


# --- 11. progress -----------------------------------------------------------------------------


def test_the_detail_counts_the_deliveries_by_outcome(broadcaster, citizen, ward, clock):
    people = [UserFactory(ward=ward) for _ in range(7)]
    for person in people[:4]:
        DeviceFactory(user=person)
    # citizen and people[4:] have no device: texted.
    broadcast = send(broadcaster, send_sms=True)
    outcomes = {
        (people[0], "push"): S.DELIVERED,
        (people[1], "push"): S.SENT,
        (people[2], "push"): S.PERMANENT_FAILURE,
        # people[3]'s push still waits.
        (citizen, "sms"): S.TECHNICAL_FAILURE,
        (people[4], "sms"): S.SENDING,
        (people[5], "sms"): S.TEMPORARY_FAILURE,
        (people[6], "sms"): S.SENT,
    }
    for (person, channel), status in outcomes.items():
        Delivery.objects.filter(notification__user=person, channel=channel).update(status=status)
    clock.move(minutes=3)

    response = client_for(broadcaster).get(detail_path(broadcast.pk))

    assert response.status_code == 200, response.content
    assert response.json() == {
        **broadcast_json(
            broadcast,
            status="sent",
            send_sms=True,
            sent_at=T0_JSON,
            recipients=8,
            inbox_written=8,
        ),
        "progress": {
            "recipients": 8,
            "inbox_written": 8,
            "push": {"sent": 2, "delivered": 1, "failed": 1, "waiting": 1},
            "sms": {"sent": 1, "delivered": 0, "failed": 1, "waiting": 2},
        },
    }


def test_the_progress_of_an_emergency_sent_to_another_broadcast_is_not_counted(
    broadcaster, citizen
):
    DeviceFactory(user=citizen)
    first = send(broadcaster)
    send(broadcaster, title="Lần hai")

    response = client_for(broadcaster).get(detail_path(first.pk))

    assert response.json()["progress"] == {
        "recipients": 1,
        "inbox_written": 1,
        "push": {"sent": 0, "delivered": 0, "failed": 0, "waiting": 1},
        "sms": {"sent": 0, "delivered": 0, "failed": 0, "waiting": 0},
    }


# --- 12. the public list of alerts in force ---------------------------------------------------


def test_anyone_sees_the_alerts_in_force_for_a_ward_newest_first(
    api_client, broadcaster, other_broadcaster, province_admin, clock
):
    older = send(broadcaster, kind="information", title="Lịch tiêm chủng", body="Thứ Bảy.")
    clock.set(at(2, 10))
    province_wide = broadcast_create(
        official=province_admin,
        title="Rét đậm",
        body="Giữ ấm cho trẻ.",
        kind="warning",
        whole_province=True,
        expires_at=at(4, 10),
    )
    assert broadcast_fan_out(broadcast_id=province_wide.pk) is True
    clock.set(at(2, 11))
    newest = send(broadcaster, title="Lũ quét", body="Lên chỗ cao.")
    # Not in force: expired, cancelled, scheduled, being sent, or for another ward.
    send(broadcaster, kind="information", title="Đã hết hạn", expires_at=at(2, 11, 30))
    cancelled = broadcast_create(
        official=broadcaster,
        title="Đã huỷ",
        body=BODY,
        kind="information",
        ward_codes=[6040],
        scheduled_at=at(2, 13),
    )
    client_for(broadcaster).post(cancel_path(cancelled.pk))
    broadcast_create(
        official=broadcaster,
        title="Sắp gửi",
        body=BODY,
        kind="information",
        ward_codes=[6040],
        scheduled_at=at(2, 13),
    )
    broadcast_create(
        official=broadcaster, title="Đang gửi", body=BODY, kind="emergency", ward_codes=[6040]
    )
    send(other_broadcaster, wards=(6001,), title="Sạt lở")
    clock.set(at(2, 12))

    response = api_client.get(ACTIVE, {"ward": 6040})

    assert response.status_code == 200, response.content
    assert response.json() == [
        {
            "id": newest.pk,
            "kind": "emergency",
            "title": "Lũ quét",
            "body": "Lên chỗ cao.",
            "sent_at": "2026-03-02T11:00:00+07:00",
            "expires_at": "2026-03-03T11:00:00+07:00",
        },
        {
            "id": province_wide.pk,
            "kind": "warning",
            "title": "Rét đậm",
            "body": "Giữ ấm cho trẻ.",
            "sent_at": "2026-03-02T10:00:00+07:00",
            "expires_at": "2026-03-04T10:00:00+07:00",
        },
        {
            "id": older.pk,
            "kind": "information",
            "title": "Lịch tiêm chủng",
            "body": "Thứ Bảy.",
            "sent_at": T0_JSON,
            "expires_at": "2026-03-03T09:00:00+07:00",
        },
    ]

    # The next morning the first one has expired.
    clock.set(at(3, 9))
    assert [b["id"] for b in api_client.get(ACTIVE, {"ward": 6040}).json()] == [
        newest.pk,
        province_wide.pk,
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Give a ward's code."),
        ({"ward": ""}, "Give a ward's code."),
        ({"ward": "99999"}, "Unknown ward."),
        ({"ward": "99999999999999999999"}, "Unknown ward."),
        ({"ward": "abc"}, "Unknown ward."),
        ({"ward": "-1"}, "Unknown ward."),
        ({"ward": "²"}, "Unknown ward."),
    ],
)
def test_the_public_list_needs_a_known_ward(api_client, ward, params, message):
    response = api_client.get(ACTIVE, params, **EN)

    assert response.status_code == 400
    assert response.json() == refused({"ward": [message]})


def test_the_public_list_is_in_vietnamese_by_default(api_client, ward):
    response = api_client.get(ACTIVE)

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "Không thể gửi thông báo như yêu cầu.",
        "fields": {"ward": ["Hãy cho biết mã xã, phường."]},
    }


@pytest.mark.parametrize("count", [3, 12])
def test_the_public_list_reads_a_fixed_number_of_queries(
    api_client, broadcaster, count, django_assert_num_queries
):
    for n in range(count):
        send(broadcaster, kind="information", title=f"Thông báo {n}")

    # 1 the ward; 2 the broadcasts in force for it or its province.
    with django_assert_num_queries(2):
        response = api_client.get(ACTIVE, {"ward": 6040})

    assert len(response.json()) == count


# --- a ward's official and the province's broadcasts --------------------------------------------

ONLY_MANAGER = "Only an official who manages every ward of this broadcast may change it."


def test_a_ward_official_cannot_cancel_or_approve_a_province_wide_broadcast(
    approval_on, province_admin, broadcaster, approver, other_ward, clock
):
    later = broadcast_create(
        official=province_admin,
        title=TITLE,
        body=BODY,
        kind="information",
        whole_province=True,
        scheduled_at=at(3, 8),
    )
    pending = broadcast_create(
        official=province_admin, title=TITLE, body=BODY, kind="emergency", whole_province=True
    )
    before = (state(later), state(pending))

    cancelled = client_for(broadcaster).post(cancel_path(later.pk), **EN)
    approved = client_for(approver).post(approve_path(pending.pk), **EN)

    assert (cancelled.status_code, cancelled.json()) == (403, conflict(ONLY_MANAGER))
    assert (approved.status_code, approved.json()) == (403, conflict(ONLY_MANAGER))
    assert (state(later), state(pending)) == before


def test_a_ward_officials_report_of_a_province_wide_alert_lists_only_their_wards_people(
    province_admin, broadcaster, citizen, other_citizen
):
    broadcast = send(province_admin, wards=(), whole_province=True)
    for person in (citizen, other_citizen):
        answer = client_for(person).post(
            check_in_path(broadcast.pk), {"status": "need_help", "note": "Nhà ngập"}, format="json"
        )
        assert answer.status_code == 200, answer.content

    report = client_for(broadcaster).get(report_path(broadcast.pk)).json()

    # Counts for every ward of the target; names and places only of the official's own.
    assert [(w["ward"], w["need_help"]) for w in report["wards"]] == [(6001, 1), (6040, 1)]
    assert [row["user"] for row in report["need_help"]] == [citizen.pk]
    assert report["need_help_total"] == 1
    assert list(DataAccessLog.objects.values_list("official_id", "subject_id")) == [
        (broadcaster.pk, citizen.pk)
    ]


# --- expiry ------------------------------------------------------------------------------------


def test_an_emergency_that_expired_while_waiting_for_approval_is_not_approved(
    approval_on, broadcaster, approver, clock
):
    broadcast = broadcast_create(
        official=broadcaster,
        title=TITLE,
        body=BODY,
        kind="emergency",
        ward_codes=[6040],
        expires_at=at(2, 12),
    )
    clock.set(at(2, 12))
    before = state(broadcast)

    response = client_for(approver).post(approve_path(broadcast.pk), **EN)

    assert (response.status_code, response.json()) == (
        409,
        conflict("This broadcast has expired."),
    )
    assert state(broadcast) == before


def test_a_scheduled_broadcast_whose_time_and_expiry_passed_unsent_is_cancelled(
    broadcaster, citizen, clock, published_tasks
):
    broadcast = broadcast_create(
        official=broadcaster,
        title=TITLE,
        body=BODY,
        kind="information",
        ward_codes=[6040],
        scheduled_at=at(2, 10),
        expires_at=at(2, 11),
    )
    clock.set(at(2, 11, 30))  # the beat was down from 10:00 to 11:30

    assert broadcasts_start_due() == []

    assert state(broadcast) | {"updated_at": None} == state(broadcast) | {
        "status": "cancelled",
        "cancelled_by": None,
        "cancelled_at": at(2, 11, 30),
        "updated_at": None,
    }
    assert Notification.objects.exists() is False
    assert published_tasks == []


# --- check-in ward ------------------------------------------------------------------------------


def test_a_check_in_counts_for_the_targeted_ward_the_person_was_reached_through(
    broadcaster, citizen, other_ward
):
    # The citizen's profile says 6040; their household is in 6001, which is not targeted.
    HouseholdMemberFactory(household=HouseholdFactory(ward=other_ward), user=citizen)
    broadcast = send(broadcaster)

    response = client_for(citizen).post(
        check_in_path(broadcast.pk), {"status": "safe"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert list(CheckIn.objects.values_list("user_id", "ward_id")) == [(citizen.pk, 6040)]
