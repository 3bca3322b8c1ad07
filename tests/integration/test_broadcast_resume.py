"""An area broadcast's fan-out through real workers on Redis and PostgreSQL: a worker killed in the
middle of a chunk, and two workers fanning out the same broadcast at once. Each test counts what
was written (one inbox message per person, one push per person with the app, for an emergency
one SMS per person without it) and what the providers (the push and SMS outbox files) really
got: every delivery exactly once, nothing missing, nothing twice.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from accounts.actions.officials import official_create_or_update
from accounts.models import Device, DevicePlatform, Role, User
from digital_address.models import Ward
from notifications.actions.broadcasts import broadcast_create, broadcasts_start_due
from notifications.models import (
    Broadcast,
    BroadcastKind,
    BroadcastLane,
    BroadcastStatus,
    Category,
    Channel,
    Delivery,
    DeliveryStatus,
    Notification,
)
from notifications.tasks import fan_out_broadcast
from tests.conftest import celery_broker_at
from tests.integration.conftest import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

B = BroadcastStatus
S = DeliveryStatus
CITIZENS = 3000
# The workers' BROADCAST_FANOUT_CHUNK: 30 chunks, so the first task does CHUNKS_PER_TASK (20)
# and publishes the next run, which does the last 10.
CHUNK = 100
# The workers' and this process's BROADCAST_FANOUT_STALE_SECONDS.
STALE_SECONDS = 3
# The recipient (by user id order) whose inbox row the first test holds: the 25th chunk, the
# fifth of the second task, waits for it; 24 chunks are committed by then.
HELD_RECIPIENT = 2450
COMMITTED = 2400
FAN_OUT_SECONDS = 60


@dataclass(frozen=True)
class Population:
    audience: list[int]  # the user ids the broadcast is for, ascending
    with_app: list[int]  # those of them with an active device
    outsiders: list[int]  # another ward's citizens, and deactivated accounts of the ward


def population(ward: Ward, other_ward: Ward) -> Population:
    """CITIZENS citizens of ``ward``, every second one with the app (an active device); of the
    others, half have only a deactivated device, half none. And some who must get nothing."""
    password = make_password(None)
    citizens = User.objects.bulk_create(
        User(phone=f"+8493{n:07d}", full_name=f"Công dân {n}", ward=ward, password=password)
        for n in range(CITIZENS)
    )
    outsiders = User.objects.bulk_create(
        [
            *(User(phone=f"+8494{n:07d}", ward=other_ward, password=password) for n in range(5)),
            *(
                User(phone=f"+8495{n:07d}", ward=ward, password=password, is_active=False)
                for n in range(5)
            ),
        ]
    )
    Device.objects.bulk_create(
        Device(
            user=user,
            platform=DevicePlatform.ANDROID,
            token=f"fcm-token-{user.pk}",
            is_active=n % 2 == 0,
        )
        for n, user in enumerate([*citizens, *outsiders])
        if n % 4 != 3
    )
    return Population(
        audience=sorted(u.pk for u in citizens),
        with_app=sorted(u.pk for n, u in enumerate(citizens) if n % 2 == 0),
        outsiders=sorted(u.pk for u in outsiders),
    )


def broadcaster(ward: Ward) -> User:
    return official_create_or_update(
        phone="+84900000021",
        full_name="Nông Văn Phát",
        password=None,
        roles=[Role.BROADCASTING],
        unit_codes=[ward.code],
        title="Cán bộ văn hoá - thông tin",
    )


def flood_warning(official: User, ward: Ward) -> Broadcast:
    """An emergency with SMS for those without the app; due now, so its fan-out is published
    after commit."""
    broadcast = broadcast_create(
        official=official,
        title="Cảnh báo lũ quét",
        body="Mưa lớn trên thượng nguồn sông Kỳ Cùng. Các hộ ven suối di chuyển lên vùng cao.",
        kind=BroadcastKind.EMERGENCY,
        ward_codes=[ward.code],
        send_sms=True,
    )
    assert broadcast.status == B.SENDING
    return broadcast


def vaccination_notice(official: User, ward: Ward) -> Broadcast:
    """Information: a push to those with the app, no SMS; due now."""
    broadcast = broadcast_create(
        official=official,
        title="Tiêm chủng mở rộng",
        body="Trạm y tế xã tiêm vắc-xin sởi cho trẻ từ 9 tháng tuổi, sáng thứ Bảy tuần này.",
        kind=BroadcastKind.INFORMATION,
        ward_codes=[ward.code],
    )
    assert broadcast.status == B.SENDING
    return broadcast


def worker_env(push_outbox: Path) -> dict[str, str]:
    return {
        "TEST_PUSH_PROVIDER": "file",
        "PUSH_FILE_PATH": str(push_outbox),
        "BROADCAST_FANOUT_CHUNK": str(CHUNK),
        "BROADCAST_FANOUT_STALE_SECONDS": str(STALE_SECONDS),
    }


def pushed(outbox: Path) -> list[str]:
    """The delivery ids the push provider (the file outbox, one JSON line a message) got."""
    if not outbox.is_file():
        return []
    return [json.loads(line)["id"] for line in outbox.read_text(encoding="utf-8").splitlines()]


def statuses(channel: str) -> Counter:
    return Counter(Delivery.objects.filter(channel=channel).values_list("status", flat=True))


def deliveries_of(channel: str) -> list[int]:
    """The users of a channel's deliveries, one entry a delivery."""
    return sorted(
        Delivery.objects.filter(channel=channel).values_list("notification__user_id", flat=True)
    )


