"""The assistant inside a Zalo Official Account: the webhook (Zalo's signature, the events it
sends, each message saved once and masked), the answer sent back through Zalo's open API (the
access token renewed from the refresh token, Zalo's refusals, retries with back-off, the lease),
the sweeper, the admin, and the logs. Zalo is a fake server on a local port (fake_zalo.py); the
events are recorded ones (zalo_events.json), signed here as Zalo signs them."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone, translation
from rest_framework.test import APIClient

from assistant.channel_flow import (
    CHANNEL_MAX_ATTEMPTS,
    FIRST_GRACE,
    LEASE,
    channel_message_answer,
    channel_messages_sweep,
)
from assistant.channels import CHANNELS, Inbound, get_channel
from assistant.channels.zalo import ZaloChannel
from assistant.models import (
    ChannelMessage,
    ChannelToken,
    Conversation,
    FaqEntry,
    Turn,
)
from assistant.search_index import search_index_rebuild
from assistant.tasks import answer_channel_message, sweep_channel_messages
from config.celery import app
from notifications.actions.deliveries import retry_delay
from services.models import Procedure, RequiredDocument
from tests.assistant.conftest import answer_of
from tests.assistant.fake_zalo import (
    APP_ID,
    APP_SECRET,
    EXPIRES_IN,
    MESSAGE_PATH,
    OA_SECRET_KEY,
    RENEWAL_REFUSED,
    SENDER,
    TOKEN_PATH,
    USER_ID_BY_APP,
    Delivered,
    FakeZalo,
    body_of,
    event,
    serve_fake_zalo,
    zalo_signature,
)
from tests.conftest import PublishedTask, unused_port
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/webhooks/zalo/"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=LOCAL)
ANSWER_TASK = "assistant.answer_channel_message"
BIRTH = "1.001193"  # Thủ tục đăng ký khai sinh (demo catalog)
BIRTH_QUESTION = "đăng ký khai sinh cần giấy tờ gì"
BIRTH_ANSWER_VI = (
    "Thủ tục đăng ký khai sinh (Hộ tịch).\n"
    "Thành phần hồ sơ:\n"
    "- Tờ khai đăng ký khai sinh theo mẫu\n"
    "- Giấy chứng sinh hoặc văn bản thay thế giấy chứng sinh\n"
    "- Căn cước/CCCD hoặc giấy tờ tùy thân của người yêu cầu (xuất trình)\n"
    "Lệ phí: Miễn lệ phí đăng ký khai sinh đúng hạn.\n"
    "Thời hạn giải quyết: 1 ngày làm việc.\n"
    "Nơi nộp: Bộ phận một cửa UBND xã, phường nơi bạn cư trú.\n"
    "Trực tuyến: Có, nộp trực tuyến toàn trình trên ứng dụng."
)
PHONE, CCCD, DOSSIER = "0912345678", "001203004567", "H20.6040-261120-0003"
PERSONAL_MASKED = f"Cho hỏi hồ sơ {DOSSIER} của tôi đến đâu rồi, sđt •••, CCCD •••"
BAD_SIGNATURE = {
    "code": "bad_signature",
    "message": "The signature does not match.",
    "fields": {},
}
MALFORMED = {"code": "malformed", "message": "Malformed event.", "fields": {}}
NOT_FOUND = {"code": "not_found", "message": "Not found.", "fields": {}}
SIGNATURE_LOG = ("assistant.webhooks", logging.WARNING, "zalo webhook: bad or missing signature")


# --- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture
def zalo() -> Iterator[FakeZalo]:
    yield from serve_fake_zalo()


@pytest.fixture(autouse=True)
def zalo_settings(settings, zalo) -> None:
    settings.ZALO_APP_ID = APP_ID
    settings.ZALO_APP_SECRET = APP_SECRET
    settings.ZALO_OA_SECRET_KEY = OA_SECRET_KEY
    settings.ZALO_API_URL = zalo.url
    settings.ZALO_OAUTH_URL = zalo.url


@dataclass
class Clock:
    now: datetime

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> Clock:
    """The outside world's clock (timezone.now), fixed at NOW until a test moves it."""
    clock = Clock(NOW)
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


@pytest.fixture
def token(zalo) -> ChannelToken:
    """The OA's tokens, entered in the admin, and the same ones Zalo takes."""
    zalo.knows(access_token="access-live", refresh_token="refresh-live")
    return ChannelToken.objects.create(
        channel="zalo",
        access_token="access-live",
        refresh_token="refresh-live",
        expires_at=NOW + timedelta(hours=25),
    )


def post(body: bytes, signature: str | None, *, path: str = URL, **extra) -> HttpResponse:
    headers = {} if signature is None else {"X-ZEvent-Signature": signature}
    return Client().post(path, data=body, content_type="application/json", headers=headers, **extra)


def deliver(recorded: dict, **extra) -> HttpResponse:
    """Zalo posts the event, signed."""
    body = body_of(recorded)
    return post(body, zalo_signature(body, recorded["timestamp"]), **extra)


@pytest.fixture
def receive(django_capture_on_commit_callbacks) -> Callable[..., ChannelMessage]:
    """Zalo delivers a user_send_text event (``message`` changes its fields; ``sender``, its
    sender); answers the saved row."""

    def receive_(sender: str = SENDER, **message: object) -> ChannelMessage:
        recorded = event("user_send_text", **message)
        recorded["sender"]["id"] = sender
        with django_capture_on_commit_callbacks(execute=True):
            response = deliver(recorded)
        assert response.status_code == 200, response.content
        assert response.json() == {"received": 1, "new": 1}
        return ChannelMessage.objects.get(external_id=recorded["message"]["msg_id"])

    return receive_


def row_of(message: ChannelMessage) -> dict:
    return ChannelMessage.objects.values(
        "status", "attempts", "last_error", "next_attempt_at", "sent_at"
    ).get(pk=message.pk)


