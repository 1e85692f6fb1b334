"""Private work beside unused NHS capacity at the same site, service line and week."""

from __future__ import annotations

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
    frame,
    money,
    sunday,
    threshold_evidence,
    to_json,
    who,
)
from capwatch.analytics.flags.data import MEASURE_COLUMNS, FlagData
from capwatch.analytics.flags.params import number, whole
from capwatch.analytics.utilisation import utilisation
from capwatch.db import Database

NAME = "private_beside_unused"
TITLE = "Private work beside unused NHS capacity"


def severity(private_units: float, nhs_units: float) -> str:
    """More private than NHS units → high, at least half as many → medium, else low."""
    if private_units > nhs_units:
        return "high"
    return "medium" if private_units >= nhs_units / 2 else "low"


def compute(data: FlagData, p: RuleParams) -> pl.DataFrame:
    """Site × service line with `min_weeks` or more weeks of private units > 0 while NHS
    utilisation (with capacity > 0) was below the threshold."""
    threshold = float(p["threshold"])
    keys = ["site_code", "service_line"]
    weeks = (
        # in the rows' order: the sums below then add up in one order, the same every run
        data.scoped.group_by([*keys, "week_start"], maintain_order=True)
        .agg(
            pl.col("site_name").first(),
            pl.col("provider_code").first(),
            *(pl.col(c).sum() for c in MEASURE_COLUMNS),
        )
        .filter(
            (pl.col("capacity_units") > 0)
            & (pl.col("private_units") > 0)
            & (utilisation(pl.col("nhs_units"), pl.col("capacity_units")) < threshold)
        )
    )
    per = (
        weeks.group_by(keys)
        .agg(
            pl.col("site_name").first(),
            pl.col("provider_code").first(),
            pl.len().alias("weeks"),
            pl.col("week_start").min().alias("first_week"),
            pl.col("week_start").max().alias("last_week"),
            *(pl.col(c).sum() for c in MEASURE_COLUMNS),
        )
        .filter(pl.col("weeks") >= int(p["min_weeks"]))
        .sort(keys)
    )
    rows: list[FlagRow] = []
    for r in per.iter_rows(named=True):
        b = base(data, NAME, TITLE, p, r["provider_code"])
        u = utilisation(r["nhs_units"], r["capacity_units"])
        line = explain.line(r["service_line"])
        priv, nhs = r["private_units"], r["nhs_units"]
        said = explain.pct_pair(u, threshold)
        rows.append(
            {
                **b,
                **money(r),
                "severity": severity(priv, nhs),
                "subject_type": "site",
                "subject_code": f"{r['site_code']}/{r['service_line']}",
                "site_code": r["site_code"],
                "site_name": r["site_name"],
                "service_line": r["service_line"],
                "period_start": r["first_week"],
                "period_end": sunday(r["last_week"]),
                "weeks": r["weeks"],
                "measure": "utilisation",
                "value": u,
                "threshold": threshold,
                "money_at_stake_gbp": r["unused_capacity_cost_gbp"],
                "figures": to_json({**money(r), "weeks": r["weeks"], "threshold": threshold}),
                "explanation": (
                    f"Site {r['site_code']} ({r['site_name'] or who(b)}) of {who(b)} "
                    f"delivered {explain.units(priv)} privately funded {line} units in "
                    f"{explain.weeks(r['weeks'])} between {explain.day(r['first_week'])} and "
                    f"{explain.day(sunday(r['last_week']))} when it used only "
                    f"{said[0]} of its NHS {line} capacity ({explain.units(nhs)} of "
                    f"{explain.units(r['capacity_units'])} units, below the "
                    f"{said[1]} threshold); "
                    f"{explain.gbp(r['unused_capacity_cost_gbp'])} of NHS capacity went unused "
                    "in those weeks."
                ),
            }
        )
    return frame(rows)


def evidence(db: Database, filters: Filters, flag: Flag, p: RuleParams) -> Evidence:
    """The site's weekly NHS utilisation against the threshold."""
    del p
    return threshold_evidence(db, filters, flag)


RULE = Rule(
    name=NAME,
    title=TITLE,
    description=(
        "A site delivered privately funded work in weeks when its NHS utilisation of the "
        "same service line was below the threshold. One flag per site and service line, "
        "counting the weeks."
    ),
    params=(
        number(
            "threshold",
            "NHS utilisation threshold",
            0.15,
            0.01,
            0.95,
            "A week counts when NHS utilisation is below this.",
            0.01,
        ),
        whole(
            "min_weeks",
            "Minimum weeks",
            4,
            1,
            52,
            "Flag a site and service line with at least this many such weeks.",
        ),
    ),
    severity="more private than NHS units in the flagged weeks → high, at least half as many "
    "→ medium, else low.",
    money="the unused NHS capacity cost of the site's line in the flagged weeks.",
    chart="threshold",
    compute=compute,
    evidence=evidence,
    order=50,
)
