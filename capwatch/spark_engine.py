"""The heavy step of ingest on Apache Spark: activity events read, checked and summed to the day.

One contract, two engines. Spark reads the files and runs the big hash aggregations (events to
distinct raw rows, partial daily sums to daily rows); the contract's rules run as the default
engine's own Polars functions on each Arrow batch (`mapInArrow`): `load.daily_from_distinct`
(normalise, flag, sum to the day) and `validate.flagged_rows` (the rows a problem names).
What is cheap and per file stays on the driver, with the same code as the default engine: the
content hash, the header check (`read.scan` reads only the head and the tail of a file), the
database checks (unknown sites, overlaps) on the daily rows, and the load itself.

PySpark is imported only when this engine is asked for, so capwatch works without it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import shutil
import sys
import warnings
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

from capwatch.contract import LOAD_ORDER, InputTable, input_table, table_for_file
from capwatch.errors import CapwatchError
from capwatch.load import ACTIVITY_GRAIN, _activity_by_day, daily_from_distinct
from pipelines import validate
from pipelines.normalise import flag_columns
from pipelines.problems import MAX_PROBLEMS_SHOWN, FileRejected, Problem
from pipelines.published.readers import order as published_order
from pipelines.read import (
    ROW,
    Fingerprint,
    ScannedFile,
    _rename,  # header matching: the same rules for a Parquet dataset folder
    discover,
    fingerprint,
    locate_csv_problem,
    not_blank,
    scan,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

FILE = "_file"  # the data file a row came from (a Parquet dataset holds many)
_CHUNK = 1 << 20


class EngineUnavailable(CapwatchError):
    """The Spark engine was asked for but PySpark or Java is not installed."""


def spark_session(master: str | None = None) -> SparkSession:
    """A Spark session: the active one (e.g. on Databricks), else a new one on `master`
    (default local mode on every core of this machine)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise EngineUnavailable(
            "--engine spark needs PySpark: pip install 'capwatch[spark]'"
        ) from exc
    # PySpark checks for pandas when a mapInArrow is planned; no pandas code runs here.
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise EngineUnavailable(
            "--engine spark needs Java 17 (Debian: apt-get install openjdk-17-jre-headless)"
        )
    # Under spark-submit the master comes from its --master (the JVM is already up).
    submitted = master is None and "PYSPARK_GATEWAY_PORT" in os.environ
    builder = SparkSession.builder.appName("capwatch ingest")
    if not submitted:
        builder = builder.master(master or "local[*]")
    builder = (
        builder.config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        # Bigger Arrow batches: fewer calls of the Polars rules, each on more rows.
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "100000")
        # Dataset folder values (site_code=NX101) stay text, as every other value is read.
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
    )
    if not submitted and (master is None or master.startswith("local")):
        # Workers run this Python (with this capwatch installed), not whatever `python3` is
        # first on the PATH; on a cluster, capwatch must be installed on the workers' Python.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = builder.config("spark.ui.enabled", "false").config(
            # One machine: a few shuffle partitions per core, not the cluster default of 200.
            "spark.sql.shuffle.partitions",
            str(4 * (os.cpu_count() or 1)),
        )
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: name the cause in one line
        raise EngineUnavailable(f"Spark did not start: {_first_line(exc)}") from exc
    spark.sparkContext.setLogLevel("FATAL")  # problems are reported as Problems, not logs
    return spark


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@dataclasses.dataclass(frozen=True)
class _TextShape:
    """What the bytes of a CSV say about how Spark may read it."""

    has_quote: bool  # a quoted value may span lines: read each file whole (multiLine)
    has_blank_line: bool  # Spark's CSV reader drops empty lines without counting them


def _text_shape(path: Path) -> _TextShape:
    has_quote = has_blank = False
    tail = b""
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            window = tail + chunk
            has_quote = has_quote or b'"' in chunk
            has_blank = has_blank or b"\n\n" in window or b"\n\r\n" in window
            tail = chunk[-2:]
            if has_quote and has_blank:
                break
    return _TextShape(has_quote, has_blank)


def is_dataset(path: Path) -> bool:
    """A folder of Parquet files named for activity, in Hive partitions (`key=value/`)."""
    table = table_for_file(path.name)
    return (
        path.is_dir()
        and table is not None
        and table.name == "activity"
        and any(p.is_dir() and "=" in p.name for p in path.iterdir())
        and any(p.suffix.lower() == ".parquet" for p in path.rglob("*"))
    )


