"""The delivery engine: every notification's push, email and SMS fallback saved with it, claimed
in batches, sent once, retried within bounds, swept when lost, and moved forward by receipts.

The providers are the outside world; these tests use the in-memory ones (``MemoryPushProvider``
scripts FCM's answers per token and whole failed calls, ``MemorySmsProvider.fail_next`` the
gateway's errors) and Django's in-memory mail backend. The clock is ``timezone.now``."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from accounts.actions.users import device_delete
from accounts.models import Device, User
from notifications.actions import (
    notification_preferences_update,
    notification_read,
    notifications_read_all,
    notify,
)
from notifications.actions.deliveries import (
    BatchResult,
    deliveries_send,
    deliveries_sweep,
    delivery_receipt_apply,
    delivery_resend,
    retry_delay,
)
from notifications.models import (
    Category,
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationPreference,
    SmsMessage,
)
from notifications.providers.push import (
    MemoryPushProvider,
    PushMessage,
    PushOutcome,
    PushProviderError,
    PushResult,
)
from notifications.providers.sms import MemorySmsProvider, ProviderError, SentSms
from notifications.tasks import deliver, sweep_deliveries
from tests.conftest import PublishedTask
from tests.factories import DeviceFactory, SmsMessageFactory, UserFactory
from tests.notifications.text_events import text_event

pytestmark = pytest.mark.django_db

S = DeliveryStatus
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
# A Monday morning, local time.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=LOCAL)
CODE = "G22.20.01-261126-0001"
OTHER_CODE = "G22.20.01-261126-0002"
VI_TITLE = f"Hồ sơ {CODE} đã có kết quả"
VI_BODY = "Hồ sơ đã được giải quyết. Đã có kết quả."
VI_SMS = f"Ho so {CODE} da co ket qua. Ho so da duoc giai quyet. Da co ket qua."
EN_TITLE = f"Dossier {CODE}: result ready"
EN_BODY = "Your application was approved. The result is ready."
EN_SMS = f"Dossier {CODE}: result ready. Your application was approved. The result is ready."
BUDGET_TITLE = "Đã hết hạn mức SMS trong ngày"
BUDGET_BODY = (
    "Hôm nay đã gửi 1 tin SMS, bằng hạn mức 1 tin/ngày. Tin SMS thông báo sẽ không được gửi "
    "tiếp cho đến ngày mai; tin khẩn cấp vẫn được gửi."
)
NO_WORKER = "no answer from the worker"


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


# --- helpers ----------------------------------------------------------------------------------


def approve(users: Iterable[User], code: str = CODE) -> None:
    """The real event with both an SMS fallback and email."""
    notify(
        users=users,
        event="dossier.approved",
        key=f"dossier:{code}:approved",
        context={"code": code},
        data={"dossier": code},
    )


def tell(users: Iterable[User], n: int = 0, category: str = Category.DOSSIER, **options) -> str:
    """A test event (title and body given as context); returns its key."""
    key = f"test:{n}"
    notify(
        users=users,
        event=text_event(category, **options),
        key=key,
        context={"title": f"Tiêu đề {n}", "body": f"Nội dung {n}"},
    )
    return key


FIELDS = (
    "notification__user_id",
    "notification__key",
    "channel",
    "status",
    "attempts",
    "error",
    "is_fallback",
    "due_at",
    "title",
    "body",
    "provider",
    "provider_message_id",
    "sent_at",
    "delivered_at",
)


def deliveries() -> list[dict]:
    """Every delivery row, by recipient, key and channel (email, push, sms)."""
    return list(
        Delivery.objects.order_by("notification__user_id", "notification__key", "channel").values(
            *FIELDS
        )
    )


def row(
    user: User,
    key: str,
    channel: str,
    *,
    body: str,
    due_at: datetime,
    title: str = "",
    status: str = S.CREATED,
    attempts: int = 0,
    error: str = "",
    is_fallback: bool = False,
    provider: str = "",
    provider_message_id: str = "",
    sent_at: datetime | None = None,
    delivered_at: datetime | None = None,
) -> dict:
    return {
        "notification__user_id": user.pk,
        "notification__key": key,
        "channel": channel,
        "status": status,
        "attempts": attempts,
        "error": error,
        "is_fallback": is_fallback,
        "due_at": due_at,
        "title": title,
        "body": body,
        "provider": provider,
        "provider_message_id": provider_message_id,
        "sent_at": sent_at,
        "delivered_at": delivered_at,
    }


APPROVED = f"dossier:{CODE}:approved"
OTHER_APPROVED = f"dossier:{OTHER_CODE}:approved"


def push_of(user: User, key: str = APPROVED) -> Delivery:
    return Delivery.objects.get(notification__user=user, notification__key=key, channel="push")


def sms_of(user: User, key: str = APPROVED) -> Delivery:
    return Delivery.objects.get(notification__user=user, notification__key=key, channel="sms")


def push_message(delivery: Delivery, token: str) -> PushMessage:
    n = delivery.notification
    data = {**{k: str(v) for k, v in n.data.items()}, "notification": str(n.pk)}
    data["category"] = n.category
    return PushMessage(token, delivery.title, delivery.body, data, str(delivery.id))


def answer(token: str, *outcomes: PushResult) -> None:
    """Script FCM's next answers for a token."""
    MemoryPushProvider.results[token] = list(outcomes)


GONE = PushResult(PushOutcome.TOKEN_GONE, error="UnregisteredError: token not registered")
BUSY = PushResult(PushOutcome.TEMPORARY, error="UnavailableError: try later")


def worker_dies_while_sending(channel: str) -> None:
    """A worker claims a batch and is killed while the provider is answering (the hard time
    limit, an OOM kill): nothing records the outcome, the rows stay "sending"."""
    killed = SystemExit("worker killed")
    if channel == "push":
        MemoryPushProvider.fail_calls.append(killed)
    else:
        MemorySmsProvider.fail_next.append(killed)
    with pytest.raises(SystemExit):
        deliveries_send(channel=channel)


def inbox(user: User) -> list[tuple]:
    return list(
        Notification.objects.filter(user=user)
        .order_by("id")
        .values_list("event", "key", "title", "body", "fallback_text", "fallback_due_at")
    )


@pytest.fixture
def en_citizen(ward) -> User:
    return UserFactory(phone="+84911111111", full_name="John Smith", ward=ward, language="en")


@pytest.fixture
def superuser() -> User:
    return UserFactory(
        phone="+84900000001", is_superuser=True, is_staff=True, email="admin@example.vn"
    )


# --- planning ---------------------------------------------------------------------------------


def test_a_user_with_an_active_device_gets_one_push_in_their_language(citizen, en_citizen):
    DeviceFactory(user=citizen, token="tok-vi")
    DeviceFactory(user=en_citizen, token="tok-en")
    DeviceFactory(user=en_citizen, token="tok-en-old", is_active=False)

    approve([citizen, en_citizen])

    assert deliveries() == [
        row(citizen, APPROVED, "push", title=VI_TITLE, body=VI_BODY, due_at=T0),
        row(en_citizen, APPROVED, "push", title=EN_TITLE, body=EN_BODY, due_at=T0),
    ]
    # The SMS stands by, rendered, for when the message stays unread.
    fallback_at = T0 + timedelta(minutes=30)
    assert inbox(citizen) == [
        ("dossier.approved", APPROVED, VI_TITLE, VI_BODY, VI_SMS, fallback_at)
    ]
    assert inbox(en_citizen) == [
        ("dossier.approved", APPROVED, EN_TITLE, EN_BODY, EN_SMS, fallback_at)
    ]
    assert MemoryPushProvider.calls == []  # planning is not sending


