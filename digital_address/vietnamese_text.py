"""Folding Vietnamese text for search: case, diacritics and đ → d ("Đông Kinh" → "dong kinh")."""

from __future__ import annotations

import unicodedata

_D = str.maketrans({"đ": "d", "Đ": "d"})


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.translate(_D))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


def strip_diacritics(text: str) -> str:
    """Keep case and spacing, drop accents: "Mã xác thực" → "Ma xac thuc"."""
    decomposed = unicodedata.normalize("NFD", text.translate(_D_KEEP_CASE))
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    )


_D_KEEP_CASE = str.maketrans({"đ": "d", "Đ": "D"})
