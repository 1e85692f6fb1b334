"""CSV download buttons: exactly the frame shown, raw numbers, a name that says what it is."""

from __future__ import annotations

import re

import polars as pl
import streamlit as st

from capwatch.analytics.filters import Filters
from capwatch.export import csv_bytes


def csv_filename(what: str, filters: Filters) -> str:
    """e.g. `capwatch_providers_2020-06-01_to_2020-09-21_London.csv`."""
    raw = f"capwatch_{what}_{filters.describe()}"
    return re.sub(r"[^A-Za-z0-9_.+-]", "-", raw)[:150] + ".csv"


def download_csv(frame: pl.DataFrame, what: str, filters: Filters, *, key: str) -> None:
    """A download button for `frame` as CSV (`capwatch.export.csv_bytes`: formula-safe, numbers
    unformatted); the download is audited."""
    st.download_button(
        f"Download CSV ({frame.height:,} row{'' if frame.height == 1 else 's'})",
        data=csv_bytes(frame),
        file_name=csv_filename(what, filters),
        mime="text/csv",
        key=key,
        icon=":material/download:",
        on_click=_audit,
        args=(what, csv_filename(what, filters), frame.height, filters),
    )


def _audit(what: str, file_name: str, rows: int, filters: Filters) -> None:
    from capwatch.ui import auth  # auth builds on this module

    auth.record_download(what, file_name, rows, filters)
