"""capwatch dashboard: the entry point (`streamlit run app.py`, or `capwatch demo`).

Sets the page up, builds the navigation, labels synthetic data, renders the shared filters
once (they live in the URL, see `capwatch.ui.filters`) and runs the chosen page. Errors become
plain messages; a missing database says how to load one.
"""

from __future__ import annotations

import streamlit as st

from capwatch.analytics import diagnostics, reference
from capwatch.errors import CapwatchError, DatabaseMissing
from capwatch.ui import styles
from capwatch.ui.auth import gate
from capwatch.ui.context import NO_DATA_MESSAGE, cached, show_errors
from capwatch.ui.filters import render_sidebar
from capwatch.ui.pages import DEFAULT, PAGES
from capwatch.ui.scripts import page_file

st.set_page_config(
    page_title="capwatch",
    page_icon="📊",  # an emoji is drawn in the browser; a :material/ icon is fetched from Google
    layout="wide",
    initial_sidebar_state="auto",  # open on a desktop, closed on a phone (390 px)
)
styles.apply()  # readable captions, print styles, phone widths (capwatch.ui.styles)
access = gate()  # sign-in first: nothing below runs for a visitor who may not see it

# The registry (capwatch.ui.pages) in navigation order, each page shown to whom it admits (a
# restricted page also refuses itself). Streamlit serves the default page at "/" only; the
# hidden alias makes "/overview", the path the README gives, open it too instead of
# "Page not found".
navigation = [
    st.Page(page_file(p.name), title=p.title, icon=p.icon, default=p is DEFAULT,
            url_path=f"{p.url_path}_home" if p is DEFAULT else p.url_path)
    for p in PAGES
    if p.visible_to(access)
]  # fmt: skip
navigation.append(st.Page(page_file(DEFAULT.name), title=DEFAULT.title, icon=DEFAULT.icon,
                          url_path=DEFAULT.url_path, visibility="hidden"))  # fmt: skip

page = st.navigation(navigation)

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
