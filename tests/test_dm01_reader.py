"""The DM01 reader on real published workbooks, and on real workbooks broken one cell at a time.

Expected figures are NHS England's own (the file's England Total row) or sums made outside
capwatch (../shared/real/README.md), never the reader's output pasted back.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pipelines.problems import FileRejected
from pipelines.published import dm01, ods
from pipelines.published.readers import recognise
from tests.published_support import (
    ACTIVITY,
    EPHP,
    JUL_2017,
    JUN_2019,
    JUN_2020,
    REAL_DM01,
    add,
    col,
    find_row,
    letter,
    needs_real,
    read_grid,
    write_xlsx,
)

TEST_SHEET = "Provider by Test"


def _all_activity(frame: pl.DataFrame) -> int:
    return int(frame.select(pl.sum_horizontal(*ACTIVITY).sum()).item())


def _is_activity(frame: pl.DataFrame) -> int:
    return int(
        frame.filter(pl.col("org_code").str.starts_with("N"))
        .select(pl.sum_horizontal(*ACTIVITY).sum())
        .item()
    )


@pytest.fixture(scope="module")
def june_2020() -> dm01.Dm01Month:
    return dm01.read_dm01(JUN_2020)


@pytest.fixture(scope="module")
def grid() -> dict[str, list[list[str | None]]]:
    return read_grid(JUN_2020)


def _edited(grid: dict, tmp_path: Path, name: str = "edited.xlsx") -> Path:
    copy = {k: [list(r) for r in v] for k, v in grid.items()}
    return write_xlsx(copy, tmp_path / name)


def _rejected(path: Path) -> list[str]:
    with pytest.raises(FileRejected) as caught:
        dm01.read_dm01(path)
    return [str(p) for p in caught.value.problems]


# --- real published files -------------------------------------------------------------------


def test_the_period_comes_from_the_title_block(june_2020: dm01.Dm01Month) -> None:
    assert june_2020.month == date(2020, 6, 1)
    assert (june_2020.frame["month"] == date(2020, 6, 1)).all()


def test_is_activity_matches_the_published_sums(june_2020: dm01.Dm01Month) -> None:
    assert _is_activity(june_2020.frame) == 37_065
    assert _is_activity(dm01.read_dm01(JUN_2019).frame) == 124_036


def test_england_activity_matches_the_england_total_row(june_2020: dm01.Dm01Month) -> None:
    # The file's own England Total row: 143,828 planned + 299,579 unscheduled + 781,466 WL tests
    assert june_2020.frame.select(pl.sum_horizontal(*ACTIVITY).sum()).item() == 1_224_873
    assert june_2020.frame["planned_tests"].sum() == 143_828
    assert june_2020.frame["waiting_list"].sum() == 1_130_380


def test_total_rows_are_checks_not_data(june_2020: dm01.Dm01Month) -> None:
    frame = june_2020.frame
    assert frame["diagnostic_id"].is_between(1, 15).all()
    assert not frame["test_name"].str.to_lowercase().eq("total").any()
    assert frame.select("org_code", "test").is_duplicated().sum() == 0


def test_a_published_sample_row_reads_as_published(june_2020: dm01.Dm01Month) -> None:
    # ../shared/real/README.md: June 2020, Y56 London, NT422, CT: WL 0, 0, 0, 205
    row = june_2020.frame.filter((pl.col("org_code") == "NT422") & (pl.col("test") == "ct"))
    assert row.select("region", "org_name", "waiting_list", *ACTIVITY).row(0) == (
        "London",
        "BMI - The London Independent Hospital",
        0,
        0,
        0,
        205,
    )
    nvc21 = june_2020.frame.filter((pl.col("org_code") == "NVC21") & (pl.col("test") == "mri"))
    assert nvc21.select("region", "waiting_list", "waiting_list_tests").row(0) == (
        "Midlands",
        41,
        151,
    )


def test_source_row_is_the_spreadsheet_row(june_2020: dm01.Dm01Month, grid: dict) -> None:
    rows = grid[TEST_SHEET]
    sample = june_2020.frame.filter(pl.col("org_code") == "NT422").row(0, named=True)
    sheet_row = rows[sample["source_row"] - 1]
    assert "NT422" in sheet_row
    assert str(sample["diagnostic_id"]) in sheet_row


def test_region_codes_read_into_the_seven_regions(june_2020: dm01.Dm01Month) -> None:
    pairs = dict(june_2020.frame.select("region_code", "region").unique().iter_rows())
    assert pairs == {
        "Y56": "London",
        "Y58": "South West",
        "Y59": "South East",
        "Y60": "Midlands",
        "Y61": "East of England",
        "Y62": "North West",
        "Y63": "North East and Yorkshire",
    }


def test_recognised_by_content_not_by_name(tmp_path: Path) -> None:
    renamed = tmp_path / "Monthly-Diagnostics-Web-File-Provider-June-2020_XXXXX.xls"
    shutil.copy(JUN_2020, renamed)
    odd = tmp_path / "whatever.xls"
    shutil.copy(JUN_2020, odd)
    assert recognise(renamed).name == dm01.READER
    assert recognise(odd).name == dm01.READER
    assert recognise(EPHP).name == ods.READER
    not_dm01 = write_xlsx({"Sheet1": [["a", "b"], ["1", "2"]]}, tmp_path / "other.xlsx")
    assert recognise(not_dm01) is None


def test_an_xlsx_copy_reads_the_same_as_the_xls(
    june_2020: dm01.Dm01Month, grid: dict, tmp_path: Path
) -> None:
    xlsx = _edited(grid, tmp_path, "June 2020.xlsx")
    assert recognise(xlsx).name == dm01.READER
    again = dm01.read_dm01(xlsx)
    assert again.month == june_2020.month
    assert again.frame.drop("source_row").equals(june_2020.frame.drop("source_row"))


def test_a_column_moved_with_its_header_still_reads(grid: dict, tmp_path: Path) -> None:
    # The header row is read, not assumed: swap two columns (header and data) and the
    # figures are unchanged.
    rows = grid[TEST_SHEET]
    a, b = col(rows, "Planned tests / procedures"), col(rows, "Total Waiting List")
    for row in rows:
        row[a], row[b] = row[b], row[a]
    swapped = dm01.read_dm01(_edited(grid, tmp_path))
    assert _is_activity(swapped.frame) == 37_065
    for row in rows:  # undo for the other tests of the module
        row[a], row[b] = row[b], row[a]


def test_a_longer_title_block_still_reads(grid: dict, tmp_path: Path) -> None:
    copy = {k: [list(r) for r in v] for k, v in grid.items()}
    for name in copy:
        width = len(copy[name][0]) if copy[name] else 1
        copy[name][1:1] = [[None] * width, [None] * width]  # two rows more above the header
    moved = dm01.read_dm01(write_xlsx(copy, tmp_path / "longer.xlsx"))
    assert moved.month == date(2020, 6, 1)
    assert _is_activity(moved.frame) == 37_065


@needs_real
def test_all_37_published_months_read_and_add_up() -> None:
    files = sorted(REAL_DM01.rglob("*.xls"))
    assert len(files) == 37
    months = {m.month: m.frame for m in map(dm01.read_dm01, files)}
    span = [date(2017 + (m + 6) // 12, (m + 6) % 12 + 1, 1) for m in range(39)]
    assert sorted(months) == [m for m in span if m not in (date(2017, 11, 1), date(2018, 10, 1))]
    # ../shared/real/README.md section 1b: summed there, outside capwatch.
    assert _all_activity(months[date(2017, 7, 1)]) == 1_835_829
    assert _all_activity(months[date(2017, 8, 1)]) == 1_831_999
    assert _all_activity(months[date(2017, 12, 1)]) == 1_655_099
    assert _is_activity(months[date(2017, 7, 1)]) == 94_088
    assert _is_activity(months[date(2017, 8, 1)]) == 98_682
    assert _is_activity(months[date(2017, 12, 1)]) == 86_775
    assert _is_activity(months[date(2019, 6, 1)]) == 124_036
    assert _is_activity(months[date(2020, 4, 1)]) == 19_017
    assert _is_activity(months[date(2020, 6, 1)]) == 37_065
    assert _is_activity(months[date(2020, 9, 1)]) == 87_562


@needs_real
def test_reader_matches_the_derived_is_csv() -> None:
    """Row for row, the IS rows agree with ../shared's derived CSV (made outside capwatch)."""
    derived = pl.read_csv(REAL_DM01.parent / "derived_dm01_is_provider_by_test_2019-04_2020-09.csv")
    ours = pl.concat(
        dm01.read_dm01(f).frame.filter(
            pl.col("org_code").str.starts_with("N") & (pl.col("month") >= date(2019, 4, 1))
        )
        for f in sorted(REAL_DM01.rglob("*.xls"))
    )
    assert ours.height == derived.height == 13_847
    left = ours.select(
        pl.col("month").dt.strftime("%Y-%m").alias("period"),
        pl.col("org_code").alias("provider_code"),
        "diagnostic_id",
        pl.col("waiting_list").alias("total_waiting_list"),
        *ACTIVITY,
    ).sort("period", "provider_code", "diagnostic_id")
    right = derived.select(left.columns).sort("period", "provider_code", "diagnostic_id")
    assert left.equals(right.cast(left.schema))  # type: ignore[arg-type]


