"""The CSV file of a commune's households: read, and checked row by row. Nothing here writes:
:mod:`digital_address.actions.imports` writes the rows read here.

The file
========
UTF-8 text (a byte-order mark is accepted: Excel's "CSV UTF-8" writes one), comma-separated, with
a header row on line 1 naming the columns. Column order is free; names are matched ignoring case
and surrounding spaces. Empty lines, and lines whose every cell is empty, are skipped.

====================  ========  ==============================================================
column                required  content
====================  ========  ==============================================================
ward_code             yes       the commune-level unit's code, 1–5 digits (``6040``, ``06040``)
import_ref            no        the paper record's number, at most 64 characters, unique per
                                ward: a row whose (ward, import_ref) is already in the database
                                is reported as already imported and skipped, so importing the
                                same file again writes nothing twice
house_number          (*)       at most 50 characters
street                (*)       at most 150 characters
hamlet                (*)       thôn, bản or tổ dân phố, at most 150 characters
latitude, longitude   no        decimal degrees with a dot (``21.853707``, ``106.761394``),
                                both or neither, inside Vietnam; kept to 6 decimals
head_full_name        yes       the head of the household, at most 150 characters
head_date_of_birth    no        ``YYYY-MM-DD`` or ``DD/MM/YYYY``, not in the future
external_scheme,      no        both or neither: the scheme (``national``, ``vpostcode`` or
external_code                   ``other``) and the code (spaces removed, upper-cased, at most 64
                                characters); a code already attached to a household, or given
                                on an earlier row of the file, is refused
====================  ========  ==============================================================

(*) at least one of the three in every row (and so at least one of the columns in the header).

File-level errors, raised as :class:`ImportFileInvalid` (HTTP 400, ``fields={"file": [...]}``)
before anything is written: no header, an unknown or repeated column, a missing required column
(``ward_code``, ``head_full_name``, one of the address columns, the other column of a pair). The
file is not UTF-8 or not CSV (an unterminated quote): :func:`households_file_check` finds these
by reading the whole file first; found later, by
:func:`~digital_address.actions.imports.households_import` itself, they stop the import after the
chunks already written.

Everything else is a row error, found here before anything is written: a value the database
could not store is refused by :class:`RowParser`, not by the database. A NUL character (which
Python's csv reads since 3.11, and which no text column takes: PostgreSQL refuses it) makes the
row fail; a coordinate is read only as a bounded decimal number (no ``NaN``, ``Infinity`` or
``1e1000000``, which :class:`~decimal.Decimal` would read and then overflow on).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from digital_address import address_codes
from digital_address.address_codes import normalize_external_code
from digital_address.errors import ImportFileInvalid
from digital_address.locations import location_errors, plus_code_for, quantize
from digital_address.models import (
    ExternalAddressCode,
    ExternalCodeScheme,
    Household,
    HouseholdMember,
)

COLUMNS = (
    "ward_code",
    "import_ref",
    "house_number",
    "street",
    "hamlet",
    "latitude",
    "longitude",
    "head_full_name",
    "head_date_of_birth",
    "external_scheme",
    "external_code",
)
REQUIRED_COLUMNS = ("ward_code", "head_full_name")
ADDRESS_COLUMNS = ("house_number", "street", "hamlet")
PAIRED_COLUMNS = (("latitude", "longitude"), ("external_scheme", "external_code"))
ROW = "row"  # the key of a problem with the whole row rather than one of its cells

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_VN_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
# A number as a spreadsheet writes one: ASCII digits, a dot, perhaps an exponent of at most three
# digits; at most _NUMBER_MAX_LENGTH characters. Decimal would also read "NaN", "Infinity",
# "1_000", other scripts' digits and exponents up to 999 999 (then overflow in arithmetic).
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_NUMBER_MAX_LENGTH = 40
_SCHEMES = frozenset(ExternalCodeScheme.values)


def _max_length(model: type[Model], name: str) -> int:
    return model._meta.get_field(name).max_length


_LIMITS = {
    "import_ref": _max_length(Household, "import_ref"),
    "house_number": _max_length(Household, "house_number"),
    "street": _max_length(Household, "street"),
    "hamlet": _max_length(Household, "hamlet"),
    "head_full_name": _max_length(HouseholdMember, "full_name"),
    "external_code": _max_length(ExternalAddressCode, "code"),
}


def _file_error(message: str) -> ImportFileInvalid:
    return ImportFileInvalid(message, fields={"file": [message]})


@dataclass(frozen=True)
class RowError:
    """A row not imported: ``row`` is its line in the file (the header is line 1); ``fields`` maps
    a column (or ``"row"``) to its messages, in the active language."""

    row: int
    fields: dict[str, list[str]]


# --- reading ----------------------------------------------------------------------------------


def _header(reader: Iterator[list[str]]) -> dict[str, int]:
    """Column name → position, or a file-level error."""
    try:
        names = next(reader)
    except StopIteration:
        names = []
    if names:
        names[0] = names[0].removeprefix("\ufeff")
    names = [name.strip().lower() for name in names]
    if not any(names):
        raise _file_error(_("The file is empty: the first line must name the columns."))
    if len(names) == 1 and ";" in names[0]:
        # Excel with Vietnamese regional settings separates with semicolons.
        raise _file_error(
            _("The columns are separated by semicolons: the file must use commas (CSV UTF-8).")
        )
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise _file_error(
            _("Unknown columns: %(columns)s. The columns are: %(known)s.")
            % {"columns": ", ".join(f'"{n}"' for n in unknown), "known": ", ".join(COLUMNS)}
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise _file_error(
            _("Columns named more than once: %(columns)s.") % {"columns": ", ".join(repeated)}
        )
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if not any(name in names for name in ADDRESS_COLUMNS):
        missing.append(" / ".join(ADDRESS_COLUMNS))
    for pair in PAIRED_COLUMNS:
        if any(name in names for name in pair):
            missing.extend(name for name in pair if name not in names)
    if missing:
        raise _file_error(_("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)})
    return {name: position for position, name in enumerate(names)}


def _decoded(lines: Iterable[str]) -> Iterator[str]:
    """The lines, with a decoding error (a file opened as UTF-8 that is not) as a file error."""
    iterator = iter(lines)
    while True:
        try:
            line = next(iterator)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise _file_error(
                _("The file is not UTF-8 text. Save it as “CSV UTF-8” and import it again.")
            ) from exc
        yield line


def _records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, values) of every non-empty record after the header."""
    start = reader.line_num + 1
    try:
        for values in reader:
            if any(value.strip() for value in values):
                yield start, values
            start = reader.line_num + 1
    except csv.Error as exc:
        raise _file_error(
            _("The file is not valid CSV from line %(line)d on.") % {"line": start}
        ) from exc


