"""Evidence charts for flags: frames from `capwatch.analytics.flags.evidence` in, figures out.

The SPC chart follows Making Data Count as NHSRplotthedots draws it: grey value line and
points, black mean, grey dashed process limits, special-cause points orange (concern) or blue
(improvement).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import plotly.graph_objects as go
import polars as pl

from capwatch.analytics.flags.base import Evidence
from capwatch.ui import colours
from capwatch.ui.charts import money_axis, week_axis

_FONT = {"family": "Arial, Helvetica, sans-serif", "color": "#212B32"}
_POINT_COLOURS = {
    "common_cause": colours.SPC_COMMON,
    "special_cause_concern": colours.SPC_CONCERN,
    "special_cause_improvement": colours.SPC_IMPROVEMENT,
}
_POINT_NAMES = {
    "common_cause": "Common cause",
    "special_cause_concern": "Special cause: concern",
    "special_cause_improvement": "Special cause: improvement",
}


def _style(fig: go.Figure, title: str, *, y_title: str, pct: bool = True) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 15}},
        height=380,
        margin={"l": 10, "r": 10, "t": 48, "b": 10},
        font=_FONT,
        plot_bgcolor="white",
        paper_bgcolor="white",
        legend={"orientation": "h", "y": -0.2, "x": 0, "title": None},
    )
    fig.update_xaxes(showgrid=False, linecolor="#AEB7BD")
    weeks = [x for t in fig.data for x in (t.x or ()) if isinstance(x, date)]
    if weeks:  # ticks on Mondays, UK dates (1 Jun 2020), as on every other chart
        fig.update_xaxes(**week_axis(weeks))
    values = [float(y) for t in fig.data for y in (t.y or ()) if isinstance(y, int | float)]
    fig.update_yaxes(
        title=y_title,
        gridcolor="#E8EDEE",
        zerolinecolor="#AEB7BD",
        **({"tickformat": ".0%"} if pct else money_axis(values)),  # money compact: £400k
    )
    return fig


def spc_chart(chart: pl.DataFrame, title: str) -> go.Figure:
    """XmR chart of weekly utilisation: mean, process limits, special-cause points."""
    fig = go.Figure()
    weeks = chart["week_start"].to_list()
    fig.add_trace(
        go.Scatter(
            x=weeks,
            y=chart["utilisation"].to_list(),
            mode="lines",
            line={"color": colours.SPC_COMMON, "width": 2},
            name="Weekly utilisation",
            hoverinfo="skip",
        )
    )
    for kind, colour in _POINT_COLOURS.items():
        part = chart.filter(pl.col("point_type") == kind)
        if part.height:
            fig.add_trace(
                go.Scatter(
                    x=part["week_start"].to_list(),
                    y=part["utilisation"].to_list(),
                    mode="markers",
                    marker={"color": colour, "size": 10 if kind != "common_cause" else 7},
                    name=_POINT_NAMES[kind],
                    hovertemplate="%{x|%d %b %Y}: %{y:.1%}<extra></extra>",
                )
            )
    trial = " (trial)" if "trial_limits" in chart.columns and chart["trial_limits"].any() else ""
    limit_style = {"color": colours.SPC_COMMON, "dash": "dash"}
    for column, name, style in (
        ("mean", "Mean", {"color": colours.SPC_MEAN, "width": 1.5}),
        ("upper_limit", f"Upper process limit{trial}", limit_style),
        ("lower_limit", f"Lower process limit{trial}", limit_style),
    ):
        if chart[column].null_count() < chart.height:
            fig.add_trace(
                go.Scatter(
                    x=weeks,
                    y=chart[column].to_list(),
                    mode="lines",
                    line=style,
                    name=name,
                    hovertemplate=f"{name}: %{{y:.1%}}<extra></extra>",
                )
            )
    return _style(fig, title, y_title="NHS utilisation")


def funnel_chart(
    points: pl.DataFrame,
    curve: pl.DataFrame,
    title: str,
    *,
    highlight: str | None = None,
) -> go.Figure:
    """Utilisation against capacity volume with 95% and 99.8% limits; one provider in blue."""
    fig = go.Figure()
    if not curve.is_empty():
        n = curve["capacity_units"].to_list()
        fig.add_trace(
            go.Scatter(
                x=n,
                y=curve["national_rate"].to_list(),
                mode="lines",
                line={"color": colours.SPC_MEAN, "width": 1.5},
                name="National rate",
            )
        )
        for lower, upper, name, dash in (
            ("lower_95", "upper_95", "95% limits", "dot"),
            ("lower_998", "upper_998", "99.8% limits", "dash"),
        ):
            for i, column in enumerate((lower, upper)):
                fig.add_trace(
                    go.Scatter(
                        x=n,
                        y=curve[column].to_list(),
                        mode="lines",
                        line={"color": colours.NHS_GREY, "dash": dash, "width": 1.2},
                        name=name,
                        legendgroup=name,
                        showlegend=i == 0,
                        hoverinfo="skip",
                    )
                )
    others = points.filter(pl.col("provider_code") != (highlight or ""))
    chosen = points.filter(pl.col("provider_code") == (highlight or ""))
    for part, colour, size, name in (
        (others, colours.SPC_COMMON, 8, "Providers"),
        (chosen, colours.NHS_BLUE, 14, highlight or ""),
    ):
        if part.height:
            fig.add_trace(
                go.Scatter(
                    x=part["capacity_units"].to_list(),
                    y=part["utilisation"].to_list(),
                    mode="markers",
                    marker={"color": colour, "size": size, "line": {"color": "white", "width": 1}},
                    name=name,
                    text=part["provider_code"].to_list(),
                    hovertemplate="%{text}: %{y:.1%} of %{x:,.0f} units<extra></extra>",
                )
            )
    fig.update_xaxes(type="log", title="Capacity units (log scale)")
    return _style(fig, title, y_title="NHS utilisation")


def threshold_chart(
    weekly: pl.DataFrame,
    threshold: float | None,
    title: str,
    *,
    period_start: date | None = None,
    period_end: date | None = None,
) -> go.Figure:
    """Weekly utilisation bars against the threshold; the flagged weeks shaded."""
    fig = go.Figure(
        go.Bar(
            x=weekly["week_start"].to_list(),
            y=weekly["utilisation"].to_list(),
            marker_color=colours.USED,
            name="Weekly NHS utilisation",
            customdata=weekly.select("nhs_units", "capacity_units", "private_units").rows(),
            hovertemplate="%{x|%d %b %Y}: %{y:.1%} (%{customdata[0]:,.0f} of "
            "%{customdata[1]:,.0f}; %{customdata[2]:,.0f} private)<extra></extra>",
        )
    )
    if threshold is not None:
        fig.add_hline(
            y=threshold,
            line={"color": colours.SPC_TARGET, "dash": "dash"},
            annotation_text=f"Threshold {threshold:.0%}",
        )
    if period_start and period_end:
        fig.add_vrect(
            x0=period_start - timedelta(days=3.5),
            x1=period_end - timedelta(days=2.5),
            fillcolor=colours.UNUSED,
            opacity=0.35,
            line_width=0,
            layer="below",
        )
    return _style(fig, title, y_title="NHS utilisation")


def value_chart(weekly: pl.DataFrame, multiple: float, title: str) -> go.Figure:
    """Weekly apportioned contract value against the reference value of NHS work × multiple."""
    weeks = weekly["week_start"].to_list()
    fig = go.Figure(
        [
            go.Bar(
                x=weeks,
                y=weekly["contract_value_gbp"].to_list(),
                name="Contract value (apportioned)",
                marker_color=colours.NHS_DARK_BLUE,
                hovertemplate="%{x|%d %b %Y}: £%{y:,.0f}<extra></extra>",
            ),
            go.Bar(
                x=weeks,
                y=weekly["nhs_value_gbp"].to_list(),
                name="NHS work at reference prices",
                marker_color=colours.USED,
                hovertemplate="%{x|%d %b %Y}: £%{y:,.0f}<extra></extra>",
            ),
            go.Scatter(
                x=weeks,
                y=(weekly["nhs_value_gbp"] * multiple).to_list(),
                mode="lines",
                line={"color": colours.SPC_TARGET, "dash": "dash"},
                name=f"{multiple:g}× the reference value (the limit)",
            ),
        ]
    )
    fig.update_layout(barmode="group")
    return _style(fig, title, y_title="£ per week", pct=False)


# One drawing function per evidence chart kind (`capwatch.analytics.flags.base.CHART_KINDS`):
# a rule names its kind, the page draws whatever a flag's evidence holds.
CHARTS: dict[str, Callable[[Evidence], go.Figure]] = {
    "spc": lambda e: spc_chart(e.frames["chart"], e.title),
    "funnel": lambda e: funnel_chart(
        e.frames["points"], e.frames["curve"], e.title, highlight=e.options.get("highlight")
    ),
    "threshold": lambda e: threshold_chart(
        e.frames["weekly"],
        e.options.get("threshold"),
        e.title,
        period_start=e.options.get("period_start"),
        period_end=e.options.get("period_end"),
    ),
    "value": lambda e: value_chart(e.frames["weekly"], e.options.get("multiple", 1.0), e.title),
}


def draw(evidence: Evidence) -> go.Figure | None:
    """The figure of a flag's evidence, or None when there is nothing to draw."""
    if evidence.is_empty:
        return None
    return CHARTS[evidence.chart](evidence)
