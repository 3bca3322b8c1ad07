"""The write path of notifications. Domain apps call these; they never talk to a provider."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from notifications.errors import NotificationNotFound
from notifications.models import (
    LEFT_STATUSES,
    SMS_TRANSITIONS,
    DeliveryStatus,
    Notification,
    SmsMessage,
)
from notifications.providers.sms import ProviderError, get_sms_provider

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

# A message still "created" this long after it was saved was lost by the broker.
STUCK_CREATED_AFTER = timedelta(seconds=60)
# A temporary failure waits at most this long for its retry before the sweeper re-queues it.
STUCK_RETRY_AFTER = timedelta(minutes=10)
# Longer than the task time limit: a "sending" row this old belongs to a dead worker.
STALE_SENDING_AFTER = timedelta(minutes=15)


class SendOutcome(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"


def sms_queue(
    *,
    phone: str,
    body: str,
    purpose: str,
    sensitive: bool = False,
    expires_at: datetime | None = None,
) -> SmsMessage:
    """Persist an SMS and publish its send task after commit."""
    from notifications.tasks import send_sms

    message = SmsMessage(
        phone=phone, body=body, purpose=purpose, sensitive=sensitive, expires_at=expires_at
    )
    message.full_clean()
    message.save()
    from config.celery import enqueue_on_commit

    enqueue_on_commit(send_sms, str(message.id))
    return message


def _transition(message: SmsMessage, new: str, **fields: object) -> bool:
    """Compare-and-set one allowed transition; False if the row moved on meanwhile."""
    if new not in SMS_TRANSITIONS[message.status]:
        return False
    if message.sensitive and new in LEFT_STATUSES:
        fields["body"] = ""
    fields["updated_at"] = timezone.now()
    updated = SmsMessage.objects.filter(pk=message.pk, status=message.status).update(
        status=new, **fields
    )
    if updated:
        # The caller goes on with this object (attempts, body): keep it equal to the row.
        message.status = new
        for key, value in fields.items():
            setattr(message, key, value)
    return bool(updated)


def sms_send(*, message_id: str) -> SendOutcome:
    """Claim the row, call the provider outside any transaction, record the outcome."""
    now = timezone.now()
    with transaction.atomic():
        message = SmsMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status not in (
            DeliveryStatus.CREATED,
            DeliveryStatus.TEMPORARY_FAILURE,
        ):
            return SendOutcome.SKIPPED
        if message.expires_at and message.expires_at <= now:
            _transition(message, DeliveryStatus.TECHNICAL_FAILURE, error="expired before sending")
            return SendOutcome.FAILED
        if not message.phone:
            _transition(message, DeliveryStatus.TECHNICAL_FAILURE, error="no recipient")
            return SendOutcome.FAILED
        provider = get_sms_provider()
        # Call the provider only if our compare-and-set claimed the row; the lock makes a lost
        # claim unlikely, but a lost claim must never turn into a second text.
        if not _transition(
            message,
            DeliveryStatus.SENDING,
            attempts=message.attempts + 1,
            provider=provider.name,
        ):
            return SendOutcome.SKIPPED

    try:
        result = provider.send(phone=message.phone, body=message.body, reference=str(message.id))
    except ProviderError as exc:
        if exc.permanent:
            _transition(message, DeliveryStatus.PERMANENT_FAILURE, error=str(exc)[:255])
            return SendOutcome.FAILED
        if message.attempts >= settings.SMS_MAX_ATTEMPTS:
            _transition(message, DeliveryStatus.TECHNICAL_FAILURE, error=str(exc)[:255])
            return SendOutcome.FAILED
        _transition(message, DeliveryStatus.TEMPORARY_FAILURE, error=str(exc)[:255])
        return SendOutcome.RETRY
    except Exception as exc:
        # A bug in a provider, not an outage: no retry, but the row must not hang in "sending".
        _transition(message, DeliveryStatus.TECHNICAL_FAILURE, error=type(exc).__name__[:255])
        raise

    if not _transition(
        message,
        DeliveryStatus.SENT,
        provider_reference=result.provider_reference,
        sent_at=timezone.now(),
        error="",
    ):
        # The sweeper gave up on this row while the provider was answering; the text did leave.
        logger.warning("sms %s sent via %s but its row had moved on", message.id, provider.name)
        return SendOutcome.SENT
    logger.info("sms %s sent via %s", message.id, provider.name)
    return SendOutcome.SENT


def sms_retry_delay(attempts: int) -> int:
    return min(5 * 2 ** max(attempts - 1, 0), 300)


def sms_sweep_stuck() -> list[str]:
    """Re-queue what the broker may have lost; fail what can no longer be sent.

    Returns the ids re-queued."""
    from notifications.tasks import send_sms

    now = timezone.now()
    for message in SmsMessage.objects.filter(
        status__in=[DeliveryStatus.CREATED, DeliveryStatus.TEMPORARY_FAILURE],
        expires_at__lte=now,
    ):
        _transition(message, DeliveryStatus.TECHNICAL_FAILURE, error="expired before sending")
    for message in SmsMessage.objects.filter(
        status=DeliveryStatus.SENDING, updated_at__lte=now - STALE_SENDING_AFTER
    ):
        _transition(message, DeliveryStatus.TECHNICAL_FAILURE, error="no answer from the worker")

    ids: list[str] = []
    for status, after in (
        (DeliveryStatus.CREATED, STUCK_CREATED_AFTER),
        (DeliveryStatus.TEMPORARY_FAILURE, STUCK_RETRY_AFTER),
    ):
        # Oldest first (the model's default order is newest first, which would starve the
        # oldest rows behind a backlog), along the (status, updated_at) index.
        stuck = list(
            SmsMessage.objects.filter(status=status, updated_at__lte=now - after)
            .order_by("updated_at")
            .values_list("id", flat=True)[:1000]
        )
        # Stamp them, so a row still waiting behind a long queue is re-queued once per interval
        # and not on every sweep; the status guard leaves alone a row a worker just claimed.
        SmsMessage.objects.filter(pk__in=stuck, status=status).update(updated_at=now)
        ids += [str(pk) for pk in stuck]
    for pk in ids:
        send_sms.apply_async(args=[pk])
    if ids:
        logger.info("sweeper re-queued %d SMS", len(ids))
    return ids


def sms_erase_phone(*, phone: str) -> int:
    """De-identify the messages sent to a number (its owner erased their account): the records
    stay for delivery statistics, without the number or the text.

    A message not sent yet is failed first: once the number is wiped, a worker would otherwise
    send it to an empty number."""
    for message in SmsMessage.objects.filter(
        phone=phone,
        status__in=[
            DeliveryStatus.CREATED,
            DeliveryStatus.TEMPORARY_FAILURE,
            DeliveryStatus.SENDING,
        ],
    ):
        # Through the one guard; a row "sending" right now fails if its provider call errs, and
        # is never retried to the wiped number (sms_send refuses an empty number).
        _transition(message, DeliveryStatus.TECHNICAL_FAILURE, error="recipient erased")
    return SmsMessage.objects.filter(phone=phone).update(
        phone="", body="", updated_at=timezone.now()
    )


def notify(
    *,
    users: Iterable[User],
    category: str,
    key: str,
    render: Callable[[], tuple[str, str]],
    data: dict | None = None,
) -> int:
    """Write one inbox message per recipient, rendered in the recipient's language (``render``
    returns the title and the text, called with that language active). Call it inside the
    transaction of the event: the message exists exactly when the event does. The same ``key``
    written twice for a user leaves one message. Returns the number of recipients."""
    # Nobody writes to an erased or deactivated account.
    users = list({user.pk: user for user in users if user.is_active}.values())
    texts: dict[str, tuple[str, str]] = {}
    rows = []
    for user in users:
        language = user.language or settings.LANGUAGE_CODE
        if language not in texts:
            with translation.override(language):
                title, body = render()
            texts[language] = (str(title)[:200], str(body)[:2000])
        title, body = texts[language]
        rows.append(
            Notification(
                user=user, category=category, key=key, title=title, body=body, data=data or {}
            )
        )
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def notification_read(*, user: User, notification_id: int) -> Notification:
    """Mark one of the user's messages read (reading it again changes nothing)."""
    notification = Notification.objects.filter(user=user, pk=notification_id).first()
    if notification is None:
        raise NotificationNotFound()
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notifications_read_all(*, user: User) -> int:
    """Mark every unread message of the user read; returns how many were unread."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
