"""Rendering an event's texts for a channel in a language, within the channel's limits.

Templates use Django's template language without HTML escaping (the texts are plain text: push,
SMS, email bodies, the inbox). Push titles and texts are cut to what phones show; an SMS is kept
within two segments (GSM-7: 160/153 characters; with any other character UCS-2: 70/67).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.template import Context, Engine, TemplateSyntaxError
from django.utils import translation

from digital_address.vietnamese_text import strip_diacritics
from notifications.events import EventType
from notifications.models import NotificationTemplate, TemplateChannel

# What Android and iOS show before cutting; FCM's own limit (4 KB a message) is far above.
PUSH_TITLE_MAX = 65
PUSH_BODY_MAX = 240
INBOX_TITLE_MAX = 200
INBOX_BODY_MAX = 2000
EMAIL_SUBJECT_MAX = 200
SMS_MAX_SEGMENTS = 2

# GSM 03.38: the basic character set, and the extension table (each counts as two).
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")

_engine = Engine(autoescape=False, debug=False, libraries={}, string_if_invalid="")


@dataclass(frozen=True)
class SmsSize:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # characters, extension characters counted twice (GSM-7) or UTF-16 units
    segments: int


def sms_size(text: str) -> SmsSize:
    if all(ch in _GSM7_BASIC or ch in _GSM7_EXTENDED for ch in text):
        units = sum(2 if ch in _GSM7_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    segments = 1 if units <= single else -(-units // multi)
    return SmsSize(encoding, units, max(segments, 1) if text else 0)


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split()) if "\n" not in text else text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def fit_sms(text: str, *, unaccented: bool) -> str:
    """The text as it is sent: unaccented if asked (and then in GSM-7 where possible), cut to
    two segments."""
    text = " ".join(text.split())
    if unaccented:
        text = strip_diacritics(text)
    if sms_size(text).segments <= SMS_MAX_SEGMENTS:
        return text

    # Cut to the longest prefix that fits with its ellipsis: "..." while the prefix is GSM-7
    # (a character beyond the cut must not turn the whole text into UCS-2), "…" otherwise.
    def cut(length: int) -> str:
        prefix = text[:length].rstrip()
        return prefix + ("..." if sms_size(prefix).encoding == "GSM-7" else "…")

    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if sms_size(cut(mid)).segments <= SMS_MAX_SEGMENTS:
            low = mid
        else:
            high = mid - 1
    return cut(low)


def compile_text(source: str):
    """Raises TemplateSyntaxError for a broken template."""
    return _engine.from_string(source)


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str


def render_source(title: str, body: str, context: dict) -> Rendered:
    ctx = Context(context, autoescape=False)
    return Rendered(
        compile_text(title).render(ctx) if title else "", compile_text(body).render(ctx)
    )


def fit(channel: str, rendered: Rendered, *, strip: bool) -> Rendered:
    match channel:
        case TemplateChannel.PUSH:
            return Rendered(
                _cut(rendered.title, PUSH_TITLE_MAX), _cut(rendered.body, PUSH_BODY_MAX)
            )
        case TemplateChannel.SMS:
            return Rendered("", fit_sms(rendered.body, unaccented=strip))
        case TemplateChannel.EMAIL:
            return Rendered(_cut(rendered.title, EMAIL_SUBJECT_MAX), rendered.body.strip())
        case _:
            return Rendered(
                _cut(rendered.title, INBOX_TITLE_MAX), rendered.body.strip()[:INBOX_BODY_MAX]
            )


class TemplateSet:
    """The administrators' templates for some events, read once (one query) and then used for
    every recipient and language."""

    def __init__(self, events: list[str]) -> None:
        self._rows = {
            (t.event, t.language, t.channel): t
            for t in NotificationTemplate.objects.filter(event__in=events)
        }

    def render(self, event: EventType, channel: str, language: str, context: dict) -> Rendered:
        row = self._rows.get((event.name, language, channel))
        with translation.override(language):
            if row is not None:
                try:
                    rendered = render_source(row.title, row.body, context)
                    return fit(channel, rendered, strip=row.strip_diacritics)
                except TemplateSyntaxError:
                    # Checked on save; a template broken anyway falls back to the built-in text
                    # rather than losing the message.
                    pass
            title, body, strip = event.default_texts(channel)
            return fit(channel, render_source(title, body, context), strip=strip)