def tokens() -> tuple:
    return ChannelToken.objects.values_list(
        "channel", "access_token", "refresh_token", "expires_at"
    ).get()


def sent_request(recipient: str, text: str, access_token: str) -> dict:
    """What a customer-service message request carries."""
    return {
        "method": "POST",
        "path": MESSAGE_PATH,
        "access_token": access_token,
        "content_type": "application/json",
        "json": {"recipient": {"user_id": recipient}, "message": {"text": text}},
    }


def renewal_request(refresh_token: str) -> dict:
    return {
        "method": "POST",
        "path": TOKEN_PATH,
        "secret_key": APP_SECRET,
        "content_type": "application/x-www-form-urlencoded",
        "form": {"refresh_token": refresh_token, "app_id": APP_ID, "grant_type": "refresh_token"},
    }


def seen(zalo: FakeZalo) -> list[dict]:
    """The requests Zalo got, with what matters of each."""
    shown = []
    for r in zalo.requests:
        common = {"method": r.method, "path": r.path, "content_type": r.headers["Content-Type"]}
        if r.path == MESSAGE_PATH:
            shown.append({**common, "access_token": r.headers.get("access_token"), "json": r.json})
        else:
            shown.append({**common, "secret_key": r.headers.get("secret_key"), "form": r.form})
    return shown


# --- the adapter --------------------------------------------------------------------------------


def test_zalo_is_the_channel_when_configured(settings):
    assert {"zalo": ZaloChannel} == CHANNELS
    assert isinstance(get_channel("zalo"), ZaloChannel)
    assert get_channel("messenger") is None

    settings.ZALO_OA_SECRET_KEY = ""
    assert get_channel("zalo") is None


def test_a_text_event_is_read_as_zalo_sent_it():
    recorded = event("user_send_text_personal")

    messages = ZaloChannel().parse(body_of(recorded))

    # The adapter reads; the flow masks what it stores.
    assert messages == [
        Inbound(
            external_id="7d41b6f0e2c95a8314bb",
            sender=SENDER,
            text=recorded["message"]["text"],
        )
    ]


# --- the webhook: Zalo's signature -------------------------------------------------------------


def test_the_signature_is_sha256_of_the_app_id_the_body_the_timestamp_and_the_oa_key(
    published_tasks,
):
    # A body and the signature Zalo's formula gives for it, computed once, by hand.
    body = (
        b'{"app_id":"1430713391526402517","event_name":"user_send_text",'
        b'"timestamp":"1795750200123","sender":{"id":"2512523625412515682"},'
        b'"recipient":{"id":"579745863508352884"},'
        b'"message":{"text":"dkks","msg_id":"kat-0001"}}'
    )
    expected = "0944e828b33e364e07f46c76c6e50a6e83bddb7dcc5a6d6a1bf2ee5afeb2bf23"
    assert (
        hashlib.sha256(
            APP_ID.encode() + body + b"1795750200123" + OA_SECRET_KEY.encode()
        ).hexdigest()
        == expected
    )

    response = post(body, f"mac={expected}")

    assert response.status_code == 200, response.content
    assert response.json() == {"received": 1, "new": 1}
    assert list(ChannelMessage.objects.values_list("external_id", "sender", "question")) == [
        ("kat-0001", SENDER, "dkks")
    ]


@pytest.mark.parametrize(
    "written",
    [
        lambda mac: mac,
        lambda mac: mac.removeprefix("mac="),
        lambda mac: "mac=" + mac.removeprefix("mac=").upper(),
        lambda mac: mac.removeprefix("mac=").upper(),
        lambda mac: f" {mac} ",
    ],
    ids=["mac-prefix", "bare-hex", "upper-case-hex", "bare-upper-case-hex", "spaces"],
)
def test_a_signed_text_event_is_saved_masked_and_its_answer_queued(
    written, published_tasks, django_capture_on_commit_callbacks, zalo
):
    recorded = event("user_send_text_personal")
    body = body_of(recorded)

    with django_capture_on_commit_callbacks(execute=True):
        response = post(body, written(zalo_signature(body, recorded["timestamp"])))

    assert response.status_code == 200, response.content
    assert response.json() == {"received": 1, "new": 1}
    message = ChannelMessage.objects.get()
    assert (message.channel, message.external_id, message.sender, message.question) == (
        "zalo",
        "7d41b6f0e2c95a8314bb",
        SENDER,
        PERSONAL_MASKED,
    )
    assert (message.status, message.attempts, message.last_error) == ("pending", 0, "")
    assert (message.turn, message.conversation, message.sent_at) == (None, None, None)
    assert (message.received_at, message.next_attempt_at) == (NOW, NOW + FIRST_GRACE)
    assert published_tasks == [PublishedTask(ANSWER_TASK, [message.pk], "default")]
    # Answered later, by the task: nothing asked of the engine or of Zalo yet.
    assert (Turn.objects.count(), zalo.requests) == (0, [])


def _tampered(recorded: dict) -> tuple[bytes, str]:
    body = body_of(recorded)
    signature = zalo_signature(body, recorded["timestamp"])
    return body.replace(b"khai sinh", "kết hôn".encode()), signature


def _other_app(recorded: dict) -> tuple[bytes, str]:
    # Signed right, with our OA's key, but for another app of the same owner.
    recorded["app_id"] = "4455667788990011223"
    body = body_of(recorded)
    return body, zalo_signature(body, recorded["timestamp"], app_id="4455667788990011223")


def _signed(recorded: dict, **how: str) -> tuple[bytes, str]:
    body = body_of(recorded)
    return body, zalo_signature(body, how.pop("timestamp", recorded["timestamp"]), **how)


def _without_the_app_id(recorded: dict) -> tuple[bytes, str]:
    body = body_of(recorded)
    digest = hashlib.sha256(body + recorded["timestamp"].encode() + OA_SECRET_KEY.encode())
    return body, "mac=" + digest.hexdigest()


