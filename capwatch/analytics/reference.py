"""What is loaded: filter options, the period covered, the load log, data quality, templates.

Everything here reads small tables (reference tables, the load log, capacity weeks) and never
the event-level activity (the coverage count of stored day rows apart). Functions that take
`Filters` apply only their access scope (`scope_regions`): they describe what is loaded, not a
view of it. Sites, capacity and activity are scoped by the site's region, a provider by
`utilisation.provider_scope`, contracts by their provider's own region.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl

from capwatch.analytics.filters import Filters
from capwatch.analytics.utilisation import provider_scope
from capwatch.contract import INPUT_TABLES, SERVICE_LINES, template_csv
from capwatch.db import Database
from pipelines.problems import REJECTED_PROBLEM_COLUMNS

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


def _scope(filters: Filters | None) -> Filters:
    """Only the access scope of `filters` (None: everything)."""
    return Filters(scope_regions=None if filters is None else filters.scope_regions)


def _site_scope(filters: Filters | None, region: str = "s.region") -> tuple[str, list[Any]]:
    return _scope(filters).where(region=region, group=None, provider=None, service_line=None)


def filter_options(db: Database, filters: Filters | None = None) -> FilterOptions:
    """Weeks with capacity, and the regions, groups, providers and lines that exist, as far as
    the access scope of `filters` may see (None: everything; other filters do not apply)."""
    sites, site_params = _site_scope(filters)
    providers_seen, provider_params = provider_scope(_scope(filters))
    weeks = db.query(
        "SELECT DISTINCT c.week_start FROM capacity c JOIN sites s USING (site_code) "
        f"WHERE {sites} ORDER BY c.week_start",
        site_params,
    )
    providers = db.query(
        'SELECT provider_code, provider_name, "group" FROM providers p '
        f"WHERE {providers_seen} ORDER BY provider_code",
        provider_params,
    )
    in_scope, region_params = _site_scope(filters, "region")
    regions = db.query(
        "SELECT region FROM (SELECT region FROM sites UNION SELECT region FROM providers) "
        f"WHERE {in_scope} ORDER BY region",
        region_params,
    )
    loaded_lines = set(
        db.query(
            "SELECT DISTINCT c.service_line FROM capacity c JOIN sites s USING (site_code) "
            f"WHERE {sites}",
            site_params,
        )["service_line"].to_list()
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
    """Every loaded file, newest first, with what became of it: rows still live, status
    (current, partly superseded, superseded, retracted), the loads it replaced and those that
    replaced it, and when it was retracted."""
    return db.query(
        "SELECT l.load_id, l.table_name, l.reader, l.file_name, h.status, l.rows_read, "
        "l.rows_stored, h.rows_live, h.replaces, h.superseded_by, h.retracted_at, "
        "h.retraction_note, l.file_path, l.file_bytes, l.file_hash, l.warnings, l.loaded_at, "
        "l.duration_ms FROM load_log l JOIN load_history h USING (load_id) ORDER BY l.load_id DESC"
    )


def rejected_files(db: Database) -> pl.DataFrame:
    """Every file a load rejected, newest first (nothing of it was stored)."""
    return db.query(
        "SELECT rejection_id, rejected_at, file_name, table_name, problem_count, file_path, "
        "file_bytes, file_hash FROM rejected_files ORDER BY rejection_id DESC"
    )


def rejected_file_problems(db: Database) -> pl.DataFrame:
    """The problems listed for each rejected file, by row and column, newest file first."""
    columns = ", ".join(
        f"f.{c}" if c == "file_name" else f"p.{c}" for c in REJECTED_PROBLEM_COLUMNS
    )  # the columns `capwatch ingest --problems` writes for every problem
    return db.query(
        f"SELECT {columns} FROM rejected_file_problems p JOIN rejected_files f "
        "USING (rejection_id) ORDER BY p.rejection_id DESC, p.problem_no"
    )


def load_history(db: Database) -> pl.DataFrame:
    """The `load_history` view, oldest load first."""
    return db.query("SELECT * FROM load_history ORDER BY load_id")


def is_synthetic(db: Database) -> bool:
    """True when every loaded contract file came from a `synthetic…` folder (see
    `_SYNTHETIC_FOLDER`). Published files (DM01, ODS) are real whatever folder they are in, and
    do not count here: the demo loads real published data beside synthetic contract data."""
    paths = db.query("SELECT file_path FROM load_log WHERE reader = 'contract'")[
        "file_path"
    ].to_list()
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


def last_loaded(db: Database) -> datetime | None:
    """When the last file was loaded (UTC), None if nothing is loaded."""
    loaded: datetime | None = db.scalar("SELECT max(loaded_at) FROM load_log")
    return loaded


def coverage(db: Database, filters: Filters | None = None) -> Coverage:
    """Weeks covered and row counts (activity counted per stored day row) within the access
    scope of `filters`: sites, capacity and activity by the site's region, providers that may
    be seen (`provider_scope`), contracts by their provider's own region."""
    sites, site_params = _site_scope(filters)
    seen, seen_params = provider_scope(_scope(filters))
    contracts, contract_params = _site_scope(filters, "p.region")
    row = db.query(
        "SELECT (SELECT min(c.week_start) FROM capacity c JOIN sites s USING (site_code) "
        f"         WHERE {sites}) AS first_week, "
        "(SELECT max(c.week_start) FROM capacity c JOIN sites s USING (site_code) "
        f"  WHERE {sites}) AS last_week, "
        "(SELECT count(DISTINCT c.week_start) FROM capacity c JOIN sites s USING (site_code) "
        f"  WHERE {sites}) AS weeks, "
        f"(SELECT count(*) FROM providers p WHERE {seen}) AS providers, "
        f"(SELECT count(*) FROM sites s WHERE {sites}) AS sites, "
        "(SELECT count(*) FROM contracts c JOIN providers p USING (provider_code) "
        f"  WHERE {contracts}) AS contracts, "
        "(SELECT count(*) FROM capacity c JOIN sites s USING (site_code) "
        f"  WHERE {sites}) AS capacity_rows, "
        "(SELECT count(*) FROM activity_daily a JOIN sites s USING (site_code) "
        f"  WHERE {sites}) AS activity_days",
        [*site_params * 3, *seen_params, *site_params, *contract_params, *site_params * 2],
    ).row(0, named=True)
    return Coverage(**row)


