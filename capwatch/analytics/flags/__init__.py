"""Flags: explainable rules that a provider's use of its contracted capacity is poor.

`rules` holds the rules as data, `spc` and `funnel` the statistics, `data` the weekly figures
they read, `engine` the flags themselves and `evidence` the frames behind each flag's chart.
"""

from capwatch.analytics.flags.engine import FLAG_COLUMNS, FLAG_SCHEMA, compute_flags
from capwatch.analytics.flags.rules import RULES, FlagRuleError, parse_params, resolve_params

__all__ = [
    "FLAG_COLUMNS",
    "FLAG_SCHEMA",
    "RULES",
    "FlagRuleError",
    "compute_flags",
    "parse_params",
    "resolve_params",
]
