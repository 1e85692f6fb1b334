"""The loader: each file is read, checked and stored whole, or rejected whole with its problems.

Activity files (the big ones) are scanned once in streaming mode, normalised, flag-counted and
summed to the day in the same pass; they are only read again if that pass found a problem.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import polars as pl

from capwatch import db, quality
from capwatch.contract import InputTable
from capwatch.load_published import load_published
from capwatch.pipelines import validate
from capwatch.pipelines.normalise import flag_columns, normalise, normalise_distinct
from capwatch.pipelines.problems import FileRejected, Problem
from capwatch.pipelines.published.readers import is_published
from capwatch.pipelines.read import (
    ROW,
    Fingerprint,
    ScannedFile,
    discover,
    fingerprint,
    locate_csv_problem,
    not_blank,
    scan,
)

STORED_AS = {"activity": "activity_daily"}
ACTIVITY_GRAIN = [
    "site_code",
    "service_line",
    "activity_type",
    "activity_label",
    "activity_date",
    "funding",
]

Status = Literal["loaded", "skipped", "rejected"]


class ActivityEngine(Protocol):
    """Another engine for the heavy step of activity files (see capwatch/spark_engine.py).

    It finds the inputs, reads and checks the files it `handles` and sums them to the day;
    everything else (header matching, the rules, the load itself) is shared with the default.
    """

    def discover(self, paths: list[Path]) -> tuple[list[tuple[Path, InputTable]], list[Problem]]:
        """As read.discover, plus inputs only this engine reads (a Parquet dataset folder)."""
        ...

    def handles(self, path: Path, table: InputTable) -> bool: ...

    def fingerprint(self, path: Path) -> Fingerprint: ...

    def scan(self, path: Path, table: InputTable, print_: Fingerprint) -> ScannedFile: ...

    def by_day(self, scanned: ScannedFile, *, with_rows: bool) -> pl.DataFrame:
        """As `_activity_by_day`."""
        ...

    def value_problems(self, scanned: ScannedFile) -> list[Problem]:
        """As validate.value_problems."""
        ...


@dataclass
class FileOutcome:
    """What happened to one file."""

    path: Path
    table: str
    status: Status
    rows_read: int = 0
    rows_stored: int = 0
    load_id: int | None = None
    problems: list[Problem] = field(default_factory=list)
    total_problems: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @classmethod
    def rejected(
        cls, path: Path, table: str, problems: list[Problem], total: int, started: float
    ) -> FileOutcome:
        """A file rejected whole, with its problems and the time spent finding them."""
        return cls(
            path,
            table,
            "rejected",
            problems=problems,
            total_problems=total,
            seconds=time.perf_counter() - started,
        )

    def summary(self) -> str:
        if self.status == "loaded":
            extra = f"; {'; '.join(self.notes)}" if self.notes else ""
            return (
                f"loaded   {self.path} as {self.table}: {self.rows_read:,} rows read, "
                f"{self.rows_stored:,} stored (load {self.load_id}){extra}"
            )
        if self.status == "skipped":
            return f"skipped  {self.path}: {'; '.join(self.notes)}"
        shown = len(self.problems)
        more = f" (first {shown} shown)" if self.total_problems > shown else ""
        return f"rejected {self.path}: {self.total_problems:,} problem(s){more}, nothing loaded"


@dataclass
class IngestReport:
    """The outcome of one `ingest` run."""

    outcomes: list[FileOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.status != "rejected" for o in self.outcomes)

    def count(self, status: Status) -> int:
        return sum(o.status == status for o in self.outcomes)


def ingest(
    paths: list[Path],
    db_path: Path,
    engine: ActivityEngine | None = None,
    *,
    replace: bool = False,
) -> IngestReport:
    """Load files and folders into the database at `db_path`, each file all-or-nothing.

    `engine` (e.g. Spark) reads the activity files it handles; the default reads the rest.
    With `replace`, a file's capacity or activity that overlaps earlier loads replaces those
    rows (a resubmission) instead of being refused."""
    report = IngestReport()
    files, problems = discover(paths) if engine is None else engine.discover(paths)
    for p in problems:
        report.outcomes.append(
            FileOutcome(Path(p.file), "?", "rejected", problems=[p], total_problems=1)
        )
    if not files:
        return report
    with db.write_session(db_path) as writer:
        for path, table in files:
            report.outcomes.append(load_file(writer, path, table, engine, replace=replace))
    return report


def load_file(
    writer: db.Writer,
    path: Path,
    table: InputTable,
    engine: ActivityEngine | None = None,
    *,
    replace: bool = False,
) -> FileOutcome:
    """Read, check and store one file in one transaction; never raises for bad input."""
    started = time.perf_counter()
    if engine is not None and not engine.handles(path, table):
        engine = None
    print_ = fingerprint(path) if engine is None else engine.fingerprint(path)
    digest = print_.sha256
    earlier = writer.loaded_hash(digest)
    if not earlier.is_empty():
        first = earlier.row(0, named=True)
        return FileOutcome(
            path,
            table.name,
            "skipped",
            load_id=first["load_id"],
            notes=[
                f"the same content was already loaded as {first['file_name']} "
                f"(load {first['load_id']}); nothing changed"
            ],
            seconds=time.perf_counter() - started,
        )
    if is_published(table):  # a published file (DM01, ODS), recognised by its content
        return _load_published(writer, path, table, digest, started)
    scanned: ScannedFile | None = None
    try:
        scanned = scan(path, table, print_) if engine is None else engine.scan(path, table, print_)
        frame, rows_read = _checked_frame(writer, scanned, engine, replace=replace)
        scanned.notes += quality.warnings(writer, table, frame)
        record = db.LoadRecord(
            table_name=table.name,
            file_name=path.name,
            file_path=str(path.resolve()),
            file_hash=digest,
            file_bytes=_size(path),
            rows_read=rows_read,
            warnings="; ".join(scanned.notes) or None,
        )
        load_id = writer.store(
            record,
            STORED_AS.get(table.name, table.name),
            frame,
            replace_keys=table.layer == "reference",
            started=started,
        )
        scanned.notes += [c.describe() for c in writer.changes.get(load_id, [])]
    except FileRejected as rejected:
        return FileOutcome.rejected(path, table.name, rejected.problems, rejected.total, started)
    except pl.exceptions.PolarsError as exc:
        located = locate_csv_problem(scanned) if scanned is not None else None
        problem = located or Problem(
            str(path), None, None, f"cannot read the file: {_first_line(exc)}"
        )
        return FileOutcome.rejected(path, table.name, [problem], 1, started)
    finally:
        if scanned is not None:
            scanned.close()
    return FileOutcome(
        path,
        table.name,
        "loaded",
        rows_read=rows_read,
        rows_stored=frame.height,
        load_id=load_id,
        notes=scanned.notes,
        seconds=time.perf_counter() - started,
    )


def _size(path: Path) -> int:
    """Bytes of a file, or of every file in a folder (a Parquet dataset)."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _load_published(
    writer: db.Writer, path: Path, table: InputTable, digest: str, started: float
) -> FileOutcome:
    """A published file through `capwatch.load_published`, as a FileOutcome."""
    try:
        done = load_published(writer, path, table.name, digest, started)
    except FileRejected as rejected:
        return FileOutcome.rejected(path, table.name, rejected.problems, rejected.total, started)
    return FileOutcome(
        path,
        table.name,
        done.status,
        rows_read=done.rows,
        rows_stored=done.rows,
        load_id=done.load_id,
        notes=done.notes,
        seconds=time.perf_counter() - started,
    )


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _checked_frame(
    writer: db.Writer,
    scanned: ScannedFile,
    engine: ActivityEngine | None = None,
    *,
    replace: bool = False,
) -> tuple[pl.DataFrame, int]:
    """The frame to store and the number of rows read, or FileRejected with every problem."""
    table = scanned.table
    by_day = _activity_by_day if engine is None else engine.by_day
    if table.name == "activity":
        frame = by_day(scanned, with_rows=False)
        rows_read = int(frame["source_rows"].sum())
    else:
        frame = normalise(scanned.frame, table).collect(engine="streaming")
        rows_read = frame.height
    if rows_read == 0:
        raise FileRejected(
            [Problem(str(scanned.path), None, None, "no data rows below the header")]
        )
    bad_values = validate.count_flags(frame, table)
    if bad_values:
        located = (validate.value_problems if engine is None else engine.value_problems)(scanned)
        raise FileRejected(located, total=bad_values)
    problems = _table_problems(writer, frame, table, str(scanned.path), replace=replace)
    if problems and table.name == "activity":
        # The fast pass keeps no row numbers: read the file again to name the rows.
        frame = by_day(scanned, with_rows=True)
        problems = _table_problems(writer, frame, table, str(scanned.path), replace=replace)
    if problems:
        raise FileRejected(problems)
    return frame, rows_read


