"""The SMS outbox: persisted before sending, claimed once, bounded retries, swept when stuck.

The provider is the outside world; these tests use the in-memory one (``MemorySmsProvider``,
``fail_next`` simulates the gateway's errors) and, where the test needs to look at the row while
the gateway is being called, a gateway stand-in built on it."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from celery.signals import task_retry
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from notifications.actions import (
    STALE_SENDING_AFTER,
    STUCK_CREATED_AFTER,
    STUCK_RETRY_AFTER,
    SendOutcome,
    sms_erase_phone,
    sms_queue,
    sms_retry_delay,
    sms_send,
    sms_sweep_stuck,
)
from notifications.models import LEFT_STATUSES, SMS_TRANSITIONS, DeliveryStatus, SmsMessage
from notifications.providers.sms import (
    SMS_PROVIDERS,
    MemorySmsProvider,
    ProviderError,
    SentSms,
    SmsResult,
)
from notifications.tasks import send_sms, sweep_stuck_sms
from tests.conftest import PublishedTask
from tests.factories import SmsMessageFactory

pytestmark = pytest.mark.django_db

OTP_TEXT = "Mã xác thực Công dân số của bạn là 123456. Không chia sẻ mã này."
NOTICE_TEXT = "UBND xã Thất Khê thông báo: lịch tiêm chủng ngày 15/7 tại nhà văn hoá thôn."
PHONE = "+84912345678"


def _temporary(n: int = 1) -> list[ProviderError]:
    return [ProviderError(f"gateway busy {i}") for i in range(1, n + 1)]


def _age(message: SmsMessage, **fields: timedelta) -> None:
    """Move the row's timestamps into the past (``updated_at=timedelta(minutes=5)``)."""
    now = timezone.now()
    SmsMessage.objects.filter(pk=message.pk).update(
        **{name: now - delta for name, delta in fields.items()}
    )


def _row(message: SmsMessage) -> dict:
    return SmsMessage.objects.filter(pk=message.pk).values(
        "status", "attempts", "body", "error", "provider", "provider_reference"
    )[0]


@pytest.fixture
def retries() -> list[float]:
    """The countdown of every retry a Celery task asked for (Celery's ``task_retry`` signal)."""
    countdowns: list[float] = []

    def record(sender=None, reason=None, **kwargs) -> None:
        countdowns.append(reason.when)

    task_retry.connect(record, weak=False)
    yield countdowns
    task_retry.disconnect(record)


# --- the state machine, as data ---------------------------------------------------------------


def test_every_status_has_transitions_and_final_statuses_have_none():
    S = DeliveryStatus
    assert set(SMS_TRANSITIONS) == set(S.values)
    expected = {
        S.CREATED: {S.SENDING, S.TECHNICAL_FAILURE},
        S.SENDING: {
            S.SENT,
            S.DELIVERED,
            S.TEMPORARY_FAILURE,
            S.PERMANENT_FAILURE,
            S.TECHNICAL_FAILURE,
        },
        S.TEMPORARY_FAILURE: {S.SENDING, S.TECHNICAL_FAILURE},
        S.SENT: {S.DELIVERED, S.PERMANENT_FAILURE},
        S.DELIVERED: set(),
        S.PERMANENT_FAILURE: set(),
        S.TECHNICAL_FAILURE: set(),
    }
    assert expected == SMS_TRANSITIONS
    for targets in SMS_TRANSITIONS.values():
        assert targets <= set(S.values)
        assert S.CREATED not in targets  # nothing goes back to "created"
    left = {S.SENT, S.DELIVERED, S.PERMANENT_FAILURE, S.TECHNICAL_FAILURE}
    assert left == LEFT_STATUSES


def test_the_database_refuses_an_unknown_status():
    message = SmsMessageFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        SmsMessage.objects.filter(pk=message.pk).update(status="lost")
    assert _row(message)["status"] == DeliveryStatus.CREATED