def households_file_read(
    *, lines: Iterable[str]
) -> tuple[dict[str, int], Iterator[tuple[int, list[str]]]]:
    """The header, read now (a file-level error if it is wrong), as column name → position; and
    the records after it, as (line where the record starts, values), read as they are iterated.
    A decoding or CSV error met while iterating is a file-level error."""
    reader = csv.reader(_decoded(lines), strict=True)
    columns = _header(reader)
    return columns, _records(reader)


def households_file_check(*, lines: Iterable[str], max_rows: int | None = None) -> int:
    """Read the whole file, writing nothing: the header, the encoding (when ``lines`` decodes as it
    is read) and the CSV structure. Returns the number of rows; more than ``max_rows`` is a
    file-level error, raised as soon as the row after the limit is read."""
    _columns, records = households_file_read(lines=lines)
    count = 0
    for _record in records:
        count += 1
        if max_rows is not None and count > max_rows:
            raise _file_error(
                ngettext(
                    "The file has more than %(max)d row: import it in parts.",
                    "The file has more than %(max)d rows: import it in parts.",
                    max_rows,
                )
                % {"max": max_rows}
            )
    return count


def households_file_wards(*, lines: Iterable[str]) -> frozenset[int]:
    """The ward codes a (checked) file names, well-formed or not yet validated."""
    columns, records = households_file_read(lines=lines)
    position = columns["ward_code"]
    wards = set()
    for _line, values in records:
        text = values[position].strip() if position < len(values) else ""
        if 0 < len(text) <= address_codes.WARD_DIGITS and text.isascii() and text.isdigit():
            wards.add(int(text))
    return frozenset(wards)


# --- validating a row -------------------------------------------------------------------------


@dataclass(slots=True)
class Row:
    """A valid row, ready to write: ``line`` is where it starts in the file."""

    line: int
    ward: int
    import_ref: str | None
    house_number: str
    street: str
    hamlet: str
    latitude: Decimal | None
    longitude: Decimal | None
    plus_code: str
    full_name: str
    date_of_birth: date | None
    scheme: str
    external_code: str


def _too_long(limit: int, length: int) -> str:
    # Django's MaxLengthValidator message, translated by Django's catalog.
    return ngettext(
        "Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
        "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
        limit,
    ) % {"limit_value": limit, "show_value": length}


def _decimal(text: str) -> Decimal | None:
    """The number, or None when the text is not one (or is too long to be a coordinate): never
    an exception. Within these bounds (magnitude below 10**1040, exponent above -1040), comparing
    the number and quantizing it (when below 1000) cannot overflow."""
    if len(text) > _NUMBER_MAX_LENGTH or not _NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except ArithmeticError:  # not within the bounds above; kept so that no input raises
        return None


def _date(text: str) -> date | None:
    try:
        if _ISO_DATE.fullmatch(text):
            return date.fromisoformat(text)
        match = _VN_DATE.fullmatch(text)
        if match:
            day, month, year = (int(part) for part in match.groups())
            return date(year, month, day)
    except ValueError:
        return None
    return None


