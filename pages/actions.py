"""Actions: one decision per active contract, the money and the evidence, ranked.

Verdicts are computed nationally and only selected by the shared filters and the access
scope, so a contract's verdict is the same whoever looks (`capwatch.analytics.verdicts`).
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from capwatch.analytics import verdicts as v
from capwatch.ui import format
from capwatch.ui.context import cached
from capwatch.ui.download import download_table
from capwatch.ui.filters import PROFILE_KEY, current_filters, query_string
from capwatch.ui.metrics import Metric, show_metrics
from capwatch.ui.pack_button import pack_chooser
from capwatch.ui.scripts import page_file
from capwatch.ui.tables import show_table
from capwatch.ui.verdicts_view import (
    labelled_scores,
    labelled_tests,
    ranked_table,
    uk_day,
    verdict_parameters,
)

AS_OF_KEY = "asof"
filters = current_filters()

st.title("Actions")
weeks = cached(v.verdict_weeks)
if not weeks:
    st.info("No complete week of data is loaded yet, so there is nothing to decide.")
    st.stop()

asked = st.query_params.get(AS_OF_KEY, "")
labels = {w.isoformat(): f"Week of {uk_day(w)}" for w in weeks}
if asked and asked not in labels:
    st.warning(
        f"The week {asked!r} in the link is outside the data; showing the last complete week."
    )
    asked = ""
as_of = st.selectbox(
    "Decide as of",
    list(labels),
    index=list(labels).index(asked) if asked else len(labels) - 1,
    format_func=labels.__getitem__,
    key="actions_as_of",
    help="Each verdict reads only the weeks up to this one.",
)
st.query_params[AS_OF_KEY] = as_of
overrides = verdict_parameters(key="actions")
frame = cached(v.verdicts, filters, weeks[list(labels).index(as_of)], overrides)

st.markdown(f"### {v.headline(frame)}")
st.caption(
    "One verdict per contract active for the whole week, from the weeks up to it only. "
    "“Saved a month if released” is the monthly contract value less the NHS work it delivered "
    "a month, valued at reference prices (what the same work would cost bought elsewhere). "
    "The filters choose which contracts are listed; they never change a verdict."
)
show_metrics(
    [
        Metric(
            v.VERDICT_LABELS[code],
            f"{part.height}",
            f"{format.gbp(float(part['saving_per_month_gbp'].sum()))} a month",
            delta_color="off",
        )
        for code in v.VERDICTS
        for part in [frame.filter(pl.col("verdict") == code)]
    ]
)

if frame.is_empty():
    st.info("No active contract matches these filters.", icon=":material/filter_alt_off:")
    st.stop()
links = [
    "provider_profile?" + query_string(filters, **{PROFILE_KEY: code}) + "#verdict"
    for code in frame["provider_code"]
]
rows = ranked_table(frame, links, key="actions_table")
st.caption("Select a row (or Open) to see the provider's verdict and its evidence.")
download_table(
    v.flat(frame),
    "verdicts",
    filters,
    key="dl_actions",
    extra=(
        ("As of week", uk_day(frame["as_of_week"][0])),
        (
            "Verdict settings",
            "; ".join(f"{k}={val:g}" for k, val in sorted(overrides.items())) or "the defaults",
        ),
    ),
)
# The contract review pack of a listed provider, at this week and these settings (audited).
pack_chooser(
    dict(zip(frame["provider_code"], frame["provider_name"], strict=True)),
    filters, key="actions_pack", page="actions",
    as_of=weeks[list(labels).index(as_of)], verdict_settings=overrides,
)  # fmt: skip
if rows:
    st.switch_page(
        page_file("provider_profile"),
        query_params={PROFILE_KEY: frame["provider_code"][rows[0]]},
    )

st.header("How well would these verdicts have done?")
scores, rules, truth = cached(v.backtest_scores, overrides)
st.caption(
    f"Every week replayed with the data up to it, scored against the {truth}. "
    "Called: contracts given the verdict in some week they were active; lead: median weeks "
    "from the first release or challenge to the removal."
)
show_table(
    labelled_scores(scores),
    key="actions_backtest",
    overrides={
        "verdict": "Verdict",
        "called": "Called",
        "right": "Right",
        "truth": "Truly",
        "precision": st.column_config.NumberColumn("Precision", format="percent"),
        "recall": st.column_config.NumberColumn("Recall", format="percent"),
        "wrong": "Wrongly given to",
        "median_lead_weeks": st.column_config.NumberColumn("Lead (weeks)", format="%.0f"),
        "gbp_month_right": st.column_config.NumberColumn("£ a month right", format="£%,.0f"),
        "gbp_month_wrong": st.column_config.NumberColumn("£ a month wrong", format="£%,.0f"),
    },
)
show_table(
    labelled_tests(rules),
    key="actions_backtest_rules",
    overrides={"rule": "Test", "hits": "Hits", "misses": "Misses", "false_alarms": "False alarms"},
)
