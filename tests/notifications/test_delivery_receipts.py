"""Delivery receipts: POST /api/v1/webhooks/delivery-receipts/{provider}/, called by a provider
(no user), authenticated by an HMAC-SHA256 of the raw body with the provider's shared secret.
A receipt only moves a message forward: a replay, a late or an unknown receipt is ignored."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from notifications.actions import notify
from notifications.actions.deliveries import deliveries_send
from notifications.models import Channel, Delivery, DeliveryStatus, SmsMessage
from tests.factories import DeviceFactory, SmsMessageFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRET = "s3cret"
URL = "/api/v1/webhooks/delivery-receipts/http/"
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
SENT_AT = datetime(2026, 3, 2, 9, 0, tzinfo=LOCAL)
RECEIVED_AT = datetime(2026, 3, 2, 9, 1, 30, tzinfo=LOCAL)
INVALID = {"vi": "Dữ liệu không hợp lệ.", "en": "Invalid input."}
BAD_SIGNATURE = {
    "vi": "Chữ ký của yêu cầu này bị thiếu hoặc không đúng.",
    "en": "The signature of this request is missing or wrong.",
}
DELIVERY_FIELDS = ("status", "error", "provider", "sent_at", "delivered_at", "updated_at")


@pytest.fixture(autouse=True)
def _receipt_secrets(settings) -> None:
    settings.DELIVERY_RECEIPT_SECRETS = {"http": SECRET}


@pytest.fixture
def clock(monkeypatch) -> Callable[[datetime], None]:
    """Set the outside world's clock (timezone.now) to a fixed moment."""

    def set_clock(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_clock


def signature(raw: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def post(
    raw: bytes,
    *,
    signed: str | None = None,
    url: str = URL,
    language: str = "vi",
):
    """What the provider sends: the raw body, its signature (the right one unless given)."""
    return APIClient().generic(
        "POST",
        url,
        raw,
        content_type="application/json",
        HTTP_X_SIGNATURE=signature(raw) if signed is None else signed,
        HTTP_ACCEPT_LANGUAGE=language,
    )


def receipts(*items: tuple[object, str] | dict) -> bytes:
    return json.dumps(
        {
            "receipts": [
                item if isinstance(item, dict) else {"reference": str(item[0]), "status": item[1]}
                for item in items
            ]
        }
    ).encode()


def sms_delivery(user: User, *, status: str = DeliveryStatus.SENT, provider: str = "http"):
    """The SMS of "dossier.approved" to a user without a device (written by notify()), as the
    worker leaves it once the gateway ``provider`` accepted it."""
    notify(
        users=[user],
        event="dossier.approved",
        key=f"dossier:X:event:{user.pk}",
        context={"code": "X"},
    )
    delivery = Delivery.objects.get(notification__user=user, channel=Channel.SMS)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status, provider=provider, attempts=1, sent_at=SENT_AT, updated_at=SENT_AT
    )
    return delivery


def delivery_row(delivery: Delivery) -> dict:
    return Delivery.objects.filter(pk=delivery.pk).values(*DELIVERY_FIELDS).get()


def everything() -> list:
    return [
        *Delivery.objects.order_by("pk").values_list("pk", *DELIVERY_FIELDS),
        *SmsMessage.objects.order_by("pk").values_list(
            "pk", "status", "error", "body", "updated_at"
        ),
    ]


# --- applying ---------------------------------------------------------------------------------


def test_a_signed_delivered_receipt_marks_the_delivery_delivered(citizen, clock):
    clock(SENT_AT)
    delivery = sms_delivery(citizen)
    clock(RECEIVED_AT)

    response = post(receipts((delivery.id, "delivered")))

    assert (response.status_code, response.json()) == (200, {"applied": 1, "ignored": 0})
    assert delivery_row(delivery) == {
        "status": "delivered",
        "error": "",
        "provider": "http",
        "sent_at": SENT_AT,
        "delivered_at": RECEIVED_AT,
        "updated_at": RECEIVED_AT,
    }


@pytest.mark.parametrize(
    "signed", ["sha256={}", "{}", " sha256={} "], ids=["prefixed", "bare", "padded"]
)
def test_the_signature_may_carry_the_sha256_prefix(citizen, clock, signed):
    clock(SENT_AT)
    delivery = sms_delivery(citizen)
    clock(RECEIVED_AT)
    raw = receipts((delivery.id, "delivered"))

    response = post(raw, signed=signed.format(signature(raw)))

    assert (response.status_code, response.json()) == (200, {"applied": 1, "ignored": 0})
    assert delivery_row(delivery)["status"] == "delivered"


def test_a_replayed_receipt_is_ignored_and_changes_nothing(citizen, clock):
    clock(SENT_AT)
    delivery = sms_delivery(citizen)
    clock(RECEIVED_AT)
    raw = receipts((delivery.id, "delivered"))
    post(raw)
    after_first = delivery_row(delivery)
    clock(datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL))

    response = post(raw)

    assert (response.status_code, response.json()) == (200, {"applied": 0, "ignored": 1})
    assert delivery_row(delivery) == after_first
    assert after_first["delivered_at"] == RECEIVED_AT


