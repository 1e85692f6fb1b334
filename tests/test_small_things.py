"""The small things a new user and a hostile tester found: --version, "did you mean", plurals,
one-line reasons, and the load history after an unload."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from capwatch import __version__, db
from capwatch.analytics.reference import load_history
from capwatch.cli import _count, app, one_line
from capwatch.load import ingest
from tests import untidy_returns
from tests.tables_support import header


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"capwatch {__version__}\n"


def test_a_mistyped_view_gets_a_suggestion(synthetic_db: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "x.csv")
    typo = CliRunner().invoke(
        app, ["export", "activity_dialy", "--out", out, "--db", str(synthetic_db)]
    )
    assert "did you mean activity_daily?" in str(typo.exception)
    other = CliRunner().invoke(app, ["export", "zebra", "--out", out, "--db", str(synthetic_db)])
    assert "did you mean" not in str(other.exception)  # nothing close: the list instead
    assert "activity_daily" in str(other.exception)


def test_counts_agree_with_their_nouns() -> None:
    assert [_count(n, "flag") for n in (0, 1, 2, 1204)] == [
        "0 flags",
        "1 flag",
        "2 flags",
        "1,204 flags",
    ]


def test_the_flags_summary_never_says_1_flags(synthetic_db: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["flags", "--out", str(tmp_path / "f.csv"), "--db", str(synthetic_db)]
    )
    assert result.exit_code == 0, result.output
    assert " 1 flags" not in result.output and " 1 providers" not in result.output
    assert "flag" in result.output


def test_errors_are_one_line() -> None:
    duckdb_style = 'Parser Error: syntax error at or near "SELEC"\n\nLINE 1: SELEC 1\n        ^'
    assert (
        one_line(duckdb_style) == 'Parser Error: syntax error at or near "SELEC"; LINE 1: SELEC 1'
    )
    assert one_line("already one line") == "already one line"


def test_a_sql_error_is_one_line_on_stderr(synthetic_db: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "capwatch", "sql", "SELEC 1", "--db", str(synthetic_db)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "syntax error" in done.stderr


def test_a_load_put_back_by_an_unload_is_no_longer_superseded(tmp_path: Path) -> None:
    path = tmp_path / "capacity.duckdb"
    assert ingest([untidy_returns.write(tmp_path / "in")], path).ok
    fix = tmp_path / "fix"
    fix.mkdir()
    (fix / "capacity_fix.csv").write_text(
        header("capacity", "activity_type") + "NX101,diagnostics,mri,2020-06-01,12\n",
        encoding="utf-8",
    )
    replaced = ingest([fix], path, replace=True).outcomes[0]
    assert replaced.status == "loaded"

    def history() -> dict[str, dict[str, object]]:
        reader = db.Database(path)
        try:
            rows = load_history(reader).to_dicts()
        finally:
            reader.close()
        return {str(r["file_name"]): r for r in rows}

    before = history()
    assert before["capacity.csv"]["superseded_by"] == str(replaced.load_id)
    with db.write_session(path) as writer:
        writer.unload(replaced.load_id, "wrong file")
    after = history()
    assert after["capacity.csv"]["superseded_by"] is None  # its rows are back
    assert after["capacity.csv"]["status"] == "current"
    assert after["capacity_fix.csv"]["status"] == "retracted"
