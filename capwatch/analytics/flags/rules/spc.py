"""Special cause variation: a Making Data Count XmR chart of weekly utilisation.

Series shorter than `min_weeks` are not assessed, and the run says so in a note (never
silently). With fewer than 12 baseline points (a `min_weeks` or `baseline_weeks` below 12) the
limits are trial limits, as NHSRplotthedots calls them, and the flag's sentence says so.
"""

from __future__ import annotations

from datetime import date
from typing import cast

import polars as pl

from capwatch.analytics.filters import Filters
from capwatch.analytics.flags import explain, spc
from capwatch.analytics.flags.base import (
    Evidence,
    Flag,
    FlagRow,
    Rule,
    RuleParams,
    RuleRun,
    base,
    frame,
    line_label,
    money,
    narrow,
    sunday,
    to_json,
    who,
)
from capwatch.analytics.flags.data import MEASURE_COLUMNS, FlagData, load
from capwatch.analytics.flags.params import whole
from capwatch.analytics.utilisation import utilisation
from capwatch.db import Database

NAME = "spc"
TITLE = "Special cause variation (SPC)"
NOTE_LIMIT = 10  # series named in the "not assessed" note


def provider_line_weeks(data: FlagData) -> pl.DataFrame:
    """Weekly sums per provider × service line in scope, weeks with capacity only."""
    keys = ["provider_code", "service_line"]
    return (
        data.scoped.group_by([*keys, "week_start"])
        .agg(pl.col(c).sum() for c in MEASURE_COLUMNS)
        .filter(pl.col("capacity_units") > 0)
        .with_columns(utilisation=utilisation(pl.col("nhs_units"), pl.col("capacity_units")))
        .sort([*keys, "week_start"])
    )


def spc_chart(series: pl.DataFrame, p: RuleParams) -> pl.DataFrame:
    """XmR chart of one provider × service line series (one row per week, in order)."""
    chart = spc.xmr(
        series["utilisation"].to_list(),
        baseline=int(p["baseline_weeks"]),
        run_length=int(p["run_length"]),
        trend_length=int(p["trend_length"]),
    )
    return pl.concat([series, chart], how="horizontal")


def blocks(flags: list[bool]) -> list[tuple[int, int]]:
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


def signals(chart: pl.DataFrame, picked: pl.DataFrame) -> list[str]:
    """Plain-English list of the concern signals among the picked points."""
    words: list[str] = []
    below = int((picked["beyond_limit"] == -1).sum())
    if below:
        words.append(f"{explain.weeks(below)} below the lower process limit")
    for column, text in (("shift", "below the mean"), ("trend", "falling in a row")):
        for first, last in blocks((chart[column] == -1).to_list()):
            if picked["point"].is_in(list(range(first, last + 1))).any():
                words.append(f"{last - first + 1} weeks {text}")
    if (picked["two_of_three"] == -1).any():
        words.append("2 of 3 weeks close to the lower limit")
    return words


def severity(picked: pl.DataFrame) -> str:
    """A week beyond the lower process limit → high; a shift or trend → medium; else low."""
    if (picked["beyond_limit"] == -1).any():
        return "high"
    if ((picked["shift"] == -1) | (picked["trend"] == -1)).any():
        return "medium"
    return "low"


def _short_note(short: list[tuple[str, str, int]], min_weeks: int) -> str:
    named = ", ".join(
        f"{code} {explain.line(line)} ({explain.weeks(n)})" for code, line, n in short[:NOTE_LIMIT]
    )
    more = f" and {len(short) - NOTE_LIMIT} more" if len(short) > NOTE_LIMIT else ""
    return (
        f"SPC: {len(short)} provider service line{'s' if len(short) != 1 else ''} "
        f"had fewer than {min_weeks} complete weeks with capacity and "
        f"{'were' if len(short) != 1 else 'was'} not assessed (process limits need "
        f"{min_weeks} points): {named}{more}."
    )


