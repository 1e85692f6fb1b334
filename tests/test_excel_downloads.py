"""Downloads that open right in Excel: CSV with the UTF-8 byte-order mark, and workbooks.

CSV: the bytes start with the mark and `£` survives the way Excel reads a file (UTF-8 when
the mark is there, else the Windows-1252 code page). Workbooks are opened with openpyxl, a
reader other than the writer (XlsxWriter): cell types, number formats, dates, the frozen
header, formula-looking text stored as text, the `About` sheet, and the row limit. Expected
values come from the tiny hand-checkable dataset (`tests.untidy_returns`) or from the
constructed frames.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from capwatch import export, xlsx
from capwatch.analytics.filters import Filters
from capwatch.analytics.reference import templates
from capwatch.cli import app
from capwatch.columns import Family, Kind, kind, measure
from capwatch.export import Loads
from capwatch.load import ingest
from capwatch.ui.pages import PAGES
from tests import untidy_returns as tiny
from tests.download_support import deferred_files

runner = CliRunner()
BOM = b"\xef\xbb\xbf"
SENTENCE = "NR5's contract cost £5,306 per NHS unit"
MONEY = "[$£-809]#,##0.00"


def excel_reads(data: bytes) -> str:
    """How Excel on Windows (UK) decodes a double-clicked CSV: UTF-8 if it starts with the
    byte-order mark, else the Windows-1252 code page."""
    if data.startswith(BOM):
        return data[len(BOM) :].decode("utf-8")
    return data.decode("cp1252", errors="replace")


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny dataset plus a provider whose name and group look like formulas."""
    folder = tmp_path_factory.mktemp("excel")
    files = dict(tiny.FILES)
    files["providers.csv"] += 'NX3,=HYPERLINK("http://x"),@Group,London\n'
    database = folder / "c.duckdb"
    assert ingest([tiny.write(folder / "in", files)], database).ok
    return database


def _book(data: bytes | Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)


def _about(book: openpyxl.Workbook) -> dict[str, str]:
    sheet = book[xlsx.ABOUT_SHEET]
    return {r[0]: r[1] for r in sheet.iter_rows(min_row=3, values_only=True) if r[0]}


def _header_and_rows(sheet: openpyxl.worksheet.worksheet.Worksheet) -> tuple[list, list]:
    rows = list(sheet.iter_rows())
    return [c.value for c in rows[0]], rows[1:]


# -- CSV ------------------------------------------------------------------------------------


def test_csv_bytes_carry_the_mark_and_pound_survives_excel() -> None:
    frame = pl.DataFrame({"explanation": [SENTENCE], "money_at_stake_gbp": [5306.0]})
    data = export.csv_bytes(frame)
    assert data.startswith(BOM)
    assert list(csv.reader(io.StringIO(excel_reads(data)))) == [
        ["explanation", "money_at_stake_gbp"], [SENTENCE, "5306.0"]
    ]  # fmt: skip
    # The problem the mark solves: the same text without it, read as Excel would.
    assert "Â£5,306" in excel_reads(data[len(BOM) :])


