"""What a chat platform's adapter does, so the same engine answers inside any official account:
check that a webhook call really comes from the platform, read the text messages out of it, and
send a reply. The flow around it (saved first, answered by a task, swept) is
assistant.channel_flow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Inbound:
    """A text message someone sent the official account."""

    external_id: str  # the platform's message id: a redelivery carries the same one
    sender: str  # the platform's id of the sender, where the reply goes
    text: str


class ChannelError(Exception):
    """A reply could not be sent. ``permanent``: trying again will not help (the platform
    refused the message); otherwise it is tried again later."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class MalformedEvent(ValueError):
    """The body is not an event of the platform's format."""


class Channel:
    name: str = ""
    # The longest reply the platform takes in one message.
    max_reply = 2000

    def enabled(self) -> bool:
        """Configured for this deployment (its secrets are set)."""
        raise NotImplementedError

    def verify(self, headers: Mapping[str, str], body: bytes) -> bool:
        """The call is signed by the platform (the raw body, before any parsing)."""
        raise NotImplementedError

    def parse(self, body: bytes) -> list[Inbound]:
        """The text messages in the call; other events (follows, stickers, seen) give none.
        Raises MalformedEvent."""
        raise NotImplementedError

    def send(self, recipient: str, text: str) -> None:
        """Send ``text`` to ``recipient``. Raises ChannelError."""
        raise NotImplementedError
