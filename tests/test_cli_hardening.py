"""`--db` naming something that is not a DuckDB file gives a one-line reason, and
`sql --format json` writes strict JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capwatch.cli import app
from capwatch.errors import NotADatabase

READERS = {
    "sql": ["sql", "SELECT 1"],
    "loads": ["loads"],
    "export": ["export", "providers", "--out", "OUT"],
    "flags": ["flags", "--out", "OUT"],
    "backtest": ["backtest", "--out", "OUT"],
    "migrate": ["migrate"],
    "unload": ["unload", "1"],
}


def _not_databases(tmp_path: Path) -> dict[str, Path]:
    csv = tmp_path / "capacity.duckdb"
    csv.write_text("site_code,units\nNX101,5\n", encoding="utf-8")
    empty = tmp_path / "empty.duckdb"
    empty.touch()
    folder = tmp_path / "folder.duckdb"
    folder.mkdir()
    return {"a CSV": csv, "an empty file": empty, "a folder": folder}


@pytest.mark.parametrize("command", READERS, ids=list(READERS))
def test_a_file_that_is_not_duckdb_is_named_not_traced(command: str, tmp_path: Path) -> None:
    for what, db in _not_databases(tmp_path).items():
        before = db.read_bytes() if db.is_file() else None
        args = [str(tmp_path / "out.csv") if a == "OUT" else a for a in READERS[command]]
        result = CliRunner().invoke(app, [*args, "--db", str(db)])
        assert isinstance(result.exception, NotADatabase), (what, result.output)
        assert str(db) in str(result.exception)
        assert "\n" not in str(result.exception)
        if before is not None:
            assert db.read_bytes() == before  # nothing written over it
        assert not (tmp_path / "out.csv").exists()


def test_the_reason_is_one_line_on_stderr_and_the_exit_code_non_zero(tmp_path: Path) -> None:
    db = _not_databases(tmp_path)["a CSV"]
    done = subprocess.run(
        [sys.executable, "-m", "capwatch", "loads", "--db", str(db)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip().count("\n") == 0
    assert "is not a DuckDB database" in done.stderr and "Traceback" not in done.stderr


def test_a_real_database_still_opens(synthetic_db: Path) -> None:
    result = CliRunner().invoke(app, ["sql", "SELECT 1 AS x", "--db", str(synthetic_db)])
    assert result.exit_code == 0, result.output


def _strict(text: str) -> object:
    def refuse(name: str) -> None:
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def test_sql_json_writes_null_for_nan_and_infinity(synthetic_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    query = (
        "SELECT 'nan'::DOUBLE AS a, 'inf'::DOUBLE AS b, '-inf'::DOUBLE AS c, 1.5::DOUBLE AS d, "
        "'nan'::REAL AS e"
    )
    result = CliRunner().invoke(
        app, ["sql", query, "--format", "json", "--out", str(out), "--db", str(synthetic_db)]
    )
    assert result.exit_code == 0, result.output
    rows = _strict(out.read_text(encoding="utf-8"))
    assert rows == [{"a": None, "b": None, "c": None, "d": 1.5, "e": None}]


def test_sql_json_keeps_finite_numbers_exactly(synthetic_db: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "sql",
            "SELECT 0.1::DOUBLE AS a, 1e300::DOUBLE AS b, 2::BIGINT AS c",
            "--format",
            "json",
            "--db",
            str(synthetic_db),
        ],
    )
    assert _strict(result.stdout) == [{"a": 0.1, "b": 1e300, "c": 2}]
