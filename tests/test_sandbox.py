"""The SQL sandbox answers read-only queries correctly: same rows as DuckDB run directly, the
screen cut at N rows with the true total, and the whole result in a formula-safe CSV or JSON."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from capwatch import export
from capwatch.analytics.examples import (
    EXAMPLES,
    LOW_UTILISATION_PROVIDERS,
    PRIVATE_VS_NHS_BY_SITE,
    UTILISATION_BY_PROVIDER_MONTH,
)
from capwatch.errors import DatabaseMissing, QueryRefused
from capwatch.load import ingest
from capwatch.sandbox import QueryFailed, run_query, screen_sql, worker
from tests import untidy_returns
from tests.tables_support import header

WEEKS = ("2020-06-01", "2020-06-08", "2020-06-15", "2020-06-22")

# Three providers, one diagnostics site each, four weeks of capacity. Worked by hand:
#   NA1: 100 units a week, 10 NHS a week        -> utilisation 0.10 over 400 units: flagged
#   NB1: 100 units a week, 60 NHS + 5 private   -> 0.60: not flagged
#   NC1:  10 units a week,  1 NHS a week        -> 0.10 but only 40 units: too small to flag
LOW_UTIL_FILES: dict[str, str] = {
    "providers.csv": header("providers")
    + "NA1,Alpha,G1,London\nNB1,Beta,G1,London\nNC1,Gamma,G2,Midlands\n",
    "sites.csv": header("sites")
    + "NA101,NA1,Alpha One,London\nNB101,NB1,Beta One,London\nNC101,NC1,Gamma One,Midlands\n",
    "contracts.csv": header("contracts")
    + "C1,NA1,2020-06-01,2020-06-30,1000\nC2,NB1,2020-06-01,2020-06-30,1000\n"
    "C3,NC1,2020-06-01,2020-06-30,1000\n",
    "unit_prices.csv": header("unit_prices", "activity_type") + "diagnostics,,100\n",
    "capacity.csv": header("capacity")
    + "".join(
        f"{site},diagnostics,{week},{units}\n"
        for week in WEEKS
        for site, units in (("NA101", 100), ("NB101", 100), ("NC101", 10))
    ),
    "activity.csv": header("activity", "units")
    + "".join(
        f"{site},diagnostics,{week},{funding},{units}\n"
        for week in WEEKS
        for site, funding, units in (
            ("NA101", "nhs", 10),
            ("NB101", "nhs", 60),
            ("NB101", "private", 5),
            ("NC101", "nhs", 1),
        )
    ),
}


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = untidy_returns.write(tmp_path_factory.mktemp("lowutil") / "in", LOW_UTIL_FILES)
    path = folder.parent / "capacity.duckdb"
    report = ingest([folder], path)
    assert report.ok, [str(p) for o in report.outcomes for p in o.problems]
    return path


def direct(db: Path, sql: str) -> pl.DataFrame:
    """The same query run by DuckDB itself, unsandboxed."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM utilisation_provider ORDER BY provider_code, service_line",
        "SELECT * FROM providers ORDER BY provider_code",
        'SELECT "group", count(*) AS n FROM providers GROUP BY ALL ORDER BY 1',
        "DESCRIBE utilisation_weekly",
        *(e.sql for e in EXAMPLES),
    ],
)
def test_results_match_duckdb_run_directly(synthetic_db: Path, sql: str) -> None:
    result = run_query(synthetic_db, sql, max_rows=100_000)
    try:
        expected = direct(synthetic_db, sql)
        assert result.total_rows == expected.height > 0
        assert_frame_equal(result.preview, expected)
        assert [name for name, _ in result.columns] == expected.columns
    finally:
        result.cleanup()


def test_low_utilisation_example_flags_only_the_provider_worked_by_hand(small_db: Path) -> None:
    result = run_query(small_db, LOW_UTILISATION_PROVIDERS.sql)
    rows = result.preview.rows(named=True)
    assert len(rows) == 1
    (row,) = rows
    assert row["provider_code"] == "NA1"
    assert row["service_line"] == "diagnostics"
    assert row["windows_flagged"] == 1  # only the window ending 22 June holds four weeks
    assert row["first_window_ending"] == date(2020, 6, 22)
    assert row["lowest_utilisation"] == pytest.approx(0.10)
    assert row["unused_cost_gbp_in_that_window"] == pytest.approx(4 * 90 * 100)


