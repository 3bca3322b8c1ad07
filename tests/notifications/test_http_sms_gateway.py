"""The generic HTTP brandname-SMS gateway (``HttpSmsProvider``) against a real HTTP server on
127.0.0.1: the request built from the SMS_HTTP_* settings, the gateway's answers mapped to
success, temporary and permanent errors, timeouts and refusals; and one SMS through the whole
delivery path. The server stands in for the outside world; nothing of ours is mocked."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from notifications.actions import notify
from notifications.actions.deliveries import BatchResult, deliveries_send
from notifications.models import Channel, Delivery
from notifications.providers.sms import HttpSmsProvider, ProviderError, SmsResult
from tests.conftest import unused_port

PHONE = "+84912345678"
PHONE_FORMS = ("+84912345678", "84912345678", "0912345678", "912345678")
TEXT = 'UBND xã Thất Khê: "Hồ sơ" đã có kết quả.\nMời ông/bà đến nhận \\ 08:00.'
REFERENCE = "0b7e2a4c-3f7e-4c47-9d55-2b1f0a6c9e11"
BODY_TEMPLATE = {
    "to": "{phone}",
    "text": "{text}",
    "ref": "{reference}",
    "brand": "{brandname}",
    "account": {"user": "{username}", "tags": ["{brandname}", 1, True, None]},
}
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=LOCAL)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: object


HANG = "hang"


@dataclass
class Gateway:
    """A scripted gateway: each request is recorded and answered with the next scripted answer
    (status, JSON body or raw bytes), or ``HANG`` (no answer until the test ends); without a
    script, 200 {"code": "0"}."""

    url: str
    requests: list[Request] = field(default_factory=list)
    answers: list[object] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    def answer(self, status: int = 200, body: object = None) -> None:
        self.answers.append((status, {"code": "0"} if body is None else body))

    def hang(self) -> None:
        self.answers.append(HANG)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    state = Gateway(url="")

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.requests.append(
                Request(
                    method=self.command,
                    path=self.path,
                    headers=dict(self.headers.items()),
                    body=json.loads(raw) if raw else None,
                )
            )
            answer = state.answers.pop(0) if state.answers else (200, {"code": "0"})
            if answer == HANG:
                state.released.wait(10)
                return
            status, body = answer
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up

        do_POST = do_PUT = do_GET = _handle

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    # A short poll: shutdown() waits for the loop to look up.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        state.released.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(autouse=True)
def gateway_settings(settings, gateway) -> None:
    settings.SMS_HTTP_URL = f"{gateway.url}/api/sms/send"
    settings.SMS_HTTP_METHOD = "POST"
    settings.SMS_HTTP_BODY = json.dumps(BODY_TEMPLATE)
    settings.SMS_HTTP_BRANDNAME = "UBND-LS"
    settings.SMS_HTTP_USERNAME = "congdanso"
    settings.SMS_HTTP_PASSWORD = "gw-pass-123"
    settings.SMS_HTTP_API_KEY = "key-abc"
    settings.SMS_HTTP_AUTH = ""
    settings.SMS_HTTP_HEADERS = {"X-Api-Key": "{api_key}"}
    settings.SMS_HTTP_PHONE_FORMAT = "national"
    settings.SMS_HTTP_RESULT_FIELD = "code"
    settings.SMS_HTTP_SUCCESS_CODES = ["0", "100"]
    settings.SMS_HTTP_TEMPORARY_CODES = ["99", "-5"]
    settings.SMS_HTTP_MESSAGE_ID_FIELD = "data.msgid"
    settings.SMS_HTTP_CONNECT_TIMEOUT = 0.5
    settings.SMS_HTTP_READ_TIMEOUT = 0.5


def send(text: str = TEXT, phone: str = PHONE) -> SmsResult:
    return HttpSmsProvider().send(phone=phone, body=text, reference=REFERENCE)


def expected_body(phone: str = "0912345678", text: str = TEXT) -> dict:
    return {
        "to": phone,
        "text": text,
        "ref": REFERENCE,
        "brand": "UBND-LS",
        "account": {"user": "congdanso", "tags": ["UBND-LS", 1, True, None]},
    }


def chosen_headers(request: Request) -> dict[str, str]:
    return {
        k: v
        for k, v in request.headers.items()
        if k in {"Content-Type", "X-Api-Key", "Authorization"}
    }


def refused(call: Callable[[], object]) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        call()
    message = str(caught.value)
    # Never personal data in an error (it is stored on the row and logged).
    for secret in (*PHONE_FORMS, TEXT, "Thất Khê", "Hồ sơ"):
        assert secret not in message
    return caught.value


# --- success ----------------------------------------------------------------------------------


def test_a_success_code_answers_the_gateways_message_id(gateway):
    gateway.answer(200, {"code": 0, "data": {"msgid": "GW-000123"}})

    result = send()

    assert result == SmsResult(provider_reference="GW-000123")
    assert len(gateway.requests) == 1
    request = gateway.requests[0]
    assert (request.method, request.path, request.body) == (
        "POST",
        "/api/sms/send",
        expected_body(),
    )
    assert chosen_headers(request) == {"Content-Type": "application/json", "X-Api-Key": "key-abc"}


@pytest.mark.parametrize(
    ("id_field", "answer"),
    [
        ("", {"code": "0", "data": {"msgid": "GW-1"}}),
        ("data.msgid", {"code": "0"}),
        ("data.msgid", {"code": "100", "data": {"msgid": ""}}),
    ],
    ids=["no-id-field", "id-missing", "id-empty"],
)
def test_without_a_message_id_our_reference_is_the_providers(gateway, settings, id_field, answer):
    settings.SMS_HTTP_MESSAGE_ID_FIELD = id_field
    gateway.answer(200, answer)

    assert send() == SmsResult(provider_reference=REFERENCE)


def test_the_result_and_the_id_may_be_nested_in_lists_and_objects(gateway, settings):
    settings.SMS_HTTP_RESULT_FIELD = "result.0.status"
    settings.SMS_HTTP_MESSAGE_ID_FIELD = "result.0.id"
    gateway.answer(200, {"result": [{"status": "100", "id": 987654}]})

    assert send() == SmsResult(provider_reference="987654")


def test_without_a_result_field_any_2xx_answer_is_a_success(gateway, settings):
    settings.SMS_HTTP_RESULT_FIELD = ""
    settings.SMS_HTTP_MESSAGE_ID_FIELD = ""
    gateway.answer(202, b"accepted")

    assert send() == SmsResult(provider_reference=REFERENCE)


def test_quotes_newlines_backslashes_and_vietnamese_stay_exact_and_valid_json(gateway):
    text = 'Thông báo: "lũ quét" ở thôn Nà Cạn,\r\nsơ tán ngay!\t{ } \\n 100% 😀'

    send(text)

    assert gateway.requests[0].body == expected_body(text=text)


def test_placeholders_inside_the_text_are_sent_as_written(gateway):
    # The text (an official's note) is data, never a template: "{password}" in it must not
    # become the gateway's password in a citizen's SMS.
    text = "Ghi chú: {password} {api_key} {phone} {reference} {username}"

    send(text)

    assert gateway.requests[0].body == expected_body(text=text)


@pytest.mark.parametrize(
    ("style", "sent"),
    [("e164", "+84912345678"), ("digits", "84912345678"), ("national", "0912345678")],
)
def test_the_phone_number_is_written_as_the_gateway_wants(gateway, settings, style, sent):
    settings.SMS_HTTP_PHONE_FORMAT = style

    send()

    assert gateway.requests[0].body == expected_body(phone=sent)


def test_basic_authentication_and_extra_headers(gateway, settings):
    settings.SMS_HTTP_AUTH = "basic"
    settings.SMS_HTTP_HEADERS = {"X-Api-Key": "{api_key}", "X-Brand": "{brandname}"}

    send()

    request = gateway.requests[0]
    token = base64.b64encode(b"congdanso:gw-pass-123").decode()
    assert chosen_headers(request) == {
        "Content-Type": "application/json",
        "X-Api-Key": "key-abc",
        "Authorization": f"Basic {token}",
    }
    assert request.headers["X-Brand"] == "UBND-LS"


def test_the_method_is_configurable(gateway, settings):
    settings.SMS_HTTP_METHOD = "PUT"

    send()

    assert [(r.method, r.path) for r in gateway.requests] == [("PUT", "/api/sms/send")]


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "message", "permanent"),
    [
        ({"code": "99"}, "gateway code 99", False),
        ({"code": -5}, "gateway code -5", False),
        ({"code": "7", "message": "Sai thuê bao 0912345678"}, "gateway code 7", True),
        ({"status": "ok"}, "gateway code (none)", True),
        (b"<html>OK</html>", "gateway code (none)", True),
    ],
    ids=["temporary-code", "temporary-number", "unknown-code", "no-code", "not-json"],
)
def test_the_gateways_result_code_decides_what_kind_of_error(gateway, answer, message, permanent):
    gateway.answer(200, answer)

    error = refused(send)

    assert (str(error), error.permanent) == (message, permanent)
    assert len(gateway.requests) == 1


@pytest.mark.parametrize(
    ("status", "permanent"),
    [
        *[(503, False), (500, False), (502, False), (429, False), (408, False)],
        *[(400, True), (401, True), (403, True), (404, True), (422, True)],
    ],
)
def test_http_errors_are_temporary_when_a_retry_can_help(gateway, status, permanent):
    gateway.answer(status, {"code": "0", "error": f"Sai số {PHONE}"})

    error = refused(send)

    assert (str(error), error.permanent) == (f"gateway HTTP {status}", permanent)


def test_a_gateway_that_does_not_answer_in_time_is_a_temporary_error(gateway):
    gateway.hang()

    error = refused(send)

    assert (str(error), error.permanent) == ("gateway unreachable: ReadTimeout", False)
    assert len(gateway.requests) == 1  # it did arrive: a retry may send it twice (same ref)


def test_a_refused_connection_is_a_temporary_error(settings):
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{unused_port()}/api/sms/send"

    error = refused(send)

    assert (str(error), error.permanent) == ("gateway unreachable: ConnectionError", False)


def test_without_a_url_nothing_is_sent_and_the_error_is_permanent(gateway, settings):
    settings.SMS_HTTP_URL = ""

    error = refused(send)

    assert (str(error), error.permanent) == ("SMS_HTTP_URL is not set", True)
    assert gateway.requests == []


def test_a_body_template_that_is_not_json_is_a_permanent_error(gateway, settings):
    settings.SMS_HTTP_BODY = '{"to": "{phone}", "text": "{text}"'

    error = refused(send)

    assert error.permanent is True
    assert str(error).startswith("SMS_HTTP_BODY is not JSON: ")
    assert gateway.requests == []


# --- through the delivery path -----------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch) -> Callable[[datetime], None]:
    def set_clock(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_clock


def approved_sms(citizen) -> Delivery:
    """The SMS of "dossier.approved" to a citizen without a device: it is the message."""
    notify(
        users=[citizen],
        event="dossier.approved",
        key="dossier:H20.6040-260302-0001:event:7",
        context={"code": "H20.6040-260302-0001"},
        data={"dossier": "H20.6040-260302-0001"},
    )
    return Delivery.objects.get(channel=Channel.SMS)


DELIVERY_FIELDS = (
    "status",
    "is_fallback",
    "attempts",
    "provider",
    "provider_message_id",
    "error",
    "sent_at",
    "due_at",
    "body",
)


@pytest.mark.django_db
def test_a_fallback_sms_goes_through_the_gateway_with_its_reference(
    citizen, gateway, settings, clock
):
    settings.SMS_PROVIDER = "http"
    clock(NOW)
    delivery = approved_sms(citizen)
    gateway.answer(200, {"code": "0", "data": {"msgid": "GW-42"}})

    result = deliveries_send(channel=Channel.SMS)

    text = "Ho so H20.6040-260302-0001 da co ket qua. Ho so da duoc giai quyet. Da co ket qua."
    assert result == BatchResult(claimed=1, sent=1, retry_in=None, more=False)
    assert [(r.method, r.path, r.body) for r in gateway.requests] == [
        (
            "POST",
            "/api/sms/send",
            {
                "to": "0912345678",
                "text": text,
                "ref": str(delivery.id),
                "brand": "UBND-LS",
                "account": {"user": "congdanso", "tags": ["UBND-LS", 1, True, None]},
            },
        )
    ]
    assert Delivery.objects.filter(pk=delivery.pk).values(*DELIVERY_FIELDS).get() == {
        "status": "sent",
        "is_fallback": True,
        "attempts": 1,
        "provider": "http",
        "provider_message_id": "GW-42",
        "error": "",
        "sent_at": NOW,
        "due_at": NOW,
        "body": text,
    }


@pytest.mark.django_db
def test_a_busy_gateway_leaves_the_sms_waiting_for_its_retry(citizen, gateway, settings, clock):
    settings.SMS_PROVIDER = "http"
    clock(NOW)
    delivery = approved_sms(citizen)
    gateway.answer(503, {"code": "0"})

    result = deliveries_send(channel=Channel.SMS)

    assert result == BatchResult(claimed=1, sent=0, retry_in=5, more=False)
    assert len(gateway.requests) == 1
    row = Delivery.objects.filter(pk=delivery.pk).values(*DELIVERY_FIELDS).get()
    assert {
        k: row[k] for k in ("status", "attempts", "provider", "error", "sent_at", "due_at")
    } == {
        "status": "temporary-failure",
        "attempts": 1,
        "provider": "http",
        "error": "gateway HTTP 503",
        "sent_at": None,
        "due_at": NOW + timedelta(seconds=5),
    }