# --- sms_queue ----------------------------------------------------------------------------------


def test_queue_persists_a_created_row_and_publishes_only_on_commit(
    django_capture_on_commit_callbacks, published_tasks, sms_outbox
):
    expires_at = timezone.now() + timedelta(minutes=5)
    with django_capture_on_commit_callbacks() as callbacks:
        message = sms_queue(
            phone=PHONE, body=OTP_TEXT, purpose="otp:login", sensitive=True, expires_at=expires_at
        )
        assert published_tasks == []

    row = SmsMessage.objects.get()
    assert row.pk == message.pk
    assert (row.phone, row.body, row.purpose, row.sensitive, row.expires_at) == (
        PHONE,
        OTP_TEXT,
        "otp:login",
        True,
        expires_at,
    )
    assert (row.status, row.attempts, row.provider, row.provider_reference, row.error) == (
        DeliveryStatus.CREATED,
        0,
        "",
        "",
        "",
    )
    assert row.sent_at is None
    assert published_tasks == []
    assert len(callbacks) == 1

    callbacks[0]()

    assert published_tasks == [PublishedTask("notifications.send_sms", [str(message.id)], "sms")]
    assert sms_outbox == []  # publishing is not sending
    assert _row(message)["status"] == DeliveryStatus.CREATED


def test_queue_in_a_rolled_back_transaction_leaves_no_row_and_publishes_nothing(
    django_capture_on_commit_callbacks, published_tasks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        sms_queue(phone=PHONE, body=OTP_TEXT, purpose="otp:login", sensitive=True)
        raise RuntimeError("the caller failed after queueing")

    assert callbacks == []
    assert published_tasks == []
    assert SmsMessage.objects.count() == 0


@pytest.mark.parametrize(("phone", "body", "field"), [("", OTP_TEXT, "phone"), (PHONE, "", "body")])
def test_queue_refuses_an_empty_phone_or_text(
    phone, body, field, django_capture_on_commit_callbacks, published_tasks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ValidationError) as excinfo,
    ):
        sms_queue(phone=phone, body=body, purpose="otp:login")

    assert list(excinfo.value.message_dict) == [field]
    assert SmsMessage.objects.count() == 0
    assert callbacks == []
    assert published_tasks == []


# --- sms_send -----------------------------------------------------------------------------------


class SnapshotProvider(MemorySmsProvider):
    """A gateway stand-in that notes, while it is being called, what the database holds."""

    name = "snapshot"
    seen: list[dict] = []

    def send(self, *, phone: str, body: str, reference: str) -> SmsResult:
        row = SmsMessage.objects.filter(pk=reference).values(
            "status", "attempts", "provider", "body"
        )[0]
        self.seen.append({**row, "in_transaction": connection.in_atomic_block})
        return super().send(phone=phone, body=body, reference=reference)


@pytest.fixture
def snapshot_provider(settings, monkeypatch) -> type[SnapshotProvider]:
    monkeypatch.setitem(SMS_PROVIDERS, SnapshotProvider.name, SnapshotProvider)
    monkeypatch.setattr(SnapshotProvider, "seen", [])
    settings.SMS_PROVIDER = SnapshotProvider.name
    return SnapshotProvider


@pytest.mark.django_db(transaction=True)
def test_send_claims_the_row_commits_then_calls_the_provider_then_records_sent(
    snapshot_provider, sms_outbox
):
    message = SmsMessageFactory(phone=PHONE, body=OTP_TEXT, sensitive=True)
    before = timezone.now()

    assert sms_send(message_id=str(message.id)) is SendOutcome.SENT

    # While the gateway was called: the claim was committed ("sending", attempt 1, provider
    # recorded), no transaction was open, and the text was still there.
    assert snapshot_provider.seen == [
        {
            "status": DeliveryStatus.SENDING,
            "attempts": 1,
            "provider": "snapshot",
            "body": OTP_TEXT,
            "in_transaction": False,
        }
    ]
    assert sms_outbox == [SentSms(phone=PHONE, body=OTP_TEXT, reference=str(message.id))]
    row = SmsMessage.objects.get(pk=message.pk)
    assert (row.status, row.attempts, row.provider, row.provider_reference, row.error) == (
        DeliveryStatus.SENT,
        1,
        "snapshot",
        str(message.id),
        "",
    )
    assert row.body == ""  # the OTP is wiped once it has left
    assert before <= row.sent_at <= timezone.now()


