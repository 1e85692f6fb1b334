"""Poor value for money: contract value per NHS unit far above the reference price."""

from __future__ import annotations

from datetime import date

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
    narrow,
    ratio,
    sunday,
    to_json,
    who,
)
from capwatch.analytics.flags.data import MEASURE_COLUMNS, FlagData, load
from capwatch.analytics.flags.params import number
from capwatch.db import Database

NAME = "value_for_money"
TITLE = "Poor value for money"


def severity(times: float | None, multiple: float) -> str:
    """≥ 2 × the limit → high, ≥ 1.5 × → medium, else low; no NHS units at all → high."""
    if times is None or times >= 2 * multiple:
        return "high"
    return "medium" if times >= 1.5 * multiple else "low"


def compute(data: FlagData, p: RuleParams) -> pl.DataFrame:
    """Contract value per NHS unit above `multiple` × the reference price of that NHS work.

    A flag on the whole contract: it reads every service line in scope whatever the
    service-line filter (contract value is not split by line), so a line filter leaves it as
    it is (a line filter only picks which providers are looked at: those with that line).
    Reference price = NHS units at unit prices ÷ NHS units (weighted by the NHS
    activity mix), so the test is contract value > multiple × NHS value. With no NHS units the
    contract bought nothing: it is flagged, with the capacity-weighted price as the reference.
    """
    if not data.weeks:
        return empty_flags()
    multiple = float(p["multiple"])
    per = (
        data.scoped_all_lines.filter(
            pl.col("provider_code").is_in(data.scoped["provider_code"].unique().implode())
        )
        .group_by("provider_code")
        .agg(pl.col(c).sum() for c in MEASURE_COLUMNS)
        .filter(
            (pl.col("contract_value_gbp") > 0)
            & (pl.col("contract_value_gbp") > multiple * pl.col("nhs_value_gbp"))
        )
        .sort("provider_code")
    )
    rows: list[FlagRow] = []
    k = len(data.weeks)
    to = explain.day(sunday(data.weeks[-1]))
    for r in per.iter_rows(named=True):
        b = base(data, NAME, TITLE, p, r["provider_code"])
        nhs, cv = r["nhs_units"], r["contract_value_gbp"]
        if nhs > 0:
            reference = r["nhs_value_gbp"] / nhs
            per_unit: float | None = cv / nhs
        else:
            reference = ratio(r["capacity_value_gbp"], r["capacity_units"]) or 0.0
            per_unit = None
        limit = multiple * reference
        times = per_unit / reference if per_unit is not None and reference else None
        at_stake = cv - r["nhs_value_gbp"]
        if per_unit is None:
            said = (
                f"{who(b)}'s contract cost {explain.gbp(cv)} over the {explain.weeks(k)} to "
                f"{to} and delivered no NHS units"
            )
        else:
            said = (
                f"{who(b)}'s contract cost {explain.gbp_exact(per_unit)} per NHS unit "
                f"delivered over the {explain.weeks(k)} to {to} ({explain.gbp(cv)} for "
                f"{explain.units(nhs)} units), {times:.1f} times the reference price of that "
                f"work ({explain.gbp_exact(reference)} a unit), above the {multiple:g}× limit"
            )
        rows.append(
            {
                **b,
                **money(r),
                "severity": severity(times, multiple),
                "subject_type": "contract",
                "subject_code": b["contract_id"] or r["provider_code"],
                "period_start": data.weeks[0],
                "period_end": sunday(data.weeks[-1]),
                "weeks": k,
                "measure": "cost_per_nhs_unit_gbp",
                "value": per_unit,
                "threshold": limit,
                "money_at_stake_gbp": at_stake,
                "figures": to_json(
                    {
                        **money(r),
                        "nhs_value_gbp": r["nhs_value_gbp"],
                        "cost_per_nhs_unit_gbp": per_unit,
                        "reference_price_gbp": reference,
                        "multiple": multiple,
                        "times_reference": times,
                    }
                ),
                "explanation": (
                    f"{said}; {explain.gbp(at_stake)} was paid above the reference value of the "
                    "NHS work delivered."
                ),
            }
        )
    return frame(rows)


def value_for_money_weekly(
    db: Database,
    filters: Filters,
    provider_code: str,
    week_from: date | None = None,
    week_to: date | None = None,
) -> pl.DataFrame:
    """Weekly apportioned contract value against the reference value of the NHS work done
    (over the filters' service lines, as the flag)."""
    data = load(db, narrow(filters, week_from, week_to, providers=(provider_code,)))
    return (
        data.scoped.group_by("week_start")
        .agg(
            pl.col("contract_value_gbp").sum(),
            pl.col("nhs_value_gbp").sum(),
            pl.col("nhs_units").sum(),
        )
        .sort("week_start")
    )


def evidence(db: Database, filters: Filters, flag: Flag, p: RuleParams) -> Evidence:
    """Weekly contract value against the reference value of the NHS work × the multiple."""
    code = flag["provider_code"]
    weekly = value_for_money_weekly(db, filters, code, flag["evidence_from"], flag["evidence_to"])
    return Evidence(
        "value",
        f"{code}: contract value against work",
        {"weekly": weekly},
        {"multiple": float(p["multiple"])},
    )


RULE = Rule(
    name=NAME,
    title=TITLE,
    description=(
        "What the contract cost per NHS unit delivered (contract value apportioned to the "
        "period ÷ NHS units) is more than a multiple of the reference unit price of the same "
        "NHS work."
    ),
    params=(
        number(
            "multiple",
            "Price multiple",
            5.0,
            1.0,
            50.0,
            "Flag when the cost per NHS unit is above this multiple of the reference price.",
            0.5,
        ),
    ),
    severity="cost per NHS unit at least 2 × the limit (multiple × reference price) → high, "
    "at least 1.5 × → medium, else low; no NHS units at all → high.",
    money="the apportioned contract value less the NHS units at reference prices (what was "
    "paid above the reference value of the NHS work delivered).",
    chart="value",
    compute=compute,
    evidence=evidence,
    order=40,
)
