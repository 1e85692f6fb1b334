"""The flag rules as data: name, title, plain-English description and bounded parameters.

The page builds its parameter form from this table, the CLI validates `--rule` and
`--param rule.key=value` against it, and the engine reads the resolved values. Nothing else
defines a default.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from capwatch.errors import CapwatchError


class FlagRuleError(CapwatchError):
    """An unknown rule or parameter, or a value outside its bounds."""


@dataclass(frozen=True)
class Param:
    """One tunable number of a rule, with its bounds (inclusive)."""

    key: str
    label: str
    default: float
    minimum: float
    maximum: float
    help: str
    integer: bool = False
    step: float = 0.01
    choices: tuple[str, ...] = ()  # labels of the whole values 0, 1, 2, ... where they name options


@dataclass(frozen=True)
class Rule:
    """One rule: what it looks for, in words a contract manager can read."""

    name: str
    title: str
    description: str
    params: tuple[Param, ...]

    def param(self, key: str) -> Param:
        for p in self.params:
            if p.key == key:
                return p
        known = ", ".join(p.key for p in self.params)
        raise FlagRuleError(f"rule {self.name} has no parameter {key!r}; it has: {known}")

    @property
    def defaults(self) -> dict[str, float]:
        return {p.key: p.default for p in self.params}


RULES: tuple[Rule, ...] = (
    Rule(
        "low_utilisation",
        "Low utilisation",
        "A provider used less than the threshold share of its contracted capacity for a "
        "service line over a rolling window of complete weeks. One flag per provider and "
        "service line, for its worst window. Providers whose capacity in the window is below "
        "a minimum share of the national capacity for that line are left out, so tiny "
        "contracts do not dominate.",
        (
            Param("threshold", "Utilisation threshold", 0.15, 0.01, 0.95, "Flag below this."),
            Param(
                "window_weeks",
                "Window (weeks)",
                6,
                1,
                26,
                "Length of the rolling window of complete weeks.",
                integer=True,
                step=1,
            ),
            Param(
                "min_capacity_share",
                "Minimum capacity (share of national)",
                0.001,
                0.0,
                0.1,
                "Leave out providers whose capacity in the window is below this share of the "
                "national capacity for the service line in the same window.",
                step=0.0005,
            ),
        ),
    ),
    Rule(
        "spc",
        "Special cause variation (SPC)",
        "Making Data Count XmR chart of a provider's weekly utilisation for a service line: "
        "mean and process limits (mean ± 2.66 × mean moving range) from the baseline weeks. "
        "Flags special cause concern (utilisation going low) in the most recent weeks: a week "
        "beyond the lower limit, a run of weeks below the mean, a run of falling weeks, or 2 "
        "of 3 weeks close to the lower limit.",
        (
            Param(
                "recent_weeks",
                "Recent weeks examined",
                4,
                1,
                52,
                "Flag when a concern signal touches one of the latest this-many weeks.",
                integer=True,
                step=1,
            ),
            Param(
                "run_length",
                "Run length (shift)",
                7,
                5,
                12,
                "Consecutive weeks on one side of the mean that count as a shift.",
                integer=True,
                step=1,
            ),
            Param(
                "trend_length",
                "Trend length",
                7,
                5,
                12,
                "Consecutive weeks each rising (or each falling) that count as a trend.",
                integer=True,
                step=1,
            ),
            Param(
                "baseline_weeks",
                "Baseline weeks (0 = all)",
                0,
                0,
                52,
                "Weeks from the start of the series used for the mean and limits; 0 uses all.",
                integer=True,
                step=1,
            ),
            Param(
                "min_weeks",
                "Minimum weeks of data",
                12,
                6,
                52,
                "Series shorter than this get no SPC flag (limits need enough points).",
                integer=True,
                step=1,
            ),
        ),
    ),
    Rule(
        "funnel",
        "Below the funnel",
        "Each provider's utilisation of a service line is compared with the national rate, "
        "allowing for its capacity volume (funnel plot with 95% and 99.8% limits). Providers "
        "below the lower 99.8% limit are flagged. Limits are widened for over-dispersion "
        "(real differences between providers), as plain binomial limits would flag almost "
        "everyone at these volumes.",
        (
            Param(
                "overdispersion",
                "Over-dispersion (0 none, 1 multiplicative, 2 additive)",
                2,
                0,
                2,
                "0: plain binomial limits; 1: Spiegelhalter's multiplicative φ; 2: additive "
                "random-effects τ² (both from winsorised z-scores).",
                integer=True,
                step=1,
                choices=("none", "multiplicative", "additive"),
            ),
            Param(
                "winsor",
                "Winsorising share",
                0.25,
                0.0,
                0.4,
                "Share of z-scores pulled in at each end before estimating over-dispersion.",
                step=0.05,
            ),
        ),
    ),
    Rule(
        "value_for_money",
        "Poor value for money",
        "What the contract cost per NHS unit delivered (contract value apportioned to the "
        "period ÷ NHS units) is more than a multiple of the reference unit price of the same "
        "NHS work.",
        (
            Param(
                "multiple",
                "Price multiple",
                5.0,
                1.0,
                50.0,
                "Flag when the cost per NHS unit is above this multiple of the reference price.",
                step=0.5,
            ),
        ),
    ),
    Rule(
        "private_beside_unused",
        "Private work beside unused NHS capacity",
        "A site delivered privately funded work in weeks when its NHS utilisation of the "
        "same service line was below the threshold. One flag per site and service line, "
        "counting the weeks.",
        (
            Param(
                "threshold",
                "NHS utilisation threshold",
                0.15,
                0.01,
                0.95,
                "A week counts when NHS utilisation is below this.",
            ),
            Param(
                "min_weeks",
                "Minimum weeks",
                4,
                1,
                52,
                "Flag a site and service line with at least this many such weeks.",
                integer=True,
                step=1,
            ),
        ),
    ),
)

RULE_NAMES: tuple[str, ...] = tuple(r.name for r in RULES)

Params = dict[str, dict[str, float]]


def rule(name: str) -> Rule:
    """Look a rule up by name."""
    for r in RULES:
        if r.name == name:
            return r
    raise FlagRuleError(f"unknown rule {name!r}; rules are: {', '.join(RULE_NAMES)}")


def check_value(p: Param, value: float) -> float:
    """The value if it is within the parameter's bounds (and whole, for whole numbers)."""
    if not p.minimum <= value <= p.maximum:
        raise FlagRuleError(
            f"{p.key} must be between {p.minimum:g} and {p.maximum:g}, got {value:g}"
        )
    if p.integer:
        if value != int(value):
            raise FlagRuleError(f"{p.key} must be a whole number, got {value:g}")
        return int(value)
    return float(value)


