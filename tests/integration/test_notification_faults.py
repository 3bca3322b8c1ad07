"""Notification deliveries through a real worker when the outside world fails: the broker stops
while notifications are written, the worker is killed in the middle of a batch, the SMS gateway
fails for a while or refuses for good. Each test runs its own redis-server and its own worker
against it, and counts what the provider (a push outbox file, a fake SMS gateway on a local
port) really got: every delivery exactly once, nothing missing, nothing twice.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from notifications.actions import Message, notify_many
from notifications.actions import deliveries as deliveries_module
from notifications.actions.deliveries import deliveries_sweep, retry_delay
from notifications.models import Channel, Delivery, DeliveryStatus, Notification
from services.actions import dossier_submit
from services.dossier_notices import APPROVED
from services.models import Procedure
from tests.conftest import celery_broker_at, client_for
from tests.factories import DeviceFactory, UserFactory
from tests.integration.conftest import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

S = DeliveryStatus
MARRIAGE = "1.004873"  # a commune-level procedure of the demo catalog; its form is {"purpose"}
OUTAGE_NOTIFICATIONS = 500
# The worker's and this process's NOTIFICATION_SENDING_TIMEOUT: "sending" this long, the row
# belongs to a dead worker and the sweeper sends it again.
SENDING_TIMEOUT = 5
# What the fake gateway answers and the worker is configured to read (SMS_HTTP_* settings).
SUCCESS_CODE = "00"
TEMPORARY_CODE = "99"
UNKNOWN_CODE = "13"  # neither success nor temporary: a permanent refusal


@pytest.fixture(autouse=True)
def _broker_not_backed_off(monkeypatch):
    # publish_on_commit stops trying the broker for 5 s after a failure; an earlier test's
    # outage must not silence this test's publishes (restored afterwards by monkeypatch).
    monkeypatch.setattr(deliveries_module, "_broker_down_until", 0.0)


# --- the fake SMS gateway -----------------------------------------------------------------------


@dataclass(frozen=True)
class GatewayCall:
    number: int  # the gateway's request counter, from 1
    reference: str
    phone: str
    text: str
    http_status: int
    code: str
    message_id: str
    # Sent to the phone: answered with the success code to a client still waiting for it.
    accepted: bool


def _client_gone(connection: socket.socket) -> bool:
    """The client closed its end (or died: the kernel closed it): the socket reads as at its
    end, while a client still waiting for the answer sends nothing."""
    readable, _, _ = select.select([connection], [], [], 0)
    if not readable:
        return False
    try:
        return connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:  # reset by the peer
        return True


class FakeSmsGateway:
    """A brandname-SMS gateway over HTTP on a local port, standing in for the outside world. It
    answers ``{"result": {"code": ..., "id": ...}}``; ``script`` sets the next answers for a
    phone number as the gateway gets it (HTTP status, result code), used once each, then
    success. The request numbered
    ``hold`` waits until ``release()``: a message counts as accepted only if its client is still
    connected when the gateway answers it."""

    def __init__(self) -> None:
        self.calls: list[GatewayCall] = []
        self.script: dict[str, list[tuple[int, str]]] = {}
        self.hold: int | None = None
        self.holding = threading.Event()
        self.released = threading.Event()
        self.held_answered = threading.Event()
        self._count = 0
        self._lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as requests.Session uses it

            def do_POST(self) -> None:
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.answer(self, payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/sms/send"

    def answer(self, handler: BaseHTTPRequestHandler, payload: dict) -> None:
        reference = payload["reference"]
        with self._lock:
            self._count += 1
            number = self._count
            scripted = self.script.get(payload["to"])
            http_status, code = scripted.pop(0) if scripted else (200, SUCCESS_CODE)
        held = number == self.hold
        if held:
            self.holding.set()
            self.released.wait(timeout=60)
        gone = _client_gone(handler.connection)
        message_id = f"gw-{number}"
        call = GatewayCall(
            number,
            reference,
            payload["to"],
            payload["text"],
            http_status,
            code,
            message_id,
            accepted=not gone and http_status == 200 and code == SUCCESS_CODE,
        )
        with self._lock:
            self.calls.append(call)
        if held:
            self.held_answered.set()
        if gone:
            handler.close_connection = True
            return
        body = json.dumps({"result": {"code": code, "id": message_id}}).encode()
        handler.send_response(http_status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def release(self) -> None:
        self.released.set()

    def calls_for(self, reference: str) -> list[GatewayCall]:
        with self._lock:
            return [c for c in self.calls if c.reference == reference]

    def accepted(self) -> list[str]:
        with self._lock:
            return [c.reference for c in self.calls if c.accepted]

    def worker_env(self) -> dict[str, str]:
        """The worker's settings for this gateway (SMS_HTTP_*, see config/settings.py)."""
        return {
            "TEST_SMS_PROVIDER": "http",
            "SMS_HTTP_URL": self.url,
            "SMS_HTTP_RESULT_FIELD": "result.code",
            "SMS_HTTP_SUCCESS_CODES": SUCCESS_CODE,
            "SMS_HTTP_TEMPORARY_CODES": TEMPORARY_CODE,
            "SMS_HTTP_MESSAGE_ID_FIELD": "result.id",
            "SMS_HTTP_PHONE_FORMAT": "national",
            "NOTIFICATION_SENDING_TIMEOUT": str(SENDING_TIMEOUT),
        }


