"""What each column holds, by name and type: money, a percentage, a count, a date, text.

The one place that knows it: the dashboard's tables (`capwatch.ui.tables`) format money as £
and ratios as percentages from it, and the Excel workbooks (`capwatch.xlsx`) give each cell
its number format from it. The rules follow the data dictionary's naming (`capwatch.schema`):
every money column ends in `_gbp`, every ratio shown as a percentage is named in
`PERCENT_COLUMNS` or ends in `_share`. Nothing here imports Streamlit or Polars.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """How a column's values are meant to be read."""

    TEXT = "text"
    INTEGER = "integer"  # counts and identifiers: whole numbers
    NUMBER = "number"  # any other number, shown as it is
    MONEY = "money"  # £
    PERCENT = "percent"  # a ratio (0.25) read as a percentage (25%)
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"


class Family(StrEnum):
    """A column's storage type, whatever the library (Polars, Arrow, DuckDB) calls it."""

    TEXT = "text"
    INTEGER = "integer"
    FLOAT = "float"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    OTHER = "other"  # times, intervals, lists, ...: written as text


MONEY_SUFFIX = "_gbp"
PERCENT_COLUMNS = frozenset({"utilisation", "unused_share", "private_share"})
PERCENT_SUFFIX = "_share"


def measure(name: str) -> Kind | None:
    """MONEY or PERCENT when the column's name says so, else None (the type decides)."""
    if name.endswith(MONEY_SUFFIX):
        return Kind.MONEY
    if name in PERCENT_COLUMNS or name.endswith(PERCENT_SUFFIX):
        return Kind.PERCENT
    return None


def kind(name: str, family: Family) -> Kind:
    """What a column holds: its name decides for numbers (money, percentage), else its type."""
    if family in (Family.INTEGER, Family.FLOAT):
        named = measure(name)
        if named is not None:
            return named
        return Kind.INTEGER if family is Family.INTEGER else Kind.NUMBER
    return {
        Family.DATE: Kind.DATE,
        Family.DATETIME: Kind.DATETIME,
        Family.BOOLEAN: Kind.BOOLEAN,
    }.get(family, Kind.TEXT)
