"""Download buttons: exactly the frame shown, as CSV and as an Excel workbook, audited.

The CSV is `capwatch.export.csv_bytes` (byte-order mark so Excel reads `£` right, formula-safe,
numbers unformatted); the workbook is `capwatch.export.xlsx_bytes` (typed and formatted cells,
an `About` sheet with the filters, the period, when it was made and the data's load ids),
built only when its button is clicked. Both are named after what they hold and the filters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl
import streamlit as st

from capwatch import export, xlsx
from capwatch.analytics.filters import Filters
from capwatch.errors import CapwatchError
from capwatch.export import csv_bytes, provenance, xlsx_bytes
from capwatch.ui import auth
from capwatch.ui.context import cached

CSV_MIME = "text/csv"


def file_stem(what: str, filters: Filters) -> str:
    """e.g. `capwatch_providers_2020-06-01_to_2020-09-21_London`."""
    raw = f"capwatch_{what}_{filters.describe()}"
    return re.sub(r"[^A-Za-z0-9_.+-]", "-", raw)[:150]


def csv_filename(what: str, filters: Filters) -> str:
    """e.g. `capwatch_providers_2020-06-01_to_2020-09-21_London.csv`."""
    return file_stem(what, filters) + ".csv"


def data_loads() -> export.Loads | None:
    """The data's load ids for a workbook's `About` sheet (None if they cannot be read)."""
    try:
        return cached(export.loads)
    except CapwatchError:
        return None


def _rows(n: int) -> str:
    return f"{n:,} row{'' if n == 1 else 's'}"


def excel_button(
    make: Callable[[], bytes], file_name: str, rows: int, *, key: str, audit: tuple[Any, ...]
) -> None:
    """An Excel download built by `make` when clicked (audited: `auth.audit_download(*audit)`),
    or a disabled button saying why not when `rows` will not fit on a sheet."""
    if rows > xlsx.MAX_DATA_ROWS:
        st.button(
            "Excel (.xlsx)",
            disabled=True,
            key=key,
            icon=":material/table_view:",
            help=xlsx.too_many_rows_message(rows),
        )
        return
    st.download_button(
        "Excel (.xlsx)",
        data=make,
        file_name=file_name,
        mime=xlsx.MIME,
        key=key,
        icon=":material/table_view:",
        on_click=auth.audit_download,
        args=audit,
    )


def download_table(
    frame: pl.DataFrame,
    what: str,
    filters: Filters,
    *,
    key: str,
    extra: Sequence[tuple[str, str]] = (),
) -> None:
    """CSV and Excel download buttons for `frame`, side by side; each download is audited.

    `extra` adds lines to the workbook's `About` sheet (e.g. rule settings). The CSV button
    has `key`, the Excel one `key` + `_xlsx`.
    """
    stem = file_stem(what, filters)
    rows = frame.height
    data = data_loads()
    access = auth.current_access()
    made_for = access.email if access is not None else None

    def workbook() -> bytes:
        about = provenance(
            what.replace("_", " "), rows=rows, filters=filters.provenance(), data=data,
            extra=extra,
            made_for=made_for,
        )  # fmt: skip
        return xlsx_bytes(frame, what, about)

    with st.container(horizontal=True, gap="small"):
        st.download_button(
            f"Download CSV ({_rows(rows)})",
            data=csv_bytes(frame),
            file_name=f"{stem}.csv",
            mime=CSV_MIME,
            key=key,
            icon=":material/download:",
            on_click=auth.audit_download,
            args=(what, f"{stem}.csv", rows, filters),
        )
        excel_button(
            workbook,
            f"{stem}.xlsx",
            rows,
            key=f"{key}_xlsx",
            audit=(what, f"{stem}.xlsx", rows, filters),
        )


def download_template(table: str, template_csv: str, *, key: str) -> None:
    """An input template (header and an example row) as CSV and as an Excel workbook whose
    cells are all text; each download is audited (`template_<table>`, one row)."""
    stem = f"{table}_template"
    what = f"template_{table}"
    detail = {"template": table}
    with st.container(gap="small"):
        st.download_button(
            f"{table}.csv",
            data=export.template_csv_bytes(template_csv),
            file_name=f"{stem}.csv",
            mime=CSV_MIME,
            key=key,
            icon=":material/download:",
            on_click=auth.audit_download,
            args=(what, f"{stem}.csv", 1, detail),
        )
        excel_button(
            lambda: export.template_xlsx_bytes(table, template_csv), f"{stem}.xlsx", 1,
            key=f"{key}_xlsx", audit=(what, f"{stem}.xlsx", 1, detail),
        )  # fmt: skip