def test_every_cli_csv_starts_with_the_mark(tiny_db: Path, tmp_path: Path) -> None:
    exported = tmp_path / "contracts.csv"
    result = runner.invoke(
        app, ["export", "contracts", "--out", str(exported), "--db", str(tiny_db)]
    )
    assert result.exit_code == 0, result.output
    flags = tmp_path / "flags.csv"
    result = runner.invoke(app, ["flags", "--out", str(flags), "--db", str(tiny_db)])
    assert result.exit_code == 0, result.output
    queried = tmp_path / "q.csv"
    result = runner.invoke(
        app,
        ["sql", "SELECT '£' || 1 AS x", "--db", str(tiny_db), "--format", "csv", "--out",
         str(queried)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for path in (exported, flags, queried):
        assert path.read_bytes().startswith(BOM), path.name
    assert excel_reads(queried.read_bytes()).splitlines() == ['"x"', '"£1"']
    # The formula rule still holds in the exported view, in key order.
    rows = list(csv.DictReader(io.StringIO(excel_reads(exported.read_bytes()))))
    assert [r["contract_id"] for r in rows] == ["C1", "C2"]
    assert [float(r["monthly_value_gbp"]) for r in rows] == [3_650_000, 730_000]


def test_sql_csv_on_stdout_starts_with_the_mark(tiny_db: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "from capwatch.cli import main; main()", "sql",
         "SELECT 'contract cost £5,306' AS s", "--db", str(tiny_db), "--format", "csv"],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    assert proc.stdout.startswith(BOM)
    assert excel_reads(proc.stdout).splitlines() == ['"s"', '"contract cost £5,306"']


def test_template_csv_downloads_carry_the_mark() -> None:
    contracts = templates().filter(pl.col("table_name") == "contracts")["template_csv"].item()
    data = export.template_csv_bytes(contracts)
    assert data.startswith(BOM)
    assert "£9,500,000" in excel_reads(data)


# -- the column vocabulary ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "family", "expected"),
    [
        ("unused_capacity_cost_gbp", Family.FLOAT, Kind.MONEY),
        ("unit_price_gbp", Family.INTEGER, Kind.MONEY),
        ("utilisation", Family.FLOAT, Kind.PERCENT),
        ("private_share", Family.FLOAT, Kind.PERCENT),
        ("capacity_units", Family.INTEGER, Kind.INTEGER),
        ("latitude", Family.FLOAT, Kind.NUMBER),
        ("week_start", Family.DATE, Kind.DATE),
        ("loaded_at", Family.DATETIME, Kind.DATETIME),
        ("provider_code", Family.TEXT, Kind.TEXT),
        ("money_gbp_note", Family.TEXT, Kind.TEXT),  # a name alone never makes text a number
    ],
)
def test_column_kinds(name: str, family: Family, expected: Kind) -> None:
    assert kind(name, family) is expected


def test_the_dashboard_tables_use_the_same_vocabulary() -> None:
    from capwatch.ui import tables

    for name, config in tables.COLUMNS.items():
        fmt = config.get("type_config", {}).get("format") if isinstance(config, dict) else None
        if measure(name) is Kind.MONEY:
            assert fmt == tables.GBP, name
        elif measure(name) is Kind.PERCENT:
            assert fmt == tables.PERCENT, name


# -- workbooks ------------------------------------------------------------------------------


def test_a_frame_becomes_a_typed_formatted_workbook() -> None:
    frame = pl.DataFrame(
        {
            "provider_code": ["NX1", "NX3", None],
            "provider_name": ["Alpha Health", '=HYPERLINK("http://x")', "-minus"],
            "week_start": [date(2020, 6, 1), date(2020, 6, 8), None],
            "loaded_at": [datetime(2026, 1, 2, 3, 4, 5)] * 3,
            "capacity_units": [10, 1_000, 0],
            "utilisation": [0.25, None, 1.5],
            "unused_capacity_cost_gbp": [1234.5, 0.0, 99_999_999.99],
            "latitude": [51.5, 53.8, None],
            "explanation": [SENTENCE, "ok", "ok"],
        }
    )
    filters = Filters(week_from=date(2020, 6, 1), week_to=date(2020, 6, 29), regions=("London",))
    about = export.provenance(
        "providers by utilisation",
        rows=frame.height,
        filters=filters.provenance(),
        data=Loads(ids=(1, 2, 3, 5), last_loaded=datetime(2026, 1, 2, 3, 4)),
        made_at=datetime(2026, 11, 29, 12, 0, tzinfo=UTC),
    )
    book = _book(export.xlsx_bytes(frame, "providers_by_utilisation", about))
    assert book.sheetnames == ["providers_by_utilisation", "About"]
    sheet = book["providers_by_utilisation"]
    header, rows = _header_and_rows(sheet)
    assert header == frame.columns
    assert sheet.freeze_panes == "A2"  # the header stays in view
    assert sheet.auto_filter.ref == "A1:I4"
    cells = {name: [row[i] for row in rows] for i, name in enumerate(header)}

    assert [c.value for c in cells["provider_code"]] == ["NX1", "NX3", None]
    name = cells["provider_name"]
    assert [(c.value, c.data_type) for c in name] == [
        ("Alpha Health", "s"), ('=HYPERLINK("http://x")', "s"), ("-minus", "s")
    ]  # fmt: skip
    assert [c.quotePrefix for c in name] == [False, True, True]  # stays text when edited
    assert [(c.value, c.number_format) for c in cells["week_start"][:2]] == [
        (datetime(2020, 6, 1), "dd mmm yyyy"), (datetime(2020, 6, 8), "dd mmm yyyy")
    ]  # fmt: skip
    assert cells["week_start"][0].is_date and cells["week_start"][2].value is None
    assert cells["loaded_at"][0].value == datetime(2026, 1, 2, 3, 4, 5)
    assert cells["loaded_at"][0].number_format == "dd mmm yyyy hh:mm:ss"
    assert [(c.value, c.data_type, c.number_format) for c in cells["capacity_units"]] == [
        (10, "n", "#,##0"), (1000, "n", "#,##0"), (0, "n", "#,##0")
    ]  # fmt: skip
    assert [(c.value, c.number_format) for c in cells["utilisation"]] == [
        (0.25, "0.0%"), (None, "General"), (1.5, "0.0%")
    ]  # fmt: skip
    money = cells["unused_capacity_cost_gbp"]
    assert [c.value for c in money] == [1234.5, 0, 99_999_999.99]  # unrounded
    assert {c.number_format for c in money} == {MONEY}
    assert [c.value for c in cells["latitude"]] == [51.5, 53.8, None]
    assert cells["explanation"][0].value == SENTENCE  # £ as written
    # Widths fit: at least the longest shown value, never wider than the cap.
    widths = {col: sheet.column_dimensions[col].width for col in "ABCDEFGHI"}
    assert widths["G"] >= len("£99,999,999.99")
    assert widths["I"] >= len(SENTENCE)
    assert max(widths.values()) <= xlsx.MAX_WIDTH + 1

    facts = _about(book)
    assert facts["What"] == "providers by utilisation"
    assert facts["Rows"] == "3"
    assert facts["Period"] == "weeks starting 2020-06-01 to 2020-06-29"
    assert facts["Regions"] == "London" and facts["Providers"] == "all"
    assert facts["Access scope"] == "every region"
    assert facts["Made"] == "2026-11-29 12:00:00 UTC"
    assert facts["Data"] == "load ids 1-3, 5 (4 files; last loaded 2026-01-02 03:04 UTC)"


def test_sheet_names_are_valid_for_excel() -> None:
    assert xlsx.sheet_name("providers_in_North East & Yorkshire/x?") == (
        "providers_in_North East & Yorks"
    )
    assert xlsx.sheet_name("About") == "data"
    assert len(xlsx.sheet_name("x" * 40)) == 31


def test_export_view_to_xlsx_from_the_cli(tiny_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "contracts.xlsx"
    result = runner.invoke(app, ["export", "contracts", "--out", str(out), "--db", str(tiny_db)])
    assert result.exit_code == 0, result.output
    assert "wrote 2 rows of contracts" in result.output
    book = _book(out)
    header, rows = _header_and_rows(book["contracts"])
    values = [{h: c.value for h, c in zip(header, row, strict=True)} for row in rows]
    # From tests/untidy_returns.py by hand: C1 £3,650,000 a month in June, C2 removed 15 June.
    assert [(v["contract_id"], v["monthly_value_gbp"]) for v in values] == [
        ("C1", 3_650_000), ("C2", 730_000)
    ]  # fmt: skip
    assert values[0]["start_date"] == datetime(2020, 6, 1)
    assert values[1]["removed_date"] == datetime(2020, 6, 15)
    first = dict(zip(header, rows[0], strict=True))
    assert first["monthly_value_gbp"].number_format == MONEY
    assert first["end_date"].is_date
    facts = _about(book)
    assert facts["Rows"] == "2" and facts["Filters"] == "none: every row"
    assert facts["Data"].startswith("load ids 1-6 (6 files")


def test_formula_looking_text_is_text_in_an_exported_workbook(
    tiny_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "providers.xlsx"
    result = runner.invoke(
        app, ["export", "providers", "--out", str(out), "--db", str(tiny_db), "--format", "xlsx"]
    )
    assert result.exit_code == 0, result.output
    header, rows = _header_and_rows(_book(out)["providers"])
    nx3 = next(dict(zip(header, r, strict=True)) for r in rows if r[0].value == "NX3")
    assert (nx3["provider_name"].value, nx3["provider_name"].data_type) == (
        '=HYPERLINK("http://x")', "s"
    )  # fmt: skip
    assert nx3["group"].value == "@Group" and nx3["group"].quotePrefix


def test_flags_to_xlsx_keep_pound_sentences_and_money(tiny_db: Path, tmp_path: Path) -> None:
    csv_out, xlsx_out = tmp_path / "flags.csv", tmp_path / "flags.xlsx"
    param = ["--param", "low_utilisation.threshold=0.5"]
    for out in (csv_out, xlsx_out):
        result = runner.invoke(app, ["flags", "--out", str(out), "--db", str(tiny_db), *param])
        assert result.exit_code == 0, result.output
    from_csv = list(csv.DictReader(io.StringIO(excel_reads(csv_out.read_bytes()))))
    book = _book(xlsx_out)
    header, rows = _header_and_rows(book["flags"])
    assert len(rows) == len(from_csv) > 0
    column = header.index("explanation")
    assert [r[column].value for r in rows] == [r["explanation"] for r in from_csv]
    assert any("£" in r[column].value for r in rows)
    money = header.index("money_at_stake_gbp")
    assert [r[money].value for r in rows] == pytest.approx(
        [float(r["money_at_stake_gbp"]) for r in from_csv]
    )
    assert {r[money].number_format for r in rows} == {MONEY}
    assert _about(book)["Rule settings"] == "low_utilisation.threshold=0.5"


def test_sql_to_xlsx_needs_a_file_and_types_its_cells(tiny_db: Path, tmp_path: Path) -> None:
    query = "SELECT week_start, capacity_units, utilisation FROM utilisation_weekly ORDER BY ALL"
    result = runner.invoke(app, ["sql", query, "--db", str(tiny_db), "--format", "xlsx"])
    assert result.exit_code != 0
    assert "needs --out" in result.output
    out = tmp_path / "q.xlsx"
    result = runner.invoke(app, ["sql", query, "--db", str(tiny_db), "--format", "xlsx", "--out",
                                 str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    book = _book(out)
    header, rows = _header_and_rows(book["sql_result"])
    assert header == ["week_start", "capacity_units", "utilisation"]
    # tests/untidy_returns.py: capacity 10 + 5 + 20 (week of 1 June, diagnostics), 4, then 1,000.
    assert sorted(r[1].value for r in rows) == [4, 10 + 5, 20, 1000]
    assert all(r[0].is_date and r[2].number_format == "0.0%" for r in rows)
    assert _about(book)["Query"] == query


# -- Excel's row limit ---------------------------------------------------------------------


def test_the_row_limit_is_checked_before_writing(tmp_path: Path) -> None:
    xlsx.check_rows(xlsx.MAX_DATA_ROWS)  # exactly a full sheet is fine
    with pytest.raises(xlsx.TooManyRows, match="Download it as CSV"):
        xlsx.check_rows(xlsx.MAX_DATA_ROWS + 1)
    assert xlsx.MAX_DATA_ROWS + 1 == 1_048_576  # the header and the rows


def test_a_view_too_big_for_a_sheet_is_refused_and_nothing_written(
    tiny_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx, "MAX_DATA_ROWS", 3)  # stands in for Excel's 1,048,575
    out = tmp_path / "capacity.xlsx"
    result = runner.invoke(app, ["export", "capacity", "--out", str(out), "--db", str(tiny_db)])
    assert result.exit_code != 0
    assert isinstance(result.exception, xlsx.TooManyRows)
    assert "5 rows is more than an Excel sheet holds" in str(result.exception)
    assert not out.exists() and not list(tmp_path.glob("*.part"))


def test_more_rows_than_announced_are_refused_too(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(xlsx, "MAX_DATA_ROWS", 2)
    frame = pl.DataFrame({"n": [1, 2, 3]})
    table = frame.to_arrow()
    about = xlsx.Provenance("t", ())
    with pytest.raises(xlsx.TooManyRows):
        xlsx.write_workbook(
            tmp_path / "t.xlsx", "t", table.schema, table.to_batches(), about, rows=1
        )
    assert not list(tmp_path.iterdir())


# -- templates ------------------------------------------------------------------------------


def test_excel_templates_load_back_through_ingest(tmp_path: Path) -> None:
    """Each input template as a workbook (all text, with its About sheet) is read by ingest."""
    folder = tmp_path / "templates"
    folder.mkdir()
    for row in templates().iter_rows(named=True):
        data = export.template_xlsx_bytes(row["table_name"], row["template_csv"])
        book = _book(data)
        header, rows = _header_and_rows(book[row["table_name"]])
        assert header == row["template_csv"].splitlines()[0].split(",")
        assert all((c.data_type in ("s", "n") and c.value is None) or c.data_type == "s"
                   for c in rows[0])  # fmt: skip
        (folder / f"{row['table_name']}.xlsx").write_bytes(data)
    report = ingest([folder], tmp_path / "t.duckdb")
    assert report.ok, [str(p) for o in report.outcomes for p in o.problems]
    assert report.count("loaded") == len(templates())


# -- the pages -----------------------------------------------------------------------------


def _page(tiny_db: Path, monkeypatch: pytest.MonkeyPatch, name: str):
    from streamlit.testing.v1 import AppTest

    from capwatch.ui.scripts import ENTRY_SCRIPT, page_file

    monkeypatch.setenv("CAPWATCH_DB", str(tiny_db))
    monkeypatch.setenv("CAPWATCH_AUDIT_LOG", str(tiny_db.with_name("audit.jsonl")))
    at = AppTest.from_file(str(ENTRY_SCRIPT), default_timeout=60).run()
    at.switch_page(page_file(name)).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("name", [p.name for p in PAGES if p.downloads])
def test_every_csv_download_on_a_page_has_an_excel_one_beside_it(
    tiny_db: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    at = _page(tiny_db, monkeypatch, name)
    buttons = at.get("download_button")
    csv_keys = {b.proto.id for b in buttons if b.proto.label.startswith("Download CSV")}
    labels = [b.proto.label for b in buttons]
    assert csv_keys, labels
    assert labels.count("Excel (.xlsx)") >= len(csv_keys)
    for csv_label, excel_label in zip(labels[::2], labels[1::2], strict=True):
        assert excel_label == "Excel (.xlsx)", (csv_label, excel_label)


def test_a_table_too_big_for_excel_gets_a_disabled_button_saying_why(
    tiny_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx, "MAX_DATA_ROWS", 1)  # stands in for Excel's 1,048,575
    at = _page(tiny_db, monkeypatch, "providers")
    assert "Excel (.xlsx)" not in [b.proto.label for b in at.get("download_button")]
    (disabled,) = [b for b in at.button if b.label == "Excel (.xlsx)"]
    assert disabled.disabled
    assert "more than an Excel sheet holds" in disabled.help


def _made_files(db: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> dict[str, Any]:
    """The files a page's download buttons would make when clicked (name -> callable)."""
    made = deferred_files(monkeypatch)
    _page(db, monkeypatch, name)
    return made


def _about_of(workbook: bytes) -> dict[str, str]:
    book = openpyxl.load_workbook(io.BytesIO(workbook))
    return {r[0]: r[1] for r in book["About"].iter_rows(min_row=3, values_only=True) if r[0]}


@pytest.mark.parametrize("synthetic", [True, False])
def test_downloads_say_synthetic_only_when_the_data_are(
    synthetic: bool,
    synthetic_db: Path,
    tiny_db: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    db = synthetic_db if synthetic else tiny_db
    if synthetic:  # a copy: the page writes nothing, but the shared file stays untouched
        db = Path(shutil.copy(synthetic_db, tmp_path / "synthetic.duckdb"))
    made = _made_files(db, monkeypatch, "providers")
    names = sorted(made)
    assert names, "no download on the Providers page"
    prefix = "capwatch-synthetic_" if synthetic else "capwatch_"
    assert all(n.startswith(prefix) for n in names), names
    workbook = next(n for n in names if n.endswith(".xlsx"))
    about = _about_of(made[workbook]())
    assert ("Synthetic data" in about) is synthetic, about
    if synthetic:
        assert "not real NHS data" in about["Synthetic data"]


def test_provenance_names_synthetic_data_only_when_asked() -> None:
    from capwatch.export import provenance

    plain = dict(provenance("x", rows=1, filters=None, data=None).items)
    marked = dict(provenance("x", rows=1, filters=None, data=None, synthetic=True).items)
    assert "Synthetic data" not in plain
    assert marked["Synthetic data"].startswith("SYNTHETIC")