def test_send_keeps_the_text_of_a_message_that_is_not_sensitive(sms_outbox):
    message = SmsMessageFactory(body=NOTICE_TEXT, sensitive=False, purpose="broadcast")

    assert sms_send(message_id=str(message.id)) is SendOutcome.SENT

    assert _row(message) == {
        "status": DeliveryStatus.SENT,
        "attempts": 1,
        "body": NOTICE_TEXT,
        "error": "",
        "provider": "memory",
        "provider_reference": str(message.id),
    }
    assert [sms.body for sms in sms_outbox] == [NOTICE_TEXT]


def test_send_twice_sends_once(sms_outbox):
    message = SmsMessageFactory(phone=PHONE, body=OTP_TEXT)

    assert sms_send(message_id=str(message.id)) is SendOutcome.SENT
    assert sms_send(message_id=str(message.id)) is SendOutcome.SKIPPED

    assert sms_outbox == [SentSms(phone=PHONE, body=OTP_TEXT, reference=str(message.id))]
    assert _row(message)["attempts"] == 1
    assert _row(message)["status"] == DeliveryStatus.SENT


@pytest.mark.parametrize(
    "status",
    [
        DeliveryStatus.SENDING,
        DeliveryStatus.SENT,
        DeliveryStatus.DELIVERED,
        DeliveryStatus.PERMANENT_FAILURE,
        DeliveryStatus.TECHNICAL_FAILURE,
    ],
)
def test_send_skips_a_row_in_flight_or_final(status, sms_outbox):
    message = SmsMessageFactory(status=status, attempts=1, body=NOTICE_TEXT, sensitive=False)
    before = _row(message)

    assert sms_send(message_id=str(message.id)) is SendOutcome.SKIPPED

    assert _row(message) == before
    assert sms_outbox == []


def test_send_of_an_unknown_id_is_skipped(sms_outbox):
    assert sms_send(message_id="00000000-0000-4000-8000-000000000000") is SendOutcome.SKIPPED
    assert sms_outbox == []


def test_temporary_error_records_it_and_asks_for_a_retry_then_the_next_call_sends(sms_outbox):
    message = SmsMessageFactory(phone=PHONE, body=OTP_TEXT, sensitive=True)
    MemorySmsProvider.fail_next.extend(_temporary(1))

    assert sms_send(message_id=str(message.id)) is SendOutcome.RETRY

    assert _row(message) == {
        "status": DeliveryStatus.TEMPORARY_FAILURE,
        "attempts": 1,
        "body": OTP_TEXT,  # kept: it is still to be sent
        "error": "gateway busy 1",
        "provider": "memory",
        "provider_reference": "",
    }
    assert sms_outbox == []

    assert sms_send(message_id=str(message.id)) is SendOutcome.SENT

    assert _row(message) == {
        "status": DeliveryStatus.SENT,
        "attempts": 2,
        "body": "",
        "error": "",
        "provider": "memory",
        "provider_reference": str(message.id),
    }
    assert sms_outbox == [SentSms(phone=PHONE, body=OTP_TEXT, reference=str(message.id))]


