"""The assistant in a chat platform's official account: a webhook's messages are saved first
(once each, whatever the platform redelivers), then a task answers each one and sends the reply
through the channel's adapter. A message whose task the broker lost, or whose reply failed for
a while, is taken up again by the sweeper (beat, every minute), with a growing delay, up to
CHANNEL_MAX_ATTEMPTS."""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from assistant.actions import assistant_ask, masked
from assistant.channels import Channel, ChannelError, Inbound, get_channel
from assistant.models import ChannelMessage, ChannelMessageStatus
from config.celery import enqueue_on_commit
from notifications.actions.deliveries import retry_delay

CHANNEL_MAX_ATTEMPTS = 10
# An attempt under way holds the message this long (the HTTP calls' timeouts are shorter): a
# second run of the task meanwhile leaves it alone.
LEASE = timedelta(minutes=2)
# The first publish's grace before the sweeper would publish it again.
FIRST_GRACE = timedelta(minutes=1)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Questions from the same person within this time continue one conversation.
CONVERSATION_GAP = timedelta(hours=24)


def channel_messages_receive(*, channel: Channel, messages: list[Inbound]) -> int:
    """Save the messages (masked) and queue their answers; a message already saved is skipped.
    Answers how many were new."""
    from assistant.tasks import answer_channel_message

    now = timezone.now()
    new = 0
    for inbound in messages:
        try:
            with transaction.atomic():
                row = ChannelMessage.objects.create(
                    channel=channel.name,
                    external_id=_printable(inbound.external_id)[:100],
                    sender=_printable(inbound.sender)[:100],
                    question=masked(" ".join(_printable(inbound.text).split()))[:1000],
                    received_at=now,
                    next_attempt_at=now + FIRST_GRACE,
                )
                enqueue_on_commit(answer_channel_message, row.pk)
        except IntegrityError:
            continue  # the platform sent it again
        new += 1
    return new


def _printable(text: str) -> str:
    """Without control characters (PostgreSQL refuses a NUL in text)."""
    return _CONTROL.sub("", text)


def _claim(pk: int) -> ChannelMessage | None:
    """Take the message for one attempt: answer it (once) and hold it for LEASE."""
    now = timezone.now()
    with transaction.atomic():
        row = (
            ChannelMessage.objects.select_for_update()
            .filter(pk=pk, status=ChannelMessageStatus.PENDING)
            .first()
        )
        # Its first run (nothing tried yet) or a due retry; otherwise another run holds it.
        if row is None or (row.attempts and row.next_attempt_at > now):
            return None
        if row.turn_id is None:
            with translation.override(settings.LANGUAGE_CODE):
                asked = assistant_ask(
                    question=row.question,
                    user=None,
                    conversation_id=_conversation_of(row, now),
                )
            row.turn = asked.turn
            row.conversation_id = asked.turn.conversation_id
        row.attempts += 1
        row.next_attempt_at = now + LEASE
        row.save(update_fields=["turn", "conversation", "attempts", "next_attempt_at"])
        return row


def _conversation_of(row: ChannelMessage, now) -> object | None:
    return (
        ChannelMessage.objects.filter(
            channel=row.channel,
            sender=row.sender,
            conversation__isnull=False,
            received_at__gte=now - CONVERSATION_GAP,
        )
        .order_by("-id")
        .values_list("conversation_id", flat=True)
        .first()
    )


def channel_message_answer(*, pk: int) -> str:
    """Answer one message and send the reply; safe to run twice. Answers what happened:
    ``sent``, ``retry``, ``failed``, ``skipped`` (answered already, or held by another run),
    ``ignored`` (the channel is no longer configured)."""
    try:
        row = _claim(pk)
    except Exception as exc:
        _count_crash(pk, exc)
        raise
    if row is None:
        return "skipped"
    channel = get_channel(row.channel)
    outcome, error = "sent", ""
    if channel is None:
        outcome = "ignored"
    else:
        reply = row.turn.answer if row.turn else ""
        try:
            channel.send(row.sender, _fit(reply, channel.max_reply))
        except ChannelError as exc:
            error = str(exc)[:200]
            failed = exc.permanent or row.attempts >= CHANNEL_MAX_ATTEMPTS
            outcome = "failed" if failed else "retry"
    now = timezone.now()
    fields: dict = {"last_error": error}
    if outcome == "sent":
        fields.update(status=ChannelMessageStatus.SENT, sent_at=now)
    elif outcome == "ignored":
        fields.update(status=ChannelMessageStatus.IGNORED)
    elif outcome == "failed":
        fields.update(status=ChannelMessageStatus.FAILED)
    else:
        fields.update(next_attempt_at=now + timedelta(seconds=retry_delay(row.attempts)))
    ChannelMessage.objects.filter(pk=row.pk).update(**fields)
    return outcome


def _count_crash(pk: int, exc: Exception) -> None:
    """An attempt that broke before sending (the engine, the database) counts too: the message
    is tried again later, and fails after CHANNEL_MAX_ATTEMPTS instead of forever."""
    now = timezone.now()
    with transaction.atomic():
        row = (
            ChannelMessage.objects.select_for_update()
            .filter(pk=pk, status=ChannelMessageStatus.PENDING)
            .first()
        )
        if row is None:
            return
        row.attempts += 1
        row.last_error = f"{type(exc).__name__}"[:200]
        if row.attempts >= CHANNEL_MAX_ATTEMPTS:
            row.status = ChannelMessageStatus.FAILED
        row.next_attempt_at = now + timedelta(seconds=retry_delay(row.attempts))
        row.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])


def channel_messages_retry(*, ids) -> int:
    """Failed or ignored messages to be answered again (from the admin): the sweeper sends
    them within a minute. Answers how many."""
    return ChannelMessage.objects.filter(
        pk__in=ids,
        status__in=(ChannelMessageStatus.FAILED, ChannelMessageStatus.IGNORED),
    ).update(
        status=ChannelMessageStatus.PENDING,
        attempts=0,
        last_error="",
        next_attempt_at=timezone.now(),
    )


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def channel_messages_sweep(*, limit: int = 500) -> int:
    """Queue again the messages due (a lost publish, a failed attempt's delay over, a worker
    that died in the middle). Answers how many."""
    from assistant.tasks import answer_channel_message

    due = list(
        ChannelMessage.objects.filter(
            status=ChannelMessageStatus.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        answer_channel_message.apply_async(args=(pk,))
    return len(due)
