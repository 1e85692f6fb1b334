"""The bad-input corpus: every awkward file gets the right outcome (see tests/corpus/README.md).

Each case is loaded into a fresh copy of the tiny database (tests/untidy_returns.py, loads
1-6). A case is either loaded, and the stored rows are compared with values worked out by hand
from the file; or rejected whole, with the file, row and column and what to fix, and the database
unchanged; or skipped as already loaded. Small text cases live in tests/corpus/<case>/;
binary or long ones (Excel, Parquet, long text) are made here by code.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from capwatch import db
from capwatch.export import csv_bytes, export_relation
from capwatch.load import IngestReport, ingest
from tests import untidy_returns
from tests.tables_support import header

CORPUS = Path(__file__).parent / "corpus"
NEW = "load_id > 6"  # the tiny dataset takes loads 1-6
CAPACITY = f"SELECT site_code, service_line, activity_type, week_start, capacity_units FROM capacity WHERE {NEW} ORDER BY ALL"  # noqa: E501
JUL6, JUL13, JUL20, JUL27 = (date(2020, 7, d) for d in (6, 13, 20, 27))


@dataclass(frozen=True)
class Loaded:
    """The case loads; `sql` over the database returns exactly `rows`."""

    sql: str
    rows: list[tuple[object, ...]]
    note: str | None = None  # a fragment expected in the load's notes


@dataclass(frozen=True)
class Rejected:
    """The case is rejected whole; its first problem names this file, row and column."""

    file: str
    row: int | None
    column: str | None
    fragment: str


@dataclass(frozen=True)
class Skipped:
    """The case is recognised as already loaded and changes nothing."""

    fragment: str


Outcome = Loaded | Rejected | Skipped

CASES: dict[str, Outcome] = {
    # ---- accepted, with normalisation --------------------------------------------------
    "bom": Loaded(CAPACITY, [("NX101", "diagnostics", "", JUL6, 11)]),
    "windows_1252": Loaded(
        f'SELECT provider_code, provider_name, "group", region FROM providers WHERE {NEW}',
        [("NX3", "Crème Health £", "Crème Group", "London")],
        "Windows-1252",
    ),
    "utf8_pound": Loaded(
        f"SELECT contract_id, start_date, end_date, monthly_value_gbp FROM contracts WHERE {NEW}",
        [("C3", date(2020, 7, 1), date(2020, 7, 31), 1_250_000.50)],
    ),
    "semicolons": Loaded(
        CAPACITY,
        [("NX101", "diagnostics", "", JUL6, 12), ("NX102", "diagnostics", "", JUL6, 13)],
        "separated by ';'",
    ),
    "tabs": Loaded(CAPACITY, [("NX101", "diagnostics", "", JUL6, 14)], "separated by '\\t'"),
    "quoted_commas_newlines": Loaded(
        f"SELECT site_code, site_name FROM sites WHERE {NEW}",
        [("NX103", 'Alpha Three, "North" Wing\nLevel 2')],
    ),
    "thousands_separators": Loaded(
        CAPACITY,
        [("NX101", "diagnostics", "", JUL6, 1250), ("NX102", "diagnostics", "", JUL6, 2500)],
    ),
    "uk_iso_and_ambiguous_dates": Loaded(  # 06/07/2020 is 6 July: day first
        CAPACITY,
        [
            ("NX101", "diagnostics", "", JUL6, 1),
            ("NX101", "diagnostics", "", JUL13, 2),
            ("NX101", "diagnostics", "", JUL20, 3),
            ("NX101", "diagnostics", "", JUL27, 4),
        ],
    ),
    "lower_case_codes_stray_spaces": Loaded(
        CAPACITY,
        [
            ("NX101", "diagnostics", "mri", JUL6, 7),
            ("NX102", "diagnostics", "", JUL6, 8),
            ("NX102", "diagnostics", "non_obstetric_ultrasound", JUL6, 10),
            ("NX201", "day_case", "", JUL6, 9),
        ],
    ),
    "header_variants": Loaded(CAPACITY, [("NX101", "diagnostics", "", JUL6, 9)]),
    "extra_column": Loaded(
        CAPACITY, [("NX101", "diagnostics", "", JUL6, 9)], "ignored column(s) not in the contract"
    ),
    "duplicate_event_rows": Loaded(  # identical event rows are separate events: summed
        f"SELECT funding, units, source_rows FROM activity_daily WHERE {NEW} ORDER BY 1",
        [("nhs", 3, 3), ("private", 4, 2)],
    ),
    "nhs_above_capacity": Loaded(
        "SELECT site_code, service_line, week_start, detail FROM data_quality "
        "WHERE check_name = 'nhs_above_capacity'",
        [("NX102", "diagnostics", JUL6, "NHS units (5) above capacity (2)")],
        "NHS units above capacity in 1 site-week(s), e.g. NX102 diagnostics week of 2020-07-06",
    ),
    "formula_like_text": Loaded(  # stored as given; neutralised on export (tested below)
        f"SELECT site_code, site_name FROM sites WHERE {NEW} ORDER BY 1",
        [
            ("NX103", '=HYPERLINK("http://example.com","x")'),
            ("NX104", "+44 Clinic"),
            ("NX105", "-Minus Clinic"),
            ("NX106", "@SUM(A1)"),
        ],
    ),
    "blank_lines": Loaded(
        CAPACITY, [("NX101", "diagnostics", "", JUL6, 5), ("NX102", "diagnostics", "", JUL6, 6)]
    ),
    "no_final_line_break": Loaded(
        CAPACITY, [("NX101", "diagnostics", "", JUL6, 5), ("NX102", "diagnostics", "", JUL6, 6)]
    ),
    "number_forms": Loaded(
        CAPACITY,
        [("NX101", "diagnostics", "", JUL6, 12), ("NX102", "diagnostics", "", JUL6, 13)],
    ),
    "excel_title_merged_formulas_dates": Loaded(
        CAPACITY,
        [("NX101", "diagnostics", "", JUL6, 30), ("NX101", "diagnostics", "", JUL13, 35)],
        "read sheet 'Return', header on row 3",
    ),
    "parquet_typed_columns": Loaded(
        CAPACITY,
        [("NX101", "diagnostics", "mri", JUL6, 40), ("NX102", "diagnostics", "", JUL13, 41)],
    ),
    "activity_type_labels_as_written": Loaded(  # kept as written; matched by the folded key
        f"SELECT site_code, activity_type, activity_label FROM capacity WHERE {NEW} ORDER BY ALL",
        [
            ("NX101", "crème_brûlée_scan", "Crème-brûlée scan"),
            ("NX101", "gastroscopy_ogd", "Gastroscopy (OGD)"),
            ("NX101", "ophth", "Ophth."),
            ("NX102", "non_obstetric_ultrasound", "Non-obstetric Ultrasound"),
            ("NX201", "t_o", "T&O"),
        ],
    ),
    "activity_type_of_100_characters": Loaded(
        f"SELECT length(activity_label) FROM capacity WHERE {NEW}", [(100,)]
    ),
    "text_of_500_characters": Loaded(
        f"SELECT provider_code, length(provider_name) FROM providers WHERE {NEW}",
        [("NX3", 500)],
    ),
    # ---- the same content again: skipped, nothing changes --------------------------------
    "same_file_twice": Skipped("the same content was already loaded as providers.csv"),
    # ---- rejected whole -------------------------------------------------------------------
    "empty": Rejected("capacity.csv", None, None, "the file is empty"),
    "whitespace_only": Rejected("capacity.csv", 1, None, "the first line has no column headers"),
    "header_only": Rejected("capacity.csv", None, None, "no data rows below the header"),
    "missing_column": Rejected(
        "capacity.csv", 1, "capacity_units", "required column capacity_units is missing"
    ),
    "misspelt_required_header": Rejected(
        "capacity.csv", 1, "week_start", "is 'week_strat' meant to be week_start?"
    ),
    "misspelt_optional_header": Rejected(
        "activity_2020-07.csv", 1, "unts", "is it meant to be units? Rename it to units"
    ),
    "repeated_column": Rejected(
        "capacity.csv", 1, "Site Code", "a second column for site_code; keep one"
    ),
    "empty_required_value": Rejected(
        "capacity.csv", 3, "week_start", "week_start is empty but required"
    ),
    "impossible_date": Rejected(
        "activity_2020-07.csv", 2, "activity_date", "'31/02/2020' is not a valid activity_date"
    ),
    "us_date": Rejected(
        "activity_2020-07.csv", 2, "activity_date", "looks month-first, as in the US"
    ),
    "week_start_not_monday": Rejected(
        "capacity.csv", 2, "week_start", "the Monday that starts the week"
    ),
    "negative_units": Rejected(
        "capacity.csv", 2, "capacity_units", "use a whole number from 0 to 1,000,000"
    ),
    "fractional_units": Rejected(
        "activity_2020-07.csv", 2, "units", "'1.5' is not a valid units: use a whole number"
    ),
    "absurd_units": Rejected(
        "capacity.csv", 2, "capacity_units", "'5000000' is not a valid capacity_units"
    ),
    "scientific_notation": Rejected(
        "capacity.csv", 2, "capacity_units", "'1.2E+06' is not a valid capacity_units"
    ),
    "formula_in_number": Rejected(
        "capacity.csv", 2, "capacity_units", "'=SUM(A1:A3)' is not a valid capacity_units"
    ),
    "unknown_site": Rejected("capacity.csv", 3, "site_code", "unknown site 'ZZ999'"),
    "unknown_provider": Rejected("sites.csv", 2, "provider_code", "unknown provider 'NX9'"),
    "unknown_service_line": Rejected(
        "capacity.csv", 2, "service_line", "'radiology' is not a valid service_line"
    ),
    "unknown_region": Rejected("providers.csv", 2, "region", "use one of the NHS England regions"),
    "unknown_funding": Rejected("activity_2020-07.csv", 2, "funding", "use nhs or private"),
    "duplicate_key": Rejected(
        "capacity.csv",
        3,
        "site_code, service_line, activity_type, week_start",
        "duplicate key (site_code=NX101, service_line=diagnostics, activity_type=(none), "
        "week_start=2020-07-06) already on row 2",
    ),
    "duplicate_reference_rows": Rejected(
        "providers.csv", 3, "provider_code", "duplicate key (provider_code=NX3) already on row 2"
    ),
    "overlaps_earlier_load": Rejected(
        "activity_2020-06b.csv", 2, "site_code", "already loaded from activity_2020-06.csv"
    ),
    "contract_ends_before_start": Rejected(
        "contracts.csv", 2, "end_date", "end_date 2020-07-01 is before start_date 2020-07-31"
    ),
    "truncated_mid_row": Rejected(
        "activity_2020-07.csv", 4, None, "the last row has 4 of 6 values and no line break"
    ),
    "truncated_in_quotes": Rejected(
        "sites.csv", 3, None, "the file ends inside a quoted value: it looks cut off"
    ),
    "too_many_values": Rejected(
        "capacity.csv", 3, None, "the row has 7 values but the header has 5"
    ),
    "xlsx_that_is_csv": Rejected(
        "capacity.xlsx", None, None, "named .xlsx but its content is text or an unknown format"
    ),
    "parquet_that_is_csv": Rejected(
        "capacity.parquet", None, None, "named .parquet but its content is text"
    ),
    "csv_that_is_xlsx": Rejected(
        "capacity.csv", None, None, "named .csv but its content is an Excel workbook (.xlsx)"
    ),
    "binary_garbage": Rejected(
        "capacity.csv", None, None, "the file is not text (UTF-8 or Windows-1252)"
    ),
    "wrong_file_name": Rejected(
        "capcity.csv", None, None, "the file name does not start with a table name"
    ),
    "text_over_500_characters": Rejected(
        "providers.csv", 2, "provider_name", "provider_name has 2,000 characters"
    ),
    "excel_merged_cells_down_a_column": Rejected(
        "capacity.xlsx", 3, "site_code", "if the cell is merged with the one above, unmerge it"
    ),
    "activity_type_control_character": Rejected(
        "capacity.csv", 2, "activity_type", "holds a control character ('\\n', character 4)"
    ),
    "activity_type_over_100_characters": Rejected(
        "capacity.csv", 2, "activity_type", "activity_type has 101 characters"
    ),
    "activity_type_without_letters": Rejected(
        "capacity.csv", 3, "activity_type", "'--' is not a valid activity_type"
    ),
    "excel_two_data_sheets": Rejected(
        "capacity.xlsx", None, None, "2 sheets ('June', 'July') each hold a capacity table"
    ),
}


# ---- cases made by code (binary formats, long text) ------------------------------------------

CAP_HEADER = ["site_code", "service_line", "activity_type", "week_start", "capacity_units"]


def _excel(path: Path, build: Callable[[object], None]) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(path)
    build(book)
    book.close()


def _excel_title_merged_formulas_dates(folder: Path) -> None:
    def build(book: object) -> None:
        notes = book.add_worksheet("Notes")  # type: ignore[attr-defined]
        notes.write(0, 0, "Capacity return: July 2020. Contact the data team with questions.")
        sheet = book.add_worksheet("Return")  # type: ignore[attr-defined]
        day = book.add_format({"num_format": "dd/mm/yyyy"})  # type: ignore[attr-defined]
        sheet.merge_range("A1:E1", "Capacity return, July 2020")  # a merged title above
        sheet.write_row(2, 0, ["Site Code", "Service Line", "Activity Type", "Week Start", "Units"])
        sheet.write_string(2, 4, "Capacity Units")
        for r, (week, formula, cached) in enumerate(
            [(datetime(2020, 7, 6), "=10+20", 30), (datetime(2020, 7, 13), "=E4+5", 35)], start=3
        ):
            sheet.write_row(r, 0, ["NX101", "Diagnostics"])
            sheet.write_datetime(r, 3, week, day)  # a real date cell, not text
            sheet.write_formula(r, 4, formula, None, cached)  # Excel saves the value it shows

    _excel(folder / "capacity.xlsx", build)


def _excel_merged_cells_down_a_column(folder: Path) -> None:
    def build(book: object) -> None:
        sheet = book.add_worksheet("Return")  # type: ignore[attr-defined]
        sheet.write_row(0, 0, CAP_HEADER)
        sheet.merge_range("A2:A3", "NX101")  # the site written once for two rows
        sheet.write_row(1, 1, ["diagnostics", "", "2020-07-06", 5])
        sheet.write_row(2, 1, ["diagnostics", "", "2020-07-13", 6])

    _excel(folder / "capacity.xlsx", build)


def _excel_two_data_sheets(folder: Path) -> None:
    def build(book: object) -> None:
        for name, week in (("June", "2020-06-29"), ("July", "2020-07-06")):
            sheet = book.add_worksheet(name)  # type: ignore[attr-defined]
            sheet.write_row(0, 0, CAP_HEADER)
            sheet.write_row(1, 0, ["NX101", "diagnostics", "", week, 5])

    _excel(folder / "capacity.xlsx", build)


def _csv_that_is_xlsx(folder: Path) -> None:
    _excel_two_data_sheets(folder)
    (folder / "capacity.xlsx").rename(folder / "capacity.csv")


def _parquet_typed_columns(folder: Path) -> None:
    pl.DataFrame(
        {
            "site_code": ["NX101", "nx102"],
            "service_line": ["diagnostics", "Diagnostics"],
            "activity_type": ["MRI", None],
            "week_start": [JUL6, JUL13],
            "capacity_units": [40, 41],
        }
    ).write_parquet(folder / "capacity.parquet")


def _providers_with_name_of(length: int) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        name = ("Long Name Health " * 200)[:length]
        (folder / "providers.csv").write_text(
            header("providers") + f"NX3,{name},Gamma Group,London\n"
        )

    return make


def _capacity_labelled(length: int) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        label = ("Gastroscopy (OGD) with biopsy " * 10)[:length]
        (folder / "capacity.csv").write_text(
            ",".join(CAP_HEADER) + f"\nNX101,diagnostics,{label},2020-07-06,5\n"
        )

    return make


def _same_file_twice(folder: Path) -> None:
    (folder / "providers_resent.csv").write_text(
        untidy_returns.FILES["providers.csv"], encoding="utf-8"
    )


GENERATED: dict[str, Callable[[Path], None]] = {
    "excel_title_merged_formulas_dates": _excel_title_merged_formulas_dates,
    "excel_merged_cells_down_a_column": _excel_merged_cells_down_a_column,
    "excel_two_data_sheets": _excel_two_data_sheets,
    "csv_that_is_xlsx": _csv_that_is_xlsx,
    "parquet_typed_columns": _parquet_typed_columns,
    "text_of_500_characters": _providers_with_name_of(500),
    "text_over_500_characters": _providers_with_name_of(2000),
    "same_file_twice": _same_file_twice,
    "activity_type_of_100_characters": _capacity_labelled(100),
    "activity_type_over_100_characters": _capacity_labelled(101),
}


# ---- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("base")
    path = folder / "capacity.duckdb"
    report = ingest([untidy_returns.write(folder / "in")], path)
    assert report.ok, [str(p) for o in report.outcomes for p in o.problems]
    return path


def _fresh_db(base_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "capacity.duckdb"
    shutil.copyfile(base_db, path)
    return path


def _case_folder(case: str, tmp_path: Path) -> Path:
    folder = tmp_path / case
    if case in GENERATED:
        folder.mkdir()
        GENERATED[case](folder)
    else:
        shutil.copytree(CORPUS / case, folder)
    return folder


def _problems(report: IngestReport) -> list[str]:
    return [str(p) for o in report.outcomes for p in o.problems]


def test_the_corpus_has_at_least_thirty_cases_and_every_folder_is_one() -> None:
    committed = {p.name for p in CORPUS.iterdir() if p.is_dir()}
    assert committed | set(GENERATED) == set(CASES) | {"overlap_in_one_run"}
    assert len(CASES) >= 30
    assert sum(isinstance(o, Rejected) for o in CASES.values()) >= 15


def test_the_corpus_readme_lists_every_case() -> None:
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    for case in [*CASES, "overlap_in_one_run"]:
        assert f"`{case}`" in readme, case


@pytest.mark.parametrize("case", list(CASES))
def test_case_gets_the_right_outcome(case: str, base_db: Path, tmp_path: Path) -> None:
    database = _fresh_db(base_db, tmp_path)
    before = db.table_fingerprint(database)
    folder = _case_folder(case, tmp_path)
    report = ingest([folder], database)
    expected = CASES[case]
    outcome = report.outcomes[-1]  # one file per case (nhs_above_capacity: capacity, activity)
    if isinstance(expected, Loaded):
        assert {o.status for o in report.outcomes} == {"loaded"}, _problems(report)
        got = db.Database(database).query(expected.sql).rows()
        assert got == expected.rows
        if expected.note is not None:
            assert any(expected.note in n for n in outcome.notes), outcome.notes
        logged = db.Database(database).scalar(
            f"SELECT warnings FROM load_log WHERE load_id = {outcome.load_id}"
        )
        assert all(n in (logged or "") for n in outcome.notes)  # notes kept with the load
        return
    assert len(report.outcomes) == 1
    assert db.table_fingerprint(database) == before  # rejected or skipped: nothing changed
    if isinstance(expected, Skipped):
        assert outcome.status == "skipped"
        assert expected.fragment in outcome.notes[0]
        return
    assert outcome.status == "rejected"
    first = outcome.problems[0]
    assert Path(first.file).name == expected.file
    assert (first.row, first.column) == (expected.row, expected.column), str(first)
    assert expected.fragment in first.message, str(first)
    assert outcome.total_problems >= 1


def test_two_overlapping_files_in_one_run_load_the_first_and_reject_the_second(
    base_db: Path, tmp_path: Path
) -> None:
    database = _fresh_db(base_db, tmp_path)
    report = ingest([_case_folder("overlap_in_one_run", tmp_path)], database)
    assert [(o.path.name, o.status) for o in report.outcomes] == [
        ("capacity_a.csv", "loaded"),
        ("capacity_b.csv", "rejected"),
    ]
    first = report.outcomes[1].problems[0]
    assert (first.row, first.column) == (3, "site_code")
    assert "already loaded from capacity_a.csv" in first.message
    rows = db.Database(database).query(CAPACITY).rows()
    assert rows == [("NX101", "diagnostics", "", JUL6, 5), ("NX102", "diagnostics", "", JUL6, 6)]


def test_the_cli_reports_a_rejected_file_in_one_plain_line_each(
    base_db: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from capwatch.cli import app

    database = _fresh_db(base_db, tmp_path)
    folder = _case_folder("truncated_mid_row", tmp_path)
    result = CliRunner().invoke(app, ["ingest", str(folder), "--db", str(database)])
    assert result.exit_code != 0
    text = result.output + (result.stderr or "")
    assert "Traceback" not in text
    assert "activity_2020-07.csv, row 4: the last row has 4 of 6 values" in text
    assert "fix the rejected files and run ingest again" in text


# ---- CSV exports: formula injection neutralised, values round-trip -----------------------------

AWKWARD_TEXT = [
    '=HYPERLINK("http://example.com","x")',
    "+44 20 7946 0000",
    "-Minus Clinic",
    "@SUM(A1)",
    "\tTabbed",
    "\rCarriage",
    'Alpha, "North" Wing\nLevel 2',
    "£1,250,000.50 a month",
    "Crème brûlée ✓",
    "x" * 5000,
    "plain",
    "",
]


def _read_csv(data: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data, newline="")))


def _expected_cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# The dashboard's download buttons (capwatch.ui.download) write with export.csv_bytes too.
CSV_WRITERS = [pytest.param(csv_bytes, id="export.csv_bytes")]


@pytest.mark.parametrize("write", CSV_WRITERS)
def test_csv_neutralises_formulas_and_round_trips_everything_else(
    write: Callable[[pl.DataFrame], bytes],
) -> None:
    frame = pl.DataFrame(
        {
            "name": AWKWARD_TEXT,
            "note": list(reversed(AWKWARD_TEXT)),  # a second text column
            "units": list(range(-6, 6)),  # negative numbers are numbers, never prefixed
            "cost_gbp": [-1.5 + i for i in range(12)],
            "week_start": [date(2020, 6, 1 + i) for i in range(12)],
        }
    )
    rows = _read_csv(write(frame).decode("utf-8-sig"))
    assert list(rows[0]) == ["name", "note", "units", "cost_gbp", "week_start"]
    assert [r["name"] for r in rows] == [_expected_cell(v) for v in AWKWARD_TEXT]
    assert [r["note"] for r in rows] == [_expected_cell(v) for v in reversed(AWKWARD_TEXT)]
    assert [int(r["units"]) for r in rows] == list(range(-6, 6))
    assert [float(r["cost_gbp"]) for r in rows] == [-1.5 + i for i in range(12)]
    assert [r["week_start"] for r in rows] == [f"2020-06-{1 + i:02d}" for i in range(12)]


def test_exported_view_neutralises_formula_cells_loaded_from_a_return(
    base_db: Path, tmp_path: Path
) -> None:
    database = _fresh_db(base_db, tmp_path)
    assert ingest([_case_folder("formula_like_text", tmp_path)], database).ok
    assert ingest([_case_folder("quoted_commas_newlines", tmp_path)], database).ok
    out = tmp_path / "sites.csv"
    count = export_relation(database, "sites", out)
    rows = _read_csv(out.read_text(encoding="utf-8-sig"))
    stored = db.Database(database).query("SELECT site_code, site_name, latitude FROM sites")
    assert count == len(rows) == stored.height
    by_code = {r["site_code"]: r for r in rows}
    for code, name, latitude in stored.iter_rows():
        assert by_code[code]["site_name"] == _expected_cell(name)
        assert by_code[code]["latitude"] == ("" if latitude is None else str(latitude))
    assert by_code["NX103"]["site_name"] == 'Alpha Three, "North" Wing\nLevel 2'