def test_email_goes_only_to_users_with_an_address_and_only_for_events_sent_by_email(
    citizen, en_citizen
):
    citizen.email = "an@example.vn"
    citizen.save(update_fields=["email"])
    DeviceFactory(user=citizen, token="tok-vi")
    DeviceFactory(user=en_citizen, token="tok-en")

    approve([citizen, en_citizen])
    notify(
        users=[citizen],
        event="dossier.received",
        key=f"dossier:{CODE}:received",
        context={"code": CODE, "date": "10/03/2026"},
    )

    assert deliveries() == [
        row(citizen, APPROVED, "email", title=VI_TITLE, body=VI_BODY, due_at=T0),
        row(citizen, APPROVED, "push", title=VI_TITLE, body=VI_BODY, due_at=T0),
        # "received" is not sent by email.
        row(
            citizen,
            f"dossier:{CODE}:received",
            "push",
            title=f"Hồ sơ {CODE} đã được tiếp nhận",
            body="Hồ sơ của bạn đã được tiếp nhận. Ngày hẹn trả kết quả: 10/03/2026.",
            due_at=T0,
        ),
        # No address, no email.
        row(en_citizen, APPROVED, "push", title=EN_TITLE, body=EN_BODY, due_at=T0),
    ]


def test_a_user_without_a_device_gets_the_unaccented_sms_at_once_for_a_fallback_event(
    citizen, en_citizen
):
    DeviceFactory(user=citizen, token="tok-vi", is_active=False)

    approve([citizen, en_citizen])

    assert deliveries() == [
        row(citizen, APPROVED, "sms", body=VI_SMS, due_at=T0, is_fallback=True),
        row(en_citizen, APPROVED, "sms", body=EN_SMS, due_at=T0, is_fallback=True),
    ]
    # The fallback is decided: nothing waits for the sweeper.
    assert inbox(citizen) == [("dossier.approved", APPROVED, VI_TITLE, VI_BODY, VI_SMS, None)]


def test_an_event_without_fallback_leaves_a_user_without_a_device_only_the_inbox_message(
    citizen,
):
    notify(
        users=[citizen],
        event="dossier.received",
        key=f"dossier:{CODE}:received",
        context={"code": CODE, "date": "10/03/2026"},
    )

    assert Notification.objects.filter(user=citizen).values_list("key", "fallback_text").get() == (
        f"dossier:{CODE}:received",
        "",
    )
    assert deliveries() == []


def test_the_same_key_notified_twice_plans_its_deliveries_once(citizen, other_citizen):
    DeviceFactory(user=citizen, token="tok-vi")

    approve([citizen, other_citizen])
    approve([citizen, other_citizen])

    assert deliveries() == [
        row(citizen, APPROVED, "push", title=VI_TITLE, body=VI_BODY, due_at=T0),
        row(other_citizen, APPROVED, "sms", body=VI_SMS, due_at=T0, is_fallback=True),
    ]
    assert Notification.objects.count() == 2


def test_notify_publishes_one_deliver_task_per_channel_after_commit(
    citizen, other_citizen, django_capture_on_commit_callbacks, published_tasks
):
    DeviceFactory(user=citizen, token="tok-vi")

    with django_capture_on_commit_callbacks() as callbacks:
        approve([citizen, other_citizen])
        assert published_tasks == []

    assert len(callbacks) == 1
    callbacks[0]()

    assert published_tasks == [
        PublishedTask("notifications.deliver", ["push"], "default"),
        PublishedTask("notifications.deliver", ["sms"], "sms"),
    ]
    assert MemoryPushProvider.outbox == []  # publishing is not sending
    assert MemorySmsProvider.outbox == []


# --- preferences ------------------------------------------------------------------------------


def test_a_category_turned_off_for_push_gets_no_push_delivery(citizen, other_citizen):
    DeviceFactory(user=citizen, token="tok-vi")
    DeviceFactory(user=other_citizen, token="tok-other")
    notification_preferences_update(user=citizen, channels={"dossier": {"push": False}})

    key = tell([citizen, other_citizen])

    assert NotificationPreference.objects.get(user=citizen).disabled == ["dossier:push"]
    assert deliveries() == [
        row(other_citizen, key, "push", title="Tiêu đề 0", body="Nội dung 0", due_at=T0)
    ]
    assert Notification.objects.filter(user=citizen, key=key).count() == 1


def test_push_turned_off_for_a_fallback_event_sends_the_sms_instead(citizen):
    DeviceFactory(user=citizen, token="tok-vi")
    NotificationPreference.objects.create(user=citizen, disabled=["dossier:push"])

    approve([citizen])

    assert deliveries() == [row(citizen, APPROVED, "sms", body=VI_SMS, due_at=T0, is_fallback=True)]


def test_sms_turned_off_too_leaves_only_the_inbox_message(citizen):
    NotificationPreference.objects.create(user=citizen, disabled=["dossier:push", "dossier:sms"])

    approve([citizen])

    assert deliveries() == []
    assert inbox(citizen) == [("dossier.approved", APPROVED, VI_TITLE, VI_BODY, VI_SMS, None)]


@pytest.mark.parametrize("category", [Category.ACCOUNT, Category.EMERGENCY])
def test_a_mandatory_category_ignores_the_users_opt_outs(citizen, category):
    DeviceFactory(user=citizen, token="tok-vi")
    # The action refuses to store it; a row written before the rule (or by hand) is ignored too.
    notification_preferences_update(user=citizen, channels={category: {"push": False}})
    assert NotificationPreference.objects.get(user=citizen).disabled == []
    NotificationPreference.objects.filter(user=citizen).update(
        disabled=[f"{category}:push", f"{category}:sms"]
    )

    key = tell([citizen], category=category)

    assert deliveries() == [
        row(citizen, key, "push", title="Tiêu đề 0", body="Nội dung 0", due_at=T0)
    ]


@pytest.mark.parametrize(
    ("start", "end", "created", "due"),
    [
        # Across midnight: held until the morning, the next day or the same day.
        (time(22), time(6), datetime(2026, 3, 2, 23, 0), datetime(2026, 3, 3, 6, 0)),
        (time(22), time(6), datetime(2026, 3, 3, 2, 30), datetime(2026, 3, 3, 6, 0)),
        (time(22), time(6), datetime(2026, 3, 2, 21, 59), datetime(2026, 3, 2, 21, 59)),
        (time(22), time(6), datetime(2026, 3, 3, 6, 0), datetime(2026, 3, 3, 6, 0)),
        # Within a day: a nap.
        (time(12), time(13, 30), datetime(2026, 3, 2, 12, 0), datetime(2026, 3, 2, 13, 30)),
        (time(12), time(13, 30), datetime(2026, 3, 2, 13, 29), datetime(2026, 3, 2, 13, 30)),
        (time(12), time(13, 30), datetime(2026, 3, 2, 13, 30), datetime(2026, 3, 2, 13, 30)),
        (time(12), time(13, 30), datetime(2026, 3, 2, 11, 0), datetime(2026, 3, 2, 11, 0)),
    ],
)
def test_quiet_hours_hold_a_non_urgent_push_until_they_end(
    citizen, clock, start, end, created, due
):
    DeviceFactory(user=citizen, token="tok-vi")
    NotificationPreference.objects.create(user=citizen, quiet_start=start, quiet_end=end)
    clock.set(created.replace(tzinfo=LOCAL))

    key = tell([citizen])

    assert deliveries() == [
        row(
            citizen,
            key,
            "push",
            title="Tiêu đề 0",
            body="Nội dung 0",
            due_at=due.replace(tzinfo=LOCAL),
        )
    ]


