"""Deliveries: planned with the notification, claimed in batches by workers, sent, recorded.

Life of a delivery (states as GOV.UK Notify, DESIGN.md):

- ``notify`` saves the notification and its deliveries in the caller's transaction and, after
  commit, publishes ``notifications.deliver(channel)``. Nothing is sent from a request.
- A ``deliver`` task claims up to a batch of due rows of its channel (``FOR UPDATE SKIP LOCKED``
  on PostgreSQL, so workers never share a row), marks them ``sending`` under a claim id, calls
  the provider once per batch (push: FCM's ``send_each`` takes 500) outside any transaction, and
  records each outcome only where the row is still under its claim.
- A temporary error waits its backoff (``due_at``) and is retried; after
  ``NOTIFICATION_MAX_ATTEMPTS`` it is a technical failure; a permanent error stops at once.
- The sweeper re-publishes due rows the broker lost, and sends again rows left ``sending`` by a
  dead worker (the same reference: push collapses on it, gateways may deduplicate on it).
- Receipts only move a row forward; a failed row is re-sent only by hand (``delivery_resend``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import smtplib
import time as time_module
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.db.models.base import ModelState
from django.utils import timezone

from notifications.events import MANDATORY_CATEGORIES, get_event
from notifications.models import (
    DELIVERY_TRANSITIONS,
    RESENDABLE_STATUSES,
    Category,
    Channel,
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationPreference,
)
from notifications.providers.push import (
    PushMessage,
    PushOutcome,
    PushProviderError,
    get_push_provider,
)
from notifications.providers.sms import ProviderError, get_sms_provider

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

S = DeliveryStatus
CLAIMABLE = (S.CREATED, S.TEMPORARY_FAILURE)
# Rows per claim: one FCM call; gateways and SMTP take one message a request.
BATCH_SIZE = {Channel.PUSH: 500, Channel.SMS: 20, Channel.EMAIL: 50}
# Due rows untouched this long were lost by the broker (or their tasks are far behind): the
# sweeper publishes a task per batch of them (one task for any due row at all; an extra task
# claims nothing and ends).
REQUEUE_AFTER = timedelta(seconds=30)
# The sweeper publishes at most this many tasks per channel per run.
MAX_TASKS_PER_SWEEP = 8
# Why an SMS was not sent at all (a technical failure with no attempt).
SMS_CAP_REACHED = "per-user daily SMS cap reached"
SMS_BUDGET_REACHED = "daily SMS budget reached"
NO_PHONE = "no phone number"


def retry_delay(attempts: int) -> int:
    """Seconds before attempt ``attempts + 1``: 5, 10, 20, ... at most 5 minutes."""
    return min(5 * 2 ** max(attempts - 1, 0), 300)


# --- planning ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preferences:
    disabled: frozenset[str]
    quiet_start: time | None
    quiet_end: time | None

    def allows(self, category: str, channel: str) -> bool:
        return category in MANDATORY_CATEGORIES or f"{category}:{channel}" not in self.disabled

    def release(self, now: datetime) -> datetime:
        """When a non-urgent push or SMS may go: now, or the end of the quiet hours."""
        start, end = self.quiet_start, self.quiet_end
        if start is None or end is None or start == end:
            return now
        local = timezone.localtime(now)
        t = local.time()
        quiet = start <= t < end if start < end else (t >= start or t < end)
        if not quiet:
            return now
        release = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
        if release <= local:
            release += timedelta(days=1)
        return release


NO_PREFERENCES = Preferences(frozenset(), None, None)


def preferences_of(user_ids: Iterable[int]) -> dict[int, Preferences]:
    found: dict[int, Preferences] = {}
    ids = list(user_ids)
    for chunk in _chunks(ids, 2000):
        for p in NotificationPreference.objects.filter(user_id__in=chunk):
            found[p.user_id] = Preferences(frozenset(p.disabled), p.quiet_start, p.quiet_end)
    return found


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _users_with_devices(user_ids: list[int]) -> set[int]:
    from accounts.models import Device

    found: set[int] = set()
    for chunk in _chunks(user_ids, 2000):
        found.update(
            Device.objects.filter(user_id__in=chunk, is_active=True).values_list(
                "user_id", flat=True
            )
        )
    return found


def _local_day_start(now: datetime) -> datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def _sms_counted() -> Q:
    # Rows that were sent or will be; a refused row (no attempt, failed at once) costs nothing.
    return ~Q(status=S.TECHNICAL_FAILURE, attempts=0)


def plan_deliveries(
    *,
    notifications: list[Notification],
    users: dict[int, User],
    texts: dict[str, dict[str, dict[str, tuple[str, str]]]],
) -> set[str]:
    """Save the deliveries of freshly written notifications (all of one event). ``texts`` is
    per key, per language, per channel, the (title, body) to send. Returns the channels to
    publish."""
    if not notifications:
        return set()
    event = get_event(notifications[0].event)
    now = timezone.now()
    user_ids = [n.user_id for n in notifications]
    prefs = preferences_of(user_ids)
    with_device = _users_with_devices(user_ids)
    rows: list[Delivery] = []
    sms_now: list[Notification] = []
    # Per moment the push may go (now, or the end of quiet hours): the messages whose SMS
    # fallback waits for them to be read.
    waiting: dict[datetime, list[int]] = defaultdict(list)
    for n in notifications:
        user = users[n.user_id]
        pref = prefs.get(n.user_id, NO_PREFERENCES)
        language_texts = texts[n.key][user.language or settings.LANGUAGE_CODE]
        held_until = now if event.urgent else pref.release(now)
        if pref.allows(event.category, Channel.PUSH) and n.user_id in with_device:
            title, body = language_texts[Channel.PUSH]
            rows.append(
                Delivery(
                    notification=n, channel=Channel.PUSH, title=title, body=body, due_at=held_until
                )
            )
            if event.sms_fallback:
                waiting[held_until].append(n.pk)
        elif event.sms_fallback:
            # No device, or push turned off: the SMS is the message.
            sms_now.append(n)
        if event.email and user.email and pref.allows(event.category, Channel.EMAIL):
            title, body = language_texts[Channel.EMAIL]
            rows.append(
                Delivery(notification=n, channel=Channel.EMAIL, title=title, body=body, due_at=now)
            )
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    channels = {row.channel for row in rows if row.due_at <= now}
    for held_until, ids in waiting.items():
        after = held_until + timedelta(minutes=settings.NOTIFICATION_SMS_FALLBACK_MINUTES)
        for chunk in _chunks(ids, 2000):
            Notification.objects.filter(pk__in=chunk).update(fallback_due_at=after)
    if sms_now and sms_fallbacks_create(notifications=sms_now, users=users, prefs=prefs):
        channels.add(Channel.SMS)
    return channels


def sms_fallbacks_create(
    *,
    notifications: list[Notification],
    users: dict[int, User] | None = None,
    prefs: dict[int, Preferences] | None = None,
) -> int:
    """The SMS standing in for push (no device, push failed, or still unread): once per
    notification, within the user's daily cap and the deployment's daily budget (emergencies
    pass both, security messages the cap). Returns how many are due now."""
    notifications = [n for n in notifications if n.fallback_text]
    if notifications:
        # Once: a message whose SMS exists (sent for being unread, then push failed) gets none.
        has_sms = set(
            Delivery.objects.filter(
                notification__in=[n.pk for n in notifications], channel=Channel.SMS
            ).values_list("notification_id", flat=True)
        )
        notifications = [n for n in notifications if n.pk not in has_sms]
    if not notifications:
        return 0
    now = timezone.now()
    if users is None:
        from accounts.models import User

        users = {u.pk: u for u in User.objects.filter(pk__in={n.user_id for n in notifications})}
    if prefs is None:
        prefs = preferences_of(users)
    day_start = _local_day_start(now)
    sent_today = dict(
        Delivery.objects.filter(
            _sms_counted(),
            channel=Channel.SMS,
            created_at__gte=day_start,
            notification__user_id__in=list(users),
        )
        .values_list("notification__user_id")
        .annotate(n=Count("pk"))
    )
    budget_left = settings.NOTIFICATION_SMS_DAILY_BUDGET - (
        Delivery.objects.filter(
            _sms_counted(), channel=Channel.SMS, created_at__gte=day_start
        ).count()
    )
    rows: list[Delivery] = []
    due_now = 0
    budget_hit = False
    for n in notifications:
        user = users.get(n.user_id)
        if user is None or not user.is_active:
            continue
        pref = prefs.get(n.user_id, NO_PREFERENCES)
        if not pref.allows(n.category, Channel.SMS):
            continue
        event = get_event(n.event)
        exempt = n.category in MANDATORY_CATEGORIES
        error = ""
        if not user.phone:
            error = NO_PHONE
        elif (
            not exempt and sent_today.get(n.user_id, 0) >= settings.NOTIFICATION_SMS_PER_USER_DAILY
        ):
            error = SMS_CAP_REACHED
        elif n.category != Category.EMERGENCY and budget_left <= 0:
            error, budget_hit = SMS_BUDGET_REACHED, True
        row = Delivery(
            notification=n,
            channel=Channel.SMS,
            body=n.fallback_text,
            is_fallback=True,
            due_at=now if event.urgent else pref.release(now),
        )
        if error:
            row.status, row.error = S.TECHNICAL_FAILURE, error
        else:
            sent_today[n.user_id] = sent_today.get(n.user_id, 0) + 1
            budget_left -= 1
            due_now += row.due_at <= now
        rows.append(row)
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    ids = [n.pk for n in notifications]
    for chunk in _chunks(ids, 2000):
        Notification.objects.filter(pk__in=chunk).update(fallback_due_at=None)
    if budget_hit:
        _alert_budget_reached(now)
    return due_now


def _alert_budget_reached(now: datetime) -> None:
    """Tell the administrators, once a day (the key), in their inbox and by email."""
    from accounts.models import Role, User
    from accounts.roles import ROLE_GROUPS
    from notifications.actions import notify

    admins = User.objects.filter(
        Q(is_superuser=True) | Q(groups__name=ROLE_GROUPS[Role.PROVINCE_ADMIN]), is_active=True
    ).distinct()
    day = timezone.localdate(now)
    logger.warning("the daily SMS budget of %d is spent", settings.NOTIFICATION_SMS_DAILY_BUDGET)
    notify(
        users=admins,
        event="account.sms_budget_reached",
        key=f"sms-budget:{day.isoformat()}",
        context={
            "count": str(settings.NOTIFICATION_SMS_DAILY_BUDGET),
            "budget": str(settings.NOTIFICATION_SMS_DAILY_BUDGET),
        },
        data={"sms_budget": day.isoformat()},
    )


# --- publishing -------------------------------------------------------------------------------


def publish_deliver(channel: str, *, countdown: float | None = None) -> None:
    from config.celery import Queues
    from notifications.tasks import deliver

    queue = Queues.SMS if channel == Channel.SMS else Queues.DEFAULT
    deliver.apply_async(args=[channel], queue=queue, countdown=countdown)


# After a failed publish, requests stop trying the broker for this long: during an outage each
# would otherwise wait for its own connection attempts. The rows are saved; the sweeper sends
# them when the broker is back.
BROKER_BACKOFF_SECONDS = 5.0
_broker_down_until = 0.0


def tasks_for(channel: str, rows: int) -> int:
    """The deliver tasks that ``rows`` due rows of a channel call for: a batch each, at most
    MAX_TASKS_PER_SWEEP (workers take them side by side; a full batch publishes the next)."""
    return max(1, min(-(-rows // BATCH_SIZE[channel]), MAX_TASKS_PER_SWEEP))


def publish_on_commit(channels: Iterable[str] | Mapping[str, int]) -> None:
    """After commit, publish the deliver tasks of the channels written to (with how many rows
    each, ``tasks_for``; else one task a channel); a dead broker is logged and left to the
    sweeper (the rows are saved)."""
    rows = dict(channels) if isinstance(channels, Mapping) else dict.fromkeys(channels, 1)
    if not rows:
        return

    def publish() -> None:
        global _broker_down_until
        if time_module.monotonic() < _broker_down_until:
            return
        for channel in sorted(rows):
            try:
                for _task in range(tasks_for(channel, rows[channel])):
                    publish_deliver(channel)
            except Exception:  # kombu/redis raise transport-specific errors
                _broker_down_until = time_module.monotonic() + BROKER_BACKOFF_SECONDS
                logger.warning(
                    "could not publish %s deliveries; the sweeper will", channel, exc_info=True
                )
                return

    transaction.on_commit(publish)


# --- sending ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    status: str
    error: str = ""
    message_id: str = ""
    # False: the batch ran out of time before this row's turn; it is due again at once and the
    # attempt does not count.
    attempted: bool = True


# A batch of one-request-a-message providers (SMS, email) stops calling after this long, well
# within the task's soft time limit (240 s); the rows left are due again at once.
BATCH_TIME_BUDGET = 120.0
NOT_ATTEMPTED = Outcome(
    S.TEMPORARY_FAILURE, "not attempted: the batch ran out of time", attempted=False
)


CLAIMED_FIELDS = (
    "id",
    "claim",
    "status",
    "channel",
    "attempts",
    "title",
    "body",
    "due_at",
    "notification__id",
    "notification__user_id",
    "notification__category",
    "notification__event",
    "notification__data",
    "notification__fallback_text",
    "notification__read_at",
    "notification__user__id",
    "notification__user__phone",
    "notification__user__email",
)


# Push reads no user column (the tokens come from the devices): a batch builds 1 000 model
# instances, not 1 500.
PUSH_CLAIMED_FIELDS = tuple(f for f in CLAIMED_FIELDS if not f.startswith("notification__user__"))


def _in_model_order(model, names: set[str]) -> tuple[str, ...]:
    """``Model.from_db`` takes the values of the fields it is given in the model's order."""
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in names)


