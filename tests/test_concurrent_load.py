"""Readers keep getting consistent answers while another process loads, and writers queue.

The dashboard reads through `capwatch.db.Database`. While `capwatch ingest` runs in another
process, every answer must be the whole before-state or the whole after-state, with no error,
and the same `Database` object must see the new data once the load is swapped in. Two loads
started together must both complete, one after the other, with nothing counted twice.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import duckdb
import pytest

from capwatch import db
from tests.test_crash_safety import (
    REFERENCE_FILES,
    WAIT_S,
    Dataset,
    content,
    finish,
    ingest_process,
)

pytestmark = pytest.mark.slow  # kills and races real load processes

TOTALS = (
    "SELECT count(*), sum(capacity_units), sum(nhs_units), sum(private_units), "
    "round(sum(unused_capacity_cost_gbp), 2) FROM utilisation_weekly"
)
READERS = 3


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return Dataset(tmp_path_factory.mktemp("concurrent"))


def _totals(path: Path) -> tuple[object, ...]:
    """The totals now in the file, through a DuckDB instance of its own (see `content`)."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH '{path}' AS snapshot (READ_ONLY)")
        con.execute("USE snapshot")
        return con.execute(TOTALS).fetchall()[0]
    finally:
        con.close()


def test_readers_see_before_or_after_never_a_mixture_and_no_errors(
    dataset: Dataset, tmp_path: Path
) -> None:
    database = dataset.fresh(tmp_path)
    before, after = _totals(dataset.before), _totals(dataset.after)
    assert before != after
    shared = db.Database(database)  # one object for every thread, as the dashboard has
    assert shared.query(TOTALS).row(0) == before

    answers: list[tuple[object, ...]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                answers.append(shared.query(TOTALS).row(0))
            except BaseException as exc:  # every failure is a test failure
                errors.append(exc)
                return

    threads = [threading.Thread(target=read) for _ in range(READERS)]
    for t in threads:
        t.start()
    proc = ingest_process(dataset.all, database)
    code, output = finish(proc)
    time.sleep(0.2)  # let the readers run on the new file for a moment
    stop.set()
    for t in threads:
        t.join(timeout=WAIT_S)

    assert code == 0, output
    assert errors == []
    assert set(answers) <= {before, after}
    assert answers.count(before) > 0, "no reader ran during the load"
    shared.close()
    assert content(database) == dataset.after_content
    assert _totals(database) == after


def test_the_same_database_object_shows_the_new_data_after_a_load(
    dataset: Dataset, tmp_path: Path
) -> None:
    database = dataset.fresh(tmp_path)
    shared = db.Database(database)  # the dashboard's cached object
    assert shared.query(TOTALS).row(0) == _totals(dataset.before)
    first_version = shared.version()
    code, output = finish(ingest_process(dataset.all, database))
    assert code == 0, output
    assert shared.version() != first_version  # it noticed the new file...
    assert shared.query(TOTALS).row(0) == _totals(dataset.after)  # ...and reads it
    shared.close()


def test_a_reader_keeps_its_connection_while_a_load_swaps_the_file(
    dataset: Dataset, tmp_path: Path
) -> None:
    """A cursor opened on the old file keeps answering from it after the swap, without error."""
    database = dataset.fresh(tmp_path)
    shared = db.Database(database)
    cursor = shared.cursor()  # opened on the before-state file
    code, output = finish(ingest_process(dataset.all, database))
    assert code == 0, output
    assert cursor.execute(TOTALS).fetchall()[0] == _totals(dataset.before)
    cursor.close()
    shared.close()


def _split_activity(dataset: Dataset, root: Path) -> tuple[Path, Path]:
    """The activity files in two folders: June-July and August-September."""
    early, late = root / "early", root / "late"
    for folder in (early, late):
        folder.mkdir(parents=True)
    for f in sorted(dataset.all.glob("activity_*.csv")):
        month = int(f.stem.rsplit("-", 1)[1])
        shutil.copy2(f, (early if month <= 7 else late) / f.name)
    return early, late


def _load_log(path: Path) -> list[tuple[object, ...]]:
    return (
        db.Database(path)
        .query("SELECT file_name, file_hash, rows_read FROM load_log ORDER BY file_name")
        .rows()
    )


def _activity_by_file(path: Path) -> list[tuple[object, ...]]:
    return (
        db.Database(path)
        .query(
            "SELECT l.file_name, count(*), sum(a.units), sum(a.source_rows) "
            "FROM activity_daily a JOIN load_log l USING (load_id) GROUP BY 1 ORDER BY 1"
        )
        .rows()
    )


def test_two_loads_of_different_files_at_once_both_complete(
    dataset: Dataset, tmp_path: Path
) -> None:
    database = dataset.fresh(tmp_path)
    early, late = _split_activity(dataset, tmp_path / "split")
    procs = [ingest_process(early, database), ingest_process(late, database)]
    results = [finish(p) for p in procs]
    assert [code for code, _ in results] == [0, 0], results
    # Load ids depend on which process took the lock first, so compare per file.
    assert _load_log(database) == _load_log(dataset.after)
    assert _activity_by_file(database) == _activity_by_file(dataset.after)
    assert _totals(database) == _totals(dataset.after)


def test_two_loads_of_the_same_files_at_once_load_them_once(
    dataset: Dataset, tmp_path: Path
) -> None:
    database = dataset.fresh(tmp_path)
    procs = [ingest_process(dataset.all, database) for _ in range(2)]
    results = [finish(p) for p in procs]
    assert [code for code, _ in results] == [0, 0], results
    outputs = sorted(out for _, out in results)
    # One process loaded the four activity files; the other waited for it, then skipped them.
    assert sum(out.count("loaded   ") for out in outputs) == 4
    # + the files already in the before-state, skipped by both
    assert sum(out.count("skipped  ") for out in outputs) == 4 + 2 * len(REFERENCE_FILES)
    assert content(database) == dataset.after_content
