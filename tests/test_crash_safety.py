"""A load killed at any moment leaves the database as it was or complete, never in between.

Real `capwatch ingest` processes are killed with SIGKILL while they copy the database, while
they load activity and near the end; each time the live file must be byte-identical to the
before-state or hold exactly what a clean load gives, and running the load again must
complete it with no duplicates.
"""

from __future__ import annotations

import hashlib
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from capwatch import db, schema
from capwatch.load import ingest
from capwatch.synthetic import generate

pytestmark = pytest.mark.slow  # kills and races real load processes

SCALE = 0.2  # about 200,000 activity rows: a load of a few seconds
# Everything but activity: the before-state holds these, the loads under test add activity.
REFERENCE_FILES = (
    "providers", "sites", "contracts", "unit_prices", "capacity", "demand", "answer_key",
)  # fmt: skip
DB_NAME = "capacity.duckdb"
WAIT_S = 60.0


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def content(path: Path) -> dict[str, object]:
    """What a database holds, ignoring when and how long each load took.

    Every stored table by count and content hash (load_id included: a re-run must give the
    same ids as a clean load in the same order); the load log by file, hash and row counts.
    Read through a DuckDB instance of its own: `duckdb.connect(path)` would hand back any
    instance this process still has open on an older file at that path.
    """
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH '{path}' AS snapshot (READ_ONLY)")
        con.execute("USE snapshot")
        out: dict[str, object] = {}
        for t in schema.TABLES:
            if t.name == "load_log":
                continue
            cols = ", ".join(schema.quote(c) for c in t.column_names if c != "changed_at")
            out[t.name] = con.execute(
                f"SELECT count(*), coalesce(sum(hash({cols})), 0) FROM {t.name}"
            ).fetchall()[0]
        out["load_log"] = con.execute(
            "SELECT load_id, table_name, file_name, file_hash, rows_read, rows_stored "
            "FROM load_log ORDER BY load_id"
        ).fetchall()
        return out
    finally:
        con.close()


def staging_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(f".{DB_NAME}.*.staging*"))


