"""The input contract: which tables a data manager may send, their columns, and what each means.

The README's input section and the templates in `data/templates/` are generated from this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

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

Kind = Literal[
    "provider_code",
    "site_code",
    "identifier",
    "text",
    "region",
    "service_line",
    "activity_type",
    "funding",
    "date",
    "monday",
    "units",
    "money",
    "latitude",
    "longitude",
]


@dataclass(frozen=True)
class InputColumn:
    """One column of an input table."""

    name: str
    kind: Kind
    required: bool
    description: str
    example: str
    aliases: tuple[str, ...] = ()


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


def header_key(header: str) -> str:
    """Headers match case-insensitively, ignoring spaces, hyphens and underscores (and a BOM)."""
    return re.sub(r"[\s\-_\ufeff]+", "", header).lower()


_SITE = InputColumn("site_code", "site_code", True, "Five-character site code.", "NX101")
_LINE = InputColumn(
    "service_line",
    "service_line",
    True,
    "diagnostics, day_case, chemotherapy or outpatients ('Day case' reads as day_case).",
    "diagnostics",
)

INPUT_TABLES: tuple[InputTable, ...] = (
    InputTable(
        "providers",
        "reference",
        "One row per provider. A later file replaces a provider's row.",
        (
            InputColumn("provider_code", "provider_code", True, "Provider code.", "NX1"),
            InputColumn("provider_name", "text", True, "Provider name.", "Example Health"),
            InputColumn("group", "text", True, "Parent company.", "Example Group", ("group_name",)),
            InputColumn(
                "region", "region", True, "One of the seven NHS England regions.", "London"
            ),
        ),
        key=("provider_code",),
    ),
    InputTable(
        "sites",
        "reference",
        "One row per site. Every site's provider must be known.",
        (
            _SITE,
            InputColumn(
                "provider_code", "provider_code", True, "Provider running the site.", "NX1"
            ),
            InputColumn("site_name", "text", True, "Site name.", "Example Hospital"),
            InputColumn("region", "region", True, "NHS England region of the site.", "London"),
            InputColumn("latitude", "latitude", False, "Latitude, decimal degrees.", "51.5072"),
            InputColumn("longitude", "longitude", False, "Longitude, decimal degrees.", "-0.1276"),
        ),
        key=("site_code",),
    ),
    InputTable(
        "contracts",
        "reference",
        "One row per contract. Every contract's provider must be known.",
        (
            InputColumn("contract_id", "identifier", True, "Contract identifier.", "C-2020-NX1"),
            InputColumn("provider_code", "provider_code", True, "Provider holding it.", "NX1"),
            InputColumn("start_date", "date", True, "First day covered.", "2020-06-01"),
            InputColumn("end_date", "date", True, "Last day covered.", "30/09/2020"),
            InputColumn("monthly_value_gbp", "money", True, "Value per month, £.", "£9,500,000"),
            InputColumn("status", "text", False, "e.g. active or removed.", "active"),
            InputColumn("removed_date", "date", False, "Day taken off the contract.", ""),
            InputColumn("removal_reason", "text", False, "Why it was taken off.", ""),
        ),
        key=("contract_id",),
    ),
    InputTable(
        "unit_prices",
        "reference",
        "Reference price per unit; an empty activity_type is the service line's default price.",
        (
            _LINE,
            InputColumn(
                "activity_type",
                "activity_type",
                False,
                "Activity type as written, or empty (matched ignoring case, spaces, punctuation).",
                "mri",
            ),
            InputColumn("unit_price_gbp", "money", True, "Price of one unit, £.", "140"),
        ),
        key=("service_line", "activity_type"),
    ),
    InputTable(
        "capacity",
        "fact",
        "Units made available to the NHS per site, service line and week.",
        (
            _SITE,
            _LINE,
            InputColumn(
                "activity_type",
                "activity_type",
                False,
                "Activity type as written, if named (matched ignoring case, spaces, punctuation).",
                "mri",
            ),
            InputColumn("week_start", "monday", True, "Monday of the week.", "2020-06-01"),
            InputColumn(
                "capacity_units", "units", True, "Units made available (whole, ≥ 0).", "120"
            ),
        ),
        key=("site_code", "service_line", "activity_type", "week_start"),
    ),
    InputTable(
        "activity",
        "fact",
        "Units delivered: one row per test, episode, attendance or appointment (or use units).",
        (
            _SITE,
            _LINE,
            InputColumn(
                "activity_type",
                "activity_type",
                False,
                "Activity type as you write it (matched ignoring case, spaces and punctuation).",
                "mri",
            ),
            InputColumn("activity_date", "date", True, "Day delivered.", "02/06/2020", ("date",)),
            InputColumn("funding", "funding", True, "nhs or private.", "nhs"),
            InputColumn("units", "units", False, "Units in the row (default 1).", "1"),
        ),
    ),
    InputTable(
        "demand",
        "fact",
        "NHS demand beside the contract, per region, service line (and activity type where "
        "known) and week: patients waiting and referrals offered to the independent sector.",
        (
            InputColumn(
                "region",
                "region",
                True,
                "One of the seven NHS England regions, as providers and sites spell them.",
                "London",
            ),
            _LINE,
            InputColumn(
                "activity_type",
                "activity_type",
                False,
                "Activity type as written, or empty for the whole line (matched as in capacity).",
                "mri",
            ),
            InputColumn("week_start", "monday", True, "Monday of the week.", "2020-06-01"),
            InputColumn(
                "patients_waiting",
                "units",
                True,
                "NHS patients waiting in the region and line at the week's start (whole, ≥ 0).",
                "5400",
            ),
            InputColumn(
                "referrals_offered",
                "units",
                True,
                "Referrals offered to the independent sector that week (whole, ≥ 0).",
                "310",
            ),
        ),
        key=("region", "service_line", "activity_type", "week_start"),
    ),
)

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
