"""Below the funnel: a provider's utilisation against the national rate for its volume.

The statistics (arcsine-square-root z-scores, winsorised over-dispersion, additive τ² or
multiplicative φ, exact normal quantiles) are in `capwatch.analytics.flags.funnel`.
"""

from __future__ import annotations

import math
from datetime import date
from typing import cast

import polars as pl

from capwatch.analytics.filters import Filters
from capwatch.analytics.flags import explain, funnel
from capwatch.analytics.flags.base import (
    Evidence,
    Flag,
    FlagRow,
    Rule,
    RuleParams,
    base,
    empty_flags,
    frame,
    line_label,
    money,
    narrow,
    sunday,
    to_json,
    who,
)
from capwatch.analytics.flags.data import MEASURE_COLUMNS, FlagData, load
from capwatch.analytics.flags.params import choice, number
from capwatch.analytics.utilisation import utilisation
from capwatch.db import Database

NAME = "funnel"
TITLE = "Below the funnel"
LIMITS = (
    ("lower_95", funnel.Z95, 0),
    ("upper_95", funnel.Z95, 1),
    ("lower_998", funnel.Z998, 0),
    ("upper_998", funnel.Z998, 1),
)
SCOPE_NOTE = (
    "Only providers in your area are plotted. The rate and the limits are national, the same "
    "as for every user, so a provider's flag does not depend on who is looking."
)


def severity(utilisation: float, national_rate: float) -> str:
    """Below half the national rate → high, else medium."""
    return "high" if utilisation < national_rate / 2 else "medium"


def funnel_points(data: FlagData, p: RuleParams) -> pl.DataFrame:
    """One row per provider × service line in scope with its utilisation, the national rate
    of its line, the over-dispersion (from every provider in the country) and its limits."""
    keys = ["provider_code", "service_line"]
    scale, method = str(p["scale"]), str(p["overdispersion"])
    sums = [pl.col(c).sum() for c in MEASURE_COLUMNS]
    everyone = data.weekly.group_by(keys).agg(sums).filter(pl.col("capacity_units") > 0)
    scoped = data.scoped.group_by(keys).agg(sums).filter(pl.col("capacity_units") > 0)
    rates = data.weekly.group_by("service_line").agg(
        national_rate=utilisation(pl.col("nhs_units").sum(), pl.col("capacity_units").sum())
    )
    out = []
    for line_rate in rates.sort("service_line").iter_rows(named=True):
        line, rate = line_rate["service_line"], line_rate["national_rate"]
        if rate is None or math.isnan(rate):
            continue
        peers = everyone.filter(pl.col("service_line") == line)
        phi, tau2 = funnel.dispersion(
            peers.select(utilisation(pl.col("nhs_units"), pl.col("capacity_units")))[
                "nhs_units"
            ].to_list(),
            peers["capacity_units"].to_list(),
            rate,
            method,
            float(p["winsor"]),
            scale,
        )
        mine = scoped.filter(pl.col("service_line") == line)
        limits = {
            name: [
                funnel.limits(rate, n, z, phi_value=phi, tau2=tau2, scale=scale)[side]
                for n in mine["capacity_units"].to_list()
            ]
            for name, z, side in LIMITS
        }
        out.append(
            mine.with_columns(
                utilisation=utilisation(pl.col("nhs_units"), pl.col("capacity_units")),
                national_rate=pl.lit(rate, pl.Float64),
                phi=pl.lit(phi, pl.Float64),
                tau2=pl.lit(tau2, pl.Float64),
                **{k: pl.Series(v, dtype=pl.Float64) for k, v in limits.items()},
            )
        )
    if not out:
        return pl.DataFrame()
    return pl.concat(out).sort(keys)


def compute(data: FlagData, p: RuleParams) -> pl.DataFrame:
    """Provider × service line below the lower 99.8% limit."""
    if not data.weeks:
        return empty_flags()
    points = funnel_points(data, p)
    if points.is_empty():
        return empty_flags()
    rows: list[FlagRow] = []
    k = len(data.weeks)
    for r in points.filter(pl.col("utilisation") < pl.col("lower_998")).iter_rows(named=True):
        b = base(data, NAME, TITLE, p, r["provider_code"])
        u, rate = r["utilisation"], r["national_rate"]
        said = explain.pct_pair(u, r["lower_998"])
        rows.append(
            {
                **b,
                **money(r),
                "severity": severity(u, rate),
                "subject_type": "service_line",
                "subject_code": f"{r['provider_code']}/{r['service_line']}",
                "service_line": r["service_line"],
                "period_start": data.weeks[0],
                "period_end": sunday(data.weeks[-1]),
                "weeks": k,
                "measure": "utilisation",
                "value": u,
                "threshold": r["lower_998"],
                "money_at_stake_gbp": r["unused_capacity_cost_gbp"],
                "figures": to_json(
                    {
                        **money(r),
                        **{
                            c: r[c]
                            for c in (
                                "national_rate",
                                "lower_95",
                                "lower_998",
                                "upper_95",
                                "upper_998",
                                "phi",
                                "tau2",
                            )
                        },
                        "scale": p["scale"],
                        "overdispersion": p["overdispersion"],
                    }
                ),
                "explanation": (
                    f"{who(b)} used {said[0]} of its {explain.line(r['service_line'])}"
                    f" capacity over the {explain.weeks(k)} to "
                    f"{explain.day(sunday(data.weeks[-1]))} ({explain.units(r['nhs_units'])} of "
                    f"{explain.units(r['capacity_units'])} units), below the lower 99.8% funnel "
                    f"limit of {said[1]} for its capacity volume (national "
                    f"rate {explain.pct(rate)}); {explain.gbp(r['unused_capacity_cost_gbp'])} "
                    "of capacity went unused."
                ),
            }
        )
    return frame(rows)


