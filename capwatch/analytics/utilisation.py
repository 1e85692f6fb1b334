"""Utilisation, unused capacity cost and contract value under the shared filters.

Every figure is a sum over the documented views (`utilisation_weekly`, `capacity_use`,
`activity_weekly`, `contract_weekly`), and every ratio is a ratio of those sums, never a mean
of ratios. Functions take a `Database` and `Filters` and return Polars frames or small frozen
dataclasses; nothing here imports Streamlit.

Region, group and provider filters apply to the site (its region) and its provider for
capacity and activity. Contract value cannot be split by site or service line, so it is the
whole value of the filtered providers' contracts for the period's weeks, with region and group
read from the provider (`providers.region`, `providers."group"`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

import polars as pl

from capwatch.analytics.filters import Filters
from capwatch.db import Database

MEASURES: tuple[str, ...] = (
    "capacity_units",
    "nhs_units",
    "private_units",
    "capacity_value_gbp",
    "nhs_value_gbp",
    "unused_capacity_cost_gbp",
)
_INTEGER_MEASURES = frozenset({"capacity_units", "nhs_units", "private_units"})

# Dimensions of `utilisation_weekly` that figures may be broken down by.
DIMENSIONS: frozenset[str] = frozenset(
    {"week_start", "site_code", "provider_code", "service_line", "region", "group"}
)


def _column(name: str) -> str:
    return '"group"' if name == "group" else name


def _sums(prefix: str = "") -> str:
    return ", ".join(
        f"CAST(coalesce(sum({prefix}{m}), 0) AS {'BIGINT' if m in _INTEGER_MEASURES else 'DOUBLE'})"
        f" AS {m}"
        for m in MEASURES
    )


def weekly(db: Database, filters: Filters, by: Sequence[str]) -> pl.DataFrame:
    """`utilisation_weekly` under the filters, summed to `by` (raw sums, no ratios yet)."""
    unknown = set(by) - DIMENSIONS
    if unknown:
        raise ValueError(f"cannot break figures down by {sorted(unknown)}")
    where, params = filters.where()
    dims = ", ".join(_column(d) for d in by)
    if not by:
        return db.query(f"SELECT {_sums()} FROM utilisation_weekly WHERE {where}", params)
    return db.query(
        f"SELECT {dims}, {_sums()} FROM utilisation_weekly WHERE {where} "
        f"GROUP BY {dims} ORDER BY {dims}",
        params,
    )


@overload
def utilisation(nhs_units: pl.Expr, capacity_units: pl.Expr) -> pl.Expr: ...
@overload
def utilisation(nhs_units: float, capacity_units: float) -> float | None: ...
def utilisation(
    nhs_units: pl.Expr | float, capacity_units: pl.Expr | float
) -> pl.Expr | float | None:
    """NHS units delivered ÷ capacity units: the one definition of utilisation, for a Polars
    expression or two numbers. No capacity gives null (None), never a division by zero."""
    if isinstance(capacity_units, pl.Expr):
        return pl.when(capacity_units > 0).then(nhs_units / capacity_units)
    if isinstance(nhs_units, pl.Expr):
        raise TypeError("utilisation: both arguments are expressions, or both numbers")
    return nhs_units / capacity_units if capacity_units > 0 else None


def with_ratios(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the ratios of sums: utilisation, unused share of capacity value, private share."""

    def ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
        return pl.when(den > 0).then(num / den).otherwise(None)

    return frame.with_columns(
        utilisation=utilisation(pl.col("nhs_units"), pl.col("capacity_units")),
        unused_share=ratio(pl.col("unused_capacity_cost_gbp"), pl.col("capacity_value_gbp")),
        private_share=ratio(pl.col("private_units"), pl.col("nhs_units") + pl.col("private_units")),
    )