def test_an_urgent_event_goes_through_quiet_hours(citizen, clock):
    DeviceFactory(user=citizen, token="tok-vi")
    NotificationPreference.objects.create(user=citizen, quiet_start=time(22), quiet_end=time(6))
    now = clock.set(datetime(2026, 3, 2, 23, 0, tzinfo=LOCAL))

    key = tell([citizen], category=Category.EMERGENCY, urgent=True)

    assert deliveries() == [
        row(citizen, key, "push", title="Tiêu đề 0", body="Nội dung 0", due_at=now)
    ]


def test_email_is_never_held_by_quiet_hours(citizen, clock):
    citizen.email = "an@example.vn"
    citizen.save(update_fields=["email"])
    DeviceFactory(user=citizen, token="tok-vi")
    notification_preferences_update(user=citizen, quiet_hours={"start": time(22), "end": time(6)})
    now = clock.set(datetime(2026, 3, 2, 23, 0, tzinfo=LOCAL))

    approve([citizen])

    morning = datetime(2026, 3, 3, 6, 0, tzinfo=LOCAL)
    assert deliveries() == [
        row(citizen, APPROVED, "email", title=VI_TITLE, body=VI_BODY, due_at=now),
        row(citizen, APPROVED, "push", title=VI_TITLE, body=VI_BODY, due_at=morning),
    ]


def test_a_held_push_is_not_claimed_before_the_quiet_hours_end(citizen, clock):
    DeviceFactory(user=citizen, token="tok-vi")
    NotificationPreference.objects.create(user=citizen, quiet_start=time(22), quiet_end=time(6))
    clock.set(datetime(2026, 3, 2, 23, 0, tzinfo=LOCAL))
    key = tell([citizen])

    clock.set(datetime(2026, 3, 3, 5, 59, 59, tzinfo=LOCAL))
    early = deliveries_send(channel="push")

    assert early == BatchResult(claimed=0, sent=0, retry_in=None, more=False)
    assert MemoryPushProvider.calls == []
    assert Delivery.objects.get().status == S.CREATED

    morning = clock.set(datetime(2026, 3, 3, 6, 0, tzinfo=LOCAL))
    on_time = deliveries_send(channel="push")

    assert on_time == BatchResult(claimed=1, sent=1, retry_in=None, more=False)
    delivery = push_of(citizen, key)
    assert MemoryPushProvider.outbox == [push_message(delivery, "tok-vi")]
    assert deliveries() == [
        row(
            citizen,
            key,
            "push",
            title="Tiêu đề 0",
            body="Nội dung 0",
            due_at=morning,
            status=S.SENT,
            attempts=1,
            provider="memory",
            provider_message_id=str(delivery.id),
            sent_at=morning,
        )
    ]


def test_the_sms_fallback_of_a_held_push_counts_from_the_end_of_the_quiet_hours(citizen, clock):
    # Otherwise the fallback falls due during the night, is held to the same morning minute as
    # the push, and the citizen pays for an SMS their phone was about to show anyway.
    DeviceFactory(user=citizen, token="tok-vi")
    NotificationPreference.objects.create(user=citizen, quiet_start=time(22), quiet_end=time(6))
    clock.set(datetime(2026, 3, 2, 23, 0, tzinfo=LOCAL))
    approve([citizen])

    assert Notification.objects.get().fallback_due_at == datetime(2026, 3, 3, 6, 30, tzinfo=LOCAL)

    clock.set(datetime(2026, 3, 3, 6, 0, tzinfo=LOCAL))
    deliveries_sweep()
    deliveries_send(channel="push")

    assert list(Delivery.objects.values_list("channel", "status")) == [("push", S.SENT)]

    # Still unread half an hour after the phone showed it: now the SMS.
    later = clock.set(datetime(2026, 3, 3, 6, 30, tzinfo=LOCAL))
    deliveries_sweep()

    assert list(
        Delivery.objects.order_by("channel").values_list("channel", "status", "due_at")
    ) == [("push", S.SENT, datetime(2026, 3, 3, 6, 0, tzinfo=LOCAL)), ("sms", S.CREATED, later)]


# --- sending push -----------------------------------------------------------------------------


def test_sending_push_marks_the_rows_sent_after_one_provider_call(
    citizen, en_citizen, other_citizen, clock
):
    DeviceFactory(user=citizen, token="tok-vi")
    DeviceFactory(user=en_citizen, token="tok-en")
    DeviceFactory(user=en_citizen, token="tok-en-tablet")
    approve([citizen, en_citizen, other_citizen])
    now = clock.move(seconds=2)

    result = deliveries_send(channel="push")

    assert result == BatchResult(claimed=2, sent=2, retry_in=None, more=False)
    assert MemoryPushProvider.calls == [3]
    vi, en = push_of(citizen), push_of(en_citizen)
    assert sorted(MemoryPushProvider.outbox, key=lambda m: m.token) == [
        push_message(en, "tok-en"),
        push_message(en, "tok-en-tablet"),
        push_message(vi, "tok-vi"),
    ]
    # The app opens the message from the notification's link data.
    assert next(m for m in MemoryPushProvider.outbox if m.token == "tok-vi").data == {
        "dossier": CODE,
        "notification": str(Notification.objects.get(user=citizen).pk),
        "category": "dossier",
    }
    sent = {"status": S.SENT, "attempts": 1, "provider": "memory", "sent_at": now}
    assert deliveries() == [
        row(
            citizen,
            APPROVED,
            "push",
            title=VI_TITLE,
            body=VI_BODY,
            due_at=T0,
            **sent,
            provider_message_id=str(vi.id),
        ),
        row(
            en_citizen,
            APPROVED,
            "push",
            title=EN_TITLE,
            body=EN_BODY,
            due_at=T0,
            **sent,
            provider_message_id=str(en.id),
        ),
        row(other_citizen, APPROVED, "sms", body=VI_SMS, due_at=T0, is_fallback=True),
    ]
    assert MemorySmsProvider.outbox == []  # another channel, another task


@pytest.fixture
def crowd(db) -> list[User]:
    """501 citizens, each with one phone: one more than FCM takes in one call."""
    users = UserFactory.create_batch(501)
    Device.objects.bulk_create(
        Device(user=user, platform="android", token=f"crowd-{i:03d}")
        for i, user in enumerate(users)
    )
    return users


def test_push_goes_out_in_provider_calls_of_at_most_500_messages(crowd, clock):
    key = tell(crowd)
    now = clock.move(seconds=1)

    first = deliveries_send(channel="push")
    second = deliveries_send(channel="push")
    third = deliveries_send(channel="push")

    assert first == BatchResult(claimed=500, sent=500, retry_in=None, more=True)
    assert second == BatchResult(claimed=1, sent=1, retry_in=None, more=False)
    assert third == BatchResult(claimed=0, sent=0, retry_in=None, more=False)
    assert MemoryPushProvider.calls == [500, 1]
    assert sorted(m.token for m in MemoryPushProvider.outbox) == [
        f"crowd-{i:03d}" for i in range(501)
    ]
    assert list(
        Delivery.objects.values_list(
            "notification__key", "status", "attempts", "sent_at"
        ).distinct()
    ) == [(key, S.SENT, 1, now)]


def test_one_users_many_devices_are_split_into_calls_of_500_messages(citizen):
    Device.objects.bulk_create(
        Device(user=citizen, platform="android", token=f"tok-{i:03d}") for i in range(501)
    )
    key = tell([citizen])

    result = deliveries_send(channel="push")

    assert result == BatchResult(claimed=1, sent=1, retry_in=None, more=False)
    assert MemoryPushProvider.calls == [500, 1]
    delivery = push_of(citizen, key)
    assert sorted(MemoryPushProvider.outbox, key=lambda m: m.token) == [
        push_message(delivery, f"tok-{i:03d}") for i in range(501)
    ]
    assert (delivery.status, delivery.attempts, delivery.provider_message_id) == (
        S.SENT,
        1,
        str(delivery.id),
    )


