from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.selectors import official_ward_codes
from digital_address.models import Household, HouseholdMember, Ward
from notifications.models import (
    Broadcast,
    BroadcastStatus,
    Channel,
    Delivery,
    DeliveryStatus,
    Notification,
    SmsMessage,
)


def sms_for_phone(*, phone: str) -> list[dict[str, Any]]:
    """What a person may see of the messages sent to them (no secrets: OTP texts are wiped)."""
    return [
        {
            "id": str(m.id),
            "purpose": m.purpose,
            "status": m.status,
            "text": "" if m.sensitive else m.body,
            "created_at": timezone.localtime(m.created_at).isoformat(),
            "sent_at": timezone.localtime(m.sent_at).isoformat() if m.sent_at else None,
        }
        for m in SmsMessage.objects.filter(phone=phone).order_by("created_at")
    ]


# The badge shows "99+" past this: the count never reads more rows than this.
UNREAD_COUNT_CAP = 99


def notifications_of(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


def unread_count(*, user) -> tuple[int, bool]:
    """The user's unread messages, counted up to UNREAD_COUNT_CAP over the partial index of
    unread rows; returns the count and whether there are more."""
    count = (
        Notification.objects.filter(user=user, read_at__isnull=True)
        .values("pk")[: UNREAD_COUNT_CAP + 1]
        .count()
    )
    return min(count, UNREAD_COUNT_CAP), count > UNREAD_COUNT_CAP


def notifications_export(*, user) -> list[dict[str, Any]]:
    """The user's inbox and how each message was delivered, for their export of personal data."""
    return [
        {
            "category": n.category,
            "title": n.title,
            "body": n.body,
            "data": n.data,
            "created_at": timezone.localtime(n.created_at).isoformat(),
            "read_at": timezone.localtime(n.read_at).isoformat() if n.read_at else None,
            "deliveries": [
                {
                    "channel": d.channel,
                    "status": d.status,
                    "sent_at": timezone.localtime(d.sent_at).isoformat() if d.sent_at else None,
                }
                for d in sorted(n.deliveries.all(), key=lambda d: d.channel)
            ],
        }
        for n in Notification.objects.filter(user=user)
        .prefetch_related("deliveries")
        .order_by("id")
    ]


def notification_preferences(*, user) -> dict[str, Any]:
    """The user's choices, every category and channel spelled out (on unless turned off)."""
    from notifications.events import MANDATORY_CATEGORIES
    from notifications.models import Category, Channel, NotificationPreference

    pref = NotificationPreference.objects.filter(user=user).first()
    disabled = set(pref.disabled) if pref else set()
    quiet = None
    if pref and pref.quiet_start is not None and pref.quiet_end is not None:
        quiet = {"start": pref.quiet_start, "end": pref.quiet_end}
    return {
        "language": user.language,
        "quiet_hours": quiet,
        "channels": {
            category: {
                channel: category in MANDATORY_CATEGORIES or f"{category}:{channel}" not in disabled
                for channel in Channel.values
            }
            for category in Category.values
        },
        "mandatory": sorted(MANDATORY_CATEGORIES),
    }


# --- broadcasts -------------------------------------------------------------------------------

# Vulnerable in an emergency whatever else: the elderly (Law on the Elderly: 60 and over) and
# children (Law on Children: under 16), and members flagged as needing assistance.
ELDERLY_AGE = 60
CHILD_AGE = 16


def target_wards(broadcast: Broadcast) -> QuerySet[Ward]:
    if broadcast.province_id:
        return Ward.objects.filter(province_id=broadcast.province_id)
    return broadcast.wards.all()


def audience(broadcast: Broadcast) -> QuerySet[User]:
    """Each person once: active users who are current members of a household in the target,
    or whose profile ward is in it."""
    wards = target_wards(broadcast).values("code")
    members = HouseholdMember.objects.filter(
        user_id=OuterRef("pk"), ended_at__isnull=True, household__ward_id__in=wards
    )
    return User.objects.filter(Q(ward_id__in=wards) | Exists(members), is_active=True)


def broadcasts_visible_to(*, official: User) -> QuerySet[Broadcast]:
    """The broadcasts of the official's units: any targeting one of their wards, and the
    province-wide ones of their wards' province."""
    codes = official_ward_codes(user=official)
    broadcasts = Broadcast.objects.all()
    if codes is None:
        return broadcasts
    provinces = Ward.objects.filter(code__in=codes).values("province_id")
    return broadcasts.filter(Q(wards__code__in=codes) | Q(province_id__in=provinces)).distinct()


def broadcasts_awaiting_approval(*, official: User) -> QuerySet[Broadcast]:
    """What the official may approve (broadcast_approve's rule): waiting for approval, not
    their own, and every ward it targets one of theirs."""
    waiting = (
        broadcasts_visible_to(official=official)
        .filter(status=BroadcastStatus.PENDING_APPROVAL)
        .exclude(created_by=official)
    )
    codes = official_ward_codes(user=official)
    if codes is None:
        return waiting
    outside = Ward.objects.exclude(code__in=codes)
    return waiting.exclude(wards__in=outside).exclude(province_id__in=outside.values("province_id"))


def active_broadcasts(*, ward: Ward) -> QuerySet[Broadcast]:
    """Sent and not expired, for this ward or its whole province: what anyone there should see."""
    now = timezone.now()
    return (
        Broadcast.objects.filter(status=BroadcastStatus.SENT, expires_at__gt=now)
        .filter(Q(wards=ward) | Q(province_id=ward.province_id))
        .distinct()
        .order_by("-sent_at", "-id")
    )


def years_ago(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def vulnerable_members(broadcast: Broadcast) -> QuerySet[HouseholdMember]:
    """Current members of the target's households who are elderly, children or flagged."""
    today = timezone.localdate()
    return HouseholdMember.objects.filter(
        Q(date_of_birth__lte=years_ago(today, ELDERLY_AGE))
        | Q(date_of_birth__gt=years_ago(today, CHILD_AGE))
        | Q(needs_assistance=True),
        ended_at__isnull=True,
        household__ward_id__in=target_wards(broadcast).values("code"),
    )


_S = DeliveryStatus
# Deliveries by outcome: sent (the provider took it: sent, or delivered), delivered (the
# provider's receipt said so), failed for good, and waiting (not out yet, or to be retried).
DELIVERY_TALLY = {
    "sent": Count("pk", filter=Q(status__in=[_S.SENT, _S.DELIVERED])),
    "delivered": Count("pk", filter=Q(status=_S.DELIVERED)),
    "failed": Count("pk", filter=Q(status__in=[_S.PERMANENT_FAILURE, _S.TECHNICAL_FAILURE])),
    "waiting": Count("pk", filter=Q(status__in=[_S.CREATED, _S.SENDING, _S.TEMPORARY_FAILURE])),
}


def broadcast_progress(broadcast: Broadcast) -> dict[str, Any]:
    """Recipients, inbox rows written, and the push and SMS deliveries by outcome."""
    rows = {
        row["channel"]: row
        for row in Delivery.objects.filter(notification__broadcast=broadcast)
        .values("channel")
        .annotate(**DELIVERY_TALLY)
    }
    empty = dict.fromkeys(DELIVERY_TALLY, 0)
    return {
        "recipients": broadcast.recipients,
        "inbox_written": broadcast.inbox_written,
        "push": {k: rows.get("push", empty)[k] for k in empty},
        "sms": {k: rows.get("sms", empty)[k] for k in empty},
    }


REPORT_LIMIT = 500


def _place(household: Household) -> dict[str, Any]:
    return {
        "code": household.formatted_code,
        "address": household.address_line,
        "ward": household.ward_id,
        "latitude": household.latitude,
        "longitude": household.longitude,
    }


def _age(born: date | None, today: date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def check_in_report(
    broadcast: Broadcast, *, ward: int | None = None, visible: frozenset[int] | None = None
) -> dict[str, Any]:
    """What a response team needs: answers per ward, who needs help (where), and the
    vulnerable members of households nobody answered for. ``ward`` narrows the lists;
    ``visible`` (the official's wards; None: all) keeps other units' people out of them."""
    from django.db.models import Count

    from notifications.models import CheckIn, CheckInStatus
    from notifications.phone_display import mask_phone

    answers = CheckIn.objects.filter(broadcast=broadcast)
    wards = list(target_wards(broadcast).order_by("code").values_list("code", "name"))
    counts = {
        row["ward_id"]: row
        for row in answers.values("ward_id").annotate(
            safe=Count("pk", filter=Q(status=CheckInStatus.SAFE)),
            need_help=Count("pk", filter=Q(status=CheckInStatus.NEED_HELP)),
        )
    }
    need_help = answers.filter(status=CheckInStatus.NEED_HELP)
    vulnerable = vulnerable_members(broadcast).exclude(
        household_id__in=answers.exclude(household_id=None).values("household_id")
    )
    if ward is not None:
        need_help = need_help.filter(ward_id=ward)
        vulnerable = vulnerable.filter(household__ward_id=ward)
    if visible is not None:
        need_help = need_help.filter(ward_id__in=visible)
        vulnerable = vulnerable.filter(household__ward_id__in=visible)
    today = timezone.localdate()
    return {
        "recipients": broadcast.recipients,
        "wards": [
            {
                "ward": code,
                "name": name,
                "safe": counts.get(code, {}).get("safe", 0),
                "need_help": counts.get(code, {}).get("need_help", 0),
            }
            for code, name in wards
        ],
        "need_help": [
            {
                "user": c.user_id,
                "full_name": c.user.full_name,
                "phone": mask_phone(c.user.phone),
                "note": c.note,
                "latitude": c.latitude,
                "longitude": c.longitude,
                "household": _place(c.household) if c.household else None,
                "updated_at": c.updated_at,
            }
            for c in need_help.select_related("user", "household").order_by("-updated_at")[
                :REPORT_LIMIT
            ]
        ],
        "need_help_total": need_help.count(),
        "vulnerable_not_responded": [
            {
                "member": m.pk,
                "user_id": m.user_id,
                "full_name": m.full_name,
                "age": _age(m.date_of_birth, today),
                "needs_assistance": m.needs_assistance,
                "household": _place(m.household),
            }
            for m in vulnerable.select_related("household").order_by("household__ward_id", "pk")[
                :REPORT_LIMIT
            ]
        ],
        "vulnerable_not_responded_total": vulnerable.count(),
    }


def check_ins_export(*, user) -> list[dict[str, Any]]:
    """The user's answers to emergencies, for their export of personal data."""
    from notifications.models import CheckIn

    return [
        {
            "broadcast": c.broadcast_id,
            "status": c.status,
            "note": c.note,
            "latitude": str(c.latitude) if c.latitude is not None else None,
            "longitude": str(c.longitude) if c.longitude is not None else None,
            "updated_at": timezone.localtime(c.updated_at).isoformat(),
        }
        for c in CheckIn.objects.filter(user=user).order_by("created_at")
    ]


# --- delivery rates ---------------------------------------------------------------------------

# The channels whose rates the officials' KPI page shows (email is a courtesy copy).
RATE_CHANNELS = (Channel.PUSH, Channel.SMS)


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _rates(tally: dict[str, int]) -> dict[str, Any]:
    counts = {measure: tally.get(measure, 0) for measure in DELIVERY_TALLY}
    return {
        **counts,
        # Of the messages whose attempt is over, how many the provider took.
        "sent_rate": _percent(counts["sent"], counts["sent"] + counts["failed"]),
        "delivery_rate": _percent(counts["delivered"], counts["sent"]),
    }


def delivery_rates(*, ward_codes: Collection[int] | None, start: date, end: date) -> dict[str, Any]:
    """Push and SMS deliveries created in the period (Vietnam's days, inclusive) to the people
    living in ``ward_codes`` (the ward of their profile; None: everyone), in total and per ward,
    per channel: the DELIVERY_TALLY counts, ``sent_rate`` = sent ÷ (sent + failed) and
    ``delivery_rate`` = delivered ÷ sent, in % (None with nothing to divide). One query.

    ``{"total": {"push": {...}, "sms": {...}}, "units": {ward code: {"push": ..., "sms": ...}}}``
    """
    local = timezone.get_default_timezone()
    deliveries = Delivery.objects.filter(
        created_at__gte=datetime.combine(start, time.min, tzinfo=local),
        created_at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=local),
        channel__in=RATE_CHANNELS,
    )
    if ward_codes is not None:
        deliveries = deliveries.filter(notification__user__ward_id__in=ward_codes)
    total: dict[str, dict[str, int]] = {channel: {} for channel in RATE_CHANNELS}
    units: dict[int | None, dict[str, dict[str, int]]] = {}
    rows = (
        deliveries.order_by()
        .values("notification__user__ward_id", "channel")
        .annotate(**DELIVERY_TALLY)
    )
    for row in rows:
        unit = units.setdefault(
            row["notification__user__ward_id"], {channel: {} for channel in RATE_CHANNELS}
        )
        unit[row["channel"]] = row
        for measure in DELIVERY_TALLY:
            total[row["channel"]][measure] = total[row["channel"]].get(measure, 0) + row[measure]
    return {
        "total": {channel: _rates(tally) for channel, tally in total.items()},
        "units": {
            code: {channel: _rates(tally) for channel, tally in unit.items()}
            for code, unit in units.items()
        },
    }