_DELIVERY_COLUMNS = _in_model_order(
    Delivery,
    {"id", "notification_id", "channel", "status", "title", "body", "due_at", "attempts", "claim"},
)
_NOTIFICATION_COLUMNS = _in_model_order(
    Notification,
    {"id", "user_id", "category", "event", "data", "read_at", "fallback_text"},
)
_USER_COLUMNS = ("id", "phone", "email")
# On PostgreSQL a claim is one statement: the due rows locked (SKIP LOCKED), marked, and
# returned with what sending needs, without their ids going to the worker and back. The literal
# statuses match the partial index delivery_due_idx.
_CLAIM_TEMPLATE = """
WITH claimed AS (
  UPDATE notifications_delivery
  SET status = 'sending', claim = %s, attempts = attempts + 1, provider = %s, updated_at = %s
  WHERE id IN (
    SELECT id FROM notifications_delivery
    WHERE channel = %s AND status IN ('created', 'temporary-failure') AND due_at <= %s
    ORDER BY due_at LIMIT %s
    FOR UPDATE SKIP LOCKED
  )
  RETURNING {delivery}
)
SELECT {claimed}, {notification}, u.phone, u.email
FROM claimed c
JOIN notifications_notification n ON n.id = c.notification_id
LEFT JOIN accounts_user u ON u.id = n.user_id AND %s
ORDER BY c.due_at, c.id
"""
# Formatted with the models' column names only; every value is a parameter.
CLAIM_SQL = _CLAIM_TEMPLATE.format(
    delivery=", ".join(_DELIVERY_COLUMNS),
    claimed=", ".join(f"c.{c}" for c in _DELIVERY_COLUMNS),
    # The JSON as text, as the ORM reads it (its field decodes it).
    notification=", ".join(
        f"n.{c}::text" if c == "data" else f"n.{c}" for c in _NOTIFICATION_COLUMNS
    ),
)


