"""Plotly figures for the published diagnostics (DM01) page: frames in, figures out.

Independent sector and NHS keep one colour each on every chart (NHS blue for the NHS, the
Okabe–Ito orange for the independent sector: apart for every common colour blindness).
"""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import polars as pl

from capwatch.ui import colours
from capwatch.ui.charts import _style

SECTOR_COLOURS = {"Independent sector": "#D55E00", "NHS": colours.NHS_BLUE}
_RATIO_HOVER = "%{x|%b %Y}: %{y:.0%} of a year earlier<extra>%{fullData.name}</extra>"


def recovery_lines(frame: pl.DataFrame, title: str, facet: str | None = None) -> go.Figure:
    """Activity as a share of the same month a year earlier, one line per sector (per facet)."""
    part = frame.filter(pl.col("activity_ratio").is_not_null()).sort("month")
    if part.is_empty():
        fig = go.Figure()
        fig.update_layout(title=title + " (no month has its baseline loaded)")
        return _style(fig, height=200)
    fig = px.line(
        part,
        x="month",
        y="activity_ratio",
        color="sector_label",
        facet_col=facet,
        facet_col_wrap=4 if facet else 0,
        facet_row_spacing=0.14,
        color_discrete_map=SECTOR_COLOURS,
        markers=True,
        labels={"sector_label": "Sector"},
    )
    fig.update_traces(hovertemplate=_RATIO_HOVER)
    fig.add_hline(y=1.0, line_dash="dot", line_color="#768692")
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", title=None)
    fig.update_xaxes(title=None, tickformat="%b %y")
    fig.update_layout(title=title)
    if facet is None:
        return _style(fig)
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=", 1)[-1]))
    rows = -(-part[facet].n_unique() // 4)
    return _style(fig, height=220 * rows + 120)


def queue_beside_capacity(frame: pl.DataFrame, title: str) -> go.Figure:
    """Per region: the waiting list, those waiting 6+ weeks, and the IS tests done in the month."""
    part = frame.sort("region")
    x = part["region"].to_list()
    fig = go.Figure(
        [
            go.Bar(x=x, y=part["waiting_list"].to_list(), name="Waiting list (all providers)",
                   marker_color=colours.UNUSED),
            go.Bar(x=x, y=part["waiting_6_plus"].to_list(), name="Waiting 6+ weeks",
                   marker_color=colours.NHS_GREY),
            go.Bar(x=x, y=part["is_activity"].to_list(), name="Independent-sector tests",
                   marker_color=SECTOR_COLOURS["Independent sector"]),
        ]
    )  # fmt: skip
    fig.update_traces(hovertemplate="%{x}: %{y:,}<extra>%{fullData.name}</extra>")
    fig.update_layout(barmode="group", title=title)
    fig.update_yaxes(title="Patients / tests", tickformat=",")
    return _style(fig)


_SPC_COLOURS = {
    "common_cause": "#768692",
    "special_cause_concern": "#ED8B00",
    "special_cause_improvement": "#41B6E6",
}
_SPC_LABELS = {
    "common_cause": "Common cause",
    "special_cause_concern": "Special cause (concern)",
    "special_cause_improvement": "Special cause (improvement)",
}


def xmr_chart(chart: pl.DataFrame, title: str) -> go.Figure:
    """A Making Data Count XmR chart of monthly tests: points, mean and process limits; the
    baseline months in grey, special cause after it coloured."""
    fig = go.Figure()
    if chart.is_empty():
        fig.update_layout(title=title + " (no loaded month falls in the baseline)")
        return _style(fig, height=200)
    for name, column, dash in (
        ("Baseline mean", "mean", "solid"),
        ("Lower limit", "lower_limit", "dash"),
        ("Upper limit", "upper_limit", "dash"),
    ):
        fig.add_trace(
            go.Scatter(
                x=chart["month"].to_list(),
                y=chart[column].to_list(),
                mode="lines",
                name=name,
                line={"color": "#231F20" if column == "mean" else "#768692", "dash": dash},
                hovertemplate=f"{name}: %{{y:,.0f}}<extra></extra>",
            )
        )
    kinds = chart.with_columns(
        pl.when(pl.col("special_cause"))
        .then(pl.col("point_type"))
        .otherwise(pl.lit("common_cause"))
        .alias("kind")
    )
    for kind, colour in _SPC_COLOURS.items():
        part = kinds.filter(pl.col("kind") == kind)
        if part.is_empty():
            continue
        fig.add_trace(
            go.Scatter(
                x=part["month"].to_list(),
                y=part["activity"].to_list(),
                mode="markers",
                name=_SPC_LABELS[kind],
                marker={"color": colour, "size": 9},
                customdata=part["vs_baseline_mean"].to_list(),
                hovertemplate="%{x|%b %Y}: %{y:,.0f} tests, %{customdata:.0%} of the baseline "
                "mean<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=chart["month"].to_list(),
            y=chart["activity"].to_list(),
            mode="lines",
            line={"color": "#AEB7BD", "width": 1},
            showlegend=False,
            hoverinfo="skip",
        )
    )
    fig.update_yaxes(tickformat=",.0f", rangemode="tozero", title=None)
    fig.update_xaxes(title=None, tickformat="%b %y")
    fig.update_layout(title=title)
    return _style(fig)