@pytest.mark.parametrize(
    "signed",
    [
        _tampered,
        lambda r: _signed(r, key="another-oa-secret-key"),
        lambda r: _signed(r, key=APP_SECRET),  # the app's secret, not the OA's key
        lambda r: _signed(r, timestamp="1795750200124"),
        _other_app,
        _without_the_app_id,
        lambda r: (body_of(r), None),
        lambda r: (body_of(r), ""),
        lambda r: (body_of(r), "mac="),
    ],
    ids=[
        "tampered-body",
        "wrong-oa-key",
        "app-secret-as-key",
        "other-timestamp",
        "other-app-id",
        "formula-without-app-id",
        "missing-header",
        "empty-header",
        "prefix-only",
    ],
)
def test_a_call_zalo_did_not_sign_is_refused(signed, published_tasks, caplog, zalo):
    body, signature = signed(event("user_send_text"))

    with caplog.at_level(logging.WARNING):
        response = post(body, signature, **EN)

    assert response.status_code == 401
    assert response.json() == BAD_SIGNATURE
    assert ChannelMessage.objects.count() == 0
    assert (published_tasks, zalo.requests) == ([], [])
    assert SIGNATURE_LOG in caplog.record_tuples


def test_a_signature_with_characters_outside_ascii_is_refused(published_tasks):
    recorded = event("user_send_text")
    body = body_of(recorded)
    signature = zalo_signature(body, recorded["timestamp"])

    response = post(body, signature[:-1] + "é", **EN)

    assert response.status_code == 401
    assert response.json() == BAD_SIGNATURE
    assert ChannelMessage.objects.count() == 0
    assert published_tasks == []


def test_a_redelivered_event_is_saved_once(published_tasks, django_capture_on_commit_callbacks):
    recorded = event("user_send_text_personal")

    with django_capture_on_commit_callbacks(execute=True):
        first = deliver(recorded)
        again = deliver(recorded)

    assert (first.status_code, first.json()) == (200, {"received": 1, "new": 1})
    assert (again.status_code, again.json()) == (200, {"received": 1, "new": 0})
    message = ChannelMessage.objects.get()
    assert published_tasks == [PublishedTask(ANSWER_TASK, [message.pk], "default")]


@pytest.mark.parametrize(
    "recorded",
    [
        event("follow"),
        event("user_send_image"),
        event("user_received_message"),
        event("user_send_text", text=" \n "),
    ],
    ids=["follow", "user_send_image", "user_received_message", "blank-text"],
)
def test_events_other_than_a_text_are_acknowledged_and_ignored(
    recorded, published_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(recorded)

    assert (response.status_code, response.json()) == (200, {"received": 0, "new": 0})
    assert ChannelMessage.objects.count() == 0
    assert published_tasks == []


def _without(recorded: dict, *path: str) -> dict:
    inner = recorded
    for key in path[:-1]:
        inner = inner[key]
    del inner[path[-1]]
    return recorded


@pytest.mark.parametrize(
    "recorded",
    [
        _without(event("user_send_text"), "message", "msg_id"),
        _without(event("user_send_text"), "message", "text"),
        _without(event("user_send_text"), "sender"),
        _without(event("user_send_text"), "event_name"),
        {**event("user_send_text"), "message": "đăng ký khai sinh"},
        {**event("user_send_text"), "sender": "2512523625412515682"},
    ],
    ids=[
        "no-msg-id",
        "no-text",
        "no-sender",
        "no-event-name",
        "message-not-an-object",
        "sender-not-an-object",
    ],
)
def test_a_signed_event_zalo_would_not_send_is_malformed(recorded, published_tasks):
    response = deliver(recorded, **EN)

    assert response.status_code == 400
    assert response.json() == MALFORMED
    assert ChannelMessage.objects.count() == 0
    assert published_tasks == []


@pytest.mark.parametrize(
    "body",
    [b"event_name=user_send_text&app_id=1430713391526402517", b"", b"[1, 2]", b'"text"'],
    ids=["form", "empty", "json-array", "json-string"],
)
def test_a_body_that_is_not_a_json_object_is_refused_as_unsigned(body, published_tasks):
    # Without an event there is no timestamp to check a signature with: the call is refused
    # before its format is looked at (a 401, not a 400), whatever it is signed with.
    response = post(body, zalo_signature(body, ""), **EN)

    assert response.status_code == 401
    assert response.json() == BAD_SIGNATURE
    assert ChannelMessage.objects.count() == 0
    assert published_tasks == []


@pytest.mark.parametrize("unset", ["ZALO_APP_ID", "ZALO_OA_SECRET_KEY"])
def test_the_webhook_of_a_channel_this_deployment_did_not_configure(
    unset, settings, published_tasks
):
    setattr(settings, unset, "")

    response = deliver(event("user_send_text"), **EN)

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert ChannelMessage.objects.count() == 0
    assert published_tasks == []


def test_the_webhook_of_an_unknown_channel(published_tasks):
    recorded = event("user_send_text")
    body = body_of(recorded)

    response = post(body, zalo_signature(body, recorded["timestamp"]), path="/webhooks/viber/")

    assert response.status_code == 404
    assert response.json() == {**NOT_FOUND, "message": "Không tìm thấy."}
    assert ChannelMessage.objects.count() == 0
    assert published_tasks == []


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_the_webhook_takes_only_post(method, published_tasks):
    response = getattr(Client(), method)(URL)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json() == {
        "code": "method_not_allowed",
        "message": "Phương thức không được phép.",
        "fields": {},
    }
    assert ChannelMessage.objects.count() == 0


def test_the_webhooks_refusals_are_in_vietnamese_by_default():
    recorded = event("user_send_text")
    body = body_of(recorded)

    unsigned = post(body, None)
    malformed = deliver(_without(event("user_send_text"), "message", "msg_id"))

    assert unsigned.status_code == 401 and malformed.status_code == 400
    with translation.override("vi"):
        assert unsigned.json()["message"] == translation.gettext("The signature does not match.")
        assert malformed.json()["message"] == translation.gettext("Malformed event.")
    assert unsigned.json()["message"] != BAD_SIGNATURE["message"]
    assert malformed.json()["message"] != MALFORMED["message"]


# --- the answer ---------------------------------------------------------------------------------


def test_a_procedure_question_is_answered_on_zalo_in_vietnamese(catalog, token, zalo, receive):
    message = receive()

    # Whatever language the worker runs in, the OA answers in Vietnamese.
    with translation.override("en"):
        outcome = channel_message_answer(pk=message.pk)

    assert outcome == "sent"
    turn = Turn.objects.get()
    assert turn.answer == BIRTH_ANSWER_VI
    assert (turn.question, turn.intent, turn.procedures[0]) == (BIRTH_QUESTION, "procedure", BIRTH)
    assert turn.conversation.user is None
    assert seen(zalo) == [sent_request(SENDER, turn.answer, "access-live")]
    assert zalo.delivered == [
        Delivered(SENDER, turn.answer, "access-live", zalo.delivered[0].message_id)
    ]
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error, message.sent_at) == (
        "sent",
        1,
        "",
        NOW,
    )
    assert (message.turn, message.conversation) == (turn, turn.conversation)
    # The same answer the app gives in Vietnamese.
    assert answer_of(APIClient(), BIRTH_QUESTION)["answer"] == turn.answer


