"""Flags: explainable rules that a provider's use of its contracted capacity is poor.

`rules` is the registry (one module per rule: parameters, computation, severity, sentence,
evidence), `params` and `base` what a rule is made of, `spc` and `funnel` the statistics,
`data` the weekly figures rules read, `engine` runs the rules, `evidence` serves the page,
and `backtest` replays the rules against the contracts actually removed.
"""

from capwatch.analytics.flags.engine import FLAG_COLUMNS, FLAG_SCHEMA, compute_flags, run_flags
from capwatch.analytics.flags.rules import (
    RULES,
    FlagRuleError,
    parse_params,
    resolve_params,
)

__all__ = [
    "FLAG_COLUMNS",
    "FLAG_SCHEMA",
    "RULES",
    "FlagRuleError",
    "compute_flags",
    "parse_params",
    "resolve_params",
    "run_flags",
]
