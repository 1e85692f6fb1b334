"""Ask the data (SQL): one read-only query at a time, run in the sandbox, shareable by link.

The query text lives in the URL (`?q=...`). Results: the first rows on screen, the true total,
a quick chart of the rows shown, and every row as CSV or as an Excel workbook (the sandbox
worker writes the typed rows to disk; each file is built only when its button is clicked).
The sidebar filters do not apply to your SQL.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import plotly.express as px
import polars as pl
import streamlit as st

from capwatch import config, schema
from capwatch.analytics.examples import EXAMPLES
from capwatch.errors import CapwatchError
from capwatch.export import arrow_csv_bytes, arrow_xlsx_bytes, provenance
from capwatch.sandbox import Limits, QueryResult, run_query
from capwatch.ui import auth, colours, format
from capwatch.ui.context import get_db
from capwatch.ui.download import csv_button, data_are_synthetic, data_loads, excel_button
from capwatch.ui.tables import show_raw_table, show_table

URL_KEY = "q"
TEXT_KEY = "sql_text"
RESULT_KEY = "sql_last"


def _use_example() -> None:
    chosen = st.session_state.get("sql_example")
    for example in EXAMPLES:
        if example.title == chosen:
            st.session_state[TEXT_KEY] = example.sql


def _run(sql: str, db_path: Path) -> dict[str, Any]:
    """Run `sql`; the outcome (kept in the session: a plain dict, since a class defined in a
    page script is a new class on every run) holds the query, its result or its error."""
    previous = st.session_state.get(RESULT_KEY)
    if previous and previous["result"] is not None:
        previous["result"].cleanup()
    try:
        with st.spinner("Running your query…"):
            result = run_query(db_path, sql, limits=Limits.for_app(), output_format="arrow")
    except CapwatchError as exc:
        auth.record_sql(sql, None, error=str(exc))
        return {"sql": sql, "result": None, "error": str(exc)}
    auth.record_sql(sql, result.total_rows)
    return {"sql": sql, "result": result, "error": None}


def _show_error(message: str) -> None:
    first, _, rest = message.partition("\n")
    st.error(first, icon=":material/error:")
    if rest.strip():
        st.code(rest.strip("\n"), language=None)  # DuckDB's LINE 1 and caret, aligned


def _show_result(sql: str, result: QueryResult) -> None:
    shown = result.preview.height
    if result.truncated:
        st.info(
            f"Showing the first {shown:,} of {result.total_rows:,} rows. "
            "The CSV and Excel downloads have every row.",
            icon=":material/info:",
        )
    st.caption(f"{format.plural(result.total_rows, 'row')} · {result.elapsed_s:.2f} s")
    show_raw_table(result.preview, key="sql_result_table")
    path = result.output_path
    if path is not None and path.exists():
        synthetic = data_are_synthetic()  # the database holds the demo's synthetic world
        prefix = "capwatch-synthetic" if synthetic else "capwatch"
        stem = f"{prefix}_sql_{datetime.now():%Y-%m-%d_%H%M}"
        rows = result.total_rows
        detail = {"query": sql}
        data = data_loads()

        def workbook() -> bytes:
            about = provenance(
                "Ad hoc SQL result", rows=rows, filters=None, data=data,
                extra=(("Query", sql), ("Filters", "the sidebar filters do not apply to SQL")),
                made_for=access.email if access is not None else None, synthetic=synthetic,
            )  # fmt: skip
            return arrow_xlsx_bytes(path, "sql_result", about, rows)

        with st.container(horizontal=True, gap="small"):
            csv_button(
                f"Download CSV (all {rows:,} rows)",
                lambda: arrow_csv_bytes(path),  # built only when clicked
                f"{stem}.csv",
                key="sql_download",
                audit=("sql", f"{stem}.csv", rows, detail),  # file, rows and the query
            )
            excel_button(
                workbook, f"{stem}.xlsx", rows, key="sql_download_xlsx",
                audit=("sql", f"{stem}.xlsx", rows, detail),
            )  # fmt: skip
    if shown and st.toggle("Quick chart of the rows shown", key="sql_chart"):
        _quick_chart(result.preview)


def _quick_chart(frame: pl.DataFrame) -> None:
    numeric = [c for c, t in frame.schema.items() if t.is_numeric()]
    if not numeric:
        st.caption("A chart needs at least one numeric column.")
        return
    kind_col, x_col, y_col, colour_col = st.columns(4)
    kind = kind_col.selectbox("Chart", ["Bar", "Line", "Scatter"], key="sql_chart_kind")
    x = x_col.selectbox("x", frame.columns, key="sql_chart_x")
    y = y_col.selectbox("y", numeric, index=len(numeric) - 1, key="sql_chart_y")
    others = [c for c in frame.columns if c not in (x, y)]
    colour = colour_col.selectbox("Colour by", ["(none)", *others], key="sql_chart_colour")
    plotted = frame.with_columns(pl.col(c).cast(pl.Float64) for c in numeric)
    options: dict[str, object] = {"color_discrete_sequence": [colours.NHS_BLUE]}
    if colour != "(none)":
        options = {"color": colour}
        if colour == "service_line":
            options["color_discrete_map"] = colours.SERVICE_LINE_COLOURS
    draw = {"Bar": px.bar, "Line": px.line, "Scatter": px.scatter}[kind]
    fig = draw(plotted.to_pandas(), x=x, y=y, **options)
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    st.plotly_chart(fig, key="sql_chart_figure")


def _schema_browser() -> None:
    st.subheader("Tables and views")
    st.caption("The data dictionary (also `capwatch schema`). Views are the place to start.")
    for rel in (*schema.VIEWS, *schema.TABLES):
        kind = "view" if rel.is_view else "table"
        with st.expander(f"`{rel.name}` · {kind}"):
            st.markdown(f"{rel.description}  \n**Grain:** {rel.grain}.")
            show_table(
                pl.DataFrame(
                    {
                        "column": [c.name for c in rel.columns],
                        "type": [c.type for c in rel.columns],
                        "meaning": [c.description for c in rel.columns],
                    }
                ),
                key=f"sql_schema_{rel.name}",
            )


access = auth.current_access()
auth.refuse_unless(access is not None and access.may_use_sql, "Ad hoc SQL")
db_path = get_db().path

st.title("Ask the data (SQL)")
timeout_s = Limits.for_app().timeout_s
max_rows = int(config.setting("sql_max_rows_shown"))
st.caption(
    f"One read-only statement (SELECT, WITH, DESCRIBE, SUMMARIZE…) over the tables and views "
    f"listed on the right. It runs apart from the app, without files or network access, and "
    f"stops after {timeout_s:g} s. Up to {max_rows:,} rows are shown; the downloads have every "
    "row. The address bar holds your query: copy it to share."
)
st.info(
    "The sidebar filters (weeks, region, group, provider, service line) do not apply here: "
    "your SQL sees every row it names. Put any filter in a WHERE clause.",
    icon=":material/filter_alt_off:",
)

linked = st.query_params.get(URL_KEY, "")
if TEXT_KEY not in st.session_state:
    st.session_state[TEXT_KEY] = linked or EXAMPLES[0].sql

editor, browser = st.columns([3, 2], gap="large")
with browser:
    _schema_browser()
with editor:
    st.selectbox(
        "Start from an example",
        [e.title for e in EXAMPLES],
        index=None,
        placeholder="Choose a question…",
        key="sql_example",
        on_change=_use_example,
    )
    chosen = next((e for e in EXAMPLES if e.title == st.session_state.get("sql_example")), None)
    if chosen is not None:
        st.caption(chosen.question)
    sql = st.text_area("SQL", key=TEXT_KEY, height=260)
    clicked = st.button("Run", type="primary", icon=":material/play_arrow:", key="sql_run")

    last = st.session_state.get(RESULT_KEY)
    # on first open, run what the editor holds (the linked query, else the example), so the
    # page opens on an answer rather than an empty result
    first_open = last is None
    if (clicked or first_open) and sql.strip():
        st.query_params[URL_KEY] = sql
        last = st.session_state[RESULT_KEY] = _run(sql, db_path)
    elif clicked:
        st.warning("Type a query first.", icon=":material/edit:")

    if last:
        if last["sql"] != sql:
            st.caption("The result below is for the query as it was when you last ran it.")
        if last["error"] is not None:
            _show_error(last["error"])
        else:
            _show_result(last["sql"], last["result"])
