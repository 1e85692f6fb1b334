"""Every sheet of a published workbook read as text, with spreadsheet row and column labels.

Uses fastexcel (the calamine engine behind `polars.read_excel`), which reads old-style `.xls`
(BIFF) as well as `.xlsx`. Rows are kept from the sheet's row 1, blank ones included, so a
frame's row index + 1 is the row a person sees in Excel; columns keep their sheet letters.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import polars as pl

from pipelines.problems import FileRejected, Problem

SUFFIXES = (".xls", ".xlsx")
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"
_ZIP_MAGIC = b"PK\x03\x04"


def column_letter(index: int) -> str:
    """Spreadsheet column letters of a 0-based column index (0 → A, 27 → AB)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass(frozen=True)
class Sheet:
    """One sheet as text: `frame` row i is sheet row i + 1; column j is `letters[j]`."""

    name: str
    frame: pl.DataFrame
    letters: tuple[str, ...]

    def cell(self, row: int, col: int) -> str | None:
        """The text of a cell by sheet row (1-based) and frame column index; None if empty."""
        if row - 1 >= self.frame.height or col >= self.frame.width:
            return None
        value = self.frame[row - 1, col]
        return None if value is None or not str(value).strip() else str(value).strip()


def looks_like_workbook(path: Path) -> bool:
    """True if the file's first bytes are those of an `.xls` or `.xlsx` workbook."""
    with path.open("rb") as fh:
        head = fh.read(8)
    return head.startswith((_XLS_MAGIC, _ZIP_MAGIC))


def sheet_names(path: Path) -> list[str]:
    """The workbook's sheet names (raises FileRejected if it cannot be opened)."""
    return list(_open(path).sheet_names)


# The last workbook opened, by path, size and modification time: recognising a file and then
# reading it opens it once, not four times (the 37 DM01 months load in about a second less).
_LAST: list[tuple[tuple[str, int, int], fastexcel.ExcelReader]] = []


def _open(path: Path) -> fastexcel.ExcelReader:
    try:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if _LAST and _LAST[0][0] == key:
            return _LAST[0][1]
        reader = fastexcel.read_excel(path)
        _LAST[:] = [(key, reader)]
        return reader
    except Exception as exc:  # fastexcel raises its own types for a corrupt workbook
        raise FileRejected(
            [Problem(str(path), None, None, f"cannot read as an Excel workbook: {exc}")]
        ) from exc


def read_sheets(
    path: Path, names: list[str] | None = None, n_rows: int | None = None
) -> dict[str, Sheet]:
    """The named sheets (all when None) as text, from sheet row 1 and with sheet letters."""
    reader = _open(path)
    out: dict[str, Sheet] = {}
    for name in names if names is not None else reader.sheet_names:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                loaded = reader.load_sheet(
                    name, header_row=None, skip_rows=0, dtypes="string", n_rows=n_rows
                )
                frame = loaded.to_polars()
        except Exception as exc:
            raise FileRejected(
                [Problem(f"{path}, sheet {name!r}", None, None, f"cannot read the sheet: {exc}")]
            ) from exc
        letters = tuple(column_letter(c.absolute_index) for c in loaded.available_columns())
        frame = frame.rename({c: f"c{i}" for i, c in enumerate(frame.columns)})
        out[name] = Sheet(name, frame, letters)
    return out
