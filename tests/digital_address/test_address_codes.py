"""Native address codes: Damm check digit, formatting and parsing."""

from __future__ import annotations

import random

import pytest

from digital_address import address_codes
from digital_address.address_codes import (
    InvalidAddressCode,
    WrongCheckDigit,
    compose,
    damm_valid,
    format_code,
    parse,
)


def _sample_codes(n: int = 300) -> list[str]:
    rng = random.Random(20)  # a fixed sample: the same codes on every run
    codes = [compose(6040, 123), compose(1, 1), compose(99999, 99999)]
    codes += [compose(rng.randint(1, 99999), rng.randint(1, 99999)) for _ in range(n)]
    return codes


def test_known_code():
    assert compose(6040, 123) == "06040001233"
    assert format_code("06040001233") == "06040-00123-3"


@pytest.mark.parametrize("code", _sample_codes())
def test_every_single_digit_substitution_is_caught(code):
    assert damm_valid(code)
    for position in range(len(code)):
        for digit in "0123456789":
            if digit == code[position]:
                continue
            typo = code[:position] + digit + code[position + 1 :]
            assert not damm_valid(typo), (code, typo)


@pytest.mark.parametrize("code", _sample_codes())
def test_every_adjacent_transposition_is_caught(code):
    for position in range(len(code) - 1):
        a, b = code[position], code[position + 1]
        if a == b:
            continue
        swapped = code[:position] + b + a + code[position + 2 :]
        assert not damm_valid(swapped), (code, swapped)


@pytest.mark.parametrize("code", _sample_codes(50))
def test_format_and_parse_round_trip(code):
    shown = format_code(code)
    assert shown.replace("-", "") == code
    parsed = parse(shown)
    assert parsed.digits == code
    assert str(parsed) == shown
    assert parsed.ward_code == int(code[:5])
    assert parsed.sequence == int(code[5:10])


@pytest.mark.parametrize(
    "typed", ["06040-00123-3", "06040001233", " 06040 00123 3 ", "06040.00123.3", "0604000123-3"]
)
def test_separators_and_spaces_are_accepted(typed):
    assert parse(typed).digits == "06040001233"


def test_wrong_check_digit_is_its_own_error():
    with pytest.raises(WrongCheckDigit) as caught:
        parse("06040-00123-4")
    assert caught.value.code == "wrong_check_digit"
    assert caught.value.status_code == 400


@pytest.mark.parametrize("text", ["", "0604000123", "060400012333", "06040-00123-X", "abc"])
def test_not_a_code(text):
    with pytest.raises(InvalidAddressCode):
        parse(text)


@pytest.mark.parametrize(
    ("ward", "sequence"), [(0, 1), (6040, 0), (100000, 1), (6040, address_codes.MAX_SEQUENCE + 1)]
)
def test_compose_refuses_out_of_range(ward, sequence):
    with pytest.raises(ValueError, match="cannot compose"):
        compose(ward, sequence)