def test_permanent_error_fails_the_message_without_retry(sms_outbox):
    message = SmsMessageFactory(phone=PHONE, body=OTP_TEXT, sensitive=True)
    MemorySmsProvider.fail_next.append(ProviderError("number not in service", permanent=True))

    assert sms_send(message_id=str(message.id)) is SendOutcome.FAILED

    assert _row(message) == {
        "status": DeliveryStatus.PERMANENT_FAILURE,
        "attempts": 1,
        "body": "",
        "error": "number not in service",
        "provider": "memory",
        "provider_reference": "",
    }
    assert sms_send(message_id=str(message.id)) is SendOutcome.SKIPPED
    assert _row(message)["attempts"] == 1
    assert sms_outbox == []


@pytest.mark.parametrize(("sensitive", "body_after"), [(True, ""), (False, NOTICE_TEXT)])
def test_after_the_last_attempt_a_temporary_error_becomes_a_technical_failure(
    sensitive, body_after, settings, sms_outbox
):
    assert settings.SMS_MAX_ATTEMPTS == 5
    message = SmsMessageFactory(body=NOTICE_TEXT, sensitive=sensitive)
    MemorySmsProvider.fail_next.extend(_temporary(6))

    outcomes = [sms_send(message_id=str(message.id)) for _ in range(6)]

    assert outcomes == [SendOutcome.RETRY] * 4 + [SendOutcome.FAILED, SendOutcome.SKIPPED]
    assert _row(message) == {
        "status": DeliveryStatus.TECHNICAL_FAILURE,
        "attempts": 5,
        "body": body_after,
        "error": "gateway busy 5",
        "provider": "memory",
        "provider_reference": "",
    }
    assert [str(e) for e in MemorySmsProvider.fail_next] == ["gateway busy 6"]  # 5 calls, no 6th
    assert sms_outbox == []


@pytest.mark.parametrize(
    ("status", "attempts"),
    [(DeliveryStatus.CREATED, 0), (DeliveryStatus.TEMPORARY_FAILURE, 2)],
)
def test_an_expired_message_is_never_sent(status, attempts, sms_outbox):
    message = SmsMessageFactory(
        status=status,
        attempts=attempts,
        body=OTP_TEXT,
        sensitive=True,
        expires_at=timezone.now() - timedelta(seconds=1),
    )

    assert sms_send(message_id=str(message.id)) is SendOutcome.FAILED

    assert _row(message) == {
        "status": DeliveryStatus.TECHNICAL_FAILURE,
        "attempts": attempts,
        "body": "",
        "error": "expired before sending",
        "provider": "",
        "provider_reference": "",
    }
    assert sms_outbox == []


def test_a_message_not_expired_yet_is_sent(sms_outbox):
    message = SmsMessageFactory(expires_at=timezone.now() + timedelta(minutes=5))

    assert sms_send(message_id=str(message.id)) is SendOutcome.SENT
    assert len(sms_outbox) == 1


class SlowGateway(MemorySmsProvider):
    """Answers only after the sweeper has given up on the row (a gateway slower than
    STALE_SENDING_AFTER): it runs the sweep while "waiting"."""

    name = "slow"

    def send(self, *, phone: str, body: str, reference: str) -> SmsResult:
        SmsMessage.objects.filter(pk=reference).update(
            updated_at=timezone.now() - STALE_SENDING_AFTER - timedelta(seconds=1)
        )
        sms_sweep_stuck()
        return super().send(phone=phone, body=body, reference=reference)


def test_a_late_answer_does_not_move_a_row_the_sweeper_failed(
    settings, monkeypatch, sms_outbox, caplog
):
    monkeypatch.setitem(SMS_PROVIDERS, SlowGateway.name, SlowGateway)
    settings.SMS_PROVIDER = SlowGateway.name
    message = SmsMessageFactory(body=NOTICE_TEXT, sensitive=False)

    with caplog.at_level(logging.WARNING, logger="notifications.actions"):
        assert sms_send(message_id=str(message.id)) is SendOutcome.SENT

    assert _row(message) == {
        "status": DeliveryStatus.TECHNICAL_FAILURE,
        "attempts": 1,
        "body": NOTICE_TEXT,
        "error": "no answer from the worker",
        "provider": "slow",
        "provider_reference": "",
    }
    assert len(sms_outbox) == 1
    assert caplog.messages == [f"sms {message.id} sent via slow but its row had moved on"]


