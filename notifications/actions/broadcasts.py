"""Area broadcasts: created by an official for the units they manage, approved (emergencies, if
the deployment asks for it), cancelled before they go, and fanned out set-based and resumably.

Fan-out (``broadcast_fan_out``): ``BROADCAST_FANOUT_LANES`` lanes side by side, each the
audience's users whose id modulo the number of lanes is the lane's, in chunks of
``BROADCAST_FANOUT_CHUNK`` recipients in user-id order. Each chunk is one transaction holding its
lane's row lock: the inbox rows with one ``INSERT … SELECT`` and the push deliveries (users with
an active device; on PostgreSQL in the same statement), for emergencies with SMS the SMS
deliveries of those without one (within the day's SMS budget), the lane's cursor moved to the
chunk's last user id, and the broadcast's counters. A worker killed in the middle loses its
uncommitted chunk and the lane's next run starts after the last committed one; a chunk run twice
writes nothing twice (unique indexes, ``ON CONFLICT DO NOTHING``); the last lane done marks the
broadcast sent. The deliveries are sent by the ordinary delivery tasks
(``notifications.deliver``), 500 pushes a call.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Mod
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import official_ward_codes
from config.celery import enqueue_on_commit
from digital_address.models import HouseholdMember, Province, Ward
from notifications.actions.deliveries import (
    SMS_BUDGET_REACHED,
    _alert_budget_reached,
    _local_day_start,
    _sms_counted,
    preferences_of,
    publish_on_commit,
)
from notifications.errors import BroadcastNotFound, BroadcastRefused
from notifications.models import (
    Broadcast,
    BroadcastKind,
    BroadcastLane,
    BroadcastStatus,
    Category,
    Channel,
    CheckIn,
    Delivery,
    DeliveryStatus,
    Notification,
)
from notifications.rendering import PUSH_BODY_MAX, PUSH_TITLE_MAX, _cut, fit_sms
from notifications.selectors import audience, target_wards

logger = logging.getLogger(__name__)

B = BroadcastStatus
# A fan-out task does this many chunks (of BROADCAST_FANOUT_CHUNK recipients), then publishes
# the next run: a task stays short.
CHUNKS_PER_TASK = 20
LONGEST_VALIDITY = timedelta(days=30)


def _refuse(field: str, message: str) -> BroadcastRefused:
    return BroadcastRefused(fields={field: [message]})


def broadcast_create(
    *,
    official: User,
    title: str,
    body: str,
    kind: str,
    ward_codes: Iterable[int] = (),
    whole_province: bool = False,
    send_sms: bool = False,
    scheduled_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> Broadcast:
    """Check the target against the units the official manages and save the broadcast: due
    now or at ``scheduled_at``; an emergency waits for a second official's approval when
    ``BROADCAST_EMERGENCY_APPROVAL`` is on."""
    now = timezone.now()
    scheduled_at = scheduled_at or now
    codes = official_ward_codes(user=official)
    ward_codes = sorted(set(ward_codes))
    province = None
    if whole_province:
        if ward_codes:
            raise _refuse("wards", _("Choose wards or the whole province, not both."))
        province = _managed_province(official, codes)
    else:
        if not ward_codes:
            raise _refuse("wards", _("Choose at least one ward, or the whole province."))
        found = set(Ward.objects.filter(code__in=ward_codes).values_list("code", flat=True))
        unknown = [c for c in ward_codes if c not in found]
        if unknown:
            raise _refuse("wards", _("Unknown ward: %(codes)s.") % {"codes": _codes(unknown)})
        foreign = [c for c in ward_codes if codes is not None and c not in codes]
        if foreign:
            raise _refuse(
                "wards",
                _("You do not manage these wards: %(codes)s.") % {"codes": _codes(foreign)},
            )
    if send_sms and kind != BroadcastKind.EMERGENCY:
        raise _refuse("send_sms", _("Only emergencies are sent by SMS."))
    if scheduled_at < now - timedelta(minutes=5):
        raise _refuse("scheduled_at", _("The sending time has passed."))
    if scheduled_at > now + LONGEST_VALIDITY:
        raise _refuse("scheduled_at", _("A broadcast is scheduled at most 30 days ahead."))
    expires_at = expires_at or scheduled_at + timedelta(days=1)
    if expires_at <= max(scheduled_at, now):
        raise _refuse("expires_at", _("It must expire after it is sent."))
    if expires_at > scheduled_at + LONGEST_VALIDITY:
        raise _refuse("expires_at", _("A broadcast stays active at most 30 days."))

    needs_approval = kind == BroadcastKind.EMERGENCY and settings.BROADCAST_EMERGENCY_APPROVAL
    with transaction.atomic():
        broadcast = Broadcast.objects.create(
            title=title,
            body=body,
            kind=kind,
            province=province,
            send_sms=send_sms,
            scheduled_at=scheduled_at,
            expires_at=expires_at,
            status=B.PENDING_APPROVAL if needs_approval else B.SCHEDULED,
            created_by=official,
        )
        if ward_codes:
            broadcast.wards.set(ward_codes)
        if not needs_approval:
            _start_if_due(broadcast)
    return broadcast


def _codes(codes: list[int]) -> str:
    return ", ".join(str(c) for c in codes)


def _managed_province(official: User, codes: frozenset[int] | None) -> Province:
    """A province administrator's province (or, for a superuser, the deployment's)."""
    if codes is None:
        return Province.objects.get(code=settings.DEPLOYMENT_PROVINCE_CODE)
    profile = getattr(official, "official", None)
    province_id = profile.province_id if profile else None
    if province_id is None or not official.has_perm("notifications.send_broadcast"):
        raise _refuse("whole_province", _("Only a province administrator targets the province."))
    province_wards = set(
        Ward.objects.filter(province_id=province_id).values_list("code", flat=True)
    )
    if not province_wards or not province_wards <= codes:
        raise _refuse("whole_province", _("Only a province administrator targets the province."))
    return Province.objects.get(code=province_id)


def _locked(broadcast_id: int, official: User) -> Broadcast:
    from notifications.selectors import broadcasts_visible_to

    broadcast = (
        broadcasts_visible_to(official=official).filter(pk=broadcast_id).values_list("pk").first()
    )
    if broadcast is None:
        raise BroadcastNotFound()
    broadcast = Broadcast.objects.select_for_update().get(pk=broadcast_id)
    codes = official_ward_codes(user=official)
    if (
        codes is not None
        and not set(target_wards(broadcast).values_list("code", flat=True)) <= codes
    ):
        # A ward's official sees the province's broadcasts, but changes only their own.
        raise BroadcastRefused(
            _("Only an official who manages every ward of this broadcast may change it."),
            status_code=403,
        )
    return broadcast


def broadcast_approve(*, official: User, broadcast_id: int) -> Broadcast:
    """A second official approves an emergency waiting for it (never its author)."""
    with transaction.atomic():
        broadcast = _locked(broadcast_id, official)
        if broadcast.status != B.PENDING_APPROVAL:
            raise BroadcastRefused(
                _("This broadcast is not waiting for approval."), status_code=409
            )
        if broadcast.expires_at <= timezone.now():
            raise BroadcastRefused(_("This broadcast has expired."), status_code=409)
        if broadcast.created_by_id == official.pk:
            raise BroadcastRefused(
                _("Another official must approve your broadcast."), status_code=403
            )
        broadcast.status = B.SCHEDULED
        broadcast.approved_by, broadcast.approved_at = official, timezone.now()
        broadcast.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
        _start_if_due(broadcast)
    return broadcast


def broadcast_cancel(*, official: User, broadcast_id: int) -> Broadcast:
    """Cancel a broadcast not yet sending; once sending it cannot be called back."""
    with transaction.atomic():
        broadcast = _locked(broadcast_id, official)
        if broadcast.status not in (B.PENDING_APPROVAL, B.SCHEDULED):
            raise BroadcastRefused(
                _("This broadcast is already being sent and cannot be cancelled."),
                status_code=409,
            )
        broadcast.status = B.CANCELLED
        broadcast.cancelled_by, broadcast.cancelled_at = official, timezone.now()
        broadcast.save(update_fields=["status", "cancelled_by", "cancelled_at", "updated_at"])
    return broadcast


def _start_if_due(broadcast: Broadcast) -> None:
    """Inside the caller's transaction: a broadcast due now starts sending after commit, its
    fan-out in ``BROADCAST_FANOUT_LANES`` lanes side by side."""
    now = timezone.now()
    if broadcast.status != B.SCHEDULED or broadcast.scheduled_at > now:
        return
    broadcast.status, broadcast.started_at = B.SENDING, now
    broadcast.fanout_lanes = settings.BROADCAST_FANOUT_LANES
    broadcast.save(update_fields=["status", "started_at", "fanout_lanes", "updated_at"])
    BroadcastLane.objects.bulk_create(
        BroadcastLane(broadcast=broadcast, lane=n) for n in range(broadcast.fanout_lanes)
    )
    _publish_fan_out_on_commit(broadcast.pk, range(broadcast.fanout_lanes))


def _publish_fan_out_on_commit(broadcast_id: int, lanes: Iterable[int]) -> None:
    """A dead broker is logged; broadcasts_start_due publishes a stale lane again."""
    from notifications.tasks import fan_out_broadcast

    for lane in lanes:
        enqueue_on_commit(fan_out_broadcast, broadcast_id, lane)


def broadcasts_start_due() -> list[int]:
    """Start the scheduled broadcasts whose time has come, and publish again the fan-out of
    those sending whose task was lost (the broker, a dead worker). Beat runs it every minute."""
    now = timezone.now()
    started = []
    with transaction.atomic():
        due = Broadcast.objects.filter(status=B.SCHEDULED, scheduled_at__lte=now)
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        for broadcast in due:
            if broadcast.expires_at <= now:
                # Its time passed while it waited (the beat was down): too late to be news.
                broadcast.status, broadcast.cancelled_at = B.CANCELLED, now
                broadcast.save(update_fields=["status", "cancelled_at", "updated_at"])
                logger.warning("broadcast %s expired before it could be sent", broadcast.pk)
                continue
            _start_if_due(broadcast)
            started.append(broadcast.pk)
        # A lane of a sending broadcast untouched this long lost its task (a dead broker or
        # worker).
        stale_after = now - timedelta(seconds=settings.BROADCAST_FANOUT_STALE_SECONDS)
        stale = BroadcastLane.objects.filter(
            broadcast__status=B.SENDING, done_at__isnull=True, updated_at__lte=stale_after
        )
        for pk, broadcast_id, lane in stale.values_list("pk", "broadcast_id", "lane"):
            # Touched (compare-and-set): the task published now has its own stale period
            # before the next run publishes another.
            if not BroadcastLane.objects.filter(
                pk=pk, done_at__isnull=True, updated_at__lte=stale_after
            ).update(updated_at=now):
                continue
            _publish_fan_out_on_commit(broadcast_id, [lane])
            if broadcast_id not in started:
                started.append(broadcast_id)
    return started


# --- fan-out ----------------------------------------------------------------------------------


def _uuid_sql() -> str:
    if connection.vendor == "postgresql":
        return "gen_random_uuid()"
    # SQLite stores a UUIDField as 32 hexadecimal digits.
    return "lower(hex(randomblob(16)))"


def _db_datetime(value: datetime) -> object:
    """Raw SQL skips the field's adaptation: SQLite would store an aware datetime as text with
    its offset, which its text comparisons with the ORM's naive UTC values get wrong (a push
    held by quiet hours would be claimed hours late)."""
    return connection.ops.adapt_datetimefield_value(value)


def _in(ids: list[int]) -> tuple[str, list[int]]:
    return ", ".join(["%s"] * len(ids)), ids


def _texts(broadcast: Broadcast) -> dict[str, str]:
    return {
        "push_title": _cut(broadcast.title, PUSH_TITLE_MAX),
        "push_body": _cut(broadcast.body, PUSH_BODY_MAX),
        "sms": fit_sms(f"{broadcast.title}. {broadcast.body}", unaccented=True),
    }


def broadcast_fan_out(
    *, broadcast_id: int, lane: int | None = None, max_chunks: int | None = None
) -> bool:
    """Write the next chunks of a sending broadcast's lane (``None``: every lane in turn, as a
    single process would). Returns True when the lane (or the broadcast) is done or not
    sending, False when chunks remain (the caller publishes the next run)."""
    if lane is None:
        pending = BroadcastLane.objects.filter(broadcast_id=broadcast_id, done_at__isnull=True)
        for n in list(pending.order_by("lane").values_list("lane", flat=True)):
            broadcast_fan_out(broadcast_id=broadcast_id, lane=n, max_chunks=max_chunks)
        return not pending.exists()
    for _chunk in range(max_chunks or CHUNKS_PER_TASK):
        with transaction.atomic():
            # The lane's row lock: two runs of one lane (a task published again) take turns.
            state = (
                BroadcastLane.objects.select_for_update(of=("self",))
                .select_related("broadcast")
                .filter(broadcast_id=broadcast_id, lane=lane)
                .first()
            )
            if state is None or state.done_at is not None:
                return True
            broadcast = state.broadcast
            # Sending cannot be called back (cancel is refused): the status needs no lock.
            if broadcast.status != B.SENDING:
                return True
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    # The audience's plan is costed as if it read every user (its LIMIT stops
                    # it after a chunk): over jit_above_cost, each chunk would compile it.
                    cursor.execute("SET LOCAL jit = off")
                    # The foreign keys checked by the statements, not at the commit: the
                    # broadcast's counters (the last statement) stay locked only for the commit
                    # itself while the other lanes write.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            ids = list(
                audience(broadcast)
                .alias(lane=Mod("pk", broadcast.fanout_lanes))
                .filter(lane=lane, pk__gt=state.cursor)
                .order_by("pk")
                .values_list("pk", flat=True)[: settings.BROADCAST_FANOUT_CHUNK]
            )
            if not ids:
                _lane_done(state)
                return True
            written, channels = _write_chunk(broadcast, ids)
            state.cursor = ids[-1]
            state.save(update_fields=["cursor", "updated_at"])
            Broadcast.objects.filter(pk=broadcast.pk).update(
                recipients=F("recipients") + len(ids),
                inbox_written=F("inbox_written") + written,
                updated_at=timezone.now(),
            )
            publish_on_commit(channels)
    return False


def _lane_done(state: BroadcastLane) -> None:
    """Inside the lane's transaction: the lane is done; the broadcast is sent when every lane
    is. Under the broadcast's row lock, taken after the lane is marked: of two lanes ending
    together, the second to lock sees the first's committed mark. (No key lock: the other
    lanes' foreign-key checks on the row go on.)"""
    now = timezone.now()
    state.done_at = now
    state.save(update_fields=["done_at", "updated_at"])
    broadcast = Broadcast.objects.select_for_update(no_key=True).get(pk=state.broadcast_id)
    if broadcast.status != B.SENDING or broadcast.lanes.filter(done_at__isnull=True).exists():
        return
    broadcast.status, broadcast.sent_at = B.SENT, now
    broadcast.save(update_fields=["status", "sent_at", "updated_at"])
    logger.info("broadcast %s sent to %d people", broadcast.pk, broadcast.recipients)


