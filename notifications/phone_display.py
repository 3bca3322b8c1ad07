"""How a phone number is shown to anyone but its owner (and in our own process output)."""

from __future__ import annotations


def mask_phone(phone: str) -> str:
    if len(phone) <= 6:
        return "*" * len(phone)
    return phone[:4] + "*" * (len(phone) - 7) + phone[-3:]