def test_a_token_the_provider_no_longer_knows_deactivates_the_device_and_fails_the_push(
    citizen,
):
    device = DeviceFactory(user=citizen, token="tok-vi")
    key = tell([citizen])
    answer("tok-vi", GONE)

    result = deliveries_send(channel="push")

    assert result == BatchResult(claimed=1, sent=0, retry_in=None, more=False)
    assert MemoryPushProvider.calls == [1]
    assert MemoryPushProvider.outbox == []
    device.refresh_from_db()
    assert (device.is_active, device.updated_at) == (False, T0)
    assert deliveries() == [
        row(
            citizen,
            key,
            "push",
            title="Tiêu đề 0",
            body="Nội dung 0",
            due_at=T0,
            status=S.PERMANENT_FAILURE,
            attempts=1,
            error="UnregisteredError: token not registered",
            provider="memory",
        )
    ]
    # Not an event with an SMS fallback: nothing else goes out.
    assert MemorySmsProvider.outbox == []


def test_a_gone_token_next_to_a_working_one_still_delivers_the_push(citizen):
    old = DeviceFactory(user=citizen, token="tok-old")
    new = DeviceFactory(user=citizen, token="tok-new")
    key = tell([citizen])
    answer("tok-old", GONE)

    deliveries_send(channel="push")

    delivery = push_of(citizen, key)
    assert MemoryPushProvider.outbox == [push_message(delivery, "tok-new")]
    assert (delivery.status, delivery.error, delivery.provider_message_id) == (
        S.SENT,
        "",
        str(delivery.id),
    )
    assert list(
        Device.objects.filter(pk__in=[old.pk, new.pk])
        .order_by("token")
        .values_list("token", "is_active")
    ) == [("tok-new", True), ("tok-old", False)]


def test_a_temporary_error_waits_its_backoff_and_counts_the_attempt(citizen, clock):
    DeviceFactory(user=citizen, token="tok-vi")
    key = tell([citizen])
    answer("tok-vi", BUSY)

    first = deliveries_send(channel="push")

    assert first == BatchResult(claimed=1, sent=0, retry_in=5, more=False)
    retry_at = T0 + timedelta(seconds=5)
    failed = {
        "title": "Tiêu đề 0",
        "body": "Nội dung 0",
        "provider": "memory",
        "attempts": 1,
    }
    assert deliveries() == [
        row(
            citizen,
            key,
            "push",
            **failed,
            status=S.TEMPORARY_FAILURE,
            error="UnavailableError: try later",
            due_at=retry_at,
        )
    ]

    clock.move(seconds=4)
    assert deliveries_send(channel="push").claimed == 0  # still waiting

    now = clock.move(seconds=1)
    second = deliveries_send(channel="push")

    assert second == BatchResult(claimed=1, sent=1, retry_in=None, more=False)
    delivery = push_of(citizen, key)
    assert MemoryPushProvider.calls == [1, 1]
    assert MemoryPushProvider.outbox == [push_message(delivery, "tok-vi")]
    assert deliveries() == [
        row(
            citizen,
            key,
            "push",
            **{**failed, "attempts": 2},
            status=S.SENT,
            due_at=retry_at,
            provider_message_id=str(delivery.id),
            sent_at=now,
        )
    ]


def test_the_backoff_doubles_from_5_seconds_to_at_most_5_minutes():
    assert [retry_delay(n) for n in range(0, 10)] == [5, 5, 10, 20, 40, 80, 160, 300, 300, 300]


def test_after_the_last_attempt_a_temporary_error_is_a_technical_failure(citizen, clock):
    DeviceFactory(user=citizen, token="tok-vi")
    key = tell([citizen])
    answer("tok-vi", *[BUSY] * 5)

    due = []
    for _ in range(4):
        deliveries_send(channel="push")
        due.append(clock.set(push_of(citizen, key).due_at))
    last = deliveries_send(channel="push")

    assert [d - T0 for d in due] == [
        timedelta(seconds=5),
        timedelta(seconds=15),
        timedelta(seconds=35),
        timedelta(seconds=75),
    ]
    assert last == BatchResult(claimed=1, sent=0, retry_in=None, more=False)
    assert MemoryPushProvider.calls == [1, 1, 1, 1, 1]
    assert deliveries() == [
        row(
            citizen,
            key,
            "push",
            title="Tiêu đề 0",
            body="Nội dung 0",
            due_at=due[-1],
            status=S.TECHNICAL_FAILURE,
            attempts=5,
            error="UnavailableError: try later",
            provider="memory",
        )
    ]
    clock.move(minutes=10)
    assert deliveries_send(channel="push").claimed == 0
    assert MemoryPushProvider.outbox == []


def test_a_whole_call_refused_for_good_fails_every_row_of_the_batch(citizen, other_citizen):
    DeviceFactory(user=citizen, token="tok-vi")
    DeviceFactory(user=other_citizen, token="tok-other")
    key = tell([citizen, other_citizen])
    MemoryPushProvider.fail_calls.append(
        PushProviderError("invalid service account", permanent=True)
    )

    result = deliveries_send(channel="push")

    assert result == BatchResult(claimed=2, sent=0, retry_in=None, more=False)
    assert MemoryPushProvider.calls == [2]
    assert MemoryPushProvider.outbox == []
    failed = {
        "title": "Tiêu đề 0",
        "body": "Nội dung 0",
        "due_at": T0,
        "status": S.PERMANENT_FAILURE,
        "attempts": 1,
        "error": "invalid service account",
        "provider": "memory",
    }
    assert deliveries() == [
        row(citizen, key, "push", **failed),
        row(other_citizen, key, "push", **failed),
    ]
    # The devices are not to blame.
    assert Device.objects.filter(is_active=True).count() == 2


def test_a_whole_call_failing_for_now_is_retried_after_the_backoff(citizen):
    DeviceFactory(user=citizen, token="tok-vi")
    key = tell([citizen])
    MemoryPushProvider.fail_calls.append(PushProviderError("FCM unavailable"))

    result = deliveries_send(channel="push")

    assert result == BatchResult(claimed=1, sent=0, retry_in=5, more=False)
    assert deliveries() == [
        row(
            citizen,
            key,
            "push",
            title="Tiêu đề 0",
            body="Nội dung 0",
            due_at=T0 + timedelta(seconds=5),
            status=S.TEMPORARY_FAILURE,
            attempts=1,
            error="FCM unavailable",
            provider="memory",
        )
    ]


def test_a_push_to_a_user_whose_devices_were_all_removed_fails_with_no_active_device(citizen):
    phone = DeviceFactory(user=citizen, token="tok-vi")
    tablet = DeviceFactory(user=citizen, token="tok-tablet")
    key = tell([citizen])
    device_delete(user=citizen, device_id=phone.pk)
    device_delete(user=citizen, device_id=tablet.pk)

    result = deliveries_send(channel="push")

    assert result == BatchResult(claimed=1, sent=0, retry_in=None, more=False)
    assert MemoryPushProvider.calls == []  # nobody to call FCM for
    assert deliveries() == [
        row(
            citizen,
            key,
            "push",
            title="Tiêu đề 0",
            body="Nội dung 0",
            due_at=T0,
            status=S.PERMANENT_FAILURE,
            attempts=1,
            error="no active device",
            provider="memory",
        )
    ]