def _log_steps(low: float, high: float, steps: int) -> list[float]:
    a, b = math.log(low), math.log(max(high, low * 1.01))
    return [math.exp(a + (b - a) * i / (steps - 1)) for i in range(steps)]


def funnel_data(
    db: Database,
    filters: Filters,
    service_line: str,
    week_from: date | None,
    week_to: date | None,
    p: RuleParams,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(points, curve): the utilisation of the line of every provider the filters' access scope
    may see (the region, group and provider filters are dropped: a funnel shows the peers),
    with its limits, and the limits traced over the range of capacity volumes.

    The rate and the limits are national, as in the rule, whoever looks: a flag that may end
    a contract must not depend on the viewer's regions, and a region's handful of providers is
    too few to estimate the over-dispersion the limits rest on. Only these aggregates (which
    name no provider) come from outside the scope; every point plotted is inside it.
    """
    subject = narrow(
        filters, week_from, week_to, service_lines=(service_line,),
        regions=(), groups=(), providers=(),
    )  # fmt: skip
    data = load(db, subject)
    points = funnel_points(data, p)
    if points.is_empty():
        return points, pl.DataFrame()
    points = points.join(
        data.providers.select("provider_code", "provider_name"), on="provider_code", how="left"
    )
    rate, phi, tau2 = (points[c][0] for c in ("national_rate", "phi", "tau2"))
    low = cast(float, points["capacity_units"].min())  # not empty, so a number
    high = cast(float, points["capacity_units"].max())
    sizes = _log_steps(max(low / 2, 1.0), high * 1.2, 80)
    scale = str(p["scale"])
    curve = pl.DataFrame(
        {
            "capacity_units": sizes,
            "national_rate": [rate] * len(sizes),
            **{
                name: [
                    funnel.limits(rate, n, z, phi_value=phi, tau2=tau2, scale=scale)[side]
                    for n in sizes
                ]
                for name, z, side in LIMITS
            },
        }
    )
    return points, curve


def evidence(db: Database, filters: Filters, flag: Flag, p: RuleParams) -> Evidence:
    """The funnel of the flag's service line, the flagged provider highlighted."""
    line = flag["service_line"]
    points, curve = funnel_data(db, filters, line, flag["evidence_from"], flag["evidence_to"], p)
    whose = "providers" if filters.scope_regions is None else "providers in your area"
    return Evidence(
        "funnel",
        f"{line_label(line)}: {whose} against the national rate",
        {"points": points, "curve": curve},
        {"highlight": flag["provider_code"]},
        note=SCOPE_NOTE if filters.scope_regions is not None else None,
    )


RULE = Rule(
    name=NAME,
    title=TITLE,
    description=(
        "Each provider's utilisation of a service line is compared with the national rate, "
        "allowing for its capacity volume (funnel plot with 95% and 99.8% limits, on the NHS "
        "reference method of FunnelPlotR and SHMI: arcsine-square-root z-scores, "
        "over-dispersion from z-scores winsorised at each end, exact normal quantiles). "
        "Providers below the lower 99.8% limit are flagged. Limits are widened for "
        "over-dispersion (real differences between providers), as plain binomial limits "
        "would flag almost everyone at these volumes."
    ),
    params=(
        choice(
            "overdispersion",
            "Over-dispersion",
            funnel.ADDITIVE,
            funnel.METHODS,
            "additive: random-effects τ² added to each provider's variance (FunnelPlotR's "
            "default); multiplicative: variance × Spiegelhalter's φ (floored at 1); none: "
            "plain limits.",
        ),
        choice(
            "scale",
            "Scale",
            funnel.ARCSINE,
            funnel.SCALES,
            "arcsine: z-scores and limits on the arcsine-square-root scale (FunnelPlotR, "
            "SHMI); proportion: on the proportion scale, p ± z√(p(1−p)/n) "
            "(PHEindicatormethods' proportion funnel).",
        ),
        number(
            "winsor",
            "Winsorising share",
            0.1,
            0.0,
            0.4,
            "Share of z-scores pulled in at each end (to the quantile) before estimating "
            "over-dispersion.",
            0.05,
        ),
    ),
    severity="utilisation below half the national rate → high, else medium.",
    money="the unused capacity cost of the provider's line over the period.",
    chart="funnel",
    compute=compute,
    evidence=evidence,
    order=30,
)
