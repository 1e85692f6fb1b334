"""Flags: every rule firing under the current filters, with its sentence and evidence."""

from __future__ import annotations

import streamlit as st

from capwatch.analytics.flags import RULES
from capwatch.analytics.flags.evidence import flags_for
from capwatch.ui.context import cached
from capwatch.ui.filters import current_filters
from capwatch.ui.flags_view import render_flags, rule_parameters

filters = current_filters()

st.title("Flags")
st.caption(
    "Each flag is a rule firing on a provider, site or contract for a period, with the numbers "
    "that fired it and the money at stake. Only complete weeks of loaded data are used. "
    "Rules: " + "; ".join(r.title for r in RULES) + "."
)

overrides = rule_parameters(key="flags")
with st.spinner("Running the rules…"):
    flags = cached(flags_for, filters, overrides)
render_flags(flags, key="flags", filters=filters)