def test_a_temporary_failure_records_the_temporary_error_next_to_a_gone_token(citizen):
    older = DeviceFactory(user=citizen, token="tok-older")
    newer = DeviceFactory(user=citizen, token="tok-newer")
    key = tell([citizen])
    answer("tok-newer", GONE)
    answer("tok-older", BUSY)

    result = deliveries_send(channel="push")

    # Retried because of the busy provider, not because of the gone token.
    assert result == BatchResult(claimed=1, sent=0, retry_in=5, more=False)
    delivery = push_of(citizen, key)
    assert (delivery.status, delivery.attempts, delivery.error, delivery.due_at) == (
        S.TEMPORARY_FAILURE,
        1,
        "UnavailableError: try later",
        T0 + timedelta(seconds=5),
    )
    assert list(
        Device.objects.filter(pk__in=[older.pk, newer.pk])
        .order_by("token")
        .values_list("token", "is_active")
    ) == [("tok-newer", False), ("tok-older", True)]


def test_a_provider_bug_fails_the_batch_as_a_technical_failure_and_is_raised(citizen):
    DeviceFactory(user=citizen, token="tok-vi")
    key = tell([citizen])
    MemoryPushProvider.fail_calls.append(RuntimeError("unexpected answer"))

    with pytest.raises(RuntimeError, match="unexpected answer"):
        deliveries_send(channel="push")

    # Not left "sending", not retried.
    assert deliveries() == [
        row(
            citizen,
            key,
            "push",
            title="Tiêu đề 0",
            body="Nội dung 0",
            due_at=T0,
            status=S.TECHNICAL_FAILURE,
            attempts=1,
            error="internal error",
            provider="memory",
        )
    ]
    assert deliveries_send(channel="push").claimed == 0


def test_email_deliveries_go_through_the_mail_backend(citizen):
    citizen.email = "an@example.vn"
    citizen.save(update_fields=["email"])
    approve([citizen])

    result = deliveries_send(channel="email")

    assert result == BatchResult(claimed=1, sent=1, retry_in=None, more=False)
    delivery = Delivery.objects.get(channel="email")
    assert [(m.subject, m.body, m.to, m.extra_headers) for m in mail.outbox] == [
        (VI_TITLE, VI_BODY, ["an@example.vn"], {"X-Delivery-Reference": str(delivery.id)})
    ]
    assert (delivery.status, delivery.attempts, delivery.provider, delivery.sent_at) == (
        S.SENT,
        1,
        "locmem",
        T0,
    )


# --- the SMS fallback -------------------------------------------------------------------------


def test_a_push_failed_for_good_sends_the_sms_fallback_once(citizen, clock):
    DeviceFactory(user=citizen, token="tok-vi")
    approve([citizen])
    answer("tok-vi", GONE)
    now = clock.move(seconds=2)

    deliveries_send(channel="push")

    fallback = {"body": VI_SMS, "due_at": now, "is_fallback": True}
    gone = {
        "title": VI_TITLE,
        "body": VI_BODY,
        "due_at": T0,
        "status": S.PERMANENT_FAILURE,
        "attempts": 1,
        "error": GONE.error,
        "provider": "memory",
    }
    assert deliveries() == [
        row(citizen, APPROVED, "push", **gone),
        row(citizen, APPROVED, "sms", **fallback),
    ]
    assert inbox(citizen) == [("dossier.approved", APPROVED, VI_TITLE, VI_BODY, VI_SMS, None)]

    result = deliveries_send(channel="sms")

    assert result == BatchResult(claimed=1, sent=1, retry_in=None, more=False)
    sms = sms_of(citizen)
    assert MemorySmsProvider.outbox == [SentSms("+84912345678", VI_SMS, str(sms.id))]
    sent = {"status": S.SENT, "attempts": 1, "provider": "memory", "sent_at": now}
    assert deliveries() == [
        row(citizen, APPROVED, "push", **gone),
        row(citizen, APPROVED, "sms", **fallback, **sent),
    ]

    # Nothing decides it a second time: not the sweeper once the fallback minutes are over.
    clock.move(minutes=31)
    deliveries_sweep()
    deliveries_send(channel="sms")
    assert len(MemorySmsProvider.outbox) == 1
    assert Delivery.objects.filter(channel="sms").count() == 1


def test_a_push_failure_sends_no_sms_when_the_message_was_read_first(citizen):
    DeviceFactory(user=citizen, token="tok-vi")
    approve([citizen])
    notification_read(user=citizen, notification_id=Notification.objects.get().pk)
    answer("tok-vi", GONE)

    deliveries_send(channel="push")
    deliveries_send(channel="sms")

    assert list(Delivery.objects.values_list("channel", "status")) == [
        ("push", S.PERMANENT_FAILURE)
    ]
    assert MemorySmsProvider.outbox == []


def test_an_unread_message_gets_its_sms_once_after_the_fallback_minutes(citizen, clock):
    DeviceFactory(user=citizen, token="tok-vi")
    approve([citizen])
    deliveries_send(channel="push")

    clock.move(minutes=29, seconds=59)
    assert deliveries_sweep() == {}
    assert Delivery.objects.filter(channel="sms").exists() is False

    due = clock.set(T0 + timedelta(minutes=30))
    first = deliveries_sweep()
    second = deliveries_sweep()

    assert (first, second) == ({"sms": 1}, {"sms": 1})  # published: the row is due
    assert inbox(citizen) == [("dossier.approved", APPROVED, VI_TITLE, VI_BODY, VI_SMS, None)]
    assert list(
        Delivery.objects.filter(channel="sms").values_list(
            "status", "body", "is_fallback", "due_at", "attempts", "error"
        )
    ) == [(S.CREATED, VI_SMS, True, due, 0, "")]

    deliveries_send(channel="sms")
    deliveries_send(channel="sms")

    assert MemorySmsProvider.outbox == [SentSms("+84912345678", VI_SMS, str(sms_of(citizen).id))]


@pytest.mark.parametrize("read_all", [False, True])
def test_a_message_read_within_the_fallback_minutes_gets_no_sms(citizen, clock, read_all):
    DeviceFactory(user=citizen, token="tok-vi")
    approve([citizen])
    deliveries_send(channel="push")
    clock.move(minutes=29)
    if read_all:
        notifications_read_all(user=citizen)
    else:
        notification_read(user=citizen, notification_id=Notification.objects.get().pk)

    clock.move(minutes=2)
    swept = deliveries_sweep()

    assert swept == {}
    assert list(Delivery.objects.values_list("channel", "status")) == [("push", S.SENT)]
    assert Notification.objects.values_list("fallback_due_at", flat=True).get() is None
    assert MemorySmsProvider.outbox == []


def test_the_per_user_daily_cap_refuses_the_next_fallback_sms_of_the_day(
    citizen, other_citizen, clock, settings
):
    settings.NOTIFICATION_SMS_PER_USER_DAILY = 1
    approve([citizen])
    approve([citizen, other_citizen], code=OTHER_CODE)
    other_sms = VI_SMS.replace(CODE, OTHER_CODE)

    assert deliveries() == [
        row(citizen, APPROVED, "sms", body=VI_SMS, due_at=T0, is_fallback=True),
        row(
            citizen,
            OTHER_APPROVED,
            "sms",
            body=other_sms,
            due_at=T0,
            is_fallback=True,
            status=S.TECHNICAL_FAILURE,
            error="per-user daily SMS cap reached",
        ),
        row(other_citizen, OTHER_APPROVED, "sms", body=other_sms, due_at=T0, is_fallback=True),
    ]

    deliveries_send(channel="sms")

    # Rows due at the same moment leave in no particular order.
    assert sorted(MemorySmsProvider.outbox, key=lambda m: m.phone) == [
        SentSms("+84912345678", VI_SMS, str(sms_of(citizen).id)),
        SentSms("+84987654321", other_sms, str(sms_of(other_citizen, OTHER_APPROVED).id)),
    ]
    assert list(
        Delivery.objects.filter(notification__user=citizen)
        .order_by("notification__key")
        .values_list("status", "attempts", "sent_at")
    ) == [(S.SENT, 1, T0), (S.TECHNICAL_FAILURE, 0, None)]

    # A new day, a new allowance.
    next_day = clock.set(datetime(2026, 3, 3, 0, 0, tzinfo=LOCAL))
    approve([citizen], code="G22.20.01-261126-0003")
    assert list(
        Delivery.objects.filter(
            notification__key="dossier:G22.20.01-261126-0003:approved"
        ).values_list("status", "error", "due_at")
    ) == [(S.CREATED, "", next_day)]