def _loaded(model, attnames: tuple[str, ...], values) -> object:
    """A model instance as ``Model.from_db`` makes it, the fields not given deferred, without
    ``Model.__init__``'s per-field work (no model here listens to its init signals): a push
    batch builds 1 000 of them, which through ``from_db`` cost a third of the claim."""
    instance = model.__new__(model)
    instance.__dict__.update(zip(attnames, values, strict=True))
    state = instance._state = ModelState()
    state.adding, state.db = False, connection.alias
    return instance


def _claimed_rows(records: list[tuple], *, with_user: bool) -> list[Delivery]:
    """The claim's rows as the ORM's ``only(CLAIMED_FIELDS)`` builds them on SQLite."""
    from accounts.models import User

    data_field = Notification._meta.get_field("data")
    data_at = _NOTIFICATION_COLUMNS.index("data")
    split = len(_DELIVERY_COLUMNS)
    end = split + len(_NOTIFICATION_COLUMNS)
    rows = []
    for record in records:
        delivery = _loaded(Delivery, _DELIVERY_COLUMNS, record[:split])
        values = list(record[split:end])
        values[data_at] = data_field.from_db_value(values[data_at], None, connection)
        notification = _loaded(Notification, _NOTIFICATION_COLUMNS, values)
        if with_user:
            user = _loaded(User, _USER_COLUMNS, (notification.user_id, *record[end:]))
            notification._state.fields_cache["user"] = user
        delivery._state.fields_cache["notification"] = notification
        rows.append(delivery)
    return rows


