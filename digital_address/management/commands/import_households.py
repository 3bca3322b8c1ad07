"""``manage.py import_households FILE.csv [--errors REPORT.csv] [--chunk-size N]
[--progress-every N]``

Imports the households of a commune's CSV file (the format: ``digital_address.household_csv``).
The file is read twice, never held whole: first to check it (header, UTF-8, CSV structure, so a
broken file writes nothing), then to import it. Rows not imported go, as they are found, to the
error report: CSV (UTF-8 with a BOM, for Excel) with the columns ``row,column,message``; ``row``
is the line in the input file, ``column`` is empty for a problem with the whole row. Rows
skipped because their import_ref is already in the database are in the report too. The exit code
is 0 when the file could be read, even if rows failed; a file-level error is a CommandError.

Each chunk is committed as it is written (the file may be far larger than one transaction should
be). A row's data never stops the import; should something else (a bug, a lost connection,
Ctrl-C), the command says on stderr how far it got: the chunks written before stay, the report
holds their rows not imported, and importing the file again skips the rows already imported that
have an import_ref.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from digital_address.actions.imports import DEFAULT_CHUNK_SIZE, ImportSummary, households_import
from digital_address.errors import ImportFileInvalid
from digital_address.household_csv import ROW, RowError, households_file_check

PROGRESS_EVERY = 10_000


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = "Import households from a CSV file of paper records, with a per-row error report."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The CSV file (UTF-8, header row).")
        parser.add_argument(
            "--errors",
            type=Path,
            default=None,
            help="Where to write the error report (default: FILE.errors.csv beside the file).",
        )
        parser.add_argument(
            "--chunk-size",
            type=_positive,
            default=DEFAULT_CHUNK_SIZE,
            help=f"Rows written per transaction (default {DEFAULT_CHUNK_SIZE}).",
        )
        parser.add_argument(
            "--progress-every",
            type=_positive,
            default=PROGRESS_EVERY,
            help=f"Print progress every N rows read (default {PROGRESS_EVERY}).",
        )

    def handle(
        self,
        *args,
        file: Path | str,
        errors: Path | str | None,
        chunk_size: int,
        progress_every: int,
        **options,
    ) -> None:
        # call_command passes options given as keywords as they are, without the parser's type.
        file, errors = Path(file), (Path(errors) if errors is not None else None)
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        report = errors if errors is not None else file.with_name(f"{file.stem}.errors.csv")
        started = time.monotonic()
        try:
            with file.open(encoding="utf-8-sig", newline="") as source:
                households_file_check(lines=source)
            with (
                file.open(encoding="utf-8-sig", newline="") as source,
                report.open("w", encoding="utf-8-sig", newline="") as out,
            ):
                summary = self._import(source, out, chunk_size, progress_every)
        except ImportFileInvalid as exc:
            raise CommandError(exc.message) from exc
        seconds = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Done in {seconds:.1f} s: {summary.rows_read} rows read, "
                f"{summary.imported} imported, {summary.skipped_existing} already imported, "
                f"{summary.failed} failed."
            )
        )
        self.stdout.write(f"Error report: {report}")

    def _import(self, source, out, chunk_size: int, every: int) -> ImportSummary:
        writer = csv.writer(out)
        writer.writerow(["row", "column", "message"])
        shown = 0
        written = ImportSummary()  # the totals of the chunks committed so far

        def on_error(error: RowError) -> None:
            for column, messages in error.fields.items():
                for message in messages:
                    writer.writerow([error.row, "" if column == ROW else column, message])

        def progress(summary: ImportSummary) -> None:
            nonlocal shown, written
            written = summary
            if summary.rows_read // every > shown // every:
                shown = summary.rows_read
                self.stdout.write(
                    f"{summary.rows_read} rows read, {summary.imported} imported so far"
                )

        try:
            return households_import(
                lines=source,
                actor=None,
                allowed_wards=None,
                on_error=on_error,
                progress=progress,
                chunk_size=chunk_size,
            )
        except BaseException:  # an error, or Ctrl-C
            self.stderr.write(
                f"Stopped. Written before: {written.rows_read} rows read, {written.imported} "
                f"imported, {written.skipped_existing} already imported, {written.failed} failed "
                "(in the error report). Importing the file again skips the rows already imported "
                "that have an import_ref."
            )
            raise