def test_the_daily_budget_refuses_sms_and_tells_the_superusers_once_a_day(
    citizen, other_citizen, superuser, settings
):
    settings.NOTIFICATION_SMS_DAILY_BUDGET = 1
    retired = UserFactory(phone="+84900000002", is_superuser=True, is_active=False)
    third = UserFactory(phone="+84933333333")

    approve([citizen])
    assert Notification.objects.filter(user=superuser).exists() is False

    approve([other_citizen])
    approve([third])

    refused = {
        "body": VI_SMS,
        "due_at": T0,
        "is_fallback": True,
        "status": S.TECHNICAL_FAILURE,
        "error": "daily SMS budget reached",
    }
    key = "sms-budget:2026-03-02"
    assert deliveries() == [
        row(citizen, APPROVED, "sms", body=VI_SMS, due_at=T0, is_fallback=True),
        row(other_citizen, APPROVED, "sms", **refused),
        # The alert is urgent and goes by email too; the superuser has no device.
        row(superuser, key, "email", title=BUDGET_TITLE, body=BUDGET_BODY, due_at=T0),
        row(third, APPROVED, "sms", **refused),
    ]
    assert list(
        Notification.objects.filter(user__in=[superuser, retired]).values_list(
            "user_id", "category", "event", "key", "title", "body", "data"
        )
    ) == [
        (
            superuser.pk,
            "account",
            "account.sms_budget_reached",
            key,
            BUDGET_TITLE,
            BUDGET_BODY,
            {"sms_budget": "2026-03-02"},
        )
    ]

    deliveries_send(channel="sms")

    assert MemorySmsProvider.outbox == [SentSms("+84912345678", VI_SMS, str(sms_of(citizen).id))]


def test_the_daily_budget_alert_reaches_the_province_administrators(
    citizen, other_citizen, superuser, province_admin, settings
):
    settings.NOTIFICATION_SMS_DAILY_BUDGET = 1

    approve([citizen])
    approve([other_citizen])

    assert sorted(
        Notification.objects.filter(event="account.sms_budget_reached").values_list(
            "user_id", "key"
        )
    ) == sorted(
        [
            (superuser.pk, "sms-budget:2026-03-02"),
            (province_admin.pk, "sms-budget:2026-03-02"),
        ]
    )


def test_emergencies_pass_the_per_user_cap_and_the_daily_budget(
    citizen, other_citizen, superuser, settings
):
    settings.NOTIFICATION_SMS_PER_USER_DAILY = 1
    settings.NOTIFICATION_SMS_DAILY_BUDGET = 1
    approve([citizen])

    key = tell([citizen, other_citizen], category=Category.EMERGENCY, sms_fallback=True)

    emergency = {"body": "Tieu de 0. Noi dung 0", "due_at": T0, "is_fallback": True}
    assert deliveries() == [
        row(citizen, APPROVED, "sms", body=VI_SMS, due_at=T0, is_fallback=True),
        row(citizen, key, "sms", **emergency),
        row(other_citizen, key, "sms", **emergency),
    ]
    assert Notification.objects.filter(user=superuser).exists() is False

    deliveries_send(channel="sms")

    assert sorted((m.phone, m.body) for m in MemorySmsProvider.outbox) == [
        ("+84912345678", VI_SMS),
        ("+84912345678", "Tieu de 0. Noi dung 0"),
        ("+84987654321", "Tieu de 0. Noi dung 0"),
    ]


def test_a_push_that_runs_out_of_attempts_sends_the_sms_fallback(citizen, clock):
    DeviceFactory(user=citizen, token="tok-vi")
    approve([citizen])
    answer("tok-vi", *[BUSY] * 5)
    for _ in range(4):
        deliveries_send(channel="push")
        clock.set(push_of(citizen).due_at)

    deliveries_send(channel="push")
    deliveries_send(channel="sms")

    assert list(
        Delivery.objects.order_by("channel").values_list("channel", "status", "attempts")
    ) == [("push", S.TECHNICAL_FAILURE, 5), ("sms", S.SENT, 1)]
    assert MemorySmsProvider.outbox == [SentSms("+84912345678", VI_SMS, str(sms_of(citizen).id))]


def test_an_sms_sent_for_an_unread_message_is_not_sent_again_when_the_push_then_fails(
    citizen, clock
):
    DeviceFactory(user=citizen, token="tok-vi")
    approve([citizen])
    MemoryPushProvider.fail_calls.append(PushProviderError("FCM unavailable"))
    deliveries_send(channel="push")  # to be retried
    clock.move(minutes=30)
    deliveries_sweep()
    deliveries_send(channel="sms")
    answer("tok-vi", GONE)

    deliveries_send(channel="push")
    deliveries_send(channel="sms")

    assert list(
        Delivery.objects.order_by("channel").values_list("channel", "status", "is_fallback")
    ) == [("push", S.PERMANENT_FAILURE, False), ("sms", S.SENT, True)]
    assert MemorySmsProvider.outbox == [SentSms("+84912345678", VI_SMS, str(sms_of(citizen).id))]


def test_a_fallback_sms_is_held_by_quiet_hours_unless_the_event_is_urgent(citizen, clock):
    NotificationPreference.objects.create(user=citizen, quiet_start=time(22), quiet_end=time(6))
    night = clock.set(datetime(2026, 3, 2, 23, 0, tzinfo=LOCAL))

    approve([citizen])
    key = tell([citizen], category=Category.EMERGENCY, sms_fallback=True, urgent=True)

    assert deliveries() == [
        row(
            citizen,
            APPROVED,
            "sms",
            body=VI_SMS,
            due_at=datetime(2026, 3, 3, 6, 0, tzinfo=LOCAL),
            is_fallback=True,
        ),
        row(citizen, key, "sms", body="Tieu de 0. Noi dung 0", due_at=night, is_fallback=True),
    ]
    deliveries_send(channel="sms")
    assert [m.body for m in MemorySmsProvider.outbox] == ["Tieu de 0. Noi dung 0"]


@pytest.mark.parametrize(
    ("error", "status", "due_in", "retry_in"),
    [
        (ProviderError("gateway code 99", permanent=True), S.PERMANENT_FAILURE, 0, None),
        (ProviderError("gateway HTTP 503"), S.TEMPORARY_FAILURE, 5, 5),
    ],
)
def test_a_gateway_error_fails_the_sms_for_good_or_until_its_backoff(
    citizen, error, status, due_in, retry_in
):
    approve([citizen])
    MemorySmsProvider.fail_next.append(error)

    result = deliveries_send(channel="sms")

    assert result == BatchResult(claimed=1, sent=0, retry_in=retry_in, more=False)
    assert deliveries() == [
        row(
            citizen,
            APPROVED,
            "sms",
            body=VI_SMS,
            due_at=T0 + timedelta(seconds=due_in),
            is_fallback=True,
            status=status,
            attempts=1,
            error=str(error),
            provider="memory",
        )
    ]
    assert MemorySmsProvider.outbox == []


# --- the sweeper ------------------------------------------------------------------------------