def _claim(channel: str, limit: int, provider: str) -> tuple[uuid.UUID, list[Delivery]]:
    now = timezone.now()
    token = uuid.uuid4()
    push = channel == Channel.PUSH
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Push reads no user column (the tokens come from the devices).
            cursor.execute(CLAIM_SQL, [token, provider, now, channel, now, limit, not push])
            return token, _claimed_rows(cursor.fetchall(), with_user=not push)
    with transaction.atomic():
        due = Delivery.objects.filter(
            channel=channel, status__in=CLAIMABLE, due_at__lte=now
        ).order_by("due_at")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        if not ids:
            return token, []
        # The status condition is the guard (SQLite has no row locks): a row another worker
        # claimed meanwhile is not taken twice.
        Delivery.objects.filter(pk__in=ids, status__in=CLAIMABLE).update(
            status=S.SENDING,
            claim=token,
            attempts=F("attempts") + 1,
            provider=provider,
            updated_at=now,
        )
    rows = list(
        Delivery.objects.filter(claim=token, status=S.SENDING)
        .select_related("notification" if push else "notification__user")
        .only(*(PUSH_CLAIMED_FIELDS if push else CLAIMED_FIELDS))
        .order_by("due_at", "id")
    )
    return token, rows


def _send_push(rows: list[Delivery]) -> dict[uuid.UUID, Outcome]:
    from accounts.models import Device

    provider = get_push_provider()
    tokens: dict[int, list[str]] = defaultdict(list)
    for user_id, token in Device.objects.filter(
        user_id__in={r.notification.user_id for r in rows}, is_active=True
    ).values_list("user_id", "token"):
        tokens[user_id].append(token)
    messages: list[PushMessage] = []
    for r in rows:
        n = r.notification
        data = {k: str(v) for k, v in n.data.items()}
        data.update({"notification": str(n.pk), "category": n.category})
        for token in tokens[n.user_id]:
            messages.append(PushMessage(token, r.title, r.body, data, str(r.id)))
    results: dict[str, list] = defaultdict(list)
    gone: list[str] = []
    for start in range(0, len(messages), provider.batch_limit):
        chunk = messages[start : start + provider.batch_limit]
        try:
            answers = provider.send(chunk)
        except PushProviderError as exc:
            outcome = PushOutcome.PERMANENT if exc.permanent else PushOutcome.TEMPORARY
            for m in chunk:
                results[m.reference].append((outcome, "", str(exc)[:255]))
            continue
        for m, answer in zip(chunk, answers, strict=True):
            results[m.reference].append((answer.outcome, answer.message_id, answer.error))
            if answer.outcome is PushOutcome.TOKEN_GONE:
                gone.append(m.token)
    if gone:
        Device.objects.filter(token__in=gone).update(is_active=False, updated_at=timezone.now())
        logger.info("deactivated %d push tokens the provider no longer knows", len(gone))
    outcomes: dict[uuid.UUID, Outcome] = {}
    for r in rows:
        answers = results.get(str(r.id), [])
        sent = [a for a in answers if a[0] is PushOutcome.SENT]
        if sent:
            outcomes[r.id] = Outcome(S.SENT, message_id=sent[0][1][:200])
        elif not answers:
            outcomes[r.id] = Outcome(S.PERMANENT_FAILURE, "no active device")
        elif temporary := [a for a in answers if a[0] is PushOutcome.TEMPORARY]:
            outcomes[r.id] = Outcome(S.TEMPORARY_FAILURE, temporary[0][2])
        else:
            outcomes[r.id] = Outcome(S.PERMANENT_FAILURE, answers[0][2] or "device tokens gone")
    return outcomes


