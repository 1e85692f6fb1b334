"""The `capwatch` command line. Each command is a thin wrapper over the library.

User errors end with a one-line reason on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import contextlib
import enum
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from capwatch import config
from capwatch.errors import CapwatchError
from capwatch.pack.command import pack as pack_command

if TYPE_CHECKING:
    from capwatch.export import Format
    from capwatch.load import IngestReport

app = typer.Typer(
    name="capwatch",
    help="Independent-sector capacity utilisation for NHS commissioners: load returns into "
    "DuckDB, serve the dashboard, flag poor utilisation, export evidence, run SQL.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class Engine(enum.StrEnum):
    """Engines that can read activity files."""

    default = "default"
    spark = "spark"


DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help=f"DuckDB file. Default: ${config.DB_ENV_VAR}, else {config.DEFAULT_DB} under the "
        "current folder.",
        show_default=False,
    ),
]


def _count(n: int, noun: str) -> str:
    """`1 flag`, `2 flags`, `1,204 flags`."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _version(show: bool) -> None:
    if show:
        from capwatch import __version__

        typer.echo(f"capwatch {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Independent-sector capacity utilisation for NHS commissioners."""


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"capwatch: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the CSV files to.")],
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same files.")
    ] = 2020,
    scale: Annotated[
        float,
        typer.Option(help="Volume multiplier: 1 ≈ a million activity rows, 10 ≈ ten million."),
    ] = 1.0,
) -> None:
    """Write a synthetic 2020 dataset (fictional providers) in the input contract."""
    from capwatch.synthetic import generate as make

    if scale <= 0:
        raise _fail("--scale must be greater than 0")
    started = time.perf_counter()
    summary = make(out, seed=seed, scale=scale)
    typer.echo(
        f"wrote {len(summary.files)} files to {out}: {summary.providers} providers, "
        f"{summary.sites} sites, {summary.weeks} weeks, {summary.activity_rows:,} activity rows "
        f"in {time.perf_counter() - started:.1f} s"
    )


