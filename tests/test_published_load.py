"""Loading published files: recognised by content, stored at their own grain, months loaded once,
the documented views and their export, the sector rule, the baseline, the demo extract."""

from __future__ import annotations

import gzip
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from capwatch import db
from capwatch.analytics import reference
from capwatch.cli import app
from capwatch.db import Database
from capwatch.load import ingest
from pipelines.published import extract
from tests.published_support import (
    ACTIVITY,
    EPHP,
    JUN_2019,
    JUN_2020,
    REAL_DM01,
    ROOT,
    add,
    col,
    needs_real,
    read_grid,
    write_xlsx,
)

SHIPPED = ROOT / "data" / "published" / "dm01_provider_2019-04_2020-09.parquet"


def _query(path: Path, sql: str) -> pl.DataFrame:
    reader = Database(path)
    try:
        return reader.query(sql)
    finally:
        reader.close()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both fixture months (one under its published name) and the ODS list, in one folder."""
    folder = tmp_path_factory.mktemp("published")
    shutil.copy(JUN_2020, folder / "Monthly-Diagnostics-Web-File-Provider-June-2020_XXXXX.xls")
    shutil.copy(JUN_2019, folder / "Jun 2019.xls")
    shutil.copy(EPHP, folder / "ephp.xls")
    path = folder.parent / "published.duckdb"
    report = ingest([folder], path)
    assert report.ok and report.count("loaded") == 3, [o.summary() for o in report.outcomes]
    return path


def test_the_load_log_records_which_reader_took_each_file(loaded: Path) -> None:
    log = _query(loaded, "SELECT file_name, table_name, reader FROM load_log ORDER BY load_id")
    assert log.rows() == [
        ("ephp.xls", "ods_independent_orgs", "ods_ephp"),
        ("Jun 2019.xls", "dm01_monthly", "dm01_provider"),
        (
            "Monthly-Diagnostics-Web-File-Provider-June-2020_XXXXX.xls",
            "dm01_monthly",
            "dm01_provider",
        ),
    ]


def test_published_loads_read_as_current_in_the_load_history(loaded: Path) -> None:
    history = _query(
        loaded,
        "SELECT h.file_name, h.status, h.rows_live, l.rows_read FROM load_history h "
        "JOIN load_log l USING (load_id) ORDER BY load_id",
    )
    assert history["status"].to_list() == ["current"] * 3
    # Every row read was stored and is still there (DM01 stores its data rows, no Total rows).
    assert history["rows_live"].to_list() == history["rows_read"].to_list()
    assert all(n > 0 for n in history["rows_live"])


def test_an_unload_takes_a_published_month_out(loaded: Path, tmp_path: Path) -> None:
    path = _copy_db(loaded, tmp_path)
    june_2020 = _query(
        path, "SELECT load_id FROM load_log WHERE file_name LIKE 'Monthly-Diagnostics%'"
    ).item()
    result = CliRunner().invoke(app, ["unload", str(june_2020), "--db", str(path)])
    assert result.exit_code == 0, result.output
    months = _query(path, "SELECT DISTINCT month FROM diagnostics_monthly ORDER BY month")
    assert months["month"].to_list() == [date(2019, 6, 1)]
    status = _query(path, f"SELECT status FROM load_history WHERE load_id = {june_2020}").item()
    assert status == "retracted"


def test_export_of_diagnostics_monthly_reproduces_the_published_totals(
    loaded: Path, tmp_path: Path
) -> None:
    out = tmp_path / "diagnostics.csv"
    result = CliRunner().invoke(
        app, ["export", "diagnostics_monthly", "--out", str(out), "--db", str(loaded)]
    )
    assert result.exit_code == 0, result.output
    rows = pl.read_csv(out, try_parse_dates=True)
    assert rows.columns[:13] == [
        "month", "org_code", "org_name", "sector", "sector_basis", "ods_org_code",
        "ods_org_name", "region", "region_code", "test", "test_name", "diagnostic_id",
        "waiting_list",
    ]  # fmt: skip
    n_coded = rows.filter(pl.col("org_code").str.starts_with("N"))
    by_month = dict(n_coded.group_by("month").agg(pl.col("activity").sum()).iter_rows())
    assert by_month == {date(2019, 6, 1): 124_036, date(2020, 6, 1): 37_065}
    june = rows.filter(pl.col("month") == date(2020, 6, 1))
    assert june["activity"].sum() == 1_224_873
    # activity is the three published activity columns, row by row
    assert (rows["activity"] == rows.select(pl.sum_horizontal(*ACTIVITY)).to_series()).all()
    # every row, in key order
    stored = _query(loaded, "SELECT count(*) AS n FROM dm01_monthly")["n"][0]
    assert rows.height == stored
    assert rows.select("month", "org_code", "diagnostic_id").equals(
        rows.select("month", "org_code", "diagnostic_id").sort("month", "org_code", "diagnostic_id")
    )


def test_sector_uses_the_ods_list_and_the_n_convention(loaded: Path, tmp_path: Path) -> None:
    sql = (
        "SELECT DISTINCT org_code, sector, sector_basis FROM diagnostics_monthly "
        "WHERE org_code IN ('AAF', 'NT422', 'RF4') ORDER BY org_code"
    )
    # AAF (360 Care Ltd) is in the ODS independent-sector list without an N code
    assert _query(loaded, sql).rows() == [
        ("AAF", "independent", "ods_list"),
        ("NT422", "independent", "ods_list"),
        ("RF4", "nhs", "not_independent"),
    ]
    without_list = tmp_path / "no_list.duckdb"
    assert ingest([JUN_2020], without_list).ok
    assert _query(without_list, sql).rows() == [
        ("AAF", "nhs", "not_independent"),
        ("NT422", "independent", "n_code"),
        ("RF4", "nhs", "not_independent"),
    ]


def test_the_same_file_again_is_skipped(loaded: Path) -> None:
    before = db.table_fingerprint(loaded)
    report = ingest([JUN_2020], loaded)
    assert report.ok and report.count("skipped") == 1
    assert db.table_fingerprint(loaded) == before


def _copy_db(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy.duckdb"
    shutil.copy(source, target)
    return target


def test_the_same_month_with_the_same_figures_in_another_file_is_skipped(
    loaded: Path, tmp_path: Path
) -> None:
    path = _copy_db(loaded, tmp_path)
    resaved = write_xlsx(read_grid(JUN_2020), tmp_path / "June 2020 resaved.xlsx")
    before = db.table_fingerprint(path)
    report = ingest([resaved], path)
    assert report.ok and report.count("skipped") == 1
    note = report.outcomes[0].notes[0]
    assert "the same figures are already loaded: June 2020 by load 3 (Monthly-Diagnostics" in note
    assert db.table_fingerprint(path) == before


def test_the_same_month_with_other_figures_is_refused_naming_the_load(
    loaded: Path, tmp_path: Path
) -> None:
    path = _copy_db(loaded, tmp_path)
    grid = read_grid(JUN_2020)
    # A consistent revision: NT422's CT +7, and every total that contains it
    tests, providers = grid["Provider by Test"], grid["Provider"]
    wl = col(tests, "Waiting list tests / procedures (excluding planned)")
    did = col(tests, "Diagnostic ID")
    for i, row in enumerate(tests):
        if "NT422" in row and row[did] in ("2", "16"):
            add(tests, i, wl, 7)
    england = next(i for i, row in enumerate(tests) if "Total" in row and row[did] is None)
    add(tests, england, wl, 7)
    pwl = col(providers, "Waiting list tests / procedures (excluding planned)")
    for i, row in enumerate(providers):
        if "NT422" in row or ("Total" in row and i < 20):
            add(providers, i, pwl, 7)
    revised = write_xlsx(grid, tmp_path / "June 2020 revised.xlsx")
    before = db.table_fingerprint(path)
    report = ingest([revised], path)
    assert not report.ok
    (problem,) = report.outcomes[0].problems
    assert "already loaded with different figures or from another file: June 2020 by load 3" in str(
        problem
    )
    assert db.table_fingerprint(path) == before


def test_a_rejected_workbook_changes_nothing(loaded: Path, tmp_path: Path) -> None:
    path = _copy_db(loaded, tmp_path)
    grid = read_grid(JUN_2019)
    del grid["Provider"]
    broken = write_xlsx(grid, tmp_path / "broken.xlsx")
    before = db.table_fingerprint(path)
    report = ingest([broken], path)
    assert not report.ok and report.outcomes[0].status == "rejected"
    assert db.table_fingerprint(path) == before


# --- the baseline view, on constructed data with fictional codes -----------------------------


def _constructed_extract(path: Path) -> Path:
    """Two June months of a fictional IS site, a fictional trust, one that stopped reporting
    and one that started. Names and codes are made up; so are the figures."""
    rows = [
        # month, org, name, region code, id, test, planned, unscheduled, WL tests
        (date(2019, 6, 1), "NZZ01", "Example Imaging Centre", "Y56", 1, "mri", 10, 5, 85),
        (date(2019, 6, 1), "NZY", "Closed Example Clinic", "Y56", 2, "ct", 0, 0, 40),
        (date(2019, 6, 1), "RZZ", "Example NHS Trust", "Y62", 1, "mri", 100, 50, 350),
        (date(2020, 6, 1), "NZZ01", "Example Imaging Centre", "Y56", 1, "mri", 0, 0, 30),
        (date(2020, 6, 1), "NZX", "New Example Clinic", "Y56", 1, "mri", 0, 0, 12),
        (date(2020, 6, 1), "RZZ", "Example NHS Trust", "Y62", 1, "mri", 50, 100, 100),
    ]
    frame = pl.DataFrame(
        rows,
        schema=["month", "org_code", "org_name", "region_code", "diagnostic_id", "test",
                *ACTIVITY],
        orient="row",
    ).with_columns(
        region_name=pl.lit("Example Region"),
        region=pl.col("region_code").replace({"Y56": "London", "Y62": "North West"}),
        test_name=pl.col("test").str.to_uppercase(),
        waiting_list=pl.lit(3, pl.Int64),
        waiting_6_plus=pl.lit(2, pl.Int64),
        waiting_13_plus=pl.lit(1, pl.Int64),
        source_row=pl.int_range(1, len(rows) + 1, dtype=pl.Int64),
    )  # fmt: skip
    frame = frame.select(list(extract.COLUMNS)).cast(extract.COLUMNS)  # type: ignore[arg-type]
    frame.write_parquet(path, metadata={extract.KIND_KEY: extract.READER})
    return path


def test_diagnostics_vs_baseline_on_hand_worked_figures(tmp_path: Path) -> None:
    source = _constructed_extract(tmp_path / "constructed.parquet")
    path = tmp_path / "baseline.duckdb"
    report = ingest([source], path)
    assert report.ok, [str(p) for o in report.outcomes for p in o.problems]
    got = _query(
        path,
        "SELECT month, org_code, sector, test, reported, activity, baseline_activity, "
        "activity_ratio FROM diagnostics_vs_baseline",
    ).rows()
    assert got == [
        # June 2019: its baseline month (June 2018) is not loaded: no baseline, no ratio
        (date(2019, 6, 1), "NZY", "independent", "ct", True, 40, None, None),
        (date(2019, 6, 1), "NZZ01", "independent", "mri", True, 100, None, None),
        (date(2019, 6, 1), "RZZ", "nhs", "mri", True, 500, None, None),
        # June 2020: 30 of 100; the new clinic has a baseline of 0 (no ratio, no division by 0);
        # the closed one did 0 of 40; the trust 250 of 500
        (date(2020, 6, 1), "NZX", "independent", "mri", True, 12, 0, None),
        (date(2020, 6, 1), "NZY", "independent", "ct", False, 0, 40, 0.0),
        (date(2020, 6, 1), "NZZ01", "independent", "mri", True, 30, 100, 0.3),
        (date(2020, 6, 1), "RZZ", "nhs", "mri", True, 250, 500, 0.5),
    ]


# --- the shipped extract and the demo -------------------------------------------------------


def test_the_shipped_extract_is_small_and_attributed() -> None:
    assert SHIPPED.stat().st_size < 3_000_000
    meta = pl.read_parquet_metadata(SHIPPED)
    assert meta[extract.KIND_KEY] == extract.READER
    assert "Open Government Licence v3.0" in meta["attribution"]
    frame = extract.read_extract(SHIPPED)
    assert frame["month"].n_unique() == 18
    is_june_2020 = frame.filter(
        pl.col("org_code").str.starts_with("N") & (pl.col("month") == date(2020, 6, 1))
    )
    assert is_june_2020.select(pl.sum_horizontal(*ACTIVITY).sum()).item() == 37_065


@needs_real
def test_the_shipped_extract_is_what_the_reader_makes_of_the_18_months(tmp_path: Path) -> None:
    remade = extract.write_extract(REAL_DM01, tmp_path / "remade.parquet")
    assert remade.equals(pl.read_parquet(SHIPPED).select(remade.columns))


@needs_real
def test_all_18_months_ingest_and_the_export_gives_the_published_figures(tmp_path: Path) -> None:
    path = tmp_path / "real.duckdb"
    report = ingest([REAL_DM01, REAL_DM01.parent / "ods"], path)
    assert report.ok and report.count("loaded") == 19, [o.summary() for o in report.outcomes]
    n_coded = _query(
        path,
        "SELECT month, sum(activity) AS activity FROM diagnostics_monthly "
        "WHERE org_code LIKE 'N%' GROUP BY month ORDER BY month",
    )
    figures = dict(n_coded.iter_rows())
    assert len(figures) == 18
    assert figures[date(2019, 6, 1)] == 124_036
    assert figures[date(2020, 4, 1)] == 19_017
    assert figures[date(2020, 6, 1)] == 37_065
    assert figures[date(2020, 9, 1)] == 87_562
    # the shipped extract holds the same figures, so it is skipped, not refused
    again = ingest([SHIPPED], path)
    assert again.ok and again.count("skipped") == 1


def test_demo_loads_the_published_extract_beside_synthetic_contract_data(tmp_path: Path) -> None:
    path = tmp_path / "demo" / "capacity.duckdb"
    result = CliRunner().invoke(app, ["demo", "--build-only", "--scale", "0.02", "--db", str(path)])
    assert result.exit_code == 0, result.output
    readers = _query(
        path, "SELECT reader, count(*) AS n FROM load_log GROUP BY reader ORDER BY reader"
    )
    assert dict(readers.iter_rows())["dm01_extract"] == 1
    months = _query(path, "SELECT count(DISTINCT month) AS n FROM diagnostics_monthly")["n"][0]
    assert months == 18
    reader = Database(path)
    try:
        assert reference.is_synthetic(reader)  # the contract data still is; DM01 is not
    finally:
        reader.close()


def test_a_release_0_1_0_database_gets_the_contract_reader_for_its_loads(tmp_path: Path) -> None:
    target = tmp_path / "old.duckdb"
    with gzip.open(ROOT / "tests" / "fixtures" / "release_0.1.0.duckdb.gz", "rb") as src:
        target.write_bytes(src.read())
    db.migrate(target)
    readers = _query(target, "SELECT DISTINCT reader FROM load_log")["reader"].to_list()
    assert readers == ["contract"]
