"""Regions: the seven regions compared, a region → group → provider map, and a drill-down."""

from __future__ import annotations

import polars as pl
import streamlit as st

from capwatch.analytics import dashboard
from capwatch.ui import charts, format
from capwatch.ui.context import cached
from capwatch.ui.download import download_table
from capwatch.ui.filters import PROFILE_KEY, current_filters, query_string
from capwatch.ui.tables import show_table

filters = current_filters()
view = cached(dashboard.regions, filters)
regions = view.regions

st.title("Regions")
st.caption(
    f"{format.plural(regions.height, 'region')}. Region is the site's: a provider with sites "
    "in two regions appears in both."
)
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
    show_table(
        regions.select(
            "region", "utilisation", "unused_capacity_cost_gbp", "capacity_value_gbp",
            "capacity_units", "nhs_units", "private_units", "private_share", "unused_share",
            "nhs_value_gbp",
        ),
        key="regions_table",
        overrides={"region": st.column_config.TextColumn("Region", width="medium", pinned=True)},
    )  # fmt: skip
    download_table(regions, "regions", filters, key="dl_regions")

size = st.segmented_control(
    "Size the tiles by",
    list(charts.TREEMAP_SIZES),
    default=next(iter(charts.TREEMAP_SIZES)),
    required=True,
    key="regions_treemap_size",
    format_func=lambda s: charts.TREEMAP_SIZES[s].capitalize(),
)
size = size or next(iter(charts.TREEMAP_SIZES))
st.plotly_chart(
    charts.hierarchy_treemap(
        view.providers,
        f"Region → group → provider: size is {charts.TREEMAP_SIZES[size]}, colour is utilisation",
        size=size,
    ),
    key="regions_treemap",
)
download_table(view.providers, "regions_groups_providers", filters, key="dl_regions_tree")

st.subheader("Providers in a region")
by_use = regions.filter(regions["capacity_units"] > 0)
worst = by_use["region"][by_use["utilisation"].arg_min() or 0] if by_use.height else None
names = regions["region"].to_list()
region = st.selectbox(
    "Region",
    names,
    index=names.index(worst) if worst in names else 0,
    key="regions_drill",
    help="Opens on the region with the lowest utilisation.",
)
drill = view.providers.filter(pl.col("region") == region)
links = ["provider_profile?" + query_string(filters, **{PROFILE_KEY: c})
         for c in drill["provider_code"]]  # fmt: skip
show_table(
    drill.with_columns(profile=pl.Series(links, dtype=pl.String)).select(
        "provider_name", "utilisation", "unused_capacity_cost_gbp", "capacity_units",
        "nhs_units", "private_units", "private_share", "group", "provider_code", "profile",
    ),
    key="regions_drill_table",
)  # fmt: skip
download_table(drill, f"providers_in_{region}", filters, key="dl_regions_drill")
