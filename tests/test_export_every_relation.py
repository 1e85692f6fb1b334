"""`capwatch export` takes every documented table and view by name, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from capwatch import schema
from capwatch.cli import app

NAMES = sorted(r.name for r in (*schema.TABLES, *schema.VIEWS))


@pytest.mark.parametrize("name", NAMES)
def test_every_documented_relation_exports(name: str, synthetic_db: Path, tmp_path: Path) -> None:
    out = tmp_path / f"{name}.csv"
    result = CliRunner().invoke(app, ["export", name, "--db", str(synthetic_db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    header = out.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.split(",") == list(schema.relation(name).column_names)


@pytest.mark.parametrize("name", ["activity; DROP TABLE sites", "sites--", "Sites", "1sites"])
def test_a_name_that_is_no_relation_is_refused(
    name: str, synthetic_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "x.csv"
    result = CliRunner().invoke(app, ["export", name, "--db", str(synthetic_db), "--out", str(out)])
    assert result.exit_code != 0
    assert not out.exists()
