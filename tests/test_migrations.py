"""Migrations are frozen history: they build the documented schema and upgrade old databases."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import duckdb
import pytest

from capwatch import db, schema
from capwatch.migrations import MIGRATIONS

FIXTURES = Path(__file__).parent / "fixtures"
RELEASES = sorted(FIXTURES.glob("release_*.duckdb.gz"))


def test_versions_run_one_to_n_without_gaps() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert MIGRATIONS[-1].version == db.SCHEMA_VERSION


def test_migrations_build_every_documented_table_exactly(tmp_path: Path) -> None:
    path = tmp_path / "fresh.duckdb"
    db.migrate(path)
    con = duckdb.connect(str(path), read_only=True)
    try:
        for table in schema.TABLES:
            described = con.execute(
                "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
                "WHERE table_name = ? ORDER BY column_index",
                [table.name],
            ).fetchall()
            expected = [(c.name, c.type, not c.not_null) for c in table.columns]
            assert described == expected, table.name
            keys = con.execute(
                "SELECT constraint_column_names FROM duckdb_constraints() "
                "WHERE table_name = ? AND constraint_type = 'PRIMARY KEY'",
                [table.name],
            ).fetchall()
            assert [list(k[0]) for k in keys] == (
                [list(table.primary_key)] if table.primary_key else []
            )
    finally:
        con.close()


def _table_rows(path: Path, columns: dict[str, list[str]]) -> dict[str, list[tuple[object, ...]]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            name: sorted(
                con.execute(
                    f"SELECT {', '.join(schema.quote(c) for c in cols)} FROM {name}"
                ).fetchall(),
                key=repr,
            )
            for name, cols in columns.items()
        }
    finally:
        con.close()


@pytest.mark.parametrize("fixture", RELEASES, ids=lambda p: p.name.removesuffix(".duckdb.gz"))
def test_a_database_from_an_earlier_release_upgrades_with_its_data_intact(
    fixture: Path, tmp_path: Path
) -> None:
    path = tmp_path / "old.duckdb"
    with gzip.open(fixture) as src, path.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    con = duckdb.connect(str(path), read_only=True)
    old_version = db.schema_version(con)
    old_columns = {
        t: [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() "
                "WHERE table_name = ? ORDER BY column_index",
                [t],
            ).fetchall()
        ]
        for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE table_name IN "
            f"({', '.join(repr(t.name) for t in schema.TABLES)})"
        ).fetchall()
    }
    con.close()
    assert 1 <= old_version <= db.SCHEMA_VERSION
    before = _table_rows(path, old_columns)
    assert sum(len(rows) for rows in before.values()) > 0

    db.migrate(path)

    reader = db.Database(path)
    try:
        assert reader.scalar("SELECT max(version) FROM schema_migrations") == db.SCHEMA_VERSION
        for view in schema.VIEWS:  # every documented view answers on the upgraded data
            reader.query(f"SELECT * FROM {view.name} LIMIT 1")
    finally:
        reader.close()
    assert _table_rows(path, old_columns) == before


def _contract_weekly_columns(path: Path) -> list[str]:
    reader = db.Database(path)
    try:
        return reader.query("SELECT * FROM contract_weekly LIMIT 0").columns
    finally:
        reader.close()


def test_a_view_an_earlier_release_defined_otherwise_is_redefined(tmp_path: Path) -> None:
    """A release may change a view without a migration: the next write session brings it."""
    path = tmp_path / "c.duckdb"
    db.migrate(path)
    # As an earlier release might have left it: same schema version, another definition.
    con = duckdb.connect(str(path))
    con.execute("CREATE OR REPLACE VIEW contract_weekly AS SELECT 1 AS stale")
    con.close()
    assert _contract_weekly_columns(path) == ["stale"]

    with db.write_session(path):  # e.g. an ingest that turns out to load nothing
        pass

    assert _contract_weekly_columns(path) == schema.relation("contract_weekly").column_names


def test_migrate_rebuilds_the_derived_tables(tmp_path: Path) -> None:
    path = tmp_path / "d.duckdb"
    db.migrate(path)
    con = duckdb.connect(str(path))
    con.execute("CREATE OR REPLACE TABLE utilisation_weekly AS SELECT 1 AS stale")
    con.close()

    db.migrate(path)

    reader = db.Database(path)
    try:
        columns = reader.query("SELECT * FROM utilisation_weekly LIMIT 0").columns
    finally:
        reader.close()
    assert columns == schema.relation("utilisation_weekly").column_names
