"""The in-app inbox: my messages newest first (cursor pages), the unread badge (capped at 99),
marking one or all read, and notify() writing each message once, in each reader's language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import User
from notifications.actions import notify
from notifications.models import Category, Notification
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.notifications.text_events import text_event

pytestmark = pytest.mark.django_db

INBOX = "/api/v1/notifications/"
COUNT = "/api/v1/notifications/unread-count/"
READ_ALL = "/api/v1/notifications/read-all/"
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
NOT_FOUND = {"code": "not_found", "message": "Không tìm thấy.", "fields": {}}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=LOCAL)


@pytest.fixture
def clock(monkeypatch) -> Callable[[datetime], None]:
    """Set the outside world's clock (timezone.now) to a fixed moment."""

    def set_clock(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_clock


def write(user: User, numbers, category: str = Category.DOSSIER) -> None:
    for n in numbers:
        notify(
            users=[user],
            event=text_event(category),
            key=f"test:{n}",
            context={"title": f"Tiêu đề {n}", "body": f"Nội dung {n}"},
            data={"n": n},
        )


def read_state() -> list[tuple]:
    return list(Notification.objects.order_by("id").values_list("user_id", "key", "read_at"))


def read_path(notification_id: int) -> str:
    return f"{INBOX}{notification_id}/read/"


# --- the list ---------------------------------------------------------------------------------


def test_my_inbox_newest_first_with_its_fields(citizen, other_citizen, clock):
    clock(at(2, 9))
    write(citizen, [0])
    write(other_citizen, [100])
    clock(at(2, 10))
    notify(
        users=[citizen],
        event=text_event(Category.HOUSEHOLD),
        key="test:1",
        context={"title": "Hộ gia đình", "body": "Đã xác minh"},
        data={"household": 7},
    )
    first, second = Notification.objects.filter(user=citizen).order_by("id")

    response = client_for(citizen).get(INBOX)

    assert response.status_code == 200
    assert response.json() == {
        "next": None,
        "previous": None,
        "results": [
            {
                "id": second.pk,
                "category": "household",
                "title": "Hộ gia đình",
                "body": "Đã xác minh",
                "data": {"household": 7},
                "created_at": "2026-03-02T10:00:00+07:00",
                "read": False,
                "read_at": None,
            },
            {
                "id": first.pk,
                "category": "dossier",
                "title": "Tiêu đề 0",
                "body": "Nội dung 0",
                "data": {"n": 0},
                "created_at": "2026-03-02T09:00:00+07:00",
                "read": False,
                "read_at": None,
            },
        ],
    }


def test_the_inbox_pages_by_cursor(citizen, other_citizen, clock):
    clock(at(2, 9))
    for n in range(25):
        write(citizen, [n])
        if n % 10 == 0:
            write(other_citizen, [100 + n])
    client = client_for(citizen)

    page = client.get(INBOX).json()
    rest = client.get(page["next"]).json()
    back = client.get(rest["previous"]).json()

    assert [r["title"] for r in page["results"]] == [f"Tiêu đề {n}" for n in range(24, 4, -1)]
    assert page["previous"] is None
    assert page["next"].startswith("http://testserver/api/v1/notifications/?cursor=")
    assert [r["title"] for r in rest["results"]] == [f"Tiêu đề {n}" for n in range(4, -1, -1)]
    assert rest["next"] is None
    assert [r["id"] for r in back["results"]] == [r["id"] for r in page["results"]]


def test_an_empty_inbox(citizen):
    response = client_for(citizen).get(INBOX)

    assert (response.status_code, response.json()) == (
        200,
        {"next": None, "previous": None, "results": []},
    )


@pytest.mark.parametrize("count", [1, 30])
def test_the_inbox_costs_the_same_queries(citizen, count, django_assert_num_queries):
    write(citizen, range(count))
    client = client_for(citizen)

    # the user (JWT), the page
    with django_assert_num_queries(2):
        response = client.get(INBOX)

    assert len(response.json()["results"]) == min(count, 20)


def test_a_stored_text_is_not_retranslated_by_the_request(citizen, clock):
    clock(at(2, 9))
    notify(
        users=[citizen],
        event="dossier.received",
        key="dossier:X:event:1",
        context={"code": "X", "date": "10/03/2026"},
    )

    response = client_for(citizen).get(INBOX, HTTP_ACCEPT_LANGUAGE="en")

    assert response.json()["results"][0]["title"] == "Hồ sơ X đã được tiếp nhận"


# --- the unread badge ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unread", "expected"),
    [
        (0, {"unread": 0, "more": False}),
        (3, {"unread": 3, "more": False}),
        (99, {"unread": 99, "more": False}),
        (100, {"unread": 99, "more": True}),
        (120, {"unread": 99, "more": True}),
    ],
)
def test_the_unread_count_is_capped_at_99(citizen, other_citizen, unread, expected):
    write(citizen, range(unread))
    write(other_citizen, range(5))

    response = client_for(citizen).get(COUNT)

    assert (response.status_code, response.json()) == (200, expected)


