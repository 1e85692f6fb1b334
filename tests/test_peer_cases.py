"""capwatch's funnel and SPC statistics against the peers' own expected values.

The cases (`tests/fixtures/peers/*.json`, copied from `../shared/peers/cases/`) come from the
test suites and vignettes of PHEindicatormethods (UKHSA's proportion funnel: limits and
significance of 303 areas), FunnelPlotR (the dispersion ratio φ), NHSRplotthedots and
nhspy-plotthedots (XmR limits and special-cause rules). Each JSON names its source.

How each kind maps onto capwatch:
- `funnel_significance`, `funnel_limits`: PHE's proportion funnel without over-dispersion is
  the funnel rule with `scale=proportion`, `overdispersion=none` (exact normal quantiles), run
  through the rule itself on a frame with one provider per area; 'Low (0.001)' is exactly the
  set the rule flags.
- `funnel_phi`: FunnelPlotR's standardised-ratio z-scores √E·log(O/E); with 6 units its 10%
  truncation keeps every z, so φ is the mean of all six z².
- `xmr`, `limits`, `runs`, `two_of_three`: `capwatch.analytics.flags.spc`.
"""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from capwatch.analytics.flags import funnel, spc
from capwatch.analytics.flags.data import MEASURE_COLUMNS, FlagData
from capwatch.analytics.flags.rules import funnel as funnel_rule

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "peers"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "peers" / "cases"
CASES = sorted(FIXTURES.glob("*.json"))
PHE = {"overdispersion": "none", "scale": "proportion", "winsor": 0.1}


def _checks() -> list[Any]:
    out = []
    for path in CASES:
        case = json.loads(path.read_text(encoding="utf-8"))
        assert case["source"], f"{path.name} names no source"
        for i, check in enumerate(case["checks"]):
            label = check.get("label", str(i))
            out.append(pytest.param(check, id=f"{path.stem}[{label}]"))
    return out


def test_fixtures_are_there() -> None:
    kinds = {c.values[0]["kind"] for c in _checks()}
    assert {"funnel_significance", "funnel_limits", "funnel_phi", "xmr", "limits"} <= kinds


def test_fixtures_match_the_shared_peer_cases() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (a fresh clone without ../shared)")
    shared = {p.name: p.read_bytes() for p in SHARED.glob("*.json")}
    assert shared, "no peer cases in ../shared"
    assert {p.name: p.read_bytes() for p in CASES} == shared


# --------------------------------------------------------------------------------------------
# funnel
# --------------------------------------------------------------------------------------------


def _areas(numerator: list[float], denominator: list[float]) -> FlagData:
    """One provider per area, one week, one service line: the rule's own input."""
    week = date(2020, 6, 1)
    n = len(numerator)
    codes = [f"A{i:03d}" for i in range(n)]
    weekly = pl.DataFrame(
        {
            "week_start": [week] * n,
            "site_code": codes,
            "site_name": codes,
            "provider_code": codes,
            "service_line": ["diagnostics"] * n,
            **{c: [0.0] * n for c in MEASURE_COLUMNS},
            "in_scope": [True] * n,
        }
    ).with_columns(
        capacity_units=pl.Series(denominator, dtype=pl.Float64),
        nhs_units=pl.Series(numerator, dtype=pl.Float64),
    )
    providers = pl.DataFrame(
        {"provider_code": codes, "provider_name": codes, "region": ["London"] * n},
        schema_overrides={"provider_code": pl.String},
    ).with_columns(contract_id=pl.lit(None, pl.String))
    return FlagData(weekly, (week,), providers)


def _significance(y: float, row: dict[str, float]) -> str:
    levels = (("0.001", "lower_998", "upper_998"), ("0.025", "lower_95", "upper_95"))
    for level, lower, upper in levels:
        if y < row[lower]:
            return f"Low ({level})"
        if y > row[upper]:
            return f"High ({level})"
    return "Not significant"


def _check_funnel_significance(check: dict[str, Any]) -> None:
    assert check["params"]["overdispersion"] == 0  # capwatch's earlier numbering: none
    data = _areas(check["numerator"], check["denominator"])
    points = funnel_rule.funnel_points(data, PHE).sort("provider_code")
    got = [_significance(r["utilisation"], r) for r in points.iter_rows(named=True)]
    assert len(got) == len(check["expect"]) == 303
    assert got == check["expect"]
    flagged = set(funnel_rule.compute(data, PHE)["provider_code"])
    expected_low = {f"A{i:03d}" for i, s in enumerate(check["expect"]) if s == "Low (0.001)"}
    assert flagged == expected_low


def _check_funnel_limits(check: dict[str, Any]) -> None:
    assert check["params"]["overdispersion"] == 0
    data = _areas(check["numerator"], check["denominator"])
    rate = funnel_rule.funnel_points(data, PHE)["national_rate"][0]
    assert rate * 100 == pytest.approx(check["baseline_percent"], abs=1e-6)
    for name, z, side in funnel_rule.LIMITS:
        got = [
            100 * funnel.limits(rate, n, z, scale=funnel.PROPORTION)[side]
            for n in check["population"]
        ]
        # PHE prints 6 decimals of a percentage
        assert got == pytest.approx(check["expect"][name], abs=1.5e-6), name


