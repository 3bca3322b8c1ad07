from __future__ import annotations

from typing import Any

from django.utils import timezone

from notifications.models import SmsMessage


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
