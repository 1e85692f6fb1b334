"""Download buttons: exactly the frame shown, as CSV and as an Excel workbook, audited.

The CSV is `capwatch.export.csv_bytes` (byte-order mark so Excel reads `£` right, formula-safe,
numbers unformatted); the workbook is `capwatch.export.xlsx_bytes` (typed and formatted cells,
an `About` sheet with the filters, the period, when it was made and the data's load ids),
both built only when their button is clicked, without a rerun. Both are named after what
they hold and the filters, and say when the data are synthetic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl
import streamlit as st

from capwatch import export, xlsx
from capwatch.analytics import reference
from capwatch.analytics.filters import Filters
from capwatch.errors import CapwatchError
from capwatch.export import csv_bytes, provenance, xlsx_bytes
from capwatch.ui import auth
from capwatch.ui.context import cached

CSV_MIME = "text/csv"


def file_stem(what: str, filters: Filters, *, synthetic: bool = False) -> str:
    """e.g. `capwatch_providers_2020-06-01_to_2020-09-21_London`, and
    `capwatch-synthetic_providers_...` when the data are the demo's synthetic world."""
    prefix = "capwatch-synthetic" if synthetic else "capwatch"
    raw = f"{prefix}_{what}_{filters.describe()}"
    return re.sub(r"[^A-Za-z0-9_.+-]", "-", raw)[:150]


def csv_filename(what: str, filters: Filters, *, synthetic: bool = False) -> str:
    """e.g. `capwatch_providers_2020-06-01_to_2020-09-21_London.csv`."""
    return file_stem(what, filters, synthetic=synthetic) + ".csv"


def data_loads() -> export.Loads | None:
    """The data's load ids for a workbook's `About` sheet (None if they cannot be read)."""
    try:
        return cached(export.loads)
    except CapwatchError:
        return None


def data_are_synthetic() -> bool:
    """True when the contract data are the demo's synthetic world, as the sidebar badge says
    (`reference.is_synthetic`); False when that cannot be read."""
    try:
        return cached(reference.is_synthetic)
    except CapwatchError:
        return False


def _rows(n: int) -> str:
    return f"{n:,} row{'' if n == 1 else 's'}"


def audited(make: Callable[[], bytes], audit: tuple[Any, ...]) -> Callable[[], bytes]:
    """`make`, recording the download (`auth.record_download_by(who, *audit)`) when the
    file is made, on click. The user is captured now: the file is made on another thread."""
    who = auth.who()

    def made() -> bytes:
        auth.record_download_by(who, *audit)
        return make()

    return made


def file_button(
    label: str, make: Callable[[], bytes], file_name: str, mime: str, *, key: str,
    icon: str, audit: tuple[Any, ...],
) -> None:  # fmt: skip
    """A download whose file is made (and audited) when clicked, without a rerun.

    A rerun would give every deferred button on the page a new file id and revoke the old
    one: a second download clicked before the browser has the new ids (an Excel 0.3 s after
    a CSV) asked for a revoked id and got nothing (`Deferred file ... not found`).
    """
    st.download_button(
        label, data=audited(make, audit), file_name=file_name, mime=mime, key=key,
        icon=icon, on_click="ignore",
    )  # fmt: skip


def csv_button(
    label: str, make: Callable[[], bytes], file_name: str, *, key: str, audit: tuple[Any, ...]
) -> None:
    """A CSV download (`file_button`)."""
    file_button(label, make, file_name, CSV_MIME, key=key, icon=":material/download:",
                audit=audit)  # fmt: skip


def excel_button(
    make: Callable[[], bytes], file_name: str, rows: int, *, key: str, audit: tuple[Any, ...]
) -> None:
    """An Excel download built by `make` when clicked (`file_button`), or a disabled button
    saying why not when `rows` will not fit on a sheet."""
    if rows > xlsx.MAX_DATA_ROWS:
        st.button(
            "Excel (.xlsx)",
            disabled=True,
            key=key,
            icon=":material/table_view:",
            help=xlsx.too_many_rows_message(rows),
        )
        return
    file_button("Excel (.xlsx)", make, file_name, xlsx.MIME, key=key,
                icon=":material/table_view:", audit=audit)  # fmt: skip


def download_table(
    frame: pl.DataFrame,
    what: str,
    filters: Filters,
    *,
    key: str,
    extra: Sequence[tuple[str, str]] = (),
    published: bool = False,
) -> None:
    """CSV and Excel download buttons for `frame`, side by side; each download is audited.

    `extra` adds lines to the workbook's `About` sheet (e.g. rule settings). Files of the
    demo's synthetic data say so in their name and `About` sheet, unless `published` (real
    NHS England data, e.g. DM01). The CSV button has `key`, the Excel one `key` + `_xlsx`.
    """
    synthetic = not published and data_are_synthetic()
    stem = file_stem(what, filters, synthetic=synthetic)
    rows = frame.height
    data = data_loads()
    access = auth.current_access()
    made_for = access.email if access is not None else None

    def workbook() -> bytes:
        about = provenance(
            what.replace("_", " "), rows=rows, filters=filters.provenance(), data=data,
            extra=extra,
            made_for=made_for,
            synthetic=synthetic,
        )  # fmt: skip
        return xlsx_bytes(frame, what, about)

    with st.container(horizontal=True, gap="small"):
        csv_button(
            f"Download CSV ({_rows(rows)})",
            lambda: csv_bytes(frame),
            f"{stem}.csv",
            key=key,
            audit=(what, f"{stem}.csv", rows, filters),
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
        csv_button(
            f"{table}.csv",
            lambda: export.template_csv_bytes(template_csv),
            f"{stem}.csv",
            key=key,
            audit=(what, f"{stem}.csv", 1, detail),
        )
        excel_button(
            lambda: export.template_xlsx_bytes(table, template_csv), f"{stem}.xlsx", 1,
            key=f"{key}_xlsx", audit=(what, f"{stem}.xlsx", 1, detail),
        )  # fmt: skip
