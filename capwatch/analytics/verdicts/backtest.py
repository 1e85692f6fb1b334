"""The verdicts replayed week by week and scored against what happened.

Every week of the data, each contract active for the whole week gets the verdict the data up
to that week gives (`decide.weekly_verdicts` windows end at the week, so no later week is
read). A contract's truth is its `true_action` in the synthetic world's hidden truth when the
database has one (read through `flags.backtest.contracts`, the only reader of it), else
"release" for a removed contract and "keep" for the rest.

Scores, per verdict v (release, challenge, route):
- called: contracts given v in some week they were active (before their removal);
- precision: called with truth v ÷ called; recall: truth v called v ÷ truth v;
- for release, `false_releases` lists the contracts released whose truth was not release;
- lead time: weeks from the first week a released contract got release (or challenge) to its
  removal week;
- £ a month released rightly / wrongly: the saving a month at the first release verdict,
  summed over contracts whose truth was / was not release.
Per test ("rule") of the verdict logic, its hits (truth release or challenge, the test held
in some active week) and false alarms (truth route or keep).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from capwatch.analytics.filters import Filters
from capwatch.analytics.flags.backtest import contracts as contract_outcomes
from capwatch.analytics.verdicts.data import load_inputs
from capwatch.analytics.verdicts.decide import weekly_verdicts
from capwatch.analytics.verdicts.params import resolve
from capwatch.db import Database

SCORED = ("release", "challenge", "route")
RULE_TESTS = (
    "low_use",
    "very_low_use",
    "price",
    "dear",
    "private_work",
    "demand_shortfall",
    "rising",
    "missing_returns",
)


@dataclass(frozen=True)
class VerdictBacktest:
    """`scores`: one row per verdict; `rules`: one row per test; `contracts`: one row per
    contract (truth, first week of each verdict, lead time); `weeks`: weeks replayed."""

    scores: pl.DataFrame
    rules: pl.DataFrame
    contracts: pl.DataFrame
    weeks: int
    truth: str  # "answer key" or "removals"


def truth_frame(db: Database) -> tuple[pl.DataFrame, str]:
    """contract_id, truth, confounder, removed_date; and what the truth is."""
    outcomes = contract_outcomes(db, Filters())
    has_key = outcomes["true_action"].is_not_null().any()
    truth = (
        pl.col("true_action")
        if has_key
        else pl.when(pl.col("removed_date").is_not_null())
        .then(pl.lit("release"))
        .otherwise(pl.lit("keep"))
    )
    frame = outcomes.select(
        "contract_id",
        truth=truth,
        confounder=pl.col("confounder").fill_null("none"),
        removed_date="removed_date",
    )
    return frame, "answer key" if has_key else "removals"


def score(weekly: pl.DataFrame, truth: pl.DataFrame) -> tuple[pl.DataFrame, ...]:
    """Pure scoring of replayed verdicts (`weekly_verdicts`) against `truth_frame`."""
    active = weekly.filter(pl.col("active"))
    first = {
        v: active.filter(pl.col("verdict") == v)
        .group_by("contract_id")
        .agg(
            pl.col("week_start").min().alias(f"first_{v}_week"),
            pl.col("saving_per_month_gbp").sort_by("week_start").first().alias(f"{v}_saving"),
        )
        for v in SCORED
    }
    per_contract = truth
    for v in SCORED:
        per_contract = per_contract.join(first[v], on="contract_id", how="left")
    removal_week = pl.col("removed_date") - pl.duration(
        days=pl.col("removed_date").dt.weekday() - 1
    )
    acted = pl.min_horizontal("first_release_week", "first_challenge_week")
    per_contract = per_contract.with_columns(
        lead_weeks=pl.when(pl.col("removed_date").is_not_null() & acted.is_not_null()).then(
            ((removal_week - acted).dt.total_days() // 7).cast(pl.Int64)
        )
    ).sort("contract_id")
    rows = []
    for v in SCORED:
        called = per_contract.filter(pl.col(f"first_{v}_week").is_not_null())
        right = called.filter(pl.col("truth") == v)
        wrong = called.filter(pl.col("truth") != v)
        relevant = per_contract.filter(pl.col("truth") == v)
        leads = right["lead_weeks"].drop_nulls()
        rows.append(
            {
                "verdict": v,
                "called": called.height,
                "right": right.height,
                "truth": relevant.height,
                "precision": right.height / called.height if called.height else None,
                "recall": right.height / relevant.height if relevant.height else None,
                "wrong": ", ".join(
                    f"{c} ({t}, {k})"
                    for c, t, k in wrong.select("contract_id", "truth", "confounder").iter_rows()
                ),
                "median_lead_weeks": float(leads.median()) if leads.len() else None,  # type: ignore[arg-type]
                "gbp_month_right": float(right[f"{v}_saving"].sum()),
                "gbp_month_wrong": float(wrong[f"{v}_saving"].sum()),
            }
        )
    scores = pl.DataFrame(rows)
    positive = pl.col("truth").is_in(["release", "challenge"])
    held = active.group_by("contract_id").agg(pl.col(f"is_{t}").any() for t in RULE_TESTS)
    joined = truth.join(held, on="contract_id", how="inner")
    rules = pl.DataFrame(
        [
            {
                "rule": t,
                "hits": joined.filter(positive & pl.col(f"is_{t}")).height,
                "misses": joined.filter(positive & ~pl.col(f"is_{t}")).height,
                "false_alarms": joined.filter(~positive & pl.col(f"is_{t}")).height,
            }
            for t in RULE_TESTS
        ]
    )
    return scores, rules, per_contract


def backtest_verdicts(db: Database, params: Mapping[str, object] | None = None) -> VerdictBacktest:
    """Replay the verdicts over every loaded week and score them (see the module docstring)."""
    inputs = load_inputs(db)
    weekly = weekly_verdicts(inputs, resolve(params))
    truth, kind = truth_frame(db)
    scores, rules, per_contract = score(weekly, truth)
    return VerdictBacktest(scores, rules, per_contract, len(inputs.weeks), kind)


def summary_lines(result: VerdictBacktest) -> list[str]:
    """The verdict scores as aligned plain text (for the command line)."""
    lines = [
        f"Verdicts replayed over {result.weeks} weeks, scored against the {result.truth}:",
        f"{'verdict':<10} {'called':>6} {'right':>5} {'truth':>5} {'precision':>9} "
        f"{'recall':>6} {'lead (wks)':>10} {'£/month right':>14} {'£/month wrong':>14}",
    ]

    def pct(x: float | None) -> str:
        return "–" if x is None else f"{x:.0%}"

    for r in result.scores.iter_rows(named=True):
        lead = "–" if r["median_lead_weeks"] is None else f"{r['median_lead_weeks']:g}"
        lines.append(
            f"{r['verdict']:<10} {r['called']:>6} {r['right']:>5} {r['truth']:>5} "
            f"{pct(r['precision']):>9} {pct(r['recall']):>6} {lead:>10} "
            f"£{r['gbp_month_right']:>13,.0f} £{r['gbp_month_wrong']:>13,.0f}"
        )
        if r["wrong"]:
            lines.append(f"  wrongly given {r['verdict']}: {r['wrong']}")
    lines.append(f"{'test':<18} {'hits':>5} {'misses':>6} {'false alarms':>12}")
    for r in result.rules.iter_rows(named=True):
        lines.append(f"{r['rule']:<18} {r['hits']:>5} {r['misses']:>6} {r['false_alarms']:>12}")
    return lines


__all__ = ["VerdictBacktest", "backtest_verdicts", "score", "summary_lines", "truth_frame"]
