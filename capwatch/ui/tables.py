"""The pages' column vocabulary (one label and format per column name) and `show_table`.

`COLUMNS` gives every column that appears on more than one page its on-screen label and
format: money as £ with thousands separators, ratios as percentages, units as whole numbers
with separators. Which columns are money or percentages is `capwatch.columns`' knowledge (the
Excel downloads use the same). `show_table(frame, key=...)` draws a frame with the entries for
its columns; a page passes `overrides` for its own columns or a label that differs on that
page.

What a user sees is the house style (`capwatch.ui.format`), whatever the frame holds: every
column has a label (a column without an entry gets its name in words, never `check_name`),
service lines and activity types show their one label, empty text shows "–" (never `None`),
dates read "1 Jun 2020" (a timestamp at midnight is a date), percentages carry one decimal
place, and the name columns are pinned at a moderate width so that the figures a table is
ranked by stay on screen at 1440 px. The frame itself (and so the downloads) is unchanged.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import polars as pl
import streamlit as st

from capwatch.columns import Kind, measure
from capwatch.ui import format

if TYPE_CHECKING:
    from streamlit.elements.lib.column_types import ColumnConfig

Column: TypeAlias = "str | ColumnConfig | None"
"""A column's config as `st.dataframe` takes it: a label, a config, or None to hide it."""

GBP = "£%,.0f"
UNITS = "%,d"
PERCENT = "percent"
"""A ratio shown as a percentage; `show_table` draws it with one decimal place (22.7%)."""
PERCENT_SHOWN = "%.1f%%"
UK_DATE = "D MMM YYYY"
UK_MONTH = "MMM YYYY"
UK_DATETIME = "D MMM YYYY, HH:mm"
PINNED = ("rank", "provider_name", "provider", "region_name")
"""Columns kept in view while a wide table scrolls sideways (when the table has them)."""


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
    "rank": st.column_config.NumberColumn("#", width=40, pinned=True),
    "provider_code": st.column_config.TextColumn("Code", width=60),
    "provider_name": st.column_config.TextColumn("Provider", width="medium", pinned=True),
    "group": "Group",
    "region": "Region",
    "site_code": "Site",
    "service_line": "Service line",
    "activity_type": "Activity type",
    **{name: _number(name, label) for name, label in NUMBER_LABELS.items()},
    "profile": st.column_config.LinkColumn("Profile", display_text="Open"),
}


def _words(name: str) -> str:
    """A column name as a heading: first_week → First week, money_at_stake_gbp → Money at stake."""
    for suffix in ("_gbp", "_code", "_date"):
        if name.endswith(suffix) and name != suffix:
            name = name[: -len(suffix)] + (" code" if suffix == "_code" else "")
    return name.replace("_", " ").strip().capitalize()


def _default(name: str, dtype: pl.DataType) -> Column:
    """A column's config when no entry names it: a label in words and the house format."""
    label = _words(name)
    if dtype == pl.Date:
        return st.column_config.DateColumn(label, format=UK_DATE)
    if isinstance(dtype, pl.Datetime):
        return st.column_config.DatetimeColumn(label, format=UK_DATETIME)
    if dtype.is_numeric():
        named = measure(name)
        if named is not None or dtype.is_integer():
            return _number(name, label)
        return st.column_config.NumberColumn(label)
    return st.column_config.TextColumn(label)


def _settings(config: Column) -> dict[str, Any]:
    """A column config as a plain dict (empty for a bare label or None)."""
    return cast("dict[str, Any]", config) if isinstance(config, dict) else {}


def _type_setting(config: Column, key: str) -> Any:
    return (_settings(config).get("type_config") or {}).get(key)


def _is_percent(config: Column) -> bool:
    return bool(_type_setting(config, "format") == PERCENT)


def _midnight_only(column: pl.Series) -> bool:
    values = column.drop_nulls()
    return bool(values.is_empty() or (values.dt.truncate("1d") == values).all())


def _as_text(name: str, config: Column, col: pl.Expr) -> pl.Expr:
    """A numeric column with gaps as text in the house style, "–" for the gaps."""
    fmt = _type_setting(config, "format")
    show: Callable[[float | None], str] = format.units
    if fmt == PERCENT:
        show = format.pct
    elif fmt == GBP or measure(name) is Kind.MONEY:
        show = format.gbp
    return col.map_elements(show, return_dtype=pl.String, skip_nulls=False)