def _sent_now(row: Delivery, *, message_id: str = "") -> Outcome:
    """Record at once a message the provider took, not with the rest of its batch: a worker
    that dies later in the batch must not leave it "sending", to be sent again after the
    timeout. Only while the row is still under its claim."""
    now = timezone.now()
    Delivery.objects.filter(pk=row.pk, claim=row.claim, status=S.SENDING).update(
        status=S.SENT, error="", sent_at=now, provider_message_id=message_id, updated_at=now
    )
    return Outcome(S.SENT, message_id=message_id)


def _send_sms(rows: list[Delivery]) -> dict[uuid.UUID, Outcome]:
    provider = get_sms_provider()
    outcomes: dict[uuid.UUID, Outcome] = {}
    stop_at = time_module.monotonic() + BATCH_TIME_BUDGET
    for r in rows:
        if time_module.monotonic() > stop_at:
            outcomes[r.id] = NOT_ATTEMPTED
            continue
        phone = r.notification.user.phone
        if not phone:
            outcomes[r.id] = Outcome(S.PERMANENT_FAILURE, NO_PHONE)
            continue
        try:
            result = provider.send(phone=phone, body=r.body, reference=str(r.id))
        except ProviderError as exc:
            status = S.PERMANENT_FAILURE if exc.permanent else S.TEMPORARY_FAILURE
            outcomes[r.id] = Outcome(status, str(exc)[:255])
        else:
            ref = result.provider_reference
            outcomes[r.id] = _sent_now(r, message_id="" if ref == str(r.id) else ref[:200])
    return outcomes


