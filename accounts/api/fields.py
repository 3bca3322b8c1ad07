from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.phone_numbers import InvalidPhoneNumber, normalize_phone


@extend_schema_field(OpenApiTypes.STR)
class PhoneField(serializers.CharField):
    """Accepts the forms people type; gives E.164."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            return normalize_phone(text)
        except InvalidPhoneNumber as exc:
            raise serializers.ValidationError(exc.message, code="invalid_phone") from None