def test_a_message_answered_is_not_answered_again(catalog, token, zalo, receive):
    message = receive()
    assert channel_message_answer(pk=message.pk) == "sent"

    again = channel_message_answer(pk=message.pk)

    assert again == "skipped"
    assert len(zalo.of(MESSAGE_PATH)) == 1
    assert Turn.objects.count() == 1
    assert row_of(message)["attempts"] == 1


def test_the_queued_task_answers_the_message(
    catalog, token, zalo, published_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(event("user_send_text")).status_code == 200
    [queued] = published_tasks

    # What the worker does with the message it received.
    first = answer_channel_message.apply(args=queued.args).get()
    second = answer_channel_message.apply(args=queued.args).get()

    assert (first, second) == ("sent", "skipped")
    assert [d.text for d in zalo.delivered] == [Turn.objects.get().answer]
    assert ChannelMessage.objects.get().status == "sent"


def test_an_access_token_zalo_no_longer_takes_is_renewed_and_the_message_sent_again(
    catalog, zalo, receive
):
    ChannelToken.objects.create(
        channel="zalo",
        access_token="access-revoked",
        refresh_token="refresh-live",
        expires_at=NOW + timedelta(hours=20),
    )
    zalo.knows(access_token="access-issued-since", refresh_token="refresh-live")
    message = receive()

    outcome = channel_message_answer(pk=message.pk)

    assert outcome == "sent"
    answer = Turn.objects.get().answer
    assert seen(zalo) == [
        sent_request(SENDER, answer, "access-revoked"),
        renewal_request("refresh-live"),
        sent_request(SENDER, answer, "zalo-access-1"),
    ]
    assert [(d.recipient, d.access_token) for d in zalo.delivered] == [(SENDER, "zalo-access-1")]
    assert tokens() == (
        "zalo",
        "zalo-access-1",
        "zalo-refresh-1",
        NOW + timedelta(seconds=EXPIRES_IN),
    )
    assert (row_of(message)["status"], row_of(message)["attempts"]) == ("sent", 1)


@pytest.mark.parametrize(
    "expires_at",
    [NOW - timedelta(hours=1), NOW + timedelta(minutes=4)],
    ids=["expired", "expires-within-five-minutes"],
)
def test_an_access_token_about_to_expire_is_renewed_before_sending(
    expires_at, catalog, zalo, receive
):
    ChannelToken.objects.create(
        channel="zalo",
        access_token="access-old",
        refresh_token="refresh-live",
        expires_at=expires_at,
    )
    zalo.knows(access_token="access-old", refresh_token="refresh-live")
    message = receive()

    assert channel_message_answer(pk=message.pk) == "sent"

    answer = Turn.objects.get().answer
    assert seen(zalo) == [
        renewal_request("refresh-live"),
        sent_request(SENDER, answer, "zalo-access-1"),
    ]
    assert tokens()[1:] == (
        "zalo-access-1",
        "zalo-refresh-1",
        NOW + timedelta(seconds=EXPIRES_IN),
    )


def test_a_renewal_without_a_new_refresh_token_keeps_the_old_one(catalog, zalo, receive):
    ChannelToken.objects.create(
        channel="zalo", access_token="old", refresh_token="refresh-live", expires_at=NOW
    )
    zalo.answer_next(TOKEN_PATH, 200, {"access_token": "access-new", "expires_in": "3600"})
    zalo.knows(access_token="access-new", refresh_token="refresh-live")
    message = receive()

    assert channel_message_answer(pk=message.pk) == "sent"

    assert tokens()[1:] == ("access-new", "refresh-live", NOW + timedelta(hours=1))


def test_a_renewal_that_does_not_say_how_long_gives_the_token_an_hour(catalog, zalo, receive):
    ChannelToken.objects.create(
        channel="zalo", access_token="old", refresh_token="refresh-live", expires_at=NOW
    )
    zalo.answer_next(TOKEN_PATH, 200, {"access_token": "access-new", "refresh_token": "r-2"})
    zalo.knows(access_token="access-new", refresh_token="r-2")
    message = receive()

    assert channel_message_answer(pk=message.pk) == "sent"

    assert tokens()[1:] == ("access-new", "r-2", NOW + timedelta(hours=1))


def test_control_characters_in_an_event_are_dropped_before_saving(published_tasks):
    # PostgreSQL refuses a NUL in text: the message is saved without it (not a 500).
    recorded = event("user_send_text", text="khai\u0000 sinh\u0007 ở đâu", msg_id="m\u0000-1")
    recorded["sender"]["id"] = "2000\u00001"

    response = deliver(recorded)

    assert (response.status_code, response.json()) == (200, {"received": 1, "new": 1})
    assert ChannelMessage.objects.values_list("external_id", "sender", "question").get() == (
        "m-1",
        "20001",
        "khai sinh ở đâu",
    )


@pytest.mark.parametrize("why", ["expired", "refused-with-216"])
def test_a_renewal_zalo_refuses_is_tried_again_later(why, catalog, zalo, receive):
    expires_at = NOW - timedelta(minutes=1) if why == "expired" else NOW + timedelta(hours=3)
    ChannelToken.objects.create(
        channel="zalo",
        access_token="access-stale",
        refresh_token="refresh-spent",
        expires_at=expires_at,
    )
    zalo.knows(access_token="access-of-another-grant", refresh_token="refresh-of-another-grant")
    message = receive()
    before = tokens()

    outcome = channel_message_answer(pk=message.pk)

    assert outcome == "retry"
    assert row_of(message) == {
        "status": "pending",
        "attempts": 1,
        "last_error": f"Zalo token renewal refused: {RENEWAL_REFUSED['error']}",
        "next_attempt_at": NOW + timedelta(seconds=retry_delay(1)),
        "sent_at": None,
    }
    assert tokens() == before
    requests = [renewal_request("refresh-spent")]
    if why != "expired":
        requests.insert(0, sent_request(SENDER, Turn.objects.get().answer, "access-stale"))
    assert seen(zalo) == requests
    assert zalo.delivered == []


def test_a_token_zalo_refuses_even_after_renewing_is_tried_again_later(
    catalog, token, zalo, receive
):
    refused = {"error": -216, "message": "Access token is invalid"}
    zalo.answer_next(MESSAGE_PATH, 200, refused)
    zalo.answer_next(MESSAGE_PATH, 200, refused)
    message = receive()

    outcome = channel_message_answer(pk=message.pk)

    assert outcome == "retry"
    assert row_of(message)["last_error"] == "Zalo error -216 after renewing the access token"
    assert row_of(message)["status"] == "pending"
    # The renewal itself went through: the new pair is kept (the old refresh token is spent).
    assert tokens()[1:3] == ("zalo-access-1", "zalo-refresh-1")
    assert [r.path for r in zalo.requests] == [MESSAGE_PATH, TOKEN_PATH, MESSAGE_PATH]
    assert zalo.delivered == []


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (
            200,
            {"error": -230, "message": "User has not interacted with the OA in the last 7 days"},
            "Zalo error -230",
        ),
        (200, {"error": -213, "message": "User has not followed OA"}, "Zalo error -213"),
        (200, {"error": "-201", "message": "Parameters are invalid"}, "Zalo error -201"),
        (400, {"error": -201, "message": "Parameters are invalid"}, "Zalo HTTP 400"),
        (403, b"Forbidden", "Zalo HTTP 403"),
    ],
    ids=["not-interacted", "not-following", "error-as-string", "http-400", "http-403"],
)
def test_a_message_zalo_refuses_fails_at_once(status, body, error, catalog, token, zalo, receive):
    zalo.answer_next(MESSAGE_PATH, status, body)
    message = receive()

    outcome = channel_message_answer(pk=message.pk)

    assert outcome == "failed"
    row = row_of(message)
    assert (row["status"], row["attempts"], row["last_error"], row["sent_at"]) == (
        "failed",
        1,
        error,
        None,
    )
    assert channel_message_answer(pk=message.pk) == "skipped"
    assert len(zalo.requests) == 1
    assert zalo.delivered == []


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (500, {"error": -1}, "Zalo HTTP 500"),
        (503, b"Service Unavailable", "Zalo HTTP 503"),
        (429, {"error": -32, "message": "Exceeds rate limit"}, "Zalo HTTP 429"),
        (200, b"<html>maintenance</html>", "Zalo answered something other than a JSON object"),
        (200, {"message": "Success"}, "Zalo answered without an error code"),
    ],
    ids=["http-500", "http-503", "http-429", "not-json", "no-error-code"],
)
def test_a_temporary_failure_is_tried_again_after_its_delay(
    status, body, error, catalog, token, zalo, receive, clock
):
    zalo.answer_next(MESSAGE_PATH, status, body)
    message = receive()

    first = channel_message_answer(pk=message.pk)

    assert first == "retry"
    assert row_of(message) == {
        "status": "pending",
        "attempts": 1,
        "last_error": error,
        "next_attempt_at": NOW + timedelta(seconds=retry_delay(1)),
        "sent_at": None,
    }
    assert zalo.delivered == []

    clock.advance(timedelta(seconds=retry_delay(1) - 1))
    assert channel_message_answer(pk=message.pk) == "skipped"  # not yet
    assert len(zalo.requests) == 1

    clock.advance(timedelta(seconds=1))
    assert channel_message_answer(pk=message.pk) == "sent"

    turn = Turn.objects.get()  # answered once, sent twice
    assert [r.json["message"]["text"] for r in zalo.requests] == [turn.answer, turn.answer]
    assert [d.text for d in zalo.delivered] == [turn.answer]
    assert row_of(message) == {
        "status": "sent",
        "attempts": 2,
        "last_error": "",
        "next_attempt_at": NOW + timedelta(seconds=retry_delay(1)) + LEASE,
        "sent_at": NOW + timedelta(seconds=retry_delay(1)),
    }