def _send_email(rows: list[Delivery]) -> dict[uuid.UUID, Outcome]:
    outcomes: dict[uuid.UUID, Outcome] = {}
    try:
        mail = get_connection(fail_silently=False)
        mail.open()
    except (OSError, smtplib.SMTPException) as exc:
        return {r.id: Outcome(S.TEMPORARY_FAILURE, f"mail server: {exc}"[:255]) for r in rows}
    stop_at = time_module.monotonic() + BATCH_TIME_BUDGET
    try:
        for r in rows:
            if time_module.monotonic() > stop_at:
                outcomes[r.id] = NOT_ATTEMPTED
                continue
            address = r.notification.user.email
            if not address:
                outcomes[r.id] = Outcome(S.PERMANENT_FAILURE, "no email address")
                continue
            message = EmailMessage(
                subject=r.title,
                body=r.body,
                to=[address],
                headers={"X-Delivery-Reference": str(r.id)},
                connection=mail,
            )
            try:
                message.send()
            except smtplib.SMTPRecipientsRefused as exc:
                outcomes[r.id] = Outcome(S.PERMANENT_FAILURE, f"refused: {type(exc).__name__}")
            except smtplib.SMTPResponseException as exc:
                status = S.PERMANENT_FAILURE if 500 <= exc.smtp_code < 600 else S.TEMPORARY_FAILURE
                outcomes[r.id] = Outcome(status, f"SMTP {exc.smtp_code}")
            except (OSError, smtplib.SMTPException) as exc:
                outcomes[r.id] = Outcome(S.TEMPORARY_FAILURE, type(exc).__name__)
            else:
                outcomes[r.id] = _sent_now(r)
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            mail.close()
    return outcomes


SENDERS = {Channel.PUSH: _send_push, Channel.SMS: _send_sms, Channel.EMAIL: _send_email}


def _provider_name(channel: str) -> str:
    if channel == Channel.PUSH:
        return settings.PUSH_PROVIDER
    if channel == Channel.SMS:
        return settings.SMS_PROVIDER
    return settings.EMAIL_BACKEND.rsplit(".", 2)[-2]


@dataclass
class BatchResult:
    claimed: int = 0
    sent: int = 0
    retry_in: int | None = None
    more: bool = False


OUTCOME_FIELDS = [
    "status",
    "error",
    "updated_at",
    "sent_at",
    "provider_message_id",
    "due_at",
    "attempts",
]