def _key(broadcast: Broadcast) -> str:
    return f"broadcast:{broadcast.pk}"


def _write_chunk(broadcast: Broadcast, ids: list[int]) -> tuple[int, dict[str, int]]:
    now = timezone.now()
    emergency = broadcast.kind == BroadcastKind.EMERGENCY
    category = Category.EMERGENCY if emergency else Category.BROADCAST
    texts = _texts(broadcast)
    # Preferences and quiet hours count only for notices that are not emergencies; the few
    # users who set any are planned one by one, everyone else with the inbox rows.
    special = {} if emergency else preferences_of(ids)
    inbox = [
        category,
        f"broadcast.{broadcast.kind}",
        _key(broadcast),
        broadcast.title[:200],
        broadcast.body[:2000],
        json.dumps({"broadcast": broadcast.pk, "kind": broadcast.kind}),
        _db_datetime(now),
        broadcast.pk,
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement: the inbox rows, and the push deliveries of the rows it wrote (a
            # chunk commits with the cursor, so an inbox row already there has its delivery).
            push = [texts["push_title"], texts["push_body"], now, now, now, list(special)]
            cursor.execute(INBOX_AND_PUSH_SQL, [*inbox, ids, *push])
            written, pushes = cursor.fetchone()
        else:
            placeholders, params = _in(ids)
            cursor.execute(
                # Only placeholders and fixed SQL are formatted in; every value is a parameter.
                "INSERT INTO notifications_notification (user_id, category, event, key, title, "  # noqa: S608
                "body, data, created_at, read_at, fallback_text, fallback_due_at, broadcast_id) "
                "SELECT u.id, %s, %s, %s, %s, %s, %s, %s, NULL, '', NULL, %s "
                f"FROM accounts_user u WHERE u.id IN ({placeholders}) "
                "ON CONFLICT (user_id, key) DO NOTHING",
                [*inbox, *params],
            )
            written = max(cursor.rowcount, 0)
            plain = [i for i in ids if i not in special]
            pushes = _insert_push(broadcast, plain, texts, now, now) if plain else 0
    channels: dict[str, int] = {}
    for user_id, pref in special.items():
        if pref.allows(category, Channel.PUSH):
            pushes += _insert_push(broadcast, [user_id], texts, pref.release(now), now)
    if pushes:
        channels[Channel.PUSH] = pushes
    if broadcast.send_sms:
        sms = _insert_sms(broadcast, ids, texts, now)
        if sms:
            channels[Channel.SMS] = sms
    return written, channels


# A chunk's inbox rows and push deliveries in one statement (PostgreSQL). As two statements,
# the deliveries' INSERT looked the chunk's inbox rows up again, and the ids went to the server
# twice as 5 000 parameters each.
INBOX_AND_PUSH_SQL = """
WITH written AS (
  INSERT INTO notifications_notification (user_id, category, event, key, title, body, data,
    created_at, read_at, fallback_text, fallback_due_at, broadcast_id)
  SELECT u.id, %s, %s, %s, %s, %s, %s::jsonb, %s, NULL, '', NULL, %s
  FROM accounts_user u WHERE u.id = ANY(%s::bigint[])
  ON CONFLICT (user_id, key) DO NOTHING
  RETURNING id, user_id
), pushed AS (
  INSERT INTO notifications_delivery (id, notification_id, channel, status, title, body, due_at,
    is_fallback, attempts, claim, provider, provider_message_id, error, created_at, updated_at,
    sent_at, delivered_at)
  SELECT gen_random_uuid(), w.id, 'push', 'created', %s, %s, %s, false, 0, NULL, '', '', '',
    %s, %s, NULL, NULL
  FROM written w
  WHERE NOT w.user_id = ANY(%s::bigint[])
    AND EXISTS (SELECT 1 FROM accounts_device d WHERE d.user_id = w.user_id AND d.is_active)
  ON CONFLICT (notification_id, channel) DO NOTHING
  RETURNING 1
)
SELECT (SELECT count(*) FROM written), (SELECT count(*) FROM pushed)
"""


def _insert_push(
    broadcast: Broadcast, ids: list[int], texts: dict[str, str], due_at: datetime, now: datetime
) -> int:
    placeholders, params = _in(ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO notifications_delivery (id, notification_id, channel, status, title, "  # noqa: S608
            "body, due_at, is_fallback, attempts, claim, provider, provider_message_id, error, "
            "created_at, updated_at, sent_at, delivered_at) "
            f"SELECT {_uuid_sql()}, n.id, 'push', 'created', %s, %s, %s, %s, 0, NULL, '', '', '', "
            "%s, %s, NULL, NULL FROM notifications_notification n "
            # By (user, key), the unique index: by broadcast_id, PostgreSQL may read every row
            # the broadcast has written so far, for each chunk.
            f"WHERE n.key = %s AND n.user_id IN ({placeholders}) "
            "AND EXISTS (SELECT 1 FROM accounts_device d WHERE d.user_id = n.user_id "
            "AND d.is_active) "
            "ON CONFLICT (notification_id, channel) DO NOTHING",
            [
                texts["push_title"],
                texts["push_body"],
                _db_datetime(due_at),
                False,
                _db_datetime(now),
                _db_datetime(now),
                _key(broadcast),
                *params,
            ],
        )
        return max(cursor.rowcount, 0)


# pg_advisory_xact_lock's key for the broadcasts' share of the day's SMS budget.
SMS_BUDGET_LOCK = 0x5_3D5_B0D6E7


def _insert_sms(broadcast: Broadcast, ids: list[int], texts: dict[str, str], now: datetime) -> int:
    """Emergencies with SMS: a text to each recipient with a phone and no active device, as far
    as the day's SMS budget goes; beyond it a row that records the SMS was not sent."""
    if connection.vendor == "postgresql":
        # The lanes' chunks count and spend the budget one after the other (until each
        # commits): side by side, each would see the same count and spend it again.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SMS_BUDGET_LOCK])
    day_start = _local_day_start(now)
    left = settings.NOTIFICATION_SMS_DAILY_BUDGET - (
        Delivery.objects.filter(
            _sms_counted(), channel=Channel.SMS, created_at__gte=day_start
        ).count()
    )
    placeholders, params = _in(ids)
    at = _db_datetime(now)
    select = (  # only placeholders and fixed SQL are formatted in
        "FROM notifications_notification n JOIN accounts_user u ON u.id = n.user_id "  # noqa: S608
        f"WHERE n.key = %s AND n.user_id IN ({placeholders}) AND u.phone LIKE '+%%' "
        "AND NOT EXISTS (SELECT 1 FROM accounts_device d WHERE d.user_id = n.user_id "
        "AND d.is_active) "
        "AND NOT EXISTS (SELECT 1 FROM notifications_delivery x WHERE x.notification_id = n.id "
        "AND x.channel = 'sms') "
    )
    columns = (
        "INSERT INTO notifications_delivery (id, notification_id, channel, status, title, "
        "body, due_at, is_fallback, attempts, claim, provider, provider_message_id, error, "
        "created_at, updated_at, sent_at, delivered_at) "
    )
    with connection.cursor() as cursor:
        cursor.execute(
            columns + f"SELECT {_uuid_sql()}, n.id, 'sms', 'created', '', %s, %s, %s, 0, NULL, "
            "'', '', '', %s, %s, NULL, NULL "
            + select
            + "ORDER BY n.user_id LIMIT %s ON CONFLICT (notification_id, channel) DO NOTHING",
            [texts["sms"], at, True, at, at, _key(broadcast), *params, max(left, 0)],
        )
        queued = max(cursor.rowcount, 0)
        # Over the budget: recorded, not sent (a technical failure with no attempt).
        cursor.execute(
            columns + f"SELECT {_uuid_sql()}, n.id, 'sms', %s, '', %s, %s, %s, 0, NULL, "
            "'', '', %s, %s, %s, NULL, NULL "
            + select
            + "ON CONFLICT (notification_id, channel) DO NOTHING",
            [
                DeliveryStatus.TECHNICAL_FAILURE,
                texts["sms"],
                at,
                True,
                SMS_BUDGET_REACHED,
                at,
                at,
                _key(broadcast),
                *params,
            ],
        )
        if cursor.rowcount > 0:
            _alert_budget_reached(now)
    return queued


# --- check-ins --------------------------------------------------------------------------------


def check_in_record(
    *,
    user: User,
    broadcast_id: int,
    status: str,
    note: str = "",
    latitude=None,
    longitude=None,
) -> CheckIn:
    """A recipient of an emergency answers: safe or need help. Answering again replaces the
    answer. Reading the alert is implied: its inbox message is marked read."""
    notification = (
        Notification.objects.filter(
            user=user, broadcast_id=broadcast_id, broadcast__kind=BroadcastKind.EMERGENCY
        )
        .select_related("broadcast")
        .first()
    )
    if notification is None:
        raise BroadcastNotFound()
    membership = (
        HouseholdMember.objects.filter(user=user, ended_at__isnull=True)
        .select_related("household")
        .first()
    )
    household = membership.household if membership else None
    # The answer counts for the targeted ward they were reached through.
    targeted = set(target_wards(notification.broadcast).values_list("code", flat=True))
    candidates = [household.ward_id if household else None, user.ward_id]
    ward_id = next((w for w in candidates if w in targeted), None) or next(
        (w for w in candidates if w), None
    )
    with transaction.atomic():
        check_in, _created = CheckIn.objects.update_or_create(
            broadcast_id=broadcast_id,
            user=user,
            defaults={
                "status": status,
                "note": note,
                "latitude": latitude,
                "longitude": longitude,
                "household": household,
                "ward_id": ward_id,
            },
        )
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=timezone.now(), fallback_due_at=None
        )
    return check_in