def _dataset_files(path: Path) -> list[Path]:
    return sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and p.suffix.lower() == ".parquet"
        and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
    )


class SparkActivity:
    """The `load.ActivityEngine` that reads activity CSV and Parquet files with Spark."""

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        # Excel's CSV is Windows-1252; Spark 4 reads only a few charsets unless told to use
        # Java's own list (a session setting, so it works on an existing session too).
        spark.conf.set("spark.sql.legacy.javaCharsets", "true")
        self._shapes: dict[Path, _TextShape] = {}

    # ---- finding and fingerprinting inputs ------------------------------------------------
    def discover(self, paths: list[Path]) -> tuple[list[tuple[Path, InputTable]], list[Problem]]:
        """As `read.discover`; a Parquet dataset folder (activity/site_code=NX101/*.parquet)
        is one input, loaded whole or not at all."""
        datasets: list[Path] = []
        for path in paths:
            if is_dataset(path):
                datasets.append(path)
            elif path.is_dir():
                within = sorted(d for d in path.rglob("*") if is_dataset(d))
                datasets += [d for d in within if not any(o in d.parents for o in within)]
        files, problems = discover(paths)

        def inside(p: Path) -> bool:
            return any(p == d or d in p.parents for d in datasets)

        activity = input_table("activity")
        found = [ft for ft in files if not inside(ft[0])] + [(d, activity) for d in datasets]
        order = LOAD_ORDER + published_order()  # as read.discover: the answer key, DM01, ODS
        found.sort(key=lambda ft: (order.index(ft[1].name), str(ft[0])))
        return found, [p for p in problems if not inside(Path(p.file))]

    def handles(self, path: Path, table: InputTable) -> bool:
        return table.name == "activity" and (
            path.is_dir() or path.suffix.lower() in (".csv", ".txt", ".parquet")
        )

    def fingerprint(self, path: Path) -> Fingerprint:
        """As `read.fingerprint`; a dataset folder's hash covers each file's name and bytes."""
        if not path.is_dir():
            return fingerprint(path)
        digest = hashlib.sha256()
        for f in _dataset_files(path):
            digest.update(f"{f.relative_to(path).as_posix()}\0{fingerprint(f).sha256}\n".encode())
        return Fingerprint(digest.hexdigest(), True)

    def scan(self, path: Path, table: InputTable, print_: Fingerprint) -> ScannedFile:
        """The default engine's checks of a file's kind, header and end (they read only its
        head and tail); for a dataset folder, its columns are matched to the contract."""
        if not path.is_dir():
            return scan(path, table, print_)
        if not _dataset_files(path):
            raise FileRejected([Problem(str(path), None, None, "the folder has no Parquet files")])
        try:
            headers = self.spark.read.parquet(str(path)).columns
        except Exception as exc:
            raise FileRejected(
                [Problem(str(path), None, None, f"cannot read as Parquet: {_first_line(exc)}")]
            ) from exc
        mapping = _rename(path, table, headers, 1)
        extra = [h for h in headers if h not in mapping]
        notes = [f"ignored column(s) not in the contract: {', '.join(extra)}"] if extra else []
        notes.append(f"read {len(_dataset_files(path))} Parquet files")
        return ScannedFile(path, table, pl.LazyFrame(), notes, headers=headers, columns=mapping)

    # ---- reading with Spark --------------------------------------------------------------
    def _shape(self, scanned: ScannedFile) -> _TextShape:
        if scanned.path not in self._shapes:
            self._shapes[scanned.path] = _text_shape(scanned.path)
        return self._shapes[scanned.path]

    def _is_csv(self, scanned: ScannedFile) -> bool:
        return scanned.path.suffix.lower() in (".csv", ".txt")

    def _numbers_rows(self, scanned: ScannedFile) -> bool:
        """Whether Spark can number this file's rows as a person counts them. A CSV with empty
        lines cannot (Spark's reader drops them); its rows are numbered by the default engine,
        on the rare path where a check has already found a problem."""
        return not (self._is_csv(scanned) and self._shape(scanned).has_blank_line)

    def _frame(self, scanned: ScannedFile, *, with_rows: bool) -> DataFrame:
        """The file as text columns named by the contract (and `_row`, `_file` if asked)."""
        from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention
        from pyspark.sql import types as T  # noqa: N812

        path = str(scanned.path)
        if self._is_csv(scanned):
            positions = {h: i for i, h in enumerate(scanned.headers)}
            schema = T.StructType(
                [T.StructField(f"_c{i}", T.StringType()) for i in range(len(scanned.headers))]
            )
            utf8 = scanned.text_source == scanned.path
            df = self.spark.read.csv(
                path,
                schema=schema,
                header=True,
                enforceSchema=True,  # columns by position, as matched by `read.scan`
                sep=scanned.separator,
                quote='"',
                escape='"',
                encoding="UTF-8" if utf8 else "windows-1252",
                # A quoted value may hold a line break only if the file has a quote; each
                # file is then read whole, in order (which also numbers its rows).
                multiLine=self._shape(scanned).has_quote or with_rows,
                mode="FAILFAST",  # a row with too many values is an error, as by default
            )
            text = [F.col(f"_c{positions[h]}").alias(c) for h, c in scanned.columns.items()]
            if not with_rows:
                return df.select(*text)
            numbered = df.select(*text).mapInArrow(
                _number_rows, _schema(ROW, list(scanned.columns.values()))
            )
            return numbered.withColumn(FILE, F.lit(path))
        df = self.spark.read.parquet(path)
        text = [F.col(f"`{h}`").cast("string").alias(c) for h, c in scanned.columns.items()]
        if not with_rows:
            return df.select(*text)
        return df.select(
            *text,
            (F.col("_metadata.row_index") + 1).alias(ROW),  # Parquet has no header row
            F.col("_metadata.file_path").alias(FILE),
        )

    def _run(self, scanned: ScannedFile, action: Any) -> Any:
        """Run a Spark action; a file Spark cannot parse is rejected as the default engine
        rejects it (the row a CSV parser stumbled on is found by `read.locate_csv_problem`)."""
        try:
            return action()
        except Exception as exc:
            if not _is_spark_error(exc) or type(exc).__name__ == "PythonException":
                raise  # not the file: a fault of the engine, shown as such
            located = locate_csv_problem(scanned) if self._is_csv(scanned) else None
            raise FileRejected(
                [
                    located
                    or Problem(
                        str(scanned.path), None, None, f"cannot read the file: {_spark_cause(exc)}"
                    )
                ]
            ) from exc

    # ---- the engine's two heavy steps ----------------------------------------------------
    def by_day(self, scanned: ScannedFile, *, with_rows: bool) -> pl.DataFrame:
        """As `load._activity_by_day`: events grouped by identical raw rows in Spark, each
        Arrow batch of those normalised, checked and summed to the day by
        `load.daily_from_distinct`, the partial sums summed again in Spark."""
        if with_rows and not self._numbers_rows(scanned):
            return _activity_by_day(scanned, with_rows=True)
        from pyspark.sql import functions as F  # noqa: N812

        table = scanned.table
        columns = list(scanned.columns.values())
        raw = self._frame(scanned, with_rows=with_rows)
        # A dataset folder's rows are numbered within each of its files: no one number
        # names a day's first row, so its day-level problems name the folder only.
        numbered = with_rows and not scanned.path.is_dir()
        first_row = F.min(ROW) if numbered else F.lit(None).cast("long")
        distinct = raw.groupBy(*columns).agg(
            F.count(F.lit(1)).alias("source_rows"), first_row.alias(ROW)
        )
        template = _daily_template(columns, table)
        partial_days = distinct.mapInArrow(
            partial(_daily_batches, columns=columns, table_name=table.name),
            _spark_schema(template),
        )
        sums = [c for c in template.columns if c not in ACTIVITY_GRAIN and c != ROW]
        daily = partial_days.groupBy(*ACTIVITY_GRAIN).agg(
            *(F.sum(c).alias(c) for c in sums), F.min(ROW).alias(ROW)
        )
        arrow = self._run(scanned, daily.toArrow)
        frame = pl.from_arrow(arrow)
        assert isinstance(frame, pl.DataFrame)
        return frame.select(template.columns).cast(template.schema)

    def value_problems(self, scanned: ScannedFile) -> list[Problem]:
        """As `validate.value_problems`: `validate.flagged_rows` on each Arrow batch in Spark,
        the first rows (by file and row) brought back and worded by the default engine."""
        if not self._numbers_rows(scanned):
            return validate.value_problems(scanned)
        table = scanned.table
        columns = list(scanned.columns.values())
        rows = self._frame(scanned, with_rows=True)
        schema = (
            f"{ROW} long, {FILE} string, "
            + "".join(f"`_raw_{c}` string, " for c in columns)
            + ", ".join(f"`{f}` boolean" for f in flag_columns(table))
        )
        flagged = rows.mapInArrow(
            partial(_flagged_batches, columns=columns, table_name=table.name), schema
        )
        first = flagged.orderBy(FILE, ROW).limit(MAX_PROBLEMS_SHOWN)
        frame = pl.from_arrow(self._run(scanned, first.toArrow))
        assert isinstance(frame, pl.DataFrame)
        problems: list[Problem] = []
        for (file,), group in frame.group_by(FILE, maintain_order=True):
            for p in validate.problems_from_flagged(scanned, group):
                shown = _shown_file(scanned.path, str(file))
                problems.append(dataclasses.replace(p, file=shown))
        return problems


