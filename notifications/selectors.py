from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from notifications.models import Notification, SmsMessage


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