def _activity_by_day(scanned: ScannedFile, *, with_rows: bool = False) -> pl.DataFrame:
    """Event rows summed to the day, with every bad value counted, in one streaming pass.

    Events repeat the same few thousand raw values, so the pass first counts identical raw rows
    (a cheap hash aggregation over text) and only then normalises and checks each distinct raw
    row once, weighting its flags by how many events share it. Normalising tens of millions of
    events one by one would cost several times the whole CSV parse.

    Numbering the rows costs about a third of the pass, so the first row of each day is kept
    only `with_rows` (when a check has found something and needs to say where); otherwise
    `_row` is null.
    """
    table = scanned.table
    raw = scanned.with_blank_rows if scanned.with_blank_rows is not None else scanned.frame
    if not with_rows:
        raw = raw.drop(ROW)
    raw_columns = [c for c in raw.collect_schema().names() if c != ROW]
    first_row = pl.col(ROW).min() if with_rows else pl.lit(None, pl.Int64).alias(ROW)
    distinct = (
        raw.group_by(raw_columns)
        .agg(pl.len().alias("source_rows"), first_row)
        .collect(engine="streaming")
    )
    return daily_from_distinct(distinct, table)


def daily_from_distinct(distinct: pl.DataFrame, table: InputTable) -> pl.DataFrame:
    """Distinct raw rows (text columns, `source_rows`, `_row`) normalised, checked and summed
    to the day, each row's units and flags weighted by the events that share it.

    Both engines call this: the default one on the whole file's distinct rows, the Spark
    engine on each Arrow batch of them (its partial sums are summed again in Spark).
    """
    raw_columns = [c for c in distinct.columns if c not in (ROW, "source_rows")]
    distinct = distinct.filter(not_blank(raw_columns))  # blank rows fall into one group
    checked = normalise_distinct(distinct, table).lazy()
    weight = pl.col("source_rows")
    return (
        checked.group_by(ACTIVITY_GRAIN)
        .agg(
            (pl.col("units") * weight).sum().alias("units"),
            weight.sum(),
            pl.col(ROW).min(),
            *((pl.col(f).cast(pl.Int64) * weight).sum().alias(f) for f in flag_columns(table)),
        )
        .collect()
    )


