"""The one module that owns the DuckDB database: schema, migrations, connections, writes.

Readers share one read-only connection per database file and run each query on a cursor of
their own (a DuckDB connection is not thread-safe; its cursors are).

Writers never touch the live file. A write session copies the database beside itself, applies
migrations and loads there, and on success swaps the copy into place with an atomic rename.
So a reader (the dashboard) never sees a half-load and never blocks a load, a killed load
leaves the live file exactly as it was, and readers pick up the new file on their next query.
Concurrent writers queue on an advisory lock file.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from capwatch import history, schema
from capwatch.errors import DatabaseBusy, DatabaseMissing, NotADatabase, SchemaTooOld
from capwatch.migrations import MIGRATIONS

SCHEMA_VERSION = MIGRATIONS[-1].version

# The storage format the database file is written in. DuckDB 2.0 writes a format that DuckDB
# 1.x cannot open; files written as v1.0.0 open in every DuckDB from 1.0 to 2.x, so analysts
# can query the file from their own DuckDB tools (tests/test_storage_compat.py proves it with
# the DuckDB 1.5 command line).
STORAGE_VERSION = "v1.0.0"

_META_DDL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, description VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL
)
"""


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Bring a writable connection's schema up to date; recreate the views. Returns versions run."""
    con.execute(_META_DDL)
    done = {v for (v,) in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied: list[int] = []
    for m in MIGRATIONS:
        if m.version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        for stmt in m.statements:
            con.execute(stmt)
        con.execute(
            "INSERT INTO schema_migrations VALUES (?, ?, ?)",
            [m.version, m.description, _utcnow()],
        )
        con.execute("COMMIT")
        applied.append(m.version)
    tags = _definition_tags(con)
    for view in schema.VIEWS:  # in dependency order
        if view.materialised and tags.get(view.name) != _definition_tag(view):
            # Built by another release (or never): rebuild it now, as views may read it.
            con.execute(schema.refresh_sql(view))
            _tag(con, view)
        else:
            con.execute(schema.create_view_sql(view))
            if not view.materialised:
                _tag(con, view)
    return applied


def _definition_tag(view: schema.Relation) -> str:
    """A short hash of a view's (or derived table's) SQL, kept as the relation's comment."""
    return "capwatch:" + hashlib.sha256(view.sql.encode()).hexdigest()[:16]


def _tag(con: duckdb.DuckDBPyConnection, view: schema.Relation) -> None:
    kind = "TABLE" if view.materialised else "VIEW"
    con.execute(f"COMMENT ON {kind} {view.name} IS '{_definition_tag(view)}'")


def _definition_tags(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """The tag (comment) of every view and table, by name."""
    rows = con.execute(
        "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal "
        "UNION ALL SELECT table_name, comment FROM duckdb_tables()"
    ).fetchall()
    return {str(name): comment for name, comment in rows}


def _definitions_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether every view and derived table was built from this release's SQL.

    A release may redefine one without a schema migration; its tag (the comment) tells."""
    tags = _definition_tags(con)
    return all(tags.get(v.name) == _definition_tag(v) for v in schema.VIEWS)


def refresh_derived(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the derived tables (weekly grain) so that pages never aggregate daily rows."""
    con.execute("BEGIN TRANSACTION")
    for view in schema.VIEWS:
        if view.materialised:
            con.execute(schema.refresh_sql(view))
            _tag(con, view)
    con.execute("COMMIT")


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The schema version of an open database (0 if it was never migrated)."""
    try:
        row = con.execute("SELECT max(version) FROM schema_migrations").fetchall()[0]
    except duckdb.CatalogException:
        return 0
    return int(row[0] or 0) if row else 0


_SNAPSHOT = "capwatch_db"
_MAGIC = b"DUCK"  # DuckDB's file header: an 8-byte checksum, then these four bytes
_MAGIC_AT = 8


def check_database_file(path: Path) -> None:
    """Raise `NotADatabase`, in one line, when `path` exists but is not a DuckDB file (a CSV,
    a workbook, a folder, an empty file), before DuckDB is asked to open it."""
    if not path.exists():
        return
    advice = "point --db (or $CAPWATCH_DB) at a capwatch database, or at a new file name"
    if path.is_dir():
        raise NotADatabase(f"{path} is a folder, not a DuckDB database: {advice}")
    try:
        with path.open("rb") as fh:
            head = fh.read(_MAGIC_AT + len(_MAGIC))
    except OSError as exc:
        raise NotADatabase(f"cannot read the database {path}: {exc.strerror}") from None
    if head[_MAGIC_AT:] != _MAGIC:
        what = "an empty file" if not head else "its first bytes are not DuckDB's"
        raise NotADatabase(f"{path} is not a DuckDB database ({what}): {advice}")


def open_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the file now at `path`, in a DuckDB instance of its own.

    `duckdb.connect(path)` hands back the instance this process already has open on that path
    (DuckDB's instance cache), which after a load has been swapped in is the old, unlinked
    file. Attaching the path to a fresh in-memory instance always opens the current file;
    the old instance lives on until the last cursor using it is closed.
    """
    if not path.exists():
        raise DatabaseMissing(
            f"No database at {path}. Run `capwatch demo` or `capwatch ingest FILES --db {path}`."
        )
    check_database_file(path)
    con = duckdb.connect(":memory:")
    quoted = str(path).replace("'", "''")
    con.execute(f"ATTACH '{quoted}' AS {_SNAPSHOT} (READ_ONLY)")
    con.execute(f"USE {_SNAPSHOT}")
    version = schema_version(con)
    if version != SCHEMA_VERSION:
        con.close()
        raise SchemaTooOld(
            f"The database at {path} has schema version {version}, this capwatch needs "
            f"{SCHEMA_VERSION}. Run `capwatch migrate --db {path}`."
        )
    return con


def fetch_frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | dict[str, Any] | None = None
) -> pl.DataFrame:
    """Run a query and return its rows as a Polars frame (through Arrow, no copy per row)."""
    rel = con.sql(sql, params=params or None)
    if rel is None:
        return pl.DataFrame()
    frame: pl.DataFrame = rel.pl()  # duckdb annotates pl() loosely
    return frame


def _file_identity(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class Database:
    """Read access to one database file, shared by threads; follows the file when it is replaced."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._identity: tuple[int, int, int] | None = None

    def _connection(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            try:
                identity = _file_identity(self.path)
            except FileNotFoundError:
                identity = None
            if self._con is None or identity != self._identity:
                # The old connection stays usable by cursors already running on it; it is
                # closed when the last of them lets go.
                self._con = open_read_only(self.path)
                self._identity = identity
            return self._con

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own for one query (DuckDB connections are not thread-safe)."""
        cur = self._connection().cursor()
        cur.execute(f"USE {_SNAPSHOT}")  # a cursor starts in the instance's memory catalog
        return cur

    def query(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> pl.DataFrame:
        """Run a read-only query and return a Polars frame."""
        with contextlib.closing(self.cursor()) as cur:
            return fetch_frame(cur, sql, params)

    def scalar(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> Any:
        """Run a query that returns one value."""
        with contextlib.closing(self.cursor()) as cur:
            rows = cur.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    def version(self) -> tuple[int, int, int] | None:
        """Identity of the file now open; changes whenever a load is swapped in."""
        self._connection()
        return self._identity

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
            self._con = None
            self._identity = None


@dataclass(frozen=True)
class LoadRecord:
    """What the load log keeps about one file."""

    table_name: str
    file_name: str
    file_path: str
    file_hash: str
    file_bytes: int
    rows_read: int
    warnings: str | None = None
    reader: str = "contract"  # which reader took the file (see load_log.reader)


@dataclass(frozen=True)
class Rejection:
    """What the load history keeps about a rejected file: its problems as (row, column,
    message), the first ones found, and how many there were in all."""

    table_name: str
    file_name: str
    file_path: str
    file_hash: str | None
    file_bytes: int | None
    problem_count: int
    problems: tuple[tuple[int | None, str | None, str], ...]


class Writer:
    """A writable session on a private copy of the database (see `write_session`)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.changed = False
        self.changes: dict[int, list[history.Change]] = {}  # by the load that made them

    def query(self, sql: str, params: list[Any] | None = None) -> pl.DataFrame:
        return fetch_frame(self.con, sql, params)

    def loaded_hash(self, file_hash: str) -> pl.DataFrame:
        """Earlier loads of a file with this content whose rows are all still in place (empty
        if none): a retracted or replaced load of the same content may be loaded again."""
        ids = [load_id for load_id, _ in history.current_loads_with_hash(self.con, file_hash)]
        return self.query(
            "SELECT load_id, file_name, loaded_at FROM load_log "
            "WHERE list_contains(?, load_id) ORDER BY load_id",
            [ids],
        )

    def record_rejection(self, rejection: Rejection) -> int:
        """Record a rejected file and its problems (`rejected_files`,
        `rejected_file_problems`) in one transaction; returns the rejection's id."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            rejection_id = int(
                self.con.execute(
                    "SELECT coalesce(max(rejection_id), 0) + 1 FROM rejected_files"
                ).fetchall()[0][0]
            )
            self.con.execute(
                "INSERT INTO rejected_files (rejection_id, table_name, file_name, file_path, "
                "file_hash, file_bytes, problem_count, rejected_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    rejection_id,
                    rejection.table_name,
                    rejection.file_name,
                    rejection.file_path,
                    rejection.file_hash,
                    rejection.file_bytes,
                    rejection.problem_count,
                    _utcnow(),
                ],
            )
            if rejection.problems:
                self.con.executemany(
                    "INSERT INTO rejected_file_problems (rejection_id, problem_no, row_number, "
                    "column_name, problem) VALUES (?, ?, ?, ?, ?)",
                    [
                        [rejection_id, n, row, column, message]
                        for n, (row, column, message) in enumerate(rejection.problems, start=1)
                    ],
                )
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.changed = True
        return rejection_id

    def unload(self, load_id: int, note: str | None = None) -> list[history.Change]:
        """Retract one load in a single transaction (see `capwatch.history.retract`)."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            changes = history.retract(self.con, load_id, _utcnow(), note)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.changed = True
        return changes

    def store(
        self,
        record: LoadRecord,
        table: str,
        frame: pl.DataFrame,
        *,
        replace_keys: bool,
        started: float,
    ) -> int:
        """Store one file's rows and its load-log entry in a single transaction.

        Rows of earlier loads with the same replace key (`schema.replace_key`) are replaced:
        moved to the table's `_replaced` archive and recorded in `load_changes` (the checks
        before this refuse such overlaps in capacity and activity unless `--replace` was
        given). `replace_keys` upserts on the primary key for a table without an archive.
        Returns the new load_id; the changes it made are in `self.changes[load_id]`.
        """
        target = schema.relation(table)
        cols = [c for c in target.column_names if c != "load_id"]
        select = ", ".join(schema.quote(c) for c in cols)
        archived = history.has_archive(table)
        verb = "INSERT OR REPLACE INTO" if replace_keys and not archived else "INSERT INTO"
        self.con.execute("BEGIN TRANSACTION")
        try:
            load_id = int(
                self.con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM load_log").fetchall()[
                    0
                ][0]
            )
            self.con.register("_incoming", frame.select(cols))
            changes = (
                history.supersede(self.con, table, "_incoming", load_id, _utcnow())
                if archived
                else []
            )
            self.con.execute(
                f"{verb} {table} ({select}, load_id) SELECT {select}, ? FROM _incoming", [load_id]
            )
            self.con.unregister("_incoming")
            self.con.execute(
                "INSERT INTO load_log (load_id, table_name, file_name, file_path, file_hash, "
                "file_bytes, rows_read, rows_stored, warnings, loaded_at, duration_ms, reader) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    load_id,
                    record.table_name,
                    record.file_name,
                    record.file_path,
                    record.file_hash,
                    record.file_bytes,
                    record.rows_read,
                    frame.height,
                    record.warnings,
                    _utcnow(),
                    (time.perf_counter() - started) * 1000,
                    record.reader,
                ],
            )
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.changed = True
        self.changes[load_id] = changes
        return load_id


def _lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def _write_lock(path: Path, wait_s: float) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock_path(path).open("a") as fh:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if time.monotonic() > deadline:
                    raise DatabaseBusy(
                        f"Another capwatch process is writing to {path}; try again when it ends."
                    ) from exc
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def write_session(
    path: Path | str, *, lock_wait_s: float = 600.0, rebuild: bool = False
) -> Iterator[Writer]:
    """Open a private copy of the database for writing; swap it in only if the block succeeds.

    Each `Writer.store` is its own transaction inside the copy, so one bad file does not undo
    the good ones; the copy becomes the live database when the block exits normally and
    something changed: data, the schema, the storage format or a view's definition (a new
    release may redefine a view without a migration). If nothing changed the live file is not
    touched at all. `rebuild` swaps in a copy with every derived table rebuilt regardless.
    """
    path = Path(path)
    check_database_file(path)
    with _write_lock(path, lock_wait_s):
        staging = path.with_name(f".{path.name}.{os.getpid()}.staging")
        # Holding the lock, no other writer is alive: any staging file here was left by a
        # killed load (with its own pid in the name) and is rubbish.
        for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.staging*"):
            leftover.unlink(missing_ok=True)
        converted = False
        if path.exists():
            shutil.copyfile(path, staging)
            converted = _convert_storage(staging)
        con = duckdb.connect(
            str(staging), config={"storage_compatibility_version": STORAGE_VERSION}
        )
        try:
            definitions_current = _definitions_current(con)
            migrated = apply_migrations(con)
            writer = Writer(con)
            yield writer
            if (
                writer.changed
                or migrated
                or converted
                or not definitions_current
                or rebuild
                or not path.exists()
            ):
                refresh_derived(con)
                con.execute("CHECKPOINT")
                con.close()
                _fsync(staging)
                staging.replace(path)
                _fsync(path.parent)
        finally:
            with contextlib.suppress(duckdb.Error):
                con.close()
            for leftover in (
                staging,
                staging.with_name(staging.name + ".wal"),
                staging.with_name(staging.name + ".converted"),
            ):
                leftover.unlink(missing_ok=True)


def storage_version(path: Path) -> str:
    """The storage format of a database file, e.g. 'v1.0.0+' (DuckDB's storage_version tag)."""
    con = duckdb.connect(":memory:")
    try:
        quoted = str(path).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS probe (READ_ONLY)")
        tags = con.execute(
            "SELECT tags FROM duckdb_databases() WHERE database_name = 'probe'"
        ).fetchall()[0][0]
        return str(tags.get("storage_version", ""))
    finally:
        con.close()


def _convert_storage(staging: Path) -> bool:
    """Rewrite a staging copy in a newer storage format as STORAGE_VERSION (every table, view
    and key copied by DuckDB's COPY FROM DATABASE). True if it was converted."""
    if storage_version(staging) == f"{STORAGE_VERSION}+":
        return False
    converted = staging.with_name(staging.name + ".converted")
    converted.unlink(missing_ok=True)
    con = duckdb.connect(":memory:")
    try:
        src = str(staging).replace("'", "''")
        dst = str(converted).replace("'", "''")
        con.execute(f"ATTACH '{src}' AS old_format (READ_ONLY)")
        con.execute(f"ATTACH '{dst}' AS new_format (STORAGE_VERSION '{STORAGE_VERSION}')")
        con.execute("COPY FROM DATABASE old_format TO new_format")
        con.execute("DETACH old_format")
        con.execute("DETACH new_format")
    finally:
        con.close()
    converted.replace(staging)
    return True


def migrate(path: Path | str) -> None:
    """Create the database if missing, bring it to the current schema and rebuild every view
    and derived table (so an upgrade that redefines one reaches an existing database)."""
    with write_session(path, rebuild=True):
        pass


def table_fingerprint(path: Path | str, *, rejections: bool = False) -> dict[str, str]:
    """A content hash per stored table (for tests and the Data page: did anything change?).

    The record of rejected files (`schema.REJECTION_TABLES`) is left out unless `rejections`:
    a rejected file changes no data, though the load history notes it."""
    con = open_read_only(Path(path))
    try:
        out: dict[str, str] = {}
        for t in schema.TABLES:
            if t.name in schema.REJECTION_TABLES and not rejections:
                continue
            order = ", ".join(schema.quote(c) for c in t.column_names)
            row = con.execute(
                f"SELECT count(*), coalesce(sum(hash({order})), 0) FROM {t.name}"
            ).fetchall()[0]
            out[t.name] = f"{row[0]}:{row[1]}"
        return out
    finally:
        con.close()
