"""The flag engine: every rule of the registry over the filtered weeks, one row per flag.

Each rule (one module in `capwatch.analytics.flags.rules`) reads the weekly figures fetched
once by `data.load` (complete weeks only, contract value apportioned to site × service line)
and returns rows in `FLAG_SCHEMA`. Its severity ladder, sentence, money at stake and evidence
live in its module; `contract_value_gbp` is always the contract value apportioned to the
subject and weeks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import polars as pl

from capwatch.analytics.filters import Filters
from capwatch.analytics.flags.base import (
    FLAG_COLUMNS,
    FLAG_SCHEMA,
    SEVERITY_ORDER,
    empty_flags,
)
from capwatch.analytics.flags.data import FlagData, load
from capwatch.analytics.flags.rules import RULE_NAMES, Params, resolve_params, rule
from capwatch.db import Database

__all__ = [
    "FLAG_COLUMNS",
    "FLAG_SCHEMA",
    "SEVERITY_ORDER",
    "FlagRun",
    "checked_rules",
    "compute_flags",
    "empty_flags",
    "run_flags",
    "run_rules",
]


@dataclass(frozen=True)
class FlagRun:
    """Every flag (most money at stake first) and the rules' notes on what they could not
    assess (e.g. SPC series too short for process limits)."""

    flags: pl.DataFrame
    notes: tuple[str, ...]


def _capped(flags: pl.DataFrame) -> pl.DataFrame:
    """Money at stake never above what the contract was worth over the flag's period (where
    the subject has contract value: a provider without a contract keeps its unused cost)."""
    return flags.with_columns(
        money_at_stake_gbp=pl.when(pl.col("contract_value_gbp") > 0)
        .then(pl.min_horizontal("money_at_stake_gbp", "contract_value_gbp"))
        .otherwise(pl.col("money_at_stake_gbp"))
    )


# Same data, same bytes: sums of floats come out of parallel aggregation in no fixed order,
# so their last digits vary from run to run. Money is kept to the penny, other figures to 10
# decimal places, far below anything shown and far above that noise.
_MONEY_DECIMALS = 2
_FIGURE_DECIMALS = 10


def _steady(flags: pl.DataFrame) -> pl.DataFrame:
    """Every float of `flags` rounded: money to the penny, the rest to 10 decimal places."""
    floats = [c for c, t in FLAG_SCHEMA.items() if t == pl.Float64]
    return flags.with_columns(
        pl.col(c).round(_MONEY_DECIMALS if c.endswith("_gbp") else _FIGURE_DECIMALS) for c in floats
    )


def _sorted(flags: pl.DataFrame) -> pl.DataFrame:
    flags = _steady(_capped(flags))
    return flags.sort(
        ["money_at_stake_gbp", "rule", "subject_code"],
        descending=[True, False, False],
        nulls_last=True,
    )


def run_rules(data: FlagData, names: Iterable[str], resolved: Params) -> FlagRun:
    """The named rules over already-fetched weekly figures (the backtest reuses this)."""
    frames = [empty_flags()]
    notes: list[str] = []
    for name in names:
        run = rule(name).run(data, resolved[name])
        frames.append(run.flags)
        notes.extend(run.notes)
    return FlagRun(_sorted(pl.concat(frames, how="vertical")), tuple(notes))


def checked_rules(
    rules: Iterable[str] | None, params: Mapping[str, Mapping[str, object]] | None
) -> tuple[list[str], Params]:
    """The rule names (all when None) and every rule's parameters, checked before any query."""
    names = list(RULE_NAMES if rules is None else rules)
    for name in names:
        rule(name)
    return names, resolve_params(params)


def run_flags(
    db: Database,
    filters: Filters,
    rules: Iterable[str] | None = None,
    params: Mapping[str, Mapping[str, object]] | None = None,
) -> FlagRun:
    """Every flag under the filters, with the rules' notes. See `compute_flags`."""
    names, resolved = checked_rules(rules, params)
    return run_rules(load(db, filters), names, resolved)


def compute_flags(
    db: Database,
    filters: Filters,
    rules: Iterable[str] | None = None,
    params: Mapping[str, Mapping[str, object]] | None = None,
) -> pl.DataFrame:
    """Every flag under the filters, most money at stake first (columns: `FLAG_SCHEMA`).

    `rules` picks rules by name (all when None); `params` overrides defaults, e.g.
    `{"low_utilisation": {"threshold": 0.25}}` or `{"funnel": {"overdispersion": "none"}}`.
    Unknown names or out-of-bounds values raise `FlagRuleError` before any query runs.
    """
    return run_flags(db, filters, rules, params).flags