# --- bad input: each rejected whole, naming file, sheet, row and column ----------------------


def test_missing_column_is_rejected_naming_sheet_row_and_column(grid: dict, tmp_path: Path) -> None:
    copy = {k: [list(r) for r in v] for k, v in grid.items()}
    rows = copy[TEST_SHEET]
    c = col(rows, "Number waiting 13+ Weeks")
    for row in rows:
        del row[c]
    messages = _rejected(write_xlsx(copy, tmp_path / "missing.xlsx"))
    assert any(
        "sheet 'Provider by Test', row 14, column Number waiting 13+ Weeks" in m
        and "is missing from the header row 14" in m
        for m in messages
    ), messages


def test_column_moved_off_the_header_row_is_rejected(grid: dict, tmp_path: Path) -> None:
    copy = {k: [list(r) for r in v] for k, v in grid.items()}
    rows = copy[TEST_SHEET]
    header = find_row(rows, "Provider Code")
    c = col(rows, "Planned tests / procedures")
    rows[header - 2][c], rows[header][c] = rows[header][c], None  # moved up two rows
    messages = _rejected(write_xlsx(copy, tmp_path / "moved.xlsx"))
    assert any(
        "row 14, column Planned tests / procedures" in m
        and f"it is on row 12, column {letter(c)}: was it moved?" in m
        for m in messages
    ), messages