def test_zalo_unreachable_is_tried_again(catalog, token, zalo, receive, settings):
    settings.ZALO_API_URL = f"http://127.0.0.1:{unused_port()}"
    message = receive()

    assert channel_message_answer(pk=message.pk) == "retry"

    assert row_of(message)["last_error"] == "Zalo unreachable: ConnectionError"
    assert row_of(message)["status"] == "pending"


def test_after_the_last_attempt_the_message_fails(catalog, token, zalo, receive, clock):
    for _ in range(CHANNEL_MAX_ATTEMPTS):
        zalo.answer_next(MESSAGE_PATH, 500, {"error": -1})
    message = receive()

    outcomes, delays = [], []
    for _ in range(CHANNEL_MAX_ATTEMPTS):
        outcomes.append(channel_message_answer(pk=message.pk))
        due = row_of(message)["next_attempt_at"]
        delays.append((due - clock.now).total_seconds())
        clock.now = due

    assert outcomes == ["retry"] * (CHANNEL_MAX_ATTEMPTS - 1) + ["failed"]
    assert CHANNEL_MAX_ATTEMPTS == 10
    assert delays[:-1] == [5, 10, 20, 40, 80, 160, 300, 300, 300]
    row = row_of(message)
    assert (row["status"], row["attempts"], row["last_error"]) == (
        "failed",
        CHANNEL_MAX_ATTEMPTS,
        "Zalo HTTP 500",
    )
    assert channel_message_answer(pk=message.pk) == "skipped"
    assert len(zalo.requests) == CHANNEL_MAX_ATTEMPTS
    assert Turn.objects.count() == 1


