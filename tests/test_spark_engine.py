"""One contract, two engines: activity files through Spark give what the default engine gives.

Every case is loaded into two fresh copies of the small database of tests/untidy_returns.py,
once by the default engine and once by `--engine spark` (local mode): the outcomes (status, rows
read and stored, every problem with its file, row and column, notes) and every stored table
must be identical. The cases are the bad-input corpus's activity files and activity versions of its
file-level cases (encodings, separators, quoting, blank lines...), each also checked against
the outcome worked out by hand from the file, so two engines that agreed on a wrong answer
would still fail.

Marked `spark`: the quick tier leaves them out (`-m "not spark"`).
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from capwatch import db, schema
from capwatch.load import FileOutcome, IngestReport, ingest
from tests import untidy_returns

pytestmark = pytest.mark.spark

pytest.importorskip("pyspark", reason="the Spark engine needs the `spark` extra")
if shutil.which("java") is None:
    pytest.skip("the Spark engine needs Java 17", allow_module_level=True)

CORPUS = Path(__file__).parent / "corpus"
HEADER = "site_code,service_line,activity_type,activity_date,funding,units"
NEW = "load_id > 6"  # the untidy returns take loads 1-6
DAILY = (  # by activity type key: labels as written ('CT', 'ct') are separate rows
    "SELECT site_code, service_line, activity_type, activity_date, funding, sum(units)::INT, "
    f"sum(source_rows)::INT FROM activity_daily WHERE {NEW} GROUP BY ALL ORDER BY ALL"
)
JUL7, JUL8 = date(2020, 7, 7), date(2020, 7, 8)


@pytest.fixture(scope="module")
def spark_engine() -> object:
    from capwatch.spark_engine import SparkActivity, spark_session

    spark = spark_session("local[2]")
    yield SparkActivity(spark)
    spark.stop()


@pytest.fixture(scope="module")
def base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("base")
    path = folder / "capacity.duckdb"
    report = ingest([untidy_returns.write(folder / "in")], path)
    assert report.ok, [str(p) for o in report.outcomes for p in o.problems]
    return path


# ---- the cases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Loads:
    """Loads; the new daily rows are exactly `rows` (worked out by hand from the file)."""

    rows: list[tuple[object, ...]]


@dataclass(frozen=True)
class Rejects:
    """Rejected whole; the first problem names this file (name), row and column."""

    file: str
    row: int | None
    column: str | None
    fragment: str
    total: int = 1


def _csv(name: str, text: str, encoding: str = "utf-8") -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        (folder / name).write_bytes(text.encode(encoding))

    return make


def _corpus(case: str) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        shutil.copytree(CORPUS / case, folder, dirs_exist_ok=True)

    return make


def _parquet(frame: pl.DataFrame, name: str = "activity_2020-07.parquet") -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        frame.write_parquet(folder / name)

    return make


def _dataset(frame: pl.DataFrame, by: str = "site_code") -> Callable[[Path], None]:
    """A folder of Parquet files in Hive partitions, as a data platform writes them."""

    def make(folder: Path) -> None:
        import pyarrow.parquet as pq

        root = folder / "activity_2020-07"  # the partition column is in the folder names only
        pq.write_to_dataset(
            frame.to_arrow(), root, partition_cols=[by], basename_template="part-{i}.parquet"
        )

    return make


GOOD = "NX101,diagnostics,ct,2020-07-07,nhs,1\n"
TYPED = pl.DataFrame(
    {
        "site_code": ["NX101", "nx102", "NX101"],
        "service_line": ["diagnostics", "Diagnostics", "diagnostics"],
        "activity_type": ["CT", None, "ct"],
        "activity_date": [JUL7, JUL8, JUL7],
        "funding": ["nhs", "private", "nhs"],
        "units": [2, 3, 4],
    }
)
TYPED_ROWS = [
    ("NX101", "diagnostics", "ct", JUL7, "nhs", 6, 2),
    ("NX102", "diagnostics", "", JUL8, "private", 3, 1),
]
MANY_BAD = HEADER + "\n" + "".join(f"NX101,diagnostics,ct,2020-07-07,nhs,-{i}\n" for i in range(60))

CASES: dict[str, tuple[Callable[[Path], None], Loads | Rejects]] = {
    # the corpus's activity files
    "duplicate_event_rows": (
        _corpus("duplicate_event_rows"),
        Loads(
            [
                ("NX101", "diagnostics", "ct", JUL7, "nhs", 3, 3),
                ("NX101", "diagnostics", "ct", JUL7, "private", 4, 2),
            ]
        ),
    ),
    "nhs_above_capacity": (
        _corpus("nhs_above_capacity"),
        Loads(
            [
                ("NX102", "diagnostics", "ct", JUL7, "nhs", 5, 1),
                ("NX102", "diagnostics", "ct", JUL8, "private", 1, 1),
            ]
        ),
    ),
    "fractional_units": (
        _corpus("fractional_units"),
        Rejects("activity_2020-07.csv", 2, "units", "'1.5' is not a valid units"),
    ),
    "impossible_date": (
        _corpus("impossible_date"),
        Rejects("activity_2020-07.csv", 2, "activity_date", "'31/02/2020' is not a valid"),
    ),
    "us_date": (
        _corpus("us_date"),
        Rejects("activity_2020-07.csv", 2, "activity_date", "looks month-first"),
    ),
    "unknown_funding": (
        _corpus("unknown_funding"),
        Rejects("activity_2020-07.csv", 2, "funding", "use nhs or private"),
    ),
    "misspelt_optional_header": (
        _corpus("misspelt_optional_header"),
        Rejects("activity_2020-07.csv", 1, "unts", "is it meant to be units?"),
    ),
    "overlaps_earlier_load": (
        _corpus("overlaps_earlier_load"),
        Rejects("activity_2020-06b.csv", 2, "site_code", "already loaded from activity_2020-06"),
    ),
    "truncated_mid_row": (
        _corpus("truncated_mid_row"),
        Rejects("activity_2020-07.csv", 4, None, "the last row has 4 of 6 values"),
    ),
    # the corpus's file-level cases, as activity files
    "bom": (
        _csv("activity_2020-07.csv", "\ufeff" + HEADER + "\n" + GOOD),
        Loads([("NX101", "diagnostics", "ct", JUL7, "nhs", 1, 1)]),
    ),
    "windows_1252": (  # é is one byte in Windows-1252: read as text, then flagged
        _csv("activity_2020-07.csv", HEADER + "\n" + GOOD + GOOD.replace("nhs", "nhsé"), "cp1252"),
        Rejects("activity_2020-07.csv", 3, "funding", "'nhsé' is not a valid funding"),
    ),
    "semicolons": (
        _csv("activity_2020-07.csv", (HEADER + "\n" + GOOD).replace(",", ";")),
        Loads([("NX101", "diagnostics", "ct", JUL7, "nhs", 1, 1)]),
    ),
    "tabs": (
        _csv("activity_2020-07.txt", (HEADER + "\n" + GOOD).replace(",", "\t")),
        Loads([("NX101", "diagnostics", "ct", JUL7, "nhs", 1, 1)]),
    ),
    "quoted_newline_then_bad_row": (  # a record spanning 2 lines is row 3; the bad row is 4
        _csv(
            "activity_2020-07.csv",
            HEADER + "\n" + GOOD + 'NX101,"diag\nnostics",ct,2020-07-07,nhs,1\n'
            "NX101,diagnostics,ct,2020-07-07,nhs,x\n",
        ),
        Rejects("activity_2020-07.csv", 3, "service_line", "is not a valid service_line", 2),
    ),
    "crlf_line_ends_then_bad_row": (  # Windows line ends; the bad row is found and numbered
        _csv(
            "activity_2020-07.csv",
            (HEADER + "\n" + GOOD + GOOD.replace("nhs", "x")).replace("\n", "\r\n"),
        ),
        Rejects("activity_2020-07.csv", 3, "funding", "use nhs or private"),
    ),
    "quoted_commas": (
        _csv("activity_2020-07.csv", HEADER + '\nNX101,"diagnostics",ct,2020-07-07,nhs,"1,000"\n'),
        Loads([("NX101", "diagnostics", "ct", JUL7, "nhs", 1000, 1)]),
    ),
    "blank_lines": (
        _csv("activity_2020-07.csv", HEADER + "\n" + GOOD + "\n,,,,,\n\n" + GOOD),
        Loads([("NX101", "diagnostics", "ct", JUL7, "nhs", 2, 2)]),
    ),
    "blank_lines_then_bad_row": (  # blank lines count as rows, as in a spreadsheet
        _csv("activity_2020-07.csv", HEADER + "\n" + GOOD + "\n\n" + GOOD.replace("nhs", "x")),
        Rejects("activity_2020-07.csv", 5, "funding", "use nhs or private"),
    ),
    "number_forms_and_stray_spaces": (
        _csv(
            "activity_2020-07.csv",
            HEADER + "\n nx101 , Diagnostics ,CT,07/07/2020, NHS ,+2\n"
            "NX101,diagnostics,ct,2020-07-07T09:30,nhs,3.0\n",
        ),
        Loads([("NX101", "diagnostics", "ct", JUL7, "nhs", 5, 2)]),
    ),
    "header_variants_and_extra_column": (
        _csv(
            "activity_2020-07.csv",
            "Site Code,SERVICE-LINE,Activity_Type,Date,Funding,Notes\n"
            "NX101,diagnostics,ct,2020-07-07,nhs,a note\n",
        ),
        Loads([("NX101", "diagnostics", "ct", JUL7, "nhs", 1, 1)]),
    ),
    "missing_column": (
        _csv("activity_2020-07.csv", "site_code,service_line,activity_date,units\n"),
        Rejects("activity_2020-07.csv", 1, "funding", "required column funding is missing"),
    ),
    "empty_required_value": (
        _csv("activity_2020-07.csv", HEADER + "\n" + GOOD + ",diagnostics,ct,2020-07-07,nhs,1\n"),
        Rejects("activity_2020-07.csv", 3, "site_code", "site_code is empty but required"),
    ),
    "too_many_values": (
        _csv("activity_2020-07.csv", HEADER + "\n" + GOOD + GOOD.strip() + ",7\n" + GOOD),
        Rejects("activity_2020-07.csv", 3, None, "the row has 7 values but the header has 6"),
    ),
    "truncated_in_quotes": (
        _csv("activity_2020-07.csv", HEADER + "\n" + GOOD + 'NX101,"diagnos'),
        Rejects("activity_2020-07.csv", 3, None, "ends inside a quoted value"),
    ),
    "empty": (
        _csv("activity_2020-07.csv", ""),
        Rejects("activity_2020-07.csv", None, None, "the file is empty"),
    ),
    "header_only": (
        _csv("activity_2020-07.csv", HEADER + "\n"),
        Rejects("activity_2020-07.csv", None, None, "no data rows below the header"),
    ),
    "unknown_site": (  # found on the daily rows: the rows are then numbered in a second pass
        _csv("activity_2020-07.csv", HEADER + "\n" + GOOD + GOOD + GOOD.replace("NX101", "ZZ999")),
        Rejects("activity_2020-07.csv", 4, "site_code", "unknown site 'ZZ999'"),
    ),
    "sixty_bad_values": (  # the first 50 are listed, all 60 counted
        _csv("activity_2020-07.csv", MANY_BAD.replace(",-0\n", ",0\n")),
        Rejects("activity_2020-07.csv", 3, "units", "'-1' is not a valid units", 59),
    ),
    "parquet_typed_columns": (_parquet(TYPED), Loads(TYPED_ROWS)),
    "parquet_bad_value": (  # Parquet has no header row: the first data row is row 1
        _parquet(TYPED.with_columns(funding=pl.Series(["nhs", "nhs", "insurer"]))),
        Rejects("activity_2020-07.parquet", 3, "funding", "'insurer' is not a valid funding"),
    ),
    "parquet_that_is_csv": (
        _csv("activity_2020-07.parquet", HEADER + "\n" + GOOD),
        Rejects("activity_2020-07.parquet", None, None, "its content is text"),
    ),
}

# Only the Spark engine reads a Parquet dataset folder; it must store what the default engine
# stores for the same rows in one file.
DATASET_CASES: dict[str, tuple[Callable[[Path], None], Loads | Rejects]] = {
    "dataset": (
        _dataset(TYPED.with_columns(site_code=pl.Series(["NX101", "NX102", "NX101"]))),
        Loads(TYPED_ROWS),
    ),
    "dataset_bad_value": (
        _dataset(
            TYPED.with_columns(
                site_code=pl.Series(["NX101", "NX102", "NX101"]), units=pl.Series([1, -3, 2])
            )
        ),
        Rejects("part-0.parquet", 1, "units", "'-3' is not a valid units"),
    ),
}


# ---- helpers -----------------------------------------------------------------------------


def _load(
    make: Callable[[Path], None], base_db: Path, where: Path, engine: object | None
) -> tuple[IngestReport, Path]:
    where.mkdir()
    database = where / "capacity.duckdb"
    shutil.copyfile(base_db, database)
    folder = where / "in"
    folder.mkdir()
    make(folder)
    return ingest([folder], database, engine), database  # type: ignore[arg-type]


def _outcome(o: FileOutcome) -> tuple[object, ...]:
    return (
        Path(o.path).name,
        o.table,
        o.status,
        o.rows_read,
        o.rows_stored,
        [(Path(p.file).name, p.row, p.column, p.message) for p in o.problems],
        o.total_problems,
        o.notes,
    )


def _stored(database: Path) -> dict[str, object]:
    """Every documented table, mart and view, in full, and the load log but for times and
    folders."""
    store = db.Database(database)
    out: dict[str, object] = {}
    for r in schema.RELATIONS:
        if r.name == "load_log":
            continue
        # when a load ran, and the folder a rejected file sat in, differ from run to run;
        # everything else must not
        kept = [c.name for c in r.columns if c.type != "TIMESTAMP" and c.name != "file_path"]
        select = ", ".join(schema.quote(c) for c in kept)
        out[r.name] = store.query(f"SELECT {select} FROM {r.name} ORDER BY ALL").rows()
    out["load_log"] = store.query(
        "SELECT load_id, table_name, file_name, file_hash, file_bytes, rows_read, rows_stored, "
        "warnings FROM load_log ORDER BY load_id"
    ).rows()
    return out


def _check(expected: Loads | Rejects, report: IngestReport, database: Path) -> None:
    outcome = report.outcomes[-1]
    if isinstance(expected, Loads):
        assert report.ok, [str(p) for p in outcome.problems]
        assert db.Database(database).query(DAILY).rows() == expected.rows
        return
    assert outcome.status == "rejected"
    first = outcome.problems[0]
    assert (Path(first.file).name, first.row, first.column) == (
        expected.file,
        expected.row,
        expected.column,
    ), str(first)
    assert expected.fragment in first.message, str(first)
    assert outcome.total_problems == expected.total


# ---- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_both_engines_give_the_same_outcome_and_tables(
    case: str, spark_engine: object, base_db: Path, tmp_path: Path
) -> None:
    make, expected = CASES[case]
    default, default_db = _load(make, base_db, tmp_path / "default", None)
    spark, spark_db = _load(make, base_db, tmp_path / "spark", spark_engine)
    _check(expected, default, default_db)  # the default engine is right, by hand
    assert [_outcome(o) for o in spark.outcomes] == [_outcome(o) for o in default.outcomes]
    assert _stored(spark_db) == _stored(default_db)


def test_a_dataset_folder_stores_what_one_file_of_its_rows_stores(
    spark_engine: object, base_db: Path, tmp_path: Path
) -> None:
    make, expected = DATASET_CASES["dataset"]
    report, database = _load(make, base_db, tmp_path / "spark", spark_engine)
    assert [o.status for o in report.outcomes] == ["loaded"]
    assert report.outcomes[0].path.name == "activity_2020-07"
    assert any("read 2 Parquet files" in n for n in report.outcomes[0].notes)
    _check(expected, report, database)
    rows = TYPED.with_columns(site_code=pl.Series(["NX101", "NX102", "NX101"]))
    single, single_db = _load(_parquet(rows), base_db, tmp_path / "default", None)
    assert single.ok
    assert db.Database(database).query(DAILY).rows() == db.Database(single_db).query(DAILY).rows()


def test_a_bad_value_in_a_dataset_folder_names_its_file_and_row(
    spark_engine: object, base_db: Path, tmp_path: Path
) -> None:
    make, expected = DATASET_CASES["dataset_bad_value"]
    before = db.table_fingerprint(base_db)
    report, database = _load(make, base_db, tmp_path / "spark", spark_engine)
    _check(expected, report, database)
    first = report.outcomes[0].problems[0]
    assert "site_code=NX102" in first.file  # the partition's folder, as the user sees it
    assert db.table_fingerprint(database) == before  # nothing loaded


def test_a_dataset_already_loaded_is_skipped(
    spark_engine: object, base_db: Path, tmp_path: Path
) -> None:
    make, _ = DATASET_CASES["dataset"]
    report, database = _load(make, base_db, tmp_path / "spark", spark_engine)
    again = ingest([tmp_path / "spark" / "in"], database, spark_engine)  # type: ignore[arg-type]
    assert [o.status for o in again.outcomes] == ["skipped"]
    assert report.outcomes[0].load_id == again.outcomes[0].load_id


def test_the_synthetic_default_loads_with_exactly_the_default_engines_figures(
    spark_engine: object, synthetic_inputs: Path, synthetic_db: Path, tmp_path: Path
) -> None:
    database = tmp_path / "capacity.duckdb"
    report = ingest([synthetic_inputs], database, spark_engine)  # type: ignore[arg-type]
    assert report.ok, [str(p) for o in report.outcomes for p in o.problems]
    assert _stored(database) == _stored(synthetic_db)  # activity, marts, load log: all equal
    # and independently of both engines: every event row of the CSVs is counted once
    events = 0
    for path in sorted(synthetic_inputs.glob("activity_*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            events += sum(1 for _ in csv.DictReader(fh))
    stored = db.Database(database).scalar("SELECT sum(source_rows) FROM activity_daily")
    assert stored == events


def test_a_resubmission_with_replace_stores_what_the_default_engine_stores(
    spark_engine: object, base_db: Path, tmp_path: Path
) -> None:
    # activity_2020-06b.csv repeats NX101 diagnostics on 3 June, already loaded (load 6)
    outcomes, stored = [], []
    for name, engine in (("default", None), ("spark", spark_engine)):
        where = tmp_path / name
        where.mkdir()
        database = where / "capacity.duckdb"
        shutil.copyfile(base_db, database)
        shutil.copytree(CORPUS / "overlaps_earlier_load", where / "in")
        report = ingest([where / "in"], database, engine, replace=True)  # type: ignore[arg-type]
        assert report.ok, [str(p) for o in report.outcomes for p in o.problems]
        outcomes.append([_outcome(o) for o in report.outcomes])
        stored.append(_stored(database))
        # by hand: the new file's one event replaces the 3 June rows of NX101 diagnostics
        rows = (
            db.Database(database)
            .query(
                "SELECT activity_type, funding, units FROM activity_daily "
                "WHERE site_code = 'NX101' AND activity_date = DATE '2020-06-03' ORDER BY ALL"
            )
            .rows()
        )
        assert rows == [("ct", "nhs", 1)]
    assert outcomes[1] == outcomes[0]
    assert stored[1] == stored[0]
