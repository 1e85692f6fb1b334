"""A rejected file says how many problems it has (all of them, not the first 50), every
independent problem of a file is reported in one pass, and `capwatch ingest --problems FILE`
writes every problem of every rejected file in the Data page's columns."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from capwatch import db
from capwatch.analytics.reference import rejected_file_problems
from capwatch.cli import app
from capwatch.load import ingest
from capwatch.outputs import OutputFailed, UnsafeOutput
from pipelines.problems import MAX_PROBLEMS_SHOWN, REJECTED_PROBLEM_COLUMNS
from tests import untidy_returns
from tests.tables_support import header

HEADER = header("capacity", "activity_type")
ROW = "NX101,diagnostics,,2020-09-07,5\n"


@pytest.fixture(scope="module")
def base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("totals")
    path = folder / "capacity.duckdb"
    assert ingest([untidy_returns.write(folder / "in")], path).ok
    return path


@pytest.fixture
def database(base_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "capacity.duckdb"
    shutil.copyfile(base_db, path)
    return path


def _capacity(tmp_path: Path, rows: list[str]) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "capacity.csv").write_text(HEADER + "".join(rows), encoding="utf-8")
    return folder


def test_a_million_duplicate_keys_are_counted_in_full(database: Path, tmp_path: Path) -> None:
    rows = 1_000_000
    folder = _capacity(tmp_path, ["NX101,diagnostics,,2020-09-07,5\n"] * rows)
    before = db.table_fingerprint(database)
    outcome = ingest([folder], database).outcomes[0]
    assert outcome.status == "rejected"
    assert outcome.total_problems == rows - 1  # every row after the first repeats its key
    assert len(outcome.problems) == MAX_PROBLEMS_SHOWN
    assert [p.row for p in outcome.problems[:2]] == [3, 4]  # header is row 1, first on row 2
    assert "already on row 2" in outcome.problems[0].message
    assert outcome.summary().endswith(
        f"{rows - 1:,} problem(s) (first {MAX_PROBLEMS_SHOWN} shown), nothing loaded"
    )
    assert db.table_fingerprint(database) == before


def test_unknown_sites_are_counted_in_full(database: Path, tmp_path: Path) -> None:
    rows = [f"ZZ{i:03d},diagnostics,,2020-09-07,5\n" for i in range(120)]
    outcome = ingest([_capacity(tmp_path, rows)], database).outcomes[0]
    assert outcome.total_problems == 120
    assert len(outcome.problems) == MAX_PROBLEMS_SHOWN
    assert "(first 50 shown)" in outcome.summary()


def test_every_independent_problem_in_one_pass(database: Path, tmp_path: Path) -> None:
    rows = [
        "NX101,diagnostics,,2020-09-07,lots\n",  # row 2: a bad value
        "ZZ999,diagnostics,,2020-09-07,5\n",  # row 3: an unknown site
        "NX101,day_case,,2020-09-07,5\n",  # row 4: fine
        "NX101,day_case,,2020-09-07,6\n",  # row 5: repeats row 4's key
    ]
    outcome = ingest([_capacity(tmp_path, rows)], database).outcomes[0]
    assert outcome.status == "rejected"
    assert [(p.row, p.column) for p in outcome.problems] == [
        (2, "capacity_units"),
        (3, "site_code"),
        (5, "site_code, service_line, activity_type, week_start"),
    ]
    assert outcome.total_problems == 3
    assert "(first" not in outcome.summary()


def test_a_bad_code_is_one_problem_not_two(database: Path, tmp_path: Path) -> None:
    """The look-alike: a value that cannot be read is not also an unknown site or a key."""
    rows = ["NX1!!,diagnostics,,2020-09-07,5\n", "NX1!!,diagnostics,,2020-09-07,5\n"]
    outcome = ingest([_capacity(tmp_path, rows)], database).outcomes[0]
    assert outcome.status == "rejected"
    assert {p.column for p in outcome.problems} == {"site_code"}
    assert outcome.total_problems == 2  # each row's bad code, nothing more
    assert all("unknown site" not in p.message for p in outcome.problems)


# -- the whole list as a file (`ingest --problems`) ------------------------------------


def _folder(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _ingest(folder: Path, database: Path, *extra: str):
    return CliRunner().invoke(app, ["ingest", str(folder), "--db", str(database), *extra])


def _read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, schema_overrides={"row_number": pl.Int64, "column_name": pl.String})


def test_every_duplicate_key_goes_to_the_file_and_the_true_count_to_the_console(
    database: Path, tmp_path: Path
) -> None:
    rows = 200_000
    folder = _folder(tmp_path, {"capacity.csv": HEADER + ROW * rows})
    out = tmp_path / "problems.csv"
    before = db.table_fingerprint(database)
    result = _ingest(folder, database, "--problems", str(out))
    assert result.exit_code == 1
    assert f"{rows - 1:,} problem(s) (first {MAX_PROBLEMS_SHOWN} shown)" in result.output
    assert result.output.count("duplicate key") == MAX_PROBLEMS_SHOWN  # the console: the first
    assert f"wrote the whole list of problems to {out}: {rows - 1:,} problems of 1 file" in (
        result.output
    )
    listed = _read(out)
    assert tuple(listed.columns) == REJECTED_PROBLEM_COLUMNS
    assert listed.height == rows - 1
    # the header is row 1 and the first data row (row 2) holds the key first: 3 .. rows + 1
    assert listed["row_number"].to_list() == list(range(3, rows + 2))
    assert listed["problem_no"].to_list() == list(range(1, rows))
    assert set(listed["file_name"]) == {"capacity.csv"}
    assert listed["problem"].str.ends_with("already on row 2").all()
    assert db.table_fingerprint(database) == before  # nothing loaded


def test_the_file_lists_what_the_data_page_lists_and_then_the_rest(
    database: Path, tmp_path: Path
) -> None:
    # rows 2-61: a bad capacity_units each (60), all one key; rows 62-131: unknown sites (70);
    # rows 132-133 repeat rows 2-61's key: 59 + 2 = 61 duplicates. 191 problems in all.
    rows = [f"NX101,diagnostics,,2020-09-07,lots{i}\n" for i in range(60)]
    rows += [f"ZZ{i:03d},diagnostics,,2020-09-14,5\n" for i in range(70)]
    rows += [ROW, ROW]
    folder = _folder(tmp_path, {"capacity.csv": HEADER + "".join(rows)})
    out = tmp_path / "problems.csv"
    result = _ingest(folder, database, "--problems", str(out))
    assert "191 problem(s) (first 50 shown)" in result.output
    listed = _read(out)
    assert listed.height == 191
    assert listed.filter(pl.col("column_name") == "capacity_units").height == 60
    assert listed.filter(pl.col("column_name") == "site_code").height == 70
    duplicates = listed.filter(pl.col("problem").str.starts_with("duplicate key"))
    assert duplicates["row_number"].to_list() == [*range(3, 62), 132, 133]
    assert listed["row_number"].is_sorted()
    assert listed.filter(pl.col("row_number") == 2)["problem"].item().startswith("'lots0'")
    assert listed.filter(pl.col("row_number") == 62)["problem"].item() == (
        "unknown site 'ZZ000'; load it in sites first"
    )
    recorded = rejected_file_problems(db.Database(database))
    assert tuple(recorded.columns) == REJECTED_PROBLEM_COLUMNS
    assert recorded.height == MAX_PROBLEMS_SHOWN  # the load history keeps the first ones
    # the first 50 of the file are exactly what the Data page shows for this rejection
    assert recorded.drop("rejection_id").equals(
        listed.head(MAX_PROBLEMS_SHOWN).drop("rejection_id")
    )
    assert listed["rejection_id"].unique().to_list() == recorded["rejection_id"].unique().to_list()


def test_two_rejected_files_in_run_order(database: Path, tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {
            "capacity_a.csv": HEADER + "ZZ001,diagnostics,,2020-09-07,5\n",
            "capacity_b.csv": HEADER + ROW + ROW + ROW,
        },
    )
    out = tmp_path / "problems.xlsx"
    result = _ingest(folder, database, "--problems", str(out))
    assert result.exit_code == 1
    listed = pl.read_excel(out, sheet_name="problems")
    assert listed.columns == list(REJECTED_PROBLEM_COLUMNS)
    assert listed.select("rejection_id", "file_name", "problem_no", "row_number").rows() == [
        (1, "capacity_a.csv", 1, 2),
        (2, "capacity_b.csv", 1, 3),
        (2, "capacity_b.csv", 2, 4),
    ]


def test_a_clean_ingest_writes_the_header_only(database: Path, tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"capacity.csv": HEADER + ROW})
    out = tmp_path / "problems.csv"
    result = _ingest(folder, database, "--problems", str(out))
    assert result.exit_code == 0, result.output
    assert f"no file rejected: {out} holds the header only" in result.output
    assert out.read_text(encoding="utf-8-sig").strip() == ",".join(REJECTED_PROBLEM_COLUMNS)


def test_without_the_option_the_console_says_how_to_get_the_rest(
    database: Path, tmp_path: Path
) -> None:
    folder = _folder(tmp_path, {"capacity.csv": HEADER + ROW * 60})
    result = _ingest(folder, database)
    assert "59 problem(s) (first 50 shown)" in result.output
    assert "--problems FILE.csv" in result.output


@pytest.mark.parametrize(
    ("name", "error", "reason"),
    [
        ("DB", UnsafeOutput, "it is the database"),
        ("WAL", UnsafeOutput, "write-ahead log"),
        ("problems.txt", None, "name a .csv or .xlsx file"),
        ("folder", UnsafeOutput, "is a folder"),
        ("/proc/problems.csv", OutputFailed, "cannot write"),
        ("UNDER_A_FILE", UnsafeOutput, "is not a folder"),
    ],
)
def test_a_bad_path_is_refused_in_one_line_before_anything_loads(
    name: str, error: type[Exception] | None, reason: str, database: Path, tmp_path: Path
) -> None:
    folder = _folder(tmp_path, {"capacity.csv": HEADER + ROW})
    (tmp_path / "folder").mkdir()
    out = {
        "DB": database,
        "WAL": database.with_name(database.name + ".wal"),
        "folder": tmp_path / "folder",
        "UNDER_A_FILE": database / "problems.csv",
    }.get(name, tmp_path / name if not name.startswith("/") else Path(name))
    before = database.read_bytes()
    result = _ingest(folder, database, "--problems", str(out))
    assert result.exit_code != 0
    message = str(result.exception) if error is not None else result.output
    if error is not None:
        assert isinstance(result.exception, error), result.output
    assert reason in message and "\n" not in message.strip()
    assert database.read_bytes() == before  # refused before the ingest ran
    assert not list(tmp_path.rglob("*.part"))


def test_the_list_never_replaces_an_input_nor_joins_a_folder_being_loaded(
    database: Path, tmp_path: Path
) -> None:
    folder = _folder(tmp_path, {"capacity.csv": HEADER + ROW + ROW})
    for out in (folder / "capacity.csv", folder / "problems.csv"):
        before = (folder / "capacity.csv").read_bytes()
        result = _ingest(folder / "capacity.csv" if out.name == "capacity.csv" else folder,
                         database, "--problems", str(out))  # fmt: skip
        assert result.exit_code == 1 and "write it elsewhere" in result.output
        assert (folder / "capacity.csv").read_bytes() == before
        assert not (folder / "problems.csv").exists()
