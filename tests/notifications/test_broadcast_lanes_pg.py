"""A broadcast's fan-out lanes side by side on PostgreSQL: each lane's chunk in its own
transaction, as two workers run them. SQLite serialises every writer, so PostgreSQL only (and
required in CI: marker ``postgresql``)."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from django.db import connection, connections, transaction

from notifications.actions.broadcasts import broadcast_create, broadcast_fan_out
from notifications.models import Broadcast, Delivery
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises every transaction)")


def waiting_for_an_advisory_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'"
        )
        return cursor.fetchone()[0]


def test_two_lanes_writing_at_once_spend_the_sms_budget_once(broadcaster, ward, settings):
    settings.NOTIFICATION_SMS_DAILY_BUDGET = 3
    people = [UserFactory(ward=ward) for _ in range(8)]  # no device: each is owed an SMS
    assert Counter(p.pk % 2 for p in people) == {0: 4, 1: 4}
    broadcast = broadcast_create(
        official=broadcaster,
        title="Lũ quét",
        body="Di chuyển lên chỗ cao ngay.",
        kind="emergency",
        ward_codes=[ward.code],
        send_sms=True,
    )
    assert broadcast.fanout_lanes == 2
    written, release, errors = threading.Event(), threading.Event(), []

    def lane_zero_held_open() -> None:
        # Lane 0 writes its chunk (3 SMS within the budget, 1 over) and does not commit yet.
        try:
            with transaction.atomic():
                broadcast_fan_out(broadcast_id=broadcast.pk, lane=0, max_chunks=1)
                written.set()
                assert release.wait(20)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def lane_one() -> None:
        try:
            broadcast_fan_out(broadcast_id=broadcast.pk, lane=1, max_chunks=1)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    first = threading.Thread(target=lane_zero_held_open)
    first.start()
    assert written.wait(20)
    second = threading.Thread(target=lane_one)
    second.start()
    # Lane 1 waits for lane 0's share of the budget to be committed before counting it.
    deadline = time.monotonic() + 10
    while waiting_for_an_advisory_lock() != 1:
        assert time.monotonic() < deadline, "lane 1 did not wait for the SMS budget"
        time.sleep(0.05)
    assert Delivery.objects.count() == 0  # nothing of lane 0 committed yet
    release.set()
    first.join(20)
    second.join(20)
    assert not first.is_alive() and not second.is_alive()
    assert errors == []

    sms = Counter(
        (user_id % 2, status)
        for user_id, status in Delivery.objects.filter(channel="sms").values_list(
            "notification__user_id", "status"
        )
    )
    assert sms == {(0, "created"): 3, (0, "technical-failure"): 1, (1, "technical-failure"): 4}
    assert Broadcast.objects.values_list("recipients", "inbox_written").get() == (8, 8)