def _check_funnel_phi(check: dict[str, Any]) -> None:
    assert check["z"] == "sr_shmi"
    z = [
        math.sqrt(e) * math.log(o / e)
        for o, e in zip(check["numerator"], check["denominator"], strict=True)
    ]
    # FunnelPlotR truncates at 10% for SHMI: with 6 units no z is dropped
    assert funnel.phi(z) == pytest.approx(check["expect"]["v"], abs=check["expect"]["tol"])


# --------------------------------------------------------------------------------------------
# SPC
# --------------------------------------------------------------------------------------------


def _xmr(check: dict[str, Any]) -> pl.DataFrame:
    params = check.get("params") or {}
    return spc.xmr(
        check["values"],
        baseline=int(params.get("baseline", 0)),
        higher_is_better=bool(params.get("higher_is_better", True)),
        screen_outliers=bool(params.get("screen_outliers", True)),
    )


def _check_xmr(check: dict[str, Any]) -> None:
    chart = _xmr(check)
    expect = check["expect"]
    for name, column in (("mean", "mean"), ("lower", "lower_limit"), ("upper", "upper_limit")):
        if name in expect:
            assert chart[column][0] == pytest.approx(expect[name]["v"], abs=expect[name]["tol"]), (
                name
            )
    beyond = [v != 0 for v in chart["beyond_limit"]]
    close = [
        not b and (v > hi or v < lo)
        for v, b, lo, hi in zip(
            chart["value"], beyond, chart["lower_near"], chart["upper_near"], strict=True
        )
    ]
    series = {
        "side": chart["side"].to_list(),
        "beyond_limit": beyond,
        "close_to_limits": close,
        "point_types": chart["point_type"].to_list(),
        "trend": chart["trend"].to_list(),
        "special_cause": [t != spc.COMMON for t in chart["point_type"]],
    }
    for key, got in series.items():
        if key in expect:
            assert got == expect[key], key
        if f"{key}_prefix" in expect:
            want = expect[f"{key}_prefix"]
            assert got[: len(want)] == want, key
    if "point_types_tail" in expect:
        want = expect["point_types_tail"]
        assert series["point_types"][-len(want) :] == want
    if "type_run" in expect:
        kind, count = expect["type_run"]["type"], expect["type_run"]["count"]
        marked = [i for i, t in enumerate(series["point_types"]) if t == kind]
        assert len(marked) == count
        assert marked == list(range(marked[0], marked[0] + count))  # consecutive


def _check_limits(check: dict[str, Any]) -> None:
    lim = spc.limits(check["values"])
    for name in ("mean", "lower", "upper", "lower_near", "upper_near"):
        assert getattr(lim, name) == pytest.approx(
            check["expect"][name]["v"], abs=check["expect"][name]["tol"]
        ), name


def _check_runs(check: dict[str, Any]) -> None:
    assert spc._runs(check["signs"], check["length"]) == check["expect"]


def _check_two_of_three(check: dict[str, Any]) -> None:
    beyond_near = [c * s for c, s in zip(check["close"], check["side"], strict=True)]
    got = [abs(v) for v in spc._two_of_three(check["side"], beyond_near)]
    assert got == check["expect"]


CHECKERS = {
    "funnel_significance": _check_funnel_significance,
    "funnel_limits": _check_funnel_limits,
    "funnel_phi": _check_funnel_phi,
    "xmr": _check_xmr,
    "limits": _check_limits,
    "runs": _check_runs,
    "two_of_three": _check_two_of_three,
}


@pytest.mark.parametrize("check", _checks())
def test_peer_case(check: dict[str, Any]) -> None:
    CHECKERS[check["kind"]](check)


def test_default_funnel_on_the_phe_areas_matches_an_independent_port() -> None:
    """FunnelPlotR's proportion method written out again here, line by line from its R code
    (`transformed_zscore`, `winsorisation`, `phi_func`, `tau_func`, `calculate_limits`), with
    the standard library's type-7 quantiles; the rule's defaults must flag the same areas. The
    issue reporting the old method's 15 low areas found 2 with such a port."""
    import statistics

    check = json.loads((FIXTURES / "funnel_01_phe_proportion_significance.json").read_text())
    num, den = check["checks"][0]["numerator"], check["checks"][0]["denominator"]
    target = sum(num) / sum(den)
    t = math.asin(math.sqrt(target))
    s = [1 / (2 * math.sqrt(d)) for d in den]
    z = [(math.asin(math.sqrt(o / d)) - t) / si for o, d, si in zip(num, den, s, strict=True)]
    cuts = statistics.quantiles(z, n=10, method="inclusive")  # R type 7 at 0.1, ..., 0.9
    wz = [min(max(v, cuts[0]), cuts[-1]) for v in z]
    k = len(wz)
    phi = sum(v * v for v in wz) / k
    w = [1 / si**2 for si in s]
    tau2 = max(0.0, (k * phi - (k - 1)) / (sum(w) - sum(x * x for x in w) / sum(w)))
    low = {
        f"A{i:03d}"
        for i, (o, d, si) in enumerate(zip(num, den, s, strict=True))
        if o / d < math.sin(t - 3.090232 * math.sqrt(si**2 + tau2)) ** 2
    }
    data = _areas(num, den)
    points = funnel_rule.funnel_points(data, funnel_rule.RULE.defaults)
    assert points["tau2"][0] == pytest.approx(tau2, rel=1e-9)
    assert set(funnel_rule.compute(data, funnel_rule.RULE.defaults)["provider_code"]) == low
    assert len(low) == 2
