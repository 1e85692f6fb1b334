"""The published readers and which one takes a file, judged by the file's content.

A published file's name does not name a table, so discovery (`capwatch.pipelines.read.discover`)
asks `recognise` about any file whose name names no contract table.
"""

from __future__ import annotations

from pathlib import Path

from capwatch.contract import InputTable
from capwatch.pipelines import answer_key
from capwatch.pipelines.published import dm01, extract, ods
from capwatch.pipelines.published.workbook import SUFFIXES, looks_like_workbook

# Readers as tables for discovery and the load report; the name is the load log's `reader`.
READERS: dict[str, InputTable] = {
    r: InputTable(r, "reference" if r in (ods.READER, answer_key.READER) else "fact", what, ())
    for r, what in (
        (ods.READER, "ODS independent-sector organisations (ephp)"),
        (dm01.READER, "DM01 Monthly Diagnostics Web File – Provider"),
        (extract.READER, "capwatch's extract of published DM01 months"),
        (answer_key.READER, "the synthetic world's answer key (answer_key.csv)"),
    )
}
ORDER = tuple(READERS)
STORED = {
    ods.READER: ods.TABLE,
    dm01.READER: dm01.TABLE,
    extract.READER: dm01.TABLE,
    answer_key.READER: answer_key.TABLE,
}


def is_published(table: InputTable) -> bool:
    """True for a published reader (it has no contract columns)."""
    return table.name in READERS and table.columns == ()


def recognise(path: Path) -> InputTable | None:
    """The published reader that takes this file, judged by its content; None if none does."""
    if answer_key.recognise(path):  # written by `capwatch generate`, known by its name
        return READERS[answer_key.READER]
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