def shown(frame: pl.DataFrame, config: Mapping[str, Column]) -> pl.DataFrame:
    """The frame as a user reads it (labels, "–" for empty text, dates, percentages × 100)."""
    out = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if name == "service_line" and dtype == pl.String:
            col = col.map_elements(format.line_label, return_dtype=pl.String, skip_nulls=False)
        elif name == "activity_type" and dtype == pl.String:
            col = col.map_elements(format.activity_label, return_dtype=pl.String, skip_nulls=False)
        elif dtype == pl.String:
            col = col.fill_null(format.MISSING)
        elif (dtype == pl.Date or isinstance(dtype, pl.Datetime)) and frame[name].null_count():
            # a date with gaps as text: "1 Jun 2020", "–" where unknown (never "None")
            show = format.uk_date if _midnight_only(frame[name]) else format.uk_datetime
            col = col.map_elements(show, return_dtype=pl.String, skip_nulls=False)
        elif isinstance(dtype, pl.Datetime) and _midnight_only(frame[name]):
            col = col.dt.date()
        elif dtype.is_numeric() and frame[name].null_count():
            col = _as_text(name, config.get(name), col)  # "–", not "None", where unknown
        elif dtype.is_numeric() and _is_percent(config.get(name)):
            col = col * 100
        out.append(col.alias(name))
    return frame.select(out) if out else frame


def _as_shown(name: str, config: Column, dtype: pl.DataType) -> Column:
    """Percent columns with one decimal place; midnight timestamps as dates; numbers turned
    into text (for their gaps) right-aligned text."""
    settings = _settings(config)
    kind = _type_setting(config, "type")
    if dtype == pl.String and kind in ("number", "date", "datetime"):
        return st.column_config.TextColumn(
            settings.get("label"),
            alignment="right" if kind == "number" else None,
            pinned=settings.get("pinned"),
        )
    if _is_percent(config):
        shown_as = {**settings["type_config"], "format": PERCENT_SHOWN}
        return cast("ColumnConfig", {**settings, "type_config": shown_as})
    if dtype == pl.Date and kind == "datetime":
        return st.column_config.DateColumn(settings.get("label"), format=UK_DATE)
    return config


def column_config(frame: pl.DataFrame, overrides: Mapping[str, Column] | None) -> dict[str, Column]:
    """Every column of `frame`: an override, else `COLUMNS`' entry, else a default."""
    config: dict[str, Column] = {}
    for name, dtype in frame.schema.items():
        if overrides and name in overrides:
            config[name] = overrides[name]
        elif name in COLUMNS:
            config[name] = COLUMNS[name]
        else:
            config[name] = _default(name, dtype)
        label = config[name]
        if isinstance(label, str):  # a bare label: give it the house format too
            config[name] = cast(
                "ColumnConfig", {**_settings(_default(name, dtype)), "label": label}
            )
    return config


def show_table(
    frame: pl.DataFrame,
    *,
    key: str,
    height: int | None = None,
    overrides: Mapping[str, Column] | None = None,
    **options: Any,
) -> Any:
    """`st.dataframe` without the index, in the house style, with `COLUMNS`' entries for the
    frame's columns and then `overrides`; `options` (e.g. `on_select`, `selection_mode`,
    `width`) pass through. Returns what `st.dataframe` returns: the selection event when
    `on_select` is set. Row positions in the event are the frame's."""
    config = column_config(frame, overrides)
    display = shown(frame, config)
    final = {name: _as_shown(name, config[name], display.schema[name]) for name in display.columns}
    if height is not None:
        options["height"] = height
    return st.dataframe(display, hide_index=True, column_config=final, key=key, **options)


def show_raw_table(frame: pl.DataFrame, *, key: str, **options: Any) -> Any:
    """`st.dataframe` of a frame whose column names are the user's own (SQL results): names
    and values as they are, but dates in UK style and a timestamp at midnight as a date."""
    display = frame.with_columns(
        pl.col(name).dt.date()
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and _midnight_only(frame[name])
    )
    config: dict[str, Column] = {
        name: st.column_config.DateColumn(name, format=UK_DATE)
        for name, dtype in display.schema.items()
        if dtype == pl.Date
    }
    return st.dataframe(display, hide_index=True, column_config=config, key=key, **options)


PRINT_ONLY = "capwatch-print-only"
"""Class of an element shown only when printing (see `capwatch.ui.styles`)."""


def _print_cell(name: str, value: Any) -> str:
    if value is None:
        return format.MISSING
    if name.endswith("_gbp"):
        return format.gbp(float(value))
    if name == "utilisation" or name.endswith("_share"):
        return format.pct(float(value))
    if isinstance(value, date):
        return format.uk_date(value)
    return str(value)


def print_table(frame: pl.DataFrame, labels: Mapping[str, str]) -> None:
    """A plain HTML copy of a table, shown only when the page is printed: the grid on
    screen is drawn on a canvas and would be cut to the columns that fit the paper."""
    names = [c for c in labels if c in frame.columns]
    head = "".join(f"<th>{html.escape(labels[c])}</th>" for c in names)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_print_cell(c, row[c]))}</td>" for c in names) + "</tr>"
        for row in frame.select(names).iter_rows(named=True)
    )
    st.html(
        f'<table class="{PRINT_ONLY}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )
