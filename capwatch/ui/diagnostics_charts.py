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