def test_a_row_left_sending_by_a_dead_worker_is_due_again_and_sent_by_the_next_batch(
    citizen, clock
):
    DeviceFactory(user=citizen, token="tok-vi")
    key = tell([citizen])
    worker_dies_while_sending("push")

    in_flight = {"title": "Tiêu đề 0", "body": "Nội dung 0", "attempts": 1, "provider": "memory"}
    assert deliveries() == [row(citizen, key, "push", **in_flight, status=S.SENDING, due_at=T0)]
    # Another worker does not take a row in flight.
    assert deliveries_send(channel="push").claimed == 0

    clock.move(seconds=359)
    assert deliveries_sweep() == {}
    assert push_of(citizen, key).status == S.SENDING

    now = clock.move(seconds=1)
    assert deliveries_sweep() == {"push": 1}

    retaken = push_of(citizen, key)
    assert retaken.claim is None
    assert deliveries() == [
        row(
            citizen,
            key,
            "push",
            **in_flight,
            status=S.TEMPORARY_FAILURE,
            error=NO_WORKER,
            due_at=now,
        )
    ]

    result = deliveries_send(channel="push")

    assert result == BatchResult(claimed=1, sent=1, retry_in=None, more=False)
    assert MemoryPushProvider.calls == [1, 1]
    # The same reference: the phone collapses a message that did leave the first time.
    assert MemoryPushProvider.outbox == [push_message(retaken, "tok-vi")]
    assert deliveries() == [
        row(
            citizen,
            key,
            "push",
            **{**in_flight, "attempts": 2},
            status=S.SENT,
            due_at=now,
            provider_message_id=str(retaken.id),
            sent_at=now,
        )
    ]


def test_a_row_left_sending_at_its_last_attempt_is_a_technical_failure(citizen, clock):
    DeviceFactory(user=citizen, token="tok-vi")
    key = tell([citizen])
    answer("tok-vi", *[BUSY] * 4)
    for _ in range(4):
        deliveries_send(channel="push")
        clock.set(push_of(citizen, key).due_at)
    last_due = clock.now
    worker_dies_while_sending("push")
    assert (push_of(citizen, key).status, push_of(citizen, key).attempts) == (S.SENDING, 5)

    clock.move(seconds=360)
    swept = deliveries_sweep()

    assert swept == {}
    delivery = push_of(citizen, key)
    assert (delivery.claim, delivery.updated_at) == (None, clock.now)
    assert deliveries() == [
        row(
            citizen,
            key,
            "push",
            title="Tiêu đề 0",
            body="Nội dung 0",
            due_at=last_due,
            status=S.TECHNICAL_FAILURE,
            attempts=5,
            error=NO_WORKER,
            provider="memory",
        )
    ]
    assert deliveries_send(channel="push").claimed == 0
    assert MemoryPushProvider.outbox == []


def test_an_sms_left_sending_by_a_dead_worker_is_sent_again_under_the_same_reference(
    citizen, clock
):
    approve([citizen])
    worker_dies_while_sending("sms")
    now = clock.move(seconds=360)

    assert deliveries_sweep() == {"sms": 1}
    deliveries_send(channel="sms")

    sms = sms_of(citizen)
    assert MemorySmsProvider.outbox == [SentSms("+84912345678", VI_SMS, str(sms.id))]
    assert (sms.status, sms.attempts, sms.error, sms.sent_at) == (S.SENT, 2, "", now)


def test_the_sweeper_publishes_a_deliver_task_per_channel_with_rows_due_for_30_seconds(
    citizen, other_citizen, clock, published_tasks
):
    citizen.email = "an@example.vn"
    citizen.save(update_fields=["email"])
    DeviceFactory(user=citizen, token="tok-vi")
    approve([citizen, other_citizen])  # push and email for one, the SMS for the other
    clock.move(seconds=30)

    swept = deliveries_sweep()

    assert swept == {"push": 1, "sms": 1, "email": 1}
    assert published_tasks == [
        PublishedTask("notifications.deliver", ["push"], "default"),
        PublishedTask("notifications.deliver", ["sms"], "sms"),
        PublishedTask("notifications.deliver", ["email"], "default"),
    ]
    # Publishing is not sending, and changes no row.
    assert MemoryPushProvider.outbox == MemorySmsProvider.outbox == mail.outbox == []
    assert set(Delivery.objects.values_list("status", flat=True)) == {S.CREATED}


def test_the_sweeper_publishes_one_task_per_500_due_push_rows(crowd, clock):
    tell(crowd)
    clock.move(minutes=1)

    assert deliveries_sweep() == {"push": 2}


def test_the_sweeper_publishes_nothing_when_nothing_is_due(
    citizen, other_citizen, clock, published_tasks
):
    DeviceFactory(user=citizen, token="tok-vi")
    DeviceFactory(user=other_citizen, token="tok-other")
    tell([citizen])
    deliveries_send(channel="push")  # sent
    NotificationPreference.objects.create(
        user=other_citizen, quiet_start=time(8), quiet_end=time(12)
    )
    tell([other_citizen], n=1)  # held until noon
    clock.move(minutes=5)

    assert deliveries_sweep() == {}
    assert published_tasks == []
    assert sorted(Delivery.objects.values_list("status", flat=True)) == [S.CREATED, S.SENT]


def test_the_deliver_task_sends_a_batch_and_publishes_itself_again_for_the_rest(
    crowd, published_tasks
):
    tell(crowd)

    sent = deliver.apply(args=["push"]).get()

    assert sent == 500
    assert published_tasks == [PublishedTask("notifications.deliver", ["push"], "default")]
    assert Delivery.objects.filter(status=S.CREATED).count() == 1


def test_the_deliver_task_publishes_itself_again_for_a_retry(citizen, published_tasks):
    DeviceFactory(user=citizen, token="tok-vi")
    tell([citizen])
    answer("tok-vi", BUSY)

    sent = deliver.apply(args=["push"]).get()

    assert sent == 0
    assert published_tasks == [PublishedTask("notifications.deliver", ["push"], "default")]


def test_the_sweep_task_returns_the_tasks_it_published(citizen, clock):
    approve([citizen])
    clock.move(seconds=30)

    assert sweep_deliveries.apply().get() == {"sms": 1}


# --- idempotency ------------------------------------------------------------------------------


def test_sending_twice_sends_each_message_once(citizen, other_citizen, en_citizen):
    DeviceFactory(user=citizen, token="tok-vi")
    DeviceFactory(user=en_citizen, token="tok-en")
    approve([citizen, other_citizen, en_citizen])

    results = [deliveries_send(channel=channel) for channel in ("push", "sms", "push", "sms")]

    assert results == [
        BatchResult(claimed=2, sent=2, retry_in=None, more=False),
        BatchResult(claimed=1, sent=1, retry_in=None, more=False),
        BatchResult(claimed=0, sent=0, retry_in=None, more=False),
        BatchResult(claimed=0, sent=0, retry_in=None, more=False),
    ]
    assert sorted(MemoryPushProvider.outbox, key=lambda m: m.token) == [
        push_message(push_of(en_citizen), "tok-en"),
        push_message(push_of(citizen), "tok-vi"),
    ]
    assert MemorySmsProvider.outbox == [
        SentSms("+84987654321", VI_SMS, str(sms_of(other_citizen).id))
    ]
    assert list(Delivery.objects.values_list("status", "attempts").distinct()) == [(S.SENT, 1)]


