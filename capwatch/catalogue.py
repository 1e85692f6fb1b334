"""The catalogue of input tables: one declaration per table, read by everything else.

A declaration holds what a data manager sends (columns, their kinds, descriptions and
examples), how the rows are stored (the stored table, its key, the key a resubmission replaces
by, the tables it points at) and the checks the loader runs on a whole file. The input
contract (`capwatch.contract`), the data dictionary (`capwatch.schema`), the loader, the load
history, the docs and the templates are all built from `TABLES`; the migrations are checked
against it (`tests/test_migrations.py`). Adding an input table: see docs/development.md.
Nothing here imports Polars or DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
    "people",
    "money",
    "latitude",
    "longitude",
]

# The DuckDB type a value of each kind is stored as.
STORED_TYPE: dict[str, str] = {
    "provider_code": "VARCHAR",
    "site_code": "VARCHAR",
    "identifier": "VARCHAR",
    "text": "VARCHAR",
    "region": "VARCHAR",
    "service_line": "VARCHAR",
    "activity_type": "VARCHAR",
    "funding": "VARCHAR",
    "date": "DATE",
    "monday": "DATE",
    "units": "BIGINT",
    "people": "BIGINT",
    "money": "DOUBLE",
    "latitude": "DOUBLE",
    "longitude": "DOUBLE",
}

# Whole-file checks the loader knows (`capwatch.load`), by the name a declaration gives:
# `overlap`: a key already loaded from another file is refused unless `ingest --replace`;
# `contract_dates`: a contract's term must make sense (start ≤ end, removal inside it).
Check = Literal["overlap", "contract_dates"]


@dataclass(frozen=True)
class Column:
    """One stored column: name, DuckDB type and what it means."""

    name: str
    type: str
    description: str
    not_null: bool = False


@dataclass(frozen=True)
class InputColumn:
    """One column of an input table, as sent and as stored (`STORED_TYPE[kind]`).

    `description` says what the column holds for the data dictionary, `help` what to write in
    it for the input contract, where that needs more words."""

    name: str
    kind: Kind
    required: bool
    description: str
    example: str
    aliases: tuple[str, ...] = ()
    help: str = ""
    default: int | None = None  # what an empty or missing value reads as (then never empty)

    @property
    def guidance(self) -> str:
        """What the input contract says about the column."""
        return self.help or self.description

    def stored(self) -> Column:
        not_null = self.required or self.default is not None or self.kind == "activity_type"
        return Column(self.name, STORED_TYPE[self.kind], self.description, not_null)


@dataclass(frozen=True)
class Reference:
    """A column whose every value must name a stored row of another input table."""

    column: str
    table: str  # the input table it points at
    what: str  # what a value names, in a message ("site")


@dataclass(frozen=True)
class Table:
    """One input table: its file, its stored rows and their rules."""

    name: str
    layer: Literal["reference", "fact"]
    grain: str  # of the stored table: "one row per site"
    description: str  # what the stored rows are (data dictionary)
    file_rules: str  # what a file of it holds (input contract)
    columns: tuple[InputColumn, ...]
    key: tuple[str, ...] = ()  # unique within a file, and the stored primary key
    stored_as: str = ""  # stored table, if not `name`
    replace_key: tuple[str, ...] = ()  # what a newer load replaces by, if not `key`
    references: tuple[Reference, ...] = ()
    checks: tuple[Check, ...] = ()
    stored_only: tuple[Column, ...] = ()  # stored columns no file sends, before load_id
    summed_to_day: bool = False  # event rows, summed to the day as they load

    @property
    def stored(self) -> str:
        return self.stored_as or self.name

    @property
    def replaced_by(self) -> tuple[str, ...]:
        return self.replace_key or self.key

    def stored_columns(self) -> tuple[Column, ...]:
        """The stored table's columns: each input column (an activity type followed by the
        label as written), the stored-only columns, then the load that wrote the row."""
        out: list[Column] = []
        for c in self.columns:
            out.append(c.stored())
            if c.kind == "activity_type":
                out.append(ACTIVITY_LABEL)
        return (*out, *self.stored_only, LOAD_ID)


LOAD_ID = Column("load_id", "INTEGER", "The load that wrote this row (see `load_log`).", True)
ACTIVITY_LABEL = Column(
    "activity_label",
    "VARCHAR",
    "Activity type as the file wrote it (trimmed), for display; '' where none.",
    True,
)

_SITE = InputColumn(
    "site_code", "site_code", True, "Five-character site code, e.g. NX101.", "NX101"
)
_LINE = InputColumn(
    "service_line",
    "service_line",
    True,
    "diagnostics, day_case, chemotherapy or outpatients.",
    "diagnostics",
    help="diagnostics, day_case, chemotherapy or outpatients ('Day case' reads as day_case).",
)
_WEEK = InputColumn("week_start", "monday", True, "Monday of the week.", "2020-06-01")
_TO_SITE = Reference("site_code", "sites", "site")
_TO_PROVIDER = Reference("provider_code", "providers", "provider")


def _activity_type(help_: str) -> InputColumn:
    return InputColumn(
        "activity_type",
        "activity_type",
        False,
        "Activity type key (see `activity_types`), or '' where the file gave none.",
        "mri",
        help=help_,
    )


TABLES: tuple[Table, ...] = (
    Table(
        "providers",
        "reference",
        "one row per provider",
        "Independent-sector organisations holding a contract.",
        "One row per provider. A later file replaces a provider's row.",
        (
            InputColumn(
                "provider_code",
                "provider_code",
                True,
                "ODS-style provider code, e.g. NX1.",
                "NX1",
            ),
            InputColumn("provider_name", "text", True, "Provider name.", "Example Health"),
            InputColumn(
                "group",
                "text",
                True,
                "Parent company; several providers may share one.",
                "Example Group",
                ("group_name",),
            ),
            InputColumn(
                "region", "region", True, "One of the seven NHS England regions.", "London"
            ),
        ),
        key=("provider_code",),
    ),
    Table(
        "sites",
        "reference",
        "one row per site",
        "Hospitals and clinics of each provider.",
        "One row per site.",
        (
            _SITE,
            InputColumn(
                "provider_code", "provider_code", True, "Provider that runs the site.", "NX1"
            ),
            InputColumn("site_name", "text", True, "Site name.", "Example Hospital"),
            InputColumn("region", "region", True, "NHS England region of the site.", "London"),
            InputColumn(
                "latitude", "latitude", False, "Latitude, decimal degrees (optional).", "51.5072"
            ),
            InputColumn(
                "longitude",
                "longitude",
                False,
                "Longitude, decimal degrees (optional).",
                "-0.1276",
            ),
        ),
        key=("site_code",),
        references=(_TO_PROVIDER,),
    ),
    Table(
        "contracts",
        "reference",
        "one row per contract",
        "Contracts between the NHS and a provider, with their monthly value.",
        "One row per contract.",
        (
            InputColumn("contract_id", "identifier", True, "Contract identifier.", "C-2020-NX1"),
            InputColumn(
                "provider_code", "provider_code", True, "Provider holding the contract.", "NX1"
            ),
            InputColumn("start_date", "date", True, "First day covered.", "2020-06-01"),
            InputColumn("end_date", "date", True, "Last day covered.", "30/09/2020"),
            InputColumn(
                "monthly_value_gbp", "money", True, "Contract value per month, £.", "£9,500,000"
            ),
            InputColumn(
                "status", "text", False, "Contract status, e.g. active or removed.", "active"
            ),
            InputColumn(
                "removed_date", "date", False, "Day the provider was taken off the contract.", ""
            ),
            InputColumn("removal_reason", "text", False, "Why the provider was taken off.", ""),
        ),
        key=("contract_id",),
        references=(_TO_PROVIDER,),
        checks=("contract_dates",),
    ),
    Table(
        "unit_prices",
        "reference",
        "one row per service line × activity type",
        "Illustrative reference price of one unit; activity_type '' is the line's default price.",
        "Reference price per unit; an empty activity_type is the service line's default price.",
        (
            _LINE,
            _activity_type(
                "Activity type as written, or empty (matched ignoring case, spaces, punctuation)."
            ),
            InputColumn("unit_price_gbp", "money", True, "Price of one unit, £.", "140"),
        ),
        key=("service_line", "activity_type"),
    ),
    Table(
        "capacity",
        "fact",
        "one row per week × site × service line × activity type",
        "Units contracted / made available to the NHS. activity_type '' means the whole line.",
        "Units made available to the NHS per site, service line and week.",
        (
            _SITE,
            _LINE,
            _activity_type(
                "Activity type as written, if named (matched ignoring case, spaces, punctuation)."
            ),
            _WEEK,
            InputColumn(
                "capacity_units",
                "units",
                True,
                "Units of capacity made available (whole, ≥ 0).",
                "120",
            ),
        ),
        key=("site_code", "service_line", "activity_type", "week_start"),
        references=(_TO_SITE,),
        checks=("overlap",),
    ),
    Table(
        "activity",
        "fact",
        "one row per load × day × site × service line × activity type label × funding",
        "Units delivered, summed from event-level returns to the day at load time.",
        "Units delivered: one row per test, episode, attendance or appointment (or use units).",
        (
            _SITE,
            _LINE,
            _activity_type(
                "Activity type as you write it (matched ignoring case, spaces and punctuation)."
            ),
            InputColumn(
                "activity_date",
                "date",
                True,
                "Day the activity was delivered.",
                "02/06/2020",
                ("date",),
            ),
            InputColumn("funding", "funding", True, "nhs or private.", "nhs"),
            InputColumn(
                "units", "units", False, "Units delivered (default 1 a row).", "1", default=1
            ),
        ),
        stored_as="activity_daily",
        # A resubmission replaces every earlier row for the site, service line and day.
        replace_key=("site_code", "service_line", "activity_date"),
        references=(_TO_SITE,),
        checks=("overlap",),
        stored_only=(
            Column(
                "source_rows", "BIGINT", "Event rows in the source file summed into this row.", True
            ),
        ),
        summed_to_day=True,
    ),
    Table(
        "demand",
        "fact",
        "one row per week × region × service line × activity type",
        "NHS demand beside the contract: patients waiting and referrals offered to the "
        "independent sector, per region and service line (activity_type '' means the whole "
        "line). It tells a capacity that sat unused because the NHS referred little (route "
        "work to it) from a provider that could not deliver. Published DM01 waiting lists "
        "(`dm01_monthly`) are its real-world twin at region × test × month.",
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
            _activity_type(
                "Activity type as written, or empty for the whole line (matched as in capacity)."
            ),
            _WEEK,
            InputColumn(
                "patients_waiting",
                "people",
                True,
                "NHS patients waiting in the region and line at the week's start (whole, ≥ 0).",
                "5400",
            ),
            InputColumn(
                "referrals_offered",
                "units",
                True,
                "Referrals offered to the independent sector in the week (whole, ≥ 0).",
                "310",
            ),
        ),
        key=("region", "service_line", "activity_type", "week_start"),
        checks=("overlap",),
    ),
)


def table(name: str) -> Table:
    """The declaration of an input table, by name."""
    for t in TABLES:
        if t.name == name:
            return t
    raise KeyError(f"{name!r} is not an input table of the catalogue")
