"""Plotly figure builders: frames from the analytics layer in, figures out. No figures computed.

Colours come from `capwatch.ui.colours`, so a service line and used / unused / private look
the same on every page. Figures are built offline (no map tiles, no web fonts).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import plotly.express as px
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from capwatch.ui import colours, format
from capwatch.ui.format import line_label

_FONT = {"family": "Arial, Helvetica, sans-serif", "color": "#212B32"}
# Orange (low use) through pale to NHS blue (high use): readable with any colour blindness.
_UTILISATION_SCALE = [
    [0.0, "#D55E00"],
    [0.5, "#F7F7F7"],
    [1.0, colours.NHS_BLUE],
]
UTILISATION_COLOUR_TOP = 0.8  # the colour scale saturates at 80% (and above)
WEEK_MS = 7 * 24 * 3600 * 1000
HOVER_DAY = "%{x|%-d %b %Y}"


def _nice_step(top: float, ticks: int = 5) -> float:
    """A round step (1, 2 or 5 × 10^k) giving about `ticks` gridlines from 0 to `top`."""
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    return float(next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw))


def money_axis(values: Iterable[float | None]) -> dict[str, Any]:
    """Axis settings that label money compactly (£0, £200m, £400m ...), the house style."""
    finite = [v for v in values if v is not None and not math.isnan(v)]
    top = max([0.0, *finite])
    bottom = min([0.0, *finite])
    if top <= 0 and bottom >= 0:
        return {"tickprefix": "£", "tickformat": ",.0f"}
    step = _nice_step(max(top, -bottom))
    start = math.floor(bottom / step)
    ticks = [k * step for k in range(start, math.ceil(top / step) + 1)]
    return {"tickvals": ticks, "ticktext": [format.gbp_compact(t) for t in ticks]}


def week_axis(weeks: Iterable[date | datetime], max_ticks: int = 6) -> dict[str, Any]:
    """A date axis whose ticks fall on Mondays (weeks start on Mondays), UK style: 1 Jun 2020."""
    days = sorted({w for w in weeks if w is not None})
    span_weeks = ((days[-1] - days[0]).days // 7 + 1) if days else 1
    every = max(1, math.ceil(span_weeks / max_ticks))
    return {
        "tick0": "2020-01-06",  # a Monday
        "dtick": every * WEEK_MS,
        "tickformat": "%-d %b<br>%Y",
        "hoverformat": "%-d %b %Y",
    }


MONTH_AXIS: dict[str, Any] = {"dtick": "M1", "tickformat": "%b %Y", "hoverformat": "%b %Y"}
"""A monthly date axis: Apr 2020."""


def _measure_format(
    measure: str, axis: str, values: Iterable[float | None] = ()
) -> tuple[dict[str, Any], str]:
    """Axis settings and the hover text of a value on `axis` ('x' or 'y') for a measure:
    compact pounds on the axis and exact in the hover for a `_gbp` measure, a percentage
    otherwise."""
    if measure.endswith("_gbp"):
        return money_axis(values), f"£%{{{axis}:,.0f}}"
    return {"tickformat": ".0%", "rangemode": "tozero"}, f"%{{{axis}:.1%}}"


def value_labels(measure: str, values: Iterable[float | None]) -> list[str]:
    """Bar value labels in the house style: £932m or 22.7%."""
    show = format.gbp_compact if measure.endswith("_gbp") else format.pct
    return [show(v) for v in values]


def _style(fig: go.Figure, *, height: int = 380, legend: bool = True) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 60 if legend else 10},
        font=_FONT,
        plot_bgcolor="white",
        paper_bgcolor="white",
        showlegend=legend,
        legend={
            "orientation": "h",
            "yref": "container",
            "y": 0,
            "yanchor": "bottom",
            "x": 0,
            "title": None,
        },
        hoverlabel={"font": _FONT},
    )
    fig.update_xaxes(showgrid=False, linecolor="#AEB7BD")
    fig.update_yaxes(gridcolor="#E8EDEE", zerolinecolor="#AEB7BD")
    return fig


def _line_colour(line: str) -> str:
    return colours.SERVICE_LINE_COLOURS.get(line, colours.NHS_GREY)


def utilisation_trend(trend: pl.DataFrame, title: str = "Weekly utilisation") -> go.Figure:
    """Lines of weekly utilisation per service line, with the total ('all') in dark blue."""
    fig = go.Figure()
    for line in trend["service_line"].unique(maintain_order=True).to_list():
        part = trend.filter(pl.col("service_line") == line).sort("week_start")
        is_total = line == "all"
        fig.add_trace(
            go.Scatter(
                x=part["week_start"].to_list(),
                y=part["utilisation"].to_list(),
                name="All service lines" if is_total else line_label(line),
                mode="lines+markers",
                line={
                    "color": colours.NHS_DARK_BLUE if is_total else _line_colour(line),
                    "width": 4 if is_total else 2,
                },
                marker={"size": 6 if is_total else 4},
                hovertemplate="%{x|%-d %b %Y}: %{y:.1%}<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", title="NHS units ÷ capacity")
    fig.update_xaxes(title="Week starting", **week_axis(trend["week_start"]))
    fig.update_layout(title=title)
    return _style(fig)


def used_unused_weekly(weekly: pl.DataFrame, title: str = "Capacity used and unused") -> go.Figure:
    """Stacked bars per week: NHS units used, capacity unused; private units as a line."""
    part = weekly.group_by("week_start").agg(
        pl.col("capacity_units").sum(), pl.col("nhs_units").sum(), pl.col("private_units").sum()
    )
    part = part.sort("week_start").with_columns(
        unused=(pl.col("capacity_units") - pl.col("nhs_units")).clip(lower_bound=0)
    )
    x = part["week_start"].to_list()
    fig = go.Figure(
        [
            go.Bar(x=x, y=part["nhs_units"].to_list(), name="NHS units used",
                   marker_color=colours.USED),
            go.Bar(x=x, y=part["unused"].to_list(), name="Capacity not used by the NHS",
                   marker_color=colours.UNUSED),
            go.Scatter(x=x, y=part["private_units"].to_list(), name="Private units",
                       mode="lines+markers", line={"color": colours.PRIVATE, "width": 3}),
        ]
    )  # fmt: skip
    fig.update_layout(barmode="stack", title=title)
    fig.update_yaxes(title="Units", tickformat=",")
    fig.update_xaxes(title="Week starting", **week_axis(x))
    return _style(fig)


def provider_bars(ranked: pl.DataFrame, measure: str, title: str) -> go.Figure:
    """Horizontal bars, one per provider, worst at the top, each with its value; a bar's
    `customdata` is its provider code (a page may open the profile of a clicked bar)."""
    is_money = measure.endswith("_gbp")
    part = ranked.head(40).reverse()
    axis, value = _measure_format(measure, "x", part[measure])
    names = part["provider_name"].fill_null(part["provider_code"])
    fig = go.Figure(
        go.Bar(
            x=part[measure].to_list(),
            y=names.to_list(),
            customdata=part["provider_code"].to_list(),
            orientation="h",
            text=value_labels(measure, part[measure]),
            textposition="outside",
            cliponaxis=False,
            marker_color=colours.UNUSED_COST if is_money else colours.USED,
            hovertemplate=f"%{{y}} (%{{customdata}}): {value}<extra></extra>",
        )
    )
    fig.update_xaxes(**axis)
    fig.update_yaxes(automargin=True)
    fig.update_layout(title=title)
    fig = _style(fig, height=max(320, 26 * part.height + 90), legend=False)
    fig.update_layout(margin={"l": 10, "r": 60, "t": 40, "b": 10})
    return fig


def service_line_bars(lines: pl.DataFrame, measure: str, title: str) -> go.Figure:
    """One bar per service line in its own colour, each with its value."""
    axis, value = _measure_format(measure, "y", lines[measure])
    names = lines["service_line"].to_list()
    fig = go.Figure(
        go.Bar(
            x=[line_label(n) for n in names],
            y=lines[measure].to_list(),
            text=value_labels(measure, lines[measure]),
            textposition="outside",
            cliponaxis=False,
            marker_color=[_line_colour(n) for n in names],
            hovertemplate=f"%{{x}}: {value}<extra></extra>",
        )
    )
    fig.update_yaxes(**axis)
    fig.update_layout(title=title)
    return _style(fig, height=340, legend=False)


def weekly_by_line(
    weekly: pl.DataFrame, measure: str, title: str, *, small_multiples: bool = False
) -> go.Figure:
    """A line per service line of a weekly measure (utilisation or £); `small_multiples`
    gives each line its own panel and axis, so that a big line does not flatten the rest."""
    lines = weekly["service_line"].unique(maintain_order=True).to_list()
    if small_multiples:
        return _weekly_panels(weekly, lines, measure, title)
    axis, value = _measure_format(measure, "y", weekly[measure])
    fig = go.Figure()
    for line in lines:
        part = weekly.filter(pl.col("service_line") == line).sort("week_start")
        fig.add_trace(
            go.Scatter(
                x=part["week_start"].to_list(),
                y=part[measure].to_list(),
                name=line_label(line),
                mode="lines+markers",
                line={"color": _line_colour(line), "width": 2},
                hovertemplate=f"{HOVER_DAY}: {value}<extra>%{{fullData.name}}</extra>",
            )
        )
    fig.update_yaxes(**{**axis, "rangemode": "tozero"})
    fig.update_xaxes(title="Week starting", **week_axis(weekly["week_start"]))
    fig.update_layout(title=title)
    return _style(fig)


def _weekly_panels(weekly: pl.DataFrame, lines: list[str], measure: str, title: str) -> go.Figure:
    """Small multiples: one panel per service line, two to a row, each with its own y axis."""
    rows = math.ceil(len(lines) / 2) or 1
    fig = make_subplots(
        rows=rows,
        cols=2,
        shared_xaxes=True,
        subplot_titles=[line_label(line) for line in lines],
        vertical_spacing=0.14,
        horizontal_spacing=0.1,
    )
    for i, line in enumerate(lines):
        part = weekly.filter(pl.col("service_line") == line).sort("week_start")
        axis, value = _measure_format(measure, "y", part[measure])
        row, col = i // 2 + 1, i % 2 + 1
        fig.add_trace(
            go.Scatter(
                x=part["week_start"].to_list(),
                y=part[measure].to_list(),
                name=line_label(line),
                mode="lines+markers",
                line={"color": _line_colour(line), "width": 2},
                hovertemplate=f"{HOVER_DAY}: {value}<extra>%{{fullData.name}}</extra>",
            ),
            row=row,
            col=col,
        )
        fig.update_yaxes(**{**axis, "rangemode": "tozero"}, row=row, col=col)
    fig.update_xaxes(**week_axis(weekly["week_start"], max_ticks=3), tickangle=0)
    fig.update_layout(title=title)
    return _style(fig, height=220 * rows + 120, legend=False)


def nhs_private_by_line(lines: pl.DataFrame, title: str) -> go.Figure:
    """Grouped bars per service line: capacity, NHS units, private units."""
    names = [line_label(n) for n in lines["service_line"].to_list()]
    fig = go.Figure(
        [
            go.Bar(x=names, y=lines["capacity_units"].to_list(), name="Capacity",
                   marker_color=colours.UNUSED),
            go.Bar(x=names, y=lines["nhs_units"].to_list(), name="NHS units",
                   marker_color=colours.USED),
            go.Bar(x=names, y=lines["private_units"].to_list(), name="Private units",
                   marker_color=colours.PRIVATE),
        ]
    )  # fmt: skip
    fig.update_layout(barmode="group", title=title)
    fig.update_yaxes(title="Units", tickformat=",")
    return _style(fig, height=340)


def region_bars(regions: pl.DataFrame, title: str) -> go.Figure:
    """Per region, horizontal: utilisation and private share side by side (long names fit)."""
    part = regions.reverse()
    names = part["region"].to_list()
    fig = go.Figure(
        [
            go.Bar(y=names, x=part["private_share"].to_list(), orientation="h",
                   name="Private share of activity", marker_color=colours.PRIVATE,
                   text=value_labels("private_share", part["private_share"]),
                   textposition="outside", cliponaxis=False,
                   hovertemplate="%{y}: %{x:.1%}<extra></extra>"),
            go.Bar(y=names, x=part["utilisation"].to_list(), orientation="h",
                   name="Utilisation (NHS)", marker_color=colours.USED,
                   text=value_labels("utilisation", part["utilisation"]),
                   textposition="outside", cliponaxis=False,
                   hovertemplate="%{y}: %{x:.1%}<extra></extra>"),
        ]
    )  # fmt: skip
    fig.update_layout(barmode="group", title=title, legend={"traceorder": "reversed"})
    fig.update_xaxes(tickformat=".0%", rangemode="tozero")
    fig.update_yaxes(automargin=True)
    fig = _style(fig, height=max(420, 60 * part.height + 120))
    fig.update_layout(margin={"l": 10, "r": 50, "t": 40, "b": 10})
    return fig


TREEMAP_SIZES: dict[str, str] = {
    "unused_capacity_cost_gbp": "unused capacity cost",
    "capacity_value_gbp": "capacity value",
}
"""What a treemap tile's size can stand for (the first is the default)."""


def hierarchy_treemap(
    providers: pl.DataFrame, title: str, *, size: str = "unused_capacity_cost_gbp"
) -> go.Figure:
    """Region → group → provider, sized by `size` (unused capacity cost by default, so the
    providers that waste most are the biggest tiles), coloured by utilisation."""
    part = providers.filter(pl.col(size) > 0).with_columns(
        provider=pl.col("provider_name").fill_null(pl.col("provider_code")),
        utilisation=pl.col("utilisation").fill_null(0.0),
    )
    fig = px.treemap(
        part,
        path=[px.Constant("All regions"), "region", "group", "provider"],
        values=size,
        color="utilisation",
        color_continuous_scale=_UTILISATION_SCALE,
        range_color=(0, UTILISATION_COLOUR_TOP),
    )
    fig.update_traces(
        hovertemplate="%{label}<br>" + TREEMAP_SIZES.get(size, size) + " £%{value:,.0f}"
        "<br>utilisation %{color:.1%}<extra></extra>",
        root_color="white",
        textinfo="label",
    )
    fig.update_layout(
        title=title,
        coloraxis_colorbar={"title": "Utilisation", "tickformat": ".0%", "ticksuffix": ""},
    )
    return _style(fig, height=560, legend=False)
