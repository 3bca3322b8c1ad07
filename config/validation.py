"""Input read through a DRF serializer: its validated data, or a ValidationError that the API's
exception handler (``config.errors``) answers as a 400 with the fields' errors."""

from __future__ import annotations

from typing import Any

from rest_framework.serializers import BaseSerializer


def validated(serializer_class: type[BaseSerializer], data: Any) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
