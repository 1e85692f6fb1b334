"""Low utilisation: the worst rolling window of complete weeks below a threshold."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from capwatch.analytics.filters import Filters
from capwatch.analytics.flags import explain
from capwatch.analytics.flags.base import (
    Evidence,
    Flag,
    FlagRow,
    Rule,
    RuleParams,
    base,
    empty_flags,
    frame,
    money,
    sunday,
    threshold_evidence,
    to_json,
    who,
)
from capwatch.analytics.flags.data import MEASURE_COLUMNS, FlagData, weekly_grid
from capwatch.analytics.flags.params import number, whole
from capwatch.analytics.utilisation import utilisation
from capwatch.db import Database

NAME = "low_utilisation"
TITLE = "Low utilisation"


def severity(utilisation: float, threshold: float) -> str:
    """Below half the threshold → high, below three quarters → medium, else low."""
    if utilisation < threshold / 2:
        return "high"
    return "medium" if utilisation < threshold * 0.75 else "low"


def compute(data: FlagData, p: RuleParams) -> pl.DataFrame:
    """Worst rolling window per provider × service line, flagged when below the threshold.

    The window is `window_weeks` consecutive complete weeks (fewer when the period is shorter:
    then the whole period is the one window). A week a provider had no rows in counts as zero
    capacity and zero activity. Ties between windows go to the latest.
    """
    if not data.weeks:
        return empty_flags()
    window = min(int(p["window_weeks"]), len(data.weeks))
    threshold = float(p["threshold"])
    keys = ["provider_code", "service_line"]
    national = weekly_grid(data.weekly, ["service_line"], data.weeks).select(
        "service_line",
        "week_start",
        national_capacity=pl.col("capacity_units").rolling_sum(window).over("service_line"),
    )
    windows = (
        weekly_grid(data.scoped, keys, data.weeks)
        .with_columns(pl.col(c).rolling_sum(window).over(keys) for c in MEASURE_COLUMNS)
        .join(national, on=["service_line", "week_start"], how="left")
        .filter(
            (pl.col("capacity_units") > 0)
            & (
                pl.col("capacity_units")
                >= float(p["min_capacity_share"]) * pl.col("national_capacity")
            )
        )
        .with_columns(utilisation=utilisation(pl.col("nhs_units"), pl.col("capacity_units")))
    )
    worst = (
        windows.sort(["utilisation", "week_start"], descending=[False, True])
        .group_by(keys, maintain_order=True)
        .first()
        .filter(pl.col("utilisation") < threshold)
    )
    rows: list[FlagRow] = []
    for r in worst.iter_rows(named=True):
        end = r["week_start"]
        start = end - timedelta(weeks=window - 1)
        b = base(data, NAME, TITLE, p, r["provider_code"])
        u = r["utilisation"]
        said = explain.pct_pair(u, threshold)
        rows.append(
            {
                **b,
                **money(r),
                "severity": severity(u, threshold),
                "subject_type": "service_line",
                "subject_code": f"{r['provider_code']}/{r['service_line']}",
                "service_line": r["service_line"],
                "period_start": start,
                "period_end": sunday(end),
                "weeks": window,
                "measure": "utilisation",
                "value": u,
                "threshold": threshold,
                "money_at_stake_gbp": r["unused_capacity_cost_gbp"],
                "figures": to_json(
                    {
                        **money(r),
                        "threshold": threshold,
                        "window_weeks": window,
                        "national_capacity_units": r["national_capacity"],
                    }
                ),
                "explanation": (
                    f"{who(b)} used {said[0]} of its contracted "
                    f"{explain.line(r['service_line'])} capacity over the "
                    f"{explain.weeks(window)} to {explain.day(sunday(end))} "
                    f"({explain.units(r['nhs_units'])} of {explain.units(r['capacity_units'])} "
                    f"units), below the {said[1]} threshold; "
                    f"{explain.gbp(r['unused_capacity_cost_gbp'])} of capacity went unused."
                ),
            }
        )
    return frame(rows)


def evidence(db: Database, filters: Filters, flag: Flag, p: RuleParams) -> Evidence:
    """Weekly utilisation against the threshold, the flagged window shaded."""
    del p
    return threshold_evidence(db, filters, flag)


RULE = Rule(
    name=NAME,
    title=TITLE,
    description=(
        "A provider used less than the threshold share of its contracted capacity for a "
        "service line over a rolling window of complete weeks. One flag per provider and "
        "service line, for its worst window. Providers whose capacity in the window is below "
        "a minimum share of the national capacity for that line are left out, so tiny "
        "contracts do not dominate."
    ),
    params=(
        number("threshold", "Utilisation threshold", 0.15, 0.01, 0.95, "Flag below this.", 0.01),
        whole(
            "window_weeks",
            "Window (weeks)",
            6,
            1,
            26,
            "Length of the rolling window of complete weeks.",
        ),
        number(
            "min_capacity_share",
            "Minimum capacity (share of national)",
            0.001,
            0.0,
            0.1,
            "Leave out providers whose capacity in the window is below this share of the "
            "national capacity for the service line in the same window.",
            0.0005,
        ),
    ),
    severity="utilisation below half the threshold → high, below three quarters of it → "
    "medium, else low.",
    money="the unused capacity cost of the provider's line over the window.",
    chart="threshold",
    compute=compute,
    evidence=evidence,
    order=10,
)