class RowParser:
    """Turns a record into a :class:`Row`, or into its per-column messages."""

    def __init__(
        self, columns: dict[str, int], *, wards: frozenset[int], allowed: frozenset[int] | None
    ) -> None:
        self.width = len(columns)
        self.positions = [columns.get(name, -1) for name in COLUMNS]
        self.wards = wards
        self.allowed = allowed
        self.today = timezone.localdate()
        # The messages, translated once per import rather than once per row.
        self.required = _("This field is required.")
        self.not_a_ward_code = _("A ward code is 1 to 5 digits.")
        self.unknown_ward = _("No commune-level unit has this code.")
        self.not_your_ward = _("You are not an official of this ward.")
        self.no_address = _("Give a house number, a street or a hamlet.")
        self.not_a_number = _("Enter a number.")
        self.not_a_date = _("Enter a date as YYYY-MM-DD or DD/MM/YYYY.")
        self.future_date = _("A date of birth cannot be in the future.")
        self.pair = _("Give both the scheme and the code, or neither.")
        self.nul = _("This value contains an invisible NUL character (\\0): type the value again.")

    def _coordinate(self, name: str, text: str, errors: dict[str, list[str]]) -> Decimal | None:
        if not text:
            return None
        value = _decimal(text)
        if value is None:
            errors[name] = [self.not_a_number]
            return None
        # Far out of range, quantize would overflow; location_errors says what is wrong.
        return value if abs(value) > 1000 else quantize(value)

    def __call__(self, line: int, values: list[str]) -> Row | dict[str, list[str]]:
        if len(values) != self.width:
            message = ngettext(
                "This row has %(count)d value but the header names %(columns)d columns.",
                "This row has %(count)d values but the header names %(columns)d columns.",
                len(values),
            ) % {"count": len(values), "columns": self.width}
            return {ROW: [message]}
        if any("\x00" in value for value in values):
            # Python's csv reads a NUL; no database text column takes one (PostgreSQL refuses it).
            return {
                name: [self.nul]
                for name, position in zip(COLUMNS, self.positions, strict=True)
                if position >= 0 and "\x00" in values[position]
            }
        (
            ward_text,
            import_ref,
            house_number,
            street,
            hamlet,
            latitude_text,
            longitude_text,
            full_name,
            born_text,
            scheme,
            code,
        ) = [values[i].strip() if i >= 0 else "" for i in self.positions]
        errors: dict[str, list[str]] = {}

        ward = 0
        if not ward_text:
            errors["ward_code"] = [self.required]
        elif not (
            len(ward_text) <= address_codes.WARD_DIGITS
            and ward_text.isascii()
            and ward_text.isdigit()
        ):
            errors["ward_code"] = [self.not_a_ward_code]
        else:
            ward = int(ward_text)
            if ward not in self.wards:
                errors["ward_code"] = [self.unknown_ward]
            elif self.allowed is not None and ward not in self.allowed:
                errors["ward_code"] = [self.not_your_ward]

        for name, text in (
            ("import_ref", import_ref),
            ("house_number", house_number),
            ("street", street),
            ("hamlet", hamlet),
            ("head_full_name", full_name),
        ):
            if len(text) > _LIMITS[name]:
                errors[name] = [_too_long(_LIMITS[name], len(text))]
        if not (house_number or street or hamlet):
            errors[ROW] = [self.no_address]
        if not full_name:
            errors["head_full_name"] = [self.required]

        latitude = longitude = None
        plus_code = ""
        if latitude_text or longitude_text:
            latitude = self._coordinate("latitude", latitude_text, errors)
            longitude = self._coordinate("longitude", longitude_text, errors)
            if "latitude" not in errors and "longitude" not in errors:
                location = location_errors(latitude, longitude)
                if location:
                    errors.update(location)
                else:
                    plus_code = plus_code_for(latitude, longitude)

        born = None
        if born_text:
            born = _date(born_text)
            if born is None:
                errors["head_date_of_birth"] = [self.not_a_date]
            elif born > self.today:
                errors["head_date_of_birth"] = [self.future_date]

        scheme = scheme.lower()
        code = normalize_external_code(code)
        if scheme or code:
            if not scheme:
                errors["external_scheme"] = [self.pair]
            elif scheme not in _SCHEMES:
                errors["external_scheme"] = [
                    _("Select a valid choice. %(value)s is not one of the available choices.")
                    % {"value": scheme}
                ]
            if not code:
                errors["external_code"] = [self.pair]
            elif len(code) > _LIMITS["external_code"]:
                errors["external_code"] = [_too_long(_LIMITS["external_code"], len(code))]

        if errors:
            return errors
        return Row(
            line=line,
            ward=ward,
            import_ref=import_ref or None,
            house_number=house_number,
            street=street,
            hamlet=hamlet,
            latitude=latitude,
            longitude=longitude,
            plus_code=plus_code,
            full_name=full_name,
            date_of_birth=born,
            scheme=scheme,
            external_code=code,
        )
