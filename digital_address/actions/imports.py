"""CSV import of households, for communes digitising their paper records.

The file's format, and how it is read and checked, are in :mod:`digital_address.household_csv`.

What a row becomes
==================
One :class:`Household` (source ``import``, pending verification, a native code from the ward's
sequence, the plus code of its location, ``created_by`` the importer), its head as a
:class:`HouseholdMember` without an account, one ``imported`` :class:`HouseholdEvent` (data
``{"import_ref": ...}`` when the row has one) and its :class:`ExternalAddressCode` when given.
A row is written whole or not at all.

How
===
The file is read row by row; rows are validated as they come, and every ``chunk_size`` rows read
(2000) the valid ones are written in one transaction: on PostgreSQL with ``COPY`` (household ids
taken from their sequence first, so that members, events and codes can point at them; the wards'
code counters advanced in one statement), elsewhere with ``bulk_create``. Memory holds one chunk:
it does not grow with the file.

A chunk is written without first looking up its import refs and external codes in the database:
in a first import there is nothing to find, and the look-up would cost about as much as the
write. When the database refuses the chunk (a unique import ref or external code), the chunk is
rolled back, looked up (one query for the import refs, one for the codes) and written without the
rows already there; the next chunks are looked up first until one finds nothing, so importing a
file again skips it chunk by chunk. If a chunk is still refused after its look-up (another import
wrote one of its import refs or codes in between), it is written row by row, each row in its own
savepoint, and the rows in conflict are reported.

The row parser refuses every value the database could not store (a NUL character, a number too
large), so the database should never refuse a row's data. Should it all the same (a
:class:`~django.db.DataError`, or a string the driver cannot encode), the chunk is written row by
row at once and the rows refused are reported as failed ("This row could not be saved"), the
others imported: no row's data makes the import raise. What does raise (a bug, a lost
connection) leaves the chunks already written committed, unless the caller holds a transaction:
the API does, so that a 500 writes nothing.

Duplicates inside the file are caught as far as memory allows: within a chunk directly, across
chunks because the earlier row is in the database by then. So the first occurrence of an import
ref or an external code wins and later ones are skipped (import ref) or refused (external code).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg.types.json import Jsonb

from accounts.models import User
from digital_address import address_codes
from digital_address.actions.households import ward_sequence_reserve, ward_sequences_reserve
from digital_address.errors import ExternalCodeTaken, WardCodesExhausted
from digital_address.household_csv import ROW, Row, RowError, RowParser, households_file_read
from digital_address.models import (
    ExternalAddressCode,
    Household,
    HouseholdEvent,
    HouseholdEventKind,
    HouseholdMember,
    HouseholdSource,
    Relationship,
    VerificationStatus,
    Ward,
)

DEFAULT_CHUNK_SIZE = 2000

# What the database (or its driver) raises for a value it cannot store: the parser refuses those
# values first, so this is defence in depth. psycopg and sqlite3 raise UnicodeEncodeError for a
# lone surrogate (from a caller that decoded with "surrogateescape"); PostgreSQL a DataError for a
# NUL, SQLite for a value over its length limit.
_REFUSED = (DataError, UnicodeEncodeError)


@dataclass
class ImportSummary:
    rows_read: int = 0
    imported: int = 0
    skipped_existing: int = 0
    failed: int = 0


HOUSEHOLD_FIELDS = (
    "ward_id",
    "house_number",
    "street",
    "hamlet",
    "latitude",
    "longitude",
    "plus_code",
    "code",
    "status",
    "rejection_reason",
    "source",
    "import_ref",
    "created_by_id",
    "created_at",
    "updated_at",
)
MEMBER_FIELDS = ("household_id", "full_name", "date_of_birth", "relationship", "joined_at")
EVENT_FIELDS = ("household_id", "actor_id", "kind", "data", "created_at")
EXTERNAL_CODE_FIELDS = ("household_id", "scheme", "code", "attached_by_id", "created_at")


class _OrmStore:
    """The database's half of an import, the portable way: bulk_create (which returns the
    households' ids on SQLite) and ``__in`` look-ups."""

    def households(self, values: list[tuple]) -> list[int]:
        created = Household.objects.bulk_create(
            [Household(**dict(zip(HOUSEHOLD_FIELDS, v, strict=True))) for v in values]
        )
        return [household.pk for household in created]

    def rows(self, model: type[Model], fields: tuple[str, ...], values: list[tuple]) -> None:
        model.objects.bulk_create([model(**dict(zip(fields, v, strict=True))) for v in values])

    def json(self, value: dict[str, Any]) -> Any:
        return value

    def taken_refs(self, refs: set[tuple[int, str]]) -> set[tuple[int, str]]:
        """The (ward, import_ref) pairs of ``refs`` that are in the database."""
        found = Household.objects.filter(
            ward_id__in={ward for ward, _ref in refs}, import_ref__in={ref for _w, ref in refs}
        )
        return set(found.order_by().values_list("ward_id", "import_ref")) & refs

    def taken_codes(self, codes: set[str]) -> set[tuple[str, str]]:
        """(scheme, code) of the external codes in the database with one of ``codes``."""
        found = ExternalAddressCode.objects.filter(code__in=codes)
        return set(found.order_by().values_list("scheme", "code"))


