"""`capwatch verdicts` and the verdict scores of `capwatch backtest`, on the small world."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from capwatch.analytics.filters import Filters
from capwatch.analytics.verdicts import verdicts
from capwatch.cli import app
from capwatch.db import Database

runner = CliRunner()


def test_verdicts_csv_equals_the_api_and_bad_input_is_one_line(
    synthetic_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "v.csv"
    result = runner.invoke(app, ["verdicts", "--out", str(out), "--db", str(synthetic_db)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    expected = verdicts(Database(synthetic_db), Filters())
    assert [r["contract_id"] for r in rows] == expected["contract_id"].to_list()
    assert [r["verdict"] for r in rows] == expected["verdict"].to_list()
    assert all(r["sentence"] for r in rows)
    xlsx = tmp_path / "v.xlsx"
    week = ["--as-of", "2020-07-08"]  # a Wednesday: its week, 6 Jul
    result = runner.invoke(
        app,
        ["verdicts", "--out", str(xlsx), "--db", str(synthetic_db), *week, "--param",
         "release_below=0.1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert xlsx.stat().st_size > 0
    for args, message in (
        (["--as-of", "2030-01-01"], "outside the data"),
        (["--as-of", "soon"], "--as-of must be a date"),
        (["--param", "nope=1"], "unknown verdict parameter"),
        (["--param", "release_below"], "KEY=VALUE"),
    ):
        bad = tmp_path / "bad.csv"
        result = runner.invoke(
            app, ["verdicts", "--out", str(bad), "--db", str(synthetic_db), *args]
        )
        assert result.exit_code != 0
        shown = result.output + (str(result.exception) if result.exception else "")
        assert message in shown  # main() prints a CapwatchError as one line
        assert "Traceback" not in result.output
        assert not bad.exists()


def test_backtest_prints_the_verdict_scores(synthetic_db: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["backtest", "--out", str(tmp_path / "bt.csv"), "--db", str(synthetic_db)]
    )
    assert result.exit_code == 0, result.output
    assert "Verdicts replayed over" in result.output
    assert "scored against the answer key" in result.output
    for verdict in ("release", "challenge", "route"):
        assert any(line.startswith(verdict) for line in result.output.splitlines())