def _shown_file(path: Path, file_uri: str) -> str:
    """A data file as the user named it: the file itself, or its place in a dataset folder."""
    if not path.is_dir():
        return str(path)
    from urllib.parse import unquote, urlparse

    local = Path(unquote(urlparse(file_uri).path))
    with contextlib.suppress(ValueError):
        return str(path / local.relative_to(path.resolve()))
    return str(local)


def _is_spark_error(exc: BaseException) -> bool:
    module = type(exc).__module__
    return module.startswith(("py4j", "pyspark"))


def _spark_cause(exc: BaseException) -> str:
    """The innermost readable cause in a Java stack trace, in one line."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    causes = [ln.split(": ", 1)[-1] for ln in lines if ln.startswith("Caused by:")]
    return (causes[-1] if causes else _first_line(exc))[:300]


# ---- functions run by Spark on each Arrow batch (in the Python workers) ------------------
def _schema(row: str, columns: list[str]) -> str:
    return f"{row} long, " + ", ".join(f"`{c}` string" for c in columns)


def _number_rows(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Number a CSV's rows as a person counts them (header = row 1). The file is read whole in
    one task and in order (multiLine), so a running count is its row number."""
    row = 2
    for batch in batches:
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        numbered = frame.with_row_index(ROW, offset=row).with_columns(pl.col(ROW).cast(pl.Int64))
        row += frame.height
        yield from numbered.to_arrow().to_batches()


