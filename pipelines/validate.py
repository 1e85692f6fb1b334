"""Checks on normalised frames: bad values, duplicate keys, unknown codes, overlaps with loads.

Each check returns Problems naming file, row and column. Checks that need the whole file run
on small frames (reference tables, capacity, or activity already summed to the day); rows are
looked up in the file again only when a check has found something.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from capwatch.contract import InputTable
from pipelines.normalise import bad, explain, flag_columns, normalise
from pipelines.problems import MAX_PROBLEMS_SHOWN, PROBLEM_SCHEMA, Found, Problem, from_frame
from pipelines.read import ROW, ScannedFile


def count_flags(frame: pl.DataFrame, table: InputTable) -> int:
    """How many bad values a frame holds (summed flag columns, or per-row flags)."""
    flags = flag_columns(table)
    return int(
        frame.select(pl.sum_horizontal(pl.col(f).cast(pl.Int64).sum() for f in flags)).item()
    )


def value_problems(scanned: ScannedFile) -> list[Problem]:
    """Every flagged value (up to the display cap) with its row, column and advice."""
    rows = flagged_rows(scanned.frame, scanned.table).head(MAX_PROBLEMS_SHOWN)
    return problems_from_flagged(scanned, rows.collect(engine="streaming"))


def flagged_rows(raw: pl.LazyFrame, table: InputTable) -> pl.LazyFrame:
    """The rows of `raw` (text columns and `_row`) with a bad value: `_row`, the raw text of
    each column as `_raw_<column>`, and the `_bad_<column>` flags. Both engines call this
    (the Spark engine on each Arrow batch), so the rules are written once."""
    present = [c for c in raw.collect_schema().names() if c != ROW]
    raw = raw.with_columns(pl.col(c).alias(f"_raw_{c}") for c in present)
    return (
        normalise(raw, table)
        .filter(pl.any_horizontal(flag_columns(table)))
        .select(ROW, *(f"_raw_{c}" for c in present), *flag_columns(table))
    )


def problems_from_flagged(scanned: ScannedFile, rows: pl.DataFrame) -> list[Problem]:
    """A Problem for each flagged value of `rows` (from `flagged_rows`), in row order."""
    table = scanned.table
    problems: list[Problem] = []
    for rec in rows.iter_rows(named=True):
        for col in table.columns:
            if rec[bad(col.name)]:
                problems.append(
                    Problem(
                        str(scanned.path),
                        rec[ROW],
                        col.name,
                        explain(col, rec.get(f"_raw_{col.name}"))
                        + _excel_hint(scanned, col.name, rec),
                    )
                )
    return problems


def every_value_problem(scanned: ScannedFile) -> pl.DataFrame:
    """Every flagged value of the file (no display cap) in `PROBLEM_SCHEMA`, in row order.

    Bad values repeat (one wrong date in every row): each distinct (column, raw text) is
    worded once by `explain` and joined back, so a million bad cells cost no Python loop."""
    table = scanned.table
    rows = flagged_rows(scanned.frame, scanned.table).collect(engine="streaming")
    parts = []
    for order, col in enumerate(table.columns):
        raw = f"_raw_{col.name}"
        if bad(col.name) not in rows.columns:
            continue
        hit = rows.filter(pl.col(bad(col.name))).select(
            ROW, raw=pl.col(raw) if raw in rows.columns else pl.lit(None, pl.String)
        )
        if hit.is_empty():
            continue
        words = {
            value: explain(col, value) + _excel_hint(scanned, col.name, {raw: value})
            for value in hit["raw"].unique().to_list()
        }
        worded = pl.DataFrame(
            {"raw": list(words), "problem": list(words.values())},
            schema={"raw": pl.String, "problem": pl.String},
        )
        parts.append(
            hit.join(worded, on="raw", how="left", nulls_equal=True).select(
                row_number=pl.col(ROW).cast(pl.Int64),
                column_name=pl.lit(col.name),
                problem="problem",
                _order=pl.lit(order),
            )
        )
    if not parts:
        return pl.DataFrame(schema=PROBLEM_SCHEMA)
    return pl.concat(parts).sort(["row_number", "_order"]).drop("_order")


def _excel_hint(scanned: ScannedFile, column: str, rec: dict[str, object]) -> str:
    """Merged cells in Excel keep their value in the first row only; say so when it shows."""
    raw = rec.get(f"_raw_{column}")
    if scanned.path.suffix.lower() != ".xlsx" or (isinstance(raw, str) and raw.strip()):
        return ""
    return " (if the cell is merged with the one above, unmerge it and fill in every row)"


def duplicate_key_problems(frame: pl.DataFrame, table: InputTable, file: str) -> Found:
    """Rows whose key repeats an earlier row of the same file (the first few, how many, and
    all of them lazily)."""
    if not table.key:
        return Found()
    key = list(table.key)
    dups = (
        frame.with_columns(first=pl.col(ROW).min().over(key), n=pl.len().over(key))
        .filter((pl.col("n") > 1) & (pl.col(ROW) != pl.col("first")))
        .sort(ROW)
    )
    every = dups.lazy().select(
        row_number=pl.col(ROW),
        column_name=pl.lit(key[0] if len(key) == 1 else ", ".join(key)),
        problem=pl.format("duplicate key ({}) already on row {}", _key_text(key), "first"),
    )
    return from_frame(every, file, dups.height)


def _key_text(key: Iterable[str]) -> pl.Expr:
    """`site_code=NX101, week_start=2020-06-01`, an empty value as (none)."""
    parts = []
    for k in key:
        text = pl.col(k).cast(pl.String)
        value = pl.when(text == "").then(pl.lit("(none)")).otherwise(text.fill_null("None"))
        parts.append(pl.lit(f"{k}=") + value)
    return pl.concat_str(parts, separator=", ")


def unknown_code_problems(
    frame: pl.DataFrame, column: str, known: set[str], what: str, file: str
) -> Found:
    """Rows naming a code that is neither in the database nor loaded earlier in this run."""
    bad_rows = frame.filter(~pl.col(column).is_in(sorted(known))).sort(ROW)
    every = bad_rows.lazy().select(
        row_number=pl.col(ROW),
        column_name=pl.lit(column),
        problem=pl.format(f"unknown {what} '{{}}'; load it in {what}s first", column),
    )
    return from_frame(every, file, bad_rows.height)


def contract_date_problems(frame: pl.DataFrame, file: str) -> list[Problem]:
    """A contract must end on or after it starts, and be removed within its term."""
    problems = [
        Problem(
            file,
            r[ROW],
            "end_date",
            f"end_date {r['end_date']} is before start_date {r['start_date']}",
        )
        for r in frame.filter(pl.col("end_date") < pl.col("start_date")).iter_rows(named=True)
    ]
    outside = frame.filter(
        pl.col("removed_date").is_not_null()
        & ~pl.col("removed_date").is_between(pl.col("start_date"), pl.col("end_date"))
    )
    problems += [
        Problem(
            file,
            r[ROW],
            "removed_date",
            f"removed_date {r['removed_date']} is outside the "
            f"contract's term {r['start_date']} to {r['end_date']}",
        )
        for r in outside.iter_rows(named=True)
    ]
    return problems


def overlap_problems(
    incoming: pl.DataFrame, existing: pl.DataFrame, key: list[str], file: str, what: str
) -> Found:
    """Keys already loaded from another file: refusing them avoids counting a unit twice."""
    if existing.is_empty() or incoming.is_empty():
        return Found()
    clash = incoming.join(existing, on=key, how="inner").sort(ROW)
    every = clash.lazy().select(
        row_number=pl.col(ROW),
        column_name=pl.lit(key[0]),
        problem=pl.format(
            f"{what} for {{}} was already loaded from {{}} (load {{}}); if this file corrects "
            "it, load it with `capwatch ingest --replace`, otherwise remove the overlap from "
            "one of the files",
            _key_text(key),
            "file_name",
            "load_id",
        ),
    )
    return from_frame(every, file, clash.height)
