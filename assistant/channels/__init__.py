"""Chat-channel adapters: the assistant inside a chat platform's official account."""

from __future__ import annotations

from assistant.channels.base import Channel, ChannelError, Inbound, MalformedEvent
from assistant.channels.zalo import ZaloChannel

CHANNELS: dict[str, type[Channel]] = {c.name: c for c in (ZaloChannel,)}


def get_channel(name: str) -> Channel | None:
    """The adapter called ``name`` if it exists and this deployment configured it."""
    kind = CHANNELS.get(name)
    if kind is None:
        return None
    channel = kind()
    return channel if channel.enabled() else None


__all__ = ["CHANNELS", "Channel", "ChannelError", "Inbound", "MalformedEvent", "get_channel"]