def _table_problems(
    writer: db.Writer, frame: pl.DataFrame, table: InputTable, file: str, *, replace: bool = False
) -> list[Problem]:
    """Problems that need the whole file or the database. Overlaps with earlier loads are
    problems unless `replace` (then the store replaces them)."""
    problems = validate.duplicate_key_problems(frame, table, file)
    if "provider_code" in frame.columns and table.name != "providers":
        known = set(writer.query("SELECT provider_code FROM providers")["provider_code"])
        problems += validate.unknown_code_problems(frame, "provider_code", known, "provider", file)
    if "site_code" in frame.columns and table.name != "sites":
        known = set(writer.query("SELECT site_code FROM sites")["site_code"])
        problems += validate.unknown_code_problems(frame, "site_code", known, "site", file)
    if table.name == "contracts":
        problems += validate.contract_date_problems(frame, file)
    if table.name in ("capacity", "demand") and not replace:
        key = list(table.key)
        existing = writer.query(
            f"SELECT {', '.join(key)}, c.load_id, l.file_name FROM {table.name} c "
            "JOIN load_log l USING (load_id)"
        )
        problems += validate.overlap_problems(frame, existing, key, file, table.name)
    if table.name == "activity" and not replace:
        key = ["site_code", "service_line", "activity_date"]
        existing = writer.query(
            "SELECT DISTINCT site_code, service_line, activity_date, a.load_id, l.file_name "
            "FROM activity_daily a JOIN load_log l USING (load_id)"
        )
        incoming = frame.group_by(key).agg(pl.col(ROW).min())
        problems += validate.overlap_problems(incoming, existing, key, file, "activity")
    return sorted(problems, key=lambda p: (p.row or 0, p.column or ""))
