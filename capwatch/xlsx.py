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

import math
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl
import pyarrow as pa
import xlsxwriter

from capwatch import outputs, xlsx_rows
from capwatch.columns import Family, Kind, kind
from capwatch.errors import CapwatchError

EXCEL_MAX_ROWS = 1_048_576
MAX_DATA_ROWS = EXCEL_MAX_ROWS - 1  # below the header
MAX_CELL_CHARS = xlsx_rows.MAX_CELL_CHARS  # Excel's limit for one cell's text
WIDTH_SAMPLE_ROWS = 1_000
MIN_WIDTH, MAX_WIDTH = 6, 60
ABOUT_SHEET = "About"
MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    """One data sheet: XlsxWriter writes its header, formats and widths; its rows are built
    by `capwatch.xlsx_rows` into a file of their own and put into the sheet afterwards."""

    def __init__(self, book: xlsxwriter.Workbook, name: str, schema: pa.Schema) -> None:
        self.ws = book.add_worksheet(name)
        self.names = list(schema.names)
        self.kinds = [kind(f.name, arrow_family(f.type)) for f in schema]
        self.formats = [
            book.add_format({"num_format": NUMBER_FORMATS[k]}) if k in NUMBER_FORMATS else None
            for k in self.kinds
        ]
        as_text = book.add_format({"quote_prefix": True})
        # Style indexes are given out as formats are first used; the rows need theirs now.
        self.styles = xlsx_rows.CellStyles(
            columns=tuple(None if f is None else f._get_xf_index() for f in self.formats),
            quote_prefix=as_text._get_xf_index(),
        )
        header = book.add_format({"bold": True, "bottom": 1, "bg_color": "#F0F4F5"})
        self.widths = [len(n) + 2 for n in self.names]  # room for the filter button
        for col, name in enumerate(self.names):
            self.ws.write_string(0, col, name, header)
        self.ws.freeze_panes(1, 0)
        self.row = 0

    def write(self, batch: pa.RecordBatch, rows: BinaryIO) -> None:
        """Append `batch`'s rows (XML) to `rows`."""
        if batch.num_rows == 0:
            return
        self._sample_widths(batch)
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        rows.write(xlsx_rows.rows_xml(frame, self.kinds, self.styles, self.row + 2).encode())
        self.row += batch.num_rows

    def _sample_widths(self, batch: pa.RecordBatch) -> None:
        take = WIDTH_SAMPLE_ROWS - self.row
        if take <= 0:
            return
        for col, (column, kind_) in enumerate(zip(batch.columns, self.kinds, strict=True)):
            for value in column.slice(0, take).to_pylist():
                if isinstance(value, float) and math.isnan(value):
                    continue
                self.widths[col] = max(self.widths[col], _shown_width(value, kind_))

    def finish(self) -> None:
        for col, width in enumerate(self.widths):
            shown = min(max(width + 1, MIN_WIDTH), MAX_WIDTH)
            self.ws.set_column(col, col, shown, self.formats[col])
        if self.names:
            self.ws.autofilter(0, 0, self.row, len(self.names) - 1)

    def dimension(self) -> str:
        """The sheet's used range, e.g. `A1:I266335`."""
        if not self.names:
            return "A1"
        return f"A1:{xlsx_rows.column_letters(len(self.names) - 1)}{self.row + 1}"


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
    with tempfile.TemporaryDirectory(prefix="capwatch-xlsx-", dir=tmp.parent) as work:
        skeleton, rows_file = Path(work) / "skeleton.xlsx", Path(work) / "rows.xml"
        book = xlsxwriter.Workbook(
            str(skeleton),
            {
                "constant_memory": True,
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "default_date_format": NUMBER_FORMATS[Kind.DATE],
            },
        )
        book.set_properties({"title": about.title, "comments": "Made by capwatch"})
        try:
            data = _Sheet(book, sheet_name(sheet), schema)
            with rows_file.open("wb") as rows:
                for batch in batches:
                    data.write(batch, rows)
                    if data.row > MAX_DATA_ROWS:  # more than announced
                        raise TooManyRows(too_many_rows_message(data.row))
            data.finish()
            _about_sheet(book, about)
        finally:
            book.close()
        _with_rows(skeleton, rows_file, data.dimension(), tmp)
    return data.row


DATA_SHEET_PART = "xl/worksheets/sheet1.xml"  # the data sheet is the first one added
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')


def _with_rows(skeleton: Path, rows: Path, dimension: str, out: Path) -> None:
    """Copy the workbook `skeleton` to `out` with the data sheet's rows put in after its
    header row (fast compression: the sheet is most of the file)."""
    with (
        zipfile.ZipFile(skeleton) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst,
    ):
        for info in src.infolist():
            part = src.read(info)
            if info.filename != DATA_SHEET_PART:
                dst.writestr(info, part)
                continue
            part = _DIMENSION.sub(f'<dimension ref="{dimension}"/>'.encode(), part, count=1)
            if b"</sheetData>" in part:
                head, tail = part.split(b"</sheetData>", 1)
            else:  # no header row either: an empty <sheetData/>
                head, tail = part.split(b"<sheetData/>", 1)
                head += b"<sheetData>"
            entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(entry, "w", force_zip64=True) as fh, rows.open("rb") as body:
                fh.write(head)
                shutil.copyfileobj(body, fh, 1 << 20)
                fh.write(b"</sheetData>" + tail)