@pytest.mark.parametrize("status", ["failed", "undelivered", "rejected", "expired"])
def test_a_failure_receipt_is_a_permanent_failure_with_its_error(citizen, clock, status):
    clock(SENT_AT)
    delivery = sms_delivery(citizen)
    clock(RECEIVED_AT)

    response = post(
        receipts({"reference": str(delivery.id), "status": status, "error": "Thuê bao tạm khóa"})
    )

    assert (response.status_code, response.json()) == (200, {"applied": 1, "ignored": 0})
    assert delivery_row(delivery) == {
        "status": "permanent-failure",
        "error": "Thuê bao tạm khóa",
        "provider": "http",
        "sent_at": SENT_AT,
        "delivered_at": None,
        "updated_at": RECEIVED_AT,
    }


def test_a_failure_receipt_without_an_error_records_its_status(citizen, clock):
    clock(SENT_AT)
    delivery = sms_delivery(citizen)
    clock(RECEIVED_AT)

    response = post(receipts((delivery.id, "undelivered")))

    assert (response.status_code, response.json()) == (200, {"applied": 1, "ignored": 0})
    assert (delivery_row(delivery)["status"], delivery_row(delivery)["error"]) == (
        "permanent-failure",
        "undelivered",
    )


def test_a_receipt_that_arrives_before_the_worker_recorded_the_send_still_applies(citizen, clock):
    clock(SENT_AT)
    delivery = sms_delivery(citizen, status=DeliveryStatus.SENDING)
    clock(RECEIVED_AT)

    response = post(receipts((delivery.id, "delivered")))

    assert (response.status_code, response.json()) == (200, {"applied": 1, "ignored": 0})
    assert delivery_row(delivery)["status"] == "delivered"


@pytest.mark.parametrize(
    ("status", "receipt"),
    [
        (DeliveryStatus.DELIVERED, "failed"),
        (DeliveryStatus.PERMANENT_FAILURE, "delivered"),
        (DeliveryStatus.TECHNICAL_FAILURE, "delivered"),
        (DeliveryStatus.CREATED, "delivered"),
        (DeliveryStatus.TEMPORARY_FAILURE, "delivered"),
    ],
)
def test_a_receipt_never_moves_a_message_backwards_or_one_never_sent(
    citizen, clock, status, receipt
):
    clock(SENT_AT)
    delivery = sms_delivery(citizen, status=status)
    before = everything()
    clock(RECEIVED_AT)

    response = post(receipts((delivery.id, receipt)))

    assert (response.status_code, response.json()) == (200, {"applied": 0, "ignored": 1})
    assert everything() == before


def test_an_unknown_reference_is_ignored(citizen, clock):
    clock(SENT_AT)
    sms_delivery(citizen)
    before = everything()

    response = post(receipts((uuid.uuid4(), "delivered")))

    assert (response.status_code, response.json()) == (200, {"applied": 0, "ignored": 1})
    assert everything() == before


def test_a_message_sent_by_another_provider_is_ignored(citizen, clock):
    # A push delivery really sent, through the in-memory push provider (settings.PUSH_PROVIDER).
    clock(SENT_AT)
    DeviceFactory(user=citizen)
    notify(users=[citizen], event="dossier.received", key="k", context={"code": "X"})
    deliveries_send(channel=Channel.PUSH)
    push = Delivery.objects.get()
    other_gateway = sms_delivery(UserFactory(), provider="other-gateway")
    otp = SmsMessageFactory(status=DeliveryStatus.SENT, provider="other-gateway", body="")
    before = everything()
    clock(RECEIVED_AT)

    response = post(
        receipts((push.id, "delivered"), (other_gateway.id, "delivered"), (otp.id, "delivered"))
    )

    assert (push.status, push.provider) == ("sent", "memory")
    assert (response.status_code, response.json()) == (200, {"applied": 0, "ignored": 3})
    assert everything() == before


