"""The flag rules' registry: every module in this package that defines `RULE` is a rule.

Adding a rule is one new module here (a `Rule` named like the file) and its test; the engine,
the CLI (`--rule`, `--param RULE.KEY=VALUE`), the Flags page (its parameter form and evidence
charts), the backtest and the README's rules section all follow this registry. Nothing else
lists the rules or defines a default.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from capwatch import registry
from capwatch.analytics.flags.base import Rule
from capwatch.analytics.flags.params import FlagRuleError, Value


def discover(package: str) -> tuple[Rule, ...]:
    """The `RULE` of every module of `package`, in display order (see `capwatch.registry`)."""
    return tuple(sorted(registry.discover(package, "RULE", Rule), key=lambda r: (r.order, r.name)))


RULES: tuple[Rule, ...] = discover(__name__)
RULE_NAMES: tuple[str, ...] = tuple(r.name for r in RULES)

Params = dict[str, dict[str, Value]]


def rule(name: str) -> Rule:
    """Look a rule up by name."""
    for r in RULES:
        if r.name == name:
            return r
    raise FlagRuleError(f"unknown rule {name!r}; rules are: {', '.join(RULE_NAMES)}")


def resolve_params(overrides: Mapping[str, Mapping[str, object]] | None = None) -> Params:
    """Every rule's parameters: defaults, replaced by checked overrides."""
    resolved: Params = {r.name: dict(r.defaults) for r in RULES}
    for rule_name, values in (overrides or {}).items():
        resolved[rule_name] = rule(rule_name).resolve({**resolved[rule_name], **values})
    return resolved


def parse_param(text: str) -> tuple[str, str, Value]:
    """`low_utilisation.threshold=0.25` → ("low_utilisation", "threshold", 0.25), and
    `funnel.overdispersion=additive` → ("funnel", "overdispersion", "additive"), checked."""
    name, sep, raw = text.partition("=")
    rule_name, dot, key = name.strip().partition(".")
    if not sep or not dot or not key or not raw.strip():
        raise FlagRuleError(f"--param must look like RULE.KEY=VALUE, got {text!r}")
    r = rule(rule_name.strip())
    return r.name, key.strip(), r.check(key.strip(), raw.strip())


def parse_params(texts: Iterable[str]) -> dict[str, dict[str, Value]]:
    """Several `RULE.KEY=VALUE` overrides as a nested mapping."""
    out: dict[str, dict[str, Value]] = {}
    for text in texts:
        rule_name, key, value = parse_param(text)
        out.setdefault(rule_name, {})[key] = value
    return out


__all__ = [
    "RULES",
    "RULE_NAMES",
    "FlagRuleError",
    "Params",
    "Rule",
    "discover",
    "parse_param",
    "parse_params",
    "resolve_params",
    "rule",
]
