"""Export of the rows an official selected in an admin list, as CSV or as an Excel workbook.

The two admin actions read the action's queryset, which is the changelist's: already scoped by
``get_queryset`` (config.admin_scope), filtered and searched as the official left it. The export
adds joins to it and never queries outside it. Citizen ID (CCCD) and phone numbers are masked
unless the official may see them whole, by the rule of the user admin. Each citizen a row names
goes to the personal-data access log, in one INSERT, before the file leaves (Decree 13/2023:
an export is a read of personal data, and the most consequential one)."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from inspect import isfunction
from io import BytesIO
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from accounts.events import PersonRead, record_data_reads
from accounts.models import AccessChannel, AccessPurpose, AccessResource
from accounts.national_id import mask_national_id
from notifications.phone_display import mask_phone

# "Select all" in the admin selects across every page: an export is for a day's or a month's
# work, not for copying a unit's whole register.
EXPORT_MAX_ROWS = 10_000

# The user admin's rule (accounts.admin.UserAdmin._sees_full): one permission shows both numbers.
FULL_NUMBERS_PERMISSION = "accounts.view_full_national_id"

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# A cell starting with one of these is a formula to a spreadsheet (CSV injection): text typed by
# citizens (an address, a title) is written with a leading apostrophe instead.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sees_full_numbers(request: HttpRequest) -> bool:
    return request.user.has_perm(FULL_NUMBERS_PERMISSION)


@dataclass(frozen=True)
class Masked:
    """A column holding a personal number: whole for an official who may see it, else masked."""

    path: str
    mask: Callable[[str], str]


def national_id(path: str) -> Masked:
    return Masked(path, mask_national_id)


def phone(path: str) -> Masked:
    return Masked(path, mask_phone)


# An attribute path on the row ("applicant__full_name"; a method at its end is called, as
# "get_status_display"), the name of a method of the model admin (as in ``list_display``), a
# callable taking the row, or a personal number.
Accessor = str | Callable[[Any], Any] | Masked


class ExportAdmin:
    """Mixed into a ModelAdmin (before it): the actions "Export to CSV" and "Export to Excel",
    for whoever may view the list, with the columns of ``export_fields``.

    A model admin whose rows name a citizen says who (``export_person``: a path to the user's
    id, or a callable returning it or None) and what is read (``export_resource``, and
    ``export_record`` the record's id as the access log keeps it)."""

    export_fields: Sequence[tuple[str, Accessor]] = ()
    export_select_related: Sequence[str] = ()
    # Computed in the same query (a count): name → expression, read by a column of that name.
    export_annotations: dict[str, Any] = {}
    export_person: str | Callable[[Any], int | None] | None = None
    export_resource: AccessResource | None = None
    export_record: str = "pk"
    export_max_rows: int = EXPORT_MAX_ROWS

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        masked = any(isinstance(accessor, Masked) for _header, accessor in cls.export_fields)
        if masked and (cls.export_person is None or cls.export_resource is None):
            raise ImproperlyConfigured(
                f"{cls.__qualname__} exports personal numbers: it must name the citizen of a "
                "row (export_person, export_resource) for the access log"
            )

    # --- the actions ---------------------------------------------------------------------------

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        if self.actions is None or IS_POPUP_VAR in request.GET or not self.export_fields:
            return actions
        if self.has_view_permission(request):
            for name in ("export_csv", "export_xlsx"):
                func = getattr(type(self), name)
                actions[name] = (func, name, func.short_description)
        return actions

    @admin.action(description=_("Export to CSV"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> StreamingHttpResponse | None:
        table = self._export_table(request, queryset)
        if table is None:
            return None
        headers = self._export_headers()

        def lines() -> Iterator[str]:
            writer = csv.writer(_Line())
            # The byte order mark tells Excel the file is UTF-8 (else Vietnamese is garbled).
            yield "\ufeff" + writer.writerow([_csv_text(h) for h in headers])
            for row in table:
                yield writer.writerow([_csv_text(value) for value in row])

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self._export_name("csv")}"'
        return response

    @admin.action(description=_("Export to Excel"))
    def export_xlsx(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        table = self._export_table(request, queryset)
        if table is None:
            return None
        workbook = Workbook(write_only=True)
        title = _SHEET_TITLE_FORBIDDEN.sub(" ", str(self.model._meta.verbose_name_plural))
        sheet = workbook.create_sheet(title=title[:31] or "export")
        sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        header_cells = []
        for header in self._export_headers():
            cell = _xlsx_cell(sheet, header)
            cell.font = bold
            header_cells.append(cell)
        sheet.append(header_cells)
        for row in table:
            sheet.append([_xlsx_cell(sheet, value) for value in row])
        buffer = BytesIO()
        workbook.save(buffer)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{self._export_name("xlsx")}"'
        return response

    # --- reading the rows ----------------------------------------------------------------------

    def get_export_queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """The action's queryset with what the columns read joined in (one query for any
        number of rows), and the annotations the columns read (``export_annotations``)."""
        related = {*self.export_select_related, *self._export_paths_related()}
        if related:
            queryset = queryset.select_related(*sorted(related))
        return queryset.annotate(**self.export_annotations) if self.export_annotations else queryset

    def _export_table(self, request: HttpRequest, queryset: QuerySet) -> list[list] | None:
        # One more than allowed tells the selection is too large without counting it.
        rows = list(self.get_export_queryset(request, queryset)[: self.export_max_rows + 1])
        if len(rows) > self.export_max_rows:
            self.message_user(
                request,
                gettext(
                    "More than %(max)d rows are selected: at most %(max)d can be exported at "
                    "once. Narrow the list with the filters or the search, then export again."
                )
                % {"max": self.export_max_rows},
                messages.ERROR,
            )
            return None
        self._export_record_reads(request, rows)
        full = sees_full_numbers(request)
        # Read now, in the official's language: the CSV is written while it streams.
        return [
            [
                _plain(self._export_value(row, accessor, full))
                for _header, accessor in self.export_fields
            ]
            for row in rows
        ]

    def _export_record_reads(self, request: HttpRequest, rows: list[Model]) -> None:
        if self.export_person is None:
            return
        reads = []
        for row in rows:
            subject_id = self._export_resolve(row, self.export_person)
            if subject_id is not None:
                record = self._export_resolve(row, self.export_record)
                reads.append(PersonRead(subject_id, self.export_resource, record))
        record_data_reads(
            official=request.user,
            reads=reads,
            purpose=AccessPurpose.EXPORT,
            channel=AccessChannel.ADMIN,
        )

    def _export_value(self, row: Model, accessor: Accessor, full: bool) -> Any:
        if isinstance(accessor, Masked):
            number = self._export_resolve(row, accessor.path) or ""
            return number if full else accessor.mask(number)
        return self._export_resolve(row, accessor)

    def _export_resolve(self, row: Model, accessor: str | Callable) -> Any:
        if callable(accessor):
            return accessor(row)
        method = getattr(type(self), accessor, None)
        if isfunction(method):
            return method(self, row)
        value: Any = row
        for name in accessor.split("__"):
            if value is None:
                return None
            value = getattr(value, name)
        return value() if callable(value) and not isinstance(value, Model) else value

    def _export_paths_related(self) -> set[str]:
        """The relations a column's path crosses or ends on (``applicant__full_name`` and
        ``applicant`` → ``applicant``)."""
        related = set()
        for _header, accessor in self.export_fields:
            path = accessor.path if isinstance(accessor, Masked) else accessor
            if not isinstance(path, str) or isfunction(getattr(type(self), path, None)):
                continue
            model, crossed = self.model, []
            for name in path.split("__"):
                try:
                    field = model._meta.get_field(name)
                except FieldDoesNotExist:
                    break
                # ``applicant_id`` is read from the row itself.
                relation = field.many_to_one or field.one_to_one
                if field.name != name or not relation or field.related_model is None:
                    break
                crossed.append(name)
                model = field.related_model
            if crossed:
                related.add("__".join(crossed))
        return related

    def _export_headers(self) -> list[str]:
        return [str(header) for header, _accessor in self.export_fields]

    def _export_name(self, extension: str) -> str:
        return f"{self.model._meta.model_name}-{timezone.localtime():%Y%m%d-%H%M}.{extension}"


def _plain(value: Any) -> Any:
    """A cell's value: text, a number, a date, or a local time without its zone."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return local.replace(tzinfo=None)
    if isinstance(value, date | int | float | Decimal):
        return value
    return str(value)


def _csv_text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _xlsx_cell(sheet, value: Any) -> WriteOnlyCell:
    if value == "":
        return WriteOnlyCell(sheet, value=None)
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        # Text stays text: openpyxl would take "=…" for a formula.
        cell.data_type = "s"
        return cell
    return WriteOnlyCell(sheet, value=value)


class _Line:
    """What ``csv.writer`` writes into: each row comes back as its line, to stream."""

    def write(self, line: str) -> str:
        return line
