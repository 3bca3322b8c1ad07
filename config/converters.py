"""Path converters shared by the URLconfs."""

from __future__ import annotations

from django.urls import register_converter


class RowId:
    """A row's id: at most 18 digits, so that it fits a 64-bit key. A longer number matches no
    URL (a JSON 404) instead of overflowing the database driver (a 500)."""

    regex = r"[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(RowId, "id")
