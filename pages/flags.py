"""Flags: every rule firing under the current filters, with its sentence and evidence."""

from __future__ import annotations

import streamlit as st

from capwatch.analytics.flags import RULES
from capwatch.analytics.flags.evidence import flag_run_with_status
from capwatch.ui.context import cached
from capwatch.ui.filters import current_filters
from capwatch.ui.flags_view import render_backtest, render_flags, render_notes, rule_parameters

filters = current_filters()

st.title("Flags")
st.caption(
    "Each flag is a rule firing on a provider, site or contract for a period, with the numbers "
    "that fired it and the money at stake. Only complete weeks of loaded data are used. "
    "Rules: " + "; ".join(r.title for r in RULES) + "."
)

overrides = rule_parameters(key="flags")
with st.spinner("Running the rules…"):
    run = cached(flag_run_with_status, filters, overrides)
render_notes(run.notes)
render_flags(run.flags, key="flags", filters=filters)

st.header("Would the flags have called the removals?")
render_backtest(filters, overrides, key="backtest")
