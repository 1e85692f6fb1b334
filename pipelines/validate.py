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
from pipelines.problems import MAX_PROBLEMS_SHOWN, Found, Problem
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


def _excel_hint(scanned: ScannedFile, column: str, rec: dict[str, object]) -> str:
    """Merged cells in Excel keep their value in the first row only; say so when it shows."""
    raw = rec.get(f"_raw_{column}")
    if scanned.path.suffix.lower() != ".xlsx" or (isinstance(raw, str) and raw.strip()):
        return ""
    return " (if the cell is merged with the one above, unmerge it and fill in every row)"


def duplicate_key_problems(frame: pl.DataFrame, table: InputTable, file: str) -> Found:
    """Rows whose key repeats an earlier row of the same file (the first few, and how many)."""
    if not table.key:
        return Found()
    key = list(table.key)
    dups = (
        frame.with_columns(first=pl.col(ROW).min().over(key), n=pl.len().over(key))
        .filter((pl.col("n") > 1) & (pl.col(ROW) != pl.col("first")))
        .sort(ROW)
    )
    shown = [
        Problem(
            file,
            r[ROW],
            key[0] if len(key) == 1 else ", ".join(key),
            f"duplicate key ({_describe_key(r, key)}) already on row {r['first']}",
        )
        for r in dups.head(MAX_PROBLEMS_SHOWN).iter_rows(named=True)
    ]
    return Found(shown, dups.height)


def _describe_key(rec: dict[str, object], key: Iterable[str]) -> str:
    return ", ".join(f"{k}={rec[k] if rec[k] != '' else '(none)'}" for k in key)


def unknown_code_problems(
    frame: pl.DataFrame, column: str, known: set[str], what: str, file: str
) -> Found:
    """Rows naming a code that is neither in the database nor loaded earlier in this run."""
    bad_rows = frame.filter(~pl.col(column).is_in(sorted(known))).sort(ROW)
    shown = [
        Problem(file, r[ROW], column, f"unknown {what} {r[column]!r}; load it in {what}s first")
        for r in bad_rows.head(MAX_PROBLEMS_SHOWN).iter_rows(named=True)
    ]
    return Found(shown, bad_rows.height)


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
    shown = [
        Problem(
            file,
            r[ROW],
            key[0],
            f"{what} for {_describe_key(r, key)} was already loaded from {r['file_name']} "
            f"(load {r['load_id']}); if this file corrects it, load it with "
            "`capwatch ingest --replace`, otherwise remove the overlap from one of the files",
        )
        for r in clash.head(MAX_PROBLEMS_SHOWN).iter_rows(named=True)
    ]
    return Found(shown, clash.height)