def test_read_messages_are_not_counted(citizen, clock):
    clock(at(2, 9))
    write(citizen, range(4))
    first = Notification.objects.filter(user=citizen).order_by("id").first()
    client = client_for(citizen)

    client.post(read_path(first.pk))

    assert client.get(COUNT).json() == {"unread": 3, "more": False}

    client.post(READ_ALL)

    assert client.get(COUNT).json() == {"unread": 0, "more": False}


@pytest.mark.parametrize("unread", [1, 120])
def test_the_count_costs_the_same_queries(citizen, unread, django_assert_num_queries):
    write(citizen, range(unread))
    client = client_for(citizen)

    # the user (JWT), the capped count
    with django_assert_num_queries(2):
        response = client.get(COUNT)

    assert response.json()["unread"] == min(unread, 99)


# --- marking read -----------------------------------------------------------------------------


def test_marking_one_read_is_idempotent(citizen, clock):
    clock(at(2, 9))
    write(citizen, [0, 1])
    first, second = Notification.objects.filter(user=citizen).order_by("id")
    client = client_for(citizen)
    clock(at(2, 10))

    response = client.post(read_path(first.pk))

    expected = {
        "id": first.pk,
        "category": "dossier",
        "title": "Tiêu đề 0",
        "body": "Nội dung 0",
        "data": {"n": 0},
        "created_at": "2026-03-02T09:00:00+07:00",
        "read": True,
        "read_at": "2026-03-02T10:00:00+07:00",
    }
    assert (response.status_code, response.json()) == (200, expected)
    assert read_state() == [
        (citizen.pk, "test:0", at(2, 10)),
        (citizen.pk, "test:1", None),
    ]

    clock(at(3, 8))
    again = client.post(read_path(first.pk))

    # read again: the first reading stays
    assert (again.status_code, again.json()) == (200, expected)
    assert read_state() == [
        (citizen.pk, "test:0", at(2, 10)),
        (citizen.pk, "test:1", None),
    ]
    listed = client.get(INBOX).json()["results"]
    assert [(r["id"], r["read"], r["read_at"]) for r in listed] == [
        (second.pk, False, None),
        (first.pk, True, "2026-03-02T10:00:00+07:00"),
    ]


def test_another_users_message_cannot_be_marked(citizen, other_citizen, clock):
    clock(at(2, 9))
    write(other_citizen, [0])
    theirs = Notification.objects.get()
    before = read_state()

    response = client_for(citizen).post(read_path(theirs.pk))
    missing = client_for(citizen).post(read_path(theirs.pk + 1000))

    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert (missing.status_code, missing.json()) == (404, NOT_FOUND)
    assert read_state() == before
    assert client_for(other_citizen).get(COUNT).json() == {"unread": 1, "more": False}


def test_marking_all_read(citizen, other_citizen, clock):
    clock(at(2, 9))
    write(citizen, range(3))
    write(other_citizen, range(2))
    client = client_for(citizen)
    client.post(read_path(Notification.objects.filter(user=citizen).order_by("id").first().pk))
    clock(at(2, 11))

    response = client.post(READ_ALL)

    assert (response.status_code, response.json()) == (200, {"marked": 2})
    assert read_state() == [
        (citizen.pk, "test:0", at(2, 9)),
        (citizen.pk, "test:1", at(2, 11)),
        (citizen.pk, "test:2", at(2, 11)),
        (other_citizen.pk, "test:0", None),
        (other_citizen.pk, "test:1", None),
    ]

    clock(at(2, 12))
    again = client.post(READ_ALL)

    assert (again.status_code, again.json()) == (200, {"marked": 0})
    assert Notification.objects.filter(user=citizen, read_at=at(2, 12)).count() == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", INBOX),
        ("get", COUNT),
        ("post", "read"),
        ("post", READ_ALL),
    ],
    ids=["list", "count", "read", "read-all"],
)
def test_anonymous_is_not_authenticated(citizen, api_client, method, path):
    write(citizen, [0])
    notification = Notification.objects.get()
    before = read_state()
    if path == "read":
        path = read_path(notification.pk)

    response = getattr(api_client, method)(path)

    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
    assert read_state() == before


