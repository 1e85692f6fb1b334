"""Same data, same bytes: the flags of one database are identical on every run.

Floats summed by parallel aggregation come out in no fixed order, so their last digits used
to vary from run to run (`contract_value_gbp` 811468.8969647142 against ...143). Money is now
kept to the penny and other figures to 10 decimal places.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from capwatch.analytics.filters import Filters
from capwatch.analytics.flags.engine import FLAG_SCHEMA, compute_flags
from capwatch.cli import app
from capwatch.db import Database


def test_flags_written_twice_are_the_same_bytes(synthetic_db: Path, tmp_path: Path) -> None:
    outs = [tmp_path / f"flags_{i}.csv" for i in range(4)]
    for out in outs:
        result = CliRunner().invoke(app, ["flags", "--db", str(synthetic_db), "--out", str(out)])
        assert result.exit_code == 0, result.output
    first = outs[0].read_bytes()
    assert len(pl.read_csv(outs[0])) > 0
    assert all(out.read_bytes() == first for out in outs[1:])


def test_money_is_to_the_penny_and_figures_to_ten_places(synthetic_db: Path) -> None:
    flags = compute_flags(Database(synthetic_db), Filters())
    assert flags.height > 0
    for column, dtype in FLAG_SCHEMA.items():
        if dtype != pl.Float64:
            continue
        places = 2 if column.endswith("_gbp") else 10
        values = flags[column].drop_nulls()
        # Independent of the rounding code: the shortest decimal that reads back as each value
        # (Python's repr) has at most `places` digits after the point.
        decimals = [repr(v).partition(".")[2] for v in values.to_list()]
        assert all("e" not in d and len(d) <= places for d in decimals), column
