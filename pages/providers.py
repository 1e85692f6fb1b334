"""Providers: every provider ranked by utilisation or by unused cost; open one's profile.

The ranking is kept in the URL (`rank=utilisation` or `rank=unused_cost`), so a ranked view
can be shared as a link. Clicking a bar or selecting a row opens that provider's profile.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from capwatch.analytics import dashboard
from capwatch.ui import charts, format
from capwatch.ui.context import cached
from capwatch.ui.download import download_table
from capwatch.ui.filters import PROFILE_KEY, current_filters, query_string
from capwatch.ui.scripts import page_file
from capwatch.ui.tables import show_table

PROFILE_PAGE = page_file("provider_profile")
RANK_KEY = "rank"
ORDERS = {"utilisation": "utilisation", "unused_cost": "unused cost"}  # URL value → analytics

filters = current_filters()
st.title("Providers")
asked = st.query_params.get(RANK_KEY)
if "providers_order" not in st.session_state:
    st.session_state["providers_order"] = asked if asked in ORDERS else "utilisation"
order = st.segmented_control(
    "Rank by",
    list(ORDERS),
    required=True,
    key="providers_order",
    format_func=lambda o: "Lowest utilisation" if o == "utilisation" else "Most unused cost",
)
order = order or "utilisation"
st.query_params[RANK_KEY] = order
view = cached(dashboard.providers, filters, ORDERS[order])
ranked = view.ranked

if ranked.is_empty():
    st.info("No provider matches these filters.", icon=":material/filter_alt_off:")
    st.stop()

st.caption(
    f"{format.plural(ranked.height, 'provider')}, rank 1 = "
    + ("lowest utilisation." if view.order == "utilisation" else "most unused capacity cost.")
    + " Region and group are the provider's. Contract value is the whole contract for these "
    "weeks (not split by service line)."
)

pick, go = st.columns([3, 1], vertical_alignment="bottom")
names = dict(zip(ranked["provider_code"], ranked["provider_name"], strict=True))
chosen = pick.selectbox(
    "Open a provider's profile",
    ranked["provider_code"].to_list(),
    format_func=lambda c: f"{names.get(c) or c} ({c})",
    key="providers_pick",
)
go.page_link(
    PROFILE_PAGE,
    label="Open profile",
    icon=":material/arrow_forward:",
    query_params={PROFILE_KEY: chosen},
)

measure = "utilisation" if view.order == "utilisation" else "unused_capacity_cost_gbp"
other = "unused_capacity_cost_gbp" if measure == "utilisation" else "utilisation"
chart, table = st.columns([2, 3])
with chart:
    clicked = st.plotly_chart(
        charts.provider_bars(
            ranked,
            measure,
            "Utilisation (lowest first)"
            if measure == "utilisation"
            else "Unused capacity cost (most first)",
        ),
        key="providers_bars",
        on_select="rerun",
        selection_mode="points",
    )
    st.caption("Click a bar to open that provider's profile.")
with table:
    links = [
        "provider_profile?" + query_string(filters, **{PROFILE_KEY: code})
        for code in ranked["provider_code"]
    ]
    # the ranking column and money first, beside the pinned name; codes stay in the CSV
    shown = ranked.with_columns(profile=pl.Series(links, dtype=pl.String)).select(
        "rank", "provider_name", measure, other, "contract_value_gbp", "capacity_units",
        "nhs_units", "private_units", "private_share", "region", "group", "provider_code",
        "profile",
    )  # fmt: skip
    event = show_table(
        shown,
        key="providers_table",
        height=560,
        on_select="rerun",
        selection_mode="single-row",
    )
    st.caption("Select a row to open that provider's profile; click a heading to sort.")
    download_table(ranked, f"providers_by_{view.order.replace(' ', '_')}", filters,
                   key="dl_providers")  # fmt: skip

rows = event.selection.rows if event is not None else []
points = clicked.selection.points if clicked is not None else []
if rows:
    st.switch_page(PROFILE_PAGE, query_params={PROFILE_KEY: ranked["provider_code"][rows[0]]})
elif points and points[0].get("customdata"):
    target = points[0]["customdata"]
    target = target[0] if isinstance(target, list) else target
    st.switch_page(PROFILE_PAGE, query_params={PROFILE_KEY: str(target)})
