"""`capwatch sql`: the sandbox from the terminal as table, CSV or JSON, with one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from capwatch.cli import app
from capwatch.load import ingest
from tests import untidy_returns

runner = CliRunner()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = untidy_returns.write(tmp_path_factory.mktemp("sqlcli") / "in")
    path = folder.parent / "c.duckdb"
    assert ingest([folder], path).ok
    return path


def capwatch(*args: str) -> subprocess.CompletedProcess[str]:
    """The real console entry point in a child process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-c", "from capwatch.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def direct(db: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_table_format_aligns_columns_and_counts_rows(database: Path) -> None:
    sql = "SELECT provider_code, provider_name FROM providers ORDER BY provider_code"
    result = runner.invoke(app, ["sql", sql, "--db", str(database)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    expected = direct(database, sql)
    assert lines[0].split() == ["provider_code", "provider_name"]
    assert set(lines[1]) <= {"-", " "}
    for line, (code, name) in zip(lines[2:], expected, strict=False):
        assert line.startswith(code)
        assert line.rstrip().endswith(name)
        assert line.index(name) == lines[0].index("provider_name")  # aligned under its header
    assert lines[-1] == f"({len(expected)} rows)"


def test_table_format_says_when_it_shows_only_the_first_rows(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAPWATCH_SQL_MAX_ROWS", "3")
    result = runner.invoke(app, ["sql", "SELECT range AS n FROM range(10)", "--db", str(database)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.strip() for line in lines[2:5]] == ["0", "1", "2"]
    assert lines[-1] == "(showing the first 3 of 10 rows)"


def test_csv_to_stdout_has_every_row_and_is_formula_safe(database: Path) -> None:
    sql = "SELECT range AS n, CASE WHEN range = 2 THEN '=2+2' ELSE 'ok' END AS t FROM range(5000)"
    proc = capwatch("sql", sql, "--db", str(database), "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    rows = proc.stdout.splitlines()
    assert rows[0] == '\ufeff"n","t"'  # the byte-order mark, then the header
    assert len(rows) == 5001
    assert rows[3] == '2,"\'=2+2"'
    assert rows[-1] == '4999,"ok"'


def test_csv_and_json_to_a_file_match_duckdb(database: Path, tmp_path: Path) -> None:
    sql = "SELECT week_start, site_code, nhs_units FROM utilisation_weekly ORDER BY ALL"
    expected = direct(database, sql)
    out = tmp_path / "deep" / "u.csv"
    result = runner.invoke(app, ["sql", sql, "--db", str(database), "--format", "csv", "--out",
                                 str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(out, try_parse_dates=True)
    assert frame.rows() == expected
    out_json = tmp_path / "u.json"
    result = runner.invoke(app, ["sql", sql, "--db", str(database), "--format", "json", "--out",
                                 str(out_json)])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(out_json.read_text(encoding="utf-8"))
    assert [(r["week_start"], r["site_code"], r["nhs_units"]) for r in rows] == [
        (str(w), s, n) for w, s, n in expected
    ]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["DROP TABLE providers"], "Only read-only queries (SELECT) can run here; DROP"),
        (["SELECT * FROM read_csv('/etc/passwd')"], "disabled by configuration"),
        (["SELECT nope FROM providers"], "nope"),
        (["SELEC 1"], "syntax error"),
        (
            ["SELECT count(*) FROM range(1000000) a, range(1000000) b", "--timeout", "1"],
            "stopped after 1 s",
        ),
        (["SELECT 1", "--format", "xml"], "--format must be table, csv, json or xlsx"),
    ],
)
def test_errors_are_one_plain_line_and_a_non_zero_exit(
    database: Path, args: list[str], says: str
) -> None:
    proc = capwatch("sql", *args, "--db", str(database))
    assert proc.returncode != 0
    assert proc.stderr.startswith("capwatch: ")
    assert says in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_a_missing_database_is_a_plain_message(tmp_path: Path) -> None:
    proc = capwatch("sql", "SELECT 1", "--db", str(tmp_path / "none.duckdb"))
    assert proc.returncode == 1
    assert "No database" in proc.stderr
    assert "Traceback" not in proc.stderr
