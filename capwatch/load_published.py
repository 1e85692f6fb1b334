"""Loading published files (DM01, the ODS list): read, check, and store whole or not at all.

Called by `capwatch.load.load_file` for a file that a reader of `pipelines.published.readers`
recognised: the reader reads it, its reload policy says what a second file does. Under the
`month` policy (DM01) a month already held is skipped if its figures are the same, refused if
they differ (naming the load that holds it) unless `--replace` is given: then the new figures
replace the whole month in one transaction, the old rows go to `dm01_monthly_replaced` and
`load_changes` records it, so that unloading the revision brings the old month back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl

from capwatch import db
from capwatch.schema import quote
from pipelines.problems import FileRejected, Problem
from pipelines.published import extract
from pipelines.published.readers import reader as published_reader

_COMPARE = [c for c in extract.COLUMNS if c != "source_row"]


@dataclass
class PublishedLoad:
    """What happened to one published file that was not rejected."""

    status: Literal["loaded", "skipped"]
    rows: int = 0
    load_id: int | None = None
    notes: list[str] = field(default_factory=list)


def load_published(
    writer: db.Writer,
    path: Path,
    reader: str,
    digest: str,
    started: float,
    *,
    replace: bool = False,
) -> PublishedLoad:
    """Read, check and store one published file with its registered reader (its reload
    policy decides what a second file does). Raises FileRejected with every problem."""
    taken = published_reader(reader)
    read = taken.read(path, _known(writer, taken.known))
    frame, notes = read.frame, list(read.notes)
    if taken.reload == "month":
        same = _held_months(writer, path, taken.table, frame, replace=replace)
        if same is not None and not same.startswith("replaces"):
            return PublishedLoad("skipped", notes=[same])
        if same is not None:
            notes.append(same)
    record = db.LoadRecord(
        table_name=taken.table,
        file_name=path.name,
        file_path=str(path.resolve()),
        file_hash=digest,
        file_bytes=path.stat().st_size,
        rows_read=frame.height,
        warnings="; ".join(notes) or None,
        reader=reader,
    )
    load_id = writer.store(
        record,
        taken.table,
        frame,
        replace_keys=taken.reload == "replace",
        started=started,
    )
    return PublishedLoad("loaded", frame.height, load_id, notes)


def _known(writer: db.Writer, columns: tuple[str, ...]) -> dict[str, set[str]]:
    """The codes the database holds in each `table.column` a reader checks its rows against."""
    known = {}
    for name in columns:
        table, column = name.split(".")
        values = writer.query(f"SELECT DISTINCT {quote(column)} FROM {quote(table)}")
        known[name] = {str(v) for v in values[column].to_list() if v is not None}
    return known


def _held_months(
    writer: db.Writer, path: Path, table: str, frame: pl.DataFrame, *, replace: bool
) -> str | None:
    """None if no month of `frame` is loaded; a skip note if every month is, with the same
    figures; if any loaded month's figures differ, or only some are loaded: a note starting
    "replaces" with `replace`, FileRejected without."""
    months = frame["month"].unique().sort().to_list()
    held = writer.query(
        f"SELECT d.month, d.load_id, l.file_name FROM {table} d JOIN load_log l "
        "USING (load_id) WHERE d.month IN (SELECT unnest(?::DATE[])) "
        "GROUP BY ALL ORDER BY d.month",
        [months],
    )
    if held.is_empty():
        return None
    cols = ", ".join(_COMPARE)
    stored = writer.query(
        f"SELECT {cols} FROM {table} WHERE month IN (SELECT unnest(?::DATE[])) "
        "ORDER BY month, org_code, test",
        [months],
    )
    incoming = frame.select(_COMPARE).sort("month", "org_code", "test")
    where = ", ".join(f"{m:%B %Y} by load {lid} ({name})" for m, lid, name in held.iter_rows())
    if held["month"].n_unique() == len(months) and stored.equals(incoming.cast(stored.schema)):
        return f"the same figures are already loaded: {where}; nothing changed"
    if replace:
        return (
            f"replaces {where} (--replace: the old rows are archived; unload this load to "
            "bring them back)"
        )
    raise FileRejected(
        [
            Problem(
                str(path),
                None,
                None,
                f"already loaded with different figures or from another file: {where}. "
                "A published month is loaded once; load a revision with "
                "`capwatch ingest --replace`, or unload that load first",
            )
        ]
    )
