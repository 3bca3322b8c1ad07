"""Phone numbers as people type them (``0912345678``, ``+84912345678``, ``84 912 345 678``),
stored in E.164. Accounts are keyed by a Vietnamese mobile number: the OTP goes by SMS."""

from __future__ import annotations

import re

import phonenumbers
from django.utils.translation import gettext_lazy as _

from config.errors import DomainError

MAX_INPUT_LENGTH = 32
# What people type around the digits; phonenumbers itself would skip trailing letters.
TYPED_FORM = re.compile(r"[0-9 +().\-]+")


class InvalidPhoneNumber(DomainError):
    code = "invalid_phone"
    default_message = _("Enter a valid Vietnamese mobile number, for example 0912345678.")


def normalize_phone(raw: str) -> str:
    """Return the E.164 form of a Vietnamese mobile number, or raise InvalidPhoneNumber."""
    text = (raw or "").strip()
    if not text or len(text) > MAX_INPUT_LENGTH or not TYPED_FORM.fullmatch(text):
        raise InvalidPhoneNumber()
    try:
        number = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber() from None
    if (
        number.extension
        or number.country_code != 84
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number)
        not in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
    ):
        raise InvalidPhoneNumber()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
