"""The loader: each file is read, checked and stored whole, or rejected whole with its problems.

Activity files (the big ones) are scanned once in streaming mode, normalised, flag-counted and
summed to the day in the same pass; they are only read again if that pass found a problem.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import polars as pl

from capwatch import catalogue, db, quality, schema
from capwatch.contract import InputTable
from capwatch.load_published import load_published
from pipelines import validate
from pipelines.normalise import bad, flag_columns, normalise, normalise_distinct
from pipelines.problems import FileRejected, Found, Problem, problem_frame, rejected_problem_list
from pipelines.published.readers import is_published
from pipelines.read import (
    ROW,
    Fingerprint,
    ScannedFile,
    discover,
    fingerprint,
    locate_csv_problem,
    not_blank,
    scan,
)

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
    file_hash: str | None = None
    every_problem: pl.DataFrame | None = None  # all of them (PROBLEM_SCHEMA), when asked for
    rejection_id: int | None = None  # as the load history recorded it

    @classmethod
    def rejected(
        cls,
        path: Path,
        table: str,
        problems: list[Problem],
        total: int,
        started: float,
        file_hash: str | None = None,
        every: pl.DataFrame | None = None,
    ) -> FileOutcome:
        """A file rejected whole, with its problems and the time spent finding them."""
        return cls(
            path,
            table,
            "rejected",
            problems=problems,
            total_problems=total,
            seconds=time.perf_counter() - started,
            file_hash=file_hash,
            every_problem=every,
        )

    def rejection(self) -> db.Rejection:
        """This rejected file as the load history records it (`rejected_files`)."""
        try:
            size: int | None = _size(self.path)
        except OSError:
            size = None
        return db.Rejection(
            table_name=self.table,
            file_name=self.path.name,
            file_path=str(self.path.resolve()),
            file_hash=self.file_hash,
            file_bytes=size,
            problem_count=max(self.total_problems, len(self.problems)),
            problems=tuple((p.row, p.column, p.message) for p in self.problems),
        )

    def every(self) -> pl.DataFrame:
        """Every problem of a rejected file (`PROBLEM_SCHEMA`): the whole list when it was
        asked for (`ingest(every_problem=True)`), else the ones shown."""
        if self.every_problem is not None:
            return self.every_problem
        return problem_frame(self.problems)

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
    def rejected(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "rejected"]

    def problem_list(self) -> pl.DataFrame:
        """Every problem of every rejected file, as the Data page lists the recorded ones
        (`rejected_problem_list`): by rejection, then row and column."""
        return (
            pl.concat(
                [
                    rejected_problem_list(o.rejection_id, o.path.name, o.every())
                    for o in self.rejected
                ],
                how="vertical",
            )
            if self.rejected
            else rejected_problem_list(None, "", problem_frame([]))
        )

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
    every_problem: bool = False,
) -> IngestReport:
    """Load files and folders into the database at `db_path`, each file all-or-nothing.

    `engine` (e.g. Spark) reads the activity files it handles; the default reads the rest.
    With `replace`, a file's capacity or activity that overlaps earlier loads replaces those
    rows (a resubmission) instead of being refused. With `every_problem`, a rejected file's
    outcome holds its whole list of problems, not only the first few (`FileOutcome.every`)."""
    report = IngestReport()
    files, problems = discover(paths) if engine is None else engine.discover(paths)
    for p in problems:
        report.outcomes.append(
            FileOutcome(Path(p.file), "?", "rejected", problems=[p], total_problems=1)
        )
    if not files and not problems:
        return report
    with db.write_session(db_path) as writer, _hashed_ahead(files, engine) as prints:
        for (path, table), print_ in zip(files, prints, strict=True):
            report.outcomes.append(
                load_file(
                    writer,
                    path,
                    table,
                    engine,
                    replace=replace,
                    ahead=print_,
                    every_problem=every_problem,
                )
            )
        for outcome in report.rejected:  # the load history keeps every rejected file
            outcome.rejection_id = writer.record_rejection(outcome.rejection())
    return report


@contextlib.contextmanager
def _hashed_ahead(
    files: list[tuple[Path, InputTable]], engine: ActivityEngine | None
) -> Iterator[list[Future[Fingerprint] | None]]:
    """The default engine's fingerprints (SHA-256 and UTF-8 check) of every file, read in
    order by one background thread, so that hashing the next file overlaps with parsing this
    one (hashlib releases the GIL; the hash was a single-threaded tenth of the ingest). An
    engine fingerprints its own files (None here)."""
    if engine is not None:
        yield [None] * len(files)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="capwatch-hash") as pool:
        futures: list[Future[Fingerprint]] = [pool.submit(fingerprint, p) for p, _ in files]
        try:
            yield list(futures)
        finally:
            for future in futures:
                future.cancel()


def load_file(
    writer: db.Writer,
    path: Path,
    table: InputTable,
    engine: ActivityEngine | None = None,
    *,
    replace: bool = False,
    ahead: Future[Fingerprint] | None = None,
    every_problem: bool = False,
) -> FileOutcome:
    """Read, check and store one file in one transaction; never raises for bad input.

    `ahead` is the default engine's fingerprint of the file, being computed in advance;
    `every_problem` keeps a rejected file's whole list of problems (see `ingest`)."""
    started = time.perf_counter()
    if engine is not None and not engine.handles(path, table):
        engine = None
    if engine is not None:
        print_ = engine.fingerprint(path)
    else:
        print_ = ahead.result() if ahead is not None else fingerprint(path)
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
        return _load_published(
            writer, path, table, digest, started, replace=replace, every_problem=every_problem
        )
    scanned: ScannedFile | None = None
    try:
        scanned = scan(path, table, print_) if engine is None else engine.scan(path, table, print_)
        frame, rows_read = _checked_frame(
            writer, scanned, engine, replace=replace, every_problem=every_problem
        )
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
            schema.stored_table(table.name),
            frame,
            replace_keys=table.layer == "reference",
            started=started,
        )
        scanned.notes += [c.describe() for c in writer.changes.get(load_id, [])]
    except FileRejected as rejected:  # collected here, while the file is still open
        every = rejected.everything() if every_problem else None
        return FileOutcome.rejected(
            path, table.name, rejected.problems, rejected.total, started, digest, every
        )
    except pl.exceptions.PolarsError as exc:
        located = locate_csv_problem(scanned) if scanned is not None else None
        problem = located or Problem(
            str(path), None, None, f"cannot read the file: {_first_line(exc)}"
        )
        return FileOutcome.rejected(path, table.name, [problem], 1, started, digest)
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
    writer: db.Writer,
    path: Path,
    table: InputTable,
    digest: str,
    started: float,
    *,
    replace: bool = False,
    every_problem: bool = False,
) -> FileOutcome:
    """A published file through `capwatch.load_published`, as a FileOutcome."""
    try:
        done = load_published(writer, path, table.name, digest, started, replace=replace)
    except FileRejected as rejected:
        every = rejected.everything() if every_problem else None
        return FileOutcome.rejected(
            path, table.name, rejected.problems, rejected.total, started, digest, every
        )
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
    every_problem: bool = False,
) -> tuple[pl.DataFrame, int]:
    """The frame to store and the number of rows read, or FileRejected with every problem
    (`every_problem`: the whole list of bad values too, read again from the file)."""
    table = scanned.table
    by_day = _activity_by_day if engine is None else engine.by_day
    summed = table.declaration.summed_to_day
    if summed:
        frame = by_day(scanned, with_rows=False)
        rows_read = int(frame["source_rows"].sum())
    else:
        frame = normalise(scanned.frame, table).collect(engine="streaming")
        rows_read = frame.height
    if rows_read == 0:
        raise FileRejected(
            [Problem(str(scanned.path), None, None, "no data rows below the header")]
        )
    # Every independent problem in one pass: bad values, and the whole-file checks on the
    # values that are good (a bad key or code cannot be checked, the rest still can).
    bad_values = validate.count_flags(frame, table)
    values = Found()
    if bad_values:
        located = (validate.value_problems if engine is None else engine.value_problems)(scanned)
        values = Found(located, bad_values, every=_every_value(scanned, engine, every_problem))
    problems = _table_problems(writer, frame, table, str(scanned.path), replace=replace)
    if problems and summed:
        # The fast pass keeps no row numbers: read the file again to name the rows.
        frame = by_day(scanned, with_rows=True)
        problems = _table_problems(writer, frame, table, str(scanned.path), replace=replace)
    if values or problems:
        every = Found.combined([values, problems])
        raise FileRejected(every, total=every.total)
    return frame, rows_read


