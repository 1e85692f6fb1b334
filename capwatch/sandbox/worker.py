"""The sandbox worker: one user query in a process of its own, locked down, then it exits.

Run as `python -I -m capwatch.sandbox.worker`. It reads one JSON request on stdin, writes the
result into the request's work folder (the first rows as an Arrow IPC file for the screen,
and, if asked, every row as CSV or JSON), and prints one JSON line on stdout saying how it
went. The parent (`capwatch.sandbox.client`) kills it if it outlives its time limit.

Only the trusted Python here writes files, and only into the work folder: the DuckDB
connection that runs the user's SQL has external access off, so SQL cannot.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import resource
import signal
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc

from capwatch.errors import QueryRefused
from capwatch.sandbox.screen import screen_sql

# The same rule as `capwatch.export.FORMULA_START` (a test holds them equal); not imported
# from there because that module pulls in Polars, which would slow every worker's start.
FORMULA_START = r"^[=+\-@\t\r]"

BATCH_ROWS = 65_536

# Types that Arrow CSV and Polars both take as they are; any other column (lists, structs,
# maps, intervals, blobs, ...) is shown and written as DuckDB's own text for it.
_PLAIN_TYPES = frozenset(
    {
        "boolean", "tinyint", "smallint", "integer", "bigint", "hugeint", "utinyint",
        "usmallint", "uinteger", "ubigint", "float", "double", "decimal", "varchar", "date",
        "time", "timestamp", "timestamp_s", "timestamp_ms", "timestamp_ns",
        "timestamp with time zone", "uuid", "enum",
    }
)  # fmt: skip


class _StoppedError(Exception):
    """The watchdog fired."""


def locked_config(memory_limit: str, threads: int) -> dict[str, Any]:
    """Database settings applied when it opens, before any user SQL (`open_locked` freezes them)."""
    return {
        "enable_external_access": False,  # no files, network, ATTACH, COPY, INSTALL, LOAD
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "allow_community_extensions": False,
        "allow_unsigned_extensions": False,
        "allow_persistent_secrets": False,
        "python_enable_replacements": False,  # no scans of this process's Python variables
        "memory_limit": memory_limit,
        "threads": threads,
        "temp_directory": "",  # no spilling to disk: a query over the limit fails instead
        "max_temp_directory_size": "0B",
    }


def open_locked(db: str, memory_limit: str, threads: int) -> duckdb.DuckDBPyConnection:
    """A read-only connection with `locked_config`; then SET / RESET / PRAGMA change nothing."""
    con = duckdb.connect(db, read_only=True, config=locked_config(memory_limit, threads))
    # A second connection in the same process shares the (already locked) database instance.
    if not con.execute("SELECT current_setting('lock_configuration')").fetchall()[0][0]:
        con.execute("SET enable_progress_bar = false")  # a connection option: not in config
        con.execute("SET lock_configuration = true")
    return con


def _limit_process(address_space_bytes: int, max_output_bytes: int) -> None:
    """Last-resort OS limits, under DuckDB's own: address space, file size, no core dumps."""
    for limit, value in (
        (resource.RLIMIT_AS, address_space_bytes),
        (resource.RLIMIT_FSIZE, max_output_bytes),
        (resource.RLIMIT_CORE, 0),
    ):
        if value > 0:
            _soft, hard = resource.getrlimit(limit)
            capped = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(limit, (capped, hard))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write raises EFBIG instead
    with contextlib.suppress(OSError):
        os.nice(5)  # the dashboard's own queries come first