def _record_outcomes(token: uuid.UUID, rows: list[Delivery]) -> None:
    """Write a batch's outcomes, only on rows still under this claim: a row the sweeper took
    back, or a receipt moved on, keeps its newer state. On PostgreSQL one UPDATE from one JSON
    document (Django's bulk_update builds a CASE per row and field: 3 500 for a push batch; eight
    arrays of 500 parameters cost the worker 20 ms of quoting)."""
    if connection.vendor != "postgresql":
        Delivery.objects.filter(claim=token, status=S.SENDING).bulk_update(rows, OUTCOME_FIELDS)
        return
    outcomes = json.dumps(
        [[str(r.id), *(getattr(r, field) for field in OUTCOME_FIELDS)] for r in rows],
        default=_json_datetime,
        separators=(",", ":"),
    )
    with connection.cursor() as cursor:
        cursor.execute(RECORD_SQL, [outcomes, token, S.SENDING])


# Each outcome is [id, *OUTCOME_FIELDS]: the fields by their place in it.
_OUTCOME_TYPES = {
    "updated_at": "timestamptz",
    "sent_at": "timestamptz",
    "due_at": "timestamptz",
    "attempts": "smallint",
}
RECORD_SQL = (
    "UPDATE notifications_delivery AS d SET "  # noqa: S608 (the fields' names only)
    + ", ".join(
        f"{field} = (v->>{place})::{_OUTCOME_TYPES.get(field, 'text')}"
        for place, field in enumerate(OUTCOME_FIELDS, start=1)
    )
    + " FROM jsonb_array_elements(%s::jsonb) AS v"
    " WHERE d.id = (v->>0)::uuid AND d.claim = %s AND d.status = %s"
)


