"""The flag engine: every rule over the filtered weeks, one row per flag with every field.

Each rule reads the weekly figures fetched once by `data.load` (complete weeks only, contract
value apportioned to site × service line), computes with Polars over the whole frame, and
returns rows in `FLAG_SCHEMA`. SPC is the exception that loops, once per provider × service
line series (a few hundred short series), because its run and trend tests are sequential.

Money at stake:
- low utilisation, SPC, funnel, private beside unused: the unused capacity cost of the flagged
  subject over the flagged weeks (capacity units not used by NHS work, at unit prices);
- value for money: apportioned contract value − NHS units at reference prices (what was paid
  above the reference value of the NHS work delivered).
`contract_value_gbp` is always the contract value apportioned to the subject and weeks.

Severity (high / medium / low), by rule:
- low utilisation: utilisation below half the threshold → high, below three quarters → medium;
- SPC: a week beyond the lower process limit → high; a shift or trend → medium; else low;
- funnel: utilisation below half the national rate → high, else medium;
- value for money: cost per NHS unit ≥ 2 × the limit (multiple × reference price) → high,
  ≥ 1.5 × → medium, else low; no NHS units at all → high;
- private beside unused: more private than NHS units in the flagged weeks → high, at least half
  as many → medium, else low.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any, cast

import polars as pl

from capwatch.analytics.filters import Filters
from capwatch.analytics.flags import explain, funnel, spc
from capwatch.analytics.flags.data import MEASURE_COLUMNS, FlagData, load, weekly_grid
from capwatch.analytics.flags.rules import RULE_NAMES, Params, resolve_params, rule
from capwatch.db import Database

FLAG_SCHEMA: dict[str, Any] = {
    "rule": pl.String,
    "rule_title": pl.String,
    "severity": pl.String,
    "subject_type": pl.String,
    "subject_code": pl.String,
    "provider_code": pl.String,
    "provider_name": pl.String,
    "region": pl.String,
    "site_code": pl.String,
    "site_name": pl.String,
    "service_line": pl.String,
    "contract_id": pl.String,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "weeks": pl.Int64,
    "measure": pl.String,
    "value": pl.Float64,
    "threshold": pl.Float64,
    "capacity_units": pl.Int64,
    "nhs_units": pl.Int64,
    "private_units": pl.Int64,
    "utilisation": pl.Float64,
    "unused_capacity_cost_gbp": pl.Float64,
    "contract_value_gbp": pl.Float64,
    "money_at_stake_gbp": pl.Float64,
    "variation_icon": pl.String,
    "explanation": pl.String,
    "figures": pl.String,
    "parameters": pl.String,
    "evidence_from": pl.Date,
    "evidence_to": pl.Date,
}
FLAG_COLUMNS: tuple[str, ...] = tuple(FLAG_SCHEMA)
SEVERITY_ORDER: dict[str, int] = {"high": 0, "medium": 1, "low": 2}


def empty_flags() -> pl.DataFrame:
    return pl.DataFrame(schema=FLAG_SCHEMA)


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    if not rows:
        return empty_flags()
    return pl.DataFrame(
        [{c: r.get(c) for c in FLAG_COLUMNS} for r in rows], schema=FLAG_SCHEMA, orient="row"
    )


def _json(values: Mapping[str, Any]) -> str:
    def clean(v: Any) -> Any:
        if isinstance(v, float):
            return None if math.isnan(v) or math.isinf(v) else round(v, 6)
        if isinstance(v, date):
            return v.isoformat()
        return v

    return json.dumps({k: clean(v) for k, v in values.items()}, ensure_ascii=False)


def _sunday(week_start: date) -> date:
    return week_start + timedelta(days=6)


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def _base(
    data: FlagData, name: str, params: Mapping[str, float], provider_code: str
) -> dict[str, Any]:
    """Fields every flag of a provider shares."""
    info = data.providers.filter(pl.col("provider_code") == provider_code)
    row = info.row(0, named=True) if info.height else {}
    return {
        "rule": name,
        "rule_title": rule(name).title,
        "provider_code": provider_code,
        "provider_name": row.get("provider_name"),
        "region": row.get("region"),
        "contract_id": row.get("contract_id"),
        "parameters": _json(params),
        "evidence_from": data.weeks[0],
        "evidence_to": data.weeks[-1],
    }


def _who(r: Mapping[str, Any]) -> str:
    name = r.get("provider_name")
    return f"{r['provider_code']} ({name})" if name else str(r["provider_code"])


def _money(r: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "capacity_units": round(r["capacity_units"]),
        "nhs_units": round(r["nhs_units"]),
        "private_units": round(r["private_units"]),
        "utilisation": _ratio(r["nhs_units"], r["capacity_units"]),
        "unused_capacity_cost_gbp": r["unused_capacity_cost_gbp"],
        "contract_value_gbp": r["contract_value_gbp"],
    }


# --------------------------------------------------------------------------------------------
# 1. Low utilisation over a rolling window
# --------------------------------------------------------------------------------------------


def low_utilisation(data: FlagData, p: Mapping[str, float]) -> pl.DataFrame:
    """Worst rolling window per provider × service line, flagged when below the threshold.

    The window is `window_weeks` consecutive complete weeks (fewer when the period is shorter:
    then the whole period is the one window). A week a provider had no rows in counts as zero
    capacity and zero activity. Ties between windows go to the latest.
    """
    if not data.weeks:
        return empty_flags()
    window = min(int(p["window_weeks"]), len(data.weeks))
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
            & (pl.col("capacity_units") >= p["min_capacity_share"] * pl.col("national_capacity"))
        )
        .with_columns(utilisation=pl.col("nhs_units") / pl.col("capacity_units"))
    )
    worst = (
        windows.sort(["utilisation", "week_start"], descending=[False, True])
        .group_by(keys, maintain_order=True)
        .first()
        .filter(pl.col("utilisation") < p["threshold"])
    )
    threshold = float(p["threshold"])
    rows = []
    for r in worst.iter_rows(named=True):
        end = r["week_start"]
        start = end - timedelta(weeks=window - 1)
        base = _base(data, "low_utilisation", p, r["provider_code"])
        u = r["utilisation"]
        said = explain.pct_pair(u, threshold)
        rows.append(
            {
                **base,
                **_money(r),
                "severity": "high"
                if u < threshold / 2
                else "medium"
                if u < threshold * 0.75
                else "low",
                "subject_type": "service_line",
                "subject_code": f"{r['provider_code']}/{r['service_line']}",
                "service_line": r["service_line"],
                "period_start": start,
                "period_end": _sunday(end),
                "weeks": window,
                "measure": "utilisation",
                "value": u,
                "threshold": threshold,
                "money_at_stake_gbp": r["unused_capacity_cost_gbp"],
                "figures": _json(
                    {
                        **_money(r),
                        "threshold": threshold,
                        "window_weeks": window,
                        "national_capacity_units": r["national_capacity"],
                    }
                ),
                "explanation": (
                    f"{_who(base)} used {said[0]} of its contracted "
                    f"{explain.line(r['service_line'])} capacity over the "
                    f"{explain.weeks(window)} to {explain.day(_sunday(end))} "
                    f"({explain.units(r['nhs_units'])} of {explain.units(r['capacity_units'])} "
                    f"units), below the {said[1]} threshold; "
                    f"{explain.gbp(r['unused_capacity_cost_gbp'])} of capacity went unused."
                ),
            }
        )
    return _frame(rows)


# --------------------------------------------------------------------------------------------
# 2. SPC (Making Data Count) on weekly utilisation
# --------------------------------------------------------------------------------------------


def provider_line_weeks(data: FlagData) -> pl.DataFrame:
    """Weekly sums per provider × service line in scope, weeks with capacity only."""
    keys = ["provider_code", "service_line"]
    return (
        data.scoped.group_by([*keys, "week_start"])
        .agg(pl.col(c).sum() for c in MEASURE_COLUMNS)
        .filter(pl.col("capacity_units") > 0)
        .with_columns(utilisation=pl.col("nhs_units") / pl.col("capacity_units"))
        .sort([*keys, "week_start"])
    )


def spc_chart(series: pl.DataFrame, p: Mapping[str, float]) -> pl.DataFrame:
    """XmR chart of one provider × service line series (one row per week, in order)."""
    chart = spc.xmr(
        series["utilisation"].to_list(),
        baseline=int(p["baseline_weeks"]),
        run_length=int(p["run_length"]),
        trend_length=int(p["trend_length"]),
    )
    return pl.concat([series, chart], how="horizontal")


def _blocks(flags: list[bool]) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    out: list[tuple[int, int]] = []
    start: int | None = None
    for i, f in enumerate([*flags, False]):
        if f and start is None:
            start = i
        elif not f and start is not None:
            out.append((start, i - 1))
            start = None
    return out


def _spc_signals(chart: pl.DataFrame, picked: pl.DataFrame) -> list[str]:
    """Plain-English list of the concern signals among the picked points."""
    words: list[str] = []
    below = int((picked["beyond_limit"] == -1).sum())
    if below:
        words.append(f"{explain.weeks(below)} below the lower process limit")
    for column, text in (("shift", "below the mean"), ("trend", "falling in a row")):
        for first, last in _blocks((chart[column] == -1).to_list()):
            if picked["point"].is_in(list(range(first, last + 1))).any():
                words.append(f"{last - first + 1} weeks {text}")
    if (picked["two_of_three"] == -1).any():
        words.append("2 of 3 weeks close to the lower limit")
    return words


def spc_flags(data: FlagData, p: Mapping[str, float]) -> pl.DataFrame:
    """Special cause concern touching the latest `recent_weeks` points of each series."""
    rows = []
    recent = int(p["recent_weeks"])
    for series in provider_line_weeks(data).partition_by(
        ["provider_code", "service_line"], maintain_order=True
    ):
        if series.height < int(p["min_weeks"]):
            continue
        chart = spc_chart(series, p)
        concern = (chart["point_type"] == spc.CONCERN).to_list()
        blocks = [
            b for b in _blocks(concern) if b[1] >= chart.height - recent
        ]  # blocks of concern that reach into the recent weeks
        if not blocks:
            continue
        picked = chart.filter(
            pl.col("point").is_in([i for a, b in blocks for i in range(a, b + 1)])
        )
        sums = {c: float(picked[c].sum()) for c in MEASURE_COLUMNS}
        first = chart.row(0, named=True)
        latest = chart.row(-1, named=True)
        code, line = first["provider_code"], first["service_line"]
        base = _base(data, "spc", p, code)
        severity = (
            "high"
            if (picked["beyond_limit"] == -1).any()
            else "medium"
            if ((picked["shift"] == -1) | (picked["trend"] == -1)).any()
            else "low"
        )
        start = cast(date, picked["week_start"].min())  # picked is not empty
        end = cast(date, picked["week_start"].max())
        icon = spc.variation_icon(chart)
        signals = _spc_signals(chart, picked)
        rows.append(
            {
                **base,
                **_money(sums),
                "severity": severity,
                "subject_type": "service_line",
                "subject_code": f"{code}/{line}",
                "service_line": line,
                "period_start": start,
                "period_end": _sunday(end),
                "weeks": picked.height,
                "measure": "utilisation",
                "value": latest["utilisation"],
                "threshold": latest["lower_limit"],
                "money_at_stake_gbp": sums["unused_capacity_cost_gbp"],
                "variation_icon": icon,
                "evidence_from": chart["week_start"].min(),
                "evidence_to": chart["week_start"].max(),
                "figures": _json(
                    {
                        **_money(sums),
                        "mean": latest["mean"],
                        "lower_limit": latest["lower_limit"],
                        "upper_limit": latest["upper_limit"],
                        "latest_week": latest["week_start"],
                        "latest_utilisation": latest["utilisation"],
                        "points": chart.height,
                        "signals": "; ".join(signals),
                    }
                ),
                "explanation": (
                    f"{_who(base)}'s weekly {explain.line(line)} utilisation shows special "
                    f"cause concern in the weeks {explain.day(start)} to "
                    f"{explain.day(_sunday(end))}: {', '.join(signals)}. "
                    f"Mean {explain.pct(latest['mean'])}, lower process limit "
                    f"{explain.pct(latest['lower_limit'])}; the latest week "
                    f"({explain.day(latest['week_start'])}) was "
                    f"{explain.pct(latest['utilisation'])}; "
                    f"{explain.gbp(sums['unused_capacity_cost_gbp'])} of capacity went unused "
                    "in the flagged weeks."
                ),
            }
        )
    return _frame(rows)


# --------------------------------------------------------------------------------------------
# 3. Funnel plot: provider utilisation against capacity volume
# --------------------------------------------------------------------------------------------


def funnel_points(data: FlagData, p: Mapping[str, float]) -> pl.DataFrame:
    """One row per provider × service line (every provider in the country, `in_scope` marked)
    with its utilisation, the national rate of its line and its funnel limits."""
    keys = ["provider_code", "service_line"]
    sums = [pl.col(c).sum() for c in MEASURE_COLUMNS]
    everyone = data.weekly.group_by(keys).agg(sums).filter(pl.col("capacity_units") > 0)
    scoped = data.scoped.group_by(keys).agg(sums).filter(pl.col("capacity_units") > 0)
    rates = data.weekly.group_by("service_line").agg(
        national_rate=pl.col("nhs_units").sum() / pl.col("capacity_units").sum()
    )
    out = []
    for line_rate in rates.iter_rows(named=True):
        line, rate = line_rate["service_line"], line_rate["national_rate"]
        peers = everyone.filter(pl.col("service_line") == line)
        phi, tau2 = funnel.dispersion(
            (peers["nhs_units"] / peers["capacity_units"]).to_list(),
            peers["capacity_units"].to_list(),
            rate,
            int(p["overdispersion"]),
            float(p["winsor"]),
        )
        mine = scoped.filter(pl.col("service_line") == line)
        limits = {
            name: [
                funnel.limits(rate, n, z, phi_value=phi, tau2=tau2)[side]
                for n in mine["capacity_units"].to_list()
            ]
            for name, z, side in (
                ("lower_95", funnel.Z95, 0),
                ("upper_95", funnel.Z95, 1),
                ("lower_998", funnel.Z998, 0),
                ("upper_998", funnel.Z998, 1),
            )
        }
        out.append(
            mine.with_columns(
                utilisation=pl.col("nhs_units") / pl.col("capacity_units"),
                national_rate=pl.lit(rate, pl.Float64),
                phi=pl.lit(phi, pl.Float64),
                tau2=pl.lit(tau2, pl.Float64),
                **{k: pl.Series(v, dtype=pl.Float64) for k, v in limits.items()},
            )
        )
    if not out:
        return pl.DataFrame()
    return pl.concat(out).sort(keys)


def funnel_flags(data: FlagData, p: Mapping[str, float]) -> pl.DataFrame:
    """Provider × service line below the lower 99.8% limit."""
    if not data.weeks:
        return empty_flags()
    points = funnel_points(data, p)
    if points.is_empty():
        return empty_flags()
    rows = []
    k = len(data.weeks)
    for r in points.filter(pl.col("utilisation") < pl.col("lower_998")).iter_rows(named=True):
        base = _base(data, "funnel", p, r["provider_code"])
        u, rate = r["utilisation"], r["national_rate"]
        said = explain.pct_pair(u, r["lower_998"])
        rows.append(
            {
                **base,
                **_money(r),
                "severity": "high" if u < rate / 2 else "medium",
                "subject_type": "service_line",
                "subject_code": f"{r['provider_code']}/{r['service_line']}",
                "service_line": r["service_line"],
                "period_start": data.weeks[0],
                "period_end": _sunday(data.weeks[-1]),
                "weeks": k,
                "measure": "utilisation",
                "value": u,
                "threshold": r["lower_998"],
                "money_at_stake_gbp": r["unused_capacity_cost_gbp"],
                "figures": _json(
                    {
                        **_money(r),
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
                    }
                ),
                "explanation": (
                    f"{_who(base)} used {said[0]} of its {explain.line(r['service_line'])}"
                    f" capacity over the {explain.weeks(k)} to "
                    f"{explain.day(_sunday(data.weeks[-1]))} ({explain.units(r['nhs_units'])} of "
                    f"{explain.units(r['capacity_units'])} units), below the lower 99.8% funnel "
                    f"limit of {said[1]} for its capacity volume (national "
                    f"rate {explain.pct(rate)}); {explain.gbp(r['unused_capacity_cost_gbp'])} "
                    "of capacity went unused."
                ),
            }
        )
    return _frame(rows)


# --------------------------------------------------------------------------------------------
# 4. Value for money
# --------------------------------------------------------------------------------------------


def value_for_money(data: FlagData, p: Mapping[str, float]) -> pl.DataFrame:
    """Contract value per NHS unit above `multiple` × the reference price of that NHS work.

    Reference price = NHS units at unit prices ÷ NHS units (weighted by the NHS activity mix),
    so the test is contract value > multiple × NHS value. With no NHS units the contract bought
    nothing: it is flagged, with the capacity-weighted price as the reference.
    """
    if not data.weeks:
        return empty_flags()
    multiple = float(p["multiple"])
    per = (
        data.scoped.group_by("provider_code")
        .agg(pl.col(c).sum() for c in MEASURE_COLUMNS)
        .filter(
            (pl.col("contract_value_gbp") > 0)
            & (pl.col("contract_value_gbp") > multiple * pl.col("nhs_value_gbp"))
        )
        .sort("provider_code")
    )
    rows = []
    k = len(data.weeks)
    to = explain.day(_sunday(data.weeks[-1]))
    for r in per.iter_rows(named=True):
        base = _base(data, "value_for_money", p, r["provider_code"])
        nhs, cv = r["nhs_units"], r["contract_value_gbp"]
        if nhs > 0:
            reference = r["nhs_value_gbp"] / nhs
            per_unit: float | None = cv / nhs
        else:
            reference = _ratio(r["capacity_value_gbp"], r["capacity_units"]) or 0.0
            per_unit = None
        limit = multiple * reference
        times = per_unit / reference if per_unit is not None and reference else None
        severity = (
            "high"
            if times is None or times >= 2 * multiple
            else "medium"
            if times >= 1.5 * multiple
            else "low"
        )
        at_stake = cv - r["nhs_value_gbp"]
        if per_unit is None:
            said = (
                f"{_who(base)}'s contract cost {explain.gbp(cv)} over the {explain.weeks(k)} to "
                f"{to} and delivered no NHS units"
            )
        else:
            said = (
                f"{_who(base)}'s contract cost {explain.gbp_exact(per_unit)} per NHS unit "
                f"delivered over the {explain.weeks(k)} to {to} ({explain.gbp(cv)} for "
                f"{explain.units(nhs)} units), {times:.1f} times the reference price of that "
                f"work ({explain.gbp_exact(reference)} a unit), above the {multiple:g}× limit"
            )
        rows.append(
            {
                **base,
                **_money(r),
                "severity": severity,
                "subject_type": "contract",
                "subject_code": base["contract_id"] or r["provider_code"],
                "period_start": data.weeks[0],
                "period_end": _sunday(data.weeks[-1]),
                "weeks": k,
                "measure": "cost_per_nhs_unit_gbp",
                "value": per_unit,
                "threshold": limit,
                "money_at_stake_gbp": at_stake,
                "figures": _json(
                    {
                        **_money(r),
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
    return _frame(rows)


# --------------------------------------------------------------------------------------------
# 5. Private work beside unused NHS capacity
# --------------------------------------------------------------------------------------------


def private_beside_unused(data: FlagData, p: Mapping[str, float]) -> pl.DataFrame:
    """Site × service line with `min_weeks` or more weeks of private units > 0 while NHS
    utilisation (with capacity > 0) was below the threshold."""
    threshold = float(p["threshold"])
    keys = ["site_code", "service_line"]
    weeks = (
        data.scoped.group_by([*keys, "week_start"])
        .agg(
            pl.col("site_name").first(),
            pl.col("provider_code").first(),
            *(pl.col(c).sum() for c in MEASURE_COLUMNS),
        )
        .filter(
            (pl.col("capacity_units") > 0)
            & (pl.col("private_units") > 0)
            & (pl.col("nhs_units") / pl.col("capacity_units") < threshold)
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
    rows = []
    for r in per.iter_rows(named=True):
        base = _base(data, "private_beside_unused", p, r["provider_code"])
        u = r["nhs_units"] / r["capacity_units"]
        line = explain.line(r["service_line"])
        priv, nhs = r["private_units"], r["nhs_units"]
        said = explain.pct_pair(u, threshold)
        rows.append(
            {
                **base,
                **_money(r),
                "severity": "high" if priv > nhs else "medium" if priv >= nhs / 2 else "low",
                "subject_type": "site",
                "subject_code": f"{r['site_code']}/{r['service_line']}",
                "site_code": r["site_code"],
                "site_name": r["site_name"],
                "service_line": r["service_line"],
                "period_start": r["first_week"],
                "period_end": _sunday(r["last_week"]),
                "weeks": r["weeks"],
                "measure": "utilisation",
                "value": u,
                "threshold": threshold,
                "money_at_stake_gbp": r["unused_capacity_cost_gbp"],
                "figures": _json({**_money(r), "weeks": r["weeks"], "threshold": threshold}),
                "explanation": (
                    f"Site {r['site_code']} ({r['site_name'] or _who(base)}) of {_who(base)} "
                    f"delivered {explain.units(priv)} privately funded {line} units in "
                    f"{explain.weeks(r['weeks'])} between {explain.day(r['first_week'])} and "
                    f"{explain.day(_sunday(r['last_week']))} when it used only "
                    f"{said[0]} of its NHS {line} capacity ({explain.units(nhs)} of "
                    f"{explain.units(r['capacity_units'])} units, below the "
                    f"{said[1]} threshold); "
                    f"{explain.gbp(r['unused_capacity_cost_gbp'])} of NHS capacity went unused "
                    "in those weeks."
                ),
            }
        )
    return _frame(rows)


RULE_FUNCTIONS = {
    "low_utilisation": low_utilisation,
    "spc": spc_flags,
    "funnel": funnel_flags,
    "value_for_money": value_for_money,
    "private_beside_unused": private_beside_unused,
}


def compute_flags(
    db: Database,
    filters: Filters,
    rules: Iterable[str] | None = None,
    params: Mapping[str, Mapping[str, float]] | None = None,
) -> pl.DataFrame:
    """Every flag under the filters, most money at stake first (columns: `FLAG_SCHEMA`).

    `rules` picks rules by name (all when None); `params` overrides defaults, e.g.
    `{"low_utilisation": {"threshold": 0.25}}`. Unknown names or out-of-bounds values raise
    `FlagRuleError` before any query runs.
    """
    names = list(RULE_NAMES if rules is None else rules)
    for name in names:
        rule(name)
    resolved: Params = resolve_params(params)
    data = load(db, filters)
    frames = [RULE_FUNCTIONS[name](data, resolved[name]) for name in names]
    flags = pl.concat([empty_flags(), *frames], how="vertical")
    return flags.sort(
        ["money_at_stake_gbp", "rule", "subject_code"],
        descending=[True, False, False],
        nulls_last=True,
    )
