"""Turn text columns into typed, normalised ones, flagging every value that cannot be read.

For each contract column `c` the normalised frame holds the typed `c` and a boolean `_bad_c`
that is true where the value is missing but required, or present but invalid. Flags are counted
in the same pass that aggregates the data; messages are written only for rows that need one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import polars as pl

from capwatch.contract import FUNDING, REGIONS, SERVICE_LINES, InputColumn, InputTable, Kind

MAX_UNITS = 1_000_000
MAX_PEOPLE = 100_000_000  # people waiting in a region: England's lists are a few million
MAX_MONEY_GBP = 10_000_000_000
MAX_TEXT = 500
MAX_LABEL = 100
LABEL = "activity_label"
_CONTROL = r"[\p{Cc}\p{Cf}]"  # tabs, line breaks, other control and invisible format characters
FIRST_YEAR, LAST_YEAR = 2000, 2099

_REGION_KEYS = {re.sub(r"[^a-z]", "", r.lower()): r for r in REGIONS}


def bad(name: str) -> str:
    """Name of the flag column for column `name`."""
    return f"_bad_{name}"


def _text(c: str) -> pl.Expr:
    """Trimmed text, with empty strings read as missing."""
    t = pl.col(c).str.strip_chars()
    return pl.when(t.str.len_chars() > 0).then(t)


def _snake(c: str) -> pl.Expr:
    """Lower case, spaces and hyphens as underscores: 'Day case' → day_case."""
    return _text(c).str.to_lowercase().str.replace_all(r"[\s\-]+", "_")


def activity_key(label: pl.Expr) -> pl.Expr:
    """The key an activity type label is matched by: lower case, every run of characters that
    are not letters or digits read as one underscore, none at the ends. 'T&O', 't&o ' and
    'T & O' are all t_o; 'Gastroscopy (OGD)' is gastroscopy_ogd; 'mri' stays mri."""
    return label.str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", "_").str.strip_chars("_")


def _number(c: str) -> pl.Expr:
    """A number, allowing a £ sign, spaces and thousands separators (1,234.50)."""
    t = _text(c).str.replace_all(r"[£\s]", "")
    t = (
        pl.when(t.str.contains(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$"))
        .then(t.str.replace_all(",", ""))
        .otherwise(t)
    )
    # Plain decimals only: "1.2E+06" (Excel's display of a wide number) has lost digits.
    return pl.when(t.str.contains(r"^[+-]?(\d+\.?\d*|\.\d+)$")).then(t).cast(pl.Float64)


def _date(c: str) -> pl.Expr:
    """ISO 8601 (2020-06-01, time part ignored) or UK day-first (01/06/2020)."""
    t = _text(c)
    iso = t.str.extract(r"^(\d{4}-\d{2}-\d{2})(?:[ T][\d:.]*)?$", 1).str.strptime(
        pl.Date, "%Y-%m-%d", strict=False
    )
    uk = (
        t.str.extract(r"^(\d{1,2}/\d{1,2}/\d{4})$", 1)
        .str.replace(r"^(\d)/", "0$1/")
        .str.replace(r"/(\d)/", "/0$1/")
        .str.strptime(pl.Date, "%d/%m/%Y", strict=False)
    )
    d = pl.coalesce(iso, uk)
    return pl.when(d.dt.year().is_between(FIRST_YEAR, LAST_YEAR)).then(d)


def _value(col: InputColumn) -> tuple[pl.Expr, pl.Expr]:
    """(typed value, is-valid-when-present) for one column."""
    c = col.name
    kind: Kind = col.kind
    if kind in ("provider_code", "site_code", "identifier"):
        v = _text(c).str.to_uppercase() if kind != "identifier" else _text(c)
        pattern = {
            "provider_code": r"^[A-Z0-9]{3,5}$",
            "site_code": r"^[A-Z0-9]{5}$",
            "identifier": r"^.{1,50}$",
        }[kind]
        return v, v.str.contains(pattern)
    if kind == "text":
        v = _text(c)
        return v, v.str.len_chars() <= MAX_TEXT
    if kind == "region":
        key = _text(c).str.to_lowercase().str.replace_all("&", "and").str.replace_all(r"[^a-z]", "")
        v = key.replace_strict(_REGION_KEYS, default=None, return_dtype=pl.String)
        return v, v.is_not_null()
    if kind in ("service_line", "funding"):
        allowed = SERVICE_LINES if kind == "service_line" else FUNDING
        v = _snake(c)
        return v, v.is_in(allowed)
    if kind == "activity_type":
        label = _text(c)
        key = activity_key(label)
        ok = (
            ~label.str.contains(_CONTROL)
            & (label.str.len_chars() <= MAX_LABEL)
            & (key.str.len_chars() > 0)
        )
        return key.fill_null(""), ok
    if kind in ("date", "monday"):
        v = _date(c)
        ok = v.is_not_null() & (v.dt.weekday() == 1) if kind == "monday" else v.is_not_null()
        return v, ok
    if kind in ("units", "people"):
        n = _number(c)
        limit = MAX_UNITS if kind == "units" else MAX_PEOPLE
        ok = n.is_finite() & (n >= 0) & (n == n.floor()) & (n <= limit)
        return pl.when(ok).then(n).cast(pl.Int64), ok
    if kind == "money":
        n = _number(c)
        return n, n.is_finite() & (n >= 0) & (n <= MAX_MONEY_GBP)
    if kind in ("latitude", "longitude"):
        n = _number(c)
        limit = 90 if kind == "latitude" else 180
        return n, n.is_finite() & n.abs().le(limit)
    raise ValueError(f"unknown column kind {kind}")


def _typed(col: InputColumn) -> list[pl.Expr]:
    """The typed value named `col.name` and its `_bad_` flag from the raw text column; for an
    activity type also its label as written (trimmed), kept for display."""
    value, valid = _value(col)
    present_raw = _text(col.name).is_not_null()
    flag = pl.when(present_raw).then(~valid.fill_null(False)).otherwise(pl.lit(col.required))
    out = [value.alias(col.name), flag.alias(bad(col.name))]
    if col.kind == "activity_type":
        out.append(_text(col.name).fill_null("").alias(LABEL))
    return out


def _defaults(lf: pl.LazyFrame, table: InputTable) -> pl.LazyFrame:
    """Empty values of a column with a default (`catalogue.InputColumn.default`) read as it."""
    filled = [pl.col(c.name).fill_null(c.default) for c in table.columns if c.default is not None]
    return lf.with_columns(filled) if filled else lf


def normalise(lf: pl.LazyFrame, table: InputTable) -> pl.LazyFrame:
    """Typed columns plus a `_bad_<column>` flag for each; optional columns filled with defaults."""
    present = set(lf.collect_schema().names())
    missing_optional = [c for c in table.columns if c.name not in present]
    lf = lf.with_columns(pl.lit(None, pl.String).alias(c.name) for c in missing_optional)
    lf = lf.with_columns(e for col in table.columns for e in _typed(col))
    return _defaults(lf, table)


def normalise_distinct(frame: pl.DataFrame, table: InputTable) -> pl.DataFrame:
    """As `normalise`, for rows that repeat a few values in each column (events counted by raw
    row): each column's distinct values are normalised once and joined back, so the cost
    follows the number of distinct values (sites, days...), not of rows."""
    out = frame.lazy()
    for col in table.columns:
        if col.name not in frame.columns:
            continue
        value, *others = _typed(col)
        lookup = (
            frame.lazy()
            .select(pl.col(col.name).unique())
            .with_columns(value.alias("_typed"), *others)
        )
        out = (
            out.join(lookup, on=col.name, how="left", nulls_equal=True)
            .drop(col.name)
            .rename({"_typed": col.name})
        )
    missing = [c for c in table.columns if c.name not in frame.columns]
    out = out.with_columns(pl.lit(None, pl.String).alias(c.name) for c in missing)
    out = out.with_columns(e for c in missing for e in _typed(c))
    return _defaults(out, table).collect()


def flag_columns(table: InputTable) -> list[str]:
    return [bad(c.name) for c in table.columns]


_ADVICE: dict[Kind, Callable[[InputColumn], str]] = {
    "provider_code": lambda _: "a provider code is 3 to 5 letters or digits, e.g. NX1",
    "site_code": lambda _: "a site code is 5 letters or digits, e.g. NX101",
    "identifier": lambda _: "an identifier is 1 to 50 characters",
    "text": lambda _: f"text must be at most {MAX_TEXT} characters",
    "region": lambda _: "use one of the NHS England regions: " + ", ".join(REGIONS),
    "service_line": lambda _: "use one of " + ", ".join(SERVICE_LINES),
    "funding": lambda _: "use nhs or private",
    "activity_type": lambda _: (
        f"write the type in up to {MAX_LABEL} characters with at least one letter or digit, "
        "e.g. MRI or T&O, or leave it empty for none"
    ),
    "date": lambda _: f"use YYYY-MM-DD or DD/MM/YYYY, years {FIRST_YEAR}–{LAST_YEAR}",
    "monday": lambda _: (
        "use the date of the Monday that starts the week (YYYY-MM-DD or DD/MM/YYYY)"
    ),
    "units": lambda _: f"use a whole number from 0 to {MAX_UNITS:,}",
    "people": lambda _: f"use a whole number from 0 to {MAX_PEOPLE:,}",
    "money": lambda _: "use an amount in pounds of 0 or more, e.g. 1250.50",
    "latitude": lambda _: "use decimal degrees between -90 and 90",
    "longitude": lambda _: "use decimal degrees between -180 and 180",
}


_US_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/\d{4}\s*$")


def explain(col: InputColumn, raw: str | None) -> str:
    """The message for a flagged value: what is wrong and what to write instead."""
    if raw is None or not raw.strip():
        return f"{col.name} is empty but required"
    shown = raw if len(raw) <= 40 else raw[:37] + "..."
    if col.kind == "text" and len(raw.strip()) > MAX_TEXT:
        return (
            f"{col.name} has {len(raw.strip()):,} characters: {_ADVICE[col.kind](col)}; shorten it"
        )
    if col.kind == "activity_type":
        special = _explain_label(col, raw.strip())
        if special:
            return special
    message = f"{shown!r} is not a valid {col.name}: {_ADVICE[col.kind](col)}"
    us = _US_DATE.match(raw) if col.kind in ("date", "monday") else None
    if us and int(us[1]) <= 12 < int(us[2]) <= 31:
        message += f" ({shown!r} looks month-first, as in the US; dates here are day-first)"
    return message


def _explain_label(col: InputColumn, label: str) -> str | None:
    """A control character or an over-long label, said plainly (None: the general message)."""
    for i, ch in enumerate(label):
        if unicodedata.category(ch) in ("Cc", "Cf"):  # as _CONTROL
            return (
                f"{col.name} {label[:40]!r} holds a control character ({ch!r}, character "
                f"{i + 1}), e.g. a tab or line break inside the cell: remove it"
            )
    if len(label) > MAX_LABEL:
        return (
            f"{col.name} has {len(label):,} characters: an activity type is at most "
            f"{MAX_LABEL} characters; shorten it"
        )
    return None