def _printable(rel: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """Cast columns of nested or exotic types to text (by position: names may repeat)."""
    if all(t.id in _PLAIN_TYPES for t in rel.types):
        return rel
    exprs = []
    for i, (name, type_) in enumerate(zip(rel.columns, rel.types, strict=True), start=1):
        alias = '"' + name.replace('"', '""') + '"'
        exprs.append(
            f"#{i} AS {alias}" if type_.id in _PLAIN_TYPES else f"CAST(#{i} AS VARCHAR) AS {alias}"
        )
    return rel.project(", ".join(exprs))


def _formula_safe(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Prefix an apostrophe to text cells a spreadsheet would run as a formula."""
    columns = []
    for column in batch.columns:
        if pa.types.is_dictionary(column.type):
            column = column.cast(pa.string())
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            risky = pc.fill_null(pc.match_substring_regex(column, FORMULA_START), False)
            column = pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


UTF8_BOM = b"\xef\xbb\xbf"  # Excel reads UTF-8 CSV right only with it (see capwatch.export)


class _CsvOut:
    def __init__(self, fh: IO[bytes], schema: pa.Schema) -> None:
        self._fh = fh
        self._writer: pacsv.CSVWriter | None = None
        self._schema = schema
        fh.write(UTF8_BOM)

    def write(self, batch: pa.RecordBatch) -> None:
        safe = _formula_safe(batch)
        if self._writer is None:
            self._writer = pacsv.CSVWriter(self._fh, safe.schema)
        self._writer.write_batch(safe)

    def close(self) -> None:
        if self._writer is None:  # no rows: still write the header
            names = self._schema.names
            empty = pa.RecordBatch.from_arrays(
                [pa.array([], pa.string()) for _ in names], names=names
            )
            self._writer = pacsv.CSVWriter(self._fh, empty.schema)
        self._writer.close()


def _strict_json(value: Any) -> Any:
    """`value` with NaN and infinities as None: strict JSON (RFC 8259) has no such numbers,
    and Python's `json` would write `NaN` / `Infinity`, which strict readers refuse."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict_json(v) for v in value]
    return value


class _JsonOut:
    """A strict JSON array of row objects (NaN and infinities as null), batch by batch."""

    def __init__(self, fh: IO[bytes], schema: pa.Schema) -> None:
        self._fh = fh
        self._first = True
        del schema
        fh.write(b"[")

    def write(self, batch: pa.RecordBatch) -> None:
        for row in batch.to_pylist():
            self._fh.write(b"\n" if self._first else b",\n")
            text = json.dumps(_strict_json(row), default=str, ensure_ascii=False, allow_nan=False)
            self._fh.write(text.encode("utf-8"))
            self._first = False

    def close(self) -> None:
        self._fh.write(b"\n]\n")


class _ArrowOut:
    """Every row, typed, as an Arrow IPC stream: the app and the CLI turn it into CSV or Excel."""

    def __init__(self, fh: IO[bytes], schema: pa.Schema) -> None:
        self._writer = ipc.new_stream(fh, schema)

    def write(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch)

    def close(self) -> None:
        self._writer.close()


_OUTPUTS: dict[str, type[_CsvOut | _JsonOut | _ArrowOut]] = {
    "csv": _CsvOut,
    "json": _JsonOut,
    "arrow": _ArrowOut,
}


def _plain_message(exc: BaseException) -> str:
    """DuckDB's message without the trailing blank lines; keeps LINE 1 and the caret."""
    return str(exc).strip("\n")


def _stream(
    con: duckdb.DuckDBPyConnection, sql: str, request: dict[str, Any], stopped: threading.Event
) -> dict[str, Any]:
    rel = con.sql(sql)
    if rel is None:
        raise QueryRefused("The statement returned no result.")
    columns = [[n, str(t)] for n, t in zip(rel.columns, rel.types, strict=True)]
    rel = _printable(rel)
    reader = rel.to_arrow_reader(BATCH_ROWS)
    work = Path(request["work_dir"])
    max_rows = int(request["max_rows"])
    preview: list[pa.RecordBatch] = []
    kept = total = 0
    fmt = request.get("output_format")
    with contextlib.ExitStack() as stack:
        out: _CsvOut | _JsonOut | _ArrowOut | None = None
        if fmt:
            fh = stack.enter_context((work / f"result.{fmt}").open("wb"))
            out = _OUTPUTS[fmt](fh, reader.schema)
        for batch in reader:
            if stopped.is_set():
                raise _StoppedError
            total += batch.num_rows
            if kept < max_rows:
                part = batch.slice(0, max_rows - kept)
                preview.append(part)
                kept += part.num_rows
            if out is not None:
                out.write(batch)
        if stopped.is_set():
            raise _StoppedError
        if out is not None:
            out.close()
    table = pa.Table.from_batches(preview, schema=reader.schema)
    with ipc.new_file(str(work / "preview.arrow"), table.schema) as sink:
        sink.write_table(table)
    return {"status": "ok", "columns": columns, "total_rows": total}


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Screen, lock down, run and write out one query; never raises."""
    timeout_s = float(request["timeout_s"])
    try:
        sql = screen_sql(request["sql"])
    except QueryRefused as exc:
        return {"status": "refused", "message": str(exc)}
    except duckdb.Error as exc:
        return {"status": "failed", "message": _plain_message(exc)}
    try:
        con = open_locked(request["db"], request["memory_limit"], int(request["threads"]))
    except duckdb.Error as exc:
        return {"status": "failed", "message": _plain_message(exc)}
    stopped = threading.Event()

    def _stop() -> None:
        stopped.set()
        con.interrupt()

    watchdog = threading.Timer(timeout_s, _stop)
    watchdog.daemon = True
    started = time.perf_counter()
    watchdog.start()
    try:
        reply = _stream(con, sql, request, stopped)
    except _StoppedError:
        reply = {"status": "interrupted"}
    except duckdb.OutOfMemoryException as exc:
        first_line = _plain_message(exc).splitlines()[0]
        reply = {
            "status": "failed",
            "message": f"{first_line}. Ad hoc SQL may use {request['memory_limit']}: filter or "
            "aggregate more, or return fewer columns.",
        }
    except MemoryError:
        reply = {"status": "failed", "message": "The query ran out of memory."}
    except QueryRefused as exc:
        reply = {"status": "refused", "message": str(exc)}
    except duckdb.Error as exc:
        # After the watchdog fires, whatever DuckDB raises is the interruption.
        interrupted = stopped.is_set() or isinstance(exc, duckdb.InterruptException)
        reply = (
            {"status": "interrupted"}
            if interrupted
            else {"status": "failed", "message": _plain_message(exc)}
        )
    except OSError as exc:
        if exc.errno != errno.EFBIG:
            raise
        reply = {"status": "too_large"}
    except pa.ArrowException as exc:
        reply = {"status": "failed", "message": f"The result could not be written: {exc}"}
    finally:
        watchdog.cancel()
    reply["elapsed_s"] = time.perf_counter() - started
    return reply


def main() -> None:
    """Entry point of the worker process."""
    # The reply goes to the original stdout; anything else printed (by DuckDB or Arrow)
    # lands on stderr, so it can never corrupt the reply.
    sys.stdout.flush()
    reply_fd = os.dup(1)
    os.dup2(2, 1)
    request = json.loads(sys.stdin.buffer.read())
    _limit_process(int(request["address_space_bytes"]), int(request["max_output_bytes"]))
    reply = run(request)
    os.write(reply_fd, (json.dumps(reply) + "\n").encode("utf-8"))
    # Skip interpreter teardown (DuckDB and Arrow thread pools): the answer is out.
    os._exit(0)


if __name__ == "__main__":
    main()
