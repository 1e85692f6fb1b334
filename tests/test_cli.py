"""The command line: exit codes, one-line reasons, no tracebacks, `--db` and `$CAPWATCH_DB`."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from capwatch import db
from capwatch.cli import app
from tests import untidy_returns
from tests.tables_support import header

runner = CliRunner()


def _capwatch(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    """Run the real console entry point in a child process (as a user would)."""
    return subprocess.run(
        [sys.executable, "-c", "from capwatch.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def test_ingest_then_export_round_trip(tmp_path: Path) -> None:
    database = tmp_path / "c.duckdb"
    result = runner.invoke(
        app, ["ingest", str(untidy_returns.write(tmp_path / "in")), "--db", str(database)]
    )
    assert result.exit_code == 0, result.output
    assert "6 loaded, 0 skipped, 0 rejected" in result.output
    out = tmp_path / "uw.csv"
    result = runner.invoke(
        app, ["export", "utilisation_weekly", "--out", str(out), "--db", str(database)]
    )
    assert result.exit_code == 0, result.output
    exported = pl.read_csv(out)
    direct = db.Database(database).query("SELECT * FROM utilisation_weekly")
    assert exported.height == direct.height == 4
    assert exported["capacity_units"].sum() == direct["capacity_units"].sum() == 1039


def test_a_rejected_file_fails_the_run_after_the_good_ones_load(tmp_path: Path) -> None:
    folder = untidy_returns.write(tmp_path / "in")
    (folder / "capacity_bad.csv").write_text(
        header("capacity") + "NX101,diagnostics,2020-06-23,5\n"
    )
    database = tmp_path / "c.duckdb"
    proc = _capwatch("ingest", str(folder), "--db", str(database))
    assert proc.returncode == 1
    assert "capacity_bad.csv, row 2, column week_start" in proc.stdout
    assert proc.stderr.strip().count("\n") == 0  # one line
    assert "6 loaded, 0 skipped, 1 rejected" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert db.Database(database).scalar("SELECT count(*) FROM capacity") == 5


def test_db_defaults_to_the_environment_then_data_folder(tmp_path: Path) -> None:
    folder = untidy_returns.write(tmp_path / "in")
    env_db = tmp_path / "env.duckdb"
    proc = _capwatch("ingest", str(folder), env={"CAPWATCH_DB": str(env_db), "PATH": ""})
    assert proc.returncode == 0, proc.stderr
    assert env_db.exists()
    work = tmp_path / "work"
    work.mkdir()
    proc = _capwatch("ingest", str(folder), cwd=work, env={"PATH": ""})
    assert proc.returncode == 0, proc.stderr
    assert (work / "data" / "capacity.duckdb").exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["export", "no_such_view", "--out", "x.csv"], "unknown table or view 'no_such_view'"),
        (["export", "providers", "--out", "x.csv", "--db", "missing.duckdb"], "No database at"),
        (["ingest", "no/such/folder"], "no such file or folder"),
        (["generate", "--out", "g", "--scale", "0"], "--scale must be greater than 0"),
    ],
)
def test_user_errors_exit_non_zero_with_a_reason_and_no_traceback(
    tmp_path: Path, args: list[str], fragment: str
) -> None:
    proc = _capwatch(*args, cwd=tmp_path)
    assert proc.returncode != 0
    assert fragment in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_export_neutralises_formula_cells(tmp_path: Path) -> None:
    files = dict(untidy_returns.FILES)
    files["providers.csv"] += 'NX3,=HYPERLINK("http://x"),@Group,London\n'
    database = tmp_path / "c.duckdb"
    assert (
        runner.invoke(
            app,
            ["ingest", str(untidy_returns.write(tmp_path / "in", files)), "--db", str(database)],
        ).exit_code
        == 0
    )
    out = tmp_path / "p.csv"
    assert (
        runner.invoke(
            app, ["export", "providers", "--out", str(out), "--db", str(database)]
        ).exit_code
        == 0
    )
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # the mark Excel needs for UTF-8
    with out.open(newline="", encoding="utf-8-sig") as fh:
        rows = {r["provider_code"]: r for r in csv.DictReader(fh)}
    assert rows["NX3"]["provider_name"] == '\'=HYPERLINK("http://x")'
    assert rows["NX3"]["group"] == "'@Group"
    assert rows["NX1"]["provider_name"] == "Alpha Health"


def test_schema_prints_every_documented_relation() -> None:
    from capwatch.schema import RELATIONS

    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    for relation in RELATIONS:
        assert f"`{relation.name}`" in result.output


def test_generate_writes_the_input_contract(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", "--out", str(tmp_path / "g"), "--scale", "0.02"])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "g").iterdir())
    assert names[:2] == ["activity_2020-06.csv", "activity_2020-07.csv"]
    assert {
        "providers.csv",
        "sites.csv",
        "contracts.csv",
        "unit_prices.csv",
        "capacity.csv",
    } <= set(names)


def test_demo_build_only_creates_the_database(tmp_path: Path) -> None:
    database = tmp_path / "data" / "capacity.duckdb"
    result = runner.invoke(app, ["demo", "--db", str(database), "--scale", "0.02", "--build-only"])
    assert result.exit_code == 0, result.output
    assert db.Database(database).scalar("SELECT count(DISTINCT region) FROM sites") == 7
