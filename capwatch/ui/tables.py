"""The pages' column vocabulary (one label and format per column name) and `show_table`.

`COLUMNS` gives every column that appears on more than one page its on-screen label and
format: money as £ with thousands separators, ratios as percentages, units as whole numbers
with separators. Which columns are money or percentages is `capwatch.columns`' knowledge (the
Excel downloads use the same). `show_table(frame, key=...)` draws a frame with the entries for
its columns; a page passes `overrides` for its own columns or a label that differs on that
page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

import polars as pl
import streamlit as st

from capwatch.columns import Kind, measure

if TYPE_CHECKING:
    from streamlit.elements.lib.column_types import ColumnConfig

Column: TypeAlias = "str | ColumnConfig | None"
"""A column's config as `st.dataframe` takes it: a label, a config, or None to hide it."""

GBP = "£%,.0f"
UNITS = "%,d"
PERCENT = "percent"


def _number(name: str, label: str) -> ColumnConfig:
    """A number column formatted by what it holds (`capwatch.columns`): £, % or whole units."""
    fmt = {Kind.MONEY: GBP, Kind.PERCENT: PERCENT}.get(measure(name) or Kind.INTEGER, UNITS)
    return st.column_config.NumberColumn(label, format=fmt)


NUMBER_LABELS: dict[str, str] = {
    "capacity_units": "Capacity",
    "nhs_units": "NHS units",
    "private_units": "Private units",
    "nhs_units_meeting_capacity": "NHS units against it",
    "capacity_value_gbp": "Capacity value",
    "nhs_value_gbp": "NHS value",
    "unused_capacity_cost_gbp": "Unused cost",
    "contract_value_gbp": "Contract value",
    "utilisation": "Utilisation",
    "unused_share": "Unused share",
    "private_share": "Private share",
}
"""On-screen labels of the numeric columns; their format follows `capwatch.columns.measure`."""

COLUMNS: dict[str, Column] = {
    "rank": st.column_config.NumberColumn("#", width="small"),
    "provider_code": "Code",
    "provider_name": "Provider",
    "group": "Group",
    "region": "Region",
    "site_code": "Site",
    "service_line": "Service line",
    "activity_type": "Activity type",
    **{name: _number(name, label) for name, label in NUMBER_LABELS.items()},
    "profile": st.column_config.LinkColumn("Profile", display_text="Open"),
}


def show_table(
    frame: pl.DataFrame,
    *,
    key: str,
    height: int | None = None,
    overrides: Mapping[str, Column] | None = None,
    **options: Any,
) -> Any:
    """`st.dataframe` without the index, with `COLUMNS`' entries for the frame's columns and
    then `overrides`; `options` (e.g. `on_select`, `selection_mode`, `width`) pass through.
    Returns what `st.dataframe` returns: the selection event when `on_select` is set."""
    config = {name: COLUMNS[name] for name in frame.columns if name in COLUMNS}
    config.update(overrides or {})
    if height is not None:
        options["height"] = height
    return st.dataframe(frame, hide_index=True, column_config=config, key=key, **options)
