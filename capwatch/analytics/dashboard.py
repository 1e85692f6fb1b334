"""One function per dashboard page: everything the page shows, computed in one call.

Each takes `(db, filters, ...)` and returns a frozen dataclass of frames and figures, so a page
makes one cached call and only renders, and a script can time each page's analytics without
Streamlit. Figures come from `capwatch.analytics.utilisation`; nothing here imports Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import polars as pl

from capwatch.analytics import reference
from capwatch.analytics import utilisation as u
from capwatch.analytics.filters import Filters
from capwatch.db import Database

WORST_PROVIDERS_SHOWN = 10


def _in_period(frame: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    cond = pl.lit(True)
    if filters.week_from is not None:
        cond &= pl.col("week_start") >= filters.week_from
    if filters.week_to is not None:
        cond &= pl.col("week_start") <= filters.week_to
    return frame.filter(cond)


def _span(filters: Filters, previous: Filters | None) -> Filters:
    """Filters covering both the period and the one before it (one scan for both)."""
    if previous is None:
        return filters
    return replace(filters, week_from=previous.week_from)


@dataclass(frozen=True)
class Overview:
    """Headline figures now and in the previous period, the weekly trend, the worst providers."""

    headline: u.Headline
    previous: u.Headline | None  # None unless the previous period is wholly loaded
    trend: pl.DataFrame  # week_start, service_line ('all' for the total), measures, ratios
    worst_providers: pl.DataFrame  # top providers by unused capacity cost


def overview(db: Database, filters: Filters) -> Overview:
    """The Overview page."""
    previous_filters = filters.previous_period()
    base = u.weekly(
        db, _span(filters, previous_filters), ["week_start", "provider_code", "service_line"]
    )
    now = _in_period(base, filters)
    headline = u.headline_from(now, u.contract_value(db, filters))
    previous = None
    first_loaded = db.scalar("SELECT min(week_start) FROM capacity")
    if (
        previous_filters is not None
        and first_loaded is not None
        and previous_filters.week_from is not None
        and previous_filters.week_from >= first_loaded
    ):  # compare only with a previous period that is wholly loaded
        before = _in_period(base, previous_filters)
        previous = u.headline_from(before, u.contract_value(db, previous_filters))
    by_line = u.rollup(now, ["week_start", "service_line"])
    total = u.rollup(now, ["week_start"]).with_columns(service_line=pl.lit("all"))
    trend = pl.concat([total.select(by_line.columns), by_line])
    worst = u.rank_providers(
        u.rollup(now, ["provider_code"]),
        u.provider_attributes(db, filters),
        u.contract_value_by_provider(db, filters),
        "unused cost",
    ).head(WORST_PROVIDERS_SHOWN)
    return Overview(headline, previous, trend, worst)


@dataclass(frozen=True)
class ProvidersView:
    """Every provider under the filters, ranked."""

    ranked: pl.DataFrame
    order: str


def providers(db: Database, filters: Filters, order: str = "utilisation") -> ProvidersView:
    """The Providers page: all providers ranked by utilisation or unused cost (1 = worst)."""
    return ProvidersView(u.providers_ranked(db, filters, order), order)


@dataclass(frozen=True)
class ProviderProfile:
    """One provider over the period and service lines of the filters."""

    provider_code: str
    provider_name: str | None
    group: str | None
    region: str | None
    headline: u.Headline
    contracts: pl.DataFrame
    sites: pl.DataFrame
    service_lines: pl.DataFrame
    activity_types: pl.DataFrame
    weekly: pl.DataFrame  # week_start × service_line
    rank: int | None
    peers: int

    @property
    def exists(self) -> bool:
        return self.provider_name is not None


def profile_filters(filters: Filters, provider_code: str) -> Filters:
    """A profile keeps the period, service lines and access scope, and looks at one provider
    wherever it is (within the scope)."""
    return replace(filters, providers=(provider_code,), regions=(), groups=())


def _contracts(db: Database, own: Filters, provider_code: str) -> pl.DataFrame:
    """The provider's contracts, each with its value apportioned to the period's weeks.

    Contracts belong to the provider's own region (as `utilisation.contract_value`), so the
    access scope applies to `providers.region`; the period only narrows the apportioned value.
    """
    period, period_params = Filters(week_from=own.week_from, week_to=own.week_to).where(
        week="cw.week_start", region=None, group=None, provider=None, service_line=None
    )
    scope, scope_params = Filters(scope_regions=own.scope_regions).where(
        region="p.region", group=None, provider=None, service_line=None
    )
    return db.query(
        "SELECT c.contract_id, c.start_date, c.end_date, c.monthly_value_gbp, c.status, "
        "c.removed_date, c.removal_reason, "
        "coalesce(sum(cw.contract_value_gbp), 0) AS contract_value_in_period_gbp "
        "FROM contracts c JOIN providers p ON p.provider_code = c.provider_code "
        f"LEFT JOIN contract_weekly cw ON cw.contract_id = c.contract_id AND {period} "
        f"WHERE c.provider_code = ? AND {scope} "
        "GROUP BY ALL ORDER BY c.start_date, c.contract_id",
        [*period_params, provider_code, *scope_params],
    )


def _sites(db: Database, own: Filters, provider_code: str) -> pl.DataFrame:
    """site_code, site_name, region of the provider's sites inside the access scope."""
    scope, params = Filters(scope_regions=own.scope_regions).where(
        region="region", group=None, provider=None, service_line=None
    )
    return db.query(
        "SELECT site_code, site_name, region FROM sites "
        f"WHERE provider_code = ? AND {scope} ORDER BY site_code",
        [provider_code, *params],
    )


