"""What is loaded: filter options, the period covered, the load log, data quality, templates.

Everything here reads small tables (reference tables, the load log, capacity weeks) and never
the event-level activity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import polars as pl

from capwatch.db import Database
from pipelines.contract import INPUT_TABLES, SERVICE_LINES, template_csv

# A load counts as the synthetic set when every file came from a folder whose name starts with
# "synthetic" (`capwatch demo` writes to data/synthetic/; tests use synthetic*/ temp folders).
_SYNTHETIC_FOLDER = re.compile(r"(^|/)synthetic[^/]*/", re.IGNORECASE)


@dataclass(frozen=True)
class FilterOptions:
    """Every value the shared filters may take, as loaded."""

    weeks: tuple[date, ...]
    regions: tuple[str, ...]
    groups: tuple[str, ...]
    providers: tuple[str, ...]
    provider_names: dict[str, str]
    service_lines: tuple[str, ...]

    @property
    def is_empty(self) -> bool:
        return not self.weeks


def filter_options(db: Database) -> FilterOptions:
    """Weeks with capacity, and the regions, groups, providers and lines that exist."""
    weeks = db.query("SELECT DISTINCT week_start FROM capacity ORDER BY week_start")
    providers = db.query(
        'SELECT provider_code, provider_name, "group" FROM providers ORDER BY provider_code'
    )
    regions = db.query(
        "SELECT region FROM sites UNION SELECT region FROM providers ORDER BY region"
    )
    loaded_lines = set(
        db.query("SELECT DISTINCT service_line FROM capacity")["service_line"].to_list()
    )
    lines = [s for s in SERVICE_LINES if s in loaded_lines]
    lines += sorted(loaded_lines - set(lines))
    return FilterOptions(
        weeks=tuple(weeks["week_start"].to_list()),
        regions=tuple(regions["region"].to_list()),
        groups=tuple(sorted(set(providers["group"].to_list()))),
        providers=tuple(providers["provider_code"].to_list()),
        provider_names=dict(
            zip(
                providers["provider_code"].to_list(),
                providers["provider_name"].to_list(),
                strict=True,
            )
        ),
        service_lines=tuple(lines),
    )


def load_log(db: Database) -> pl.DataFrame:
    """Every loaded file, newest first."""
    return db.query(
        "SELECT load_id, table_name, file_name, file_path, rows_read, rows_stored, file_bytes, "
        "file_hash, warnings, loaded_at, duration_ms FROM load_log ORDER BY load_id DESC"
    )


def is_synthetic(db: Database) -> bool:
    """True when every loaded file came from a `synthetic…` folder (see `_SYNTHETIC_FOLDER`)."""
    paths = db.query("SELECT file_path FROM load_log")["file_path"].to_list()
    return bool(paths) and all(_SYNTHETIC_FOLDER.search(p.replace("\\", "/")) for p in paths)


@dataclass(frozen=True)
class Coverage:
    """The period and volume of what is loaded."""

    first_week: date | None
    last_week: date | None
    weeks: int
    providers: int
    sites: int
    contracts: int
    capacity_rows: int
    activity_days: int


def coverage(db: Database) -> Coverage:
    """Weeks covered and row counts (activity counted per stored day row)."""
    row = db.query(
        "SELECT (SELECT min(week_start) FROM capacity) AS first_week, "
        "(SELECT max(week_start) FROM capacity) AS last_week, "
        "(SELECT count(DISTINCT week_start) FROM capacity) AS weeks, "
        "(SELECT count(*) FROM providers) AS providers, "
        "(SELECT count(*) FROM sites) AS sites, "
        "(SELECT count(*) FROM contracts) AS contracts, "
        "(SELECT count(*) FROM capacity) AS capacity_rows, "
        "(SELECT count(*) FROM activity_daily) AS activity_days"
    ).row(0, named=True)
    return Coverage(**row)


def data_quality_summary(db: Database) -> pl.DataFrame:
    """Findings of the `data_quality` view counted by check."""
    return db.query(
        "SELECT check_name, count(*) AS findings, count(DISTINCT provider_code) AS providers, "
        "min(week_start) AS first_week, max(week_start) AS last_week "
        "FROM data_quality GROUP BY check_name ORDER BY findings DESC"
    )


def data_quality_findings(db: Database, limit: int = 1000) -> pl.DataFrame:
    """The first `limit` findings, most recent week first."""
    return db.query(
        "SELECT check_name, week_start, provider_code, site_code, service_line, detail "
        "FROM data_quality ORDER BY check_name, week_start DESC NULLS LAST, provider_code, "
        "site_code LIMIT ?",
        [limit],
    )


def templates() -> pl.DataFrame:
    """One row per input table: name, what it holds, and its CSV template text."""
    return pl.DataFrame(
        {
            "table_name": [t.name for t in INPUT_TABLES],
            "layer": [t.layer for t in INPUT_TABLES],
            "description": [t.description for t in INPUT_TABLES],
            "columns": [", ".join(c.name for c in t.columns) for t in INPUT_TABLES],
            "required": [", ".join(t.required) for t in INPUT_TABLES],
            "template_csv": [template_csv(t) for t in INPUT_TABLES],
        }
    )
