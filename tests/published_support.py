"""Support for the published-data tests: where the real files are, and workbooks edited cell by
cell from a real DM01 file (for the bad-input cases), written as `.xlsx` at the same places.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import fastexcel
import openpyxl
import pytest

from pipelines.published.workbook import column_letter

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "published"
JUN_2019 = FIXTURES / "Jun 2019.xls"
JUN_2020 = FIXTURES / "Jun 2020.xls"
JUL_2017 = FIXTURES / "Jul 2017.xls"
EPHP = FIXTURES / "ephp.xls"
# ../shared/real beside the checkout; CAPWATCH_SHARED_REAL points elsewhere (e.g. from a worktree).
REAL = Path(os.environ.get("CAPWATCH_SHARED_REAL") or ROOT.parent / "shared" / "real")
REAL_DM01 = REAL / "dm01_provider"
ACTIVITY = ("planned_tests", "unscheduled_tests", "waiting_list_tests")

needs_real = pytest.mark.skipif(
    not REAL_DM01.is_dir(),
    reason=f"the 37 published DM01 months are not at {REAL_DM01} (../shared is absent)",
)

Grid = list[list[str | None]]


def read_grid(path: Path) -> dict[str, Grid]:
    """Every sheet as a grid of text from cell A1, so grid[r][c] is row r + 1, column c + 1."""
    reader = fastexcel.read_excel(path)
    out: dict[str, Grid] = {}
    for name in reader.sheet_names:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sheet = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string")
        offset = sheet.available_columns()[0].absolute_index if sheet.width else 0
        rows = sheet.to_polars().rows()
        out[name] = [[None] * offset + list(r) for r in rows]
    return out


def write_xlsx(grid: dict[str, Grid], out: Path) -> Path:
    """Write grids as an `.xlsx` workbook, cell for cell (numbers as numbers)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in grid.items():
        ws = book.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(r, c, _typed(value))
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
    return out


def _typed(value: str) -> str | int | float:
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() else number


def find_row(rows: Grid, *values: str) -> int:
    """Index of the first row holding every one of `values`."""
    return next(i for i, row in enumerate(rows) if all(v in row for v in values))


def col(rows: Grid, header: str) -> int:
    """Index of the column whose header row cell is `header`."""
    header_row = find_row(rows, "Provider Code")
    return rows[header_row].index(header)


def letter(index: int) -> str:
    return column_letter(index)


def add(rows: Grid, r: int, c: int, delta: int) -> None:
    rows[r][c] = str(int(float(rows[r][c] or 0)) + delta)
