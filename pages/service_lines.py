"""Service lines: diagnostics, day case, chemotherapy and outpatients side by side."""

from __future__ import annotations

import polars as pl
import streamlit as st

from capwatch.analytics import dashboard
from capwatch.ui import charts, format
from capwatch.ui.context import cached
from capwatch.ui.download import download_table
from capwatch.ui.filters import current_filters
from capwatch.ui.tables import show_table

filters = current_filters()
view = cached(dashboard.service_lines, filters)
lines = view.lines

st.title("Service lines")
if lines.is_empty() or lines["capacity_units"].sum() == 0:
    st.info("No contracted capacity matches these filters.", icon=":material/filter_alt_off:")
    st.stop()

cols = st.columns(max(1, lines.height))
for col, row in zip(cols, lines.iter_rows(named=True), strict=False):
    col.metric(
        format.line_label(row["service_line"]),
        format.pct(row["utilisation"]),
        border=True,
        help="NHS units used ÷ capacity units",
    )
    col.caption(
        f"{format.units(row['nhs_units'])} of {format.units(row['capacity_units'])} units · "
        f"unused {format.gbp_compact(row['unused_capacity_cost_gbp'])} · "
        f"private {format.units(row['private_units'])}"
    )

left, right = st.columns(2)
with left:
    st.plotly_chart(
        charts.service_line_bars(lines, "unused_capacity_cost_gbp", "Unused capacity cost"),
        key="lines_unused",
    )
with right:
    st.plotly_chart(
        charts.nhs_private_by_line(lines, "Capacity, NHS and private units"), key="lines_units"
    )
show_table(lines, key="lines_table")
download_table(lines, "service_lines", filters, key="dl_lines")

st.subheader("Week by week")
left, right = st.columns(2)
with left:
    st.plotly_chart(
        charts.weekly_by_line(view.weekly, "utilisation", "Weekly utilisation"),
        key="lines_weekly_util",
    )
with right:
    # one panel and axis per line: day case's pounds would flatten the other lines to £0
    st.plotly_chart(
        charts.weekly_by_line(
            view.weekly,
            "unused_capacity_cost_gbp",
            "Weekly unused cost (each line on its own scale)",
            small_multiples=True,
        ),
        key="lines_weekly_unused",
    )
download_table(view.weekly, "service_lines_weekly", filters, key="dl_lines_weekly")

st.subheader("Activity types within each line")
st.caption(
    "Diagnostic capacity is contracted per test, so each test has its own utilisation. The "
    "other lines' capacity is for the whole line (“(whole line)”): their activity types show "
    "what was delivered, not a utilisation."
)
types = view.activity_types
show_table(
    # the label as the returns write it; the key (activity_type) stays in the CSV
    types.with_columns(activity_type=pl.col("activity_label").replace("", format.WHOLE_LINE)).drop(
        "activity_label"
    ),
    key="lines_types",
)
download_table(types, "activity_types", filters, key="dl_lines_types")
