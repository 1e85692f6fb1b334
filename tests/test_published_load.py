"""Loading published files: recognised by content, stored at their own grain, months loaded once,
the documented views and their export, the sector rule, the baseline, the demo extract."""

from __future__ import annotations

import gzip
import shutil
from datetime import date, datetime
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


def _revised_june_2020(tmp_path: Path) -> Path:
    """A consistent revision of June 2020: NT422's CT +7, and every total that contains it."""
    grid = read_grid(JUN_2020)
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
    return write_xlsx(grid, tmp_path / "June 2020 revised.xlsx")


def test_a_revised_month_replaces_the_old_one_and_unloading_it_brings_it_back(
    loaded: Path, tmp_path: Path
) -> None:
    path = _copy_db(loaded, tmp_path)
    month_sql = (
        "SELECT org_code, test, waiting_list_tests, load_id FROM dm01_monthly "
        "WHERE month = DATE '2020-06-01' ORDER BY org_code, test"
    )
    before = _query(path, month_sql)
    june_2019 = _query(path, "SELECT * FROM dm01_monthly WHERE month = DATE '2019-06-01'")
    report = ingest([_revised_june_2020(tmp_path)], path, replace=True)
    assert report.ok and report.count("loaded") == 1, [o.summary() for o in report.outcomes]
    assert any("replaces June 2020 by load 3" in n for n in report.outcomes[0].notes)
    after = _query(path, month_sql)
    # Exactly one figure moved, by +7; every row of the month is now the revision's (load 4).
    diff = after.join(before, on=["org_code", "test"], suffix="_old").filter(
        pl.col("waiting_list_tests") != pl.col("waiting_list_tests_old")
    )
    assert diff.select("org_code", "test").rows() == [("NT422", "ct")]
    assert (diff["waiting_list_tests"] - diff["waiting_list_tests_old"]).to_list() == [7]
    assert after.height == before.height and set(after["load_id"]) == {4}
    # The old rows are archived, the load history says who replaced whom; June 2019 untouched.
    archived = _query(
        path, "SELECT count(*) AS n, min(replaced_by) AS by FROM dm01_monthly_replaced"
    )
    assert archived.row(0) == (before.height, 4)
    changes = _query(
        path, "SELECT load_id, action, by_load_id FROM load_changes ORDER BY change_id"
    )
    assert changes.rows() == [(3, "superseded", 4)]
    status = dict(_query(path, "SELECT load_id, status FROM load_history").rows())
    assert status[4] == "current" and status[3] != "current"
    assert _query(path, "SELECT * FROM dm01_monthly WHERE month = DATE '2019-06-01'").equals(
        june_2019
    )
    # Unloading the revision brings the old month back, row for row.
    result = CliRunner().invoke(app, ["unload", "4", "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert _query(path, month_sql).equals(before)
    assert _query(path, "SELECT count(*) FROM dm01_monthly_replaced").item() == 0


def test_a_revised_month_without_replace_changes_nothing(loaded: Path, tmp_path: Path) -> None:
    path = _copy_db(loaded, tmp_path)
    before = db.table_fingerprint(path)
    report = ingest([_revised_june_2020(tmp_path)], path)
    assert not report.ok and report.count("rejected") == 1
    assert "ingest --replace" in str(report.outcomes[0].problems[0])
    assert db.table_fingerprint(path) == before


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
    folder = tmp_path / "from_2019"
    folder.mkdir()
    for f in sorted(REAL_DM01.rglob("*.xls")):
        year = int(f.parent.name)
        if year == 2020 or (year == 2019 and f.stem.split()[0] not in ("Jan", "Feb", "Mar")):
            shutil.copy(f, folder / f.name)
    remade = extract.write_extract(folder, tmp_path / "remade.parquet")
    assert remade.equals(pl.read_parquet(SHIPPED).select(remade.columns))


@pytest.fixture(scope="module")
def real_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All 37 published months and the ODS list, ingested by the CLI's loader."""
    if not REAL_DM01.is_dir():
        pytest.skip(f"the 37 published DM01 months are not at {REAL_DM01} (../shared is absent)")
    path = tmp_path_factory.mktemp("real") / "real.duckdb"
    report = ingest([REAL_DM01, REAL_DM01.parent / "ods"], path)
    assert report.ok and report.count("loaded") == 38, [o.summary() for o in report.outcomes]
    assert report.count("rejected") == 0
    return path


@needs_real
def test_all_37_months_ingest_and_the_export_gives_the_published_figures(
    real_db: Path, tmp_path: Path
) -> None:
    n_coded = _query(
        real_db,
        "SELECT month, sum(activity) AS activity FROM diagnostics_monthly "
        "WHERE org_code LIKE 'N%' GROUP BY month ORDER BY month",
    )
    figures = dict(n_coded.iter_rows())
    assert len(figures) == 37
    assert figures[date(2017, 7, 1)] == 94_088
    assert figures[date(2017, 12, 1)] == 86_775
    assert figures[date(2019, 6, 1)] == 124_036
    assert figures[date(2020, 4, 1)] == 19_017
    assert figures[date(2020, 6, 1)] == 37_065
    assert figures[date(2020, 9, 1)] == 87_562
    # the shipped extract (Apr 2019 on) holds the same figures, so it is skipped, not refused
    again = ingest([SHIPPED], _copy_db(real_db, tmp_path))
    assert again.ok and again.count("skipped") == 1


def _workbook_sums(path: Path) -> tuple[dict[str, int], int]:
    """Straight from the grid of cells: each organisation's three activity columns summed over
    its test rows (ID 1–15), and the England Total row's three columns."""
    rows = read_grid(path)["Provider by Test"]
    header = next(i for i, r in enumerate(rows) if "Provider Code" in r)
    at = [rows[header].index(h) for h in (
        "Planned tests / procedures",
        "Unscheduled tests / procedures",
        "Waiting list tests / procedures (excluding planned)",
    )]  # fmt: skip
    code, did = rows[header].index("Provider Code"), rows[header].index("Diagnostic ID")
    orgs: dict[str, int] = {}
    england = 0
    for r in rows[header + 1 :]:
        cells = r + [None] * (max(at) + 1 - len(r))
        value = sum(int(float(cells[c] or 0)) for c in at)
        if cells[code] is None and "Total" in cells:
            england = value
        elif cells[code] is not None and int(float(cells[did] or 0)) in range(1, 16):
            orgs[cells[code]] = orgs.get(cells[code], 0) + value
    return orgs, england


@needs_real
def test_diagnostics_monthly_equals_the_workbook_sums_and_england_totals(
    real_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "diagnostics.csv"
    result = CliRunner().invoke(
        app, ["export", "diagnostics_monthly", "--out", str(out), "--db", str(real_db)]
    )
    assert result.exit_code == 0, result.output
    export = pl.read_csv(out, try_parse_dates=True, infer_schema_length=None)
    by_org = export.group_by("month", "org_code").agg(pl.col("activity").sum())
    files = sorted(REAL_DM01.rglob("*.xls"))
    assert len(files) == 37
    for f in files:
        month = datetime.strptime(f.stem, "%b %Y").date()
        orgs, england = _workbook_sums(f)
        ours = dict(by_org.filter(pl.col("month") == month).select("org_code", "activity").rows())
        assert ours == orgs, f.name
        assert sum(ours.values()) == england, f.name


@needs_real
def test_organisations_carry_their_2019_region_in_earlier_months(real_db: Path) -> None:
    rows = _query(
        real_db,
        "SELECT DISTINCT month, org_code, region, region_code, region_as_published, region_basis "
        "FROM diagnostics_monthly",
    )
    later = rows.filter(pl.col("month") >= date(2019, 4, 1))
    first_2019 = later.sort("month").group_by("org_code").agg(pl.col("region").first())
    earlier = rows.filter(pl.col("month") < date(2019, 4, 1))
    placed = earlier.join(first_2019, on="org_code", how="inner", suffix="_2019")
    assert placed.height > 10_000 // 4
    assert (placed["region"] == placed["region_2019"]).all()
    assert set(placed["region_basis"]) == {"by_own_later_returns"}
    # The region as published stays beside it: the four regions of 2017, the sub-regions of
    # December 2017.
    assert {"Y54", "Y55", "Y57", "Q70"} <= set(earlier["region_code"])
    assert earlier["region_as_published"].null_count() == 0
    unplaced = earlier.join(first_2019, on="org_code", how="anti")
    assert unplaced.height > 0
    assert unplaced["region"].null_count() == unplaced.height
    assert set(unplaced["region_basis"]) == {"not_placed"}
    assert set(later["region_basis"]) == {"as_published"}


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