def compute(data: FlagData, p: RuleParams) -> RuleRun:
    """Special cause concern touching the latest `recent_weeks` points of each series."""
    rows: list[FlagRow] = []
    short: list[tuple[str, str, int]] = []
    without_limits = 0
    recent = int(p["recent_weeks"])
    min_weeks = int(p["min_weeks"])
    for series in provider_line_weeks(data).partition_by(
        ["provider_code", "service_line"], maintain_order=True
    ):
        if series.height < min_weeks:
            short.append((series["provider_code"][0], series["service_line"][0], series.height))
            continue
        chart = spc_chart(series, p)
        if chart["lower_limit"].null_count() == chart.height:
            without_limits += 1
        concern = (chart["point_type"] == spc.CONCERN).to_list()
        reaching = [b for b in blocks(concern) if b[1] >= chart.height - recent]
        if not reaching:
            continue
        picked = chart.filter(
            pl.col("point").is_in([i for a, b in reaching for i in range(a, b + 1)])
        )
        sums = {c: float(picked[c].sum()) for c in MEASURE_COLUMNS}
        first = chart.row(0, named=True)
        latest = chart.row(-1, named=True)
        code, line = first["provider_code"], first["service_line"]
        b = base(data, NAME, TITLE, p, code)
        start = cast(date, picked["week_start"].min())  # picked is not empty
        end = cast(date, picked["week_start"].max())
        said = signals(chart, picked)
        baseline_points = int(chart["in_baseline"].sum())
        trial = bool(latest["trial_limits"])
        caveat = (
            f" These are trial limits from {explain.weeks(baseline_points)} (fewer than "
            f"{spc.MIN_BASELINE_POINTS}), so they will move as weeks are added."
            if trial
            else ""
        )
        rows.append(
            {
                **b,
                **money(sums),
                "severity": severity(picked),
                "subject_type": "service_line",
                "subject_code": f"{code}/{line}",
                "service_line": line,
                "period_start": start,
                "period_end": sunday(end),
                "weeks": picked.height,
                "measure": "utilisation",
                "value": latest["utilisation"],
                "threshold": latest["lower_limit"],
                "money_at_stake_gbp": sums["unused_capacity_cost_gbp"],
                "variation_icon": spc.variation_icon(chart),
                "evidence_from": cast(date, chart["week_start"].min()),
                "evidence_to": cast(date, chart["week_start"].max()),
                "figures": to_json(
                    {
                        **money(sums),
                        "mean": latest["mean"],
                        "lower_limit": latest["lower_limit"],
                        "upper_limit": latest["upper_limit"],
                        "latest_week": latest["week_start"],
                        "latest_utilisation": latest["utilisation"],
                        "points": chart.height,
                        "baseline_points": baseline_points,
                        "trial_limits": trial,
                        "signals": "; ".join(said),
                    }
                ),
                "explanation": (
                    f"{who(b)}'s weekly {explain.line(line)} utilisation shows special "
                    f"cause concern in the weeks {explain.day(start)} to "
                    f"{explain.day(sunday(end))}: {', '.join(said)}. "
                    f"Mean {explain.pct(latest['mean'])}, lower process limit "
                    f"{explain.pct(latest['lower_limit'])}; the latest week "
                    f"({explain.day(latest['week_start'])}) was "
                    f"{explain.pct(latest['utilisation'])}; "
                    f"{explain.gbp(sums['unused_capacity_cost_gbp'])} of capacity went unused "
                    f"in the flagged weeks.{caveat}"
                ),
            }
        )
    notes = [_short_note(short, min_weeks)] if short else []
    if without_limits:
        notes.append(
            f"SPC: a baseline of {explain.weeks(int(p['baseline_weeks']))} has no moving range, "
            f"so {without_limits} series got no process limits and were judged on shifts and "
            "trends only; use a baseline of 12 weeks or more (0 uses every week)."
        )
    return RuleRun(frame(rows), tuple(notes))


def spc_chart_data(
    db: Database,
    filters: Filters,
    provider_code: str,
    service_line: str,
    week_from: date | None,
    week_to: date | None,
    p: RuleParams,
) -> pl.DataFrame:
    """One row per week with capacity: utilisation, mean, limits and special-cause columns."""
    subject = narrow(
        filters, week_from, week_to, providers=(provider_code,), service_lines=(service_line,)
    )
    series = provider_line_weeks(load(db, subject))
    if series.is_empty():
        return series
    return spc_chart(series, p)


def evidence(db: Database, filters: Filters, flag: Flag, p: RuleParams) -> Evidence:
    """The XmR chart of the provider's line over the evidence weeks."""
    code, line = flag["provider_code"], flag["service_line"]
    chart = spc_chart_data(db, filters, code, line, flag["evidence_from"], flag["evidence_to"], p)
    note = None
    trial = chart.height > 0 and bool(chart["trial_limits"][0])
    if chart.height and chart["lower_limit"].null_count() == chart.height:
        note = "No process limits: the baseline has a single week, so no moving range."
    elif trial:
        note = (
            f"Trial limits: the mean and limits rest on {int(chart['in_baseline'].sum())} "
            f"weeks, fewer than the {spc.MIN_BASELINE_POINTS} Making Data Count asks for."
        )
    return Evidence(
        "spc",
        f"{code} · {line_label(line)}: weekly utilisation (XmR chart)",
        {"chart": chart},
        {"trial_limits": trial},
        note=note,
    )


RULE = Rule(
    name=NAME,
    title=TITLE,
    description=(
        "Making Data Count XmR chart of a provider's weekly utilisation for a service line: "
        "mean and process limits (mean ± 2.66 × mean moving range) from the baseline weeks. "
        "Flags special cause concern (utilisation going low) in the most recent weeks: a week "
        "beyond the lower limit, a run of weeks below the mean, a run of falling weeks, or 2 "
        "of 3 weeks close to the lower limit. Series shorter than the minimum are listed in a "
        "note as not assessed; limits from fewer than 12 baseline weeks are trial limits and "
        "the flag says so."
    ),
    params=(
        whole(
            "recent_weeks",
            "Recent weeks examined",
            4,
            1,
            52,
            "Flag when a concern signal touches one of the latest this-many weeks.",
        ),
        whole(
            "run_length",
            "Run length (shift)",
            7,
            5,
            12,
            "Consecutive weeks on one side of the mean that count as a shift.",
        ),
        whole(
            "trend_length",
            "Trend length",
            7,
            5,
            12,
            "Consecutive weeks each rising (or each falling) that count as a trend.",
        ),
        whole(
            "baseline_weeks",
            "Baseline weeks (0 = all)",
            0,
            0,
            52,
            "Weeks from the start of the series used for the mean and limits; 0 uses all. "
            "Fewer than 12 gives trial limits.",
        ),
        whole(
            "min_weeks",
            "Minimum weeks of data",
            12,
            6,
            52,
            "Series shorter than this are not assessed (and listed in a note). 12 is the "
            "Making Data Count minimum; below it, limits are trial limits.",
        ),
    ),
    severity="a week beyond the lower process limit → high; a shift or trend → medium; else low.",
    money="the unused capacity cost of the provider's line in the flagged weeks.",
    chart="spc",
    compute=compute,
    evidence=evidence,
    order=20,
)
