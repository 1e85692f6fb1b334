"""The pack's static charts: the dashboard's figures, sized for A4 and drawn without hover."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import plotly
import plotly.graph_objects as go
import plotly.offline

from capwatch.analytics.flags.explain import pct
from capwatch.analytics.pack import ReviewPack
from capwatch.ui import flag_charts
from capwatch.ui.format import line_label

WIDTH_PX = 680
HEIGHT_PX = 320
UK_DATE_AXIS = "%-d %b %Y"  # 1 Jun 2020
_WEEK_MS = 7 * 24 * 3600 * 1000


def plotly_js_path() -> Path:
    """The plotly.js bundle inside the installed plotly package."""
    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@cache
def plotly_js() -> str:
    """plotly.js as the installed plotly ships it (never fetched from the network)."""
    return str(plotly.offline.get_plotlyjs())


def _for_print(fig: go.Figure) -> go.Figure:
    fig.update_layout(
        width=WIDTH_PX,
        height=HEIGHT_PX,
        margin={"l": 60, "r": 20, "t": 48, "b": 40},
        legend={"orientation": "h", "y": -0.32, "x": 0, "yanchor": "top"},
    )
    fig.update_xaxes(title_standoff=4)
    return fig


def _dated(fig: go.Figure, weeks: int, first: date) -> go.Figure:
    """UK dates on the x axis, a tick on a Monday (from the first week) every week or every
    few weeks."""
    step = max(1, -(-weeks // 8))  # at most about 8 ticks
    fig.update_xaxes(
        tickformat=UK_DATE_AXIS,
        title="Week starting",
        dtick=step * _WEEK_MS,
        tick0=first.isoformat(),
        tickangle=0,
    )
    return fig


def figures(pack: ReviewPack) -> list[tuple[str, go.Figure]]:
    """(caption, figure) of each chart the pack shows, in order."""
    out: list[tuple[str, go.Figure]] = []
    code = pack.provider_code
    if not pack.weekly.is_empty():
        fig = flag_charts.threshold_chart(
            pack.weekly,
            pack.threshold,
            f"{code}: weekly NHS utilisation against the {pct(pack.threshold)} threshold",
        )
        out.append(
            (
                "All service lines in the pack. Bars: NHS units ÷ capacity units per week; "
                "dashed line: the low-utilisation rule's threshold.",
                _for_print(_dated(fig, pack.weekly.height, pack.period_from)),
            )
        )
    line = pack.chart_line
    if line is not None and not pack.spc.is_empty():
        fig = flag_charts.spc_chart(
            pack.spc, f"{code} · {line_label(line)}: SPC chart of weekly utilisation"
        )
        out.append(
            (
                "XmR chart (Making Data Count): mean, process limits at mean ± 2.66 × mean "
                "moving range; special-cause points orange (concern) or blue (improvement).",
                _for_print(_dated(fig, pack.spc.height, pack.spc["week_start"][0])),
            )
        )
    if line is not None and not pack.funnel_points.is_empty():
        fig = flag_charts.funnel_chart(
            pack.funnel_points,
            pack.funnel_curve,
            f"{line_label(line)}: utilisation against capacity, {code} marked",
            highlight=code,
        )
        out.append(
            (
                "Every provider's utilisation of this line in the same weeks against its capacity "
                "(log scale), with the national rate and its 95% and 99.8% limits.",
                _for_print(fig),
            )
        )
    return out
