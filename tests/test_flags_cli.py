"""`capwatch flags`: every field to CSV, a one-line summary, one-line errors."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from capwatch.analytics.filters import Filters
from capwatch.analytics.flags import FLAG_COLUMNS, compute_flags
from capwatch.cli import app
from capwatch.db import Database
from tests.test_flags_rules import build

runner = CliRunner()


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("flags_cli"))


def test_flags_writes_every_field_of_every_flag(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "flags.csv"
    result = runner.invoke(app, ["flags", "--out", str(out), "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    written = pl.read_csv(out, try_parse_dates=True)
    assert tuple(written.columns) == FLAG_COLUMNS
    expected = compute_flags(Database(db_path), Filters())
    assert written.height == expected.height > 0
    assert written["explanation"].to_list() == expected["explanation"].to_list()
    assert f"wrote {expected.height:,} flags" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_rule_and_param_options(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "low.csv"
    result = runner.invoke(
        app,
        [
            "flags", "--out", str(out), "--db", str(db_path), "--rule", "low_utilisation",
            "--param", "low_utilisation.min_capacity_share=0.005",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    written = pl.read_csv(out)
    assert set(written["rule"]) == {"low_utilisation"}
    assert "DD1" not in set(written["provider_code"])  # tiny contract left out
    assert "AA1" in set(written["provider_code"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rule", "nonsense"], "unknown rule"),
        (["--param", "spc.colour=1"], "no parameter"),
        (["--param", "low_utilisation.threshold=2"], "between"),
        (["--param", "threshold=0.2"], "RULE.KEY=VALUE"),
        (["--param", "low_utilisation.threshold=abc"], "needs a number"),
    ],
)
def test_bad_rule_or_parameter_is_a_one_line_error(
    db_path: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "bad.csv"
    result = runner.invoke(app, ["flags", "--out", str(out), "--db", str(db_path), *args])
    assert result.exit_code != 0
    assert isinstance(result.exception, Exception)
    assert message in str(result.exception)
    assert not out.exists()


def test_formula_like_text_is_neutralised(tmp_path: Path) -> None:
    from capwatch.export import csv_bytes

    frame = pl.DataFrame({"a": ["=HYPERLINK(1)", "ok"], "b": ["+1", "-x"], "n": [1, -2]})
    text = csv_bytes(frame).decode("utf-8-sig")
    assert text.splitlines() == ["a,b,n", "'=HYPERLINK(1),'+1,1", "ok,'-x,-2"]


def test_the_installed_command_prints_one_line_and_no_traceback(
    db_path: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "from capwatch.cli import main; main()", "flags",
         "--out", str(tmp_path / "x.csv"), "--db", str(db_path), "--rule", "nonsense"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "capwatch: unknown rule 'nonsense'; rules are: low_utilisation, spc, funnel, "
        "value_for_money, private_beside_unused"
    ]


def test_money_at_stake_is_given_per_rule_never_summed_across_rules(
    db_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "flags.csv"
    result = runner.invoke(app, ["flags", "--out", str(out), "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    written = pl.read_csv(out)
    assert written["rule"].n_unique() > 1  # rules overlap: more than one fired here
    line = result.output.strip()
    assert "summed over flags" not in line and "not added up" in line
    grand_total = written["money_at_stake_gbp"].sum()
    assert f"£{grand_total:,.0f}" not in line  # no figure counts the same pounds twice
    # each rule's own sum, worked out from the file the command wrote, in the line
    for (title,), rows in written.group_by(["rule_title"]):
        assert f"{title} £{rows['money_at_stake_gbp'].sum():,.0f}" in line