def resolve_params(overrides: Mapping[str, Mapping[str, float]] | None = None) -> Params:
    """Every rule's parameters: defaults, replaced by checked overrides."""
    resolved: Params = {r.name: dict(r.defaults) for r in RULES}
    for rule_name, values in (overrides or {}).items():
        r = rule(rule_name)
        for key, value in values.items():
            resolved[rule_name][key] = check_value(r.param(key), float(value))
    return resolved


def parse_param(text: str) -> tuple[str, str, float]:
    """`low_utilisation.threshold=0.25` → ("low_utilisation", "threshold", 0.25), checked."""
    name, sep, raw = text.partition("=")
    rule_name, dot, key = name.strip().partition(".")
    if not sep or not dot or not key:
        raise FlagRuleError(f"--param must look like RULE.KEY=VALUE, got {text!r}")
    try:
        value = float(raw.strip())
    except ValueError:
        raise FlagRuleError(f"{name.strip()} needs a number, got {raw.strip()!r}") from None
    r = rule(rule_name)
    return r.name, key, check_value(r.param(key), value)


def parse_params(texts: Iterable[str]) -> dict[str, dict[str, float]]:
    """Several `RULE.KEY=VALUE` overrides as a nested mapping."""
    out: dict[str, dict[str, float]] = {}
    for text in texts:
        rule_name, key, value = parse_param(text)
        out.setdefault(rule_name, {})[key] = value
    return out
