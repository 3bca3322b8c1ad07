"""End to end through a real Celery worker on Redis and PostgreSQL: the OTP SMS goes out, and no
work is lost when the broker is down, a task runs twice, or the process running it dies."""

from __future__ import annotations

import os
import re
import signal
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts.actions.otp import UNDISPATCHED_AFTER, otp_sweep_undispatched
from accounts.models import OtpChallenge, User
from notifications.actions import (
    STALE_SENDING_AFTER,
    sms_queue,
    sms_sweep_stuck,
)
from notifications.models import DeliveryStatus, SmsMessage
from notifications.tasks import send_sms
from tests.conftest import celery_broker_at, unused_port
from tests.factories import PASSWORD
from tests.integration.conftest import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PHONE = "+84912345678"
OTP_IN_SMS = re.compile(r"\b(\d{6})\b")


def request_otp(client, phone: str = "0912 345 678"):
    return client.post(
        "/api/v1/auth/otp/",
        {"phone": phone, "purpose": "register"},
        content_type="application/json",
    )


def register(client, code: str):
    return client.post(
        "/api/v1/auth/register/",
        {"phone": PHONE, "otp": code, "password": PASSWORD, "full_name": "Nguyễn Văn An"},
        content_type="application/json",
    )


def status_of(message: SmsMessage) -> str:
    return SmsMessage.objects.values_list("status", flat=True).get(pk=message.pk)


def wait_until_sent(message: SmsMessage) -> SmsMessage:
    wait_until(lambda: status_of(message) == DeliveryStatus.SENT, f"SMS {message.pk} to be sent")
    message.refresh_from_db()
    return message


def queue_without_publishing(**fields) -> SmsMessage:
    """A saved SMS whose send task never reached the broker (the broker was down)."""
    with celery_broker_at(f"redis://127.0.0.1:{unused_port()}/0"):
        return sms_queue(**fields)


def test_otp_sms_goes_out_through_the_worker_and_the_code_registers(celery_worker, client):
    response = request_otp(client)

    assert response.status_code == 202, response.content
    [sms] = celery_worker.wait_for_sms(1)
    message = wait_until_sent(SmsMessage.objects.get())
    assert sms["id"] == str(message.pk)
    assert sms["to"] == PHONE
    code = OTP_IN_SMS.search(sms["body"]).group(1)
    assert (message.phone, message.purpose, message.provider, message.attempts) == (
        PHONE,
        "otp:register",
        "file",
        1,
    )
    assert message.body == ""  # the code left; it is not kept
    assert message.sent_at is not None

    response = register(client, code)

    assert response.status_code == 201, response.content
    assert set(response.json()) == {"access", "refresh"}
    assert User.objects.filter(phone=PHONE).count() == 1
    assert celery_worker.sent_sms() == [sms]


def test_otp_request_outlives_a_dead_broker_and_the_sweeper_sends_it(celery_worker, client, caplog):
    with celery_broker_at(f"redis://127.0.0.1:{unused_port()}/0"):
        started = time.monotonic()
        response = request_otp(client)
        elapsed = time.monotonic() - started

    assert response.status_code == 202, response.content
    assert elapsed < 3
    challenge = OtpChallenge.objects.get()
    assert challenge.dispatched_at is None
    assert SmsMessage.objects.count() == 0
    assert [r.getMessage() for r in caplog.records if r.name == "config.celery"] == [
        "could not publish accounts.deliver_otp; the sweeper will retry"
    ]
    assert celery_worker.sent_sms() == []
    # Too young to be called lost: it may still be on its way.
    assert otp_sweep_undispatched() == []

    OtpChallenge.objects.filter(pk=challenge.pk).update(
        created_at=timezone.now() - UNDISPATCHED_AFTER - timedelta(seconds=1)
    )
    assert otp_sweep_undispatched() == [str(challenge.pk)]

    [sms] = celery_worker.wait_for_sms(1)
    message = wait_until_sent(SmsMessage.objects.get())
    assert sms["id"] == str(message.pk)
    assert message.attempts == 1
    challenge.refresh_from_db()
    assert (challenge.dispatched_at is not None, challenge.code_sealed) == (True, "")
    response = register(client, OTP_IN_SMS.search(sms["body"]).group(1))
    assert response.status_code == 201, response.content