class _PostgresStore:
    """PostgreSQL: COPY through psycopg 3, the households' ids taken from their sequence first;
    look-ups with one array parameter per list."""

    def households(self, values: list[tuple]) -> list[int]:
        table = Household._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, len(values)],
            )
            ids = [row[0] for row in cursor.fetchall()]
        self.rows(
            Household,
            ("id", *HOUSEHOLD_FIELDS),
            [(pk, *v) for pk, v in zip(ids, values, strict=True)],
        )
        return ids

    def rows(self, model: type[Model], fields: tuple[str, ...], values: list[tuple]) -> None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
        sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
        # The raw psycopg cursor: its errors become Django's (IntegrityError) only through this.
        with (
            connection.cursor() as cursor,
            connection.wrap_database_errors,
            cursor.cursor.copy(sql) as copy,
        ):
            for row in values:
                copy.write_row(row)

    def json(self, value: dict[str, Any]) -> Any:
        return Jsonb(value)

    # Each wanted value probes the index in a LATERAL subquery (LIMIT/OFFSET keep PostgreSQL
    # from turning it into a join). As a join, or as ward IN (...) AND import_ref IN (...), the
    # plan depends on the table's statistics, which an import outdates: right after a first
    # import it sorted the whole table for every chunk (200 ms at 230 000 rows instead of 4).

    def taken_refs(self, refs: set[tuple[int, str]]) -> set[tuple[int, str]]:
        wards, import_refs = zip(*refs, strict=True)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT wanted.ward_id, wanted.import_ref"
                " FROM unnest(%s::integer[], %s::text[]) AS wanted(ward_id, import_ref)"
                " CROSS JOIN LATERAL (SELECT 1 FROM digital_address_household AS h"
                "  WHERE h.ward_id = wanted.ward_id AND h.import_ref = wanted.import_ref"
                "  LIMIT 1) AS found",
                [list(wards), list(import_refs)],
            )
            return set(cursor.fetchall())

    def taken_codes(self, codes: set[str]) -> set[tuple[str, str]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT found.scheme, found.code FROM unnest(%s::text[]) AS wanted(code)"
                " CROSS JOIN LATERAL (SELECT e.scheme, e.code"
                "  FROM digital_address_externaladdresscode AS e WHERE e.code = wanted.code"
                "  OFFSET 0) AS found",
                [list(codes)],
            )
            return set(cursor.fetchall())


_Store = _OrmStore | _PostgresStore


@dataclass
class _Outcome:
    imported: int = 0
    skipped: list[RowError] = field(default_factory=list)
    failed: list[RowError] = field(default_factory=list)


def _already_imported() -> str:
    return _("Already imported: this ward has a household from this paper record.")


def _code_taken() -> str:
    return str(ExternalCodeTaken.default_message)


def _refused() -> str:
    return _("This row could not be saved: the database refused one of its values.")


def _screen(rows: list[Row], *, store: _Store, look_up: bool) -> tuple[_Outcome, list[Row], bool]:
    """Set aside the rows whose import ref or external code is earlier in the chunk, or (with
    ``look_up``) already in the database; returns them, the rows to write, and whether the
    database had any."""
    outcome = _Outcome()
    taken_refs: set[tuple[int, str]] = set()
    taken_codes: set[tuple[str, str]] = set()
    if look_up:
        refs = {(row.ward, row.import_ref) for row in rows if row.import_ref is not None}
        if refs:
            taken_refs = store.taken_refs(refs)
        codes = {row.external_code for row in rows if row.external_code}
        if codes:
            taken_codes = store.taken_codes(codes)
    already_imported, code_taken = _already_imported(), _code_taken()
    fresh: list[Row] = []
    seen_refs: set[tuple[int, str]] = set()
    seen_codes: dict[tuple[str, str], int] = {}
    for row in rows:
        ref = (row.ward, row.import_ref or "")
        if row.import_ref is not None and (ref in taken_refs or ref in seen_refs):
            outcome.skipped.append(RowError(row.line, {"import_ref": [already_imported]}))
            continue
        if row.external_code:
            code = (row.scheme, row.external_code)
            if code in taken_codes:
                outcome.failed.append(RowError(row.line, {"external_code": [code_taken]}))
                continue
            if code in seen_codes:
                message = _("This code is also on line %(line)d of the file.") % {
                    "line": seen_codes[code]
                }
                outcome.failed.append(RowError(row.line, {"external_code": [message]}))
                continue
            seen_codes[code] = row.line
        if row.import_ref is not None:
            seen_refs.add(ref)
        fresh.append(row)
    return outcome, fresh, bool(taken_refs or taken_codes)