# --- the sweeper --------------------------------------------------------------------------------

SECOND = timedelta(seconds=1)


def test_sweeper_requeues_rows_stuck_in_created_or_waiting_for_a_retry_and_not_fresh_ones(
    published_tasks, sms_outbox
):
    created_older = SmsMessageFactory()  # saved first, so last in the model's default order
    created_old = SmsMessageFactory()
    created_fresh = SmsMessageFactory()
    retry_old = SmsMessageFactory(status=DeliveryStatus.TEMPORARY_FAILURE, attempts=1)
    retry_fresh = SmsMessageFactory(status=DeliveryStatus.TEMPORARY_FAILURE, attempts=1)
    sending = SmsMessageFactory(status=DeliveryStatus.SENDING, attempts=1)
    sent = SmsMessageFactory(status=DeliveryStatus.SENT, attempts=1, body="")
    _age(created_old, updated_at=STUCK_CREATED_AFTER + 5 * SECOND)
    _age(created_older, updated_at=STUCK_CREATED_AFTER + 50 * SECOND)
    _age(created_fresh, updated_at=STUCK_CREATED_AFTER - 10 * SECOND)
    _age(retry_old, updated_at=STUCK_RETRY_AFTER + 5 * SECOND)
    _age(retry_fresh, updated_at=STUCK_RETRY_AFTER - 10 * SECOND)
    _age(sending, updated_at=STALE_SENDING_AFTER - 10 * SECOND)
    _age(sent, updated_at=timedelta(days=1))
    untouched = (created_fresh, retry_fresh, sending, sent)
    before = [_row(m) for m in untouched]

    requeued = sms_sweep_stuck()

    expected = [str(created_older.id), str(created_old.id), str(retry_old.id)]  # oldest first
    assert requeued == expected
    assert published_tasks == [
        PublishedTask("notifications.send_sms", [pk], "sms") for pk in expected
    ]
    # Re-queued rows keep their state (the task does the sending); the others are untouched.
    assert [_row(m)["status"] for m in (created_older, created_old, retry_old)] == [
        DeliveryStatus.CREATED,
        DeliveryStatus.CREATED,
        DeliveryStatus.TEMPORARY_FAILURE,
    ]
    assert [_row(m) for m in untouched] == before
    assert sms_outbox == []

    # Re-queued once per interval, not on every sweep.
    assert sms_sweep_stuck() == []
    assert len(published_tasks) == 3


def test_sweeper_times_out_rows_stuck_in_sending(published_tasks):
    stale = SmsMessageFactory(status=DeliveryStatus.SENDING, attempts=1, body=OTP_TEXT)
    busy = SmsMessageFactory(status=DeliveryStatus.SENDING, attempts=1, body=OTP_TEXT)
    _age(stale, updated_at=STALE_SENDING_AFTER + 5 * SECOND)
    _age(busy, updated_at=STALE_SENDING_AFTER - 10 * SECOND)

    assert sms_sweep_stuck() == []

    assert _row(stale) == {
        "status": DeliveryStatus.TECHNICAL_FAILURE,
        "attempts": 1,
        "body": "",
        "error": "no answer from the worker",
        "provider": "",
        "provider_reference": "",
    }
    assert _row(busy)["status"] == DeliveryStatus.SENDING
    assert _row(busy)["body"] == OTP_TEXT
    assert published_tasks == []


