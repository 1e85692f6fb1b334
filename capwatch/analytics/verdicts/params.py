"""The verdict logic as data: every threshold a verdict uses, with its default and range.

These definitions are the one source of the parameter table in docs/verdicts.md (generated
by `capwatch.docs`-style code in `describe()`), of the form on the Actions page and of
`capwatch verdicts --param KEY=VALUE`. Defaults were chosen on the default synthetic world
(seed 2020); the backtest reports them on three other seeds too.
"""

from __future__ import annotations

from collections.abc import Mapping

from capwatch.analytics.flags.params import FlagRuleError, Param, number, whole

PARAMS: tuple[Param, ...] = (
    whole(
        "window_weeks",
        "Weeks looked at",
        6,
        2,
        17,
        "Complete weeks up to the as-of week that a verdict reads (clipped to the contract).",
    ),
    whole(
        "min_weeks",
        "Fewest weeks with data",
        4,
        1,
        17,
        "Fewer complete weeks of the contract than this in the window: not enough data.",
    ),
    number(
        "release_below",
        "Release below this use",
        0.15,
        0.0,
        1.0,
        "NHS work delivered ÷ capacity, both at reference prices, over the window: below "
        "this a material contract is released (unless demand or a rise explains it).",
        0.01,
    ),
    number(
        "challenge_below",
        "Challenge below this use",
        0.25,
        0.0,
        1.0,
        "Use below this (but not below the release line) is challenged on delivery.",
        0.01,
    ),
    number(
        "price_release_ratio",
        "Release at this price",
        2.0,
        1.0,
        10.0,
        "Contract value ÷ its capacity at reference prices: at or above this, a material "
        "contract is released for price whatever its use.",
        0.05,
    ),
    number(
        "price_low_use_ratio",
        "Release low use at this price",
        1.5,
        1.0,
        10.0,
        "At or above this price ratio, use below the challenge line is released, not challenged.",
        0.05,
    ),
    number(
        "private_ratio",
        "Private work beside unused",
        1.5,
        0.0,
        20.0,
        "Private units ÷ NHS units at the provider's sites over the window: at or above this "
        "with use below the challenge line, the provider is challenged (not released).",
        0.1,
    ),
    number(
        "demand_gap_ratio",
        "Referral shortfall",
        0.5,
        0.0,
        1.0,
        "Referrals offered per patient waiting in the contract's region ÷ the national rate: "
        "below this, low use is the NHS side's (route work), never a release.",
        0.05,
    ),
    number(
        "rising_ratio",
        "Rising use",
        1.3,
        1.0,
        5.0,
        "Use in the window's second half ÷ its first half, against the same ratio nationally: "
        "at or above this a low-use contract is rising (a slow start) and is kept.",
        0.05,
    ),
    number(
        "material_share",
        "Material unused share",
        0.25,
        0.0,
        1.0,
        "Saving if released ÷ the monthly value: below this the unused money is not "
        "material and the verdict is keep.",
        0.01,
    ),
    number(
        "material_gbp_month",
        "Material unused £ a month",
        100_000.0,
        0.0,
        100_000_000.0,
        "Saving if released, £ a month: below this the unused money is not material.",
        10_000.0,
    ),
)
PARAM_KEYS: tuple[str, ...] = tuple(p.key for p in PARAMS)
DEFAULTS: dict[str, float] = {p.key: float(p.default) for p in PARAMS}


class VerdictParamError(FlagRuleError):
    """An unknown verdict parameter or a value out of its range."""


def resolve(params: Mapping[str, object] | None) -> dict[str, float]:
    """Every parameter, defaults overridden by `params`, each checked against its range."""
    by_key = {p.key: p for p in PARAMS}
    resolved = dict(DEFAULTS)
    for key, value in (params or {}).items():
        if key not in by_key:
            raise VerdictParamError(
                f"unknown verdict parameter {key!r}; known: {', '.join(PARAM_KEYS)}"
            )
        try:
            resolved[key] = float(by_key[key].check(value))
        except FlagRuleError as error:
            raise VerdictParamError(str(error)) from None
    if resolved["min_weeks"] > resolved["window_weeks"]:
        raise VerdictParamError("min_weeks cannot be more than window_weeks")
    if resolved["release_below"] > resolved["challenge_below"]:
        raise VerdictParamError("release_below cannot be above challenge_below")
    return resolved


def parse(pairs: list[str]) -> dict[str, str]:
    """`KEY=VALUE` strings (the command line's `--param`) as a mapping, checked for form."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise VerdictParamError(f"--param needs KEY=VALUE, got {pair!r}")
        out[key.strip()] = value.strip()
    return out


def describe() -> str:
    """The parameter table in Markdown, from the definitions above (docs/verdicts.md)."""
    lines = ["| parameter | default | range | meaning |", "|---|---|---|---|"]
    lines += [
        f"| `{p.key}` ({p.label}) | {p.describe_default()} | {p.describe_range()} | {p.help} |"
        for p in PARAMS
    ]
    return "\n".join(lines)
