"""The frames behind each flag's evidence chart, and page-friendly entry points.

Every function takes the database first and only hashable arguments after it (the `Filters`
the flags were computed under, codes, dates and `Overrides`, a tuple of (rule, key, value)),
so the dashboard can cache them with `capwatch.ui.context.cached`. Each recomputes from the
same weekly figures and code as the engine, so a chart always agrees with its flag.

The caller's filters are narrowed with `dataclasses.replace`, never rebuilt, so the access
scope (`scope_regions`) always carries through: a regional user's evidence shows nothing from
other regions. The funnel is the one comparison with the nation: its points are the providers
in scope, its rate and limits national, exactly as the flag's (see `funnel_data`).
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from typing import cast

import polars as pl

from capwatch.analytics.filters import Filters
from capwatch.analytics.flags import funnel
from capwatch.analytics.flags.data import load
from capwatch.analytics.flags.engine import compute_flags, funnel_points, provider_line_weeks
from capwatch.analytics.flags.engine import spc_chart as _spc_chart
from capwatch.analytics.flags.rules import resolve_params
from capwatch.db import Database

Overrides = tuple[tuple[str, str, float], ...]


def nested(overrides: Overrides) -> dict[str, dict[str, float]]:
    """((rule, key, value), ...) → {rule: {key: value}}."""
    out: dict[str, dict[str, float]] = {}
    for rule_name, key, value in overrides:
        out.setdefault(rule_name, {})[key] = value
    return out


def flags_for(db: Database, filters: Filters, overrides: Overrides = ()) -> pl.DataFrame:
    """`compute_flags` with hashable parameter overrides (for caching in the dashboard)."""
    return compute_flags(db, filters, params=nested(overrides))


def _evidence(
    filters: Filters, week_from: date | None, week_to: date | None, **narrow: tuple[str, ...]
) -> Filters:
    """The caller's filters (scope included) over the evidence weeks, narrowed to a subject."""
    return replace(filters, week_from=week_from, week_to=week_to, **narrow)


def spc_chart_data(
    db: Database,
    filters: Filters,
    provider_code: str,
    service_line: str,
    week_from: date | None = None,
    week_to: date | None = None,
    overrides: Overrides = (),
) -> pl.DataFrame:
    """One row per week with capacity: utilisation, mean, limits and special-cause columns."""
    params = resolve_params(nested(overrides))["spc"]
    subject = _evidence(
        filters, week_from, week_to, providers=(provider_code,), service_lines=(service_line,)
    )
    series = provider_line_weeks(load(db, subject))
    if series.is_empty():
        return series
    return _spc_chart(series, params)


def funnel_data(
    db: Database,
    filters: Filters,
    service_line: str,
    week_from: date | None = None,
    week_to: date | None = None,
    overrides: Overrides = (),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(points, curve): the utilisation of the line of every provider the filters' access scope
    may see (the region, group and provider filters are dropped: a funnel shows the peers),
    with its limits, and the limits traced over the range of capacity volumes.

    The rate and the limits are national, as in the engine, whoever looks: a flag that may end
    a contract must not depend on the viewer's regions, and a region's handful of providers is
    too few to estimate the over-dispersion the limits rest on. Only these aggregates (which
    name no provider) come from outside the scope; every point plotted is inside it.
    """
    params = resolve_params(nested(overrides))["funnel"]
    subject = _evidence(
        filters, week_from, week_to, service_lines=(service_line,),
        regions=(), groups=(), providers=(),
    )  # fmt: skip
    data = load(db, subject)
    points = funnel_points(data, params)
    if points.is_empty():
        return points, pl.DataFrame()
    points = points.join(
        data.providers.select("provider_code", "provider_name"), on="provider_code", how="left"
    )
    rate, phi, tau2 = (points[c][0] for c in ("national_rate", "phi", "tau2"))
    low = cast(float, points["capacity_units"].min())  # not empty, so a number
    high = cast(float, points["capacity_units"].max())
    sizes = _log_steps(max(low / 2, 1.0), high * 1.2, 80)
    curve = pl.DataFrame(
        {
            "capacity_units": sizes,
            "national_rate": [rate] * len(sizes),
            **{
                name: [funnel.limits(rate, n, z, phi_value=phi, tau2=tau2)[side] for n in sizes]
                for name, z, side in (
                    ("lower_95", funnel.Z95, 0),
                    ("upper_95", funnel.Z95, 1),
                    ("lower_998", funnel.Z998, 0),
                    ("upper_998", funnel.Z998, 1),
                )
            },
        }
    )
    return points, curve


def _log_steps(low: float, high: float, steps: int) -> list[float]:
    a, b = math.log(low), math.log(max(high, low * 1.01))
    return [math.exp(a + (b - a) * i / (steps - 1)) for i in range(steps)]


def weekly_against_threshold(
    db: Database,
    filters: Filters,
    provider_code: str,
    service_line: str | None,
    site_code: str | None = None,
    week_from: date | None = None,
    week_to: date | None = None,
) -> pl.DataFrame:
    """Weekly capacity, NHS and private units and utilisation of a provider's line (or one
    site's; all the filters' lines when `service_line` is None), complete weeks only, weeks
    with no rows shown as zero capacity."""
    lines = (service_line,) if service_line else filters.service_lines
    data = load(
        db, _evidence(filters, week_from, week_to, providers=(provider_code,), service_lines=lines)
    )
    rows = data.scoped
    if site_code:
        rows = rows.filter(pl.col("site_code") == site_code)
    weeks = pl.DataFrame({"week_start": list(data.weeks)}, schema={"week_start": pl.Date})
    sums = rows.group_by("week_start").agg(
        pl.col(c).sum()
        for c in ("capacity_units", "nhs_units", "private_units", "unused_capacity_cost_gbp")
    )
    return (
        weeks.join(sums, on="week_start", how="left")
        .fill_null(0.0)
        .with_columns(
            utilisation=pl.when(pl.col("capacity_units") > 0).then(
                pl.col("nhs_units") / pl.col("capacity_units")
            )
        )
        .sort("week_start")
    )


def value_for_money_weekly(
    db: Database,
    filters: Filters,
    provider_code: str,
    week_from: date | None = None,
    week_to: date | None = None,
) -> pl.DataFrame:
    """Weekly apportioned contract value against the reference value of the NHS work done
    (over the filters' service lines, as the flag)."""
    data = load(db, _evidence(filters, week_from, week_to, providers=(provider_code,)))
    return (
        data.scoped.group_by("week_start")
        .agg(
            pl.col("contract_value_gbp").sum(),
            pl.col("nhs_value_gbp").sum(),
            pl.col("nhs_units").sum(),
        )
        .sort("week_start")
    )