@pytest.fixture
def sms_gateway() -> Iterator[FakeSmsGateway]:
    gateway = FakeSmsGateway()
    gateway.thread.start()
    try:
        yield gateway
    finally:
        gateway.release()  # a request still held ends
        gateway.server.shutdown()
        gateway.server.server_close()


# --- helpers ------------------------------------------------------------------------------------


def statuses(channel: str) -> Counter:
    return Counter(Delivery.objects.filter(channel=channel).values_list("status", flat=True))


def all_sent(channel: str, count: int) -> bool:
    return statuses(channel) == Counter({S.SENT: count})


def pushed(outbox: Path) -> list[str]:
    """The delivery ids the push provider (the file outbox, one JSON line a message) got."""
    if not outbox.is_file():
        return []
    return [json.loads(line)["id"] for line in outbox.read_text(encoding="utf-8").splitlines()]


def citizens_without_app(count: int) -> list[User]:
    return [UserFactory(phone=f"+8497{n:07d}") for n in range(count)]


def sms_notifications(users: list[User]) -> list[Delivery]:
    """Citizens without a phone app (no device) told that their dossier's result is ready: the
    SMS is their message (the "dossier.approved" event's fallback). The deliver task is
    published after commit. Returns the SMS deliveries, in the users' order."""
    with transaction.atomic():
        notify_many(
            event=APPROVED.name,
            messages=[
                Message(
                    [user],
                    key=f"dossier:H20.6040-260302-{n:04d}:approved",
                    context={"code": f"H20.6040-260302-{n:04d}"},
                    data={"dossier": f"H20.6040-260302-{n:04d}"},
                )
                for n, user in enumerate(users, 1)
            ],
        )
    rows = {
        row.notification.user_id: row
        for row in Delivery.objects.filter(channel=Channel.SMS).select_related("notification__user")
    }
    assert len(rows) == len(users)
    assert Delivery.objects.exclude(channel=Channel.SMS).count() == 0
    return [rows[user.pk] for user in users]


def national(user: User) -> str:
    return "0" + user.phone.removeprefix("+84")


# --- 1. the broker stops while notifications are written --------------------------------------


