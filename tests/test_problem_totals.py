"""A rejected file says how many problems it has (all of them, not the first 50), and every
independent problem of a file is reported in one pass."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from capwatch import db
from capwatch.load import ingest
from pipelines.problems import MAX_PROBLEMS_SHOWN
from tests import untidy_returns
from tests.tables_support import header

HEADER = header("capacity", "activity_type")


@pytest.fixture(scope="module")
def base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("totals")
    path = folder / "capacity.duckdb"
    assert ingest([untidy_returns.write(folder / "in")], path).ok
    return path


@pytest.fixture
def database(base_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "capacity.duckdb"
    shutil.copyfile(base_db, path)
    return path


def _capacity(tmp_path: Path, rows: list[str]) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "capacity.csv").write_text(HEADER + "".join(rows), encoding="utf-8")
    return folder


def test_a_million_duplicate_keys_are_counted_in_full(database: Path, tmp_path: Path) -> None:
    rows = 1_000_000
    folder = _capacity(tmp_path, ["NX101,diagnostics,,2020-09-07,5\n"] * rows)
    before = db.table_fingerprint(database)
    outcome = ingest([folder], database).outcomes[0]
    assert outcome.status == "rejected"
    assert outcome.total_problems == rows - 1  # every row after the first repeats its key
    assert len(outcome.problems) == MAX_PROBLEMS_SHOWN
    assert [p.row for p in outcome.problems[:2]] == [3, 4]  # header is row 1, first on row 2
    assert "already on row 2" in outcome.problems[0].message
    assert outcome.summary().endswith(
        f"{rows - 1:,} problem(s) (first {MAX_PROBLEMS_SHOWN} shown), nothing loaded"
    )
    assert db.table_fingerprint(database) == before


def test_unknown_sites_are_counted_in_full(database: Path, tmp_path: Path) -> None:
    rows = [f"ZZ{i:03d},diagnostics,,2020-09-07,5\n" for i in range(120)]
    outcome = ingest([_capacity(tmp_path, rows)], database).outcomes[0]
    assert outcome.total_problems == 120
    assert len(outcome.problems) == MAX_PROBLEMS_SHOWN
    assert "(first 50 shown)" in outcome.summary()


def test_every_independent_problem_in_one_pass(database: Path, tmp_path: Path) -> None:
    rows = [
        "NX101,diagnostics,,2020-09-07,lots\n",  # row 2: a bad value
        "ZZ999,diagnostics,,2020-09-07,5\n",  # row 3: an unknown site
        "NX101,day_case,,2020-09-07,5\n",  # row 4: fine
        "NX101,day_case,,2020-09-07,6\n",  # row 5: repeats row 4's key
    ]
    outcome = ingest([_capacity(tmp_path, rows)], database).outcomes[0]
    assert outcome.status == "rejected"
    assert [(p.row, p.column) for p in outcome.problems] == [
        (2, "capacity_units"),
        (3, "site_code"),
        (5, "site_code, service_line, activity_type, week_start"),
    ]
    assert outcome.total_problems == 3
    assert "(first" not in outcome.summary()


def test_a_bad_code_is_one_problem_not_two(database: Path, tmp_path: Path) -> None:
    """The look-alike: a value that cannot be read is not also an unknown site or a key."""
    rows = ["NX1!!,diagnostics,,2020-09-07,5\n", "NX1!!,diagnostics,,2020-09-07,5\n"]
    outcome = ingest([_capacity(tmp_path, rows)], database).outcomes[0]
    assert outcome.status == "rejected"
    assert {p.column for p in outcome.problems} == {"site_code"}
    assert outcome.total_problems == 2  # each row's bad code, nothing more
    assert all("unknown site" not in p.message for p in outcome.problems)