def test_without_a_token_the_message_waits_for_one(catalog, zalo, receive, clock):
    message = receive()

    assert channel_message_answer(pk=message.pk) == "retry"

    assert row_of(message)["last_error"] == "no Zalo OA access token: enter one in the admin"
    assert (row_of(message)["status"], row_of(message)["attempts"]) == ("pending", 1)
    assert zalo.requests == []

    # An administrator enters the tokens; the next attempt sends.
    ChannelToken.objects.create(
        channel="zalo", access_token="access-live", refresh_token="", expires_at=NOW + LEASE * 100
    )
    zalo.knows(access_token="access-live", refresh_token="")
    clock.advance(timedelta(seconds=retry_delay(1)))
    assert channel_message_answer(pk=message.pk) == "sent"
    assert [d.recipient for d in zalo.delivered] == [SENDER]


def test_an_expired_token_without_a_refresh_token_waits(catalog, zalo, receive):
    ChannelToken.objects.create(
        channel="zalo", access_token="access-old", refresh_token="", expires_at=NOW
    )
    message = receive()

    assert channel_message_answer(pk=message.pk) == "retry"

    assert row_of(message)["last_error"] == (
        "the Zalo OA access token expired and there is no refresh token"
    )
    assert zalo.requests == []


def test_a_reply_longer_than_zalo_takes_is_cut(catalog, token, zalo, receive):
    birth = Procedure.objects.get(code=BIRTH)
    for n in range(1, 31):
        RequiredDocument.objects.create(
            procedure=birth,
            name=f"Bản sao có chứng thực giấy tờ chứng minh nơi cư trú của người đi khai số {n:02}",
            position=100 + n,
        )
    message = receive()

    assert channel_message_answer(pk=message.pk) == "sent"

    answer = Turn.objects.get().answer
    assert len(answer) > 2000
    [sent] = zalo.delivered
    assert sent.text == answer[:1999] + "…"
    assert len(sent.text) == 2000


def test_a_reply_of_exactly_2000_characters_is_sent_whole(catalog, token, zalo, receive):
    text = ("Bộ phận một cửa làm việc từ thứ Hai đến thứ Sáu, sáng 7:30–11:30. " * 40)[:2000]
    text = text[:-1] + "."
    FaqEntry.objects.create(questions="giờ làm việc của bộ phận một cửa", answer=text)
    search_index_rebuild()
    message = receive(text="bộ phận một cửa làm việc mấy giờ")

    assert channel_message_answer(pk=message.pk) == "sent"

    assert Turn.objects.get().intent == "faq"
    assert [d.text for d in zalo.delivered] == [text]


def test_questions_from_one_person_within_a_day_are_one_conversation(
    catalog, token, zalo, receive, clock
):
    first = receive(msg_id="m-1")
    assert channel_message_answer(pk=first.pk) == "sent"
    clock.advance(timedelta(minutes=3))
    other_person = receive(sender="8800112233445566778", msg_id="m-2", text="dkkh")
    assert channel_message_answer(pk=other_person.pk) == "sent"
    clock.advance(timedelta(hours=23, minutes=50))
    second = receive(msg_id="m-3", text="còn đăng ký khai tử thì sao")
    assert channel_message_answer(pk=second.pk) == "sent"
    clock.advance(timedelta(hours=25))
    next_day = receive(msg_id="m-4", text="dkkh")
    assert channel_message_answer(pk=next_day.pk) == "sent"

    conversation = dict(ChannelMessage.objects.values_list("external_id", "conversation_id"))
    assert conversation["m-1"] == conversation["m-3"]
    assert len({conversation["m-1"], conversation["m-2"], conversation["m-4"]}) == 3
    assert Conversation.objects.count() == 3
    assert list(
        Turn.objects.filter(conversation_id=conversation["m-1"])
        .order_by("id")
        .values_list("question", flat=True)
    ) == [BIRTH_QUESTION, "còn đăng ký khai tử thì sao"]
    assert [d.recipient for d in zalo.delivered] == [SENDER, "8800112233445566778", SENDER, SENDER]