def test_a_send_task_delivered_twice_sends_one_sms(celery_worker):
    message = queue_without_publishing(phone=PHONE, body="Lần một", purpose="test")

    send_sms.apply_async(args=[str(message.pk)])
    send_sms.apply_async(args=[str(message.pk)])
    # One worker process takes the sms queue in order: once this one is sent, both copies above
    # have run.
    barrier = sms_queue(phone="+84987654321", body="Rào chắn", purpose="test")
    wait_until_sent(barrier)

    message = wait_until_sent(message)
    assert message.attempts == 1
    assert [(sms["id"], sms["body"]) for sms in celery_worker.sent_sms()] == [
        (str(message.pk), "Lần một"),
        (str(barrier.pk), "Rào chắn"),
    ]


def _sessions_waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        # pg_stat_activity is read once per transaction unless the snapshot is cleared.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE NOT l.granted AND a.datname = current_database()"
        )
        return cursor.fetchone()[0]


def test_a_task_whose_process_dies_is_redelivered_and_sends_once(celery_worker):
    message = queue_without_publishing(phone=PHONE, body="Sống sót", purpose="test")
    [pool_process] = celery_worker.pool_processes()

    with transaction.atomic():
        # Hold the row: the task blocks on it in the middle of its claim, before any text left.
        SmsMessage.objects.select_for_update().get(pk=message.pk)
        send_sms.apply_async(args=[str(message.pk)])
        wait_until(_sessions_waiting_for_a_lock, "the task to wait for the row")

        os.kill(pool_process, signal.SIGKILL)
        replacement = wait_until(
            lambda: [p for p in celery_worker.pool_processes() if p != pool_process],
            "the worker to replace its dead pool process",
        )
        assert status_of(message) == DeliveryStatus.CREATED

    message = wait_until_sent(message)
    barrier = sms_queue(phone="+84987654321", body="Rào chắn", purpose="test")
    wait_until_sent(barrier)
    assert message.attempts == 1
    assert [(sms["id"], sms["body"]) for sms in celery_worker.sent_sms()] == [
        (str(message.pk), "Sống sót"),
        (str(barrier.pk), "Rào chắn"),
    ]
    assert celery_worker.pool_processes() == replacement
    assert "WorkerLostError" in celery_worker.log_text()


def test_a_task_that_dies_while_the_gateway_answers_is_not_sent_twice(celery_worker):
    """Once a worker has handed a text to the gateway, nobody knows whether it left: the row
    stays "sending", the redelivered task leaves it alone (at most one text), and the sweeper
    records a technical failure when it is clearly abandoned."""
    message = queue_without_publishing(
        phone=PHONE, body="Mã 123456", purpose="test", sensitive=True
    )
    [pool_process] = celery_worker.pool_processes()
    # A gateway that never answers: opening a FIFO for writing blocks until someone reads it.
    os.mkfifo(celery_worker.outbox)

    send_sms.apply_async(args=[str(message.pk)])
    wait_until(lambda: status_of(message) == DeliveryStatus.SENDING, "the task to claim the row")
    os.kill(pool_process, signal.SIGKILL)
    wait_until(
        lambda: [p for p in celery_worker.pool_processes() if p != pool_process],
        "the worker to replace its dead pool process",
    )
    celery_worker.outbox.unlink()  # the gateway is back

    barrier = sms_queue(phone="+84987654321", body="Rào chắn", purpose="test")
    wait_until_sent(barrier)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.body) == (
        DeliveryStatus.SENDING,
        1,
        "Mã 123456",
    )
    assert [sms["id"] for sms in celery_worker.sent_sms()] == [str(barrier.pk)]

    SmsMessage.objects.filter(pk=message.pk).update(
        updated_at=timezone.now() - STALE_SENDING_AFTER - timedelta(seconds=1)
    )
    assert sms_sweep_stuck() == []

    message.refresh_from_db()
    assert (message.status, message.error, message.body) == (
        DeliveryStatus.TECHNICAL_FAILURE,
        "no answer from the worker",
        "",
    )
    assert [sms["id"] for sms in celery_worker.sent_sms()] == [str(barrier.pk)]
