"""Funnel-plot limits for proportions (utilisation = NHS units ÷ capacity units).

For a subject with capacity n and national rate p̄ (ratio of sums over every provider), the
limits use the normal approximation to the binomial:

    s²(n) = p̄ (1 − p̄) / n
    plain:            p̄ ± z · √s²(n)
    multiplicative:   p̄ ± z · √(φ · s²(n))          (Spiegelhalter 2005, φ floored at 1)
    additive:         p̄ ± z · √(s²(n) + τ²)          (random effects, DerSimonian–Laird τ²)

with z = 1.96 (95%) and z = 3.09 (99.8%). The normal approximation is fine here: capacity runs
to hundreds or thousands of units per provider, so n·p̄ is large.

Over-dispersion. Capacity volumes are so large that binomial limits hug p̄: with n = 20,000
and p̄ = 0.3 the 99.8% limits are ±1 percentage point, and almost every provider falls outside.
That is the signal that providers differ for real reasons, not chance. Both adjustments are
estimated from the providers' z-scores zᵢ = (yᵢ − p̄) / s(nᵢ), winsorised first (the
`floor(share · k)` lowest are set to the next lowest, likewise at the top) so that the
outliers being looked for do not inflate the spread they are judged against:

    φ  = (1/k) Σ zᵢ²                                     (winsorised zᵢ)
    τ² = max(0, (k φ − (k − 1)) / (Σ wᵢ − Σ wᵢ² / Σ wᵢ)),  wᵢ = 1 / s²(nᵢ)

The multiplicative φ keeps the funnel shape (large providers still get narrow limits), so at
these volumes large providers a few points under the rate are still flagged; the additive τ²
gives near-constant limits once n is large, judging every provider against the real spread
between providers. The additive form is the default (see `rules.py`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Z95 = 1.96
Z998 = 3.09

NONE, MULTIPLICATIVE, ADDITIVE = 0, 1, 2


def binomial_variance(p: float, n: float) -> float:
    """s²(n) = p (1 − p) / n (infinite when n is 0)."""
    return p * (1 - p) / n if n > 0 else math.inf


def z_scores(rates: Sequence[float], sizes: Sequence[float], p: float) -> list[float]:
    """zᵢ = (yᵢ − p̄) / √(p̄ (1 − p̄) / nᵢ)."""
    return [(y - p) / math.sqrt(binomial_variance(p, n)) for y, n in zip(rates, sizes, strict=True)]


def winsorise(values: Sequence[float], share: float) -> list[float]:
    """Pull the `floor(share · k)` lowest and highest values in to the next value inwards."""
    k = len(values)
    m = math.floor(share * k)
    if m == 0 or k <= 2 * m:
        return list(values)
    ordered = sorted(values)
    low, high = ordered[m], ordered[k - 1 - m]
    return [min(max(v, low), high) for v in values]


def phi(z: Sequence[float]) -> float:
    """Multiplicative over-dispersion φ = mean of z², floored at 1."""
    return max(1.0, sum(v * v for v in z) / len(z)) if z else 1.0


def tau_squared(z: Sequence[float], sizes: Sequence[float], p: float) -> float:
    """Additive between-subject variance τ² (DerSimonian–Laird, from winsorised z)."""
    k = len(z)
    if k < 2:
        return 0.0
    w = [1 / binomial_variance(p, n) for n in sizes]
    sw = sum(w)
    denominator = sw - sum(x * x for x in w) / sw
    if denominator <= 0:
        return 0.0
    return max(0.0, (k * phi_unfloored(z) - (k - 1)) / denominator)


def phi_unfloored(z: Sequence[float]) -> float:
    return sum(v * v for v in z) / len(z) if z else 1.0


def limits(
    p: float, n: float, z: float, *, phi_value: float = 1.0, tau2: float = 0.0
) -> tuple[float, float]:
    """(lower, upper) funnel limits at size n. Not clipped to [0, 1]."""
    half = z * math.sqrt(phi_value * binomial_variance(p, n) + tau2)
    return p - half, p + half


def dispersion(
    rates: Sequence[float], sizes: Sequence[float], p: float, method: int, winsor: float
) -> tuple[float, float]:
    """(φ, τ²) for the method: (1, 0) for none, (φ, 0) multiplicative, (1, τ²) additive."""
    if method == NONE or not rates or p <= 0 or p >= 1:
        return 1.0, 0.0
    z = winsorise(z_scores(rates, sizes, p), winsor)
    if method == MULTIPLICATIVE:
        return phi(z), 0.0
    return 1.0, tau_squared(z, sizes, p)