def test_notifications_written_while_the_broker_is_down_are_all_pushed_once_it_is_back(
    redis_server, start_worker, tmp_path, ward, official, citizen
):
    call_command("load_demo_procedures", stdout=StringIO())
    DeviceFactory(user=citizen, token="fcm-token-of-the-citizen")
    procedure = Procedure.objects.get(code=MARRIAGE)
    codes = [
        dossier_submit(
            applicant=citizen, procedure=procedure, form_data={"purpose": "x"}, unit=ward
        )[0].code
        for _ in range(OUTAGE_NOTIFICATIONS)
    ]
    outbox = tmp_path / "push-outbox.jsonl"
    worker = start_worker(redis_server.url, TEST_PUSH_PROVIDER="file", PUSH_FILE_PATH=str(outbox))
    desk, app_user = client_for(official), client_for(citizen)

    redis_server.stop()
    slowest = 0.0
    with celery_broker_at(redis_server.url):
        for n, code in enumerate(codes, 1):
            started = time.monotonic()
            response = desk.post(f"/api/v1/official/dossiers/{code}/receive/", format="json")
            slowest = max(slowest, time.monotonic() - started)
            assert response.status_code == 200, response.content
            assert response.json()["status"] == 4
            if n % 100 == 1 or n == OUTAGE_NOTIFICATIONS:
                response = app_user.get("/api/v1/notifications/unread-count/")
                assert response.status_code == 200, response.content
                assert response.json() == {"unread": min(n, 99), "more": n > 99}

    assert slowest < 3, f"a request waited {slowest:.1f} s for the dead broker"
    assert (
        Notification.objects.filter(user=citizen, event="dossier.received").count()
        == OUTAGE_NOTIFICATIONS
    )
    assert statuses(Channel.PUSH) == Counter({S.CREATED: OUTAGE_NOTIFICATIONS})
    assert Delivery.objects.count() == OUTAGE_NOTIFICATIONS
    assert pushed(outbox) == []

    redis_server.start()  # empty: whatever it held is gone
    with celery_broker_at(redis_server.url):
        # Whether or not the outage outlasted REQUEUE_AFTER, the 500 due rows make one task, and
        # each deliver task publishes the next while it claims full batches.
        assert deliveries_sweep() == {Channel.PUSH: 1}
        wait_until(
            lambda: all_sent(Channel.PUSH, OUTAGE_NOTIFICATIONS),
            "every push delivery to be sent",
            timeout=60,
        )
        worker.wait_idle()

    ids = sorted(str(pk) for pk in Delivery.objects.values_list("pk", flat=True))
    assert sorted(pushed(outbox)) == ids
    assert set(Delivery.objects.values_list("attempts", "provider", "error")) == {(1, "file", "")}


# --- 2. the worker is killed in the middle of a batch -------------------------------------------

SMS_NOTIFICATIONS = 45  # three claims of 20, 20 and 5
HELD_REQUEST = 3


def test_a_worker_killed_in_the_middle_of_a_batch_leaves_every_sms_sent_exactly_once(
    redis_server, start_worker, sms_gateway, settings
):
    settings.NOTIFICATION_SENDING_TIMEOUT = SENDING_TIMEOUT
    sms_gateway.hold = HELD_REQUEST
    worker = start_worker(redis_server.url, **sms_gateway.worker_env())

    with celery_broker_at(redis_server.url):
        rows = sms_notifications(citizens_without_app(SMS_NOTIFICATIONS))
        assert sms_gateway.holding.wait(timeout=30), "the worker never sent the held request"
        claimed_at = timezone.now()
        worker.kill()
        sms_gateway.release()
        assert sms_gateway.held_answered.wait(timeout=10)

        # A batch of 20 was claimed: two texts left and are recorded; the third's client died
        # before the gateway answered, so it did not leave; 17 were never tried.
        assert [c.accepted for c in sms_gateway.calls] == [True, True, False]
        assert statuses(Channel.SMS) == Counter({S.SENT: 2, S.SENDING: 18, S.CREATED: 25})

        worker = start_worker.restart(worker)
        wait_until(
            lambda: timezone.now() > claimed_at + timedelta(seconds=SENDING_TIMEOUT),
            "the claim to be older than the sending timeout",
            timeout=SENDING_TIMEOUT + 5,
        )
        # The 18 rows of the dead worker are due again; one task starts the chain.
        assert deliveries_sweep() == {Channel.SMS: 1}
        wait_until(
            lambda: all_sent(Channel.SMS, SMS_NOTIFICATIONS), "every SMS to be sent", timeout=60
        )
        worker.wait_idle()

    ids = sorted(str(r.pk) for r in rows)
    accepted = sms_gateway.accepted()
    assert [ref for ref, n in Counter(accepted).items() if n > 1] == []
    assert sorted(accepted) == ids
    by_reference = {c.reference: c for c in sms_gateway.calls if c.accepted}
    for row in rows:
        call = by_reference[str(row.pk)]
        assert (call.phone, call.text) == (national(row.notification.user), row.body)
    assert {
        (str(pk), message_id)
        for pk, message_id in Delivery.objects.values_list("pk", "provider_message_id")
    } == {(ref, call.message_id) for ref, call in by_reference.items()}
    # The 18 left "sending" were claimed twice; the two that left and the 25 others once.
    assert Counter(Delivery.objects.values_list("attempts", flat=True)) == Counter({1: 27, 2: 18})