def _insert(rows: list[Row], *, actor: User | None, store: _Store, outcome: _Outcome) -> None:
    """Write the rows: codes from their wards' sequences, then households, members, events and
    external codes. The caller holds the transaction."""
    if not rows:
        return
    by_ward: dict[int, list[Row]] = {}
    for row in rows:
        by_ward.setdefault(row.ward, []).append(row)
    placed: list[tuple[Row, str]] = []
    try:
        reserved = ward_sequences_reserve(
            counts={ward: len(ward_rows) for ward, ward_rows in by_ward.items()}
        )
    except WardCodesExhausted:
        reserved = {}  # a ward ran out of numbers: ward by ward below, which says which
    for ward in sorted(by_ward):
        ward_rows = by_ward[ward]
        numbers = reserved.get(ward)
        if numbers is None:
            try:
                numbers = ward_sequence_reserve(ward_id=ward, count=len(ward_rows))
            except WardCodesExhausted as exc:
                outcome.failed.extend(
                    RowError(row.line, {"ward_code": [exc.message]}) for row in ward_rows
                )
                continue
        placed.extend(
            (row, address_codes.compose(ward, number))
            for row, number in zip(ward_rows, numbers, strict=True)
        )
    if not placed:
        return
    placed.sort(key=lambda item: item[0].line)  # ids in the file's order
    now = timezone.now()
    actor_id = actor.pk if actor is not None else None
    ids = store.households(
        [
            (
                row.ward,
                row.house_number,
                row.street,
                row.hamlet,
                row.latitude,
                row.longitude,
                row.plus_code,
                code,
                VerificationStatus.PENDING.value,
                "",
                HouseholdSource.IMPORT.value,
                row.import_ref,
                actor_id,
                now,
                now,
            )
            for row, code in placed
        ]
    )
    pairs = list(zip(ids, (row for row, _code in placed), strict=True))
    store.rows(
        HouseholdMember,
        MEMBER_FIELDS,
        [(pk, row.full_name, row.date_of_birth, Relationship.HEAD.value, now) for pk, row in pairs],
    )
    imported = HouseholdEventKind.IMPORTED.value
    store.rows(
        HouseholdEvent,
        EVENT_FIELDS,
        [
            (
                pk,
                actor_id,
                imported,
                store.json({"import_ref": row.import_ref} if row.import_ref else {}),
                now,
            )
            for pk, row in pairs
        ],
    )
    coded = [
        (pk, row.scheme, row.external_code, actor_id, now) for pk, row in pairs if row.external_code
    ]
    if coded:
        store.rows(ExternalAddressCode, EXTERNAL_CODE_FIELDS, coded)
    outcome.imported += len(pairs)


def _conflict(row: Row) -> _Outcome:
    """Why a row's write failed after the screening said it was fine: the row skipped or failed.
    The look-ups run in a savepoint: a value the database refuses fails the row."""
    try:
        with transaction.atomic():
            if (
                row.import_ref is not None
                and Household.objects.filter(ward_id=row.ward, import_ref=row.import_ref).exists()
            ):
                return _Outcome(skipped=[RowError(row.line, {"import_ref": [_already_imported()]})])
            if (
                row.external_code
                and ExternalAddressCode.objects.filter(
                    scheme=row.scheme, code=row.external_code
                ).exists()
            ):
                return _Outcome(failed=[RowError(row.line, {"external_code": [_code_taken()]})])
    except _REFUSED:
        return _Outcome(failed=[RowError(row.line, {ROW: [_refused()]})])
    message = _("This row conflicts with a change made at the same time: import it again.")
    return _Outcome(failed=[RowError(row.line, {ROW: [message]})])