@app.command()
def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="Files or folders (read recursively) to load.")
    ],
    db: DbOption = None,
    engine: Annotated[
        Engine,
        typer.Option(
            help="What reads activity files: the default engine (Polars, this machine) or "
            "Apache Spark (needs the `spark` extra and Java 17). Spark also reads a folder of "
            "Parquet files in Hive partitions (activity/site_code=NX101/...) as one input.",
        ),
    ] = Engine.default,
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master",
            help="Spark master URL (spark://host:7077, yarn, k8s://...). Default: local mode "
            "on every core of this machine, or the active session (Databricks).",
            show_default=False,
        ),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Resubmission: capacity (site, line, type, week), activity (site, line, "
            "day) and demand (region, line, type, week) that earlier loads hold are replaced by "
            "these files' rows instead of being refused. `capwatch unload` of the new load "
            "puts the old rows back.",
        ),
    ] = False,
    problems: Annotated[
        Path | None,
        typer.Option(
            "--problems",
            help="Also write every problem of every rejected file to this .csv or .xlsx "
            "(rejection, file, problem number, row, column, problem: the Data page's columns); "
            "the console shows the first 50 of each file. A run with nothing rejected writes "
            "the header only.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Load CSV, Excel (.xlsx) or Parquet files. Each file loads whole or not at all.

    The table is named by the start of the file name (activity_2020-06.csv → activity).
    Published NHS files are recognised by their content whatever their name: DM01 "Monthly
    Diagnostics Web File – Provider" workbooks (.xls or .xlsx) and the ODS independent-sector
    list (ephp). Reference tables load first. A file already loaded (same content) is skipped.
    Exits non-zero if any file was rejected, after loading the good ones.
    """
    from capwatch.load import ingest as run

    db_path = config.resolve_db_path(db)
    started = time.perf_counter()
    if spark_master is not None and engine != Engine.spark:
        raise _fail("--spark-master needs --engine spark")
    problems_format = None
    if problems is not None:
        problems_format = _problems_format(problems, db_path)
        _not_an_input(problems, paths)
    activity_engine = None
    if engine == Engine.spark:
        from capwatch.spark_engine import SparkActivity, spark_session

        activity_engine = SparkActivity(spark_session(spark_master))
    report = run(
        paths, db_path, activity_engine, replace=replace, every_problem=problems is not None
    )
    for outcome in report.outcomes:
        typer.echo(printable(outcome.summary()))
        for problem in outcome.problems:
            typer.echo(f"    {printable(str(problem))}")
    if report.outcomes and problems is not None and problems_format is not None:
        typer.echo(_write_problems(report, problems, problems_format))
    elif any(o.total_problems > len(o.problems) for o in report.rejected):
        typer.echo("every problem of the rejected files: ingest again with --problems FILE.csv")
    took = time.perf_counter() - started
    summary = (
        f"{report.count('loaded')} loaded, {report.count('skipped')} skipped, "
        f"{report.count('rejected')} rejected into {db_path} in {took:.1f} s"
    )
    if not report.outcomes:
        raise _fail("no input files found in " + ", ".join(map(str, paths)))
    if not report.ok:
        raise _fail(summary + "; fix the rejected files and run ingest again")
    typer.echo(summary)


def _problems_format(out: Path, db_path: Path) -> Format:
    """--problems checked before anything loads: a .csv or .xlsx a command may write."""
    from capwatch.outputs import check_output

    check_output(out, db_path)
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise _fail(f"--problems {out}: name a .csv or .xlsx file")
    return _file_format(None, out)


def _not_an_input(out: Path, paths: list[Path]) -> None:
    """--problems must not replace a file being loaded, nor sit in a folder being loaded (the
    next ingest of that folder would read it as a return)."""
    from capwatch.outputs import same_file

    for path in paths:
        if same_file(out, path) or (path.is_dir() and out.resolve().is_relative_to(path.resolve())):
            raise _fail(
                f"--problems {out} is inside what this ingest loads ({path}): write it elsewhere"
            )


def _write_problems(report: IngestReport, out: Path, fmt: Format) -> str:
    """Every problem of every rejected file to `out`; the console line that says so."""
    from capwatch.export import provenance, write_frame

    listed = report.problem_list()
    found = sum(o.total_problems for o in report.rejected)
    about = provenance(
        "Every problem of every file this ingest rejected",
        rows=listed.height,
        filters=None,
        data=None,
        extra=(("Files rejected", f"{len(report.rejected):,}"),),
    )
    write_frame(listed, out, fmt, "problems", about)
    if not report.rejected:
        return f"no file rejected: {out} holds the header only"
    where = f"{_count(listed.height, 'problem')} of {_count(len(report.rejected), 'file')}"
    if listed.height < found:  # e.g. the Spark engine lists only the first bad values
        return f"wrote {where} to {out}; {found - listed.height:,} more could not be listed"
    return f"wrote the whole list of problems to {out}: {where} rejected"


@app.command()
def loads(
    db: DbOption = None,
    fmt: Annotated[
        str, typer.Option("--format", help="table: aligned text; csv: every field.")
    ] = "table",
) -> None:
    """List every load: id, table, file, rows stored and still live, when, and what replaced
    or retracted it (the `load_history` view)."""
    import polars as pl

    from capwatch.analytics.reference import load_history
    from capwatch.db import Database
    from capwatch.export import csv_bytes
    from capwatch.sandbox.table import render_table

    if fmt not in ("table", "csv"):
        raise _fail("--format must be table or csv")
    reader = Database(config.resolve_db_path(db))
    try:
        history = load_history(reader)
    finally:
        reader.close()
    if fmt == "csv":
        sys.stdout.buffer.write(csv_bytes(history))
        sys.stdout.buffer.flush()
        return
    when = "%Y-%m-%d %H:%M:%S"
    shown = history.select(
        "load_id", "table_name", "file_name", "rows_stored", "rows_live",
        pl.col("loaded_at").dt.strftime(when), "status", "replaces", "superseded_by",
        pl.col("retracted_at").dt.strftime(when),
    )  # fmt: skip
    typer.echo(render_table(shown, history.height))


@app.command()
def unload(
    load_id: Annotated[int, typer.Argument(help="The load to take out (see `capwatch loads`).")],
    db: DbOption = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why, kept in the load history.")
    ] = None,
) -> None:
    """Take one load's rows out in one transaction, putting back any rows it had replaced.

    Refused, with the reason, when other loads' rows depend on it (e.g. activity at the sites
    of a sites file): unload those first or load a corrected file with `ingest --replace`.
    """
    from capwatch import db as database

    db_path = config.resolve_db_path(db)
    if not db_path.exists():
        raise _fail(f"no database at {db_path}")
    with database.write_session(db_path) as writer:
        changes = writer.unload(load_id, reason)
    for change in changes:
        typer.echo(change.describe())
    typer.echo(f"unloaded load {load_id} from {db_path}")


@app.command()
def demo(
    db: DbOption = None,
    port: Annotated[int, typer.Option(help="Port to serve the dashboard on.")] = 8501,
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            help=f"Address to listen on. Default: ${config.env_var('address')}, else "
            f"{config.setting_default('address')} (this machine only). 0.0.0.0 opens it to "
            "the network: refused without sign-in unless --allow-anyone.",
            show_default=False,
        ),
    ] = None,
    allow_anyone: Annotated[
        bool,
        typer.Option(
            "--allow-anyone",
            help="Serve on a non-loopback address without sign-in: everyone who can reach "
            "it sees everything.",
        ),
    ] = False,
    scale: Annotated[
        float,
        typer.Option(help="Volume of the synthetic data, when it is built (1 ≈ 1M activity rows)."),
    ] = 1.0,
    build_only: Annotated[
        bool, typer.Option("--build-only", help="Build the data if missing, do not serve.")
    ] = False,
) -> None:
    """Build the demo data if the database is missing, then serve the dashboard.

    The demo is synthetic 2020 contract data (fictional providers) beside real published NHS
    England DM01 diagnostics (April 2019 – September 2020, Open Government Licence v3.0).
    It listens on 127.0.0.1 unless --address says otherwise; SIGTERM or Ctrl+C stops the
    server and waits for it.
    """
    from capwatch import serve, webapp
    from capwatch.load import ingest as run
    from capwatch.synthetic import generate as make

    host = address or config.setting("address")
    if not build_only:  # refused before any data is built
        serve.check_address(
            host, signed_in=serve.sign_in_configured(Path.cwd()), allow_anyone=allow_anyone
        )
    db_path = config.resolve_db_path(db)
    if not db_path.exists():
        data_dir = db_path.parent / "synthetic"
        typer.echo(f"No database at {db_path}: generating synthetic 2020 data in {data_dir} ...")
        make(data_dir, scale=scale)
        published = webapp.published_data()
        typer.echo(f"... and the published NHS England DM01 extract in {published}")
        report = run([data_dir, published], db_path)
        if not report.ok:
            raise _fail("the demo data did not load; see the messages above")
        typer.echo(f"loaded {report.count('loaded')} files into {db_path}")
    if build_only:
        return
    typer.echo(f"Serving capwatch on {serve.shown_url(host, port)} (Ctrl+C to stop)")
    env = {**os.environ, config.DB_ENV_VAR: str(db_path.resolve())}
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(webapp.entry_script()),
        *webapp.streamlit_options(),
        "--server.address", host, "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    # Served from the current folder, which holds the user's .streamlit/secrets.toml,
    # access file and audit log (relative settings resolve against it).
    raise typer.Exit(serve.run_server(cmd, env))


FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="csv (UTF-8 with a byte-order mark, opens right in Excel) or xlsx (an Excel "
        "workbook: typed cells, £ and % formats, a provenance sheet). Default: from --out's "
        "extension, else csv.",
        show_default=False,
    ),
]


def _file_format(fmt: str | None, out: Path) -> Format:
    """The file format asked for, or the one --out's extension names (csv by default)."""
    chosen = fmt or ("xlsx" if out.suffix.lower() == ".xlsx" else "csv")
    if chosen not in ("csv", "xlsx"):
        raise _fail("--format must be csv or xlsx")
    return "xlsx" if chosen == "xlsx" else "csv"


@app.command()
def export(
    view: Annotated[
        str, typer.Argument(help="A documented view or table (see `capwatch schema`).")
    ],
    out: Annotated[Path, typer.Option("--out", help="File to write (.csv or .xlsx).")],
    db: DbOption = None,
    fmt: FormatOption = None,
) -> None:
    """Write every row of a documented view or table to CSV or Excel, in key order.

    An Excel sheet holds 1,048,575 rows below its header: a bigger view is refused as xlsx
    (use CSV, or `capwatch sql` to narrow it).
    """
    from capwatch.export import export_relation
    from capwatch.outputs import check_output

    db_path = config.resolve_db_path(db)
    check_output(out, db_path)
    rows = export_relation(db_path, view, out, _file_format(fmt, out))
    typer.echo(f"wrote {rows:,} rows of {view} to {out}")


@app.command()
def schema() -> None:
    """Print the data dictionary: every documented table and view, its grain and columns."""
    from capwatch.schema import dictionary_markdown

    typer.echo(dictionary_markdown())


@app.command()
def migrate(db: DbOption = None) -> None:
    """Create the database if missing and bring its schema up to date."""
    from capwatch import db as database

    db_path = config.resolve_db_path(db)
    database.migrate(db_path)
    typer.echo(f"{db_path} is at schema version {database.SCHEMA_VERSION}")


RuleOption = Annotated[
    list[str] | None,
    typer.Option("--rule", help="Rule to run (repeatable); all rules when omitted."),
]
ParamOption = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        metavar="RULE.KEY=VALUE",
        help="Override a rule parameter as RULE.KEY=VALUE (repeatable), e.g. "
        "low_utilisation.threshold=0.25 or funnel.overdispersion=multiplicative.",
    ),
]


