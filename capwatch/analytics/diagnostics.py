"""Published DM01 diagnostics: activity against the same month a year earlier, waiting lists
beside independent-sector activity, and an organisation's DM01 figures for its provider profile.

Everything reads the documented views `diagnostics_monthly` and `diagnostics_vs_baseline`, so
each figure can be reproduced by a plain SQL query over them. Ratios are ratios of sums (never
means of ratios) and are empty where the baseline month is not loaded or its activity is 0.

Of the shared filters only region applies (with the user's access scope): DM01 is monthly and
covers the diagnostics service line only, so the weekly period and the provider, group and
service-line filters of the contract data do not apply to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from capwatch.analytics import reference
from capwatch.analytics.filters import Filters
from capwatch.db import Database

ATTRIBUTION = (
    "Published NHS England data: Monthly Diagnostic Waiting Times and Activity (DM01), "
    "Monthly Diagnostics Web File – Provider. Contains public sector information licensed "
    "under the Open Government Licence v3.0."
)
OGL_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
SECTORS = ("independent", "nhs")


def _ratio(alias: str = "") -> str:
    """Summed baseline and the ratio of sums (empty without a baseline, or a baseline of 0)."""
    a, b = f"sum({alias}activity)", f"sum({alias}baseline_activity)"
    return f"{b} AS baseline_activity, CASE WHEN {b} > 0 THEN {a} / {b} END AS activity_ratio"


_RATIO = _ratio()


def _query(db: Database, sql: str, params: list[Any] | None = None) -> pl.DataFrame:
    """Run a query; DuckDB's sums of BIGINT come back as Decimal(38, 0): make them Int64."""
    frame = db.query(sql, params)
    return frame.with_columns(
        pl.col(c).cast(pl.Int64) for c, t in frame.schema.items() if isinstance(t, pl.Decimal)
    )


def _where(filters: Filters, test: str | None) -> tuple[str, list[Any]]:
    """Region filter and access scope (the only shared filters DM01 has columns for), and a test."""
    only_region = Filters(regions=filters.regions, scope_regions=filters.scope_regions)
    sql, params = only_region.where(group=None, provider=None, service_line=None)
    if test is not None:
        sql += " AND test = ?"
        params.append(test)
    return sql, params


def has_published(db: Database) -> bool:
    """True if any DM01 month is loaded."""
    return bool(db.scalar("SELECT count(*) > 0 FROM dm01_monthly"))


def months(db: Database) -> list[date]:
    """Loaded DM01 months, oldest first."""
    return db.query("SELECT DISTINCT month FROM dm01_monthly ORDER BY month")["month"].to_list()


def tests(db: Database) -> dict[str, str]:
    """Test key → published name, in DM01's own order (diagnostic ID)."""
    rows = _query(
        db,
        "SELECT test, min(test_name) AS test_name FROM dm01_monthly GROUP BY test "
        "ORDER BY min(diagnostic_id)",
    )
    return dict(rows.iter_rows())


@dataclass(frozen=True)
class DiagnosticsView:
    """Everything the published diagnostics page shows."""

    months: tuple[date, ...]
    month: date | None  # the month of the queue and organisation tables
    recovery: pl.DataFrame  # month, sector, activity, baseline_activity, activity_ratio
    recovery_by_region: pl.DataFrame  # month, region, sector, activity, baseline..., ratio
    recovery_by_test: pl.DataFrame  # month, test, test_name, sector, activity, baseline..., ratio
    queue: pl.DataFrame  # region, test, test_name, waiting_list, waiting_6_plus, is/nhs activity
    queue_by_region: pl.DataFrame  # region, waiting_list, waiting_6_plus, is/nhs activity
    is_orgs: pl.DataFrame  # org_code, org_name, region, activity, baseline..., ratio, provider
    links_to_profiles: bool  # False when the contract data is synthetic (fictional providers)


