"""Hostile SQL: every query here must be refused or stopped with a clear message, and afterwards
the database file is byte-identical, nothing was written anywhere, and normal queries answer."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from capwatch.db import Database
from capwatch.errors import QueryInterrupted, QueryRefused
from capwatch.sandbox import Limits, QueryFailed, run_query

LOCKED = "disabled by configuration"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def target(synthetic_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the synthetic database for the attacks."""
    path = tmp_path_factory.mktemp("hostile") / "capacity.duckdb"
    shutil.copyfile(synthetic_db, path)
    # DuckDB lets a connection read its own database file (read_blob('capacity.duckdb')),
    # which holds nothing a query cannot already read; any other file beside it is off limits.
    (path.parent / "secret.csv").write_text("password\nhunter2\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def original_hash(target: Path) -> str:
    return sha256(target)


@pytest.fixture(scope="module")
def loot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder attacks try to write into; it must stay empty."""
    return tmp_path_factory.mktemp("loot")


# Refused by the statement screen before any process starts (and again in the worker).
REFUSED = [
    ("INSERT INTO providers VALUES ('ZZ1', 'x', 'x', 'London', 1)", "INSERT changes data"),
    ("UPDATE providers SET provider_name = 'x'", "UPDATE changes data"),
    ("DELETE FROM activity_daily", "DELETE changes data"),
    ("CREATE TABLE stolen AS SELECT * FROM providers", "CREATE changes"),
    ("CREATE TEMP TABLE scratch AS SELECT * FROM range(10)", "CREATE changes"),
    ("CREATE MACRO m(x) AS x + 1", "changes the database's structure"),
    ("DROP TABLE providers", "DROP changes"),
    ("DROP VIEW utilisation_weekly", "DROP changes"),
    ("ALTER TABLE providers ADD COLUMN x INT", "ALTER changes"),
    ("COPY providers TO '{loot}/providers.csv'", "COPY reads or writes files"),
    ("COPY providers FROM '/etc/passwd'", "COPY reads or writes files"),
    ("EXPORT DATABASE '{loot}/dump'", "EXPORT writes files"),
    ("ATTACH '{loot}/other.duckdb' AS other", "ATTACH opens another database"),
    ("DETACH capacity", "DETACH"),
    ("INSTALL httpfs", "installs or loads extensions"),
    ("LOAD httpfs", "installs or loads extensions"),
    ("SET enable_external_access = true", "SET changes settings"),
    ("SET memory_limit = '100GB'", "SET changes settings"),
    ("RESET threads", "RESET changes settings"),
    ("PRAGMA memory_limit = '100GB'", "PRAGMA changes settings"),
    ("PRAGMA enable_profiling", "runs a pragma"),
    ("SET VARIABLE x = 1", "changes settings"),
    ("CALL checkpoint()", "CALL runs a procedure"),
    ("CHECKPOINT", "CHECKPOINT runs a procedure"),
    ("VACUUM", "VACUUM"),
    ("BEGIN TRANSACTION", "controls transactions"),
    ("SELECT 1; DROP TABLE providers", "one statement at a time"),
    ("SELECT 1; SELECT 2", "one statement at a time"),
    ("EXPLAIN ANALYZE DELETE FROM providers", "EXPLAIN is accepted only"),
    ("PREPARE p AS SELECT 1", "prepares statements"),
]

# Parse as reads, so they reach the locked worker, which must stop them.
BLOCKED = [
    ("SELECT * FROM read_csv('/etc/passwd')", LOCKED),
    ("SELECT * FROM read_csv_auto('/etc/passwd')", LOCKED),
    ("SELECT * FROM read_text('/etc/passwd')", LOCKED),
    ("SELECT * FROM read_blob('/etc/hostname')", LOCKED),
    ("SELECT * FROM read_json('/etc/passwd')", LOCKED),
    ("SELECT * FROM read_parquet('/etc/passwd')", LOCKED),
    ("SELECT * FROM parquet_metadata('/etc/passwd')", LOCKED),
    ("SELECT * FROM sniff_csv('/etc/passwd')", LOCKED),
    ("SELECT * FROM glob('/*')", LOCKED),
    ("SELECT * FROM read_csv('http://127.0.0.1:1/x.csv')", LOCKED),
    ("SELECT * FROM 'http://127.0.0.1:1/x.csv'", LOCKED),
    ("SELECT * FROM read_csv('{folder}/secret.csv')", LOCKED),  # next to the database
    ("SELECT * FROM glob('{folder}/*')", LOCKED),
    ("SELECT * FROM duckdb_extensions()", LOCKED),
    ("SELECT * FROM enable_logging()", "locked"),
    ("SELECT * FROM force_checkpoint()", "Cannot FORCE CHECKPOINT"),
    ("SELECT * FROM query('DROP TABLE providers')", "single SELECT"),
    ("SELECT getenv('HOME')", "does not exist"),
    ("SELECT * FROM '/etc/passwd'", "does not exist"),
]


@pytest.mark.parametrize(("sql", "says"), REFUSED)
def test_writes_ddl_files_settings_and_batches_are_refused(
    target: Path, original_hash: str, loot: Path, sql: str, says: str
) -> None:
    assert original_hash
    with pytest.raises(QueryRefused, match=says) as refused:
        run_query(target, sql.format(loot=loot))
    assert str(refused.value).startswith(("Only read-only queries", "Run one statement"))


@pytest.mark.parametrize(("sql", "says"), BLOCKED)
def test_files_network_extensions_and_settings_are_blocked_in_the_worker(
    target: Path, original_hash: str, sql: str, says: str
) -> None:
    assert original_hash
    with pytest.raises(QueryFailed, match=says) as failed:
        run_query(target, sql.format(folder=target.parent))
    assert "Traceback" not in str(failed.value)


_BYPASS = """
import json, os, sys
from capwatch.sandbox import worker
worker.screen_sql = lambda sql: sql  # pretend the statement screen let everything through
out = {}
for sql in json.loads(sys.argv[2]):
    out[sql] = worker.run({"db": sys.argv[1], "sql": sql, "timeout_s": 10, "memory_limit":
        "256MB", "threads": 1, "max_rows": 10, "output_format": None, "work_dir": sys.argv[3]})
print(json.dumps(out), flush=True)
os._exit(0)  # as the worker does: skip DuckDB's teardown
"""


def test_the_locked_connection_alone_stops_writes_and_settings(
    target: Path, original_hash: str, loot: Path, tmp_path: Path
) -> None:
    """Defence in depth: with the statement screen switched off, the read-only, locked
    connection still refuses every write, file access and settings change."""
    assert original_hash
    attacks = [
        "INSERT INTO providers VALUES ('ZZ1', 'x', 'x', 'London', 1)",
        "DELETE FROM activity_daily",
        "DROP TABLE providers",
        "CREATE TABLE stolen AS SELECT 1",
        f"COPY providers TO '{loot}/providers.csv'",
        f"EXPORT DATABASE '{loot}/dump'",
        f"ATTACH '{loot}/other.duckdb' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SET memory_limit = '100GB'",
        "RESET threads",
        "SET lock_configuration = false",
        "PRAGMA threads = 16",
    ]
    proc = subprocess.run(
        [sys.executable, "-c", _BYPASS, str(target), json.dumps(attacks), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    replies = json.loads(proc.stdout.strip().splitlines()[-1])
    for sql in attacks:
        reply = replies[sql]
        assert reply["status"] == "failed", (sql, reply)
        message = reply["message"]
        assert any(
            word in message
            for word in (
                "read-only",
                "disabled by configuration",
                "disabled through configuration",
                "locked",
            )
        ), (sql, message)


@pytest.mark.slow
def test_a_huge_cross_join_is_stopped_at_the_time_limit(target: Path) -> None:
    limits = Limits(timeout_s=1.5)
    started = time.perf_counter()
    with pytest.raises(QueryInterrupted, match=r"stopped after 1\.5 s"):
        run_query(target, "SELECT count(*) FROM range(1000000) a, range(1000000) b", limits=limits)
    assert time.perf_counter() - started < limits.timeout_s + limits.start_grace_s + 1.5


@pytest.mark.slow
def test_a_recursive_query_without_end_is_stopped(target: Path) -> None:
    limits = Limits(timeout_s=1.5)
    started = time.perf_counter()
    with pytest.raises(QueryInterrupted):
        run_query(
            target,
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
            "SELECT count(*) FROM r",
            limits=limits,
        )
    assert time.perf_counter() - started < limits.timeout_s + limits.start_grace_s + 1.5


@pytest.mark.slow
def test_a_memory_bomb_hits_the_memory_limit(target: Path) -> None:
    with pytest.raises(QueryFailed, match="Out of Memory") as failed:
        run_query(
            target,
            "SELECT list(range) FROM range(200000000)",
            limits=Limits(timeout_s=20, memory_limit="256MB"),
        )
    assert "256MB" in str(failed.value)


@pytest.mark.slow
def test_a_string_bomb_outside_duckdbs_memory_accounting_is_stopped(target: Path) -> None:
    """Strings built by a function are not counted by memory_limit: the address-space limit
    or the wall clock stops them, and the parent survives either way."""
    limits = Limits(timeout_s=3, address_space_bytes=2 * 1024**3)
    started = time.perf_counter()
    with pytest.raises((QueryFailed, QueryInterrupted)):
        run_query(target, "SELECT length(repeat('x', 3000000000)) AS n", limits=limits)
    assert time.perf_counter() - started < limits.timeout_s + limits.start_grace_s + 1.5


@pytest.mark.slow
def test_the_app_answers_while_a_heavy_query_runs(target: Path) -> None:
    outcome: dict[str, BaseException] = {}

    def heavy() -> None:
        try:
            run_query(
                target,
                "SELECT count(*) FROM range(1000000) a, range(1000000) b",
                limits=Limits(timeout_s=6),
            )
        except BaseException as exc:
            outcome["heavy"] = exc

    thread = threading.Thread(target=heavy)
    thread.start()
    try:
        time.sleep(1.0)  # let the heavy worker start
        reader = Database(target)
        try:
            providers = reader.scalar("SELECT count(*) FROM providers")
        finally:
            reader.close()
        light = run_query(target, "SELECT count(*) AS n FROM providers", limits=Limits(timeout_s=5))
        assert thread.is_alive(), "the light queries should answer before the heavy one ends"
    finally:
        thread.join(timeout=30)
    assert providers > 0
    assert light.preview["n"].to_list() == [providers]
    assert isinstance(outcome.get("heavy"), QueryInterrupted)


_STREAM = """
import re, sys
from pathlib import Path
from capwatch.sandbox import Limits, run_query
result = run_query(sys.argv[1], sys.argv[2], output_format="csv", max_rows=1000,
                   limits=Limits(timeout_s=60))
lines = 0
with result.output_path.open("rb") as fh:
    for _ in fh:
        lines += 1
size = result.output_path.stat().st_size
result.cleanup()
# VmHWM is this process's own peak (ru_maxrss would carry pytest's peak over from the fork).
peak_kib = int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1))
print(lines, size, result.total_rows, result.preview.height, peak_kib * 1024)
"""


@pytest.mark.slow
def test_a_million_row_csv_is_complete_and_the_parent_never_holds_it(target: Path) -> None:
    # ~310 MB of CSV; the parent (a fresh process, measured on its own) only ever holds the
    # first 1000 rows, so its peak memory stays far below the file's size.
    sql = "SELECT range AS n, repeat('x', 300) AS padding FROM range(1000000)"
    proc = subprocess.run(
        [sys.executable, "-c", _STREAM, str(target), sql],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    lines, size, total, shown, peak_rss = map(int, proc.stdout.split())
    assert lines == 1_000_001  # header + every row
    assert total == 1_000_000
    assert shown == 1000
    digits = sum(len(str(n)) for n in range(1_000_000))
    assert size == len(b'\xef\xbb\xbf"n","padding"\n') + digits + 1_000_000 * len(
        ',"' + "x" * 300 + '"\n'
    )
    assert peak_rss < size / 2, f"parent peaked at {peak_rss / 1024**2:.0f} MiB"


def test_afterwards_the_database_is_unchanged_and_still_answers(
    target: Path, original_hash: str, loot: Path
) -> None:
    # Runs last in this module (pytest keeps file order): every attack above has been tried.
    assert sha256(target) == original_hash
    assert not target.with_name(target.name + ".wal").exists()
    assert list(loot.iterdir()) == []
    result = run_query(target, "SELECT count(*) AS n FROM utilisation_weekly")
    reader = Database(target)
    try:
        assert result.preview["n"].to_list() == [
            reader.scalar("SELECT count(*) FROM utilisation_weekly")
        ]
    finally:
        reader.close()