@app.command()
def flags(
    out: Annotated[Path, typer.Option("--out", help="File to write, every field (.csv or .xlsx).")],
    db: DbOption = None,
    fmt: FormatOption = None,
    rule: RuleOption = None,
    param: ParamOption = None,
) -> None:
    """Run the flag rules over every loaded week and write every flag to CSV or Excel."""
    from capwatch.analytics.filters import Filters
    from capwatch.analytics.flags import parse_params, run_flags
    from capwatch.analytics.flags.money import money_by_rule
    from capwatch.db import Database
    from capwatch.export import loads, provenance, write_frame
    from capwatch.outputs import check_output

    file_format = _file_format(fmt, out)
    overrides = parse_params(param or [])
    db_path = config.resolve_db_path(db)
    check_output(out, db_path)
    reader = Database(db_path)
    try:
        run = run_flags(reader, Filters(), rules=rule or None, params=overrides)
        data = loads(reader)
    finally:
        reader.close()
    found = run.flags
    settings = [f"{r}.{k}={v}" for r, kv in sorted(overrides.items()) for k, v in kv.items()]
    about = provenance(
        "Flags: every rule firing over every loaded week",
        rows=found.height,
        filters=Filters().provenance(),
        data=data,
        extra=(
            ("Rules", ", ".join(rule) if rule else "every rule"),
            ("Rule settings", "; ".join(settings) if settings else "the defaults"),
            *(("Note", note) for note in run.notes),
        ),
    )
    write_frame(found, out, file_format, "flags", about)
    providers = found["provider_code"].n_unique() if found.height else 0
    notes = "".join(f" Note: {note}" for note in run.notes)  # one line, notes included
    per_rule = "; ".join(
        f"{title} £{money:,.0f}"
        for title, money in money_by_rule(found).select("rule_title", "money_at_stake_gbp").rows()
    )
    stake = (
        f" Money at stake per rule (rules overlap, so these are not added up): {per_rule}."
        if per_rule
        else ""
    )
    typer.echo(
        f"wrote {_count(found.height, 'flag')} on {_count(providers, 'provider')} to {out}."
        f"{stake}{notes}"
    )


