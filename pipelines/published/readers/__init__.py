"""The published readers' registry: every module in this package that defines `READER`.

Adding a reader is one new module here (a `PublishedReader` named like the file) and its
tests, plus its table's migration if the table is new. Discovery (`recognise`), the loader
(`capwatch.load_published`), the load order and the docs follow this registry.

A published file's name does not name a table, so discovery (`pipelines.read.discover`)
asks `recognise` about any file whose name names no contract table.
"""

from __future__ import annotations

from pathlib import Path

from capwatch import registry
from capwatch.contract import InputTable
from pipelines.published.reader import PublishedReader


def discover(package: str) -> tuple[PublishedReader, ...]:
    """The `READER` of every module of `package`, in order (see `capwatch.registry`)."""
    found = registry.discover(package, "READER", PublishedReader)
    return tuple(sorted(found, key=lambda r: (r.order, r.name)))


REGISTRY: list[PublishedReader] = list(discover(__name__))


def readers() -> tuple[PublishedReader, ...]:
    """Every registered reader, in order (a test may register one for its duration)."""
    return tuple(sorted(REGISTRY, key=lambda r: (r.order, r.name)))


def reader(name: str) -> PublishedReader:
    """A reader by name; KeyError if none is registered under it."""
    for r in REGISTRY:
        if r.name == name:
            return r
    raise KeyError(name)


def order() -> tuple[str, ...]:
    """Readers' names in load order (after the contract tables)."""
    return tuple(r.name for r in readers())


def as_table(r: PublishedReader) -> InputTable:
    """How discovery carries a reader beside the contract tables: its name, no columns."""
    return InputTable(r.name, r.layer, r.description, ())


def is_published(table: InputTable) -> bool:
    """True for a file recognised by a published reader (it has no contract columns)."""
    return table.columns == () and any(r.name == table.name for r in REGISTRY)


def recognise(path: Path) -> InputTable | None:
    """The published reader that takes this file, judged by its content; None if none does."""
    for r in readers():
        if r.recognise(path):
            return as_table(r)
    return None
