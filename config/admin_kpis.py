"""The officials' KPI page (``/admin/kpis/``, ``admin:kpis``): for a period and the official's
units, one row per unit and a total row with the public-service KPIs of dossiers and field
reports (services.kpis), the digital-address coverage (digital_address.selectors.coverage) and
the push and SMS delivery rates (notifications.selectors.delivery_rates), and bar charts of
the same figures drawn on the server (config.bar_charts).

Every figure is over the units listed: the official's units (accounts.selectors
.official_ward_codes), the province's for a province administrator, and the deployment's
province (DEPLOYMENT_PROVINCE_CODE) for a superuser; or the one unit chosen. The queries do not
depend on the number of units: each selector groups by unit in the database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import get_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.selectors import official_ward_codes
from config.bar_charts import Bar, bar_chart
from digital_address.models import Ward
from digital_address.selectors import Coverage, coverage
from digital_address.vietnamese_text import fold
from notifications.models import Channel
from notifications.selectors import RATE_CHANNELS, delivery_rates
from services.api.serializers import KPI_EARLIEST, MAX_KPI_DAYS
from services.kpis import dossier_kpis, report_kpis
from services.models import Dossier, FieldReport

# Either opens the page; both show the same figures (aggregates, about no one).
PERMISSIONS = ("services.view_dossier", "services.view_fieldreport")


class KpiPeriodForm(forms.Form):
    """``from`` and ``to`` (days, inclusive); the current month up to today by default. The
    API's rules (services.api.serializers.KpiPeriodSerializer), with its messages."""

    def __init__(self, data: Any, *, today: date) -> None:
        self.today = today
        data = data.copy()
        for name, default in (("from", today.replace(day=1)), ("to", today)):
            if not data.get(name):
                data[name] = default.isoformat()
        super().__init__(data)
        for name, label in (("from", gettext_lazy("From")), ("to", gettext_lazy("To"))):
            self.fields[name] = forms.DateField(
                label=label,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and start < KPI_EARLIEST:
            self.add_error("from", _("Choose a day from 2000 on."))
        if end and end > self.today + timedelta(days=366):
            self.add_error("to", _("Choose a day within a year from today."))
        if start and end and start > end:
            self.add_error("to", _("The end is before the start."))
        elif start and end and (end - start).days > MAX_KPI_DAYS:
            self.add_error("from", _("Choose a period of at most 5 years."))
        return cleaned


# --- the figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    text: str
    # What the figure is of, e.g. "3/4" for 75%.
    detail: str = ""


@dataclass
class KpiRow:
    """One unit's figures (``code`` None: the total, or a procedure's row)."""

    code: int | str | None
    name: str
    dossiers: dict = field(default_factory=dict)
    reports: dict = field(default_factory=dict)
    coverage: Coverage | None = None
    deliveries: dict = field(default_factory=dict)
    cells: list[Cell] = field(default_factory=list)


def _count(n: int | None) -> str:
    if n is None:
        return "—"
    # Grouped in thousands the local way (230.000 in Vietnamese): Django's vi format sets no
    # grouping of its own.
    return f"{n:,}".replace(",", get_format("THOUSAND_SEPARATOR"))


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{number_format(value, 1)}%"


def _rate(value: float | None, part: int, whole: int | None) -> Cell:
    # Nothing to divide: the dash says it, without a "0/0" beside it.
    return Cell(_percent(value), f"{_count(part)}/{_count(whole)}" if whole else "")


def _coverage(row: KpiRow, attribute: str, part: str) -> Cell:
    figures = row.coverage
    if figures is None:
        return Cell("—")
    if figures.estimated_households is None:
        return Cell("—", _("%(count)s, no estimate") % {"count": _count(getattr(figures, part))})
    return _rate(getattr(figures, attribute), getattr(figures, part), figures.estimated_households)


def _delivered(row: KpiRow, channel: str) -> Cell:
    figures = row.deliveries.get(channel, {})
    return _rate(figures.get("delivery_rate"), figures.get("delivered", 0), figures.get("sent", 0))


@dataclass(frozen=True)
class Column:
    group: str
    header: str
    cell: Callable[[KpiRow], Cell]


def _dossier_columns() -> list[Column]:
    group = _("Dossiers")
    return [
        Column(
            group,
            _("Submitted online"),
            lambda r: _rate(
                r.dossiers.get("online_share"),
                r.dossiers.get("online", 0),
                r.dossiers.get("submitted", 0),
            ),
        ),
        Column(
            group,
            _("Decided on time"),
            lambda r: _rate(
                r.dossiers.get("on_time_rate"),
                r.dossiers.get("on_time", 0),
                r.dossiers.get("finished", 0),
            ),
        ),
        Column(
            group,
            _("Average processing time (working days)"),
            lambda r: Cell(
                "—"
                if r.dossiers.get("average_working_days") is None
                else number_format(r.dossiers["average_working_days"], 1)
            ),
        ),
        Column(group, _("Satisfaction"), lambda r: Cell(_percent(r.dossiers.get("satisfaction")))),
    ]


def _unit_columns() -> list[Column]:
    reports, addresses, notifications = _("Field reports"), _("Digital addresses"), _("Messages")
    return [
        *_dossier_columns(),
        Column(reports, _("New reports"), lambda r: Cell(_count(r.reports.get("received", 0)))),
        Column(
            reports,
            _("Resolved on time"),
            lambda r: _rate(
                r.reports.get("resolved_on_time_rate"),
                r.reports.get("resolved_on_time", 0),
                r.reports.get("resolved", 0),
            ),
        ),
        Column(reports, _("Satisfaction"), lambda r: Cell(_percent(r.reports.get("satisfaction")))),
        Column(
            addresses,
            _("Verified households"),
            lambda r: _coverage(r, "verified_percent", "verified"),
        ),
        Column(
            addresses,
            _("With a digital address"),
            lambda r: _coverage(r, "percent", "with_digital_address"),
        ),
        Column(notifications, _("Push delivered"), lambda r: _delivered(r, Channel.PUSH)),
        Column(notifications, _("SMS delivered"), lambda r: _delivered(r, Channel.SMS)),
    ]


def _groups(columns: list[Column]) -> list[tuple[str, int]]:
    """The header's first row: each group of columns and how many columns it spans."""
    groups: list[tuple[str, int]] = []
    for column in columns:
        if groups and groups[-1][0] == column.group:
            groups[-1] = (column.group, groups[-1][1] + 1)
        else:
            groups.append((column.group, 1))
    return groups


def _with_cells(rows: list[KpiRow], columns: list[Column]) -> list[KpiRow]:
    for row in rows:
        row.cells = [column.cell(row) for column in columns]
    return rows


@dataclass(frozen=True)
class KpiPage:
    start: date
    end: date
    rows: list[KpiRow]
    total: KpiRow
    procedures: list[KpiRow]
    channels: dict[str, dict]


def kpi_page(*, units: list[Coverage], total: Coverage, start: date, end: date) -> KpiPage:
    """The figures of ``units`` (their coverage rows, read already) for the period."""
    codes = frozenset(unit.ward_code for unit in units)
    dossiers = dossier_kpis(
        dossiers=Dossier.objects.filter(unit_id__in=codes), start=start, end=end
    )
    reports = report_kpis(reports=FieldReport.objects.in_units(codes), start=start, end=end)
    deliveries = delivery_rates(ward_codes=codes, start=start, end=end)
    per_unit_dossiers = {row["code"]: row for row in dossiers["units"]}
    per_unit_reports = {row["code"]: row for row in reports["units"]}
    rows = [
        KpiRow(
            code=unit.ward_code,
            name=unit.ward_name,
            dossiers=per_unit_dossiers.get(unit.ward_code, {}),
            reports=per_unit_reports.get(unit.ward_code, {}),
            coverage=unit,
            deliveries=deliveries["units"].get(unit.ward_code, {}),
        )
        # In Vietnamese order (Đoàn Kết before Thất Khê), as the statistics list them.
        for unit in sorted(units, key=lambda unit: fold(unit.ward_name))
    ]
    return KpiPage(
        start=start,
        end=end,
        rows=rows,
        total=KpiRow(
            code=None,
            name=_("Total"),
            dossiers=dossiers["total"],
            reports=reports["total"],
            coverage=total,
            deliveries=deliveries["total"],
        ),
        procedures=[
            KpiRow(code=row["code"], name=row["name"], dossiers=row)
            for row in dossiers["procedures"]
        ],
        channels=deliveries["total"],
    )


# --- the charts ---------------------------------------------------------------------------------


def _unit_bars(page: KpiPage, value: Callable[[KpiRow], tuple[float | None, Cell]]) -> list[Bar]:
    # The total first, where it is seen without scrolling through many units.
    rows = page.rows if len(page.rows) < 2 else [page.total, *page.rows]
    bars = []
    for row in rows:
        rate, cell = value(row)
        bars.append(Bar(row.name, rate, cell.text, cell.detail, emphasis=row is page.total))
    return bars


def _charts(page: KpiPage) -> list[dict]:
    def dossiers(rate: str, part: str, whole: str) -> Callable:
        return lambda r: (
            r.dossiers.get(rate),
            _rate(r.dossiers.get(rate), r.dossiers.get(part, 0), r.dossiers.get(whole, 0)),
        )

    def covered(row: KpiRow) -> tuple[float | None, Cell]:
        return row.coverage.percent, _coverage(row, "percent", "with_digital_address")

    channel_names = dict(Channel.choices)
    channel_bars = []
    for channel in RATE_CHANNELS:
        figures = page.channels[channel]
        name = channel_names[channel]
        channel_bars += [
            Bar(
                _("%(channel)s: sent") % {"channel": name},
                figures["sent_rate"],
                _percent(figures["sent_rate"]),
                f"{_count(figures['sent'])}/{_count(figures['sent'] + figures['failed'])}",
            ),
            Bar(
                _("%(channel)s: delivered") % {"channel": name},
                figures["delivery_rate"],
                _percent(figures["delivery_rate"]),
                f"{_count(figures['delivered'])}/{_count(figures['sent'])}",
            ),
        ]
    specs = [
        (
            "on-time",
            _("Dossiers decided on time, per unit"),
            _unit_bars(page, dossiers("on_time_rate", "on_time", "finished")),
            _("none decided"),
        ),
        (
            "online",
            _("Dossiers submitted online, per unit"),
            _unit_bars(page, dossiers("online_share", "online", "submitted")),
            _("none submitted"),
        ),
        (
            "coverage",
            _("Households with a digital address, per unit"),
            _unit_bars(page, covered),
            _("no estimate"),
        ),
        ("delivery", _("Messages, per channel"), channel_bars, _("none sent")),
    ]
    return [
        {
            "key": key,
            "title": title,
            "svg": bar_chart(chart_id=f"kpi-{key}", title=title, bars=bars, none_text=none),
        }
        for key, title, bars, none in specs
    ]


def _channel_rows(page: KpiPage) -> list[dict]:
    names = dict(Channel.choices)
    return [
        {
            "name": names[channel],
            "cells": [
                Cell(_count(figures["sent"] + figures["failed"] + figures["waiting"])),
                Cell(_count(figures["sent"])),
                Cell(_count(figures["delivered"])),
                Cell(_count(figures["failed"])),
                Cell(_count(figures["waiting"])),
                Cell(_percent(figures["sent_rate"])),
                Cell(_percent(figures["delivery_rate"])),
            ],
        }
        for channel, figures in page.channels.items()
    ]


# --- the view -----------------------------------------------------------------------------------


def _units_in_scope(request: HttpRequest) -> tuple[list[Coverage], Coverage]:
    codes = official_ward_codes(user=request.user)
    if codes is None:
        wards = Ward.objects.filter(province_id=settings.DEPLOYMENT_PROVINCE_CODE)
    else:
        wards = Ward.objects.filter(code__in=codes)
    return coverage(wards=wards)


def kpis_view(request: HttpRequest, *, site: AdminSite) -> HttpResponse:
    if not any(request.user.has_perm(permission) for permission in PERMISSIONS):
        raise PermissionDenied
    units, total = _units_in_scope(request)
    chosen = request.GET.get("unit", "")
    if chosen:
        unit = next((u for u in units if str(u.ward_code) == chosen), None)
        if unit is None:
            raise Http404(_("No such unit among yours."))
        shown, shown_total = [unit], unit
    else:
        shown, shown_total = units, total
    form = KpiPeriodForm(request.GET, today=timezone.localdate())
    context: dict[str, Any] = {
        **site.each_context(request),
        "title": _("Key performance indicators"),
        "form": form,
        "units": sorted(units, key=lambda unit: fold(unit.ward_name)),
        "chosen": chosen,
    }
    if form.is_valid():
        page = kpi_page(
            units=shown,
            total=shown_total,
            start=form.cleaned_data["from"],
            end=form.cleaned_data["to"],
        )
        columns = _unit_columns()
        procedure_columns = _dossier_columns()
        context.update(
            page=page,
            columns=columns,
            groups=_groups(columns),
            rows=_with_cells(page.rows, columns),
            total=_with_cells([page.total], columns)[0] if len(page.rows) > 1 else None,
            procedure_columns=procedure_columns,
            procedures=_with_cells(page.procedures, procedure_columns),
            charts=_charts(page),
            channel_headers=[
                _("Created"),
                _("Sent"),
                _("Delivered"),
                _("Failed"),
                _("Waiting"),
                _("Sent rate"),
                _("Delivery rate"),
            ],
            channels=_channel_rows(page),
        )
    return TemplateResponse(request, "admin/kpis.html", context)
