"""Excel workbooks (.xlsx) of a table: typed, formatted cells and a sheet saying what it is.

One sheet named after what it holds: a header row that stays in view (frozen, with filter
buttons), numbers stored as numbers, money with a £ format, ratios as percentages, dates as
dates, column widths fitted to the header and the first `WIDTH_SAMPLE_ROWS` rows. Text is
always written as text (never read as a formula, number or link), and text that a
spreadsheet would take for a formula (`=`, `+`, `-`, `@`, tab, carriage return first) also
carries Excel's quote prefix, so it stays text if the cell is edited. A second sheet,
`About`, holds the provenance: what the table is, the filters, the period, when it was made
and the data's load ids.

Rows stream to the file (XlsxWriter's constant-memory mode writes each row as it comes), so a
large result is never held in memory. An Excel sheet holds at most 1,048,576 rows, the header
included: a table with more than `MAX_DATA_ROWS` rows is refused before anything is written
(`TooManyRows`), never cut short; use CSV or narrow it with SQL. What each column holds comes
from `capwatch.columns`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import xlsxwriter

from capwatch import outputs
from capwatch.columns import Family, Kind, kind
from capwatch.errors import CapwatchError

EXCEL_MAX_ROWS = 1_048_576
MAX_DATA_ROWS = EXCEL_MAX_ROWS - 1  # below the header
MAX_CELL_CHARS = 32_767  # Excel's limit for one cell's text
WIDTH_SAMPLE_ROWS = 1_000
MIN_WIDTH, MAX_WIDTH = 6, 60
ABOUT_SHEET = "About"
MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

FORMULA_START = re.compile(r"^[=+\-@\t\r]")  # the same rule as `capwatch.export`

NUMBER_FORMATS: dict[Kind, str] = {
    Kind.MONEY: "[$£-809]#,##0.00",
    Kind.PERCENT: "0.0%",
    Kind.INTEGER: "#,##0",
    Kind.DATE: "dd mmm yyyy",
    Kind.DATETIME: "dd mmm yyyy hh:mm:ss",
}
_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\']")


class TooManyRows(CapwatchError):
    """The table has more rows than an Excel sheet holds."""


@dataclass(frozen=True)
class Provenance:
    """What a workbook holds and where it came from, as label and value pairs."""

    title: str
    items: tuple[tuple[str, str], ...]


def too_many_rows_message(rows: int) -> str:
    """Why a table cannot go to Excel, and what to do instead."""
    return (
        f"{rows:,} rows is more than an Excel sheet holds ({MAX_DATA_ROWS:,} below the "
        "header). Download it as CSV, or narrow it with SQL (filter or aggregate) first."
    )


def check_rows(rows: int) -> None:
    """Raise `TooManyRows` if `rows` will not fit on one sheet."""
    if rows > MAX_DATA_ROWS:
        raise TooManyRows(too_many_rows_message(rows))


def sheet_name(what: str) -> str:
    """A valid sheet name for `what` (at most 31 characters, none of []:*?/\\')."""
    name = _INVALID_SHEET_CHARS.sub("_", what).strip() or "data"
    name = name[:31]
    return "data" if name.lower() in (ABOUT_SHEET.lower(), "history") else name


def arrow_family(type_: pa.DataType) -> Family:
    """The storage family of an Arrow type."""
    if pa.types.is_dictionary(type_):
        return arrow_family(type_.value_type)
    if pa.types.is_boolean(type_):
        return Family.BOOLEAN
    if pa.types.is_integer(type_):
        return Family.INTEGER
    if pa.types.is_floating(type_) or pa.types.is_decimal(type_):
        return Family.FLOAT
    if pa.types.is_date(type_):
        return Family.DATE
    if pa.types.is_timestamp(type_):
        return Family.DATETIME
    if pa.types.is_string(type_) or pa.types.is_large_string(type_) or _is_string_view(type_):
        return Family.TEXT
    return Family.OTHER


def _is_string_view(type_: pa.DataType) -> bool:
    check = getattr(pa.types, "is_string_view", None)
    return bool(check and check(type_))


def _plain_datetime(value: dt.datetime) -> dt.datetime:
    """Excel has no time zones: an aware time becomes UTC without its zone."""
    if value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _shown_width(value: Any, kind_: Kind) -> int:
    """About how many characters a value takes on screen in its number format."""
    if value is None:
        return 0
    if kind_ is Kind.MONEY:
        return len(f"£{value:,.2f}")
    if kind_ is Kind.PERCENT:
        return len(f"{value:.1%}")
    if kind_ is Kind.INTEGER:
        return len(f"{value:,}")
    if kind_ is Kind.DATE:
        return 11
    if kind_ is Kind.DATETIME:
        return 20
    return max((len(line) for line in str(value).splitlines()), default=0)


class _Sheet:
    """One data sheet being written row by row."""

    def __init__(self, book: xlsxwriter.Workbook, name: str, schema: pa.Schema) -> None:
        self.ws = book.add_worksheet(name)
        self.names = list(schema.names)
        self.kinds = [kind(f.name, arrow_family(f.type)) for f in schema]
        self.formats = [
            book.add_format({"num_format": NUMBER_FORMATS[k]}) if k in NUMBER_FORMATS else None
            for k in self.kinds
        ]
        self.as_text = book.add_format({"quote_prefix": True})
        header = book.add_format({"bold": True, "bottom": 1, "bg_color": "#F0F4F5"})
        self.widths = [len(n) + 2 for n in self.names]  # room for the filter button
        for col, name in enumerate(self.names):
            self.ws.write_string(0, col, name, header)
        self.ws.freeze_panes(1, 0)
        self.row = 0

    def write(self, values: Sequence[Any]) -> None:
        self.row += 1
        sample = self.row <= WIDTH_SAMPLE_ROWS
        for col, (value, kind_) in enumerate(zip(values, self.kinds, strict=True)):
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue  # an empty cell
            self._cell(col, value, kind_)
            if sample:
                self.widths[col] = max(self.widths[col], _shown_width(value, kind_))

    def _cell(self, col: int, value: Any, kind_: Kind) -> None:
        ws, row, fmt = self.ws, self.row, self.formats[col]
        if kind_ in (Kind.MONEY, Kind.PERCENT, Kind.INTEGER, Kind.NUMBER):
            number = float(value) if isinstance(value, decimal.Decimal) else value
            if isinstance(number, float) and math.isinf(number):
                ws.write_string(row, col, str(number))
            else:
                ws.write_number(row, col, number, fmt)
        elif kind_ is Kind.DATE:
            ws.write_datetime(row, col, value, fmt)
        elif kind_ is Kind.DATETIME:
            ws.write_datetime(row, col, _plain_datetime(value), fmt)
        elif kind_ is Kind.BOOLEAN:
            ws.write_boolean(row, col, bool(value))
        else:
            text = str(value)[:MAX_CELL_CHARS]
            if FORMULA_START.match(text):
                ws.write_string(row, col, text, self.as_text)
            else:
                ws.write_string(row, col, text)

    def finish(self) -> None:
        for col, width in enumerate(self.widths):
            self.ws.set_column(col, col, min(max(width + 1, MIN_WIDTH), MAX_WIDTH))
        if self.names:
            self.ws.autofilter(0, 0, self.row, len(self.names) - 1)


def _about_sheet(book: xlsxwriter.Workbook, about: Provenance) -> None:
    ws = book.add_worksheet(ABOUT_SHEET)
    bold = book.add_format({"bold": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    top = book.add_format({"bold": True, "valign": "top"})
    ws.write_string(0, 0, about.title, bold)
    for row, (label, value) in enumerate(about.items, start=2):
        ws.write_string(row, 0, label, top)
        ws.write_string(row, 1, value[:MAX_CELL_CHARS], wrap)
    ws.set_column(0, 0, max([len(label) for label, _ in about.items] + [12]) + 2)
    ws.set_column(1, 1, 90)


def write_workbook(
    path: Path,
    sheet: str,
    schema: pa.Schema,
    batches: Iterable[pa.RecordBatch],
    about: Provenance,
    *,
    rows: int,
) -> int:
    """Write `batches` (every one with `schema`) to `path` as one typed sheet plus `About`.

    `rows` is the number of rows the batches hold, checked before anything is written
    (`TooManyRows`). Returns the rows written. The file appears only when complete.
    """
    check_rows(rows)
    with outputs.temp_beside(path) as tmp:
        return _write(tmp, sheet, schema, batches, about)


def _write(
    tmp: Path,
    sheet: str,
    schema: pa.Schema,
    batches: Iterable[pa.RecordBatch],
    about: Provenance,
) -> int:
    book = xlsxwriter.Workbook(
        str(tmp),
        {
            "constant_memory": True,  # each row goes to disk as it is written
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "default_date_format": NUMBER_FORMATS[Kind.DATE],
        },
    )
    book.set_properties({"title": about.title, "comments": "Made by capwatch"})
    try:
        data = _Sheet(book, sheet_name(sheet), schema)
        for batch in batches:
            columns = [c.to_pylist() for c in batch.columns]
            for values in zip(*columns, strict=True):
                data.write(values)
                if data.row > MAX_DATA_ROWS:  # more than announced
                    raise TooManyRows(too_many_rows_message(data.row))
        data.finish()
        _about_sheet(book, about)
    except BaseException:
        with contextlib.suppress(Exception):
            book.close()  # releases its temporary files; the part file is removed by the caller
        raise
    book.close()
    return data.row