def is_sent(broadcast: Broadcast) -> bool:
    return Broadcast.objects.filter(pk=broadcast.pk, status=B.SENT).exists()


def without_app(people: Population, broadcast: Broadcast) -> list[int]:
    """Who is texted: for an emergency with SMS, everyone without the app."""
    if not broadcast.send_sms:
        return []
    return sorted(set(people.audience) - set(people.with_app))


def all_sent(people: Population, broadcast: Broadcast) -> bool:
    pushes = Counter([S.SENT] * len(people.with_app))
    texts = Counter([S.SENT] * len(without_app(people, broadcast)))
    return statuses(Channel.PUSH) == pushes and statuses(Channel.SMS) == texts


def database_sessions(*, waiting_to_insert_inbox_rows: bool = False) -> int:
    """Other sessions on the test database; or only those whose INSERT of inbox rows waits for a
    lock (another transaction's uncommitted row with the same user and key)."""
    sql = (
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    params: list[str] = []
    if waiting_to_insert_inbox_rows:
        sql += " AND wait_event_type = 'Lock' AND query LIKE %s"
        # The chunk's statement (on PostgreSQL one statement writes the inbox rows and pushes).
        params.append("%INSERT INTO notifications_notification %")
    with connection.cursor() as cursor:
        # Within a transaction PostgreSQL answers from a snapshot of the activity taken at the
        # first look; this asks again.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def assert_everyone_reached_once(
    broadcast: Broadcast, people: Population, push_outbox: Path, sms_outbox: list[dict]
) -> None:
    """The broadcast's end state: one inbox message per person, one push per person with the app,
    one SMS per person without it, each handed to its provider exactly once; nothing for anyone
    else."""
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.recipients, broadcast.inbox_written) == (
        B.SENT,
        CITIZENS,
        CITIZENS,
    )
    # Each lane ended at the last person of its share (user id modulo the lanes).
    lanes = broadcast.fanout_lanes
    assert list(
        BroadcastLane.objects.filter(broadcast=broadcast, done_at__isnull=False)
        .order_by("lane")
        .values_list("lane", "cursor")
    ) == [(n, max(pk for pk in people.audience if pk % lanes == n)) for n in range(lanes)]

    inbox = list(Notification.objects.values_list("user_id", "broadcast_id", "key", "category"))
    assert sorted(user_id for user_id, *_ in inbox) == people.audience
    category = (
        Category.EMERGENCY if broadcast.kind == BroadcastKind.EMERGENCY else Category.BROADCAST
    )
    assert {tuple(rest) for _, *rest in inbox} == {
        (broadcast.pk, f"broadcast:{broadcast.pk}", category)
    }

    assert deliveries_of(Channel.PUSH) == people.with_app
    assert deliveries_of(Channel.SMS) == without_app(people, broadcast)
    assert Delivery.objects.exclude(channel__in=[Channel.PUSH, Channel.SMS]).count() == 0
    assert set(Delivery.objects.values_list("status", "attempts", "error")) == {(S.SENT, 1, "")}
    assert not Notification.objects.filter(user_id__in=people.outsiders).exists()

    push_ids = sorted(
        str(pk) for pk in Delivery.objects.filter(channel=Channel.PUSH).values_list("pk", flat=True)
    )
    assert sorted(pushed(push_outbox)) == push_ids
    texts = sorted(
        (str(pk), phone)
        for pk, phone in Delivery.objects.filter(channel=Channel.SMS).values_list(
            "pk", "notification__user__phone"
        )
    )
    assert sorted((m["id"], m["to"]) for m in sms_outbox) == texts


# --- 1. the worker is killed in the middle of a chunk ------------------------------------------


