"""XmR (individuals) charts in the NHS "Making Data Count" style, as NHSRplotthedots draws them.

For a series x₁ … xₙ (weeks in order, weeks with no value left out, so a gap joins its
neighbours):

- baseline: the first `baseline` points (all of them when `baseline` is 0 or ≥ n);
- mean x̄ of the baseline; moving ranges mRᵢ = |xᵢ − xᵢ₋₁| inside the baseline;
  mR̄ their mean. With `screen_outliers` (NHSRplotthedots' default) moving ranges of
  3.267 × mR̄ or more are dropped and mR̄ recomputed;
- process limits x̄ ± 2.66 · mR̄ (2.66 = 3 / d₂, d₂ = 1.128, so the limits are x̄ ± 3σ̂);
- "near" limits two thirds of the way out: x̄ ± (2/3)(2.66) · mR̄ = x̄ ± 1.7733 · mR̄ (≈ 2σ̂).
- a baseline of fewer than 12 points gives *trial limits* (`trial_limits` True): they are drawn
  and used, but will move as points are added. NHSRplotthedots computes them the same way and
  warns ("Some groups have 'n < 12' observations. These have trial limits"); here the flag's
  sentence, its figures and the chart say so instead.

Special cause, each marking every point that takes part:

- beyond a limit: xᵢ > upper or xᵢ < lower (a point exactly on a limit is inside);
- shift: `run_length` or more consecutive points on the same side of the mean; a point exactly
  on the mean (to within 1e-12, so that floating-point noise in a mean of equal values does not
  decide) belongs to neither side and breaks the run;
- trend: `trend_length` or more consecutive points each strictly above (or each strictly below)
  the one before; an equal value breaks the trend, as in NHSRplotthedots;
- 2 of 3: three consecutive points all on the same side of the mean, at least two of them
  beyond the near limit on that side; the points beyond it are marked. This follows Making
  Data Count's 2023 guidance, where a point beyond the limit also counts towards the two;
  NHSRplotthedots 0.2.2 counts only points between the near limit and the limit. The
  difference only matters for colouring the other point (the point beyond the limit is
  special cause either way).

Direction: with `higher_is_better`, a signal is improvement when it points up (above the mean,
beyond the upper limit, a rising trend) and concern when it points down. A point in both a
concern and an improvement signal (a rising trend that starts below the lower limit) is shown
as concern. NHSRplotthedots colours trend points by their side of the mean instead; here a trend
is classified by its direction, which is how Making Data Count describes it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

LIMIT = 2.66
NEAR_LIMIT = 2 * LIMIT / 3
MR_SCREEN = 3.267
MIN_BASELINE_POINTS = 12  # fewer baseline points give trial limits (as NHSRplotthedots warns)

COMMON = "common_cause"
CONCERN = "special_cause_concern"
IMPROVEMENT = "special_cause_improvement"


@dataclass(frozen=True)
class Limits:
    """Centre line and limits of an XmR chart (None where fewer than two baseline points)."""

    mean: float | None
    mean_moving_range: float | None
    lower: float | None
    upper: float | None
    lower_near: float | None
    upper_near: float | None
    baseline_points: int


TIE_TOLERANCE = 1e-12  # |x − mean| at or below this (relative) counts as on the mean


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _side(value: float, mean: float) -> int:
    """+1 above the mean, −1 below, 0 on it (to within floating-point noise)."""
    if abs(value - mean) <= TIE_TOLERANCE * max(1.0, abs(mean)):
        return 0
    return _sign(value - mean)


def limits(values: Sequence[float], baseline: int = 0, *, screen_outliers: bool = True) -> Limits:
    """Mean, mean moving range and limits from the baseline points of `values`."""
    base = list(values if baseline <= 0 or baseline >= len(values) else values[:baseline])
    if not base:
        return Limits(None, None, None, None, None, None, 0)
    mean = math.fsum(base) / len(base)
    ranges = [abs(b - a) for a, b in itertools.pairwise(base)]
    if not ranges:
        return Limits(mean, None, None, None, None, None, len(base))
    amr = math.fsum(ranges) / len(ranges)
    if screen_outliers:
        kept = [r for r in ranges if r < MR_SCREEN * amr]
        amr = math.fsum(kept) / len(kept) if kept else amr
    return Limits(
        mean=mean,
        mean_moving_range=amr,
        lower=mean - LIMIT * amr,
        upper=mean + LIMIT * amr,
        lower_near=mean - NEAR_LIMIT * amr,
        upper_near=mean + NEAR_LIMIT * amr,
        baseline_points=len(base),
    )


def _runs(signs: Sequence[int], length: int) -> list[int]:
    """Mark each element of a maximal run of ≥ `length` equal non-zero signs with that sign."""
    out = [0] * len(signs)
    start = 0
    for i in range(1, len(signs) + 1):
        if i == len(signs) or signs[i] != signs[start]:
            if signs[start] != 0 and i - start >= length:
                out[start:i] = [signs[start]] * (i - start)
            start = i
    return out


def _trends(values: Sequence[float], length: int) -> list[int]:
    """Mark points in `length` or more consecutive strict rises (+1) or falls (−1)."""
    out = [0] * len(values)
    steps = [_sign(b - a) for a, b in itertools.pairwise(values)]
    marked = _runs(steps, max(length - 1, 1))
    for j, direction in enumerate(marked):
        if direction:  # step j joins point j and point j + 1
            out[j] = out[j + 1] = direction
    return out


def _two_of_three(side: Sequence[int], beyond_near: Sequence[int]) -> list[int]:
    out = [0] * len(side)
    for i in range(len(side) - 2):
        s = side[i]
        window = range(i, i + 3)
        if s != 0 and all(side[j] == s for j in window):
            hits = [j for j in window if beyond_near[j] == s]
            if len(hits) >= 2:
                for j in hits:
                    out[j] = s
    return out


def xmr(
    values: Sequence[float],
    *,
    baseline: int = 0,
    run_length: int = 7,
    trend_length: int = 7,
    higher_is_better: bool = True,
    screen_outliers: bool = True,
) -> pl.DataFrame:
    """One row per point: the value, the chart's lines and which special causes it is part of.

    Signal columns hold +1 (upwards / above), −1 (downwards / below) or 0.
    """
    lim = limits(values, baseline, screen_outliers=screen_outliers)
    n = len(values)
    good = 1 if higher_is_better else -1
    side = [_side(v, lim.mean) if lim.mean is not None else 0 for v in values]
    upper, lower, upper_near, lower_near = lim.upper, lim.lower, lim.upper_near, lim.lower_near
    if (
        upper is not None
        and lower is not None
        and upper_near is not None
        and lower_near is not None
    ):
        outside = [(v > upper) - (v < lower) for v in values]
        near = [(v > upper_near) - (v < lower_near) for v in values]
    else:
        outside = [0] * n
        near = [0] * n
    shift = _runs(side, run_length)
    trend = _trends(values, trend_length)
    two3 = _two_of_three(side, near)
    point_type: list[str] = []
    for i in range(n):
        signals = [s for s in (outside[i], shift[i], trend[i], two3[i]) if s]
        if any(s == -good for s in signals):
            point_type.append(CONCERN)
        elif signals:
            point_type.append(IMPROVEMENT)
        else:
            point_type.append(COMMON)
    return pl.DataFrame(
        {
            "point": list(range(n)),
            "value": [float(v) for v in values],
            "moving_range": [None, *[abs(b - a) for a, b in itertools.pairwise(values)]][:n],
            "mean": [lim.mean] * n,
            "lower_limit": [lim.lower] * n,
            "upper_limit": [lim.upper] * n,
            "lower_near": [lim.lower_near] * n,
            "upper_near": [lim.upper_near] * n,
            "in_baseline": [i < lim.baseline_points for i in range(n)],
            "trial_limits": [0 < lim.baseline_points < MIN_BASELINE_POINTS] * n,
            "side": side,
            "beyond_limit": outside,
            "shift": shift,
            "trend": trend,
            "two_of_three": two3,
            "point_type": point_type,
        },
        schema_overrides={
            "moving_range": pl.Float64,
            "mean": pl.Float64,
            "lower_limit": pl.Float64,
            "upper_limit": pl.Float64,
            "lower_near": pl.Float64,
            "upper_near": pl.Float64,
        },
    )


def variation_icon(chart: pl.DataFrame, *, higher_is_better: bool = True) -> str:
    """Making Data Count variation icon of the latest point.

    `common_cause`, or `special_cause_concern_low` / `special_cause_improvement_high` when
    higher is better (`..._concern_high` / `..._improvement_low` when lower is better).
    """
    if chart.height == 0:
        return COMMON
    latest = chart.row(-1, named=True)["point_type"]
    if latest == CONCERN:
        return f"{CONCERN}_{'low' if higher_is_better else 'high'}"
    if latest == IMPROVEMENT:
        return f"{IMPROVEMENT}_{'high' if higher_is_better else 'low'}"
    return COMMON