def diagnostics(
    db: Database, filters: Filters, test: str | None = None, month: date | None = None
) -> DiagnosticsView:
    """The published diagnostics page: `test` narrows every figure to one test; `month` picks
    the month of the queue and organisation tables (default: the latest loaded)."""
    loaded = tuple(months(db))
    if not loaded:
        empty = pl.DataFrame()
        return DiagnosticsView((), None, empty, empty, empty, empty, empty, empty, False)
    month = month if month in loaded else loaded[-1]
    where, params = _where(filters, test)
    base = f"FROM diagnostics_vs_baseline WHERE {where}"
    recovery = _query(
        db,
        f"SELECT month, sector, sum(activity) AS activity, {_RATIO} {base} "
        "GROUP BY month, sector ORDER BY month, sector",
        params,
    )
    by_region = _query(
        db,
        f"SELECT month, region, sector, sum(activity) AS activity, {_RATIO} {base} "
        "GROUP BY month, region, sector ORDER BY month, region, sector",
        params,
    )
    by_test = _query(
        db,
        f"SELECT month, test, min(test_name) AS test_name, sector, sum(activity) AS activity, "
        f"{_RATIO} {base} GROUP BY month, test, sector ORDER BY month, test, sector",
        params,
    )
    queue_sql = (
        "SELECT {keys}, sum(waiting_list) AS waiting_list, "
        "sum(waiting_6_plus) AS waiting_6_plus, "
        "sum(activity) FILTER (WHERE sector = 'independent') AS is_activity, "
        "sum(activity) FILTER (WHERE sector = 'nhs') AS nhs_activity "
        f"FROM diagnostics_monthly WHERE month = ? AND {where} "
        "GROUP BY {group} ORDER BY {group}"
    )
    queue = _query(
        db,
        queue_sql.format(keys="region, test, min(test_name) AS test_name", group="region, test"),
        [month, *params],
    )
    queue_by_region = _query(db, queue_sql.format(keys="region", group="region"), [month, *params])
    links = not reference.is_synthetic(db)
    is_orgs = _query(
        db,
        "SELECT org_code, any_value(org_name) AS org_name, any_value(region) AS region, "
        f"sum(activity) AS activity, {_RATIO} "
        f"FROM diagnostics_vs_baseline WHERE sector = 'independent' AND month = ? AND {where} "
        "GROUP BY org_code ORDER BY org_code",
        [month, *params],
    ).join(_ods_organisations(db), on="org_code", how="left")
    if links:
        is_orgs = is_orgs.join(_known_providers(db), on="org_code", how="left")
    else:
        is_orgs = is_orgs.with_columns(provider_code=pl.lit(None, pl.String))
    return DiagnosticsView(
        loaded,
        month,
        _sector_labels(recovery),
        _sector_labels(by_region),
        _sector_labels(by_test),
        queue.with_columns(pl.col("is_activity", "nhs_activity").fill_null(0)),
        queue_by_region.with_columns(pl.col("is_activity", "nhs_activity").fill_null(0)),
        is_orgs,
        links,
    )


def _sector_labels(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        sector_label=pl.col("sector").replace_strict(
            {"independent": "Independent sector", "nhs": "NHS"}, default=pl.col("sector")
        )
    )


def _ods_organisations(db: Database) -> pl.DataFrame:
    """Each DM01 code's ODS organisation (a site's first three characters) and its ODS name."""
    return _query(
        db,
        "SELECT DISTINCT org_code, ods_org_code, ods_org_name FROM diagnostics_monthly "
        "ORDER BY org_code",
    )


def _known_providers(db: Database) -> pl.DataFrame:
    """DM01 organisation code → the contract provider capwatch knows by that code: a provider
    with that code, or the provider of a site with that code."""
    return _query(
        db,
        "SELECT DISTINCT d.org_code, coalesce(p.provider_code, s.provider_code) AS provider_code "
        "FROM (SELECT DISTINCT org_code FROM dm01_monthly) d "
        "LEFT JOIN providers p ON p.provider_code = d.org_code "
        "LEFT JOIN sites s ON s.site_code = d.org_code "
        "WHERE p.provider_code IS NOT NULL OR s.site_code IS NOT NULL ORDER BY d.org_code",
    )


@dataclass(frozen=True)
class ProviderDiagnostics:
    """A contract provider's published DM01 figures, where its codes match DM01 organisations."""

    shown: bool  # False for synthetic contract data: fictional providers get no real figures
    monthly: pl.DataFrame  # month, org_code, org_name, activity, baseline..., ratio, waiting_list
    by_test: pl.DataFrame  # month, org_code, test, test_name, activity, waiting_list, ...


def provider_diagnostics(db: Database, provider_code: str) -> ProviderDiagnostics:
    """DM01 rows whose organisation code is the provider's code or one of its sites' codes."""
    if reference.is_synthetic(db):
        return ProviderDiagnostics(False, pl.DataFrame(), pl.DataFrame())
    codes = "SELECT ?::VARCHAR UNION SELECT site_code FROM sites WHERE provider_code = ?"
    params = [provider_code, provider_code]
    by_test = _query(
        db,
        "SELECT b.month, b.org_code, b.org_name, b.test, b.test_name, b.activity, "
        "b.baseline_activity, b.activity_ratio, m.waiting_list, m.waiting_6_plus "
        "FROM diagnostics_vs_baseline b LEFT JOIN diagnostics_monthly m "
        "ON m.month = b.month AND m.org_code = b.org_code AND m.test = b.test "
        f"WHERE b.org_code IN ({codes}) ORDER BY b.month, b.org_code, b.test",
        params,
    )
    monthly = _query(
        db,
        "SELECT b.month, b.org_code, any_value(b.org_name) AS org_name, "
        f"sum(b.activity) AS activity, {_ratio('b.')}, "
        "sum(m.waiting_list) AS waiting_list "
        "FROM diagnostics_vs_baseline b LEFT JOIN diagnostics_monthly m "
        "ON m.month = b.month AND m.org_code = b.org_code AND m.test = b.test "
        f"WHERE b.org_code IN ({codes}) GROUP BY b.month, b.org_code ORDER BY b.month, b.org_code",
        params,
    )
    return ProviderDiagnostics(True, monthly, by_test)