def test_sweeper_fails_expired_messages_instead_of_requeueing_them(published_tasks):
    past = timezone.now() - SECOND
    expired_created = SmsMessageFactory(expires_at=past)
    expired_retry = SmsMessageFactory(
        status=DeliveryStatus.TEMPORARY_FAILURE, attempts=2, expires_at=past
    )
    expired_fresh = SmsMessageFactory(expires_at=past)  # expired, even if not stuck yet
    expired_sent = SmsMessageFactory(status=DeliveryStatus.SENT, attempts=1, expires_at=past)
    valid_stuck = SmsMessageFactory(expires_at=timezone.now() + timedelta(minutes=4))
    for message in (expired_created, valid_stuck):
        _age(message, updated_at=STUCK_CREATED_AFTER + 5 * SECOND)
    _age(expired_retry, updated_at=STUCK_RETRY_AFTER + 5 * SECOND)

    assert sms_sweep_stuck() == [str(valid_stuck.id)]

    for message in (expired_created, expired_retry, expired_fresh):
        row = _row(message)
        assert (row["status"], row["error"], row["body"]) == (
            DeliveryStatus.TECHNICAL_FAILURE,
            "expired before sending",
            "",
        )
    assert _row(expired_sent)["status"] == DeliveryStatus.SENT
    assert published_tasks == [
        PublishedTask("notifications.send_sms", [str(valid_stuck.id)], "sms")
    ]


def test_a_requeued_copy_of_a_message_a_worker_already_sent_is_skipped(sms_outbox):
    message = SmsMessageFactory(body=NOTICE_TEXT, sensitive=False)
    _age(message, updated_at=STUCK_CREATED_AFTER + 5 * SECOND)
    assert sms_sweep_stuck() == [str(message.id)]

    # The original task (only late, not lost) and the sweeper's copy both run.
    assert sms_send(message_id=str(message.id)) is SendOutcome.SENT
    assert sms_send(message_id=str(message.id)) is SendOutcome.SKIPPED

    assert sms_outbox == [SentSms(phone=message.phone, body=NOTICE_TEXT, reference=str(message.id))]


# --- the Celery tasks ---------------------------------------------------------------------------
# ``apply()`` runs a task in this process; an eager retry runs again at once, and Celery's
# ``task_retry`` signal still reports the countdown a worker would have waited.


def test_send_sms_task_schedules_a_retry_after_a_temporary_error(retries, sms_outbox):
    message = SmsMessageFactory(body=NOTICE_TEXT, sensitive=False)
    MemorySmsProvider.fail_next.extend(_temporary(1))

    result = send_sms.apply(args=[str(message.id)])

    assert retries == [5]
    assert result.get() == "sent"
    assert _row(message)["attempts"] == 2
    assert _row(message)["status"] == DeliveryStatus.SENT
    assert len(sms_outbox) == 1


def test_send_sms_task_does_not_retry_a_permanent_error(retries, sms_outbox):
    message = SmsMessageFactory()
    MemorySmsProvider.fail_next.append(ProviderError("blocked number", permanent=True))

    result = send_sms.apply(args=[str(message.id)])

    assert result.get() == "failed"
    assert retries == []
    assert _row(message)["status"] == DeliveryStatus.PERMANENT_FAILURE
    assert _row(message)["attempts"] == 1
    assert sms_outbox == []


def test_send_sms_task_retries_are_bounded_with_backoff(retries, sms_outbox):
    message = SmsMessageFactory()
    MemorySmsProvider.fail_next.extend(_temporary(10))

    result = send_sms.apply(args=[str(message.id)])

    assert result.get() == "failed"
    assert retries == [5, 10, 20, 40]
    assert _row(message)["status"] == DeliveryStatus.TECHNICAL_FAILURE
    assert _row(message)["attempts"] == 5
    assert len(MemorySmsProvider.fail_next) == 5
    assert sms_outbox == []


def test_send_sms_task_skips_a_message_already_sent(retries, sms_outbox):
    message = SmsMessageFactory(status=DeliveryStatus.SENT, attempts=1, body="")

    assert send_sms.apply(args=[str(message.id)]).get() == "skipped"
    assert retries == []
    assert sms_outbox == []