def _quality_scope(filters: Filters | None) -> tuple[str, list[Any]]:
    """Findings at a site by the site's region; a provider's own findings (no site) by whether
    the provider may be seen."""
    sites, site_params = _site_scope(filters)
    seen, seen_params = provider_scope(_scope(filters))
    return (
        f"((q.site_code IS NOT NULL AND {sites}) OR (q.site_code IS NULL AND {seen}))",
        [*site_params, *seen_params],
    )


_QUALITY = (
    "FROM data_quality q LEFT JOIN sites s ON s.site_code = q.site_code "
    "LEFT JOIN providers p ON p.provider_code = q.provider_code"
)


def data_quality_summary(db: Database, filters: Filters | None = None) -> pl.DataFrame:
    """Findings of the `data_quality` view within the access scope, counted by check."""
    where, params = _quality_scope(filters)
    return db.query(
        "SELECT q.check_name, count(*) AS findings, "
        "count(DISTINCT q.provider_code) AS providers, "
        f"min(q.week_start) AS first_week, max(q.week_start) AS last_week {_QUALITY} "
        f"WHERE {where} GROUP BY q.check_name ORDER BY findings DESC, q.check_name",
        params,
    )


def data_quality_findings(
    db: Database, filters: Filters | None = None, limit: int = 1000
) -> pl.DataFrame:
    """The first `limit` findings within the access scope, most recent week first."""
    where, params = _quality_scope(filters)
    return db.query(
        "SELECT q.check_name, q.week_start, q.provider_code, q.site_code, q.service_line, "
        f"q.detail {_QUALITY} WHERE {where} "
        "ORDER BY q.check_name, q.week_start DESC NULLS LAST, q.provider_code, q.site_code "
        "LIMIT ?",
        [*params, limit],
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
