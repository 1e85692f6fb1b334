"""Ingest: readers and formats, normalisation, validation messages, all-or-nothing, idempotence."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from capwatch import db
from capwatch.load import ingest
from tests import untidy_returns
from tests.tables_support import header


def _read(path: Path, sql: str) -> pl.DataFrame:
    return db.Database(path).query(sql)


@pytest.fixture
def tiny_db(tmp_path: Path) -> Path:
    path = tmp_path / "capacity.duckdb"
    report = ingest([untidy_returns.write(tmp_path / "in")], path)
    assert report.ok, [str(p) for o in report.outcomes for p in o.problems]
    return path


def test_every_tiny_file_loads_with_its_rows(tiny_db: Path) -> None:
    counts = _read(tiny_db, "SELECT table_name, rows_read FROM load_log ORDER BY load_id")
    assert counts.rows() == [
        ("providers", 2),
        ("sites", 3),
        ("contracts", 2),
        ("unit_prices", 3),
        ("capacity", 5),
        ("activity", 7),
    ]


def test_codes_regions_lines_money_and_dates_are_normalised(tiny_db: Path) -> None:
    providers = _read(tiny_db, 'SELECT provider_code, "group", region FROM providers ORDER BY 1')
    assert providers.rows() == [
        ("NX1", "Alpha Group", "London"),
        ("NX2", "Alpha Group", "North East and Yorkshire"),
    ]
    sites = _read(tiny_db, "SELECT site_code FROM sites ORDER BY 1")["site_code"].to_list()
    assert sites == ["NX101", "NX102", "NX201"]
    contracts = _read(tiny_db, "SELECT * FROM contracts ORDER BY contract_id")
    assert contracts["monthly_value_gbp"].to_list() == [3_650_000.0, 730_000.0]
    assert contracts["start_date"].to_list() == [date(2020, 6, 1), date(2020, 6, 1)]
    assert contracts["end_date"].to_list() == [date(2020, 6, 30), date(2020, 6, 30)]
    prices = _read(tiny_db, "SELECT service_line, activity_type FROM unit_prices ORDER BY 1, 2")
    assert prices.rows() == [("day_case", ""), ("diagnostics", ""), ("diagnostics", "mri")]
    capacity = _read(tiny_db, "SELECT max(capacity_units) FROM capacity").item()
    assert capacity == 1000  # "1,000" with a thousands separator


def test_activity_is_summed_to_the_day_with_default_units(tiny_db: Path) -> None:
    rows = _read(
        tiny_db,
        "SELECT units, source_rows FROM activity_daily "
        "WHERE site_code = 'NX102' AND activity_date = DATE '2020-06-04'",
    )
    assert rows.rows() == [(2, 2)]  # two event rows with no units column value: 1 each
    assert _read(tiny_db, "SELECT sum(source_rows) FROM activity_daily").item() == 7


def test_every_stored_row_traces_to_its_source_file(tiny_db: Path) -> None:
    for table in ("providers", "sites", "contracts", "unit_prices", "capacity", "activity_daily"):
        orphans = _read(
            tiny_db,
            f"SELECT count(*) FROM {table} t LEFT JOIN load_log l USING (load_id) "
            "WHERE l.file_name IS NULL",
        ).item()
        assert orphans == 0, table
    files = _read(
        tiny_db,
        "SELECT DISTINCT l.file_name FROM activity_daily a JOIN load_log l USING (load_id)",
    )
    assert files["file_name"].to_list() == ["activity_2020-06.csv"]


def test_loading_the_same_files_again_changes_nothing(tiny_db: Path, tmp_path: Path) -> None:
    before = hashlib.sha256(tiny_db.read_bytes()).hexdigest()
    report = ingest([tmp_path / "in"], tiny_db)
    assert report.ok
    assert {o.status for o in report.outcomes} == {"skipped"}
    assert hashlib.sha256(tiny_db.read_bytes()).hexdigest() == before


def test_a_copy_under_another_name_is_recognised_by_content(tiny_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "providers_resent.csv"
    copy.write_text(untidy_returns.FILES["providers.csv"], encoding="utf-8")
    (outcome,) = ingest([copy], tiny_db).outcomes
    assert outcome.status == "skipped"
    assert "providers.csv" in outcome.notes[0]


def test_reference_files_load_first_whatever_the_order(tmp_path: Path) -> None:
    folder = untidy_returns.write(tmp_path / "in")
    files = sorted(folder.iterdir(), reverse=True)  # activity before providers
    report = ingest(files, tmp_path / "c.duckdb")
    assert report.ok
    assert [o.table for o in report.outcomes][:2] == ["providers", "sites"]


def _excel(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(path)
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                sheet.write(r, c, value)
    book.close()
    return path


def test_excel_with_a_title_row_and_a_notes_sheet(tiny_db: Path, tmp_path: Path) -> None:
    book = _excel(
        tmp_path / "capacity_july.xlsx",
        {
            "Notes": [["This return covers July"], ["Contact: data team"]],
            "Return": [
                ["Capacity return, July 2020"],
                ["Site Code", "Service Line", "Week Start", "Capacity Units"],
                ["NX102", "Diagnostics", "06/07/2020", 30],
                ["nx102", "diagnostics", "2020-07-13", 31],
            ],
        },
    )
    (outcome,) = ingest([book], tiny_db).outcomes
    assert outcome.status == "loaded", [str(p) for p in outcome.problems]
    rows = _read(
        tiny_db,
        "SELECT week_start, capacity_units FROM capacity "
        "WHERE week_start >= DATE '2020-07-01' ORDER BY 1",
    )
    assert rows.rows() == [(date(2020, 7, 6), 30), (date(2020, 7, 13), 31)]


def test_excel_errors_name_the_spreadsheet_row(tiny_db: Path, tmp_path: Path) -> None:
    book = _excel(
        tmp_path / "capacity_bad.xlsx",
        {
            "Return": [
                ["Capacity return"],
                ["site_code", "service_line", "week_start", "capacity_units"],
                ["NX102", "diagnostics", "2020-07-06", 30],
                ["NX102", "diagnostics", "2020-07-14", 30],
            ]
        },
    )
    (outcome,) = ingest([book], tiny_db).outcomes
    assert outcome.status == "rejected"
    (problem,) = outcome.problems
    assert (problem.row, problem.column) == (4, "week_start")  # as Excel numbers the row


def test_parquet_loads_like_csv(tmp_path: Path) -> None:
    folder = untidy_returns.write(tmp_path / "in")
    providers = pl.read_csv(folder / "providers.csv", infer_schema=False)
    (folder / "providers.csv").unlink()
    providers.write_parquet(folder / "providers.parquet")
    report = ingest([folder], tmp_path / "c.duckdb")
    assert report.ok, [str(p) for o in report.outcomes for p in o.problems]
    assert _read(tmp_path / "c.duckdb", "SELECT count(*) FROM providers").item() == 2


def test_semicolons_bom_and_windows_1252_are_read(tmp_path: Path) -> None:
    folder = untidy_returns.write(tmp_path / "in")
    text = (
        untidy_returns.FILES["contracts.csv"].replace(",", ";").replace('"£3;650;000"', "£3650000")
    )
    (folder / "contracts.csv").write_bytes(text.encode("cp1252"))
    providers = "\ufeff" + untidy_returns.FILES["providers.csv"]
    (folder / "providers.csv").write_bytes(providers.encode("utf-8"))
    report = ingest([folder], tmp_path / "c.duckdb")
    assert report.ok, [str(p) for o in report.outcomes for p in o.problems]
    values = _read(tmp_path / "c.duckdb", "SELECT monthly_value_gbp FROM contracts ORDER BY 1")
    assert values["monthly_value_gbp"].to_list() == [730_000.0, 3_650_000.0]


BAD_CASES = [
    pytest.param(
        "capacity.csv",
        header("capacity") + "NX101,diagnostics,2020-06-22,5\nZZ999,diagnostics,2020-06-22,5\n",
        (3, "site_code", "unknown site 'ZZ999'"),
        id="unknown-site",
    ),
    pytest.param(
        "capacity.csv",
        header("capacity") + "NX101,radiology,2020-06-22,5\n",
        (2, "service_line", "'radiology' is not a valid service_line"),
        id="service-line-outside-the-four",
    ),
    pytest.param(
        "capacity.csv",
        header("capacity") + "NX101,diagnostics,2020-06-23,5\n",
        (2, "week_start", "Monday"),
        id="week-start-not-a-monday",
    ),
    pytest.param(
        "capacity.csv",
        header("capacity") + "NX101,diagnostics,2020-06-22,5\nNX101,Diagnostics,22/06/2020,6\n",
        (3, "site_code, service_line, activity_type, week_start", "duplicate key"),
        id="duplicate-capacity-key",
    ),
    pytest.param(
        "activity_x.csv",
        header("activity") + "NX101,diagnostics,31/02/2020,nhs\n",
        (2, "activity_date", "'31/02/2020' is not a valid activity_date"),
        id="impossible-date",
    ),
    pytest.param(
        "activity_x.csv",
        header("activity") + "NX101,diagnostics,1899-06-01,nhs\n",
        (2, "activity_date", "years 2000"),
        id="out-of-range-date",
    ),
    pytest.param(
        "activity_x.csv",
        header("activity", "units") + "NX101,diagnostics,2020-07-01,nhs,-2\n",
        (2, "units", "whole number"),
        id="negative-units",
    ),
    pytest.param(
        "activity_x.csv",
        header("activity", "units") + "NX101,diagnostics,2020-07-01,nhs,1.5\n",
        (2, "units", "whole number"),
        id="fractional-units",
    ),
    pytest.param(
        "activity_x.csv",
        header("activity") + "NX101,diagnostics,2020-07-01,insurer\n",
        (2, "funding", "use nhs or private"),
        id="funding-not-nhs-or-private",
    ),
    pytest.param(
        "activity_x.csv",
        "site_code,service_line,activty_date,funding\nNX101,diagnostics,2020-07-01,nhs\n",
        (1, "activity_date", "is 'activty_date' meant to be activity_date?"),
        id="misspelt-required-column",
    ),
    pytest.param(
        "sites_more.csv",
        header("sites") + "NX301,NX3,Gamma One,London\n",
        (2, "provider_code", "unknown provider 'NX3'"),
        id="unknown-provider",
    ),
    pytest.param(
        "providers_more.csv",
        header("providers") + "NX4,Delta,Delta Group,Wessex\n",
        (2, "region", "NHS England regions"),
        id="unknown-region",
    ),
    pytest.param(
        "activity_x.csv",
        header("activity") + "NX101,diagnostics,2020-06-03,nhs\n",
        (2, "site_code", "already loaded from activity_2020-06.csv"),
        id="overlaps-an-earlier-activity-load",
    ),
]


@pytest.mark.parametrize(("name", "text", "expected"), BAD_CASES)
def test_bad_file_is_rejected_whole_with_file_row_and_column(
    tiny_db: Path, tmp_path: Path, name: str, text: str, expected: tuple[int, str, str]
) -> None:
    before = db.table_fingerprint(tiny_db)
    bad = tmp_path / "bad" / name
    bad.parent.mkdir()
    bad.write_text(text, encoding="utf-8")
    (outcome,) = ingest([bad], tiny_db).outcomes
    assert outcome.status == "rejected"
    row, column, fragment = expected
    first = outcome.problems[0]
    assert first.file == str(bad)
    assert (first.row, first.column) == (row, column)
    assert fragment in first.message
    assert db.table_fingerprint(tiny_db) == before


def test_a_rejected_file_changes_no_data_and_is_recorded(tiny_db: Path, tmp_path: Path) -> None:
    # Since migration 6 the load history records rejected files (issue 25), so the database
    # file changes; every data table stays exactly as it was.
    before = db.table_fingerprint(tiny_db)
    bad = tmp_path / "capacity_bad.csv"
    bad.write_text(header("capacity") + "NX101,x,2020-06-22,5\n")
    assert not ingest([bad], tiny_db).ok
    assert db.table_fingerprint(tiny_db) == before
    assert (
        db.Database(tiny_db).scalar(
            "SELECT count(*) FROM rejected_files WHERE file_name = 'capacity_bad.csv'"
        )
        == 1
    )


def test_good_files_load_when_another_in_the_run_is_rejected(tiny_db: Path, tmp_path: Path) -> None:
    good = tmp_path / "run" / "capacity_good.csv"
    good.parent.mkdir()
    good.write_text(header("capacity") + "NX102,diagnostics,2020-06-22,9\n")
    bad = tmp_path / "run" / "capacity_worse.csv"
    bad.write_text(header("capacity") + "NX102,diagnostics,2020-06-29,-9\n")
    report = ingest([good.parent], tiny_db)
    assert not report.ok
    assert {o.path.name: o.status for o in report.outcomes} == {
        "capacity_good.csv": "loaded",
        "capacity_worse.csv": "rejected",
    }
    weeks = _read(tiny_db, "SELECT week_start FROM capacity WHERE site_code = 'NX102'")
    assert date(2020, 6, 22) in weeks["week_start"].to_list()
    assert date(2020, 6, 29) not in weeks["week_start"].to_list()


def test_every_bad_value_is_counted_and_the_first_fifty_shown(
    tiny_db: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "activity_many_bad.csv"
    lines = ["site_code,service_line,activity_date,funding"]
    lines += [f"NX101,diagnostics,2020-07-{d:02d},nhs" for d in range(1, 11)]
    lines += ["NX101,diagnostics,not a date,nhs"] * 120
    bad.write_text("\n".join(lines) + "\n")
    (outcome,) = ingest([bad], tiny_db).outcomes
    assert outcome.total_problems == 120
    assert len(outcome.problems) == 50
    assert outcome.problems[0].row == 12  # header + 10 good rows, then the first bad one


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("capacity_empty.csv", b"", "empty"),
        ("capacity_header.csv", b"site_code,service_line,week_start,capacity_units\n", "no data"),
        ("capacity_binary.csv", b"\x00\x01\x02PK\x03\x04", "not"),
        ("notes.csv", b"a,b\n1,2\n", "does not start with a table name"),
        ("capacity_fake.xlsx", b"this is not a workbook", "Excel"),
    ],
)
def test_unreadable_files_get_a_plain_reason(
    tiny_db: Path, tmp_path: Path, name: str, content: bytes, fragment: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    (outcome,) = ingest([path], tiny_db).outcomes
    assert outcome.status == "rejected"
    assert fragment in str(outcome.problems[0])