def test_month_and_site_examples_on_hand_worked_figures(small_db: Path) -> None:
    months = run_query(small_db, UTILISATION_BY_PROVIDER_MONTH.sql).preview
    by_provider = {r["provider_code"]: r for r in months.rows(named=True)}
    assert {r["month"] for r in by_provider.values()} == {date(2020, 6, 1)}
    assert by_provider["NA1"]["capacity_units"] == 400
    assert by_provider["NA1"]["nhs_units"] == 40
    assert by_provider["NA1"]["utilisation"] == pytest.approx(0.1)
    assert by_provider["NB1"]["utilisation"] == pytest.approx(0.6)

    sites = run_query(small_db, PRIVATE_VS_NHS_BY_SITE.sql).preview
    first = sites.row(0, named=True)  # ordered by private units, most first
    assert first["site_code"] == "NB101"
    assert first["nhs_units"] == 240
    assert first["private_units"] == 20
    assert first["private_share"] == pytest.approx(round(20 / 260, 3))


def test_the_screen_shows_the_first_rows_and_counts_them_all(small_db: Path) -> None:
    result = run_query(small_db, "SELECT range AS n FROM range(25) ORDER BY n", max_rows=7)
    try:
        assert result.preview["n"].to_list() == list(range(7))
        assert result.total_rows == 25
        assert result.truncated
    finally:
        result.cleanup()
    whole = run_query(small_db, "SELECT 1 AS one", max_rows=7)
    assert not whole.truncated


def test_csv_has_every_row_with_formula_cells_neutralised(small_db: Path) -> None:
    sql = (
        "SELECT i, CASE i % 4 WHEN 0 THEN '=HYPERLINK(\"x\")' WHEN 1 THEN '-2+3' "
        "WHEN 2 THEN '£1,000, \"quoted\"' END AS txt, -i AS neg FROM range(2000) t(i) ORDER BY i"
    )
    result = run_query(small_db, sql, max_rows=10, output_format="csv")
    try:
        assert result.output_path is not None
        written = pl.read_csv(result.output_path, infer_schema=False)
    finally:
        result.cleanup()
    raw = {0: '=HYPERLINK("x")', 1: "-2+3", 2: '£1,000, "quoted"', 3: None}
    safe = {k: ("'" + v if v and v[0] in "=+-@" else v) for k, v in raw.items()}
    assert written.height == 2000
    assert written["i"].to_list() == [str(i) for i in range(2000)]
    assert written["txt"].to_list() == [safe[i % 4] for i in range(2000)]
    assert written["neg"].to_list() == [str(-i) for i in range(2000)]  # numbers untouched
    assert not result.output_path.exists()


def test_json_has_every_row(small_db: Path) -> None:
    sql = "SELECT provider_code, provider_name FROM providers ORDER BY provider_code"
    result = run_query(small_db, sql, max_rows=1, output_format="json")
    try:
        assert result.output_path is not None
        rows = json.loads(result.output_path.read_text(encoding="utf-8"))
    finally:
        result.cleanup()
    assert rows == [
        {"provider_code": "NA1", "provider_name": "Alpha"},
        {"provider_code": "NB1", "provider_name": "Beta"},
        {"provider_code": "NC1", "provider_name": "Gamma"},
    ]


def test_nested_and_exotic_types_come_back_as_text(small_db: Path) -> None:
    sql = (
        "SELECT [1, 2] AS l, {'a': 1} AS s, INTERVAL 3 DAY AS iv, '\\xAA'::BLOB AS b, "
        "DATE '2020-06-01' AS d, 2.50::DECIMAL(6, 2) AS money"
    )
    result = run_query(small_db, sql, output_format="csv")
    try:
        row = result.preview.row(0, named=True)
        text = result.output_path.read_text(encoding="utf-8-sig") if result.output_path else ""
    finally:
        result.cleanup()
    expected_text = direct(small_db, f"SELECT l::VARCHAR, s::VARCHAR, iv::VARCHAR FROM ({sql})")
    assert [row["l"], row["s"], row["iv"]] == list(expected_text.row(0))
    assert row["d"] == date(2020, 6, 1)
    assert dict(result.columns)["l"] == "INTEGER[]"  # the type DuckDB gave, shown as text
    assert text.splitlines()[0] == '"l","s","iv","b","d","money"'
    assert text.splitlines()[1].endswith("2020-06-01,2.50")


