"""A hostile sweep of the features added last round (issue 27, item 9): the answer key and
demand as inputs, the record of rejected files, the verdicts / pack / backtest commands and
the SQL sandbox against the new tables. Each case here broke before it was fixed, or guards a
promise the sweep checked (a bad input named in one line, nothing written, nothing loaded)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from capwatch import db
from capwatch.cli import app, printable
from capwatch.errors import QueryRefused
from capwatch.load import ingest
from capwatch.outputs import OutputFailed, UnsafeOutput
from capwatch.sandbox import QueryFailed, run_query

KEY_HEADER = (
    "provider_code,delivery_ability,price_ratio,referral_propensity,private_share,confounder,"
    "true_action,released,released_date,release_reason\n"
)
GOOD_KEY = "NP4,0.663,1.367,0.746,0.395,none,keep,false,,\n"


@pytest.fixture
def database(synthetic_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "capacity.duckdb"
    shutil.copyfile(synthetic_db, copy)
    return copy


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_file(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


# -- the answer key ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "column", "says"),
    [
        ("ZZ9,0.3,1.8,0.4,0.7,none,release,true,2020-09-08,x\n", "provider_code", "unknown"),
        ("NP4,0.3,1e300,0.4,0.7,none,keep,false,,\n", "price_ratio", "at most 100"),
        ("NP4,0.3,inf,0.4,0.7,none,keep,false,,\n", "price_ratio", "at most 100"),
        ("NP4,0.3,1.8,0.4,0.7,none,keep,maybe,,\n", "released", "true or false"),
        ("NP4,0.3,1.8,0.4,0.7,none,keep,false,notadate,\n", "released_date", "a date"),
        ("NP4,0.3,1.8,0.4,0.7,none,release,true,notadate,x\n", "released_date", "a date"),
        ("NP4,NaN,1.8,0.4,0.7,none,keep,false,,\n", "delivery_ability", "from 0 to 1"),
    ],
)
def test_a_bad_answer_key_row_is_named_by_row_and_column(
    row: str, column: str, says: str, database: Path, tmp_path: Path
) -> None:
    before = db.table_fingerprint(database)
    outcome = ingest([_one_file(tmp_path, "answer_key.csv", KEY_HEADER + row)], database)
    rejected = outcome.outcomes[0]
    assert rejected.status == "rejected"
    assert [(p.row, p.column) for p in rejected.problems] == [(2, column)]
    assert says in rejected.problems[0].message
    assert db.table_fingerprint(database) == before


def test_an_empty_answer_key_is_refused_and_does_not_wipe_the_loaded_one(
    database: Path, tmp_path: Path
) -> None:
    before = db.table_fingerprint(database)
    for text, says in ((KEY_HEADER, "no data rows"), ("provider_code\nNP4\n", "missing")):
        folder = _one_file(tmp_path, "answer_key.csv", text)
        rejected = ingest([folder], database).outcomes[0]
        assert rejected.status == "rejected" and says in rejected.problems[0].message
    assert db.table_fingerprint(database) == before
    assert ingest([_one_file(tmp_path, "answer_key.csv", KEY_HEADER + GOOD_KEY)], database).ok


# -- demand -------------------------------------------------------------------------------

DEMAND_HEADER = "region,service_line,activity_type,week_start,patients_waiting,referrals_offered\n"


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("Atlantis,chemotherapy,,2021-06-07,5,1\n", "region"),
        ("London,chemo,,2021-06-07,5,1\n", "service_line"),
        ("London,chemotherapy,,2021-06-08,5,1\n", "week_start"),
        ("London,chemotherapy,,2021-06-07,1e30,1\n", "patients_waiting"),
        ("London,chemotherapy,,2021-06-07,100000001,1\n", "patients_waiting"),
        ("London,chemotherapy,,2021-06-07,NaN,1\n", "patients_waiting"),
        ("London,chemotherapy,,2021-06-07,5,inf\n", "referrals_offered"),
    ],
)
def test_a_bad_demand_row_is_named_and_nothing_loads(
    row: str, column: str, database: Path, tmp_path: Path
) -> None:
    before = db.table_fingerprint(database)
    rejected = ingest([_one_file(tmp_path, "demand.csv", DEMAND_HEADER + row)], database)
    assert [(p.row, p.column) for p in rejected.outcomes[0].problems] == [(2, column)]
    assert db.table_fingerprint(database) == before


def test_a_formula_in_a_demand_label_is_stored_as_text_and_exported_inert(
    database: Path, tmp_path: Path
) -> None:
    row = 'London,chemotherapy,=HYPERLINK("http://x"),2021-06-07,5,1\n'
    assert ingest([_one_file(tmp_path, "demand.csv", DEMAND_HEADER + row)], database).ok
    out = tmp_path / "demand.csv"
    result = CliRunner().invoke(app, ["export", "demand", "--out", str(out), "--db", str(database)])
    assert result.exit_code == 0, result.output
    labels = pl.read_csv(out)["activity_label"].drop_nulls().to_list()
    assert '\'=HYPERLINK("http://x")' in labels  # an apostrophe: Excel shows it as text
    assert not [label for label in labels if label.startswith("=")]


# -- the record of rejected files --------------------------------------------------------


def test_a_file_name_cannot_break_or_fake_a_console_line(database: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "capacity\nloaded   everything.csv").write_text("a\n1\n", encoding="utf-8")
    (folder / "=HYPERLINK(1)+1.csv").write_text("a\n1\n", encoding="utf-8")
    out = tmp_path / "problems.csv"
    result = CliRunner().invoke(
        app, ["ingest", str(folder), "--db", str(database), "--problems", str(out)]
    )
    assert result.exit_code == 1
    assert not [line for line in result.output.splitlines() if line.startswith("loaded")]
    assert "capacity\\nloaded   everything.csv" in result.output
    names = set(pl.read_csv(out)["file_name"])
    assert "'=HYPERLINK(1)+1.csv" in names  # formula-safe in the problems file too
    assert "capacity\nloaded   everything.csv" in names  # the name itself, quoted by CSV


def test_printable_escapes_control_characters_only() -> None:
    assert printable("capacity £ é.csv") == "capacity £ é.csv"
    assert printable("a\nb\r\x1b[31m") == "a\\nb\\r\\x1b[31m"


def test_the_record_of_a_file_with_many_problems_is_bounded(database: Path, tmp_path: Path) -> None:
    header = "site_code,service_line,activity_type,week_start,capacity_units\n"
    rows = "NP301,diagnostics,,2021-06-07,5\n" * 20_001
    assert not ingest([_one_file(tmp_path, "capacity.csv", header + rows)], database).ok
    reader = db.Database(database)
    try:
        count = reader.query("SELECT problem_count FROM rejected_files")["problem_count"]
        listed = reader.query("SELECT count(*) AS n FROM rejected_file_problems")["n"]
    finally:
        reader.close()
    assert count.to_list() == [20_000]  # the true total is recorded ...
    assert listed.to_list() == [50]  # ... and the first 50 listed, not 20,000 rows


# -- verdicts, pack, backtest ------------------------------------------------------------

WRITERS = {
    "verdicts csv": ["verdicts", "--out", "OUT"],
    "verdicts xlsx": ["verdicts", "--out", "OUT", "--format", "xlsx"],
    "pack html": ["pack", "NP3", "--out", "OUT", "--format", "html"],
}


def _run(args: list[str], database: Path, out: Path):
    filled = [str(out) if a == "OUT" else a for a in args]
    return CliRunner().invoke(app, [*filled, "--db", str(database)])


@pytest.mark.parametrize("command", WRITERS, ids=list(WRITERS))
def test_verdicts_and_pack_never_write_over_the_database(
    command: str, database: Path, tmp_path: Path
) -> None:
    before = _digest(database)
    for out in (database, database.with_name(database.name + ".wal")):
        result = _run(WRITERS[command], database, out)
        assert isinstance(result.exception, UnsafeOutput), result.output
    assert _digest(database) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["capacity.duckdb"]


@pytest.mark.parametrize("command", [*WRITERS, "flags", "backtest"])
def test_a_device_or_an_unwritable_place_is_one_line_before_any_work(
    command: str, database: Path, tmp_path: Path
) -> None:
    args = WRITERS.get(command, [command, "--out", "OUT"])
    cases = {
        Path("/dev/null"): UnsafeOutput,  # a rename would replace the device itself
        Path("/proc/capwatch-out.csv"): OutputFailed,  # no file can be made there
        database / "out.csv": UnsafeOutput,  # under a file
    }
    for out, error in cases.items():
        result = _run(args, database, out)
        assert isinstance(result.exception, error), (out, result.output)
        assert "\n" not in str(result.exception)
    assert Path("/dev/null").is_char_device()


def test_pack_for_a_set_of_verdicts_needs_a_folder(database: Path, tmp_path: Path) -> None:
    a_file = tmp_path / "packs.html"
    a_file.write_text("keep me", encoding="utf-8")
    result = _run(
        ["pack", "--verdict", "keep", "--out", "OUT", "--format", "html"], database, a_file
    )
    assert result.exit_code != 0 and "name a folder" in str(result.exception)
    assert a_file.read_text(encoding="utf-8") == "keep me"


def test_pack_replaces_an_old_file_by_rename(database: Path, tmp_path: Path) -> None:
    out = tmp_path / "pack.html"
    out.write_bytes(b"old pack")
    keep = tmp_path / "keep"
    keep.hardlink_to(out)
    result = _run(WRITERS["pack html"], database, out)
    assert result.exit_code == 0, result.output
    assert keep.read_bytes() == b"old pack" and out.read_bytes().startswith(b"<!")


def test_backtest_writes_both_files_or_neither(database: Path, tmp_path: Path) -> None:
    out = tmp_path / "detail.csv"
    result = CliRunner().invoke(
        app,
        ["backtest", "--out", str(out), "--summary", "/proc/summary.csv", "--db", str(database)],
    )
    assert isinstance(result.exception, OutputFailed), result.output
    assert not out.exists()
    same = CliRunner().invoke(
        app, ["backtest", "--out", str(out), "--summary", str(out), "--db", str(database)]
    )
    assert same.exit_code != 0 and "a file of its own" in same.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["verdicts", "--as-of", "notadate"], "--as-of must be a date"),
        (["verdicts", "--as-of", "1900-01-01"], "outside the data"),
        (["verdicts", "--param", "nosuch=1"], "unknown verdict parameter"),
        (["verdicts", "--param", "release_below=nan"], "between"),
        (["verdicts", "--param", "release_below"], "KEY=VALUE"),
        (["backtest", "--rule", "nosuch"], "unknown rule"),
        (["backtest", "--warmup-weeks", "0"], "warm-up"),
        (["backtest", "--param", "low_utilisation=1"], "RULE.KEY=VALUE"),
        (["pack", "ZZZ9"], "not found"),
        (["pack", "--verdict", "nosuch"], "--verdict takes"),
    ],
)
def test_bad_options_are_one_line_and_write_nothing(
    args: list[str], says: str, database: Path, tmp_path: Path
) -> None:
    out = tmp_path / ("out.html" if args[0] == "pack" else "out.csv")
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--db", str(database)])
    assert result.exit_code != 0
    message = str(result.exception) if not isinstance(result.exception, SystemExit) else ""
    assert says in (message or result.output), result.output
    assert "\n" not in message
    assert not out.exists()


# -- the sandbox against the new tables --------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM answer_key",
        "UPDATE answer_key SET true_action = 'keep'",
        "INSERT INTO demand SELECT * FROM demand LIMIT 1",
        "DROP TABLE demand",
        "COPY (SELECT * FROM answer_key) TO 'DIR/leak.csv'",
        "COPY demand FROM 'DIR/demand.csv'",
        "ATTACH 'DIR/other.duckdb' AS other",
        "SELECT * FROM read_csv('DIR/answer_key.csv')",
        "SELECT * FROM 'DIR/demand.csv'",
        "CREATE TABLE copy_of_key AS SELECT * FROM answer_key",
    ],
)
def test_the_sandbox_still_refuses_writes_files_and_attaches_on_the_new_tables(
    query: str, database: Path, tmp_path: Path
) -> None:
    (tmp_path / "answer_key.csv").write_text(KEY_HEADER + GOOD_KEY, encoding="utf-8")
    (tmp_path / "demand.csv").write_text(DEMAND_HEADER, encoding="utf-8")
    before = _digest(database)
    with pytest.raises((QueryRefused, QueryFailed)) as refused:
        run_query(database, query.replace("DIR", str(tmp_path))).cleanup()
    if "DIR/" in query and query.startswith(
        "SELECT"
    ):  # refused for being a file, not for being absent
        assert "disabled by configuration" in str(refused.value)
    assert _digest(database) == before
    assert not (tmp_path / "leak.csv").exists() and not Path("leak.csv").exists()
    assert run_query(database, "SELECT count(*) AS n FROM answer_key").preview["n"][0] > 0
