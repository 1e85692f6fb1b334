"""A minimal gated app for the sign-in browser test until `app.py` calls `gate()`.

Like the dashboard it reads filters from the URL (`provider`, `region`), scopes them to the
signed-in user, makes one analytics call and offers the frame as an audited CSV download.
"""

from __future__ import annotations

import streamlit as st

from capwatch.analytics import dashboard
from capwatch.analytics.filters import Filters
from capwatch.ui.auth import gate, scope
from capwatch.ui.context import get_db
from capwatch.ui.download import download_csv

access = gate()
st.title("Providers")
filters = scope(
    Filters(
        providers=tuple(st.query_params.get_all("provider")),
        regions=tuple(st.query_params.get_all("region")),
    )
)
ranked = dashboard.providers(get_db(), filters).ranked
st.markdown(f"Provider codes: {', '.join(ranked['provider_code'].to_list()) or 'none'}")
st.markdown(f"Regions: {', '.join(sorted(set(ranked['region'].to_list()))) or 'none'}")
download_csv(ranked, "providers", filters, key="download")
