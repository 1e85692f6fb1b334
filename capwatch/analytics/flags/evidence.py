"""Page-friendly entry points: flags and each flag's evidence, with hashable arguments.

Every function takes the database first and only hashable arguments after it (the `Filters`
the flags were computed under, a flag as a tuple of (field, value) pairs, and `Overrides`, a
tuple of (rule, key, value)), so the dashboard can cache them with `capwatch.ui.context.cached`.
The evidence itself is each rule's own (`Rule.evidence`), recomputed from the same weekly
figures and code as the rule, so a chart always agrees with its flag, and always within the
filters' access scope (filters are narrowed with `dataclasses.replace`, never rebuilt).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import polars as pl

from capwatch.analytics.filters import Filters
from capwatch.analytics.flags.backtest import Backtest, backtest
from capwatch.analytics.flags.base import Evidence, weekly_against_threshold
from capwatch.analytics.flags.engine import FlagRun, run_flags
from capwatch.analytics.flags.params import Value
from capwatch.analytics.flags.rules import funnel as funnel_rule
from capwatch.analytics.flags.rules import resolve_params, rule
from capwatch.analytics.flags.rules import spc as spc_rule
from capwatch.analytics.flags.rules.value_for_money import value_for_money_weekly
from capwatch.db import Database

Overrides = tuple[tuple[str, str, Value], ...]
FlagItems = tuple[tuple[str, Any], ...]

__all__ = [
    "Evidence",
    "FlagItems",
    "Overrides",
    "backtest_for",
    "evidence_for",
    "flag_run_for",
    "flag_run_with_status",
    "flags_for",
    "funnel_data",
    "nested",
    "spc_chart_data",
    "value_for_money_weekly",
    "weekly_against_threshold",
]


def nested(overrides: Overrides) -> dict[str, dict[str, Value]]:
    """((rule, key, value), ...) → {rule: {key: value}}."""
    out: dict[str, dict[str, Value]] = {}
    for rule_name, key, value in overrides:
        out.setdefault(rule_name, {})[key] = value
    return out


def flag_run_for(db: Database, filters: Filters, overrides: Overrides = ()) -> FlagRun:
    """`run_flags` (flags and notes) with hashable parameter overrides."""
    return run_flags(db, filters, params=nested(overrides))


def flag_run_with_status(db: Database, filters: Filters, overrides: Overrides = ()) -> FlagRun:
    """`flag_run_for` with a `contract_status` column: "active" when the flag's provider holds
    a contract not removed, else "removed" (or "no contract"), for the Flags page's default
    of active contracts only."""
    run = flag_run_for(db, filters, overrides)
    status = db.query(
        """
        SELECT p.provider_code,
               CASE WHEN count(c.contract_id) = 0 THEN 'no contract'
                    WHEN bool_or(c.removed_date IS NULL
                                 AND coalesce(lower(trim(c.status)), '') <> 'removed')
                    THEN 'active' ELSE 'removed' END AS contract_status
        FROM providers p LEFT JOIN contracts c USING (provider_code)
        GROUP BY p.provider_code
        """
    )
    flags = run.flags.join(status, on="provider_code", how="left").with_columns(
        pl.col("contract_status").fill_null("no contract")
    )
    return FlagRun(flags, run.notes)


def flags_for(db: Database, filters: Filters, overrides: Overrides = ()) -> pl.DataFrame:
    """`compute_flags` with hashable parameter overrides (for caching in the dashboard)."""
    return flag_run_for(db, filters, overrides).flags


def evidence_for(db: Database, filters: Filters, flag: FlagItems) -> Evidence:
    """The evidence of one flag (as `tuple(flag.items())`) under the filters it was computed
    with, with the rule settings recorded in the flag."""
    row = dict(flag)
    r = rule(row["rule"])
    return r.evidence(db, filters, row, r.resolve(json.loads(row["parameters"] or "{}")))


def spc_chart_data(
    db: Database,
    filters: Filters,
    provider_code: str,
    service_line: str,
    week_from: date | None = None,
    week_to: date | None = None,
    overrides: Overrides = (),
) -> pl.DataFrame:
    """The XmR chart of a provider's service line (see `rules.spc.spc_chart_data`)."""
    params = resolve_params(nested(overrides))["spc"]
    return spc_rule.spc_chart_data(
        db, filters, provider_code, service_line, week_from, week_to, params
    )


def funnel_data(
    db: Database,
    filters: Filters,
    service_line: str,
    week_from: date | None = None,
    week_to: date | None = None,
    overrides: Overrides = (),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The funnel's points and limit curve (see `rules.funnel.funnel_data`)."""
    params = resolve_params(nested(overrides))["funnel"]
    return funnel_rule.funnel_data(db, filters, service_line, week_from, week_to, params)


def backtest_for(
    db: Database, filters: Filters, overrides: Overrides = (), warmup_weeks: int = 1
) -> Backtest:
    """`backtest.backtest` with hashable parameter overrides (for caching in the dashboard)."""
    return backtest(db, filters, params=nested(overrides), warmup_weeks=warmup_weeks)
