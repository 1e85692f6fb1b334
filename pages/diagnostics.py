"""Published diagnostics (DM01): NHS-funded tests done by the independent sector and the NHS
against the same month a year earlier, waiting lists beside IS activity, IS organisations.

Real, published NHS England data, not the contract returns: labelled as such, with the Open
Government Licence attribution. Of the shared filters only region applies (see
`capwatch.analytics.diagnostics`).
"""

from __future__ import annotations

from datetime import date
from functools import partial

import polars as pl
import streamlit as st

from capwatch.analytics import diagnostics, diagnostics_spc
from capwatch.ui import diagnostics_charts as charts
from capwatch.ui import tables
from capwatch.ui.context import cached
from capwatch.ui.download import download_table as download_any
from capwatch.ui.filters import PROFILE_KEY, current_filters, query_string
from capwatch.ui.tables import show_table

ALL_TESTS = "all"
COUNT = st.column_config.NumberColumn
RATIO = st.column_config.NumberColumn("Share of a year earlier", format=tables.PERCENT)
filters = current_filters()
download_table = partial(download_any, published=True)  # real NHS data: never "synthetic"

st.title("Diagnostics: published NHS data")
st.badge("Real published data — NHS England DM01", icon=":material/public:", color="blue")
st.caption(
    f"{diagnostics.ATTRIBUTION} ([licence]({diagnostics.OGL_URL})) "
    "Not the contract returns: these are NHS-funded tests as each organisation reported them "
    "to NHS England, for 15 tests, by month."
)
if not cached(diagnostics.has_published):
    st.info(
        "No published DM01 data is loaded. Load the Monthly Diagnostics Web File – Provider "
        "workbooks with `capwatch ingest FOLDER` (they are recognised by their content).",
        icon=":material/info:",
    )
    st.stop()

test_names = cached(diagnostics.tests)
months = cached(diagnostics.months)
left, right = st.columns(2)
test = left.selectbox(
    "Test",
    [ALL_TESTS, *test_names],
    format_func=lambda t: "All 15 tests" if t == ALL_TESTS else test_names[t],
    key="diag_test",
)
month: date = right.selectbox(
    "Month of the tables below",
    months,
    index=len(months) - 1,
    format_func=lambda m: f"{m:%B %Y}",
    key="diag_month",
)
chosen = None if test == ALL_TESTS else test
view = cached(diagnostics.diagnostics, filters, chosen, month)
scope = f"{'all tests' if chosen is None else test_names[chosen]}" + (
    f", {', '.join(filters.regions)}" if filters.regions else ", England"
)
what = f"dm01_{test}"
st.caption(
    f"Showing {scope}. The sidebar's region filter applies; its weeks, providers and service "
    "lines are the contract data's and do not. Caveats: DM01 counts NHS-funded patients only; "
    "in 2020 work a trust sent to an independent-sector site was often reported by the trust."
)

st.subheader("Activity as a share of the same month a year earlier")
st.plotly_chart(
    charts.recovery_lines(view.recovery, "Tests done ÷ the same month a year earlier"),
    key="diag_recovery",
)
download_table(view.recovery, f"{what}_vs_year_earlier", filters, key="dl_diag_recovery")
by_region, by_test = st.tabs(["By region", "By test"])
with by_region:
    st.plotly_chart(
        charts.recovery_lines(view.recovery_by_region, "By region", facet="region"),
        key="diag_recovery_region",
    )
    download_table(
        view.recovery_by_region, f"{what}_vs_year_earlier_by_region", filters,
        key="dl_diag_recovery_region",
    )  # fmt: skip
with by_test:
    st.plotly_chart(
        charts.recovery_lines(view.recovery_by_test, "By test", facet="test_name"),
        key="diag_recovery_test",
    )
    download_table(
        view.recovery_by_test, f"{what}_vs_year_earlier_by_test", filters,
        key="dl_diag_recovery_test",
    )  # fmt: skip

st.subheader("Making Data Count: independent-sector tests against the pre-pandemic baseline")
levels: dict[diagnostics_spc.Level, str] = {
    "national": "England",
    "region": "A region",
    "test": "A test",
    "organisation": "An IS organisation",
}
spc_left, spc_right = st.columns(2)
level: diagnostics_spc.Level = spc_left.selectbox(
    "Chart for", list(levels), format_func=levels.__getitem__, key="diag_spc_level"
)
spc_keys = cached(diagnostics_spc.keys, level)
spc_key = (
    spc_right.selectbox(
        levels[level],
        spc_keys,
        format_func=lambda k: test_names.get(k, k) if level == "test" else k,
        key=f"diag_spc_{level}",
    )
    if spc_keys
    else None
)
spc_chart = cached(diagnostics_spc.is_chart, level, spc_key)
base = diagnostics_spc.Baseline()
st.caption(
    f"XmR chart (the flags' SPC rules). Baseline: {base.start:%b %Y} – {base.end:%b %Y}, the "
    "months loaded in it set the mean and limits; special cause is marked from "
    f"{base.end.replace(month=3):%b %Y} on. Hover a point for its share of the baseline mean."
)
st.plotly_chart(
    charts.xmr_chart(spc_chart, "NHS-funded tests by the independent sector, by month"),
    key="diag_spc",
)
download_table(spc_chart, f"dm01_is_spc_{level}", filters, key="dl_diag_spc")

st.subheader(f"Waiting lists beside independent-sector activity, {month:%B %Y}")
st.plotly_chart(
    charts.queue_beside_capacity(view.queue_by_region, "By region: the queue and the IS tests"),
    key="diag_queue",
)
queue_columns = {
    "region": "Region",
    "test_name": "Test",
    "test": None,
    "waiting_list": COUNT("Waiting list", format=tables.UNITS),
    "waiting_6_plus": COUNT("Waiting 6+ weeks", format=tables.UNITS),
    "is_activity": COUNT("IS tests in the month", format=tables.UNITS),
    "nhs_activity": COUNT("NHS tests in the month", format=tables.UNITS),
}
show_table(view.queue_by_region, key="diag_queue_region", overrides=queue_columns)
download_table(view.queue_by_region, f"{what}_queue_by_region", filters, key="dl_diag_queue_r")
with st.expander("By region and test"):
    show_table(view.queue, key="diag_queue_test", overrides=queue_columns)
    download_table(view.queue, f"{what}_queue_by_region_test", filters, key="dl_diag_queue_rt")

st.subheader(f"Independent-sector organisations, {month:%B %Y} against a year earlier")
orgs = view.is_orgs
if view.links_to_profiles:
    links = [
        None if p is None else "provider_profile?" + query_string(filters, **{PROFILE_KEY: p})
        for p in orgs["provider_code"]
    ]
    st.caption("Profile links where capwatch holds contract data under the same ODS code.")
else:
    links = [None] * orgs.height
    st.caption(
        "No profile links: the contract data loaded is synthetic (fictional providers), and "
        "real published figures are never shown beside fictional names."
    )
show_table(
    orgs.with_columns(profile=pl.Series(links, dtype=pl.String)),
    key="diag_is_orgs",
    overrides={
        "org_code": "Code",
        "org_name": "Organisation",
        "ods_org_code": "ODS organisation",
        "ods_org_name": "ODS name",
        "activity": COUNT("Tests in the month", format=tables.UNITS),
        "baseline_activity": COUNT("A year earlier", format=tables.UNITS),
        "activity_ratio": RATIO,
        "provider_code": None,
    },
)
download_table(orgs, f"{what}_is_organisations_{month:%Y-%m}", filters, key="dl_diag_is_orgs")
