"""A query result as a plain-text table for the terminal (`capwatch sql --format table`)."""

from __future__ import annotations

import polars as pl


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def render_table(frame: pl.DataFrame, total_rows: int | None = None) -> str:
    """Columns aligned (numbers to the right), then a line saying how many rows there are."""
    names = frame.columns
    numeric = [frame.schema[n].is_numeric() for n in names]
    cells = [[_cell(v) for v in row] for row in frame.rows()]
    widths = [max([len(n), *(len(r[i]) for r in cells)]) for i, n in enumerate(names)]

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(names), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    total = frame.height if total_rows is None else total_rows
    if total > frame.height:
        out.append(f"(showing the first {frame.height:,} of {total:,} rows)")
    else:
        out.append(f"({total:,} row{'' if total == 1 else 's'})")
    return "\n".join(out)