def provider_profile(db: Database, filters: Filters, provider_code: str) -> ProviderProfile:
    """The Provider profile page. Rank is by utilisation (1 = lowest) among every provider with
    capacity in the same weeks and service lines (within the access scope).

    Under an access scope a provider the user may not see looks exactly like an unknown one:
    no name, group or region (`exists` is False), and every frame and figure empty or zero.
    Its sites and figures are those inside the scope; its contracts show when its own region
    is in scope.
    """
    own = profile_filters(filters, provider_code)
    attrs = u.provider_attributes(db, own).filter(pl.col("provider_code") == provider_code)
    info = attrs.row(0, named=True) if attrs.height else {}
    base = u.weekly(db, own, ["week_start", "site_code", "service_line"])
    sites = _sites(db, own, provider_code).join(
        u.rollup(base, ["site_code"]), on="site_code", how="left"
    )
    peer_filters = replace(filters, providers=(), regions=(), groups=())
    peers = u.providers_ranked(db, peer_filters, "utilisation").filter(pl.col("capacity_units") > 0)
    mine = peers.filter(pl.col("provider_code") == provider_code)
    return ProviderProfile(
        provider_code=provider_code,
        provider_name=info.get("provider_name"),
        group=info.get("group"),
        region=info.get("region"),
        headline=u.headline_from(base, u.contract_value(db, own)),
        contracts=_contracts(db, own, provider_code),
        sites=sites,
        service_lines=u.rollup(base, ["service_line"]),
        activity_types=u.activity_types(db, own),
        weekly=u.rollup(base, ["week_start", "service_line"]),
        rank=int(mine["rank"][0]) if mine.height else None,
        peers=peers.height,
    )


@dataclass(frozen=True)
class ServiceLinesView:
    """The four service lines side by side."""

    lines: pl.DataFrame  # one row per service line
    weekly: pl.DataFrame  # week_start × service_line
    activity_types: pl.DataFrame


def service_lines(db: Database, filters: Filters) -> ServiceLinesView:
    """The Service lines page."""
    base = u.weekly(db, filters, ["week_start", "service_line"])
    return ServiceLinesView(
        lines=u.rollup(base, ["service_line"]),
        weekly=u.rollup(base, ["week_start", "service_line"]),
        activity_types=u.activity_types(db, filters),
    )


@dataclass(frozen=True)
class RegionsView:
    """The regions compared, and the region → group → provider hierarchy."""

    regions: pl.DataFrame  # one row per region (of the site)
    providers: pl.DataFrame  # one row per region × group × provider


def regions(db: Database, filters: Filters) -> RegionsView:
    """The Regions page. Region is the site's, so a provider may appear under two regions."""
    base = u.weekly(db, filters, ["region", "group", "provider_code"])
    names = u.provider_attributes(db, filters).select("provider_code", "provider_name")
    by_provider = (
        u.rollup(base, ["region", "group", "provider_code"])
        .join(names, on="provider_code", how="left")
        .sort(["region", "utilisation"], nulls_last=True)
    )
    return RegionsView(regions=u.rollup(base, ["region"]), providers=by_provider)


@dataclass(frozen=True)
class DataView:
    """What is loaded, as far as the access scope may see."""

    coverage: reference.Coverage
    load_log: pl.DataFrame | None  # None under an access scope: the load log is national only
    rejected_files: pl.DataFrame | None  # national only, like the load log
    rejected_problems: pl.DataFrame | None
    quality_summary: pl.DataFrame
    quality_findings: pl.DataFrame
    templates: pl.DataFrame
    synthetic: bool
    last_loaded: datetime | None


def data(db: Database, filters: Filters | None = None) -> DataView:
    """The Data page: only the access scope of `filters` applies (None: everything).

    The load log is shown only without a scope: it is not region-tagged (one file may hold
    every region), and its file names, paths, warnings and row counts can name or size other
    regions' providers (e.g. a per-provider return `activity_NX1_2020-06.csv`). When data
    was last loaded is not sensitive and is always given.
    """
    scope = Filters(scope_regions=None if filters is None else filters.scope_regions)
    national = scope.scope_regions is None
    return DataView(
        coverage=reference.coverage(db, scope),
        load_log=reference.load_log(db) if national else None,
        rejected_files=reference.rejected_files(db) if national else None,
        rejected_problems=reference.rejected_file_problems(db) if national else None,
        quality_summary=reference.data_quality_summary(db, scope),
        quality_findings=reference.data_quality_findings(db, scope),
        templates=reference.templates(),
        synthetic=reference.is_synthetic(db),
        last_loaded=reference.last_loaded(db),
    )
