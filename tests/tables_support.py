"""CSV headers of the input tables, from the catalogue (`capwatch.catalogue`), for test files.

`header("capacity")` is the required columns in the catalogue's order; naming optional columns
adds them in their catalogue place (`header("capacity", "activity_type")`). A test that needs
another order or a misspelt header writes it out, so that what it checks stays visible.
"""

from __future__ import annotations

from capwatch import catalogue


def columns(table: str, *optional: str) -> list[str]:
    """The required columns of `table` and the `optional` ones, in the catalogue's order."""
    declared = catalogue.table(table).columns
    unknown = set(optional) - {c.name for c in declared if not c.required}
    if unknown:
        raise ValueError(f"{table} has no optional column(s) {sorted(unknown)}")
    return [c.name for c in declared if c.required or c.name in optional]


def header(table: str, *optional: str) -> str:
    """The header line of a CSV file of `table`, newline included."""
    return ",".join(columns(table, *optional)) + "\n"


def csv_text(table: str, *rows: str, optional: tuple[str, ...] = ()) -> str:
    """A whole CSV file of `table`: its header and each row (a line without its newline)."""
    return header(table, *optional) + "".join(f"{r}\n" for r in rows)