def test_two_batches_never_claim_the_same_row(citizen, other_citizen, clock):
    DeviceFactory(user=citizen, token="tok-vi")
    DeviceFactory(user=other_citizen, token="tok-other")
    first_key = tell([citizen], n=0)
    clock.move(seconds=1)
    second_key = tell([other_citizen], n=1)

    first = deliveries_send(channel="push", limit=1)
    second = deliveries_send(channel="push", limit=1)
    third = deliveries_send(channel="push", limit=1)

    assert first == BatchResult(claimed=1, sent=1, retry_in=None, more=True)
    assert second == BatchResult(claimed=1, sent=1, retry_in=None, more=True)
    assert third == BatchResult(claimed=0, sent=0, retry_in=None, more=False)
    # Oldest due first, one row each.
    assert MemoryPushProvider.outbox == [
        push_message(push_of(citizen, first_key), "tok-vi"),
        push_message(push_of(other_citizen, second_key), "tok-other"),
    ]
    claims = list(Delivery.objects.values_list("claim", flat=True))
    assert None not in claims
    assert len(set(claims)) == 2


# --- receipts ---------------------------------------------------------------------------------


@pytest.fixture
def sent_push(citizen) -> Delivery:
    DeviceFactory(user=citizen, token="tok-vi")
    tell([citizen])
    deliveries_send(channel="push")
    return Delivery.objects.get()


def receipt_state(delivery: Delivery) -> tuple:
    return (
        Delivery.objects.filter(pk=delivery.pk)
        .values_list("status", "error", "sent_at", "delivered_at", "updated_at")
        .get()
    )


def test_a_delivered_receipt_moves_a_sent_row_to_delivered(sent_push, clock):
    now = clock.move(minutes=1)

    applied = delivery_receipt_apply(provider="memory", reference=sent_push.id, status="delivered")

    assert applied is True
    assert receipt_state(sent_push) == (S.DELIVERED, "", T0, now, now)


def test_a_replayed_receipt_changes_nothing(sent_push, clock):
    first = clock.move(minutes=1)
    delivery_receipt_apply(provider="memory", reference=sent_push.id, status="delivered")
    clock.move(minutes=1)

    replayed = delivery_receipt_apply(provider="memory", reference=sent_push.id, status="delivered")

    assert replayed is False
    assert receipt_state(sent_push) == (S.DELIVERED, "", T0, first, first)


def test_a_receipt_from_another_provider_is_ignored(sent_push, clock):
    clock.move(minutes=1)

    applied = delivery_receipt_apply(provider="http", reference=sent_push.id, status="delivered")

    assert applied is False
    assert receipt_state(sent_push) == (S.SENT, "", T0, None, T0)


def test_a_receipt_for_an_unknown_reference_is_ignored(sent_push):
    assert (
        delivery_receipt_apply(provider="memory", reference=uuid.uuid4(), status="delivered")
        is False
    )
    assert receipt_state(sent_push) == (S.SENT, "", T0, None, T0)


def test_a_delivered_receipt_also_moves_a_row_still_sending(citizen, clock):
    DeviceFactory(user=citizen, token="tok-vi")
    tell([citizen])
    worker_dies_while_sending("push")
    delivery = Delivery.objects.get()
    now = clock.move(seconds=10)

    applied = delivery_receipt_apply(provider="memory", reference=delivery.id, status="delivered")

    assert applied is True
    assert receipt_state(delivery) == (S.DELIVERED, "", None, now, now)
    # Delivered: the sweeper has nothing to send again.
    clock.move(seconds=360)
    assert deliveries_sweep() == {}
    assert Delivery.objects.values_list("status", flat=True).get() == S.DELIVERED


@pytest.mark.parametrize(
    ("status", "error", "recorded"),
    [
        ("failed", "handset unreachable", "handset unreachable"),
        ("expired", "", "expired"),
    ],
)
def test_a_failure_receipt_makes_a_sent_row_a_permanent_failure(
    sent_push, clock, status, error, recorded
):
    now = clock.move(minutes=1)

    applied = delivery_receipt_apply(
        provider="memory", reference=sent_push.id, status=status, error=error
    )

    assert applied is True
    assert receipt_state(sent_push) == (S.PERMANENT_FAILURE, recorded, T0, None, now)
    # Never re-sent by a receipt.
    assert (
        delivery_receipt_apply(provider="memory", reference=sent_push.id, status="delivered")
        is False
    )
    assert receipt_state(sent_push) == (S.PERMANENT_FAILURE, recorded, T0, None, now)


def test_a_delivered_row_never_goes_back(sent_push, clock):
    delivered = clock.move(minutes=1)
    delivery_receipt_apply(provider="memory", reference=sent_push.id, status="delivered")
    clock.move(minutes=1)

    late = delivery_receipt_apply(
        provider="memory", reference=sent_push.id, status="failed", error="late failure"
    )

    assert late is False
    assert receipt_state(sent_push) == (S.DELIVERED, "", T0, delivered, delivered)


def test_a_receipt_applies_to_an_otp_sms_too(clock):
    otp = SmsMessageFactory(status=S.SENT, provider="memory", provider_reference="gw-1")
    other_gateway = SmsMessageFactory(status=S.SENT, provider="http")
    now = clock.move(minutes=1)

    applied = delivery_receipt_apply(provider="memory", reference=otp.id, status="delivered")
    ignored = delivery_receipt_apply(
        provider="memory", reference=other_gateway.id, status="delivered"
    )

    assert (applied, ignored) == (True, False)
    assert list(
        SmsMessage.objects.filter(pk__in=[otp.pk, other_gateway.pk])
        .order_by("provider")
        .values_list("provider", "status", "body", "updated_at")
    ) == [
        ("http", S.SENT, other_gateway.body, other_gateway.updated_at),
        # Delivered: the code in it is wiped.
        ("memory", S.DELIVERED, "", now),
    ]
    assert delivery_receipt_apply(provider="memory", reference=otp.id, status="delivered") is False


# --- resend -----------------------------------------------------------------------------------


def test_resend_puts_failed_rows_back_to_created_and_leaves_the_others(
    citizen, other_citizen, clock, django_capture_on_commit_callbacks, published_tasks
):
    DeviceFactory(user=citizen, token="tok-vi")
    DeviceFactory(user=other_citizen, token="tok-other")
    key = tell([citizen])
    MemoryPushProvider.fail_calls.append(
        PushProviderError("invalid service account", permanent=True)
    )
    deliveries_send(channel="push")
    other_key = tell([other_citizen], n=1)
    deliveries_send(channel="push")
    failed, sent = push_of(citizen, key), push_of(other_citizen, other_key)
    now = clock.move(hours=1)

    with django_capture_on_commit_callbacks(execute=True):
        count = delivery_resend(delivery_ids=[failed.id, sent.id, uuid.uuid4()])

    assert count == 1
    assert published_tasks == [PublishedTask("notifications.deliver", ["push"], "default")]
    assert deliveries() == [
        row(
            citizen,
            key,
            "push",
            title="Tiêu đề 0",
            body="Nội dung 0",
            due_at=now,
            provider="memory",
        ),
        row(
            other_citizen,
            other_key,
            "push",
            title="Tiêu đề 1",
            body="Nội dung 1",
            due_at=T0,
            status=S.SENT,
            attempts=1,
            provider="memory",
            provider_message_id=str(sent.id),
            sent_at=T0,
        ),
    ]
    assert Delivery.objects.get(pk=failed.pk).claim is None

    deliveries_send(channel="push")

    assert MemoryPushProvider.outbox == [
        push_message(sent, "tok-other"),
        push_message(failed, "tok-vi"),
    ]
    assert (push_of(citizen, key).status, push_of(citizen, key).attempts) == (S.SENT, 1)


def test_resend_of_nothing_failed_returns_zero_and_publishes_nothing(
    sent_push, django_capture_on_commit_callbacks, published_tasks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        count = delivery_resend(delivery_ids=[sent_push.id])

    assert (count, callbacks, published_tasks) == (0, [], [])
    assert receipt_state(sent_push) == (S.SENT, "", T0, None, T0)