def test_unreadable_period_is_rejected_with_its_cell(grid: dict, tmp_path: Path) -> None:
    copy = {k: [list(r) for r in v] for k, v in grid.items()}
    r = find_row(copy[TEST_SHEET], "Period:")
    c = copy[TEST_SHEET][r].index("Period:") + 1
    copy[TEST_SHEET][r][c] = "Juneteenth 2020"
    messages = _rejected(write_xlsx(copy, tmp_path / "period.xlsx"))
    assert messages == [
        f"{tmp_path / 'period.xlsx'}, sheet 'Provider by Test', row {r + 1}, column "
        f"{letter(c)}: the period 'Juneteenth 2020' is not a month and year such as 'June 2020'"
    ]


def test_a_total_that_does_not_add_up_is_rejected_saying_by_how_much(
    grid: dict, tmp_path: Path
) -> None:
    copy = {k: [list(r) for r in v] for k, v in grid.items()}
    rows = copy[TEST_SHEET]
    c = col(rows, "Waiting list tests / procedures (excluding planned)")
    r = next(
        i for i, row in enumerate(rows) if "NT422" in row and row[col(rows, "Diagnostic ID")] == "2"
    )
    add(rows, r, c, 7)  # CT at NT422: 205 → 212; its Total row and the England Total unchanged
    path = write_xlsx(copy, tmp_path / "total.xlsx")
    messages = _rejected(path)
    total_row = next(
        i
        for i, row in enumerate(rows)
        if "NT422" in row and row[col(rows, "Diagnostic ID")] == "16"
    )
    where = f"column {letter(c)} (Waiting list tests / procedures (excluding planned))"
    assert any(
        f"{path}, sheet 'Provider by Test', row {total_row + 1}, {where}: the Total row of NT422"
        in m
        and "(off by -7)" in m
        for m in messages
    ), messages
    assert any(
        "the England Total says 781,466 but the test rows add up to 781,473" in m for m in messages
    )
    assert any("sheet 'Provider'" in m and "NT422" in m and "(off by -7)" in m for m in messages)


def test_unknown_region_code_is_rejected(grid: dict, tmp_path: Path) -> None:
    copy = {k: [list(r) for r in v] for k, v in grid.items()}
    rows = copy[TEST_SHEET]
    c = col(rows, "Regional Team Code")
    r = find_row(rows, "NT422")
    rows[r][c] = "Y99"
    messages = _rejected(write_xlsx(copy, tmp_path / "region.xlsx"))
    assert any(
        f"row {r + 1}, column {letter(c)} (Regional Team Code): region code 'Y99' is not one"
        " of the seven NHS England regions" in m
        for m in messages
    ), messages


def test_a_missing_sheet_is_rejected(grid: dict, tmp_path: Path) -> None:
    copy = {k: v for k, v in grid.items() if k != "Provider"}
    path = write_xlsx(copy, tmp_path / "no_provider_sheet.xlsx")
    assert recognise(path).name == dm01.READER  # still DM01 by its title block
    messages = _rejected(path)
    assert len(messages) == 1
    assert messages[0].startswith(f"{path}, sheet 'Provider': the sheet 'Provider' is missing")


def test_a_value_that_is_not_a_number_is_rejected_at_its_cell(grid: dict, tmp_path: Path) -> None:
    copy = {k: [list(r) for r in v] for k, v in grid.items()}
    rows = copy[TEST_SHEET]
    c = col(rows, "Total Waiting List")
    r = find_row(rows, "NT422")
    rows[r][c] = "about 40"
    messages = _rejected(write_xlsx(copy, tmp_path / "text.xlsx"))
    assert any(
        f"row {r + 1}, column {letter(c)} (Total Waiting List): 'about 40' is not a whole number"
        in m
        for m in messages
    ), messages


