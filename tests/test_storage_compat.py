"""The database file opens in the analysts' own DuckDB 1.x tools.

capwatch runs on DuckDB 2.0, whose own storage format DuckDB 1.x cannot read; it writes the
file as storage version v1.0.0 instead (`capwatch.db.STORAGE_VERSION`). Proved here with the
DuckDB command line from the package index (`duckdb-cli` 1.5.x, in the test extra): it
opens a freshly built database, a synthetic one, one changed by a replacement and an unload,
and an older file written in DuckDB 2.0's format once capwatch has converted it, and queries
every documented table and view.
"""

from __future__ import annotations

import gzip
import io
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from capwatch import db, schema
from capwatch.load import ingest
from tests import untidy_returns
from tests.tables_support import header


def _duckdb_cli() -> str | None:
    beside = Path(sys.executable).parent / "duckdb"
    return str(beside) if beside.exists() else shutil.which("duckdb")


CLI = _duckdb_cli()
pytestmark = pytest.mark.skipif(
    CLI is None, reason="needs the DuckDB 1.x command line: pip install 'duckdb-cli>=1.5,<2'"
)
FIXTURE = Path(__file__).parent / "fixtures" / "release_0.1.0.duckdb.gz"


def cli(path: Path, sql: str) -> subprocess.CompletedProcess[str]:
    assert CLI is not None
    return subprocess.run(
        [CLI, "-readonly", "-csv", str(path), "-c", sql],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_command_line_is_duckdb_1() -> None:
    assert CLI is not None
    version = subprocess.run([CLI, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("v1."), version.stdout


def assert_every_relation_answers_in_duckdb_1(path: Path) -> None:
    """Each documented table and view: every row and column read by the 1.x CLI, as many rows
    as DuckDB 2.0 counts."""
    reader = db.Database(path)
    try:
        for rel in schema.RELATIONS:
            expected = reader.scalar(f"SELECT count(*) FROM {rel.name}")
            done = cli(path, f"SELECT * FROM {rel.name} ORDER BY ALL")
            assert done.returncode == 0, f"{rel.name}: {done.stderr}"
            frame = pl.read_csv(io.StringIO(done.stdout), infer_schema=False) if expected else None
            assert (frame.height if frame is not None else 0) == expected, rel.name
            if frame is not None:
                assert frame.columns == rel.column_names, rel.name
    finally:
        reader.close()


def test_a_freshly_built_database_opens_in_duckdb_1_with_every_view(tmp_path: Path) -> None:
    path = tmp_path / "capacity.duckdb"
    assert ingest([untidy_returns.write(tmp_path / "tiny")], path).ok
    assert db.storage_version(path) == f"{db.STORAGE_VERSION}+"
    assert_every_relation_answers_in_duckdb_1(path)


def test_the_synthetic_database_opens_in_duckdb_1_with_every_view(synthetic_db: Path) -> None:
    assert_every_relation_answers_in_duckdb_1(synthetic_db)
    done = cli(
        synthetic_db,
        "SELECT round(sum(nhs_units) / sum(capacity_units), 6) AS u FROM utilisation_weekly",
    )
    expected = db.Database(synthetic_db).scalar(
        "SELECT round(sum(nhs_units) / sum(capacity_units), 6) FROM utilisation_weekly"
    )
    assert float(done.stdout.splitlines()[1]) == pytest.approx(expected)


def test_the_file_stays_readable_after_a_replacement_and_an_unload(tmp_path: Path) -> None:
    path = tmp_path / "capacity.duckdb"
    assert ingest([untidy_returns.write(tmp_path / "tiny")], path).ok
    fix = untidy_returns.write(
        tmp_path / "fix",
        {
            "capacity_fix.csv": (
                header("capacity", "activity_type") + "NX102,diagnostics,,2020-06-01,25\n"
            )
        },
    )
    assert ingest([fix], path, replace=True).ok
    with db.write_session(path) as writer:
        writer.unload(6)
    assert db.storage_version(path) == f"{db.STORAGE_VERSION}+"
    assert_every_relation_answers_in_duckdb_1(path)
    done = cli(
        path, "SELECT load_id, status FROM load_history WHERE load_id IN (5, 6, 7) ORDER BY 1"
    )
    assert done.stdout.splitlines()[1:] == ["5,partly superseded", "6,retracted", "7,current"]


def test_a_file_in_duckdb_2_format_is_converted_when_capwatch_next_writes_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.duckdb"
    with gzip.open(FIXTURE) as src, path.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    assert db.storage_version(path) != f"{db.STORAGE_VERSION}+"
    refused = cli(path, "SELECT 1")
    assert refused.returncode != 0  # DuckDB 1.x cannot read DuckDB 2.0's own format
    db.migrate(path)
    assert db.storage_version(path) == f"{db.STORAGE_VERSION}+"
    assert_every_relation_answers_in_duckdb_1(path)
