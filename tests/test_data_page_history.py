"""The Data page shows the load history: replacements and retractions (national users only)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from capwatch import config, db
from capwatch.load import ingest
from capwatch.ui.scripts import page_file
from tests import untidy_returns
from tests.app_support import open_app
from tests.tables_support import header


@pytest.fixture(scope="module")
def history_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny dataset (loads 1-6); load 7 replaces one capacity row of load 5; load 8 is a
    second activity file, then unloaded."""
    folder = tmp_path_factory.mktemp("history")
    path = folder / "capacity.duckdb"
    assert ingest([untidy_returns.write(folder / "tiny")], path).ok
    fix = {
        "capacity_fix.csv": (
            header("capacity", "activity_type") + "NX102,diagnostics,,2020-06-01,25\n"
        )
    }
    assert ingest([untidy_returns.write(folder / "fix", fix)], path, replace=True).ok
    extra = {
        "activity_2020-06-extra.csv": (
            header("activity", "activity_type", "units") + "NX102,diagnostics,ct,2020-06-05,nhs,4\n"
        )
    }
    assert ingest([untidy_returns.write(folder / "extra", extra)], path).ok
    with db.write_session(path) as writer:
        writer.unload(8, "sent by mistake")
    return path


@pytest.fixture
def db_env(history_db: Path) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(config.DB_ENV_VAR, str(history_db))
        yield history_db


def test_the_data_page_shows_supersessions_and_retractions(db_env: Path) -> None:
    at = open_app(page_file("data"))
    assert not at.exception, [e.value for e in at.exception]
    log = at.dataframe[0].value.set_index("load_id")
    assert list(log.index) == [8, 7, 6, 5, 4, 3, 2, 1]  # newest first
    assert log.loc[5, "status"] == "partly superseded"
    assert log.loc[5, "superseded_by"] == "7"
    assert log.loc[5, "rows_live"] == 4
    assert log.loc[7, "replaces"] == "5"
    assert log.loc[7, "status"] == "current"
    assert log.loc[8, "status"] == "retracted"
    assert log.loc[8, "retraction_note"] == "sent by mistake"
    assert log.loc[8, "rows_live"] == 0
    assert log.loc[1, "status"] == "current"
    assert any("--replace" in c.value for c in at.caption)
