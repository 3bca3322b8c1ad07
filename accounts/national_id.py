"""The citizen identity card number (CCCD): 12 digits, no checksum.

Digits 1–3: the province where the birth was registered; digit 4: gender and century
(even male, odd female; 0/1 → 1900s, 2/3 → 2000s, 4/5 → 2100s, 6/7 → 2200s, 8/9 → 2300s);
digits 5–6: the last two digits of the birth year; digits 7–12: random.
(Circular 07/2016/TT-BCA, replaced by Circular 59/2021/TT-BCA.)
"""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

# The 63 province codes in use before the 2025 merger (Decision 124/2004/QĐ-TTg). Card numbers
# keep the code of the province that registered the birth, so the old codes stay valid.
PROVINCE_CODES = frozenset(
    f"{c:03d}"
    for c in (
        1,
        2,
        4,
        6,
        8,
        10,
        11,
        12,
        14,
        15,
        17,
        19,
        20,
        22,
        24,
        25,
        26,
        27,
        30,
        31,
        33,
        34,
        35,
        36,
        37,
        38,
        40,
        42,
        44,
        45,
        46,
        48,
        49,
        51,
        52,
        54,
        56,
        58,
        60,
        62,
        64,
        66,
        67,
        68,
        70,
        72,
        74,
        75,
        77,
        79,
        80,
        82,
        83,
        84,
        86,
        87,
        89,
        91,
        92,
        93,
        94,
        95,
        96,
    )
)

# Article 7 of Circular 07/2016/TT-BCA: 0–9 cover the 20th to the 24th century.
_CENTURY_BY_DIGIT = {
    0: 1900,
    1: 1900,
    2: 2000,
    3: 2000,
    4: 2100,
    5: 2100,
    6: 2200,
    7: 2200,
    8: 2300,
    9: 2300,
}

MALE = "male"
FEMALE = "female"


def national_id_errors(number: str, *, date_of_birth: date | None, gender: str | None) -> list[str]:
    """All the reasons ``number`` is not a CCCD of a person with this birth date and gender."""
    if len(number) != 12:
        return [_("A citizen ID number has exactly 12 digits.")]
    if not number.isascii() or not number.isdigit():
        return [_("A citizen ID number contains digits only.")]
    errors = []
    if number[:3] not in PROVINCE_CODES:
        errors.append(_("The first three digits are not a province code."))
    digit = int(number[3])
    if gender in (MALE, FEMALE) and (digit % 2 == 0) != (gender == MALE):
        errors.append(_("The fourth digit does not match the gender."))
    if date_of_birth is not None:
        if _CENTURY_BY_DIGIT[digit] != date_of_birth.year // 100 * 100:
            errors.append(_("The fourth digit does not match the century of the date of birth."))
        if number[4:6] != f"{date_of_birth.year % 100:02d}":
            errors.append(_("Digits 5 and 6 do not match the year of birth."))
    return errors


def mask_national_id(number: str | None) -> str:
    """What anyone but the owner sees: the province code and the last two digits."""
    if not number:
        return ""
    return number[:3] + "*" * (len(number) - 5) + number[-2:]