def _json_datetime(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def deliveries_send(*, channel: str, limit: int | None = None) -> BatchResult:
    """Claim a batch of due deliveries of a channel, send them, record the outcomes."""
    limit = limit or BATCH_SIZE[channel]
    token, rows = _claim(channel, limit, _provider_name(channel))
    result = BatchResult(claimed=len(rows), more=len(rows) >= limit)
    if not rows:
        return result
    try:
        outcomes = SENDERS[channel](rows)
    except Exception:
        # A bug, not an outage: the rows must not hang in "sending"; no retry.
        Delivery.objects.filter(claim=token, status=S.SENDING).update(
            status=S.TECHNICAL_FAILURE, error="internal error", updated_at=timezone.now()
        )
        raise
    now = timezone.now()
    changed: list[Delivery] = []
    failed_push: list[Notification] = []
    for r in rows:
        outcome = outcomes[r.id]
        r.status, r.error, r.updated_at = outcome.status, outcome.error, now
        if outcome.status == S.SENT:
            r.sent_at, r.provider_message_id = now, outcome.message_id
        elif not outcome.attempted:
            r.attempts -= 1
            r.due_at = now
            result.retry_in = 0
        elif outcome.status == S.TEMPORARY_FAILURE:
            if r.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
                r.status = S.TECHNICAL_FAILURE
            else:
                delay = retry_delay(r.attempts)
                r.due_at = now + timedelta(seconds=delay)
                result.retry_in = delay if result.retry_in is None else min(result.retry_in, delay)
        assert r.status in DELIVERY_TRANSITIONS[S.SENDING]
        if channel == Channel.PUSH and r.status in (S.PERMANENT_FAILURE, S.TECHNICAL_FAILURE):
            failed_push.append(r.notification)
        result.sent += r.status == S.SENT
        changed.append(r)
    _record_outcomes(token, changed)
    logger.info("%s: %d claimed, %d sent", channel, len(rows), result.sent)
    if failed_push:
        # Push could not reach them: the SMS goes now, unless already read.
        unread = [n for n in failed_push if n.fallback_text and n.read_at is None]
        with transaction.atomic():
            if sms_fallbacks_create(notifications=unread):
                publish_on_commit([Channel.SMS])
    return result


# --- the sweeper ------------------------------------------------------------------------------


def deliveries_sweep() -> dict[str, int]:
    """Recover what the broker or a dead worker lost, and send the SMS of unread messages.
    Returns the tasks published per channel."""
    now = timezone.now()
    timeout = now - timedelta(seconds=settings.NOTIFICATION_SENDING_TIMEOUT)
    stale = Delivery.objects.filter(status=S.SENDING, updated_at__lte=timeout)
    stale.filter(attempts__gte=settings.NOTIFICATION_MAX_ATTEMPTS).update(
        status=S.TECHNICAL_FAILURE, error="no answer from the worker", claim=None, updated_at=now
    )
    # Their worker died, before or after the provider's answer: sent again under the same
    # reference. The old updated_at keeps them due for the re-publish below.
    retaken = stale.filter(attempts__lt=settings.NOTIFICATION_MAX_ATTEMPTS).update(
        status=S.TEMPORARY_FAILURE, error="no answer from the worker", claim=None, due_at=now
    )
    if retaken:
        logger.warning("%d deliveries left sending by a dead worker are due again", retaken)

    with transaction.atomic():
        due = Notification.objects.filter(fallback_due_at__lte=now).order_by("fallback_due_at")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        unread = list(due[:1000])
        Notification.objects.filter(pk__in=[n.pk for n in unread]).update(fallback_due_at=None)
        if sms_fallbacks_create(notifications=[n for n in unread if n.read_at is None]):
            publish_on_commit([Channel.SMS])

    published: dict[str, int] = {}
    for channel in Channel.values:
        waiting = (
            Delivery.objects.filter(
                channel=channel,
                status__in=CLAIMABLE,
                due_at__lte=now,
                updated_at__lte=now - REQUEUE_AFTER,
            )
            .values("pk")[: BATCH_SIZE[channel] * MAX_TASKS_PER_SWEEP]
            .count()
        )
        due_now = (
            waiting
            or Delivery.objects.filter(
                channel=channel, status__in=CLAIMABLE, due_at__lte=now
            ).exists()
        )
        if not due_now:
            continue
        tasks = tasks_for(channel, waiting)
        for _ in range(tasks):
            publish_deliver(channel)
        published[channel] = tasks
    return published


# --- receipts, resend -------------------------------------------------------------------------


RECEIPT_STATUSES = {
    "delivered": S.DELIVERED,
    "failed": S.PERMANENT_FAILURE,
    "undelivered": S.PERMANENT_FAILURE,
    "rejected": S.PERMANENT_FAILURE,
    "expired": S.PERMANENT_FAILURE,
}


def delivery_receipt_apply(
    *, provider: str, reference: uuid.UUID, status: str, error: str = ""
) -> bool:
    """A provider's word on a message: moves our row forward only (a receipt replayed, or older
    than what we know, changes nothing). Applies to notification deliveries and OTP SMS."""
    from notifications.actions import _transition
    from notifications.models import SmsMessage

    new = RECEIPT_STATUSES[status]
    now = timezone.now()
    earlier = [old for old, nexts in DELIVERY_TRANSITIONS.items() if new in nexts]
    fields: dict[str, object] = {"status": new, "updated_at": now}
    if new == S.DELIVERED:
        fields["delivered_at"] = now
    else:
        fields["error"] = (error or status)[:255]
    if Delivery.objects.filter(pk=reference, provider=provider, status__in=earlier).update(
        **fields
    ):
        return True
    message = SmsMessage.objects.filter(pk=reference, provider=provider).first()
    if message is None:
        return False
    extra = {} if new == S.DELIVERED else {"error": fields["error"]}
    return _transition(message, new, **extra)


def delivery_resend(*, delivery_ids: Iterable[uuid.UUID]) -> int:
    """An administrator sends failed deliveries again: back to "created", attempts from zero,
    due now. Returns how many were failed (and are now queued)."""
    ids = list(delivery_ids)
    rows = list(
        Delivery.objects.filter(pk__in=ids, status__in=RESENDABLE_STATUSES).values_list(
            "pk", "channel"
        )
    )
    if not rows:
        return 0
    with transaction.atomic():
        count = Delivery.objects.filter(
            pk__in=[pk for pk, _ in rows], status__in=RESENDABLE_STATUSES
        ).update(
            status=S.CREATED,
            attempts=0,
            error="",
            claim=None,
            due_at=timezone.now(),
            updated_at=timezone.now(),
        )
        publish_on_commit({channel for _, channel in rows})
    return count
