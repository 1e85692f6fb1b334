"""CSV out: whole views from the command line, frames from the dashboard; safe to open in Excel.

Formula injection (OWASP): a text cell that starts with =, +, -, @, a tab or a carriage return
would be run by a spreadsheet. Such cells are written with a leading apostrophe, which Excel
shows as text. Numbers are never touched.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import polars as pl

from capwatch import db as database
from capwatch import schema
from capwatch.errors import CapwatchError

FORMULA_START = r"^[=+\-@\t\r]"


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix an apostrophe to text cells a spreadsheet would read as a formula."""
    text = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START))
        .then("'" + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """A frame as UTF-8 CSV bytes for a download button: unformatted numbers, safe text."""
    return neutralise_formulas(frame).write_csv(date_format="%Y-%m-%d").encode("utf-8")


def _safe_select(columns: list[tuple[str, str]]) -> str:
    exprs = []
    for name, type_ in columns:
        q = schema.quote(name)
        if type_.upper().startswith("VARCHAR"):
            exprs.append(
                f"CASE WHEN regexp_matches({q}, '{FORMULA_START}') THEN '''' || {q} ELSE {q} END"
                f" AS {q}"
            )
        else:
            exprs.append(q)
    return ", ".join(exprs)


def export_relation(db_path: Path, name: str, out: Path) -> int:
    """Stream every row of a documented table or view to CSV; returns the row count."""
    try:
        rel = schema.relation(name)
    except KeyError as exc:
        raise CapwatchError(str(exc.args[0])) from exc
    if not re.fullmatch(r"[a-z_]+", rel.name):  # names come from the dictionary; belt and braces
        raise CapwatchError(f"cannot export {name!r}")
    reader = database.Database(db_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    try:
        with contextlib.closing(reader.cursor()) as cur:
            cols = [(r[0], r[1]) for r in cur.execute(f"DESCRIBE {rel.name}").fetchall()]
            cur.execute(
                f"COPY (SELECT {_safe_select(cols)} FROM {rel.name}) TO ? "
                "(HEADER, DELIMITER ',', DATEFORMAT '%Y-%m-%d')",
                [str(tmp)],
            )
            rows = int(cur.fetchall()[0][0])
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
        reader.close()
    return rows