def ingest_process(inputs: Path, database: Path, *options: str) -> subprocess.Popen[bytes]:
    """`capwatch ingest` in a process of its own."""
    return subprocess.Popen(
        [sys.executable, "-c", "from capwatch.cli import main; main()", "ingest", str(inputs),
         "--db", str(database), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip


def wait_for(condition: Callable[[], object], timeout_s: float = WAIT_S) -> float:
    """Poll `condition()` every few milliseconds; the monotonic time it first held."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        time.sleep(0.005)
    raise AssertionError("timed out waiting")


def finish(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    out, err = proc.communicate(timeout=WAIT_S)
    return proc.returncode, (out + err).decode("utf-8", errors="replace")


class Dataset:
    """A synthetic dataset, the database with its reference files loaded, and a clean load."""

    def __init__(self, root: Path) -> None:
        self.all = root / "inputs"
        generate(self.all, seed=2020, scale=SCALE)
        self.reference = root / "reference"
        self.reference.mkdir()
        for f in self.all.iterdir():
            if f.stem in REFERENCE_FILES:
                shutil.copy2(f, self.reference / f.name)
        self.before = root / "before" / DB_NAME
        report = ingest([self.reference], self.before)
        assert report.ok and report.count("loaded") == len(REFERENCE_FILES)
        # The after-state: the whole folder loaded on top, by a real CLI process that is not
        # interrupted. Timing the staging file's life tells the kill tests when to strike.
        self.after = self.fresh(root / "clean")
        proc = ingest_process(self.all, self.after)
        appeared = wait_for(lambda: staging_files(self.after.parent))
        code, output = finish(proc)
        self.load_s = time.monotonic() - appeared
        assert code == 0, output
        self.before_sha = sha256(self.before)
        self.before_content = content(self.before)
        self.after_content = content(self.after)
        assert self.after_content != self.before_content

    def fresh(self, folder: Path) -> Path:
        """A copy of the before-state database in `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / DB_NAME
        shutil.copyfile(self.before, path)
        return path


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return Dataset(tmp_path_factory.mktemp("crash"))


def test_the_clean_load_holds_every_input_row(dataset: Dataset) -> None:
    """The after-state is a full load: checked against the raw CSVs with Polars."""
    import polars as pl

    activity = pl.scan_csv(dataset.all / "activity_*.csv").select(
        pl.len(), (pl.col("funding") == "nhs").sum()
    )
    rows, nhs_rows = activity.collect().row(0)
    capacity = pl.read_csv(dataset.all / "capacity.csv")["capacity_units"].sum()
    got = db.Database(dataset.after).query(
        "SELECT sum(source_rows), sum(units) FILTER (WHERE funding = 'nhs'), "
        "(SELECT sum(capacity_units) FROM capacity) FROM activity_daily"
    )
    assert got.row(0) == (rows, nhs_rows, capacity)  # synthetic events are one unit each


KILL_POINTS = [
    pytest.param("copying", 0.0, id="as-the-staging-copy-starts"),
    pytest.param("loading", 0.4, id="mid-activity"),
    pytest.param("loading", 0.85, id="near-the-end"),
    pytest.param("swapped", 0.0, id="just-after-the-swap"),
]


@pytest.mark.parametrize(("phase", "fraction"), KILL_POINTS)
def test_a_killed_load_leaves_before_or_after_and_a_rerun_completes_it(
    dataset: Dataset, tmp_path: Path, phase: str, fraction: float
) -> None:
    database = dataset.fresh(tmp_path)
    identity = database.stat().st_ino
    proc = ingest_process(dataset.all, database)
    if phase == "swapped":
        wait_for(lambda: database.stat().st_ino != identity)
    else:
        appeared = wait_for(lambda: staging_files(tmp_path))
        time.sleep(max(0.0, appeared + fraction * dataset.load_s - time.monotonic()))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=WAIT_S)

    if sha256(database) == dataset.before_sha:
        state = "before"
    else:
        assert content(database) == dataset.after_content, "the live file is half-loaded"
        state = "after"
    if phase in ("copying", "loading") and fraction < 0.5:
        assert state == "before"  # killed well before the swap
    if phase == "swapped":
        assert state == "after"

    # Whatever the kill left beside the database, the next run completes the load exactly.
    rerun = ingest_process(dataset.all, database)
    code, output = finish(rerun)
    assert code == 0, output
    assert "Traceback" not in output
    assert content(database) == dataset.after_content
    duplicates = db.Database(database).scalar(
        "SELECT count(*) FROM (SELECT site_code, service_line, activity_type, activity_date, "
        "funding FROM activity_daily GROUP BY ALL HAVING count(*) > 1)"
    )
    assert duplicates == 0


def test_the_next_run_clears_staging_files_left_by_a_killed_load(
    dataset: Dataset, tmp_path: Path
) -> None:
    database = dataset.fresh(tmp_path)
    proc = ingest_process(dataset.all, database)
    wait_for(lambda: staging_files(tmp_path))
    time.sleep(0.3 * dataset.load_s)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=WAIT_S)
    assert staging_files(tmp_path), "the kill left no staging file to clear"
    code, output = finish(ingest_process(dataset.all, database))
    assert code == 0, output
    assert staging_files(tmp_path) == []


def test_a_killed_load_never_leaves_the_write_lock_held(dataset: Dataset, tmp_path: Path) -> None:
    """The lock is an flock: the kernel releases it when the process dies."""
    database = dataset.fresh(tmp_path)
    proc = ingest_process(dataset.all, database)
    wait_for(lambda: staging_files(tmp_path))  # the staging copy exists only under the lock
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=WAIT_S)
    with db.write_session(database, lock_wait_s=5.0) as writer:
        assert writer.query("SELECT count(*) AS n FROM providers")["n"][0] > 0


def test_a_killed_replacement_leaves_the_database_as_it_was(
    dataset: Dataset, tmp_path: Path
) -> None:
    """A provider resends July's activity with every event counted twice (`--replace`): killed
    while it loads, the live file is byte-identical to the before-state; run again, it
    completes to exactly what an uninterrupted replacement gives."""
    import polars as pl

    resent = tmp_path / "resent"
    resent.mkdir()
    (
        pl.read_csv(dataset.all / "activity_2020-07.csv", infer_schema=False)
        .with_columns(units=pl.lit("2"))
        .write_csv(resent / "activity_2020-07_resent.csv")
    )
    clean = tmp_path / "clean" / DB_NAME
    clean.parent.mkdir()
    shutil.copyfile(dataset.after, clean)
    proc = ingest_process(resent, clean, "--replace")
    appeared = wait_for(lambda: staging_files(clean.parent))
    code, output = finish(proc)
    load_s = time.monotonic() - appeared
    assert code == 0, output
    replaced = content(clean)
    assert replaced != dataset.after_content
    july = (
        "SELECT sum(units) FROM activity_daily WHERE activity_date BETWEEN "
        "'2020-07-01' AND '2020-07-31'"
    )
    assert db.Database(clean).scalar(july) == 2 * db.Database(dataset.after).scalar(july)

    for fraction in (0.0, 0.3):
        database = tmp_path / f"killed_{fraction}" / DB_NAME
        database.parent.mkdir()
        shutil.copyfile(dataset.after, database)
        before = sha256(database)
        proc = ingest_process(resent, database, "--replace")
        started = wait_for(lambda folder=database.parent: staging_files(folder))
        time.sleep(max(0.0, started + fraction * load_s - time.monotonic()))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=WAIT_S)
        assert sha256(database) == before, f"killed at {fraction:.0%}: the database changed"
        code, output = finish(ingest_process(resent, database, "--replace"))
        assert code == 0, output
        assert content(database) == replaced
