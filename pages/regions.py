"""Regions: the seven regions compared, a region → group → provider map, and a drill-down."""

from __future__ import annotations

import polars as pl
import streamlit as st

from capwatch.analytics import dashboard
from capwatch.ui import charts
from capwatch.ui.context import cached
from capwatch.ui.download import download_table
from capwatch.ui.filters import PROFILE_KEY, current_filters, query_string
from capwatch.ui.tables import show_table

filters = current_filters()
view = cached(dashboard.regions, filters)
regions = view.regions

st.title("Regions")
st.caption("Region is the site's: a provider with sites in two regions appears in both.")
if regions.is_empty() or regions["capacity_units"].sum() == 0:
    st.info("No contracted capacity matches these filters.", icon=":material/filter_alt_off:")
    st.stop()

left, right = st.columns([2, 3])
with left:
    st.plotly_chart(
        charts.region_bars(regions, "Utilisation and private share of activity"),
        key="regions_bars",
    )
with right:
    show_table(regions, key="regions_table")
    download_table(regions, "regions", filters, key="dl_regions")

st.plotly_chart(
    charts.hierarchy_treemap(
        view.providers,
        "Region → group → provider: size is capacity value, colour is utilisation",
    ),
    key="regions_treemap",
)
download_table(view.providers, "regions_groups_providers", filters, key="dl_regions_tree")

st.subheader("Providers in a region")
region = st.selectbox("Region", regions["region"].to_list(), key="regions_drill")
drill = view.providers.filter(pl.col("region") == region)
links = ["provider_profile?" + query_string(filters, **{PROFILE_KEY: c})
         for c in drill["provider_code"]]  # fmt: skip
show_table(
    drill.with_columns(profile=pl.Series(links, dtype=pl.String)).select(
        "provider_code", "provider_name", "group", "capacity_units", "nhs_units",
        "private_units", "utilisation", "unused_capacity_cost_gbp", "private_share", "profile",
    ),
    key="regions_drill_table",
)  # fmt: skip
download_table(drill, f"providers_in_{region}", filters, key="dl_regions_drill")
