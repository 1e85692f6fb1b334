"""What every published reader is made of (one `PublishedReader` per module of
`pipelines.published.readers`), and the workbook test two of them share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl

from pipelines.published.workbook import SUFFIXES, looks_like_workbook

# How a reader's second file lands on what is held: `replace` swaps the rows with the same
# key (a list republished whole); `month` keeps each month once: the same figures are
# skipped, different ones refused unless `--replace`, which archives the old rows.
Reload = Literal["replace", "month"]

# The codes a reader checks its file against, as the database holds them when the file loads:
# {"providers.provider_code": {"NP1", ...}}, one entry for each of the reader's `known`.
Known = Mapping[str, set[str]]


@dataclass(frozen=True)
class PublishedRead:
    """A published file read and checked: the rows to store and notes for the load log."""

    frame: pl.DataFrame
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PublishedReader:
    """One reader of published data: its name (the load log's `reader`), the table it stores
    into, how it knows its files by their content, how it reads one (raising `FileRejected`
    with every problem) and how a reload is treated. `order` is the load order among
    readers and the order they are asked to recognise a file. `known` names the columns
    (`table.column`) whose codes `read` is given, to refuse a row naming an unknown one."""

    name: str
    table: str
    layer: Literal["reference", "fact"]
    description: str
    recognise: Callable[[Path], bool]
    read: Callable[[Path, Known], PublishedRead]
    reload: Reload
    order: int = 100
    known: tuple[str, ...] = ()


def is_workbook(path: Path) -> bool:
    """An `.xls`/`.xlsx` file whose first bytes are a workbook's."""
    return path.suffix.lower() in SUFFIXES and path.is_file() and looks_like_workbook(path)
