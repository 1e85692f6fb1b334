"""The input contract: which tables a data manager may send, their columns, and what each means.

Built from the catalogue (`capwatch.catalogue`); the input contract in docs/ and the templates
in `data/templates/` are generated from this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from capwatch import catalogue
from capwatch.catalogue import InputColumn as InputColumn
from capwatch.catalogue import Kind as Kind

SERVICE_LINES = ("diagnostics", "day_case", "chemotherapy", "outpatients")
FUNDING = ("nhs", "private")
REGIONS = (
    "London",
    "South East",
    "South West",
    "East of England",
    "Midlands",
    "North East and Yorkshire",
    "North West",
)


@dataclass(frozen=True)
class InputTable:
    """One input table. `key` columns must be unique within a file (and, for facts, a load)."""

    name: str
    layer: Literal["reference", "fact"]
    description: str
    columns: tuple[InputColumn, ...]
    key: tuple[str, ...] = ()

    def column(self, name: str) -> InputColumn:
        return next(c for c in self.columns if c.name == name)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def declaration(self) -> catalogue.Table:
        """The catalogue's declaration of the table (not for a published reader)."""
        return catalogue.table(self.name)


def header_key(header: str) -> str:
    """Headers match case-insensitively, ignoring spaces, hyphens and underscores (and a BOM)."""
    return re.sub(r"[\s\-_\ufeff]+", "", header).lower()


def _input_table(table: catalogue.Table) -> InputTable:
    return InputTable(table.name, table.layer, table.file_rules, table.columns, table.key)


INPUT_TABLES: tuple[InputTable, ...] = tuple(_input_table(t) for t in catalogue.TABLES)

LOAD_ORDER = tuple(t.name for t in INPUT_TABLES)


def input_table(name: str) -> InputTable:
    return next(t for t in INPUT_TABLES if t.name == name)


def table_for_file(file_name: str) -> InputTable | None:
    """The table a file feeds, from the start of its name (`activity_2020-06.csv` → activity)."""
    stem = file_name.lower()
    for table in sorted(INPUT_TABLES, key=lambda t: -len(t.name)):
        if stem.startswith(table.name) and (
            len(stem) == len(table.name) or not stem[len(table.name)].isalpha()
        ):
            return table
    return None


def template_csv(table: InputTable) -> str:
    """A CSV template: the header and one example row."""
    header = ",".join(c.name for c in table.columns)
    example = ",".join(_csv_cell(c.example) for c in table.columns)
    return f"{header}\n{example}\n"


def _csv_cell(value: str) -> str:
    return f'"{value}"' if "," in value else value