def test_an_otp_sms_is_marked_delivered_too(clock):
    clock(SENT_AT)
    otp = SmsMessageFactory(
        status=DeliveryStatus.SENT, provider="http", body="", attempts=1, sent_at=SENT_AT
    )
    clock(RECEIVED_AT)

    response = post(receipts((otp.id, "delivered")))
    replay = post(receipts((otp.id, "delivered")))

    assert (response.status_code, response.json()) == (200, {"applied": 1, "ignored": 0})
    assert (replay.status_code, replay.json()) == (200, {"applied": 0, "ignored": 1})
    assert SmsMessage.objects.filter(pk=otp.pk).values(
        "status", "error", "body", "sent_at", "updated_at"
    ).get() == {
        "status": "delivered",
        "error": "",
        "body": "",
        "sent_at": SENT_AT,
        "updated_at": RECEIVED_AT,
    }


def test_an_otp_sms_that_failed_records_the_error(clock):
    clock(SENT_AT)
    otp = SmsMessageFactory(status=DeliveryStatus.SENT, provider="http", body="", attempts=1)
    clock(RECEIVED_AT)

    response = post(
        receipts({"reference": str(otp.id), "status": "rejected", "error": "Số không tồn tại"})
    )

    assert (response.status_code, response.json()) == (200, {"applied": 1, "ignored": 0})
    assert SmsMessage.objects.filter(pk=otp.pk).values("status", "error").get() == {
        "status": "permanent-failure",
        "error": "Số không tồn tại",
    }


def test_a_batch_counts_what_it_applied_and_what_it_ignored(citizen, other_citizen, clock):
    clock(SENT_AT)
    first = sms_delivery(citizen)
    second = sms_delivery(other_citizen)
    clock(RECEIVED_AT)

    response = post(
        receipts(
            (first.id, "delivered"),
            (first.id, "delivered"),
            (uuid.uuid4(), "failed"),
            (second.id, "expired"),
        )
    )

    assert (response.status_code, response.json()) == (200, {"applied": 2, "ignored": 2})
    assert [delivery_row(d)["status"] for d in (first, second)] == [
        "delivered",
        "permanent-failure",
    ]


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize(
    "signed",
    [
        "",
        "0" * 64,
        "sha1={}",
        "{}0",
        "wrong-secret",
    ],
    ids=["missing", "zeros", "other-prefix", "one-character-more", "signed-with-another-secret"],
)
def test_a_missing_or_wrong_signature_is_refused_and_nothing_changes(
    citizen, clock, signed, language
):
    clock(SENT_AT)
    delivery = sms_delivery(citizen)
    raw = receipts((delivery.id, "delivered"))
    if signed == "wrong-secret":
        signed = signature(raw, "not-the-secret")
    before = everything()
    clock(RECEIVED_AT)

    response = post(raw, signed=signed.format(signature(raw)), language=language)

    assert (response.status_code, response.json()) == (
        403,
        {"code": "invalid_signature", "message": BAD_SIGNATURE[language], "fields": {}},
    )
    assert everything() == before


def test_a_signature_over_another_body_is_refused(citizen, clock):
    clock(SENT_AT)
    delivery = sms_delivery(citizen)
    before = everything()
    signed_for = receipts((delivery.id, "failed"))

    response = post(receipts((delivery.id, "delivered")), signed=signature(signed_for))

    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"
    assert everything() == before


@pytest.mark.parametrize(
    ("secrets", "provider", "language", "message"),
    [
        ({"http": SECRET}, "fcm", "vi", "Không tìm thấy."),
        ({"http": SECRET}, "fcm", "en", "Not found."),
        ({"http": SECRET, "empty": ""}, "empty", "vi", "Không tìm thấy."),
    ],
)
def test_a_provider_without_a_secret_is_not_found(
    citizen, settings, clock, secrets, provider, language, message
):
    settings.DELIVERY_RECEIPT_SECRETS = secrets
    clock(SENT_AT)
    delivery = sms_delivery(citizen, provider=provider)
    before = everything()
    raw = receipts((delivery.id, "delivered"))

    response = post(
        raw,
        signed=signature(raw, secrets["http"]),
        url=f"/api/v1/webhooks/delivery-receipts/{provider}/",
        language=language,
    )

    assert (response.status_code, response.json()) == (
        404,
        {"code": "not_found", "message": message, "fields": {}},
    )
    assert everything() == before


REFERENCE = "6f1c1c52-8f0e-4d8e-9a51-1f4e1b3c2a10"


