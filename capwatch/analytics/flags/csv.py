"""Flags as CSV bytes: every field, raw numbers, safe to open in a spreadsheet.

Same rule as `capwatch.export` (a text cell starting with =, +, -, @, a tab or a carriage
return gets a leading apostrophe). `capwatch.export.csv_bytes` currently names each rewritten
column `literal` (it adds columns instead of replacing them, and fails on a frame with two text
columns), so the flags export applies the rule itself until that is fixed.
"""

from __future__ import annotations

import polars as pl

from capwatch.export import FORMULA_START


def flags_csv_bytes(frame: pl.DataFrame) -> bytes:
    """UTF-8 CSV of `frame` with formula-like text cells neutralised."""
    text = [c for c, t in frame.schema.items() if t == pl.String]
    safe = frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )
    return safe.write_csv(date_format="%Y-%m-%d").encode("utf-8")