def _every_value(
    scanned: ScannedFile, engine: ActivityEngine | None, wanted: bool
) -> pl.LazyFrame | None:
    """Every bad value of the file, when the whole list is wanted (the default engine only:
    with Spark the list holds the first ones, and the command line says so)."""
    if not wanted or engine is not None:
        return None
    return validate.every_value_problem(scanned).lazy()


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


def _valid_in(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """The rows of `frame` whose `columns` hold good values (no bad-value flag set)."""
    flags = [bad(c) for c in columns if bad(c) in frame.columns]
    if not flags:
        return frame
    return frame.filter(pl.all_horizontal(pl.col(f).cast(pl.Int64) == 0 for f in flags))


def _table_problems(
    writer: db.Writer, frame: pl.DataFrame, table: InputTable, file: str, *, replace: bool = False
) -> Found:
    """Problems that need the whole file or the database, each checked on the rows whose
    columns it reads hold good values: duplicate keys, then the table's references and checks
    as the catalogue declares them. Overlaps with earlier loads are problems unless `replace`
    (then the store replaces them)."""
    declared = table.declaration
    key = list(table.key)
    found = [validate.duplicate_key_problems(_valid_in(frame, key), table, file)]
    for ref in declared.references:
        target = catalogue.table(ref.table)
        known = set(writer.query(f"SELECT {ref.column} FROM {target.stored}")[ref.column])
        usable = _valid_in(frame, [ref.column])
        found.append(validate.unknown_code_problems(usable, ref.column, known, ref.what, file))
    for check in declared.checks:
        if check == "contract_dates":
            dates = ["start_date", "end_date", "removed_date"]
            term = validate.contract_date_problems(_valid_in(frame, dates), file)
            found.append(Found(term, len(term)))
        elif check == "overlap" and not replace:
            found.append(_overlap_problems(writer, frame, declared, file))
    return Found.combined(found)


def _overlap_problems(
    writer: db.Writer, frame: pl.DataFrame, table: catalogue.Table, file: str
) -> Found:
    """Rows whose replace key an earlier load already holds (a file loaded twice, or a
    resubmission without `--replace`)."""
    key = list(table.replaced_by)
    if not table.summed_to_day:
        existing = writer.query(
            f"SELECT {', '.join(key)}, c.load_id, l.file_name FROM {table.stored} c "
            "JOIN load_log l USING (load_id)"
        )
        return validate.overlap_problems(_valid_in(frame, key), existing, key, file, table.name)
    # Only days in the file's own date range can overlap: reading every earlier load's keys
    # back into Polars cost more with each file loaded (a month of days instead).
    day = next(c.name for c in table.columns if c.name in key and c.kind == "date")
    existing = writer.query(
        f"SELECT DISTINCT {', '.join(key)}, a.load_id, l.file_name "
        f"FROM {table.stored} a JOIN load_log l USING (load_id) "
        f"WHERE {day} BETWEEN ? AND ?",
        [frame[day].min(), frame[day].max()],
    )
    incoming = _valid_in(frame, key).group_by(key).agg(pl.col(ROW).min())
    return validate.overlap_problems(incoming, existing, key, file, table.name)
