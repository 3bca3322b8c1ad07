"""Personal numbers inside free text (a phone number or an ID number a citizen typed into a
report's description), hidden before the text is shown to the public."""

from __future__ import annotations

import re

# Runs of 9 or more digits, with up to three spaces, dots, dashes or brackets between them
# ("0912 345 678", "+84 912.345.678", "(091) 234 5678", a 9-digit identity card, a 12-digit
# citizen ID), also right after a word ("SĐT0912345678", "cccd001203004567").
_NUMBER = re.compile(r"(?<!\d)\+?\(?\d(?:[\s.\-()]{0,3}\d){8,}(?!\d)")
HIDDEN = "•••"


def redact_numbers(text: str) -> str:
    return _NUMBER.sub(HIDDEN, text)