def _chunk_write(
    rows: list[Row], *, actor: User | None, store: _Store, look_up_first: bool
) -> tuple[_Outcome, bool]:
    """Write a chunk in one transaction; returns what happened to its rows and whether the next
    chunk should look its import refs and external codes up before writing.

    Looking up a chunk's 2000 import refs costs about as much as writing them, and the chunks of a
    first import find nothing. So a chunk is written without looking (unless the previous chunk
    met rows already in the database: importing a file again), and looked up only when the
    database refuses it (a unique import ref or external code).

    When the database refuses a value of the chunk (:data:`_REFUSED`), looking up cannot help:
    the chunk is written row by row straight away."""
    if not rows:
        return _Outcome(), look_up_first
    for look_up in (True,) if look_up_first else (False, True):
        try:
            with transaction.atomic():
                outcome, fresh, found = _screen(rows, store=store, look_up=look_up)
                _insert(fresh, actor=actor, store=store, outcome=outcome)
            return outcome, look_up and (found or not look_up_first)
        except IntegrityError:
            pass
        except _REFUSED:
            break
    # Another import wrote one of these import refs or external codes between the look-up and the
    # write, or the database refused a value: row by row now, each row (its look-up too: a value
    # the database refuses is refused there as well) in a savepoint, so the others are imported
    # and the rows refused reported.
    with transaction.atomic():
        outcome, fresh, _found = _screen(rows, store=store, look_up=False)  # no query
        # The chunk's code counters locked now, in ward order, as every writer takes them: row
        # by row they would be taken in file order and could deadlock with another import.
        ward_sequences_reserve(counts=dict.fromkeys(sorted({row.ward for row in fresh}), 0))
        for row in fresh:
            try:
                with transaction.atomic():
                    done, one, _found = _screen([row], store=store, look_up=True)
                    _insert(one, actor=actor, store=store, outcome=done)
            except IntegrityError:
                done = _conflict(row)
            except _REFUSED:
                done = _Outcome(failed=[RowError(row.line, {ROW: [_refused()]})])
            outcome.imported += done.imported
            outcome.skipped.extend(done.skipped)
            outcome.failed.extend(done.failed)
    return outcome, True


def households_import(
    *,
    lines: Iterable[str],
    actor: User | None,
    allowed_wards: frozenset[int] | None,
    on_error: Callable[[RowError], None],
    progress: Callable[[ImportSummary], None] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> ImportSummary:
    """Import the households of a CSV file (the format is in :mod:`digital_address.household_csv`).

    ``lines``: the file as text, read as it is iterated: a file opened with ``newline=""`` (and
    ``encoding="utf-8-sig"``, or the BOM is removed here), or any iterable of lines. Each
    ``chunk_size`` rows read are written in one transaction; then ``on_error`` receives the
    chunk's rows that were not imported (failed ones, and those skipped as already imported), in
    file order, and ``progress`` the running totals. ``allowed_wards``: the wards the actor may
    import into (None: any). A file-level error raises
    :class:`~digital_address.errors.ImportFileInvalid`, before anything is written when it is in
    the header. A row's data never raises: a row the database refuses is reported as failed.
    Anything else raised (a bug, a lost connection) leaves the chunks already written committed
    unless the caller holds a transaction."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    columns, records = households_file_read(lines=lines)
    parse = RowParser(
        columns,
        wards=frozenset(Ward.objects.values_list("code", flat=True)),
        allowed=allowed_wards,
    )
    store: _Store = _PostgresStore() if connection.vendor == "postgresql" else _OrmStore()
    summary = ImportSummary()

    look_up_first = False

    def finish(rows: list[Row], errors: list[RowError]) -> None:
        nonlocal look_up_first
        outcome, look_up_first = _chunk_write(
            rows, actor=actor, store=store, look_up_first=look_up_first
        )
        summary.imported += outcome.imported
        summary.skipped_existing += len(outcome.skipped)
        summary.failed += len(errors) + len(outcome.failed)
        for error in sorted([*errors, *outcome.skipped, *outcome.failed], key=lambda e: e.row):
            on_error(error)
        if progress is not None:
            progress(replace(summary))

    rows: list[Row] = []
    errors: list[RowError] = []
    for line, values in records:
        summary.rows_read += 1
        parsed = parse(line, values)
        if isinstance(parsed, Row):
            rows.append(parsed)
        else:
            errors.append(RowError(line, parsed))
        if len(rows) + len(errors) == chunk_size:
            finish(rows, errors)
            rows, errors = [], []
    if rows or errors:
        finish(rows, errors)
    return summary