@app.command()
def backtest(
    out: Annotated[
        Path,
        typer.Option("--out", help="CSV to write: one row per contract × rule (every field)."),
    ],
    db: DbOption = None,
    rule: RuleOption = None,
    param: ParamOption = None,
    summary: Annotated[
        Path | None,
        typer.Option("--summary", help="Also write the per-rule summary to this CSV."),
    ] = None,
    warmup_weeks: Annotated[
        int,
        typer.Option(
            "--warmup-weeks",
            help="Start the replay at the first week with this many complete weeks of data "
            "(1: from the first week).",
        ),
    ] = 1,
) -> None:
    """Would the flags have called the removals? Replay the rules week by week (data up to
    each week only) against every removed contract: hits, misses and weeks of warning."""
    from capwatch import outputs
    from capwatch.analytics.flags import parse_params
    from capwatch.analytics.flags.backtest import backtest as run_backtest
    from capwatch.analytics.flags.backtest import summary_lines
    from capwatch.db import Database
    from capwatch.export import csv_bytes

    overrides = parse_params(param or [])
    db_path = config.resolve_db_path(db)
    for path in (out, summary):
        if path is not None:
            outputs.check_output(path, db_path)
    if summary is not None and outputs.same_file(out, summary):
        raise _fail(f"--out and --summary both name {out}: give the summary a file of its own")
    reader = Database(db_path)
    try:
        result = run_backtest(
            reader, rules=rule or None, params=overrides, warmup_weeks=warmup_weeks
        )
    finally:
        reader.close()
    with contextlib.ExitStack() as both:  # both files written, or neither
        detail_tmp = both.enter_context(outputs.temp_beside(out))
        summary_tmp = None if summary is None else both.enter_context(outputs.temp_beside(summary))
        detail_tmp.write_bytes(csv_bytes(result.detail))
        if summary_tmp is not None:
            summary_tmp.write_bytes(csv_bytes(result.summary))
    for line in summary_lines(result):
        typer.echo(line)
    _echo_verdict_backtest(config.resolve_db_path(db))
    typer.echo(f"wrote {result.detail.height:,} rows (contract × rule) to {out}")


