"""The SQL page under Streamlit's test harness: link-shared queries, examples, refusals, the
row cap and its note, the whole-result CSV, the data dictionary, the quick chart, the audit."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from streamlit.testing.v1 import AppTest

from capwatch import config, schema
from capwatch.analytics.examples import EXAMPLES
from capwatch.export import arrow_csv_bytes, arrow_xlsx_bytes, provenance
from capwatch.ui.scripts import ENTRY_SCRIPT, page_file
from tests import hand_worked
from tests.app_support import open_app

ROOT = Path(__file__).resolve().parent.parent
APP = str(ENTRY_SCRIPT)
PAGE = page_file("sql")


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hand_worked.build(tmp_path_factory.mktemp("sqlpage"))


@pytest.fixture
def audit_log(tiny_path: Path, tmp_path: Path) -> Iterator[Path]:
    log = tmp_path / "audit.jsonl"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(config.DB_ENV_VAR, str(tiny_path))
        mp.setenv("CAPWATCH_AUDIT_LOG", str(log))
        yield log


def direct(db: Path, sql: str) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()


def open_page(**params: str) -> AppTest:
    return open_app(PAGE, **params)


def run_sql(at: AppTest, sql: str) -> AppTest:
    at.text_area(key="sql_text").set_value(sql)
    return at.button(key="sql_run").click().run()


def result_frame(at: AppTest, columns: list[str]) -> pl.DataFrame:
    """The results table (the data-dictionary tables have other columns)."""
    for frame in at.dataframe:
        if list(frame.value.columns) == columns:
            return pl.from_pandas(frame.value)
    raise AssertionError(f"no table with columns {columns}")


def records(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_a_shared_link_runs_its_query_and_matches_duckdb(audit_log: Path, tiny_path: Path) -> None:
    sql = "SELECT provider_code, count(*) AS sites FROM sites GROUP BY ALL ORDER BY 1"
    at = open_page(q=sql)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.text_area(key="sql_text").value == sql
    assert_frame_equal(result_frame(at, ["provider_code", "sites"]), direct(tiny_path, sql),
                       check_dtypes=False)  # fmt: skip
    assert at.query_params["q"] == sql
    (record,) = [r for r in records(audit_log) if r["action"] == "sql"]
    assert record["what"] == {"query": sql}
    assert record["rows"] == direct(tiny_path, sql).height


def test_running_a_query_puts_it_in_the_address(audit_log: Path) -> None:
    at = run_sql(open_page(), "SELECT 42 AS answer")
    assert not at.exception
    assert at.query_params["q"] == "SELECT 42 AS answer"
    assert result_frame(at, ["answer"])["answer"].to_list() == [42]


def test_an_example_fills_the_editor_and_answers_like_duckdb(
    audit_log: Path, tiny_path: Path
) -> None:
    example = EXAMPLES[1]
    at = open_page()
    at.selectbox(key="sql_example").set_value(example.title).run()
    assert at.text_area(key="sql_text").value == example.sql
    assert any(example.question in c.value for c in at.caption)
    at.button(key="sql_run").click().run()
    assert not at.exception and not at.error
    expected = direct(tiny_path, example.sql)
    shown = result_frame(at, expected.columns)
    assert shown["site_code"].to_list() == expected["site_code"].to_list()
    assert shown["nhs_units"].to_list() == [int(v) for v in expected["nhs_units"]]


def test_a_refused_query_is_a_plain_message(audit_log: Path) -> None:
    at = run_sql(open_page(), "DELETE FROM providers")
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Only read-only queries (SELECT) can run here; DELETE changes data."
    ]
    # the first open ran the example; the refused query is the one with an error
    (record,) = [r for r in records(audit_log) if r["action"] == "sql" and "error" in r["what"]]
    assert "DELETE changes data" in record["what"]["error"]


def test_the_first_open_runs_the_example_and_says_the_filters_do_not_apply(
    audit_log: Path, tiny_path: Path
) -> None:
    at = open_page()
    assert not at.exception and not at.error
    example = EXAMPLES[0]
    assert at.text_area(key="sql_text").value == example.sql
    expected = direct(tiny_path, example.sql)
    shown = result_frame(at, expected.columns)
    assert shown.height == expected.height
    assert any("sidebar filters" in i.value and "do not apply" in i.value for i in at.info)
    # the schema browser is beside the editor: one expander per documented relation
    assert len(at.expander) >= len(schema.VIEWS)


def test_a_syntax_error_shows_duckdbs_position(audit_log: Path) -> None:
    at = run_sql(open_page(), "SELECT * FROM providers WHER x = 1")
    assert not at.exception
    assert "syntax error" in at.error[0].value
    assert any("LINE 1" in c.value and "^" in c.value for c in at.code)


def test_a_long_result_is_cut_with_a_note_and_the_csv_has_every_row(
    audit_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAPWATCH_SQL_MAX_ROWS", "10")
    at = run_sql(open_page(), "SELECT range AS n, '=1+2' AS f FROM range(25)")
    assert not at.exception and not at.error
    assert [i.value for i in at.info if i.value.startswith("Showing")] == [
        "Showing the first 10 of 25 rows. The CSV and Excel downloads have every row."
    ]
    assert result_frame(at, ["n", "f"])["n"].to_list() == list(range(10))
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == ["Download CSV (all 25 rows)", "Excel (.xlsx)"]
    result = at.session_state["sql_last"]["result"]
    # What the buttons hand over (each built on click from the worker's typed result file).
    data = arrow_csv_bytes(result.output_path)
    assert data.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["n", "f"]
    assert rows[1:] == [[str(n), "'=1+2"] for n in range(25)]
    about = provenance("Ad hoc SQL result", rows=25, filters=None, data=None)
    book = openpyxl.load_workbook(
        io.BytesIO(arrow_xlsx_bytes(result.output_path, "sql", about, 25))
    )
    sheet = book["sql"]
    assert [c.value for c in sheet["A"][1:]] == list(range(25))
    assert {(c.value, c.data_type) for c in sheet["B"][1:]} == {
        ("=1+2", "s")
    }  # text, not a formula


def test_a_runaway_query_is_stopped_and_the_user_told(
    audit_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAPWATCH_SQL_TIMEOUT", "1")
    at = run_sql(open_page(), "SELECT count(*) FROM range(1000000) a, range(1000000) b")
    assert not at.exception
    assert [e.value for e in at.error] == ["The query was stopped after 1 s, its time limit."]


def test_the_data_dictionary_lists_every_table_and_view_with_its_columns(
    audit_log: Path,
) -> None:
    at = open_page()
    labels = [e.label for e in at.expander]
    for rel in schema.RELATIONS:
        kind = "view" if rel.is_view else "table"
        assert f"`{rel.name}` · {kind}" in labels
    dictionaries = [
        pl.from_pandas(f.value)
        for f in at.dataframe
        if list(f.value.columns) == ["column", "type", "meaning"]
    ]
    documented = {
        tuple((c.name, c.type, c.description) for c in rel.columns) for rel in schema.RELATIONS
    }
    assert {tuple(map(tuple, d.rows())) for d in dictionaries} == documented


def test_the_quick_chart_draws_the_rows_shown(audit_log: Path) -> None:
    at = run_sql(open_page(), "SELECT provider_code, count(*) AS sites FROM sites GROUP BY ALL")
    at.toggle(key="sql_chart").set_value(True).run()
    assert not at.exception
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert chart["data"][0]["type"] == "bar"
    assert sorted(chart["data"][0]["x"]) == ["NA1", "NB1", "NB2"]


def test_users_without_the_analyst_role_cannot_open_it(
    audit_log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    access = tmp_path / "access.toml"
    access.write_text('[users]\n"lon@example.nhs.uk" = ["region:London"]\n', encoding="utf-8")
    monkeypatch.setenv("CAPWATCH_ACCESS", str(access))

    def signed_in(script: str) -> AppTest:
        at = AppTest.from_file(script, default_timeout=60)
        at.secrets["auth"] = {
            "redirect_uri": "http://localhost:8501/oauth2callback",
            "cookie_secret": "a-long-random-test-secret-value",
            "client_id": "capwatch",
            "client_secret": "secret",
            "server_metadata_url": "http://localhost:9/.well-known/openid-configuration",
        }
        at.user = {"is_logged_in": True, "email": "lon@example.nhs.uk"}
        at.query_params["q"] = "SELECT * FROM providers"
        return at.run()

    # The app leaves the page out of a regional user's navigation ...
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        signed_in(APP).switch_page(PAGE)
    # ... and the page itself refuses if it is run anyway, before running the linked query.
    at = signed_in(PAGE)
    assert not at.exception
    assert [e.value for e in at.error] == ["Ad hoc SQL is not available to you."]
    assert not at.text_area
    assert not [r for r in records(audit_log) if r["action"] == "sql"]