def test_a_message_of_a_channel_no_longer_configured_is_not_answered(
    catalog, token, zalo, receive, settings
):
    message = receive()
    settings.ZALO_APP_ID = ""

    assert channel_message_answer(pk=message.pk) == "ignored"

    row = row_of(message)
    assert (row["status"], row["attempts"], row["last_error"], row["sent_at"]) == (
        "ignored",
        1,
        "",
        None,
    )
    assert zalo.requests == []
    # The engine answered before the channel was looked at (logged, never sent).
    assert Turn.objects.count() == 1
    settings.ZALO_APP_ID = APP_ID
    assert channel_message_answer(pk=message.pk) == "skipped"
    assert zalo.requests == []


def test_a_run_while_another_holds_the_message_leaves_it_alone(
    catalog, token, zalo, receive, clock
):
    message = receive()
    # A first run claimed it a moment ago and is still at it (or its worker died): its lease.
    ChannelMessage.objects.filter(pk=message.pk).update(attempts=1, next_attempt_at=NOW + LEASE)

    assert channel_message_answer(pk=message.pk) == "skipped"
    clock.advance(LEASE - timedelta(seconds=1))
    assert channel_message_answer(pk=message.pk) == "skipped"
    assert (zalo.requests, Turn.objects.count()) == ([], 0)

    # The lease ran out: the worker is taken for dead, the message answered.
    clock.advance(timedelta(seconds=1))
    assert channel_message_answer(pk=message.pk) == "sent"
    assert (row_of(message)["attempts"], len(zalo.delivered)) == (2, 1)


def test_an_unknown_message_is_skipped(zalo):
    assert channel_message_answer(pk=424242) == "skipped"
    assert zalo.requests == []


# --- the sweeper --------------------------------------------------------------------------------


def test_the_sweeper_queues_only_the_messages_due(
    catalog, token, zalo, receive, clock, published_tasks
):
    lost = receive(msg_id="lost", sender="1000000000000000001")  # its publish was lost
    failed_once = receive(msg_id="failed-once", sender="1000000000000000002")
    zalo.answer_next(MESSAGE_PATH, 500, {"error": -1})
    assert channel_message_answer(pk=failed_once.pk) == "retry"  # due at NOW + 5 s
    answered = receive(msg_id="answered", sender="1000000000000000003")
    assert channel_message_answer(pk=answered.pk) == "sent"
    refused = receive(msg_id="refused", sender="1000000000000000004")
    zalo.answer_next(MESSAGE_PATH, 200, {"error": -230, "message": "not interacted"})
    assert channel_message_answer(pk=refused.pk) == "failed"
    clock.advance(timedelta(seconds=58))
    just_received = receive(msg_id="just-received", sender="1000000000000000005")
    failing_again = receive(msg_id="failing-again", sender="1000000000000000006")
    zalo.answer_next(MESSAGE_PATH, 503, b"")
    assert channel_message_answer(pk=failing_again.pk) == "retry"  # due at NOW + 63 s
    clock.advance(timedelta(seconds=3))  # NOW + 61 s
    del published_tasks[:]
    del zalo.delivered[:]

    assert channel_messages_sweep() == 2

    assert published_tasks == [
        PublishedTask(ANSWER_TASK, [failed_once.pk], "default"),
        PublishedTask(ANSWER_TASK, [lost.pk], "default"),
    ]
    # What the worker does with them.
    outcomes = [answer_channel_message.apply(args=t.args).get() for t in published_tasks]
    assert outcomes == ["sent", "sent"]
    assert [d.recipient for d in zalo.delivered] == ["1000000000000000002", "1000000000000000001"]
    assert ChannelMessage.objects.get(pk=just_received.pk).status == "pending"
    assert channel_messages_sweep() == 0


def test_the_sweeper_takes_the_oldest_due_first_within_its_limit(
    catalog, token, receive, clock, published_tasks
):
    first = receive(msg_id="first")
    clock.advance(timedelta(seconds=1))
    receive(msg_id="second")
    clock.advance(FIRST_GRACE)
    del published_tasks[:]

    assert channel_messages_sweep(limit=1) == 1

    assert published_tasks == [PublishedTask(ANSWER_TASK, [first.pk], "default")]


def test_the_sweep_task_runs_every_minute_on_the_maintenance_queue(
    catalog, token, zalo, receive, clock, published_tasks
):
    entry = app.conf.beat_schedule["sweep-assistant-channel-messages"]
    assert entry == {"task": "assistant.sweep_channel_messages", "schedule": 60.0}
    assert entry["task"] == sweep_channel_messages.name
    sweep_channel_messages.delay()
    assert published_tasks == [PublishedTask("assistant.sweep_channel_messages", [], "maintenance")]
    message = receive()
    clock.advance(FIRST_GRACE)
    del published_tasks[:]

    assert sweep_channel_messages.apply().get() == 1

    assert published_tasks == [PublishedTask(ANSWER_TASK, [message.pk], "default")]


# --- the admin ----------------------------------------------------------------------------------


@pytest.fixture
def superuser_client() -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_messages_list_shows_the_questions_masked_and_not_who_asked(superuser_client, receive):
    message = receive(**event("user_send_text_personal")["message"])

    listed = superuser_client.get("/admin/assistant/channelmessage/")
    shown = superuser_client.get(f"/admin/assistant/channelmessage/{message.pk}/change/")

    assert (listed.status_code, shown.status_code) == (200, 200)
    for page in (listed.content.decode(), shown.content.decode()):
        assert PERSONAL_MASKED in page
        assert SENDER not in page
        assert PHONE not in page and CCCD not in page