@app.command("verdicts")
def verdicts_command(
    out: Annotated[Path, typer.Option("--out", help="File to write, every field (.csv or .xlsx).")],
    db: DbOption = None,
    fmt: FormatOption = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Week to decide at (any day of it, YYYY-MM-DD); default the last complete week.",
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            help="Override a verdict parameter as KEY=VALUE (repeatable), e.g. release_below=0.12.",
        ),
    ] = None,
) -> None:
    """One verdict per active contract (release, challenge, route, keep, not enough data),
    with its sentence, reasons and money, to CSV or Excel."""
    from datetime import date

    from capwatch.analytics.filters import Filters
    from capwatch.analytics.verdicts import flat, headline, verdicts
    from capwatch.analytics.verdicts.params import parse, resolve
    from capwatch.db import Database
    from capwatch.export import loads, provenance, write_frame
    from capwatch.outputs import check_output

    file_format = _file_format(fmt, out)
    overrides = parse(param or [])
    resolved = resolve(overrides)
    week = None
    if as_of is not None:
        try:
            week = date.fromisoformat(as_of.strip())
        except ValueError:
            raise _fail(f"--as-of must be a date like 2020-09-21, got {as_of!r}") from None
    db_path = config.resolve_db_path(db)
    check_output(out, db_path)
    reader = Database(db_path)
    try:
        found = verdicts(reader, Filters(), as_of=week, params=resolved)
        data = loads(reader)
    finally:
        reader.close()
    settings = "; ".join(f"{k}={v}" for k, v in sorted(overrides.items()))
    about = provenance(
        "Verdicts: one decision per active contract",
        rows=found.height,
        filters=Filters().provenance(),
        data=data,
        extra=(
            ("As of week", str(found["as_of_week"][0]) if found.height else "no data"),
            ("Verdict settings", settings or "the defaults"),
        ),
    )
    write_frame(flat(found), out, file_format, "verdicts", about)
    typer.echo(f"wrote {found.height:,} verdicts to {out}. {headline(found)}")