def test_a_worker_killed_in_the_middle_of_a_fan_out_resumes_without_duplicates_or_gaps(
    redis_server, start_worker, tmp_path, ward, other_ward, settings
):
    settings.BROADCAST_FANOUT_STALE_SECONDS = STALE_SECONDS
    # One lane: the held row stops the whole fan-out at its 25th chunk.
    settings.BROADCAST_FANOUT_LANES = 1
    people = population(ward, other_ward)
    official = broadcaster(ward)
    push_outbox = tmp_path / "push-outbox.jsonl"

    with celery_broker_at(redis_server.url):
        # Published, and waiting in the broker: no worker runs yet.
        broadcast = flood_warning(official, ward)
        with transaction.atomic():
            # The inbox row of one recipient of the 25th chunk, uncommitted: the chunk's INSERT
            # (ON CONFLICT on user and key) waits for this transaction, its other rows written,
            # under its lane's row lock. The worker is killed right there.
            Notification.objects.create(
                user_id=people.audience[HELD_RECIPIENT],
                category=Category.EMERGENCY,
                key=f"broadcast:{broadcast.pk}",
                title="held by the test",
                body="held by the test",
            )
            worker = start_worker(redis_server.url, **worker_env(push_outbox))
            wait_until(
                lambda: database_sessions(waiting_to_insert_inbox_rows=True) == 1,
                "the fan-out to wait for the held inbox row",
                timeout=FAN_OUT_SECONDS,
            )
            worker.kill()
            transaction.set_rollback(True)
        # Its backend notices the dead client once the INSERT no longer waits, and rolls back.
        wait_until(lambda: database_sessions() == 0, "the killed worker's session to end")

        # Partial, and consistent: the 24 committed chunks, nothing of the 25th.
        broadcast.refresh_from_db()
        assert (broadcast.status, broadcast.recipients, broadcast.inbox_written) == (
            B.SENDING,
            COMMITTED,
            COMMITTED,
        )
        lane = BroadcastLane.objects.get(broadcast=broadcast)
        assert (lane.cursor, lane.done_at) == (people.audience[COMMITTED - 1], None)
        assert (
            sorted(Notification.objects.values_list("user_id", flat=True))
            == people.audience[:COMMITTED]
        )
        with_app = set(people.with_app)
        assert deliveries_of(Channel.PUSH) == [
            pk for pk in people.audience[:COMMITTED] if pk in with_app
        ]
        assert deliveries_of(Channel.SMS) == [
            pk for pk in people.audience[:COMMITTED] if pk not in with_app
        ]

        worker = start_worker.restart(worker)
        wait_until(
            lambda: timezone.now() > lane.updated_at + timedelta(seconds=STALE_SECONDS),
            "the fan-out to be stale",
            timeout=STALE_SECONDS + 5,
        )
        # The fan-out's message died with the worker (unacknowledged, it comes back only after
        # the broker's visibility timeout, an hour): nothing moved.
        assert Broadcast.objects.filter(pk=broadcast.pk).values_list("status").get() == (B.SENDING,)
        assert BroadcastLane.objects.values_list("cursor", "updated_at").get() == (
            people.audience[COMMITTED - 1],
            lane.updated_at,
        )
        assert broadcasts_start_due() == [broadcast.pk]
        wait_until(lambda: is_sent(broadcast), "the broadcast to be sent", timeout=FAN_OUT_SECONDS)
        wait_until(
            lambda: all_sent(people, broadcast),
            "every delivery to be sent",
            timeout=FAN_OUT_SECONDS,
        )
        worker.wait_idle()

    assert_everyone_reached_once(broadcast, people, push_outbox, worker.sent_sms())


# --- 2. two workers fan out the same broadcast at once -----------------------------------------


def test_two_workers_fanning_out_the_same_broadcast_at_once_write_nothing_twice(
    redis_server, start_worker, tmp_path, ward, other_ward
):
    people = population(ward, other_ward)
    official = broadcaster(ward)
    push_outbox = tmp_path / "push-outbox.jsonl"
    workers = [start_worker(redis_server.url, **worker_env(push_outbox)) for _ in range(2)]

    with celery_broker_at(redis_server.url):
        broadcast = vaccination_notice(official, ward)
        # Its two lanes side by side, and each published a second time (a sweeper that thought
        # it lost): the workers take turns at each lane's row lock, chunk by chunk.
        assert broadcast.fanout_lanes == 2
        for lane in range(2):
            fan_out_broadcast.apply_async(args=[broadcast.pk, lane])
        wait_until(lambda: is_sent(broadcast), "the broadcast to be sent", timeout=FAN_OUT_SECONDS)
        wait_until(
            lambda: all_sent(people, broadcast),
            "every delivery to be sent",
            timeout=FAN_OUT_SECONDS,
        )
        for worker in workers:
            worker.wait_idle()

    for worker in workers:
        assert "notifications.fan_out_broadcast[" in worker.log_text(), worker.nodename
    assert workers[0].sent_sms() == []
    assert_everyone_reached_once(broadcast, people, push_outbox, [])
