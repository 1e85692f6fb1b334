"""Funnel limits against values worked out by hand.

p̄ = 0.3, n = 100: s² = 0.3 × 0.7 / 100 = 0.0021, s = 0.0458258.
95%: 0.3 ± 1.96 s = 0.3 ± 0.0898185; 99.8%: 0.3 ± 3.09 s = 0.3 ± 0.1416016.
Three providers at 0.2, 0.3, 0.4 with n = 100: z = −2.18218, 0, 2.18218; Σz² = 2 × 0.01/0.0021
= 9.5238; φ = 3.1746. Weights w = 1/0.0021 = 476.19 each: Σw − Σw²/Σw = 1428.57 − 476.19
= 952.38; τ² = (9.5238 − 2) / 952.38 = 0.0079. Additive limits at n = 100:
0.3 ± 3.09 × √(0.0021 + 0.0079) = 0.3 ± 0.309.
"""

from __future__ import annotations

import math

import pytest

from capwatch.analytics.flags import funnel


def test_plain_binomial_limits() -> None:
    assert funnel.limits(0.3, 100, funnel.Z95) == pytest.approx((0.2101815, 0.3898185), abs=1e-7)
    assert funnel.limits(0.3, 100, funnel.Z998) == pytest.approx((0.1583984, 0.4416016), abs=1e-6)
    # four times the volume halves the width
    lo, hi = funnel.limits(0.3, 400, funnel.Z998)
    assert hi - lo == pytest.approx(0.1416016, abs=1e-6)


def test_z_scores_and_multiplicative_phi() -> None:
    z = funnel.z_scores([0.2, 0.3, 0.4], [100, 100, 100], 0.3)
    assert z == pytest.approx([-2.18218, 0.0, 2.18218], abs=1e-5)
    assert funnel.phi(z) == pytest.approx(3.174603, abs=1e-6)
    lo, _ = funnel.limits(0.3, 100, funnel.Z998, phi_value=funnel.phi(z))
    assert lo == pytest.approx(0.3 - 3.09 * math.sqrt(3.174603 * 0.0021), abs=1e-6)


def test_phi_is_floored_at_one() -> None:
    assert funnel.phi([0.1, -0.2]) == 1.0


def test_additive_tau_squared_and_limits() -> None:
    rates, sizes = [0.2, 0.3, 0.4], [100, 100, 100]
    phi, tau2 = funnel.dispersion(rates, sizes, 0.3, funnel.ADDITIVE, 0.0)
    assert phi == 1.0
    assert tau2 == pytest.approx(0.0079, abs=1e-9)
    assert funnel.limits(0.3, 100, funnel.Z998, tau2=tau2) == pytest.approx(
        (-0.009, 0.609), abs=1e-9
    )
    # with no spread between providers beyond chance, τ² is 0
    assert funnel.dispersion([0.3, 0.3], [100, 100], 0.3, funnel.ADDITIVE, 0.0) == (1.0, 0.0)


def test_method_none_leaves_the_binomial_limits() -> None:
    assert funnel.dispersion([0.1, 0.5], [100, 100], 0.3, funnel.NONE, 0.1) == (1.0, 0.0)


def test_winsorising_pulls_in_the_tails() -> None:
    values = [float(v) for v in range(1, 11)]
    assert funnel.winsorise(values, 0.1) == [2.0, 2.0, 3, 4, 5, 6, 7, 8, 9.0, 9.0]
    assert funnel.winsorise(values, 0.25) == [3.0, 3.0, 3.0, 4, 5, 6, 7, 8.0, 8.0, 8.0]
    assert funnel.winsorise(values, 0.0) == values