def test_answer_again_puts_only_the_failed_and_ignored_messages_back(
    superuser_client, catalog, token, zalo, receive, clock
):
    rows = {}
    for n, (msg_id, zalo_says) in enumerate(
        [
            ("failed-1", (200, {"error": -230})),
            ("failed-2", (403, b"")),
            ("sent", None),
            ("pending", (500, b"")),
        ]
    ):
        rows[msg_id] = receive(msg_id=msg_id, sender=f"20000000000000000{n}")
        if zalo_says:
            zalo.answer_next(MESSAGE_PATH, *zalo_says)
        channel_message_answer(pk=rows[msg_id].pk)
    rows["ignored"] = receive(msg_id="ignored")
    ChannelMessage.objects.filter(pk=rows["ignored"].pk).update(status="ignored", attempts=1)
    before = {k: row_of(m) for k, m in rows.items()}
    clock.advance(timedelta(minutes=10))

    response = superuser_client.post(
        "/admin/assistant/channelmessage/",
        {"action": "answer_again", "_selected_action": [m.pk for m in rows.values()]},
        follow=True,
    )

    assert response.status_code == 200
    assert "3 messages will be answered again." in response.content.decode()
    for msg_id in ("failed-1", "failed-2", "ignored"):
        assert row_of(rows[msg_id]) == {
            **before[msg_id],
            "status": "pending",
            "attempts": 0,
            "last_error": "",
            "next_attempt_at": clock.now,
        }
    for msg_id in ("sent", "pending"):
        assert row_of(rows[msg_id]) == before[msg_id]

    # The sweeper takes them up; the answer already given is sent.
    zalo.delivered.clear()
    assert channel_messages_sweep() == 4  # the three, and the one waiting for its retry
    for msg_id in ("failed-1", "failed-2", "ignored"):
        assert channel_message_answer(pk=rows[msg_id].pk) == "sent"
    assert sorted(d.recipient for d in zalo.delivered) == sorted(
        ["200000000000000000", "200000000000000001", SENDER]
    )


def test_only_superusers_see_the_channel_admin(official, province_admin):
    for user in (official, province_admin):
        client = Client()
        client.force_login(user)
        for url in (
            "/admin/assistant/channelmessage/",
            "/admin/assistant/channeltoken/",
            "/admin/assistant/channeltoken/add/",
        ):
            assert client.get(url).status_code == 403, (user, url)


def _token_form(**values: str) -> dict:
    return {
        "channel": "zalo",
        "access_token": "",
        "refresh_token": "",
        "expires_at_0": "2026-11-28",
        "expires_at_1": "10:00:00",
        **values,
    }


def test_the_tokens_are_entered_in_the_admin(superuser_client):
    response = superuser_client.post(
        "/admin/assistant/channeltoken/add/",
        _token_form(access_token="entered-access-token", refresh_token="entered-refresh-token"),
    )

    assert response.status_code == 302, response.content
    assert tokens() == (
        "zalo",
        "entered-access-token",
        "entered-refresh-token",
        datetime(2026, 11, 28, 10, 0, tzinfo=LOCAL),
    )


def test_a_first_token_must_have_an_access_token(superuser_client):
    response = superuser_client.post(
        "/admin/assistant/channeltoken/add/", _token_form(refresh_token="entered-refresh-token")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "access_token": ["This field is required."]
    }
    assert ChannelToken.objects.count() == 0
    assert "entered-refresh-token" not in response.content.decode()


def test_tokens_left_empty_on_a_change_are_kept(superuser_client, token):
    response = superuser_client.post(
        f"/admin/assistant/channeltoken/{token.pk}/change/", _token_form()
    )

    assert response.status_code == 302, response.content
    assert tokens() == (
        "zalo",
        "access-live",
        "refresh-live",
        datetime(2026, 11, 28, 10, 0, tzinfo=LOCAL),
    )

    superuser_client.post(
        f"/admin/assistant/channeltoken/{token.pk}/change/",
        _token_form(refresh_token="refresh-entered-again"),
    )
    assert tokens()[1:3] == ("access-live", "refresh-entered-again")


def test_the_tokens_are_never_shown_again(superuser_client, token):
    pages = [
        superuser_client.get("/admin/assistant/channeltoken/"),
        superuser_client.get(f"/admin/assistant/channeltoken/{token.pk}/change/"),
        superuser_client.get(f"/admin/assistant/channeltoken/{token.pk}/history/"),
    ]

    assert [p.status_code for p in pages] == [200, 200, 200]
    for page in pages:
        html = page.content.decode()
        assert "access-live" not in html and "refresh-live" not in html
    assert 'name="access_token"' in pages[1].content.decode()


# --- the logs -----------------------------------------------------------------------------------


def test_no_personal_data_or_token_is_logged(
    catalog, zalo, caplog, published_tasks, django_capture_on_commit_callbacks, clock
):
    ChannelToken.objects.create(
        channel="zalo",
        access_token="access-revoked",
        refresh_token="refresh-live",
        expires_at=NOW + timedelta(hours=20),
    )
    zalo.knows(access_token="access-issued-since", refresh_token="refresh-live")
    personal = event("user_send_text_personal")
    secrets = [
        PHONE,
        CCCD,
        SENDER,
        USER_ID_BY_APP,
        "access-revoked",
        "refresh-live",
        "zalo-access-1",
        "zalo-refresh-1",
        APP_SECRET,
        OA_SECRET_KEY,
    ]
    caplog.set_level(logging.DEBUG)

    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(personal).status_code == 200
        body = body_of(personal)
        assert post(body, zalo_signature(body, "0")).status_code == 401  # logged: refused
        # A refused renewal is logged too.
        zalo.answer_next(MESSAGE_PATH, 200, {"error": -216, "message": "Access token is invalid"})
        zalo.answer_next(TOKEN_PATH, 200, RENEWAL_REFUSED)
    [queued] = published_tasks
    assert answer_channel_message.apply(args=queued.args).get() == "retry"
    clock.advance(timedelta(seconds=retry_delay(1)))
    assert answer_channel_message.apply(args=queued.args).get() == "sent"

    assert [d.access_token for d in zalo.delivered] == ["zalo-access-1"]
    assert caplog.records  # the cycle logged something
    logged = caplog.text + json.dumps([r.args for r in caplog.records], default=str)
    assert [secret for secret in secrets if secret in logged] == []
