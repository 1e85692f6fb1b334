"""Funnel-plot limits for proportions (utilisation = NHS units ÷ capacity units), on the NHS
reference method: FunnelPlotR's proportions (`data_type = "PR"`), as used for SHMI-style
over-dispersed funnels.

For a subject with capacity n and national rate p̄ (ratio of sums over every provider):

    arcsine scale (default):  yᵢ* = asin(√yᵢ),  p̄* = asin(√p̄),  s(n) = 1 / (2√n)
    proportion scale:         yᵢ* = yᵢ,         p̄* = p̄,         s(n) = √(p̄(1 − p̄)/n)
    z-score:                  zᵢ = (yᵢ* − p̄*) / s(nᵢ)

Over-dispersion (real differences between providers beyond chance) is estimated from the
z-scores winsorised at `winsor` (10% by default) at each end: values below the `winsor`
quantile are set to it, values above the `1 − winsor` quantile likewise (R's default quantile,
type 7, linear interpolation, as FunnelPlotR), so the outliers being looked for do not inflate
the spread they are judged against. With k providers:

    φ  = (1/k) Σ zᵢ²                                  (winsorised zᵢ)
    τ² = 0 when kφ < k − 1, else max(0, (kφ − (k − 1)) / (Σwᵢ − Σwᵢ²/Σwᵢ)),  wᵢ = 1/s(nᵢ)²

Limits at size n, on the chosen scale, then back on the proportion scale:

    additive (default):  p̄* ± z √(s(n)² + τ²)       (random effects, DerSimonian–Laird τ²)
    multiplicative:      p̄* ± z √(φ s(n)²)          (Spiegelhalter's φ, floored at 1)
    none:                p̄* ± z s(n)
    arcsine back-transform: sin(x)², with x kept within [0, π/2] (FunnelPlotR does not clamp,
    so its far-out lower limit folds back above 0; here it stops at 0, and the upper at 1)

with z the exact normal quantiles 1.959964 (95%) and 3.090232 (99.8%). The proportion scale
without over-dispersion is PHEindicatormethods' proportion funnel (its Wilson-based limits are
exactly p̄ ± z s(n)), kept so capwatch can be checked against UKHSA's published figures.
A utilisation above 1 (NHS units above capacity) is taken as 1 on the arcsine scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import polars as pl

Z95 = NormalDist().inv_cdf(0.975)  # 1.959964
Z998 = NormalDist().inv_cdf(0.999)  # 3.090232

ARCSINE, PROPORTION = "arcsine", "proportion"
SCALES: tuple[str, ...] = (ARCSINE, PROPORTION)
ADDITIVE, MULTIPLICATIVE, NONE = "additive", "multiplicative", "none"
METHODS: tuple[str, ...] = (ADDITIVE, MULTIPLICATIVE, NONE)


def transform(y: float, scale: str = ARCSINE) -> float:
    """A proportion on the scale the limits are built on."""
    if scale == PROPORTION:
        return y
    return math.asin(math.sqrt(min(max(y, 0.0), 1.0)))


def standard_error(p: float, n: float, scale: str = ARCSINE) -> float:
    """s(n): 1/(2√n) on the arcsine scale, √(p(1 − p)/n) on the proportion scale (∞ at n 0)."""
    if n <= 0:
        return math.inf
    return 1 / (2 * math.sqrt(n)) if scale == ARCSINE else math.sqrt(p * (1 - p) / n)


def z_scores(
    rates: Sequence[float], sizes: Sequence[float], p: float, scale: str = ARCSINE
) -> list[float]:
    """zᵢ = (yᵢ* − p̄*) / s(nᵢ)."""
    centre = transform(p, scale)
    return [
        (transform(y, scale) - centre) / standard_error(p, n, scale)
        for y, n in zip(rates, sizes, strict=True)
    ]


def winsorise(values: Sequence[float], share: float) -> list[float]:
    """Values below the `share` quantile set to it, above the `1 − share` quantile likewise
    (type 7 quantiles, linear interpolation between order statistics, as R's default)."""
    if share <= 0 or len(values) < 2:
        return list(values)
    series = pl.Series(values, dtype=pl.Float64)
    low = series.quantile(share, interpolation="linear")
    high = series.quantile(1 - share, interpolation="linear")
    assert low is not None and high is not None
    return [min(max(v, low), high) for v in values]


def phi(z: Sequence[float]) -> float:
    """Dispersion ratio φ = mean of z² (not floored: FunnelPlotR's `phi`)."""
    return sum(v * v for v in z) / len(z) if z else 1.0


def tau_squared(
    z: Sequence[float], sizes: Sequence[float], p: float, scale: str = ARCSINE
) -> float:
    """Additive between-provider variance τ² (DerSimonian–Laird, from winsorised z)."""
    k = len(z)
    ratio = phi(z)
    if k < 2 or k * ratio < k - 1:
        return 0.0
    w = [1 / standard_error(p, n, scale) ** 2 for n in sizes]
    sw = sum(w)
    denominator = sw - sum(x * x for x in w) / sw
    if denominator <= 0:
        return 0.0
    return max(0.0, (k * ratio - (k - 1)) / denominator)


def dispersion(
    rates: Sequence[float],
    sizes: Sequence[float],
    p: float,
    method: str = ADDITIVE,
    winsor: float = 0.1,
    scale: str = ARCSINE,
) -> tuple[float, float]:
    """(φ, τ²) for the method: (1, 0) for none, (φ ≥ 1, 0) multiplicative, (1, τ²) additive."""
    if method == NONE or not rates or p <= 0 or p >= 1:
        return 1.0, 0.0
    z = winsorise(z_scores(rates, sizes, p, scale), winsor)
    if method == MULTIPLICATIVE:
        return max(1.0, phi(z)), 0.0
    return 1.0, tau_squared(z, sizes, p, scale)


def limits(
    p: float,
    n: float,
    z: float,
    *,
    phi_value: float = 1.0,
    tau2: float = 0.0,
    scale: str = ARCSINE,
) -> tuple[float, float]:
    """(lower, upper) funnel limits at size n, as proportions within [0, 1]."""
    half = z * math.sqrt(phi_value * standard_error(p, n, scale) ** 2 + tau2)
    centre = transform(p, scale)
    if scale == PROPORTION:
        return max(0.0, centre - half), min(1.0, centre + half)
    low, high = max(0.0, centre - half), min(math.pi / 2, centre + half)
    return math.sin(low) ** 2, math.sin(high) ** 2
