"""Workbook cells built a column at a time (`capwatch.xlsx_rows`) hold what each value is:
awkward text, infinities, NaN, decimals, time zones, booleans, old dates, long text, batches.

Read back with openpyxl (an independent reader) and compared with values written by hand.
"""

from __future__ import annotations

import decimal
import io
import re
import zipfile
from datetime import UTC, date, datetime, time, timedelta, timezone

import openpyxl
import pyarrow as pa

from capwatch import export, xlsx
from capwatch.xlsx_rows import column_letters


def _roundtrip(table: pa.Table, tmp_path, batch_rows: int = 2) -> list[list[object]]:
    out = tmp_path / "t.xlsx"
    about = xlsx.Provenance("t", (("What", "t"),))
    written = xlsx.write_workbook(
        out, "t", table.schema, table.to_batches(batch_rows), about, rows=table.num_rows
    )
    assert written == table.num_rows
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
    book = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))
    sheet = book["t"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == table.schema.names
    assert sheet.max_row == table.num_rows + 1  # the dimension covers every row
    return rows[1:]


def _as_excel_reads(value: object) -> object:
    """Excel decodes `_xHHHH_` (openpyxl leaves it as written)."""
    if not isinstance(value, str):
        return value
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), value)


def test_awkward_text_stays_exactly_as_written(tmp_path) -> None:
    texts = [
        "Fish & Chips <Ltd>",
        "  padded  ",
        "bell\x07 and tab\t inside",
        "_x0041_ is not an A",
        "multi\nline",
        "£ and ünïcode ✓",
        "x" * 40_000,
        None,
    ]
    rows = _roundtrip(pa.table({"label": texts}), tmp_path)
    assert [_as_excel_reads(r[0]) for r in rows] == [*texts[:6], "x" * 32_767, None]


def test_numbers_infinities_and_missing_values(tmp_path) -> None:
    table = pa.table(
        {
            "units": pa.array([1, None, -3, 2**40], pa.int64()),
            "ratio_share": [0.25, float("nan"), float("inf"), float("-inf")],
            "cost_gbp": pa.array(
                [decimal.Decimal("1.10"), None, decimal.Decimal("-2.5"), decimal.Decimal("0")],
                pa.decimal128(10, 2),
            ),
            "ok": [True, False, None, True],
        }
    )
    rows = _roundtrip(table, tmp_path)
    assert [r[0] for r in rows] == [1, None, -3, 2**40]
    assert [r[1] for r in rows] == [0.25, None, "inf", "-inf"]
    assert [r[2] for r in rows] == [1.1, None, -2.5, 0]
    assert [r[3] for r in rows] == [True, False, None, True]


def test_dates_times_and_zones(tmp_path) -> None:
    plus_one = timezone(timedelta(hours=1))
    table = pa.table(
        {
            "week_start": [date(2020, 6, 1), date(1900, 3, 1), date(1899, 1, 1), None],
            "loaded_at": pa.array(
                [
                    datetime(2020, 6, 1, 9, 30, 15, tzinfo=plus_one),
                    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                    None,
                    datetime(1970, 1, 1, tzinfo=UTC),
                ],
                pa.timestamp("us", tz="UTC"),
            ),
            "naive_at": [
                datetime(2020, 6, 1, 12, 0),
                None,
                None,
                datetime(2000, 2, 29, 23, 59, 59),
            ],
            "clock": [time(9, 30), None, None, None],  # no Excel type: written as text
        }
    )
    rows = _roundtrip(table, tmp_path)
    assert [r[0] for r in rows] == [
        datetime(2020, 6, 1), datetime(1900, 3, 1), "1899-01-01", None
    ]  # fmt: skip
    assert [r[1] for r in rows] == [
        datetime(2020, 6, 1, 8, 30, 15), datetime(2026, 1, 2, 3, 4, 5), None, datetime(1970, 1, 1)
    ]  # fmt: skip
    assert [r[2] for r in rows] == [
        datetime(2020, 6, 1, 12),
        None,
        None,
        datetime(2000, 2, 29, 23, 59, 59),
    ]
    assert rows[0][3] == "09:30:00"


def test_formula_text_gets_the_quote_prefix_and_dictionary_text_is_text(tmp_path) -> None:
    names = pa.array(["=1+1", "plain", "@SUM(A1)", "-2"]).dictionary_encode()
    out = tmp_path / "q.xlsx"
    table = pa.table({"provider_name": names})
    export.write_frame_xlsx(
        __import__("polars").from_arrow(table), out, "q", xlsx.Provenance("q", ())
    )
    sheet = openpyxl.load_workbook(out)["q"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells] == ["=1+1", "plain", "@SUM(A1)", "-2"]
    assert [c.data_type for c in cells] == ["s"] * 4  # never a formula
    assert [c.quotePrefix for c in cells] == [True, False, True, True]


def test_many_batches_number_rows_in_order(tmp_path) -> None:
    n = 1_003
    table = pa.table({"n": list(range(n)), "code": [f"S{i:04d}" for i in range(n)]})
    rows = _roundtrip(table, tmp_path, batch_rows=100)
    assert rows == [[i, f"S{i:04d}"] for i in range(n)]


def test_column_letters() -> None:
    assert [column_letters(i) for i in (0, 25, 26, 51, 701, 702)] == [
        "A", "Z", "AA", "AZ", "ZZ", "AAA"
    ]  # fmt: skip
