"""A data sheet's rows as SpreadsheetML, built a whole column at a time with Polars.

XlsxWriter writes one cell per Python call (a few microseconds each: a 266k-row, 9-column
view took over 40 s). Here each column becomes its cells' XML in one Polars expression and
each batch of rows one string, so no Python runs per cell; `capwatch.xlsx` puts the rows into
the sheet XlsxWriter wrote around them (styles, header, widths, the About sheet).

What a cell holds, as XlsxWriter would write it in constant-memory mode:
- cells in column order without a reference (`r`, optional in the format: it is most of the
  XML's size), an empty cell as `<c/>`;
- numbers as `<v>` with the column's number format (`s`); NaN and null as no cell; an
  infinity as the text `inf` / `-inf` (Excel has none);
- dates and times as Excel serial numbers (days since 30 Dec 1899; time zones as UTC),
  with the date format; a date before 1 Mar 1900 (Excel's leap-year bug) as ISO text;
- booleans as `t="b"`;
- text as an inline string, XML-escaped, control characters as `_xHHHH_` (and a literal
  `_xHHHH_` protected as `_x005F_xHHHH_`), cut at Excel's 32,767 characters; text that a
  spreadsheet would take for a formula carries the quote-prefix style.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from capwatch.columns import Kind

MAX_CELL_CHARS = 32_767
FORMULA_START = r"^[=+\-@\t\r]"  # the same rule as `capwatch.export`
EXCEL_DAY_OF_UNIX_EPOCH = 25_569  # 1 Jan 1970 as an Excel serial day
FIRST_TRUE_SERIAL = 61  # 1 Mar 1900: earlier serials are off by Excel's phantom 29 Feb 1900
MICROS_PER_DAY = 86_400_000_000
EMPTY_CELL = "<c/>"  # cells carry no reference (`r`): an empty one holds its column's place
NUMBER_KINDS = (Kind.MONEY, Kind.PERCENT, Kind.INTEGER, Kind.NUMBER)

_CONTROL = [chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20)]] + ["\ufffe", "\uffff"]
_ESCAPES = ["&", "<", ">", *_CONTROL]
_ESCAPED = ["&amp;", "&lt;", "&gt;", *(f"_x{ord(c):04X}_" for c in _CONTROL)]


@dataclass(frozen=True)
class CellStyles:
    """Style (xf) indexes: one per column (None: no number format) and the quote prefix."""

    columns: tuple[int | None, ...]
    quote_prefix: int


def column_letters(col: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = string.ascii_uppercase[rest] + letters
    return letters


def _style(index: int | None) -> str:
    return "" if index is None else f' s="{index}"'


def _escaped(text: pl.Expr) -> pl.Expr:
    return (
        text.str.slice(0, MAX_CELL_CHARS)
        .str.replace_all(r"(_x[0-9A-Fa-f]{4}_)", "_x005F$1")
        .str.replace_many(_ESCAPES, _ESCAPED)
    )


def _inline(text: pl.Expr, style: pl.Expr) -> pl.Expr:
    spaced = text.str.contains(r"^\s|\s$")
    return pl.concat_str(
        pl.lit("<c"), style, pl.lit(' t="inlineStr"><is><t'),
        pl.when(spaced).then(pl.lit(' xml:space="preserve"')).otherwise(pl.lit("")),
        pl.lit(">"), _escaped(text), pl.lit("</t></is></c>"),
    )  # fmt: skip


def _value(value: pl.Expr, style: int | None, kind_attr: str = "") -> pl.Expr:
    return pl.concat_str(pl.lit(f"<c{_style(style)}{kind_attr}><v>"), value, pl.lit("</v></c>"))


def _cell(name: str, dtype: pl.DataType, kind_: Kind, styles: CellStyles, i: int) -> pl.Expr:
    col = pl.col(name)
    style = styles.columns[i]
    no_style = pl.lit("")
    if kind_ in NUMBER_KINDS:
        if dtype.is_integer():
            return _value(col.cast(pl.String), style)
        number = col.cast(pl.Float64)
        return (
            pl.when(number.is_infinite())
            .then(
                _inline(pl.when(number > 0).then(pl.lit("inf")).otherwise(pl.lit("-inf")), no_style)
            )
            .when(number.is_not_nan())
            .then(_value(number.cast(pl.String), style))
        )
    if kind_ is Kind.DATE:
        serial = col.cast(pl.Date).cast(pl.Int32) + EXCEL_DAY_OF_UNIX_EPOCH
        return (
            pl.when(serial >= FIRST_TRUE_SERIAL)
            .then(_value(serial.cast(pl.String), style))
            .otherwise(_inline(col.cast(pl.Date).dt.strftime("%Y-%m-%d"), no_style))
        )
    if kind_ is Kind.DATETIME:
        plain = col
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
            plain = col.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        micros = plain.dt.epoch("us")
        serial = micros / MICROS_PER_DAY + EXCEL_DAY_OF_UNIX_EPOCH
        return (
            pl.when(serial >= FIRST_TRUE_SERIAL)
            .then(_value(serial.cast(pl.String), style))
            .otherwise(_inline(plain.dt.strftime("%Y-%m-%d %H:%M:%S"), no_style))
        )
    if kind_ is Kind.BOOLEAN:
        return _value(col.cast(pl.Int8).cast(pl.String), None, ' t="b"')
    text = col if dtype == pl.String else col.cast(pl.String)
    quoted = (
        pl.when(text.str.contains(FORMULA_START))
        .then(pl.lit(f' s="{styles.quote_prefix}"'))
        .otherwise(pl.lit(""))
    )
    return _inline(text, quoted)


def as_text(frame: pl.DataFrame, kinds: Sequence[Kind]) -> pl.DataFrame:
    """`frame` with every column that is written as text but not stored as text cast to it
    (times, intervals, lists: through Python's `str` where Polars has no cast)."""
    casts = []
    for (name, dtype), kind_ in zip(frame.schema.items(), kinds, strict=True):
        if kind_ is Kind.TEXT and dtype != pl.String:
            try:
                frame.select(pl.col(name).head(1).cast(pl.String))
                casts.append(pl.col(name).cast(pl.String))
            except pl.exceptions.PolarsError:
                casts.append(pl.col(name).map_elements(str, return_dtype=pl.String))
    return frame.with_columns(casts) if casts else frame


def rows_xml(frame: pl.DataFrame, kinds: Sequence[Kind], styles: CellStyles, first_row: int) -> str:
    """`frame`'s rows as `<row>` elements, the first numbered `first_row` (1-based)."""
    if frame.height == 0:
        return ""
    frame = as_text(frame, kinds)
    number = pl.int_range(first_row, first_row + frame.height, dtype=pl.Int64).cast(pl.String)
    cells = []
    for i, ((name, dtype), kind_) in enumerate(zip(frame.schema.items(), kinds, strict=True)):
        cells.append(_cell(name, dtype, kind_, styles, i).fill_null(EMPTY_CELL))
    row = pl.concat_str(pl.lit('<row r="'), number, pl.lit('">'), *cells, pl.lit("</row>"))
    return str(frame.select(row.str.join("")).item())