# --- 3. and 4. the gateway fails for a while, or refuses for good -------------------------------


def test_a_temporary_gateway_error_is_retried_after_its_backoff_and_sent_once(
    redis_server, start_worker, sms_gateway
):
    worker = start_worker(redis_server.url, **sms_gateway.worker_env())
    unavailable, busy = citizens_without_app(2)
    # HTTP 503 for one, the gateway's own "try again" code for the other; then success.
    sms_gateway.script[national(unavailable)] = [(503, "")]
    sms_gateway.script[national(busy)] = [(200, TEMPORARY_CODE)]

    with celery_broker_at(redis_server.url):
        started = time.monotonic()
        rows = sms_notifications([unavailable, busy])
        wait_until(lambda: all_sent(Channel.SMS, 2), "both SMS to be sent", timeout=30)
        waited = time.monotonic() - started
        worker.wait_idle()

    assert waited >= retry_delay(1)
    for row, first in zip(rows, [(503, ""), (200, TEMPORARY_CODE)], strict=True):
        calls = sms_gateway.calls_for(str(row.pk))
        assert [(c.http_status, c.code, c.accepted) for c in calls] == [
            (*first, False),
            (200, SUCCESS_CODE, True),
        ]
        row.refresh_from_db()
        assert (row.status, row.attempts, row.error, row.provider_message_id) == (
            S.SENT,
            2,
            "",
            calls[1].message_id,
        )
    assert len(sms_gateway.calls) == 4


def test_a_permanent_gateway_error_is_never_sent_again(
    redis_server, start_worker, sms_gateway, settings
):
    settings.NOTIFICATION_SENDING_TIMEOUT = SENDING_TIMEOUT
    worker = start_worker(redis_server.url, **sms_gateway.worker_env())
    refused, unknown_code = citizens_without_app(2)
    # HTTP 400 for one, a result code the gateway documents as neither success nor "try again"
    # for the other.
    sms_gateway.script[national(refused)] = [(400, "")]
    sms_gateway.script[national(unknown_code)] = [(200, UNKNOWN_CODE)]

    with celery_broker_at(redis_server.url):
        rows = sms_notifications([refused, unknown_code])
        wait_until(lambda: len(sms_gateway.calls) == 2, "the gateway to answer both")
        wait_until(
            lambda: statuses(Channel.SMS) == Counter({S.PERMANENT_FAILURE: 2}),
            "both to be recorded as permanent failures",
        )
        # Past the retry delay, and past the sending timeout: nothing is due, nothing stuck.
        time.sleep(max(retry_delay(1), SENDING_TIMEOUT) + 1)
        assert deliveries_sweep() == {}
        worker.wait_idle()

    expected = [
        ((400, "", False), "gateway HTTP 400"),
        ((200, UNKNOWN_CODE, False), f"gateway code {UNKNOWN_CODE}"),
    ]
    for row, (answer, error) in zip(rows, expected, strict=True):
        calls = sms_gateway.calls_for(str(row.pk))
        assert [(c.http_status, c.code, c.accepted) for c in calls] == [answer]
        row.refresh_from_db()
        assert (row.status, row.attempts, row.error, row.sent_at) == (
            S.PERMANENT_FAILURE,
            1,
            error,
            None,
        )
    assert len(sms_gateway.calls) == 2
