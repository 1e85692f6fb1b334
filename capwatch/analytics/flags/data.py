"""The weekly figures every flag rule reads, fetched once per run.

Grain: one row per complete week × site × service line (from `utilisation_weekly`), for every
provider in the country over the filtered weeks, with an `in_scope` column saying whether the
row passes the region / group / provider / service-line filters. Rules that compare a provider
with the nation (the funnel's national rate, its over-dispersion) read every row; the rest read
the rows in scope.

Complete weeks: a week counts when all seven of its days lie inside the loaded activity, from
the first to the last `activity_date` in the database. So a last week whose returns stop on a
Wednesday, or capacity given for weeks no activity has been loaded for yet, cannot look like
unused capacity.

Contract value: a contract is valued per week in `contract_weekly`. Each week's value is shared
between the provider's site × service-line rows in proportion to their capacity value that
week, so every subject (provider, service line, site) carries its own apportioned part and the
parts add back up to the contract. Weeks in which the provider has contract value but no
capacity value are not apportioned to anything.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cached_property
from typing import Any

import polars as pl

from capwatch.analytics.filters import Filters
from capwatch.analytics.utilisation import MEASURES
from capwatch.db import Database

MEASURE_COLUMNS: tuple[str, ...] = (*MEASURES, "contract_value_gbp")


@dataclass(frozen=True)
class FlagData:
    """Weekly rows for the rules, the complete weeks of the period, and provider details."""

    weekly: pl.DataFrame
    weeks: tuple[date, ...]
    providers: pl.DataFrame  # provider_code, provider_name, region, contract_id

    @property
    def scoped(self) -> pl.DataFrame:
        return self.weekly.filter(pl.col("in_scope"))

    @property
    def scoped_all_lines(self) -> pl.DataFrame:
        """The rows in scope whatever the service-line filter says: for flags on a whole
        contract ("all lines"), since contract value is not split by line."""
        if "in_scope_all_lines" not in self.weekly.columns:
            return self.scoped
        return self.weekly.filter(pl.col("in_scope_all_lines"))

    @cached_property
    def provider_details(self) -> dict[str, dict[str, Any]]:
        """provider_code → its row of `providers` (looked up once per flag row)."""
        return {r["provider_code"]: r for r in self.providers.iter_rows(named=True)}


def complete_weeks(
    first_day: date | None, last_day: date | None, filters: Filters
) -> tuple[date, ...]:
    """Mondays of the weeks wholly inside [first_day, last_day] and inside the filters."""
    if first_day is None or last_day is None:
        return ()
    start = first_day + timedelta(days=(7 - first_day.weekday()) % 7)
    end = last_day - timedelta(days=(last_day.weekday() + 1) % 7 + 6)
    if filters.week_from is not None:
        start = max(start, filters.week_from - timedelta(days=filters.week_from.weekday()))
    if filters.week_to is not None:
        end = min(end, filters.week_to - timedelta(days=filters.week_to.weekday()))
    weeks: list[date] = []
    while start <= end:
        weeks.append(start)
        start += timedelta(weeks=1)
    return tuple(weeks)


_EMPTY_WEEKLY = {
    "week_start": pl.Date,
    "site_code": pl.String,
    "site_name": pl.String,
    "provider_code": pl.String,
    "service_line": pl.String,
    **dict.fromkeys(MEASURE_COLUMNS, pl.Float64),
    "in_scope": pl.Boolean,
    "in_scope_all_lines": pl.Boolean,
}


def load(db: Database, filters: Filters) -> FlagData:
    """Fetch the weekly figures for the filtered period (three small queries)."""
    first_day, last_day = db.query(
        "SELECT min(activity_date) AS first_day, max(activity_date) AS last_day FROM activity_daily"
    ).row(0)
    weeks = complete_weeks(first_day, last_day, filters)
    providers = db.query(
        """
        SELECT p.provider_code, p.provider_name, p.region,
               string_agg(c.contract_id, '; ' ORDER BY c.contract_id) AS contract_id
        FROM providers p LEFT JOIN contracts c USING (provider_code)
        GROUP BY ALL
        """
    )
    if not weeks:
        return FlagData(pl.DataFrame(schema=_EMPTY_WEEKLY), weeks, providers)
    scope, params = filters.where()
    whole, whole_params = replace(filters, service_lines=()).where()
    weekly = db.query(
        f"""
        SELECT week_start, site_code, site_name, provider_code, service_line,
               capacity_units, nhs_units, private_units, capacity_value_gbp, nhs_value_gbp,
               unused_capacity_cost_gbp, coalesce({scope}, FALSE) AS in_scope,
               coalesce({whole}, FALSE) AS in_scope_all_lines
        FROM utilisation_weekly
        WHERE provider_code IS NOT NULL AND week_start BETWEEN ? AND ?
        """,
        [*params, *whole_params, weeks[0], weeks[-1]],
    )
    contract = db.query(
        """
        SELECT provider_code, week_start, sum(contract_value_gbp) AS provider_contract_gbp
        FROM contract_weekly WHERE week_start BETWEEN ? AND ? GROUP BY ALL
        """,
        [weeks[0], weeks[-1]],
    )
    provider_week = ["provider_code", "week_start"]
    # Clip every rule to the contract's own dates: a provider holding a contract is read only
    # in the weeks the contract covers (contract_weekly stops the day before a removal).
    contracted = db.query("SELECT DISTINCT provider_code FROM contracts")["provider_code"]
    weekly = pl.concat(
        [
            weekly.join(contract.select(provider_week), on=provider_week, how="semi"),
            weekly.filter(~pl.col("provider_code").is_in(contracted.implode())),
        ]
    ).sort(["week_start", "site_code", "service_line"])
    weekly = (
        weekly.with_columns(pl.col(c).cast(pl.Float64) for c in MEASURE_COLUMNS[:-1])
        .join(contract, on=provider_week, how="left")
        .with_columns(
            share=pl.col("capacity_value_gbp")
            / pl.col("capacity_value_gbp").sum().over(provider_week)
        )
        .with_columns(
            contract_value_gbp=(
                pl.col("share").fill_nan(0.0) * pl.col("provider_contract_gbp")
            ).fill_null(0.0)
        )
        .select(_EMPTY_WEEKLY.keys())
    )
    return FlagData(weekly, weeks, providers)


def weekly_grid(frame: pl.DataFrame, keys: list[str], weeks: tuple[date, ...]) -> pl.DataFrame:
    """Sum `frame` to keys × week over every week of `weeks` (missing weeks as zeros)."""
    sums = frame.group_by([*keys, "week_start"]).agg(pl.col(c).sum() for c in MEASURE_COLUMNS)
    grid = (
        sums.select(keys)
        .unique()
        .join(
            pl.DataFrame({"week_start": list(weeks)}, schema={"week_start": pl.Date}), how="cross"
        )
    )
    return (
        grid.join(sums, on=[*keys, "week_start"], how="left")
        .with_columns(pl.col(c).fill_null(0.0) for c in MEASURE_COLUMNS)
        .sort([*keys, "week_start"])
    )
