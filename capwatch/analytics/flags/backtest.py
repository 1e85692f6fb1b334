"""Backtest: would the flags have called the contracts commissioners actually removed?

The rules are replayed week by week: for each complete week t, every rule runs on the weeks up
to and including t only (as if the data had stopped that Sunday), exactly as `compute_flags`
would with the period ending at t. Then, for every contract:

- removed (a `removed_date`): for each rule, the first week t whose Sunday falls before the
  removal date in which the rule flagged the contract's provider (`first_fired_week`), how long
  before the removal that was (`lead_days` from that Sunday to the removal date; `lead_weeks`
  the whole weeks in it), the money the rule put at stake then (summed over that rule's flags on
  the provider that week), and the contract value paid after that week until the removal
  (`contract_value_to_removal_gbp`, from `contract_weekly`): what acting on the flag could have
  saved;
- active (no removal date): whether and from which week the rule flagged it. An active contract
  flagged by a rule that called at least one removal "looks like" the removed ones.

Per rule: hits (removed contracts it flagged before removal), misses, hit rate, lead time (median
and longest, in whole weeks), and how many active contracts it flagged. The row `any` counts a
removed contract as called when any rule flagged it, with the earliest first week.

Against the answer key (the synthetic world's hidden truth, `answer_key`; a database of real
returns has none): a contract whose true action is release or challenge should be flagged, one
whose true action is route (capacity unused because the NHS referred little) or keep should
not. Per rule: `truth_hits` (should be flagged, and was: before its release if it was
released), `truth_misses`, `false_alarms` (flagged though it should not be), and which
confounders those false alarms had (`false_alarm_confounders`, e.g. "demand_shortfall 5"). This
module is the only reader of the answer key; the rules never see it.

Limits of the replay: the data are as loaded today, cut at each week; corrections loaded after
that week are not replayed. A contract whose status says removed but has no removal date cannot
be timed and is left out (`outcome` = `removed_undated`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import polars as pl

from capwatch.analytics.filters import Filters
from capwatch.analytics.flags.data import FlagData, load
from capwatch.analytics.flags.engine import checked_rules, run_rules
from capwatch.analytics.flags.params import FlagRuleError
from capwatch.analytics.flags.rules import Params, rule
from capwatch.db import Database

REMOVED, ACTIVE, UNDATED = "removed", "active", "removed_undated"
SHOULD_FLAG = ("release", "challenge")  # true actions a flag rightly points at
MAX_WARMUP_WEEKS = 26
ANY_RULE = "any"

DETAIL_SCHEMA: dict[str, Any] = {
    "contract_id": pl.String,
    "provider_code": pl.String,
    "provider_name": pl.String,
    "region": pl.String,
    "outcome": pl.String,
    "removed_date": pl.Date,
    "removal_reason": pl.String,
    "true_action": pl.String,
    "confounder": pl.String,
    "rule": pl.String,
    "rule_title": pl.String,
    "fired": pl.Boolean,
    "first_fired_week": pl.Date,
    "data_to": pl.Date,
    "lead_days": pl.Int64,
    "lead_weeks": pl.Int64,
    "weeks_fired": pl.Int64,
    "flags": pl.Int64,
    "money_at_stake_gbp": pl.Float64,
    "contract_value_to_removal_gbp": pl.Float64,
    "explanation": pl.String,
}
SUMMARY_SCHEMA: dict[str, Any] = {
    "rule": pl.String,
    "rule_title": pl.String,
    "removed_contracts": pl.Int64,
    "hits": pl.Int64,
    "misses": pl.Int64,
    "hit_rate": pl.Float64,
    "median_lead_weeks": pl.Float64,
    "longest_lead_weeks": pl.Int64,
    "money_at_stake_gbp": pl.Float64,
    "contract_value_to_removal_gbp": pl.Float64,
    "active_contracts": pl.Int64,
    "active_flagged": pl.Int64,
    "truth_contracts": pl.Int64,
    "truth_hits": pl.Int64,
    "truth_misses": pl.Int64,
    "false_alarms": pl.Int64,
    "false_alarm_confounders": pl.String,
}


@dataclass(frozen=True)
class Backtest:
    """`detail`: one row per contract × rule (`DETAIL_SCHEMA`); `summary`: one row per rule
    and `any` (`SUMMARY_SCHEMA`); `lookalikes`: active contracts flagged by a rule that called
    a removal; `weeks`: the weeks replayed."""

    detail: pl.DataFrame
    summary: pl.DataFrame
    lookalikes: pl.DataFrame
    weeks: int


def contracts(db: Database, filters: Filters) -> pl.DataFrame:
    """Contracts of the providers under the filters (region, group, provider; access scope),
    each with its outcome."""
    where, params = replace(filters, week_from=None, week_to=None).where(
        region="p.region", group='p."group"', provider="c.provider_code", service_line=None
    )
    return db.query(
        f"""
        SELECT c.contract_id, c.provider_code, p.provider_name, p.region,
               CASE WHEN c.removed_date IS NOT NULL THEN '{REMOVED}'
                    WHEN lower(trim(c.status)) = 'removed' THEN '{UNDATED}'
                    ELSE '{ACTIVE}' END AS outcome,
               c.removed_date, c.removal_reason, a.true_action, a.confounder
        FROM contracts c JOIN providers p USING (provider_code)
        LEFT JOIN answer_key a USING (provider_code)
        WHERE {where}
        ORDER BY c.contract_id
        """,
        params,
    )


def weekly_firings(
    data: FlagData, names: list[str], resolved: Params, warmup_weeks: int = 1
) -> pl.DataFrame:
    """One row per week t × rule × provider flagged with the data up to t: the number of
    flags, the money at stake summed over them and the sentence of the largest. Weeks with
    fewer than `warmup_weeks` complete weeks of data up to them are not replayed."""
    out = []
    for i, week in enumerate(data.weeks):
        if i + 1 < warmup_weeks:
            continue
        as_of = FlagData(
            data.weekly.filter(pl.col("week_start") <= week), data.weeks[: i + 1], data.providers
        )
        flags = run_rules(as_of, names, resolved).flags  # most money first
        if flags.is_empty():
            continue
        out.append(
            flags.group_by(["rule", "provider_code"], maintain_order=True)
            .agg(
                flags=pl.len(),
                money_at_stake_gbp=pl.col("money_at_stake_gbp").sum(),
                explanation=pl.col("explanation").first(),
            )
            .with_columns(week_start=pl.lit(week, pl.Date))
        )
    schema = {
        "rule": pl.String,
        "provider_code": pl.String,
        "flags": pl.UInt32,
        "money_at_stake_gbp": pl.Float64,
        "explanation": pl.String,
        "week_start": pl.Date,
    }
    return pl.concat(out) if out else pl.DataFrame(schema=schema)


def _detail(
    db: Database, filters: Filters, names: list[str], firings: pl.DataFrame
) -> pl.DataFrame:
    rules = pl.DataFrame(
        {"rule": names, "rule_title": [rule(n).title for n in names], "order": range(len(names))}
    )
    grid = contracts(db, filters).join(rules, how="cross")
    eligible = grid.join(firings, on=["provider_code", "rule"], how="inner").filter(
        pl.col("removed_date").is_null()
        | ((pl.col("week_start") + timedelta(days=6)) < pl.col("removed_date"))
    )
    first = (
        eligible.sort("week_start")
        .group_by(["contract_id", "rule"])
        .agg(
            first_fired_week=pl.col("week_start").first(),
            weeks_fired=pl.len().cast(pl.Int64),
            flags=pl.col("flags").first().cast(pl.Int64),
            money_at_stake_gbp=pl.col("money_at_stake_gbp").first(),
            explanation=pl.col("explanation").first(),
        )
    )
    value = db.query("SELECT contract_id, week_start, contract_value_gbp FROM contract_weekly")
    after = (
        first.join(value, on="contract_id", how="inner")
        .filter(pl.col("week_start") > pl.col("first_fired_week"))
        .group_by(["contract_id", "rule"])
        .agg(value_after=pl.col("contract_value_gbp").sum())
    )
    data_to = pl.col("first_fired_week") + timedelta(days=6)
    lead = (pl.col("removed_date") - data_to).dt.total_days()
    return (
        grid.join(first, on=["contract_id", "rule"], how="left")
        .join(after, on=["contract_id", "rule"], how="left")
        .with_columns(
            fired=pl.col("first_fired_week").is_not_null(),
            data_to=data_to,
            lead_days=lead,
            lead_weeks=lead // 7,
            weeks_fired=pl.col("weeks_fired").fill_null(0),
            contract_value_to_removal_gbp=pl.when(
                (pl.col("outcome") == REMOVED) & pl.col("first_fired_week").is_not_null()
            ).then(pl.col("value_after").fill_null(0.0)),
        )
        .sort(["outcome", "contract_id", "order"], descending=[True, False, False])
        .select(list(DETAIL_SCHEMA))
        .cast(pl.Schema(DETAIL_SCHEMA))
    )


def _any_rule(detail: pl.DataFrame) -> pl.DataFrame:
    """One row per contract: called by any rule, from the earliest first week of any."""
    keys = [
        "contract_id",
        "provider_code",
        "provider_name",
        "region",
        "outcome",
        "removed_date",
        "removal_reason",
        "true_action",
        "confounder",
    ]
    earliest = (
        detail.sort("first_fired_week", nulls_last=True)
        .group_by(keys)
        .agg(
            pl.col("first_fired_week").first(),
            pl.col("lead_weeks").first(),
            pl.col("money_at_stake_gbp").first(),
            pl.col("contract_value_to_removal_gbp").first(),
            pl.col("fired").any(),
        )
    )
    return earliest.with_columns(rule=pl.lit(ANY_RULE), rule_title=pl.lit("Any rule"))


def _summary(detail: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    rows = []
    titles = {n: rule(n).title for n in names}
    parts = [(n, titles[n], detail.filter(pl.col("rule") == n)) for n in names]
    parts.append((ANY_RULE, "Any rule", _any_rule(detail)))
    for name, title, part in parts:
        removed = part.filter(pl.col("outcome") == REMOVED)
        hits = removed.filter(pl.col("fired"))
        active = part.filter(pl.col("outcome") == ACTIVE)
        truth = _against_truth(part)
        rows.append(
            {
                "rule": name,
                "rule_title": title,
                "removed_contracts": removed.height,
                "hits": hits.height,
                "misses": removed.height - hits.height,
                "hit_rate": hits.height / removed.height if removed.height else None,
                "median_lead_weeks": hits["lead_weeks"].median() if hits.height else None,
                "longest_lead_weeks": hits["lead_weeks"].max() if hits.height else None,
                "money_at_stake_gbp": hits["money_at_stake_gbp"].sum(),
                "contract_value_to_removal_gbp": hits["contract_value_to_removal_gbp"].sum(),
                "active_contracts": active.height,
                "active_flagged": int(active["fired"].sum()),
                **truth,
            }
        )
    return pl.DataFrame(rows, schema=SUMMARY_SCHEMA, orient="row")


def _against_truth(part: pl.DataFrame) -> dict[str, object]:
    """One rule's firings (one row per contract) scored against the answer key; all None
    where no contract has a true action (real data)."""
    known = part.filter(pl.col("true_action").is_not_null() & (pl.col("outcome") != UNDATED))
    if known.is_empty():
        return dict.fromkeys(
            ("truth_contracts", "truth_hits", "truth_misses", "false_alarms",
             "false_alarm_confounders"),
        )  # fmt: skip
    should = pl.col("true_action").is_in(SHOULD_FLAG)
    alarms = known.filter(~should & pl.col("fired"))
    by_confounder = (
        alarms.group_by("confounder").len().sort(["len", "confounder"], descending=[True, False])
    )
    return {
        "truth_contracts": known.height,
        "truth_hits": known.filter(should & pl.col("fired")).height,
        "truth_misses": known.filter(should & ~pl.col("fired")).height,
        "false_alarms": alarms.height,
        "false_alarm_confounders": ", ".join(f"{c} {n}" for c, n in by_confounder.iter_rows())
        or None,
    }


def _lookalikes(detail: pl.DataFrame, summary: pl.DataFrame) -> pl.DataFrame:
    calling = summary.filter((pl.col("hits") > 0) & (pl.col("rule") != ANY_RULE))["rule"].to_list()
    return (
        detail.filter(
            (pl.col("outcome") == ACTIVE) & pl.col("fired") & pl.col("rule").is_in(calling)
        )
        .group_by(["contract_id", "provider_code", "provider_name", "region"])
        .agg(
            rules_fired=pl.len().cast(pl.Int64),
            rules=pl.col("rule_title").sort().str.join(", "),
            first_fired_week=pl.col("first_fired_week").min(),
            largest_money_at_stake_gbp=pl.col("money_at_stake_gbp").max(),
        )
        .sort(
            ["rules_fired", "largest_money_at_stake_gbp", "contract_id"],
            descending=[True, True, False],
        )
    )


def backtest(
    db: Database,
    filters: Filters | None = None,
    rules: Iterable[str] | None = None,
    params: Mapping[str, Mapping[str, object]] | None = None,
    warmup_weeks: int = 1,
) -> Backtest:
    """Replay the rules week by week against every contract under the filters.

    `warmup_weeks` starts the replay at the first week with that many complete weeks of data
    (1: from the first week, exactly as the Flags page would have shown it then; more leaves
    out the jumpy first weeks, when a rule's window is cut to the data there is).

    The period filter is ignored (every loaded week is replayed); the region, group, provider
    and service-line filters and the access scope narrow the subjects as for `compute_flags`,
    while national comparisons (the funnel) stay national.
    """
    filters = filters or Filters()
    if not 1 <= warmup_weeks <= MAX_WARMUP_WEEKS:
        raise FlagRuleError(
            f"warm-up must be between 1 and {MAX_WARMUP_WEEKS} weeks, got {warmup_weeks}"
        )
    names, resolved = checked_rules(rules, params)
    data = load(db, replace(filters, week_from=None, week_to=None))
    firings = weekly_firings(data, names, resolved, warmup_weeks)
    detail = _detail(db, filters, names, firings)
    summary = _summary(detail, names)
    replayed = max(0, len(data.weeks) - warmup_weeks + 1)
    return Backtest(detail, summary, _lookalikes(detail, summary), replayed)


def summary_lines(result: Backtest) -> list[str]:
    """The per-rule summary as aligned plain text (for the command line)."""
    s = result.summary
    removed = int(s["removed_contracts"][0]) if s.height else 0
    lines = [
        f"{removed} removed contract{'s' if removed != 1 else ''}, "
        f"{int(s['active_contracts'][0]) if s.height else 0} active; "
        f"{result.weeks} weeks replayed, each with only the data up to that week.",
        f"{'rule':<40} {'hits':>5} {'misses':>6} {'hit rate':>8} {'median lead':>11} "
        f"{'longest':>7} {'active flagged':>14}",
    ]
    for r in s.iter_rows(named=True):
        rate = "–" if r["hit_rate"] is None else f"{r['hit_rate']:.0%}"
        median = "–" if r["median_lead_weeks"] is None else f"{r['median_lead_weeks']:g} wk"
        longest = "–" if r["longest_lead_weeks"] is None else f"{r['longest_lead_weeks']} wk"
        lines.append(
            f"{r['rule_title']:<40} {r['hits']:>5} {r['misses']:>6} {rate:>8} {median:>11} "
            f"{longest:>7} {r['active_flagged']:>5} of {r['active_contracts']:<5}"
        )
    if s.height and s["truth_contracts"][0] is not None:
        should = s["truth_hits"][0] + s["truth_misses"][0]
        lines += [
            "",
            f"Against the answer key ({s['truth_contracts'][0]} contracts, {should} of them "
            "to release or challenge; the others to route work to or keep):",
            f"{'rule':<40} {'hits':>5} {'misses':>6} {'false alarms':>12}  "
            "false alarms by confounder",
        ]
        for r in s.iter_rows(named=True):
            lines.append(
                f"{r['rule_title']:<40} {r['truth_hits']:>5} {r['truth_misses']:>6} "
                f"{r['false_alarms']:>12}  {r['false_alarm_confounders'] or '–'}"
            )
    return lines