def test_sweep_task_returns_how_many_it_requeued(published_tasks):
    stuck = SmsMessageFactory()
    _age(stuck, updated_at=STUCK_CREATED_AFTER + 5 * SECOND)
    SmsMessageFactory()

    assert sweep_stuck_sms.apply().get() == 1
    assert published_tasks == [PublishedTask("notifications.send_sms", [str(stuck.id)], "sms")]


@pytest.mark.parametrize(
    ("attempts", "delay"),
    [(0, 5), (1, 5), (2, 10), (3, 20), (4, 40), (5, 80), (6, 160), (7, 300), (30, 300)],
)
def test_retry_delay_doubles_up_to_five_minutes(attempts, delay):
    assert sms_retry_delay(attempts) == delay


# --- erasure ------------------------------------------------------------------------------------


def test_erase_phone_de_identifies_that_numbers_messages_only(sms_outbox):
    sent = SmsMessageFactory(
        phone=PHONE, status=DeliveryStatus.SENT, attempts=1, body=NOTICE_TEXT, sensitive=False
    )
    delivered = SmsMessageFactory(phone=PHONE, status=DeliveryStatus.DELIVERED, body="")
    pending = SmsMessageFactory(phone=PHONE, body=OTP_TEXT)
    retrying = SmsMessageFactory(
        phone=PHONE, status=DeliveryStatus.TEMPORARY_FAILURE, attempts=1, body=OTP_TEXT
    )
    someone_else = SmsMessageFactory(phone="+84987654321", body=NOTICE_TEXT, sensitive=False)
    kept = _row(someone_else)

    assert sms_erase_phone(phone=PHONE) == 4

    erased = SmsMessage.objects.filter(pk__in=[sent.pk, delivered.pk, pending.pk, retrying.pk])
    assert sorted(erased.values_list("phone", "body", "purpose")) == [("", "", "otp:login")] * 4
    assert SmsMessage.objects.filter(phone=PHONE).count() == 0
    assert _row(sent)["status"] == DeliveryStatus.SENT
    assert _row(delivered)["status"] == DeliveryStatus.DELIVERED
    # What was not sent yet never will be: no text to an empty number.
    for message in (pending, retrying):
        row = _row(message)
        assert (row["status"], row["error"]) == (
            DeliveryStatus.TECHNICAL_FAILURE,
            "recipient erased",
        )
        assert sms_send(message_id=str(message.id)) is SendOutcome.SKIPPED
    assert _row(someone_else) == kept
    assert sms_outbox == []


def test_erase_phone_of_a_number_without_messages_changes_nothing():
    message = SmsMessageFactory(phone="+84987654321")
    kept = _row(message)

    assert sms_erase_phone(phone=PHONE) == 0
    assert _row(message) == kept


def test_erase_phone_fails_a_message_being_sent_so_it_is_never_retried(sms_outbox):
    sending = SmsMessageFactory(
        phone=PHONE, status=DeliveryStatus.SENDING, attempts=1, body=OTP_TEXT
    )

    assert sms_erase_phone(phone=PHONE) == 1

    row = SmsMessage.objects.filter(pk=sending.pk).values()[0]
    assert (row["status"], row["error"], row["phone"], row["body"]) == (
        DeliveryStatus.TECHNICAL_FAILURE,
        "recipient erased",
        "",
        "",
    )
    assert sms_send(message_id=str(sending.id)) is SendOutcome.SKIPPED
    assert sms_outbox == []


def test_a_message_without_a_number_is_never_sent(sms_outbox):
    message = SmsMessageFactory(phone="", body=NOTICE_TEXT, sensitive=False)

    assert sms_send(message_id=str(message.id)) is SendOutcome.FAILED

    row = _row(message)
    assert (row["status"], row["error"], row["attempts"]) == (
        DeliveryStatus.TECHNICAL_FAILURE,
        "no recipient",
        0,
    )
    assert sms_outbox == []
