"""A notification event per category whose texts are the context's title and body, for tests
that are about the inbox or deliveries, not about a domain's wording."""

from __future__ import annotations

from notifications.events import EventType, register


def text_event(
    category: str, *, sms_fallback: bool = False, urgent: bool = False, email: bool = False
) -> str:
    name = (
        f"test.{category}"
        + (".fallback" if sms_fallback else "")
        + (".urgent" if urgent else "")
        + (".email" if email else "")
    )
    register(
        EventType(
            name=name,
            category=category,
            label=name,
            title="{{ title }}",
            body="{{ body }}",
            sample={"title": "Tiêu đề", "body": "Nội dung"},
            sms_fallback=sms_fallback,
            urgent=urgent,
            email=email,
        )
    )
    return name