@pytest.mark.parametrize(
    ("raw", "language", "expected"),
    [
        (
            b"delivered",
            "vi",
            {
                "code": "parse_error",
                "message": "Nội dung yêu cầu không phải là JSON hợp lệ.",
                "fields": {},
            },
        ),
        (
            b"delivered",
            "en",
            {"code": "parse_error", "message": "The request body is not valid JSON.", "fields": {}},
        ),
        (
            b"{}",
            "vi",
            {
                "code": "invalid",
                "message": INVALID["vi"],
                "fields": {"receipts": ["Trường này là bắt buộc."]},
            },
        ),
        (
            b"{}",
            "en",
            {
                "code": "invalid",
                "message": INVALID["en"],
                "fields": {"receipts": ["This field is required."]},
            },
        ),
        (
            b'{"receipts": []}',
            "vi",
            {
                "code": "invalid",
                "message": INVALID["vi"],
                "fields": {"receipts": ["Trường này phải có ít nhất 1 phần tử."]},
            },
        ),
        (
            b'{"receipts": []}',
            "en",
            {
                "code": "invalid",
                "message": INVALID["en"],
                "fields": {"receipts": ["Ensure this field has at least 1 elements."]},
            },
        ),
        (
            b'{"receipts": "delivered"}',
            "vi",
            {
                "code": "invalid",
                "message": INVALID["vi"],
                "fields": {"receipts": ['Cần một danh sách nhưng nhận được kiểu "str".']},
            },
        ),
        (
            b'{"receipts": [{"reference": "42", "status": "delivered"}]}',
            "vi",
            {
                "code": "invalid",
                "message": INVALID["vi"],
                "fields": {"receipts": {"0": {"reference": ["Phải là một UUID hợp lệ."]}}},
            },
        ),
        (
            b'{"receipts": [{"reference": "42", "status": "delivered"}]}',
            "en",
            {
                "code": "invalid",
                "message": INVALID["en"],
                "fields": {"receipts": {"0": {"reference": ["Must be a valid UUID."]}}},
            },
        ),
        (
            receipts((REFERENCE, "delivered"), (REFERENCE, "read")),
            "vi",
            {
                "code": "invalid",
                "message": INVALID["vi"],
                "fields": {
                    "receipts": {"1": {"status": ['"read" không phải là lựa chọn hợp lệ.']}}
                },
            },
        ),
        (
            receipts((REFERENCE, "read")),
            "en",
            {
                "code": "invalid",
                "message": INVALID["en"],
                "fields": {"receipts": {"0": {"status": ['"read" is not a valid choice.']}}},
            },
        ),
        (
            receipts({"reference": REFERENCE, "status": "failed", "error": "x" * 256}),
            "vi",
            {
                "code": "invalid",
                "message": INVALID["vi"],
                "fields": {"receipts": {"0": {"error": ["Trường này không được quá 255 ký tự."]}}},
            },
        ),
        (
            receipts(*[(REFERENCE, "delivered")] * 1001),
            "vi",
            {
                "code": "invalid",
                "message": INVALID["vi"],
                "fields": {"receipts": ["Trường này không được quá 1000 phần tử."]},
            },
        ),
        (
            receipts(*[(REFERENCE, "delivered")] * 1001),
            "en",
            {
                "code": "invalid",
                "message": INVALID["en"],
                "fields": {"receipts": ["Ensure this field has no more than 1000 elements."]},
            },
        ),
    ],
    ids=[
        "not-json-vi",
        "not-json-en",
        "no-receipts-vi",
        "no-receipts-en",
        "empty-vi",
        "empty-en",
        "not-a-list-vi",
        "bad-uuid-vi",
        "bad-uuid-en",
        "unknown-status-vi",
        "unknown-status-en",
        "long-error-vi",
        "too-many-vi",
        "too-many-en",
    ],
)
def test_a_malformed_body_is_refused_field_by_field_and_nothing_changes(
    citizen, clock, raw, language, expected
):
    clock(SENT_AT)
    delivery = sms_delivery(citizen)
    raw = raw.replace(REFERENCE.encode(), str(delivery.id).encode())
    before = everything()
    clock(RECEIVED_AT)

    response = post(raw, language=language)

    assert (response.status_code, response.json()) == (400, expected)
    assert everything() == before


def test_the_webhook_takes_no_user_credentials_and_ignores_them(citizen, clock):
    clock(SENT_AT)
    delivery = sms_delivery(citizen)
    raw = receipts((delivery.id, "delivered"))

    # A bad bearer token does not stand in the way (no authentication runs here).
    response = APIClient().generic(
        "POST",
        URL,
        raw,
        content_type="application/json",
        HTTP_X_SIGNATURE=signature(raw),
        HTTP_AUTHORIZATION="Bearer not-a-token",
    )

    assert (response.status_code, response.json()) == (200, {"applied": 1, "ignored": 0})
