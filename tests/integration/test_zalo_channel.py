"""The assistant in a Zalo Official Account through a real Celery worker (Redis, PostgreSQL), with
a fake Zalo on a local port: a question that came while the broker was down is answered once the
sweeper runs, and a message whose task is delivered twice is sent to Zalo once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from assistant.channel_flow import channel_messages_sweep
from assistant.models import ChannelMessage, ChannelToken, Turn
from assistant.tasks import answer_channel_message, sweep_channel_messages
from tests.assistant.fake_zalo import (
    APP_ID,
    APP_SECRET,
    MESSAGE_PATH,
    OA_SECRET_KEY,
    SENDER,
    FakeZalo,
    body_of,
    event,
    serve_fake_zalo,
    zalo_signature,
)
from tests.conftest import celery_broker_at
from tests.integration.conftest import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def zalo() -> Iterator[FakeZalo]:
    yield from serve_fake_zalo()


def zalo_env(zalo: FakeZalo) -> dict[str, str]:
    """The Zalo settings, for this process and the workers."""
    return {
        "ZALO_APP_ID": APP_ID,
        "ZALO_APP_SECRET": APP_SECRET,
        "ZALO_OA_SECRET_KEY": OA_SECRET_KEY,
        "ZALO_API_URL": zalo.url,
        "ZALO_OAUTH_URL": zalo.url,
    }


@pytest.fixture(autouse=True)
def zalo_channel(settings, zalo) -> None:
    for name, value in zalo_env(zalo).items():
        setattr(settings, name, value)
    zalo.knows(access_token="access-live", refresh_token="refresh-live")
    ChannelToken.objects.create(
        channel="zalo",
        access_token="access-live",
        refresh_token="refresh-live",
        expires_at=timezone.now() + timedelta(hours=25),
    )
    call_command("load_demo_procedures", stdout=StringIO())


def deliver(recorded: dict):
    body = body_of(recorded)
    return Client().post(
        "/webhooks/zalo/",
        data=body,
        content_type="application/json",
        headers={"X-ZEvent-Signature": zalo_signature(body, recorded["timestamp"])},
    )


def status_of(message: ChannelMessage) -> str:
    return ChannelMessage.objects.values_list("status", flat=True).get(pk=message.pk)


def test_a_question_received_while_the_broker_is_down_is_answered_by_the_sweeper(
    redis_server, start_worker, zalo
):
    worker = start_worker(redis_server.url, **zalo_env(zalo))

    redis_server.stop()
    with celery_broker_at(redis_server.url):
        started = time.monotonic()
        response = deliver(event("user_send_text"))
        waited = time.monotonic() - started

    # Zalo gets its 200 at once; the question is saved for the sweeper.
    assert (response.status_code, response.json()) == (200, {"received": 1, "new": 1})
    assert waited < 3, f"the webhook waited {waited:.1f} s for the dead broker"
    message = ChannelMessage.objects.get()
    assert (message.status, message.attempts, message.turn_id) == ("pending", 0, None)

    redis_server.start()  # empty: the publish was never made
    with celery_broker_at(redis_server.url):
        # Within the first publish's grace the sweeper leaves it alone.
        assert channel_messages_sweep() == 0
        # A minute later, the beat's sweep runs on the worker.
        ChannelMessage.objects.filter(pk=message.pk).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)
        )
        sweep_channel_messages.delay()
        wait_until(lambda: status_of(message) == "sent", "the reply to be sent", timeout=60)
        worker.wait_idle()
        assert channel_messages_sweep() == 0

    turn = Turn.objects.get()
    assert [(d.recipient, d.text) for d in zalo.delivered] == [(SENDER, turn.answer)]
    assert len(zalo.of(MESSAGE_PATH)) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.turn) == ("sent", 1, turn)


def test_a_message_whose_task_is_delivered_twice_is_sent_once(redis_server, start_worker, zalo):
    workers = [start_worker(redis_server.url, **zalo_env(zalo)) for _ in range(2)]
    zalo.hold = True  # the first reply waits at Zalo until released

    with celery_broker_at(redis_server.url):
        response = deliver(event("user_send_text"))  # publishes the task after commit
        assert (response.status_code, response.json()) == (200, {"received": 1, "new": 1})
        message = ChannelMessage.objects.get()
        # The same task again (the sweeper's copy, a redelivery), while the first is sending.
        answer_channel_message.delay(message.pk)

        assert zalo.holding.wait(timeout=60), "no worker sent the reply"
        wait_until(
            lambda: any("'skipped'" in w.log_text() for w in workers),
            "the second task to leave the message alone",
            timeout=60,
        )
        zalo.release()
        wait_until(lambda: status_of(message) == "sent", "the reply to be recorded as sent")
        for worker in workers:
            worker.wait_idle()

    assert len(zalo.of(MESSAGE_PATH)) == 1
    assert [(d.recipient, d.text) for d in zalo.delivered] == [(SENDER, Turn.objects.get().answer)]
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)
    logs = "".join(w.log_text() for w in workers)
    assert logs.count("'sent'") == 1 and logs.count("'skipped'") == 1
