"""Native digital address codes: the 5-digit ward code, a 5-digit sequence within the ward and
one Damm check digit, shown grouped as ``06040-00123-7``.

Damm's check digit (H. Michael Damm, 2004) catches every single-digit substitution and every
adjacent transposition, which are the mistakes people make when they read a code off a house
plate or type it on a phone; unlike Verhoeff it needs one table and no permutations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from config.errors import DomainError

WARD_DIGITS = 5
SEQUENCE_DIGITS = 5
CODE_DIGITS = WARD_DIGITS + SEQUENCE_DIGITS + 1
MAX_SEQUENCE = 10**SEQUENCE_DIGITS - 1

# The weakly totally anti-symmetric quasigroup of order 10 from Damm's thesis.
_DAMM_TABLE = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

# What people put between digit groups: spaces, hyphens, dots, slashes.
_SEPARATORS = re.compile(r"[\s\-./]+")


class InvalidAddressCode(DomainError):
    code = "invalid_address_code"
    default_message = _("This is not a digital address code.")


class WrongCheckDigit(DomainError):
    code = "wrong_check_digit"
    default_message = _(
        "The last digit of this address code does not match the others: "
        "a digit was probably mistyped or two digits swapped. Please check the code."
    )


def damm_digit(digits: str) -> int:
    interim = 0
    for char in digits:
        interim = _DAMM_TABLE[interim][ord(char) - 48]
    return interim


def damm_valid(digits: str) -> bool:
    return damm_digit(digits) == 0


def compose(ward_code: int, sequence: int) -> str:
    """The 11 digits of a native code, check digit included."""
    if not 0 < ward_code < 10**WARD_DIGITS or not 0 < sequence <= MAX_SEQUENCE:
        raise ValueError(f"cannot compose a code from ward {ward_code} and sequence {sequence}")
    body = f"{ward_code:0{WARD_DIGITS}d}{sequence:0{SEQUENCE_DIGITS}d}"
    return body + str(damm_digit(body))


def format_code(digits: str) -> str:
    """``06040001237`` → ``06040-00123-7``."""
    return f"{digits[:WARD_DIGITS]}-{digits[WARD_DIGITS:-1]}-{digits[-1]}"


def strip_separators(text: str) -> str:
    return _SEPARATORS.sub("", text or "")


def looks_native(text: str) -> bool:
    bare = strip_separators(text)
    return len(bare) == CODE_DIGITS and bare.isascii() and bare.isdigit()


def normalize_external_code(code: str) -> str:
    """External codes are compared without spaces and in capitals, as typed from a plate."""
    return "".join(code.split()).upper()


@dataclass(frozen=True)
class NativeCode:
    digits: str

    @property
    def ward_code(self) -> int:
        return int(self.digits[:WARD_DIGITS])

    @property
    def sequence(self) -> int:
        return int(self.digits[WARD_DIGITS:-1])

    def __str__(self) -> str:
        return format_code(self.digits)


def parse(text: str) -> NativeCode:
    """Accepts the code with or without separators and spaces; a wrong check digit is its own
    error, so a mistyped plate is not answered with "not found"."""
    bare = strip_separators(text)
    if not looks_native(bare):
        raise InvalidAddressCode()
    if not damm_valid(bare):
        raise WrongCheckDigit()
    return NativeCode(bare)
