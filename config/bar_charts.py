"""Horizontal bar charts as inline SVG, drawn on the server: the admin must work where the
deployment has no internet (no chart library, no CDN) and without JavaScript.

Lengths are percentages of the chart's width, so a chart fills its column at any screen width
while its text keeps the page's size. Colours come from the admin's CSS variables (the page's
stylesheet, light and dark themes). Every chart has a <title> for screen readers, each bar its
own <title> (a tooltip), and the page shows the same numbers in a table."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

ROW_HEIGHT = 26  # px
BAR_HEIGHT = 16
AXIS_HEIGHT = 20
# Where the labels end and the bars begin and end, in % of the width (the rest: the values).
LABEL_END = 36
BAR_START = 38
BAR_END = 86
LABEL_MAX = 24  # characters; a longer label is cut, whole in the bar's tooltip


@dataclass(frozen=True)
class Bar:
    label: str
    # The length, between 0 and the chart's maximum; None: nothing to measure (no bar drawn).
    value: float | None
    # The value as the page writes it ("75,0%"), and what it is of ("3/4").
    text: str
    detail: str = ""
    # Drawn in the accent colour (the total beside the units).
    emphasis: bool = False


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1].rstrip() + "…"


def _percent(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") + "%"


def bar_chart(
    *,
    chart_id: str,
    title: str,
    bars: list[Bar],
    maximum: float = 100,
    unit: str = "%",
    none_text: str = "—",
) -> SafeString:
    """One horizontal bar a row, labelled on the left, its value on its right; a bar without a
    value writes ``none_text`` instead. Gridlines at 0, half and all of ``maximum``, written
    with ``unit``. ``chart_id`` is unique in the page (the title's id)."""
    height = len(bars) * ROW_HEIGHT + AXIS_HEIGHT
    span = BAR_END - BAR_START
    rows = []
    for index, bar in enumerate(bars):
        top = index * ROW_HEIGHT
        middle = top + ROW_HEIGHT / 2
        tooltip = f"{bar.label}: {bar.text}" + (f" ({bar.detail})" if bar.detail else "")
        if bar.value is None:
            shape = format_html(
                '<text class="bar-none" x="{}" dx="4" y="{}" dy="0.35em">{}</text>',
                _percent(BAR_START),
                middle,
                none_text,
            )
        else:
            length = span * min(max(bar.value, 0), maximum) / maximum
            shape = format_html(
                '<rect class="bar{}" x="{}" y="{}" width="{}" height="{}" rx="2"></rect>'
                '<text class="bar-value" x="{}" dx="4" y="{}" dy="0.35em">{}</text>',
                " bar-emphasis" if bar.emphasis else "",
                _percent(BAR_START),
                top + (ROW_HEIGHT - BAR_HEIGHT) / 2,
                _percent(length),
                BAR_HEIGHT,
                _percent(BAR_START + length),
                middle,
                bar.text,
            )
        rows.append(
            format_html(
                '<g class="bar-row"><title>{}</title>'
                '<text class="bar-label{}" x="{}" y="{}" dy="0.35em" text-anchor="end">{}</text>'
                "{}</g>",
                tooltip,
                " bar-emphasis" if bar.emphasis else "",
                _percent(LABEL_END),
                middle,
                _cut(bar.label),
                shape,
            )
        )
    plot_bottom = len(bars) * ROW_HEIGHT
    grid = format_html_join(
        "",
        '<line class="bar-grid" x1="{0}" x2="{0}" y1="0" y2="{1}"></line>'
        '<text class="bar-axis" x="{0}" y="{2}" text-anchor="middle">{3}</text>',
        (
            (_percent(BAR_START + span * share), plot_bottom, plot_bottom + 14, tick)
            for share, tick in (
                (0, f"0{unit}"),
                (0.5, f"{maximum / 2:g}{unit}"),
                (1, f"{maximum:g}{unit}"),
            )
        ),
    )
    return format_html(
        '<svg class="bar-chart" xmlns="http://www.w3.org/2000/svg" role="img" width="100%" '
        'height="{}" aria-labelledby="{}-title"><title id="{}-title">{}</title>{}{}</svg>',
        height,
        chart_id,
        chart_id,
        title,
        grid,
        format_html_join("", "{}", ((row,) for row in rows)),
    )