def rollup(frame: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Sum the measures of a `weekly` frame to `by` and add the ratios (of the sums)."""
    sums = [pl.col(m).sum() for m in MEASURES]
    out = frame.select(sums) if not by else frame.group_by(by).agg(sums).sort(by)
    return with_ratios(out)


@dataclass(frozen=True)
class Headline:
    """The period's totals under the filters."""

    capacity_units: int
    nhs_units: int
    private_units: int
    capacity_value_gbp: float
    nhs_value_gbp: float
    unused_capacity_cost_gbp: float
    contract_value_gbp: float
    utilisation: float | None
    unused_share: float | None
    private_share: float | None

    @property
    def has_capacity(self) -> bool:
        return self.capacity_units > 0

    @property
    def used_value_share(self) -> float | None:
        """Share of the capacity value that was used (1 − unused share): the value-weighted
        counterpart of `utilisation`, which counts units."""
        return None if self.unused_share is None else 1.0 - self.unused_share


def headline_from(frame: pl.DataFrame, contract_value_gbp: float) -> Headline:
    """A `Headline` from a `weekly` frame at any grain plus the period's contract value."""
    row = rollup(frame, []).row(0, named=True)
    return Headline(
        capacity_units=int(row["capacity_units"] or 0),
        nhs_units=int(row["nhs_units"] or 0),
        private_units=int(row["private_units"] or 0),
        capacity_value_gbp=float(row["capacity_value_gbp"] or 0.0),
        nhs_value_gbp=float(row["nhs_value_gbp"] or 0.0),
        unused_capacity_cost_gbp=float(row["unused_capacity_cost_gbp"] or 0.0),
        contract_value_gbp=contract_value_gbp,
        utilisation=row["utilisation"],
        unused_share=row["unused_share"],
        private_share=row["private_share"],
    )


def headline(db: Database, filters: Filters) -> Headline:
    """Totals for the filtered period."""
    return headline_from(weekly(db, filters, []), contract_value(db, filters))


def _contract_where(filters: Filters) -> tuple[str, list[Any]]:
    return filters.where(
        week="cw.week_start",
        region="p.region",
        group='p."group"',
        provider="cw.provider_code",
        service_line=None,
    )


def contract_value(db: Database, filters: Filters) -> float:
    """Σ contract_weekly.contract_value_gbp over the period's weeks and filtered providers."""
    where, params = _contract_where(filters)
    value = db.scalar(
        "SELECT coalesce(sum(cw.contract_value_gbp), 0) FROM contract_weekly cw "
        f"JOIN providers p USING (provider_code) WHERE {where}",
        params,
    )
    return float(value or 0.0)


def contract_value_by_provider(db: Database, filters: Filters) -> pl.DataFrame:
    """provider_code, contract_value_gbp for the period (providers with a contract only)."""
    where, params = _contract_where(filters)
    return db.query(
        "SELECT cw.provider_code, sum(cw.contract_value_gbp) AS contract_value_gbp "
        f"FROM contract_weekly cw JOIN providers p USING (provider_code) WHERE {where} "
        "GROUP BY cw.provider_code ORDER BY cw.provider_code",
        params,
    )


def provider_scope(filters: Filters, alias: str = "p") -> tuple[str, list[Any]]:
    """A SQL condition on the `providers` table (as `alias`): the provider may be seen under the
    filters' access scope (its own region is in scope, or it runs a site there).

    Only the scope applies, never the other filters: it answers "may this user see that this
    provider exists", for names, groups and filter options.
    """
    if filters.scope_regions is None:
        return "TRUE", []
    regions = list(filters.scope_regions)
    return (
        f"({alias}.region IN (SELECT unnest(?::VARCHAR[])) OR {alias}.provider_code IN "
        "(SELECT provider_code FROM sites WHERE region IN (SELECT unnest(?::VARCHAR[]))))",
        [regions, regions],
    )


def provider_attributes(db: Database, filters: Filters) -> pl.DataFrame:
    """provider_code, provider_name, group, region (the provider's own region) of every
    provider the filters' access scope may see (see `provider_scope`)."""
    where, params = provider_scope(filters)
    return db.query(
        'SELECT provider_code, provider_name, "group", region FROM providers p '
        f"WHERE {where} ORDER BY provider_code",
        params,
    )


RANKINGS: dict[str, tuple[str, bool]] = {
    "utilisation": ("utilisation", False),
    "unused cost": ("unused_capacity_cost_gbp", True),
}


def rank_providers(
    by_provider: pl.DataFrame, attributes: pl.DataFrame, contracts: pl.DataFrame, order: str
) -> pl.DataFrame:
    """Providers with their figures, ranked 1 = worst (lowest utilisation / most unused cost)."""
    column, descending = RANKINGS[order]
    ranked = (
        by_provider.join(attributes, on="provider_code", how="left")
        .join(contracts, on="provider_code", how="left")
        .with_columns(pl.col("contract_value_gbp").fill_null(0.0))
        .sort(
            [column, "capacity_units", "provider_code"],
            descending=[descending, True, False],
            nulls_last=True,
        )
        .with_row_index("rank", offset=1)
    )
    return ranked.select(
        "rank",
        "provider_code",
        "provider_name",
        "group",
        "region",
        "capacity_units",
        "nhs_units",
        "private_units",
        "utilisation",
        "capacity_value_gbp",
        "unused_capacity_cost_gbp",
        "unused_share",
        "contract_value_gbp",
        "private_share",
    )


def providers_ranked(db: Database, filters: Filters, order: str = "utilisation") -> pl.DataFrame:
    """Every provider under the filters ranked by utilisation or by unused cost (1 = worst)."""
    by_provider = rollup(weekly(db, filters, ["provider_code"]), ["provider_code"])
    return rank_providers(
        by_provider,
        provider_attributes(db, filters),
        contract_value_by_provider(db, filters),
        order,
    )


def activity_types(db: Database, filters: Filters) -> pl.DataFrame:
    """One row per service line × activity type: activity delivered and, where capacity names
    the type, its capacity, use and unused cost.

    Capacity given for a whole line (activity_type '') appears as its own row, with the NHS
    units that met it; utilisation by type exists only where capacity is given by type.
    activity_type is the matching key, activity_label the label to show (`activity_types`).
    """
    act_where, act_params = filters.where(
        week="a.week_start",
        region="s.region",
        group='p."group"',
        provider="s.provider_code",
        service_line="a.service_line",
    )
    cap_where, cap_params = filters.where(
        week="c.week_start",
        region="s.region",
        group='p."group"',
        provider="s.provider_code",
        service_line="c.service_line",
    )
    return db.query(
        f"""
        WITH act AS (
            SELECT a.service_line, a.activity_type,
                   sum(a.nhs_units) AS nhs_units, sum(a.private_units) AS private_units,
                   sum(a.nhs_value_gbp) AS nhs_value_gbp
            FROM activity_weekly a JOIN sites s USING (site_code)
            JOIN providers p ON p.provider_code = s.provider_code
            WHERE {act_where} GROUP BY ALL
        ),
        cap AS (
            SELECT c.service_line, c.activity_type,
                   sum(c.capacity_units) AS capacity_units,
                   sum(c.nhs_units) AS nhs_units_meeting_capacity,
                   sum(c.capacity_value_gbp) AS capacity_value_gbp,
                   sum(c.unused_capacity_cost_gbp) AS unused_capacity_cost_gbp
            FROM capacity_use c JOIN sites s USING (site_code)
            JOIN providers p ON p.provider_code = s.provider_code
            WHERE {cap_where} GROUP BY ALL
        )
        SELECT service_line, activity_type,
               coalesce(t.activity_label, activity_type) AS activity_label,
               CAST(coalesce(act.nhs_units, 0) AS BIGINT) AS nhs_units,
               CAST(coalesce(act.private_units, 0) AS BIGINT) AS private_units,
               coalesce(act.nhs_value_gbp, 0) AS nhs_value_gbp,
               CAST(cap.capacity_units AS BIGINT) AS capacity_units,
               CAST(cap.nhs_units_meeting_capacity AS BIGINT) AS nhs_units_meeting_capacity,
               cap.nhs_units_meeting_capacity / nullif(cap.capacity_units, 0) AS utilisation,
               cap.capacity_value_gbp, cap.unused_capacity_cost_gbp
        FROM act FULL OUTER JOIN cap USING (service_line, activity_type)
        LEFT JOIN activity_types t USING (service_line, activity_type)
        ORDER BY service_line, activity_type
        """,
        act_params + cap_params,
    )
