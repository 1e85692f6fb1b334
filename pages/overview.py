"""Overview: the period's headline figures, the weekly trend and the worst providers."""

from __future__ import annotations

import polars as pl
import streamlit as st

from capwatch.analytics import dashboard, verdicts
from capwatch.ui import charts, format
from capwatch.ui.context import cached
from capwatch.ui.download import download_table
from capwatch.ui.filters import PROFILE_KEY, current_filters, link_params, query_string
from capwatch.ui.metrics import Metric, show_metrics
from capwatch.ui.scripts import page_file
from capwatch.ui.tables import show_table

PROFILE_PAGE = page_file("provider_profile")

filters = current_filters()
data = cached(dashboard.overview, filters)
now, before = data.headline, data.previous

st.title("Overview")
if filters.week_from and filters.week_to:
    period = (
        f"Weeks starting {format.uk_date(filters.week_from)} to {format.uk_date(filters.week_to)}."
    )
    comparison = (
        " Changes compare with the same number of weeks just before."
        if before is not None
        else " No earlier period of the same length is loaded, so the tiles show no change."
    )
    st.caption(period + comparison)
else:
    st.caption("Every loaded week.")

with st.container(border=True):
    st.markdown(f"**{verdicts.headline(cached(verdicts.verdicts, filters, None, {}))}**")
    st.page_link(page_file("actions"), label="See every verdict, its money and evidence",
                 icon=":material/checklist:", query_params=link_params(filters))  # fmt: skip

if not now.has_capacity:
    st.info(
        "No contracted capacity matches these filters. Widen the period or clear a filter.",
        icon=":material/filter_alt_off:",
    )
    st.stop()


def change(attr: str) -> float | None:
    if before is None:
        return None
    a, b = getattr(now, attr), getattr(before, attr)
    return None if a is None or b is None else a - b


show_metrics(
    [
        Metric(
            "Capacity contracted",
            f"{format.units(now.capacity_units)} units",
            format.signed_units(change("capacity_units")),
            delta_color="off",
            help="Units made available to the NHS at the filtered sites, lines and weeks.",
        ),
        Metric(
            "NHS units used",
            format.units(now.nhs_units),
            format.signed_units(change("nhs_units")),
            help="NHS-funded units delivered against that capacity.",
        ),
        Metric(
            "Utilisation",
            format.pct(now.utilisation),
            format.signed_pct_points(change("utilisation")),
            help="NHS units used ÷ capacity units (a ratio of the sums).",
        ),
        Metric(
            "Contract value",
            format.gbp_compact(now.contract_value_gbp),
            format.signed_gbp(change("contract_value_gbp")),
            delta_color="off",
            help="Contracts of the filtered providers, apportioned to these weeks. "
            "Not split by site or service line.",
        ),
        Metric(
            "Unused capacity cost",
            format.gbp_compact(now.unused_capacity_cost_gbp),
            format.signed_gbp(change("unused_capacity_cost_gbp")),
            delta_color="inverse",
            help="Capacity not used by the NHS, week by week and site by site, at reference unit "
            "prices.",
        ),
        Metric(
            "Private units at contracted sites",
            format.units(now.private_units),
            format.signed_units(change("private_units")),
            delta_color="off",
            help="Privately funded units delivered at the same sites, lines and weeks.",
        ),
    ],
    per_row=3,
)

st.markdown(
    f"**Of {format.gbp_compact(now.capacity_value_gbp)} of capacity contracted (valued at "
    f"reference unit prices), {format.gbp_compact(now.unused_capacity_cost_gbp)} went unused "
    f"({format.pct(now.unused_share)}).**"
)
st.caption(
    "Three figures, three questions. Contract value "
    f"({format.gbp_compact(now.contract_value_gbp)}) is what the contracts cost for these "
    "weeks, whole contracts apportioned by week (not split by service line, so a service-line "
    f"filter does not change it). Capacity value ({format.gbp_compact(now.capacity_value_gbp)}) "
    "prices the units made available at reference unit prices, so that lines can be added up. "
    f"Utilisation ({format.pct(now.utilisation)}) counts units; by value "
    f"{format.pct(now.used_value_share)} was used ({format.pct(now.unused_share)} unused), because "
    "units of different price are used at different rates."
)

left, right = st.columns([1, 1])
with left:
    st.plotly_chart(charts.utilisation_trend(data.trend), key="overview_trend")
    download_table(data.trend, "weekly_utilisation", filters, key="dl_overview_trend")
with right:
    st.subheader("Most unused capacity cost")
    worst = data.worst_providers.select(
        "rank", "provider_code", "provider_name", "unused_capacity_cost_gbp", "utilisation"
    )
    links = [
        "provider_profile?" + query_string(filters, **{PROFILE_KEY: code})
        for code in worst["provider_code"]
    ]
    event = show_table(
        worst.drop("provider_code").with_columns(profile=pl.Series(links, dtype=pl.String)),
        key="overview_worst",
        on_select="rerun",
        selection_mode="single-row",
    )
    st.caption("Select a row, or Open, to see that provider's profile.")
    # what the table shows, with the provider's code in place of the link
    download_table(worst, "worst_providers_by_unused_cost", filters, key="dl_overview_worst")

rows = event.selection.rows if event is not None else []
if rows:
    st.switch_page(PROFILE_PAGE, query_params={PROFILE_KEY: worst["provider_code"][rows[0]]})
