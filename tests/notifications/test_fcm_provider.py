"""Firebase Cloud Messaging (``FcmPushProvider``): the messages it builds, and FCM's answers per
message and per call mapped to sent, token gone, temporary and permanent. FCM is the outside
world: ``firebase_admin.messaging.send_each`` is replaced by a fake that records the messages (as
the library would put them on the wire) and answers with the library's own BatchResponse."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from firebase_admin import exceptions, messaging

from accounts.models import Device
from notifications.actions import notify
from notifications.actions.deliveries import deliveries_send
from notifications.models import Channel, Delivery
from notifications.providers.push import (
    FcmPushProvider,
    PushMessage,
    PushOutcome,
    PushProviderError,
    PushResult,
)
from tests.factories import DeviceFactory

APP = object()  # what firebase_admin.initialize_app would give: the fake only checks it is passed
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=LOCAL)


@dataclass
class FakeFcm:
    """Each call is recorded; ``fail`` raises for the whole next call; ``answers`` gives, per
    token, an exception for that message (the others succeed with a message name)."""

    calls: list[dict] = field(default_factory=list)
    answers: dict[str, Exception] = field(default_factory=dict)
    fail: Exception | None = None

    def send_each(self, messages, dry_run=False, app=None):
        self.calls.append(
            {
                "app": app,
                "dry_run": dry_run,
                "messages": messages,
                # What the library would send (and its validation of each message).
                "wire": [messaging._MessagingService.encode_message(m) for m in messages],
            }
        )
        if self.fail is not None:
            raise self.fail
        return messaging.BatchResponse(
            [
                messaging.SendResponse(None, self.answers[m.token])
                if m.token in self.answers
                else messaging.SendResponse(
                    {"name": f"projects/congdanso/messages/{m.token}-{n}"}, None
                )
                for n, m in enumerate(messages)
            ]
        )


@pytest.fixture
def fcm(monkeypatch) -> FakeFcm:
    fake = FakeFcm()
    monkeypatch.setattr(messaging, "send_each", fake.send_each)
    # No credentials, no Firebase app: the fake is given this stand-in.
    monkeypatch.setattr(FcmPushProvider, "_firebase_app", classmethod(lambda cls: APP))
    return fake


def message(token: str, reference: str = "ref-1", **data: str) -> PushMessage:
    return PushMessage(
        token=token,
        title="Hồ sơ X đã có kết quả",
        body="Hồ sơ đã được giải quyết. Đã có kết quả.",
        data={"dossier": "X", **data},
        reference=reference,
    )


# --- the messages -------------------------------------------------------------------------------


def test_each_message_carries_its_token_texts_data_and_reference_as_collapse_key(fcm):
    reference = "0b7e2a4c-3f7e-4c47-9d55-2b1f0a6c9e11"

    FcmPushProvider().send(
        [message("tok-1", reference, notification="17"), message("tok-2", "ref-2")]
    )

    assert len(fcm.calls) == 1
    call = fcm.calls[0]
    assert (call["app"], call["dry_run"]) == (APP, False)
    assert call["wire"] == [
        {
            "token": "tok-1",
            "notification": {
                "title": "Hồ sơ X đã có kết quả",
                "body": "Hồ sơ đã được giải quyết. Đã có kết quả.",
            },
            "data": {"dossier": "X", "notification": "17", "delivery": reference},
            "android": {"collapse_key": reference, "notification": {"tag": reference}},
            "apns": {"headers": {"apns-collapse-id": reference}},
        },
        {
            "token": "tok-2",
            "notification": {
                "title": "Hồ sơ X đã có kết quả",
                "body": "Hồ sơ đã được giải quyết. Đã có kết quả.",
            },
            "data": {"dossier": "X", "delivery": "ref-2"},
            "android": {"collapse_key": "ref-2", "notification": {"tag": "ref-2"}},
            "apns": {"headers": {"apns-collapse-id": "ref-2"}},
        },
    ]
    first = call["messages"][0]
    assert (first.token, first.notification.title, first.data["delivery"]) == (
        "tok-1",
        "Hồ sơ X đã có kết quả",
        reference,
    )
    assert (first.android.collapse_key, first.android.notification.tag) == (reference, reference)
    assert first.apns.headers == {"apns-collapse-id": reference}


def test_a_success_answers_fcms_message_name(fcm):
    results = FcmPushProvider().send([message("tok-1"), message("tok-2", "ref-2")])

    assert results == [
        PushResult(PushOutcome.SENT, message_id="projects/congdanso/messages/tok-1-0"),
        PushResult(PushOutcome.SENT, message_id="projects/congdanso/messages/tok-2-1"),
    ]


# --- answers per message ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (messaging.UnregisteredError("Requested entity was not found."), PushOutcome.TOKEN_GONE),
        (
            messaging.SenderIdMismatchError("SenderId mismatch"),
            PushOutcome.TOKEN_GONE,
        ),
        (
            exceptions.InvalidArgumentError(
                "The registration token is not a valid FCM registration token"
            ),
            PushOutcome.TOKEN_GONE,
        ),
        (messaging.QuotaExceededError("Quota exceeded."), PushOutcome.TEMPORARY),
        (
            exceptions.UnavailableError("The service is currently unavailable."),
            PushOutcome.TEMPORARY,
        ),
        (exceptions.InternalError("Internal error encountered."), PushOutcome.TEMPORARY),
        (exceptions.DeadlineExceededError("Deadline exceeded."), PushOutcome.TEMPORARY),
        (messaging.ThirdPartyAuthError("APNs certificate expired"), PushOutcome.TEMPORARY),
        (
            exceptions.InvalidArgumentError("Invalid value at 'message.data[0].value'"),
            PushOutcome.PERMANENT,
        ),
        (exceptions.PermissionDeniedError("Permission denied."), PushOutcome.PERMANENT),
        (
            exceptions.UnknownError("Unknown error while making a remote service call"),
            PushOutcome.PERMANENT,
        ),
    ],
    ids=[
        "unregistered",
        "sender-id-mismatch",
        "invalid-token",
        "quota-exceeded",
        "unavailable",
        "internal",
        "deadline-exceeded",
        "third-party-auth",
        "invalid-argument",
        "permission-denied",
        "unknown",
    ],
)
def test_each_messages_error_maps_to_an_outcome(fcm, error, outcome):
    fcm.answers["tok-bad"] = error

    results = FcmPushProvider().send([message("tok-1"), message("tok-bad", "ref-2")])

    assert results == [
        PushResult(PushOutcome.SENT, message_id="projects/congdanso/messages/tok-1-0"),
        PushResult(outcome, error=f"{type(error).__name__}: {error}"),
    ]


def test_an_error_from_the_http_layer_keeps_its_cause_out_of_the_mapping(fcm):
    # As the library builds it from an HTTP 404 with FCM's UNREGISTERED error code.
    cause = ValueError("404 Client Error")
    fcm.answers["tok-1"] = messaging.UnregisteredError(
        "Requested entity was not found.", cause=cause, http_response=None
    )

    assert FcmPushProvider().send([message("tok-1")]) == [
        PushResult(
            PushOutcome.TOKEN_GONE, error="UnregisteredError: Requested entity was not found."
        )
    ]


def test_a_long_error_is_cut_to_the_column(fcm):
    fcm.answers["tok-1"] = exceptions.InvalidArgumentError("x" * 400)

    [result] = FcmPushProvider().send([message("tok-1")])

    assert result == PushResult(
        PushOutcome.PERMANENT, error=("InvalidArgumentError: " + "x" * 400)[:255]
    )
    assert len(result.error) == 255


# --- answers for the whole call -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (exceptions.UnauthenticatedError("Request had invalid authentication credentials."), True),
        (exceptions.PermissionDeniedError("The caller does not have permission"), True),
        (ValueError("A project ID is required to access the Cloud Messaging service."), True),
        (exceptions.UnavailableError("The service is currently unavailable."), False),
        (exceptions.UnknownError("Unknown error while making remote service calls"), False),
        (ConnectionResetError("Connection reset by peer"), False),
    ],
    ids=["unauthenticated", "permission-denied", "no-project", "unavailable", "unknown", "os"],
)
def test_a_failed_call_is_one_provider_error(fcm, error, permanent):
    fcm.fail = error

    with pytest.raises(PushProviderError) as caught:
        FcmPushProvider().send([message("tok-1"), message("tok-2", "ref-2")])

    assert (str(caught.value), caught.value.permanent) == (str(error), permanent)
    assert caught.value.__cause__ is error
    assert len(fcm.calls) == 1


def test_at_most_500_messages_go_in_one_call(fcm):
    results = FcmPushProvider().send([message(f"tok-{n}", f"ref-{n}") for n in range(500)])

    assert len(results) == 500
    assert {r.outcome for r in results} == {PushOutcome.SENT}
    assert [len(call["messages"]) for call in fcm.calls] == [500]


def test_more_than_500_messages_are_refused_before_calling_fcm(fcm):
    with pytest.raises(ValueError, match=r"^FCM takes at most 500 messages a call$"):
        FcmPushProvider().send([message(f"tok-{n}", f"ref-{n}") for n in range(501)])

    assert fcm.calls == []


# --- through the delivery path ------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch) -> Callable[[datetime], None]:
    def set_clock(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_clock


@pytest.mark.django_db
def test_a_token_fcm_no_longer_knows_deactivates_the_device_and_the_sms_goes_instead(
    citizen, fcm, settings, clock
):
    settings.PUSH_PROVIDER = "fcm"
    clock(NOW)
    gone = DeviceFactory(user=citizen, token="tok-gone")
    fcm.answers["tok-gone"] = messaging.UnregisteredError("Requested entity was not found.")
    notify(
        users=[citizen],
        event="dossier.approved",
        key="dossier:X:event:1",
        context={"code": "X"},
        data={"dossier": "X"},
    )
    push = Delivery.objects.get(channel=Channel.PUSH)

    result = deliveries_send(channel=Channel.PUSH)

    assert (result.claimed, result.sent) == (1, 0)
    [call] = fcm.calls
    assert call["wire"] == [
        {
            "token": "tok-gone",
            "notification": {
                "title": "Hồ sơ X đã có kết quả",
                "body": "Hồ sơ đã được giải quyết. Đã có kết quả.",
            },
            "data": {
                "dossier": "X",
                "notification": str(push.notification_id),
                "category": "dossier",
                "delivery": str(push.id),
            },
            "android": {"collapse_key": str(push.id), "notification": {"tag": str(push.id)}},
            "apns": {"headers": {"apns-collapse-id": str(push.id)}},
        }
    ]
    assert list(
        Delivery.objects.order_by("channel").values_list("channel", "status", "provider", "error")
    ) == [
        ("push", "permanent-failure", "fcm", "UnregisteredError: Requested entity was not found."),
        ("sms", "created", "", ""),
    ]
    assert Device.objects.filter(pk=gone.pk).values_list("is_active", flat=True).get() is False