def _echo_verdict_backtest(db_path: Path) -> None:
    """The verdicts' own backtest at default parameters (issue 26), after the rules'."""
    from capwatch.analytics.verdicts.backtest import backtest_verdicts
    from capwatch.analytics.verdicts.backtest import summary_lines as verdict_lines
    from capwatch.db import Database

    reader = Database(db_path)
    try:
        result = backtest_verdicts(reader)
    finally:
        reader.close()
    for line in verdict_lines(result):
        typer.echo(line)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="One read-only statement (SELECT, WITH, ...).")],
    db: DbOption = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="table: aligned text, first rows and the count; csv / json: every row; "
            "xlsx: every row as an Excel workbook (needs --out; at most 1,048,575 rows).",
        ),
    ] = "table",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file instead of stdout.")
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Stop the query after this many seconds.")
    ] = 60.0,
) -> None:
    """Run ad hoc SQL in the sandbox: read-only, no files or network, memory and time limits.

    CSV output opens right in Excel (UTF-8 with a byte-order mark, formula-safe). See
    `capwatch schema` for the tables and views.
    """
    import shutil

    from capwatch import outputs
    from capwatch.sandbox import Limits, run_query
    from capwatch.sandbox.client import OutputFormat
    from capwatch.sandbox.table import render_table

    if fmt not in ("table", "csv", "json", "xlsx"):
        raise _fail("--format must be table, csv, json or xlsx")
    if timeout <= 0:
        raise _fail("--timeout must be greater than 0")
    if fmt == "xlsx" and out is None:
        raise _fail("--format xlsx needs --out FILE.xlsx (a workbook is not text)")
    limits = Limits(timeout_s=timeout)
    db_path = config.resolve_db_path(db)
    if out is not None:
        outputs.check_output(out, db_path)
    if fmt == "table":
        result = run_query(db_path, query, limits=limits)
        result.cleanup()
        text = render_table(result.preview, result.total_rows) + "\n"
        if out is None:
            typer.echo(text, nl=False)
        else:
            outputs.write_bytes(out, text.encode("utf-8"))
        return
    output_format: OutputFormat = "arrow" if fmt == "xlsx" else "csv" if fmt == "csv" else "json"
    result = run_query(db_path, query, limits=limits, max_rows=0, output_format=output_format)
    try:
        assert result.output_path is not None
        if fmt == "xlsx":
            assert out is not None
            _sql_workbook(db_path, query, result.output_path, out, result.total_rows)
            typer.echo(f"wrote {result.total_rows:,} rows to {out}", err=True)
        elif out is None:
            with result.output_path.open("rb") as fh:
                shutil.copyfileobj(fh, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        else:
            outputs.move_into(result.output_path, out)
            typer.echo(f"wrote {result.total_rows:,} rows to {out}", err=True)
    finally:
        result.cleanup()


def _sql_workbook(db_path: Path, query: str, result: Path, out: Path, rows: int) -> None:
    """An ad hoc query's result (an Arrow stream from the sandbox) as an Excel workbook."""
    from capwatch.db import Database
    from capwatch.export import arrow_to_xlsx, loads, provenance

    reader = Database(db_path)
    try:
        data = loads(reader)
    finally:
        reader.close()
    about = provenance(
        "Ad hoc SQL result",
        rows=rows,
        filters=None,
        data=data,
        extra=(("Query", query), ("Database", str(db_path))),
    )
    arrow_to_xlsx(result, out, "sql_result", about, rows)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """`text` on one console line: a control character (a line break in a file name) is
    shown escaped (`\\n`), so that a file name can neither break a line nor fake one."""
    return _CONTROL.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), text)


def one_line(message: str) -> str:
    """A message on one line: DuckDB's multi-line errors (context, a caret under the place)
    joined with "; ", caret lines dropped."""
    lines = [line.strip() for line in message.splitlines()]
    return "; ".join(line for line in lines if line and set(line) != {"^"})


# The review pack: its own module (capwatch.pack.command), imported lazily when it runs.
app.command("pack")(pack_command)


def main() -> None:
    """Entry point: run the app, turning known errors into a one-line message."""
    try:
        app()
    except CapwatchError as exc:
        typer.secho(f"capwatch: {one_line(str(exc))}", err=True, fg=typer.colors.RED)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
