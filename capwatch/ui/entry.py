"""capwatch dashboard: the entry point (`streamlit run app.py`, or `capwatch demo`).

Sets the page up, builds the navigation, labels synthetic data, renders the shared filters
once (they live in the URL, see `capwatch.ui.filters`) and runs the chosen page. Errors become
plain messages; a missing database says how to load one.
"""

from __future__ import annotations

import streamlit as st

from capwatch.analytics import diagnostics, reference
from capwatch.errors import CapwatchError, DatabaseMissing
from capwatch.ui.auth import gate
from capwatch.ui.context import NO_DATA_MESSAGE, cached, show_errors
from capwatch.ui.filters import render_sidebar
from capwatch.ui.scripts import page_file

st.set_page_config(
    page_title="capwatch",
    page_icon=":material/monitoring:",
    layout="wide",
    initial_sidebar_state="expanded",
)
access = gate()  # sign-in first: nothing below runs for a visitor who may not see it

PAGES = [
    st.Page(page_file("actions"), title="Actions", url_path="actions",
            icon=":material/checklist:"),
    st.Page(page_file("overview"), title="Overview", url_path="overview",
            icon=":material/dashboard:", default=True),
    st.Page(page_file("providers"), title="Providers", url_path="providers",
            icon=":material/local_hospital:"),
    st.Page(page_file("provider_profile"), title="Provider profile", url_path="provider_profile",
            icon=":material/badge:"),
    st.Page(page_file("service_lines"), title="Service lines", url_path="service_lines",
            icon=":material/stacked_bar_chart:"),
    st.Page(page_file("regions"), title="Regions", url_path="regions", icon=":material/map:"),
    st.Page(page_file("flags"), title="Flags", url_path="flags", icon=":material/flag:"),
    st.Page(page_file("diagnostics"), title="Diagnostics (published)", url_path="diagnostics",
            icon=":material/public:"),
]  # fmt: skip
# SQL reads the whole database file: national analysts only; the audit trail is national.
# Each of those pages also refuses itself. The Data page is scoped (its load log national).
if access.may_use_sql:
    PAGES.append(st.Page(page_file("sql"), title="Ask the data (SQL)", url_path="sql",
                         icon=":material/database_search:"))  # fmt: skip
PAGES.append(st.Page(page_file("data"), title="Data", url_path="data",
                     icon=":material/folder_open:"))  # fmt: skip
if access.may_view_audit:
    PAGES.append(st.Page(page_file("audit"), title="Audit trail", url_path="audit",
                         icon=":material/policy:"))  # fmt: skip

page = st.navigation(PAGES)

title, badge = st.columns([3, 2], vertical_alignment="center")
title.markdown("### capwatch · independent-sector capacity")

try:
    synthetic = cached(reference.is_synthetic)
    published = cached(diagnostics.has_published)
except DatabaseMissing:
    st.error(NO_DATA_MESSAGE, icon=":material/database:")
    st.stop()
except CapwatchError as exc:
    st.error(str(exc), icon=":material/error:")
    st.stop()

if synthetic:
    with badge:
        st.badge(
            "Synthetic data — fictional providers",
            icon=":material/science:",
            color="orange",
            help="Every loaded contract file came from a synthetic… folder (capwatch generate "
            "/ demo).",
        )
if synthetic and published:
    with badge:
        st.badge(
            "Diagnostics (published) page: real NHS England data",
            icon=":material/public:",
            color="blue",
            help="DM01 as NHS England published it, Open Government Licence v3.0; kept apart "
            "from the synthetic contract data.",
        )

with show_errors():
    render_sidebar()
    page.run()
