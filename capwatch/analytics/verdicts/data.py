"""The inputs a verdict reads, fetched once: contracts, the provider's weekly figures, the
contract's weekly value and the region's weekly demand. Never the answer key.

Grain of each frame:
- `contracts`: one row per contract (with its provider's name and region, and how many sites
  the provider has in `sites`).
- `provider_weekly`: one row per provider × complete week with capacity or activity: capacity
  and NHS work at reference prices, units, and how many of its sites sent a return.
- `contract_weekly`: one row per contract × week it covers (the contract value of the week).
- `demand_weekly`: one row per region × week: patients waiting and referrals offered, summed
  over service lines and activity types.
Nothing is filtered by region, provider or line: a verdict is the same whoever looks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from capwatch.analytics.filters import Filters
from capwatch.analytics.flags.data import complete_weeks
from capwatch.db import Database


@dataclass(frozen=True)
class VerdictInputs:
    """Everything `decide` needs (see the module docstring for each frame's grain)."""

    weeks: tuple[date, ...]
    contracts: pl.DataFrame
    provider_weekly: pl.DataFrame
    contract_weekly: pl.DataFrame
    demand_weekly: pl.DataFrame


CONTRACT_SCHEMA = {
    "contract_id": pl.String,
    "provider_code": pl.String,
    "provider_name": pl.String,
    "region": pl.String,
    "start_date": pl.Date,
    "end_date": pl.Date,
    "monthly_value_gbp": pl.Float64,
    "status": pl.String,
    "removed_date": pl.Date,
    "sites": pl.Int64,
}
PROVIDER_WEEKLY_SCHEMA = {
    "provider_code": pl.String,
    "week_start": pl.Date,
    "capacity_value_gbp": pl.Float64,
    "nhs_value_gbp": pl.Float64,
    "capacity_units": pl.Float64,
    "nhs_units": pl.Float64,
    "private_units": pl.Float64,
    "sites_reporting": pl.Int64,
}
CONTRACT_WEEKLY_SCHEMA = {
    "contract_id": pl.String,
    "week_start": pl.Date,
    "contract_value_gbp": pl.Float64,
}
DEMAND_WEEKLY_SCHEMA = {
    "region": pl.String,
    "week_start": pl.Date,
    "patients_waiting": pl.Float64,
    "referrals_offered": pl.Float64,
}


def _cast(frame: pl.DataFrame, schema: Mapping[str, Any]) -> pl.DataFrame:
    if frame.is_empty():
        return pl.DataFrame(schema=schema)
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items())


def load_inputs(db: Database) -> VerdictInputs:
    """The national inputs of every verdict (five small queries)."""
    first_day, last_day = db.query(
        "SELECT min(activity_date) AS a, max(activity_date) AS b FROM activity_daily"
    ).row(0)
    weeks = complete_weeks(first_day, last_day, Filters())
    contracts = db.query(
        """
        SELECT c.contract_id, c.provider_code, coalesce(p.provider_name, c.provider_code)
               AS provider_name, p.region, c.start_date, c.end_date, c.monthly_value_gbp,
               c.status, c.removed_date,
               (SELECT count(*) FROM sites s WHERE s.provider_code = c.provider_code) AS sites
        FROM contracts c LEFT JOIN providers p USING (provider_code)
        ORDER BY c.contract_id
        """
    )
    if not weeks:
        return VerdictInputs(
            weeks,
            _cast(contracts, CONTRACT_SCHEMA),
            pl.DataFrame(schema=PROVIDER_WEEKLY_SCHEMA),
            pl.DataFrame(schema=CONTRACT_WEEKLY_SCHEMA),
            pl.DataFrame(schema=DEMAND_WEEKLY_SCHEMA),
        )
    span = [weeks[0], weeks[-1]]
    provider_weekly = db.query(
        """
        SELECT provider_code, week_start, sum(capacity_value_gbp) AS capacity_value_gbp,
               sum(nhs_value_gbp) AS nhs_value_gbp, sum(capacity_units) AS capacity_units,
               sum(nhs_units) AS nhs_units, sum(private_units) AS private_units,
               count(DISTINCT site_code) FILTER (WHERE capacity_units > 0) AS sites_reporting
        FROM utilisation_weekly
        WHERE provider_code IS NOT NULL AND week_start BETWEEN ? AND ?
        GROUP BY ALL ORDER BY provider_code, week_start
        """,
        span,
    )
    contract_weekly = db.query(
        """
        SELECT contract_id, week_start, sum(contract_value_gbp) AS contract_value_gbp
        FROM contract_weekly WHERE week_start BETWEEN ? AND ?
        GROUP BY ALL ORDER BY contract_id, week_start
        """,
        span,
    )
    demand_weekly = db.query(
        """
        SELECT region, week_start, sum(patients_waiting) AS patients_waiting,
               sum(referrals_offered) AS referrals_offered
        FROM demand WHERE week_start BETWEEN ? AND ?
        GROUP BY ALL ORDER BY region, week_start
        """,
        span,
    )
    return VerdictInputs(
        weeks,
        _cast(contracts, CONTRACT_SCHEMA),
        _cast(provider_weekly, PROVIDER_WEEKLY_SCHEMA),
        _cast(contract_weekly, CONTRACT_WEEKLY_SCHEMA),
        _cast(demand_weekly, DEMAND_WEEKLY_SCHEMA),
    )