# --- notify() ---------------------------------------------------------------------------------


def test_notify_writes_in_each_readers_language(citizen, ward, clock):
    clock(at(2, 9))
    english = UserFactory(phone="+84911111111", full_name="John Smith", ward=ward)
    User.objects.filter(pk=english.pk).update(language="en")
    english.refresh_from_db()
    another_vi = UserFactory(phone="+84911111112", full_name="Lê Văn Ba", ward=ward)
    written = notify(
        users=[citizen, english, another_vi, citizen],
        event="dossier.approved",
        key="dossier:H20.6040-260302-0001:event:3",
        context={"code": "H20.6040-260302-0001"},
        data={"dossier": "H20.6040-260302-0001"},
    )

    assert written == 3
    assert list(
        Notification.objects.order_by("user_id").values_list("user_id", "title", "body", "data")
    ) == sorted(
        [
            (
                citizen.pk,
                "Hồ sơ H20.6040-260302-0001 đã có kết quả",
                "Hồ sơ đã được giải quyết. Đã có kết quả.",
                {"dossier": "H20.6040-260302-0001"},
            ),
            (
                english.pk,
                "Dossier H20.6040-260302-0001: result ready",
                "Your application was approved. The result is ready.",
                {"dossier": "H20.6040-260302-0001"},
            ),
            (
                another_vi.pk,
                "Hồ sơ H20.6040-260302-0001 đã có kết quả",
                "Hồ sơ đã được giải quyết. Đã có kết quả.",
                {"dossier": "H20.6040-260302-0001"},
            ),
        ]
    )
    assert client_for(english).get(INBOX).json()["results"][0]["title"] == (
        "Dossier H20.6040-260302-0001: result ready"
    )


def test_the_same_key_twice_leaves_one_message_per_reader(citizen, other_citizen):
    first = notify(
        users=[citizen],
        event=text_event(Category.DOSSIER),
        key="dossier:X:event:1",
        context={"title": "Lần một", "body": "Một"},
    )
    second = notify(
        users=[citizen, other_citizen],
        event=text_event(Category.DOSSIER),
        key="dossier:X:event:1",
        context={"title": "Lần hai", "body": "Hai"},
    )

    assert (first, second) == (1, 2)
    assert list(
        Notification.objects.order_by("id").values_list("user_id", "key", "title", "body")
    ) == [
        (citizen.pk, "dossier:X:event:1", "Lần một", "Một"),
        (other_citizen.pk, "dossier:X:event:1", "Lần hai", "Hai"),
    ]


def test_long_texts_are_cut_to_the_columns(citizen):
    notify(
        users=[citizen],
        event=text_event(Category.BROADCAST),
        key="broadcast:1",
        context={"title": "T" * 250, "body": "B" * 2500},
    )

    stored = Notification.objects.get()
    # the title ends with an ellipsis where it was cut
    assert (stored.title, stored.body, stored.data) == ("T" * 199 + "…", "B" * 2000, {})


def test_nobody_to_tell_writes_nothing(citizen):
    written = notify(
        users=[],
        event=text_event(Category.DOSSIER),
        key="dossier:X",
        context={"title": "x", "body": "y"},
    )

    assert (written, Notification.objects.count()) == (0, 0)


def test_an_id_beyond_any_row_is_not_found(citizen):
    write(citizen, [0])
    before = read_state()

    response = client_for(citizen).post(read_path(10**20))

    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert read_state() == before


def test_an_erased_account_keeps_no_inbox_and_gets_no_more(citizen, other_citizen, password):
    from accounts.actions.users import user_erase

    notify(
        users=[citizen, other_citizen],
        event=text_event(Category.DOSSIER),
        key="dossier:X:event:1",
        context={"title": "Hồ sơ X cần bổ sung", "body": "Đề nghị bổ sung: CCCD của Nguyễn Văn An"},
    )

    user_erase(user=citizen, password=password)
    citizen.refresh_from_db()
    written = notify(
        users=[citizen],
        event=text_event(Category.DOSSIER),
        key="dossier:X:event:2",
        context={"title": "a", "body": "b"},
    )

    assert written == 0
    assert Notification.objects.filter(user=citizen).count() == 0
    assert Notification.objects.filter(user=other_citizen).count() == 1