def test_an_empty_result_keeps_its_columns(small_db: Path) -> None:
    result = run_query(small_db, "SELECT * FROM providers WHERE false", output_format="csv")
    try:
        assert result.total_rows == 0
        assert result.preview.columns == ["provider_code", "provider_name", "group", "region",
                                          "load_id"]  # fmt: skip
        assert result.output_path is not None
        header = result.output_path.read_text(encoding="utf-8-sig").strip()
    finally:
        result.cleanup()
    assert header == '"provider_code","provider_name","group","region","load_id"'


def test_errors_are_duckdb_messages_in_plain_words(small_db: Path) -> None:
    with pytest.raises(QueryFailed) as binder:
        run_query(small_db, "SELECT no_such_column FROM providers")
    assert "no_such_column" in str(binder.value)
    assert "Traceback" not in str(binder.value)
    with pytest.raises(QueryFailed) as parse:
        run_query(small_db, "SELEC 1")
    assert "syntax error" in str(parse.value)
    with pytest.raises(QueryFailed, match="does not exist"):
        run_query(small_db, "SELECT * FROM no_such_table")


def test_a_missing_database_is_a_plain_message(tmp_path: Path) -> None:
    with pytest.raises(DatabaseMissing, match="No database"):
        run_query(tmp_path / "nope.duckdb", "SELECT 1")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "select 1;",
        "WITH a AS (SELECT 1 AS x) SELECT * FROM a",
        "VALUES (1, 'a'), (2, 'b')",
        "FROM providers",
        "DESCRIBE providers",
        "SHOW TABLES",
        "SUMMARIZE providers",
        "EXPLAIN SELECT * FROM providers",
        "EXPLAIN ANALYZE SELECT 1",
        "-- a comment\nSELECT 1 /* and another */",
        "PIVOT (SELECT 1 AS k, 2 AS v) ON k IN (1) USING sum(v)",
        "UNPIVOT (SELECT 1 AS a, 2 AS b) ON a, b INTO NAME n VALUE v",
    ],
)
def test_the_screen_accepts_read_only_statements(sql: str) -> None:
    assert screen_sql(sql).strip().rstrip(";").strip()


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("INSERT INTO providers VALUES ('X', 'x', 'x', 'x', 1)", "INSERT changes data"),
        ("WITH a AS (SELECT 1) DELETE FROM providers", "DELETE changes data"),
        ("CREATE TEMP TABLE t AS SELECT 1", "CREATE changes the database's structure"),
        ("SET threads = 8", "SET changes settings"),
        ("PRAGMA threads = 8", "changes settings"),
        ("PRAGMA version", "PRAGMA runs a pragma"),
        ("CALL pragma_version()", "CALL runs a procedure"),
        ("EXPLAIN INSERT INTO providers SELECT * FROM providers", "EXPLAIN is accepted only"),
        ("EXPLAIN ANALYZE DELETE FROM providers", "EXPLAIN is accepted only"),
        ("SELECT 1; SELECT 2", "one statement at a time"),
        ("PIVOT (SELECT 1 AS k, 2 AS v) ON k USING sum(v)", "list the columns"),
        ("", "no query"),
        ("  ;  ", "no query"),
    ],
)
def test_the_screen_refuses_everything_else_with_a_reason(sql: str, says: str) -> None:
    with pytest.raises(QueryRefused, match=says):
        screen_sql(sql)


def test_the_worker_uses_the_same_formula_rule_as_csv_exports() -> None:
    assert worker.FORMULA_START == export.FORMULA_START


def test_result_files_are_removed_by_cleanup(small_db: Path) -> None:
    result = run_query(small_db, "SELECT 1 AS x", output_format="csv")
    assert result.output_path is not None
    assert result.output_path.read_bytes().splitlines() == [b'\xef\xbb\xbf"x"', b"1"]
    result.cleanup()
    assert not result.work_dir.exists()
