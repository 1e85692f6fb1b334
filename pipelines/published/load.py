"""Loading published files: recognise by content, read, check, and store whole or not at all.

Called by `pipelines.load.load_file` for a file that `recognise` took. A DM01 month already
held is skipped if its figures are the same, refused if they differ (naming the load that
holds it): a published month is replaced only by retracting that load first.
"""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl

from capwatch import db
from pipelines.contract import InputTable
from pipelines.load import FileOutcome
from pipelines.problems import FileRejected, Problem
from pipelines.published import dm01, extract, ods
from pipelines.published.workbook import SUFFIXES, looks_like_workbook

# Readers as tables for discovery and the load report; the name is the load log's `reader`.
READERS: dict[str, InputTable] = {
    r: InputTable(r, "reference" if r == ods.READER else "fact", what, ())
    for r, what in (
        (ods.READER, "ODS independent-sector organisations (ephp)"),
        (dm01.READER, "DM01 Monthly Diagnostics Web File – Provider"),
        (extract.READER, "capwatch's extract of published DM01 months"),
    )
}
ORDER = tuple(READERS)
_STORED = {ods.READER: ods.TABLE, dm01.READER: dm01.TABLE, extract.READER: dm01.TABLE}
_COMPARE = [c for c in extract.COLUMNS if c != "source_row"]


def recognise(path: Path) -> InputTable | None:
    """The published reader that takes this file, judged by its content; None if none does."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return READERS[extract.READER] if extract.recognise(path) else None
    if suffix not in SUFFIXES or not path.is_file() or not looks_like_workbook(path):
        return None
    if dm01.recognise(path):
        return READERS[dm01.READER]
    if ods.recognise(path):
        return READERS[ods.READER]
    return None


def load_published(
    writer: db.Writer, path: Path, table: InputTable, digest: str, started: float
) -> FileOutcome:
    """Read, check and store one published file; never raises for bad input."""
    reader = table.name
    stored = _STORED[reader]
    notes: list[str] = []
    try:
        if reader == ods.READER:
            frame = ods.read_ephp(path)
            notes.append(f"{frame.height:,} independent-sector organisations")
        else:
            if reader == dm01.READER:
                month = dm01.read_dm01(path)
                frame, notes = month.frame, month.notes
            else:
                frame = extract.read_extract(path)
                notes.append(
                    f"{frame['month'].n_unique()} months of published DM01 "
                    f"({frame['month'].min():%b %Y}–{frame['month'].max():%b %Y})"
                )
            same = _held_months(writer, path, frame)
            if same is not None:
                return FileOutcome(
                    path, reader, "skipped", notes=[same], seconds=time.perf_counter() - started
                )
        record = db.LoadRecord(
            table_name=stored,
            file_name=path.name,
            file_path=str(path.resolve()),
            file_hash=digest,
            file_bytes=path.stat().st_size,
            rows_read=frame.height,
            warnings="; ".join(notes) or None,
            reader=reader,
        )
        load_id = writer.store(
            record, stored, frame, replace_keys=reader == ods.READER, started=started
        )
    except FileRejected as rejected:
        return FileOutcome(
            path,
            reader,
            "rejected",
            problems=rejected.problems,
            total_problems=rejected.total,
            seconds=time.perf_counter() - started,
        )
    return FileOutcome(
        path,
        reader,
        "loaded",
        rows_read=frame.height,
        rows_stored=frame.height,
        load_id=load_id,
        notes=notes,
        seconds=time.perf_counter() - started,
    )


def _held_months(writer: db.Writer, path: Path, frame: pl.DataFrame) -> str | None:
    """None if no month of `frame` is loaded; a skip note if every month is, with the same
    figures; FileRejected if any loaded month's figures differ, or only some are loaded."""
    months = frame["month"].unique().sort().to_list()
    held = writer.query(
        "SELECT d.month, d.load_id, l.file_name FROM dm01_monthly d JOIN load_log l "
        "USING (load_id) WHERE d.month IN (SELECT unnest(?::DATE[])) "
        "GROUP BY ALL ORDER BY d.month",
        [months],
    )
    if held.is_empty():
        return None
    cols = ", ".join(_COMPARE)
    stored = writer.query(
        f"SELECT {cols} FROM dm01_monthly WHERE month IN (SELECT unnest(?::DATE[])) "
        "ORDER BY month, org_code, test",
        [months],
    )
    incoming = frame.select(_COMPARE).sort("month", "org_code", "test")
    where = ", ".join(f"{m:%B %Y} by load {lid} ({name})" for m, lid, name in held.iter_rows())
    if held["month"].n_unique() == len(months) and stored.equals(
        incoming.cast(stored.schema)  # type: ignore[arg-type]
    ):
        return f"the same figures are already loaded: {where}; nothing changed"
    raise FileRejected(
        [
            Problem(
                str(path),
                None,
                None,
                f"already loaded with different figures or from another file: {where}. "
                "A published month is loaded once; retract that load first to replace it",
            )
        ]
    )
