"""Run one user query in a fresh, locked-down worker process and collect what it wrote.

Layers, outermost first: a cap on how many workers run at once; the statement screen (here,
before any process starts, and again in the worker); a separate process with OS limits
(address space, file size, lower priority, a scrubbed environment) that is killed at the
wall-clock limit; inside it a read-only DuckDB connection with external access off, memory
and thread limits and its configuration locked before the user's SQL runs; a watchdog that
interrupts the query at the limit.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import duckdb

from capwatch import config
from capwatch.db import check_database_file
from capwatch.errors import CapwatchError, DatabaseMissing, QueryInterrupted, QueryRefused
from capwatch.sandbox.screen import screen_sql

if TYPE_CHECKING:
    import polars as pl

LOG = logging.getLogger(__name__)

OutputFormat = Literal["csv", "json", "arrow"]

MAX_CONCURRENT_QUERIES = 4
KEEP_RESULTS_S = 3600  # result folders older than this are swept at the next query
WORK_ROOT_NAME = "capwatch-sql"


class QueryFailed(CapwatchError):
    """DuckDB rejected or could not finish the query; the message is DuckDB's own."""


@dataclass(frozen=True)
class Limits:
    """What one query may use. The timeout covers the query and writing its result."""

    timeout_s: float = 5.0
    memory_limit: str = "512MB"
    threads: int = 2
    address_space_bytes: int = 4 * 1024**3  # OS backstop well above DuckDB's memory_limit
    max_output_bytes: int = 4 * 1024**3  # largest result file the worker may write
    start_grace_s: float = 2.0  # beyond the timeout, for start-up; then the worker is killed

    @classmethod
    def for_app(cls) -> Limits:
        """The dashboard's limits: the timeout from the `sql_timeout_s` setting."""
        return cls(timeout_s=float(config.setting("sql_timeout_s")))


@dataclass
class QueryResult:
    """The first rows (for the screen), the total count, and the full result file if asked."""

    columns: list[tuple[str, str]]
    preview: pl.DataFrame
    total_rows: int
    elapsed_s: float
    work_dir: Path
    output_path: Path | None = None
    output_format: OutputFormat | None = None

    @property
    def truncated(self) -> bool:
        return self.total_rows > self.preview.height

    def cleanup(self) -> None:
        """Delete the result files (the preview frame stays usable)."""
        shutil.rmtree(self.work_dir, ignore_errors=True)


_slots = threading.BoundedSemaphore(MAX_CONCURRENT_QUERIES)


def work_root() -> Path:
    """Folder holding one sub-folder per query's result files."""
    root = Path(tempfile.gettempdir()) / WORK_ROOT_NAME
    root.mkdir(mode=0o700, exist_ok=True)
    return root


def _sweep_old_results(root: Path) -> None:
    cutoff = time.time() - KEEP_RESULTS_S
    for entry in root.iterdir():
        with contextlib.suppress(OSError):
            if entry.is_dir() and entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)


def _worker_env(work: Path) -> dict[str, str]:
    """A scrubbed environment: nothing of the app's (no secrets), home is the work folder."""
    return {
        "PATH": os.defpath,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": str(work),
        "TMPDIR": str(work),
        "OMP_NUM_THREADS": "1",
    }


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.communicate(timeout=5)


def _seconds(s: float) -> str:
    return f"{s:g} s"


def _call_worker(request: dict[str, object], limits: Limits, work: Path) -> dict[str, Any]:
    proc = subprocess.Popen(
        [sys.executable, "-I", "-m", "capwatch.sandbox.worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=work,
        env=_worker_env(work),
        start_new_session=True,  # its own process group, killed as one
    )
    try:
        out, err = proc.communicate(
            json.dumps(request).encode("utf-8"), timeout=limits.timeout_s + limits.start_grace_s
        )
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise QueryInterrupted(
            f"The query was stopped after {_seconds(limits.timeout_s)}, its time limit."
        ) from None
    except BaseException:
        _kill(proc)
        raise
    lines = out.decode("utf-8", "replace").strip().splitlines()
    if proc.returncode != 0 or not lines:
        LOG.warning("sandbox worker ended with %s: %s", proc.returncode, err[-2000:])
        code = proc.returncode
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        raise QueryFailed(
            "The query stopped without an answer: it most likely ran out of memory "
            f"(the worker ended with {how}). Try a query that returns or holds less."
        )
    reply: dict[str, Any] = json.loads(lines[-1])  # the worker's last line: one JSON object
    return reply


def run_query(
    db_path: Path | str,
    sql: str,
    *,
    limits: Limits | None = None,
    max_rows: int | None = None,
    output_format: OutputFormat | None = None,
) -> QueryResult:
    """Run one read-only query in the sandbox.

    Returns the first `max_rows` rows (default: the `sql_max_rows_shown` setting) and the total
    row count; with `output_format`, the whole result is also written to
    `result.output_path` (CSV: byte-order mark, formula-safe; arrow: an Arrow IPC stream of
    the typed rows, for `capwatch.export` to write as CSV or Excel). Call `result.cleanup()`
    when done with it.
    Raises `QueryRefused`, `QueryInterrupted`, `QueryFailed` or `DatabaseMissing`, each with
    a message fit for the user.
    """
    import polars as pl

    limits = limits or Limits()
    rows = int(config.setting("sql_max_rows_shown")) if max_rows is None else max_rows
    db = Path(db_path).resolve()
    if not db.exists():
        raise DatabaseMissing(f"No database at {db_path}.")
    check_database_file(db)
    try:
        screen_sql(sql)  # refuse early, without starting a process; the worker checks again
    except duckdb.Error as exc:  # a syntax error: DuckDB's message, with line and position
        raise QueryFailed(str(exc).strip("\n")) from None
    if not _slots.acquire(timeout=limits.timeout_s):
        raise QueryRefused("Too many queries are running right now; try again in a moment.")
    root = work_root()
    _sweep_old_results(root)
    work = Path(tempfile.mkdtemp(prefix="q-", dir=root))
    try:
        reply = _call_worker(
            {
                "db": str(db),
                "sql": sql,
                "timeout_s": limits.timeout_s,
                "memory_limit": limits.memory_limit,
                "threads": limits.threads,
                "address_space_bytes": limits.address_space_bytes,
                "max_output_bytes": limits.max_output_bytes,
                "max_rows": rows,
                "output_format": output_format,
                "work_dir": str(work),
            },
            limits,
            work,
        )
        status = reply["status"]
        if status == "refused":
            raise QueryRefused(str(reply["message"]))
        if status == "interrupted":
            raise QueryInterrupted(
                f"The query was stopped after {_seconds(limits.timeout_s)}, its time limit."
            )
        if status == "too_large":
            raise QueryFailed(
                f"The result is larger than {limits.max_output_bytes / 1024**3:g} GB; "
                "narrow the query or aggregate it."
            )
        if status != "ok":
            raise QueryFailed(str(reply.get("message") or "The query failed."))
        preview = pl.read_ipc((work / "preview.arrow").read_bytes())
        return QueryResult(
            columns=[(str(n), str(t)) for n, t in reply["columns"]],
            preview=preview,
            total_rows=int(reply["total_rows"]),
            elapsed_s=float(reply["elapsed_s"]),
            work_dir=work,
            output_path=work / f"result.{output_format}" if output_format else None,
            output_format=output_format,
        )
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        _slots.release()
