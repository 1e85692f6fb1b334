"""Plotly figure builders: frames from the analytics layer in, figures out. No figures computed.

Colours come from `capwatch.ui.colours`, so a service line and used / unused / private look
the same on every page. Figures are built offline (no map tiles, no web fonts).
"""

from __future__ import annotations

from typing import Any

import plotly.express as px
import plotly.graph_objects as go
import polars as pl

from capwatch.ui import colours
from capwatch.ui.format import line_label

_FONT = {"family": "Arial, Helvetica, sans-serif", "color": "#212B32"}
# Orange (low use) through pale to NHS blue (high use): readable with any colour blindness.
_UTILISATION_SCALE = [
    [0.0, "#D55E00"],
    [0.5, "#F7F7F7"],
    [1.0, colours.NHS_BLUE],
]
UTILISATION_COLOUR_TOP = 0.8  # the colour scale saturates at 80% (and above)


def _measure_format(measure: str, axis: str) -> tuple[dict[str, Any], str]:
    """Axis settings and the hover text of a value on `axis` ('x' or 'y') for a measure:
    pounds for a `_gbp` measure, a percentage otherwise."""
    if measure.endswith("_gbp"):
        return {"tickformat": ",.0f", "tickprefix": "£"}, f"£%{{{axis}:,.0f}}"
    return {"tickformat": ".0%", "rangemode": "tozero"}, f"%{{{axis}:.1%}}"


def _style(fig: go.Figure, *, height: int = 380, legend: bool = True) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        font=_FONT,
        plot_bgcolor="white",
        paper_bgcolor="white",
        showlegend=legend,
        legend={"orientation": "h", "y": -0.18, "x": 0, "title": None},
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
                hovertemplate="%{x|%d %b %Y}: %{y:.1%}<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", title="NHS units ÷ capacity")
    fig.update_xaxes(title="Week starting")
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
    fig.update_xaxes(title="Week starting")
    return _style(fig)


def provider_bars(ranked: pl.DataFrame, measure: str, title: str) -> go.Figure:
    """Horizontal bars, one per provider, worst at the top."""
    is_money = measure.endswith("_gbp")
    axis, value = _measure_format(measure, "x")
    part = ranked.head(40).reverse()
    labels = [f"{c} {n}" for c, n in zip(part["provider_code"], part["provider_name"], strict=True)]
    fig = go.Figure(
        go.Bar(
            x=part[measure].to_list(),
            y=labels,
            orientation="h",
            marker_color=colours.UNUSED_COST if is_money else colours.USED,
            hovertemplate=f"%{{y}}: {value}<extra></extra>",
        )
    )
    fig.update_xaxes(**axis)
    fig.update_layout(title=title)
    return _style(fig, height=max(320, 22 * part.height + 80), legend=False)


def service_line_bars(lines: pl.DataFrame, measure: str, title: str) -> go.Figure:
    """One bar per service line in its own colour."""
    axis, value = _measure_format(measure, "y")
    names = lines["service_line"].to_list()
    fig = go.Figure(
        go.Bar(
            x=[line_label(n) for n in names],
            y=lines[measure].to_list(),
            marker_color=[_line_colour(n) for n in names],
            hovertemplate=f"%{{x}}: {value}<extra></extra>",
        )
    )
    fig.update_yaxes(**axis)
    fig.update_layout(title=title)
    return _style(fig, height=320, legend=False)


def weekly_by_line(weekly: pl.DataFrame, measure: str, title: str) -> go.Figure:
    """A line per service line of a weekly measure (utilisation or £)."""
    axis, value = _measure_format(measure, "y")
    fig = go.Figure()
    for line in weekly["service_line"].unique(maintain_order=True).to_list():
        part = weekly.filter(pl.col("service_line") == line).sort("week_start")
        fig.add_trace(
            go.Scatter(
                x=part["week_start"].to_list(),
                y=part[measure].to_list(),
                name=line_label(line),
                mode="lines+markers",
                line={"color": _line_colour(line), "width": 2},
                hovertemplate=f"%{{x|%d %b %Y}}: {value}<extra>%{{fullData.name}}</extra>",
            )
        )
    fig.update_yaxes(**{**axis, "rangemode": "tozero"})
    fig.update_xaxes(title="Week starting")
    fig.update_layout(title=title)
    return _style(fig)


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
                   hovertemplate="%{y}: %{x:.1%}<extra></extra>"),
            go.Bar(y=names, x=part["utilisation"].to_list(), orientation="h",
                   name="Utilisation (NHS)", marker_color=colours.USED,
                   hovertemplate="%{y}: %{x:.1%}<extra></extra>"),
        ]
    )  # fmt: skip
    fig.update_layout(barmode="group", title=title, legend={"traceorder": "reversed"})
    fig.update_xaxes(tickformat=".0%", rangemode="tozero")
    return _style(fig, height=420)


def hierarchy_treemap(providers: pl.DataFrame, title: str) -> go.Figure:
    """Region → group → provider, sized by capacity value, coloured by utilisation."""
    part = providers.filter(pl.col("capacity_value_gbp") > 0).with_columns(
        provider=pl.col("provider_code") + " " + pl.col("provider_name").fill_null(""),
        utilisation=pl.col("utilisation").fill_null(0.0),
    )
    fig = px.treemap(
        part,
        path=[px.Constant("All regions"), "region", "group", "provider"],
        values="capacity_value_gbp",
        color="utilisation",
        color_continuous_scale=_UTILISATION_SCALE,
        range_color=(0, UTILISATION_COLOUR_TOP),
    )
    fig.update_traces(
        hovertemplate="%{label}<br>capacity value £%{value:,.0f}"
        "<br>utilisation %{color:.1%}<extra></extra>",
        root_color="white",
    )
    fig.update_layout(
        title=title,
        coloraxis_colorbar={"title": "Utilisation", "tickformat": ".0%", "ticksuffix": ""},
    )
    return _style(fig, height=560, legend=False)