def _daily_template(columns: list[str], table: InputTable) -> pl.DataFrame:
    """The (empty) frame `daily_from_distinct` gives: its columns and types."""
    counts = pl.DataFrame({"x": [1]}).select(pl.len()).dtypes[0]  # as the default counts
    empty = pl.DataFrame(
        schema={**dict.fromkeys(columns, pl.String), "source_rows": counts, ROW: pl.Int64}
    )
    return daily_from_distinct(empty, table)


def _spark_schema(template: pl.DataFrame) -> str:
    def spark_type(dtype: pl.DataType) -> str:
        if dtype == pl.String:
            return "string"
        if dtype == pl.Date:
            return "date"
        return "long"

    return ", ".join(f"`{c}` {spark_type(t)}" for c, t in template.schema.items())


def _daily_batches(
    batches: Iterator[pa.RecordBatch], *, columns: list[str], table_name: str
) -> Iterator[pa.RecordBatch]:
    """`load.daily_from_distinct` on each batch of distinct raw rows."""
    table = input_table(table_name)
    template = _daily_template(columns, table)
    wide = {c: pl.Int64 for c, t in template.schema.items() if t.is_integer()}
    for batch in batches:
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        if frame.height:
            days = daily_from_distinct(frame, table).cast(wide)  # type: ignore[arg-type]
            yield from days.to_arrow().to_batches()


def _flagged_batches(
    batches: Iterator[pa.RecordBatch], *, columns: list[str], table_name: str
) -> Iterator[pa.RecordBatch]:
    """`validate.flagged_rows` on each batch of numbered rows (blank rows are not data)."""
    table = input_table(table_name)
    for batch in batches:
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        for (file,), rows in frame.group_by(FILE):  # a task may read several files
            text = rows.drop(FILE).filter(not_blank(columns))
            flagged = validate.flagged_rows(text.lazy(), table).collect()
            if flagged.height:
                out = flagged.select(ROW, pl.lit(file, pl.String).alias(FILE), pl.exclude(ROW))
                yield from out.to_arrow().to_batches()
