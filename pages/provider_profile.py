"""Provider profile: one provider's contracts, sites, service lines, flags, trend and rank.

Reached by a link naming the provider: `provider_profile?p=NX1` (plus any shared filters).
Opened without one, it shows the provider with the most unused capacity cost under the
filters (the worst), and says so; the chooser at the top opens any other.
The profile keeps the period and service-line filters and ignores region, group and provider
filters, so it shows the whole provider — as far as the user's regions reach. A provider the
user may not see is treated exactly as an unknown one.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from capwatch.analytics import dashboard, diagnostics, verdicts
from capwatch.analytics.flags.evidence import flags_for
from capwatch.ui import charts, format, tables
from capwatch.ui.context import cached
from capwatch.ui.download import download_table
from capwatch.ui.filters import PROFILE_KEY, current_filters, filter_options, link_params
from capwatch.ui.flags_view import render_flags
from capwatch.ui.metrics import Metric, show_metrics
from capwatch.ui.pack_button import pack_button
from capwatch.ui.scripts import page_file
from capwatch.ui.tables import show_table
from capwatch.ui.verdicts_view import render_verdict_box

filters = current_filters()
options = filter_options()
codes = list(options.providers)  # only the providers this user may see
names = options.provider_names

st.title("Provider profile")
if not codes:
    st.info("No providers are loaded for your area.", icon=":material/info:")
    st.stop()

asked = (st.query_params.get(PROFILE_KEY) or "").strip().upper()
if asked and asked not in codes:  # unknown, or in another region: the same answer
    st.warning(f"Provider `{asked}` not found or not in your area.", icon=":material/info:")
    st.session_state["profile_provider"] = None
elif asked:
    st.session_state["profile_provider"] = asked
elif "profile_provider" not in st.session_state:
    if len(filters.providers) == 1 and filters.providers[0] in codes:
        st.session_state["profile_provider"] = filters.providers[0]
    else:  # no provider named: open the worst, not the first alphabetically
        worst = cached(dashboard.overview, filters).worst_providers
        first = worst["provider_code"][0] if worst.height else codes[0]
        st.session_state["profile_provider"] = first if first in codes else codes[0]
        st.caption(
            "No provider was named in the link: showing the one with the most unused capacity "
            "cost under the filters. Choose another below."
        )


def _remember_choice() -> None:
    st.query_params[PROFILE_KEY] = st.session_state["profile_provider"]


code = st.selectbox(
    "Provider",
    codes,
    index=None,
    key="profile_provider",
    placeholder="Choose a provider",
    format_func=lambda c: f"{c} · {names.get(c) or format.MISSING}",
    on_change=_remember_choice,
)
if code is None:
    st.stop()
st.query_params[PROFILE_KEY] = code

profile = cached(dashboard.provider_profile, filters, code)
own = dashboard.profile_filters(filters, code)
head = profile.headline
if not profile.exists:  # gone since the options were read (a new load)
    st.warning(f"Provider `{code}` not found or not in your area.", icon=":material/info:")
    st.stop()

st.header(f"{profile.provider_code} · {profile.provider_name or format.MISSING}")
rank_text = (
    f"Ranked {profile.rank} of {profile.peers} providers by utilisation (1 = lowest) over the "
    "same weeks and service lines."
    if profile.rank
    else "Not ranked: no capacity in these weeks and service lines."
)
st.caption(
    f"Group: {profile.group or format.MISSING} · Region: {profile.region or format.MISSING} · "
    f"{rank_text}"
)

st.subheader("Verdict", anchor="verdict")
render_verdict_box(
    cached(verdicts.verdicts, own, None, {}),
    has_contract=not profile.contracts.is_empty(),
)
st.page_link(page_file("actions"), label="Every contract's verdict on the Actions page",
             icon=":material/checklist:", query_params=link_params(filters))  # fmt: skip

if not head.has_capacity and head.nhs_units + head.private_units == 0:
    st.info(
        "This provider has no capacity or activity in these weeks and service lines.",
        icon=":material/filter_alt_off:",
    )
    st.stop()

show_metrics(
    [
        Metric("Capacity", format.units(head.capacity_units)),
        Metric("NHS units used", format.units(head.nhs_units)),
        Metric("Utilisation", format.pct(head.utilisation)),
        Metric("Unused capacity cost", format.gbp_compact(head.unused_capacity_cost_gbp)),
        Metric(
            "Contract value in these weeks",
            format.gbp_compact(head.contract_value_gbp),
            help="Whole contract(s) apportioned to the weeks; not split by service line.",
        ),
        Metric("Private units", format.units(head.private_units)),
    ],
    per_row=3,
)

# The contract review pack: a printable PDF of this provider (scoped and audited).
pack_button(code, filters, key="profile_pack", page="provider_profile")

st.subheader("Flags")
st.caption("Rules run with their default settings over these weeks and service lines.")
st.page_link(
    page_file("flags"),
    label="Adjust the rule settings on the Flags page",
    icon=":material/flag:",
    query_params=link_params(own),
)
render_flags(cached(flags_for, own, ()), key="profile_flags", filters=own)

st.subheader("Contracts")
show_table(
    profile.contracts,
    key="profile_contracts",
    overrides={
        "contract_id": "Contract",
        "start_date": st.column_config.DateColumn("Start", format=tables.UK_DATE),
        "end_date": st.column_config.DateColumn("End", format=tables.UK_DATE),
        "monthly_value_gbp": st.column_config.NumberColumn("Monthly value", format=tables.GBP),
        "status": "Status",
        "removed_date": st.column_config.DateColumn("Removed", format=tables.UK_DATE),
        "removal_reason": "Reason",
        "contract_value_in_period_gbp": st.column_config.NumberColumn(
            "Value in these weeks", format=tables.GBP
        ),
    },
)
download_table(profile.contracts, f"contracts_{code}", own, key="dl_profile_contracts")

st.subheader("By service line")
left, right = st.columns(2)
with left:
    st.plotly_chart(
        charts.nhs_private_by_line(profile.service_lines, "Capacity, NHS and private units"),
        key="profile_lines_units",
    )
with right:
    st.plotly_chart(
        charts.service_line_bars(profile.service_lines, "utilisation", "Utilisation"),
        key="profile_lines_util",
    )
download_table(profile.service_lines, f"service_lines_{code}", own, key="dl_profile_lines")

st.subheader("Week by week")
left, right = st.columns(2)
with left:
    st.plotly_chart(
        charts.weekly_by_line(profile.weekly, "utilisation", "Weekly utilisation by service line"),
        key="profile_weekly_util",
    )
with right:
    st.plotly_chart(
        charts.used_unused_weekly(profile.weekly, "NHS and private activity against capacity"),
        key="profile_weekly_units",
    )
download_table(profile.weekly, f"weekly_{code}", own, key="dl_profile_weekly")

st.subheader("By activity type")
st.caption(
    "Utilisation by activity type exists only where capacity is given by type (diagnostic "
    "tests); other lines' capacity is for the whole line, shown as “(whole line)”."
)
types = profile.activity_types
show_table(
    # the label as the returns write it; the key (activity_type) stays in the CSV
    types.with_columns(activity_type=pl.col("activity_label").replace("", format.WHOLE_LINE)).drop(
        "activity_label"
    ),
    key="profile_types",
)
download_table(types, f"activity_types_{code}", own, key="dl_profile_types")

st.subheader("Sites")
show_table(profile.sites, key="profile_sites", overrides={"site_name": "Name"})
download_table(profile.sites, f"sites_{code}", own, key="dl_profile_sites")

# Published DM01 figures where the provider's or a site's code is a DM01 reporting organisation.
published = cached(diagnostics.provider_diagnostics, code)
if published.shown and not published.monthly.is_empty():
    st.subheader("Published NHS diagnostics (DM01)")
    st.badge("Real published data — NHS England DM01", icon=":material/public:", color="blue")
    st.caption(
        "Tests done for NHS-funded patients as this provider (or its sites) reported them to "
        "NHS England, by month, beside the contract returns above; the weeks filter does not "
        f"apply. {diagnostics.ATTRIBUTION} [OGL v3.0]({diagnostics.OGL_URL})"
    )
    show_table(
        published.monthly,
        key="profile_dm01",
        overrides={
            "month": st.column_config.DateColumn("Month", format=tables.UK_MONTH),
            "org_code": "DM01 code",
            "org_name": "Name as published",
            "activity": st.column_config.NumberColumn("Tests", format=tables.UNITS),
            "baseline_activity": st.column_config.NumberColumn(
                "A year earlier", format=tables.UNITS
            ),
            "activity_ratio": st.column_config.NumberColumn(
                "Share of a year earlier", format=tables.PERCENT
            ),
            "waiting_list": st.column_config.NumberColumn("Waiting list", format=tables.UNITS),
        },
    )
    download_table(published.monthly, f"dm01_{code}", own, key="dl_profile_dm01", published=True)
    download_table(
        published.by_test, f"dm01_by_test_{code}", own, key="dl_profile_dm01_tests", published=True
    )
    # Issue 22: its Making Data Count chart, where it is an IS organisation in DM01.
    from capwatch.analytics import diagnostics_spc
    from capwatch.ui.diagnostics_charts import xmr_chart

    if code in cached(diagnostics_spc.keys, "organisation"):
        spc_chart = cached(diagnostics_spc.is_chart, "organisation", code)
        st.plotly_chart(
            xmr_chart(spc_chart, "Its DM01 tests against the pre-pandemic baseline (XmR)"),
            key="profile_dm01_spc",
        )
        download_table(
            spc_chart, f"dm01_spc_{code}", own, key="dl_profile_dm01_spc", published=True
        )
