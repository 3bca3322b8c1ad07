"""The event types the apps tell users about, each with its built-in texts per channel.

A domain app registers its events when it is loaded (``register``) and calls
``notifications.actions.notify(event=..., context=...)``. The texts are Django templates over the
event's context ("{{ code }}"), translated through gettext like every other text; an
administrator may override any of them per language and channel (NotificationTemplate).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from notifications.models import Category, TemplateChannel

# Categories whose messages nobody may turn off (security, emergencies).
MANDATORY_CATEGORIES = frozenset({Category.ACCOUNT, Category.EMERGENCY})


@dataclass(frozen=True)
class EventType:
    name: str
    category: str
    label: Promise | str
    # The inbox title and text; push uses them too unless ``push`` is given.
    title: Promise | str
    body: Promise | str
    # Values for the admin's preview (and the template checks on save).
    sample: dict[str, str]
    push: tuple[Promise | str, Promise | str] | None = None
    # Unaccented GSM-7 text: 160 characters a segment instead of 70.
    sms: Promise | str | None = None
    # Sent through quiet hours.
    urgent: bool = False
    # If push cannot reach the user, or the message stays unread, an SMS goes out once.
    sms_fallback: bool = False
    # Also sent by email to users who gave an address.
    email: bool = False
    extra: dict[str, object] = field(default_factory=dict)

    def default_texts(self, channel: str) -> tuple[str, str, bool]:
        """The built-in (title, body, strip diacritics) for a channel, in the active language."""
        title, body = str(self.title), str(self.body)
        if channel == TemplateChannel.PUSH and self.push:
            return str(self.push[0]), str(self.push[1]), False
        if channel == TemplateChannel.SMS:
            return "", str(self.sms) if self.sms else f"{title}. {body}", True
        return title, body, False


def event_factory(prefix: str, category: str, sample: dict[str, str]) -> Callable[..., EventType]:
    """What builds one app's events: named ``<prefix>.<name>``, in its category, previewed with
    the app's sample values and the event's own on top of them."""

    def event(
        name: str,
        label: Promise | str,
        title: Promise | str,
        body: Promise | str,
        own_sample: dict[str, str] | None = None,
        **options: object,
    ) -> EventType:
        return EventType(
            name=f"{prefix}.{name}",
            category=category,
            label=label,
            title=title,
            body=body,
            sample={**sample, **(own_sample or {})},
            **options,
        )

    return event


_EVENTS: dict[str, EventType] = {}


def register(*events: EventType) -> None:
    for event in events:
        existing = _EVENTS.get(event.name)
        if existing is not None and existing != event:
            raise ValueError(f"notification event {event.name!r} registered twice")
        _EVENTS[event.name] = event


def get_event(name: str) -> EventType:
    try:
        return _EVENTS[name]
    except KeyError:
        raise LookupError(f"unknown notification event {name!r}") from None


def all_events() -> list[EventType]:
    return sorted(_EVENTS.values(), key=lambda e: e.name)


def event_choices() -> list[tuple[str, str]]:
    return [(e.name, f"{e.name} · {e.label}") for e in all_events()]


SMS_BUDGET_REACHED = EventType(
    name="account.sms_budget_reached",
    category=Category.ACCOUNT,
    label=_("Daily SMS budget reached"),
    title=_("Daily SMS budget reached"),
    body=_(
        "{{ count }} SMS were sent today, the daily budget of {{ budget }}. No further "
        "notification SMS go out until tomorrow; emergencies still do."
    ),
    sample={"count": "10000", "budget": "10000"},
    urgent=True,
    email=True,
)

register(SMS_BUDGET_REACHED)
