"""The write path of notifications. Domain apps call these; they never talk to a provider."""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
from dataclasses import astuple, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

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


@dataclass(frozen=True)
class Message:
    """One event told to some users: its key (unique per user), its context, its link data."""

    users: Iterable[User]
    key: str
    context: dict[str, object]
    data: dict | None = None


def notify(
    *,
    users: Iterable[User],
    event: str,
    key: str,
    context: dict[str, object],
    data: dict | None = None,
) -> int:
    """Write one inbox message per recipient and its deliveries (push, email, the SMS fallback),
    rendered in the recipient's language from the event's templates (``notifications.events``)
    with ``context``. Call it inside the transaction of the event: the message exists exactly
    when the event does, and the deliveries are published after commit. The same ``key``
    written twice for a user leaves one message. Returns the number of recipients."""
    return notify_many(event=event, messages=[Message(users, key, context, data)])


def _chunked(items: list, size: int = 2000) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def notify_many(*, event: str, messages: list[Message]) -> int:
    """``notify`` for many messages of one event at once, in a fixed number of queries (a
    periodic run warning about many dossiers). Returns the number of (message, recipient)."""
    from notifications.actions.deliveries import plan_deliveries, publish_on_commit
    from notifications.events import get_event
    from notifications.models import Channel, TemplateChannel
    from notifications.rendering import TemplateSet

    kind = get_event(event)
    by_id: dict[int, User] = {}
    audience: list[tuple[Message, list[User]]] = []
    for message in messages:
        # Nobody writes to an erased or deactivated account.
        users = list({u.pk: u for u in message.users if u.is_active}.values())
        by_id.update((u.pk, u) for u in users)
        audience.append((message, users))
    total = sum(len(users) for _, users in audience)
    if not total:
        return 0
    keys = sorted({m.key for m, _ in audience})
    ids = list(by_id)
    existing: set[tuple[int, str]] = set()
    for chunk in _chunked(ids):
        existing.update(
            Notification.objects.filter(user_id__in=chunk, key__in=keys).values_list(
                "user_id", "key"
            )
        )
    templates = TemplateSet([kind.name])
    texts: dict[str, dict[str, dict[str, tuple[str, str]]]] = {}
    rows = []
    for message, users in audience:
        context = {k: "" if v is None else v for k, v in message.context.items()}
        per_language = texts.setdefault(message.key, {})
        for user in users:
            if (user.pk, message.key) in existing:
                continue
            language = user.language or settings.LANGUAGE_CODE
            if language not in per_language:
                per_language[language] = {
                    channel: astuple(templates.render(kind, channel, language, context))
                    for channel in TemplateChannel.values
                    if channel != TemplateChannel.SMS or kind.sms_fallback
                }
            t = per_language[language]
            title, body = t[TemplateChannel.INBOX]
            rows.append(
                Notification(
                    user=user,
                    category=kind.category,
                    event=kind.name,
                    key=message.key,
                    title=title,
                    body=body,
                    data=message.data or {},
                    fallback_text=t[Channel.SMS][1] if kind.sms_fallback else "",
                )
            )
    if not rows:
        return total
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    # Read back the rows this call wrote (a concurrent writer of the same key may have won some:
    # its deliveries and ours meet in a unique index).
    wanted = {(n.user_id, n.key) for n in rows}
    written: list[Notification] = []
    fresh_ids = sorted({user_id for user_id, _ in wanted})
    for chunk in _chunked(fresh_ids):
        written += [
            n
            for n in Notification.objects.filter(user_id__in=chunk, key__in=keys)
            if (n.user_id, n.key) in wanted
        ]
    publish_on_commit(plan_deliveries(notifications=written, users=by_id, texts=texts))
    return total


def notification_read(*, user: User, notification_id: int) -> Notification:
    """Mark one of the user's messages read (reading it again changes nothing)."""
    notification = Notification.objects.filter(user=user, pk=notification_id).first()
    if notification is None:
        raise NotificationNotFound()
    if notification.read_at is None:
        notification.read_at = timezone.now()
        # Read: no SMS stands in for it any more.
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at, fallback_due_at=None
        )
    return notification


def notifications_read_all(*, user: User) -> int:
    """Mark every unread message of the user read; returns how many were unread."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now(), fallback_due_at=None
    )


def notification_preferences_update(
    *,
    user: User,
    language: str | None = None,
    quiet_hours: dict | object | None = ...,
    channels: dict[str, dict[str, bool]] | None = None,
) -> None:
    """Change what the user asked for; what is not given stays. ``quiet_hours`` None clears
    them. A mandatory category (security, emergency) cannot be turned off: the API refuses it
    before this is called, and this ignores it."""
    from notifications.events import MANDATORY_CATEGORIES
    from notifications.models import NotificationPreference

    with transaction.atomic():
        pref, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
        if channels:
            disabled = set(pref.disabled)
            for category, per_channel in channels.items():
                if category in MANDATORY_CATEGORIES:
                    continue
                for channel, enabled in per_channel.items():
                    (disabled.discard if enabled else disabled.add)(f"{category}:{channel}")
            pref.disabled = sorted(disabled)
        if quiet_hours is None:
            pref.quiet_start = pref.quiet_end = None
        elif quiet_hours is not ...:
            pref.quiet_start, pref.quiet_end = quiet_hours["start"], quiet_hours["end"]
        pref.save()
        if language and language != user.language:
            user.language = language
            user.save(update_fields=["language"])
