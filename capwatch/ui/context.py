"""The one read-only database handle the app shares between sessions."""

from __future__ import annotations

import streamlit as st

from capwatch import config
from capwatch.db import Database


@st.cache_resource(show_spinner=False)
def _database(path: str) -> Database:
    return Database(path)


def get_db() -> Database:
    """The shared reader for the configured database (`$CAPWATCH_DB` or data/capacity.duckdb).

    `Database` hands each query its own cursor, so one handle serves every session safely,
    and it reopens the file when a load has swapped a new one in.
    """
    return _database(str(config.resolve_db_path().resolve()))