def test_another_dm01_basis_is_rejected_saying_which_it_is(grid: dict, tmp_path: Path) -> None:
    copy = {k: [list(r) for r in v] for k, v in grid.items()}
    r = find_row(copy[TEST_SHEET], "Basis:")
    c = copy[TEST_SHEET][r].index("Basis:") + 1
    copy[TEST_SHEET][r][c] = "Commissioner"
    messages = _rejected(write_xlsx(copy, tmp_path / "commissioner.xlsx"))
    assert len(messages) == 1
    assert (
        f"row {r + 1}, column {letter(c)}: this is DM01 on the 'commissioner' basis" in messages[0]
    )


# --- Before the 2019 reorganisation (fixture: July 2017, byte for byte as published) ---


def test_a_2017_month_reads_as_published_with_its_four_regions() -> None:
    month = dm01.read_dm01(JUL_2017)
    assert month.month == date(2017, 7, 1)
    # ../shared/real/README.md section 1b (summed outside capwatch; = the England Total row).
    assert _all_activity(month.frame) == 1_835_829
    assert _is_activity(month.frame) == 94_088
    codes = set(month.frame["region_code"].unique())
    assert {"Y54", "Y55", "Y56", "Y57"} <= codes
    assert "Y60" not in codes
    # No 2019-map region is guessed at read time; the published one is kept.
    assert month.frame["region"].null_count() == month.frame.height
    assert month.frame["region_name"].null_count() == 0
    # 2017's short test names (MRI, CT, PERIPHERAL_NEUROPHYS) are read by their DM01 ID.
    names = dict(month.frame.select("diagnostic_id", "test_name").unique().iter_rows())
    assert names[1] == "MRI" and names[2] == "CT" and names[9] == "PERIPHERAL_NEUROPHYS"
    assert set(month.frame["test"].unique()) == {v[0] for v in dm01.TESTS.values()}
    assert any("no organisation Total rows" in n for n in month.notes)


def test_a_seven_region_code_before_april_2019_is_kept_but_not_used() -> None:
    frame = dm01.read_dm01(JUL_2017).frame
    assert frame.filter(pl.col("region_code") == "Y56")["region"].null_count() > 0


def test_footnote_rows_below_the_data_are_skipped_and_said(tmp_path: Path) -> None:
    # July 2017 ends each of its two sheets with two footnote rows (e.g. "Mid Essex ... did
    # not submit"); two more per sheet make eight.
    assert any("4 footnote rows" in n for n in dm01.read_dm01(JUL_2017).notes)
    grid = read_grid(JUL_2017)
    for name in ("Provider by Test", "Provider"):
        width = max(len(r) for r in grid[name])
        first = next(i for i, v in enumerate(grid[name][-1]) if v is not None)
        for text in ("Notes:", "An organisation's figures were revised."):
            row: list[str | None] = [None] * width
            row[first] = text
            grid[name].append(row)
    month = dm01.read_dm01(write_xlsx(grid, tmp_path / "notes.xlsx"))
    assert _all_activity(month.frame) == 1_835_829
    assert any("8 footnote rows" in n for n in month.notes)


def test_a_row_without_a_code_but_with_figures_below_the_data_is_still_refused(
    tmp_path: Path,
) -> None:
    grid = read_grid(JUL_2017)
    sheet = grid["Provider by Test"]
    code = col(sheet, "Provider Code")
    extra = list(next(r for r in reversed(sheet) if len(r) > code and r[code] is not None))
    extra[code] = None
    sheet.append(extra)
    with pytest.raises(FileRejected) as caught:
        dm01.read_dm01(write_xlsx(grid, tmp_path / "stray.xlsx"))
    assert any("without a provider code" in p.message for p in caught.value.problems)


def test_an_old_region_code_from_april_2019_is_still_refused(tmp_path: Path) -> None:
    grid = read_grid(JUN_2020)
    sheet = grid["Provider by Test"]
    r = find_row(sheet, "Y56")
    sheet[r][col(sheet, "Regional Team Code")] = "Y54"
    with pytest.raises(FileRejected) as caught:
        dm01.read_dm01(write_xlsx(grid, tmp_path / "y54.xlsx"))
    assert any("'Y54'" in p.message and "seven" in p.message for p in caught.value.problems)


def test_one_organisation_total_row_missing_is_still_refused(tmp_path: Path) -> None:
    grid = read_grid(JUN_2020)
    sheet = grid["Provider by Test"]
    r = find_row(sheet, "16", "Total")
    del sheet[r]
    with pytest.raises(FileRejected) as caught:
        dm01.read_dm01(write_xlsx(grid, tmp_path / "no_total.xlsx"))
    assert any("has no Total row" in p.message for p in caught.value.problems)
