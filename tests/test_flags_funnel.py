"""Funnel limits against values worked out by hand (FunnelPlotR's proportion method).

p̄ = 0.3, n = 100, arcsine scale: centre c = asin(√0.3) = 0.5796397 rad, s = 1/(2√100) = 0.05.
95%: sin(c ∓ 1.959964 × 0.05)² = 0.2145863, 0.3930721;
99.8%: sin(c ∓ 3.090232 × 0.05)² = 0.1701047, 0.4488429.
Three providers at 0.2, 0.3, 0.4 with n = 100: asin(√0.2) = 0.4636476, asin(√0.4) = 0.6847192,
so z = (0.4636476 − c)/0.05 = −2.319843, 0, (0.6847192 − c)/0.05 = 2.101589;
φ = (2.319843² + 2.101589²)/3 = 3.266116. Weights w = 1/s² = 400 each: Σw − Σw²/Σw = 1200 − 400
= 800; τ² = (3φ − 2)/800 = 0.0097479. Additive 99.8% limits at n = 100:
sin(c ∓ 3.090232 √(0.0025 + 0.0097479))² = 0.0554189, 0.6345592;
multiplicative lower: sin(c − 3.090232 √φ × 0.05)² = 0.0875583.
Proportion scale (PHEindicatormethods): p̄ ± z √(p̄(1 − p̄)/n) = 0.3 ± 3.090232 × 0.0458258.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from capwatch.analytics.flags import funnel
from capwatch.cli import app
from tests.test_flags_rules import build


def test_exact_normal_quantiles() -> None:
    assert abs(funnel.Z95 - 1.959964) < 1e-6
    assert abs(funnel.Z998 - 3.090232) < 1e-6


def test_plain_limits_on_the_arcsine_scale() -> None:
    assert funnel.limits(0.3, 100, funnel.Z95) == pytest.approx((0.2145863, 0.3930721), abs=1e-6)
    assert funnel.limits(0.3, 100, funnel.Z998) == pytest.approx((0.1701047, 0.4488429), abs=1e-6)


def test_plain_limits_on_the_proportion_scale() -> None:
    lower, upper = funnel.limits(0.3, 100, funnel.Z998, scale=funnel.PROPORTION)
    half = 3.090232 * 0.0458258
    assert (lower, upper) == pytest.approx((0.3 - half, 0.3 + half), abs=1e-6)
    # four times the volume halves the width
    lo, hi = funnel.limits(0.3, 400, funnel.Z998, scale=funnel.PROPORTION)
    assert hi - lo == pytest.approx(half, abs=1e-6)


def test_limits_stay_between_zero_and_one() -> None:
    # n = 4: c − 3.09 × 0.25 = −0.19 < 0; FunnelPlotR's sin² would fold back to 0.036
    lower, upper = funnel.limits(0.3, 4, funnel.Z998)
    assert lower == 0.0
    assert upper <= 1.0
    assert funnel.limits(0.95, 4, funnel.Z998)[1] == 1.0
    assert funnel.limits(0.3, 4, funnel.Z998, scale=funnel.PROPORTION)[0] == 0.0


def test_arcsine_z_scores_phi_and_multiplicative_limits() -> None:
    z = funnel.z_scores([0.2, 0.3, 0.4], [100, 100, 100], 0.3)
    assert z == pytest.approx([-2.319843, 0.0, 2.101589], abs=1e-6)
    assert funnel.phi(z) == pytest.approx(3.266116, abs=1e-6)
    phi, tau2 = funnel.dispersion([0.2, 0.3, 0.4], [100] * 3, 0.3, funnel.MULTIPLICATIVE, 0.0)
    assert (phi, tau2) == (pytest.approx(3.266116, abs=1e-6), 0.0)
    lower, _ = funnel.limits(0.3, 100, funnel.Z998, phi_value=phi)
    assert lower == pytest.approx(0.0875583, abs=1e-6)


def test_multiplicative_phi_is_floored_at_one() -> None:
    # 0.305 and 0.3 at n = 100: z ≈ 0.11 and 0, φ ≈ 0.006 < 1, so the limits are not narrowed
    phi, _ = funnel.dispersion([0.305, 0.3], [100, 100], 0.3, funnel.MULTIPLICATIVE, 0.0)
    assert phi == 1.0
    assert funnel.phi([0.1, -0.1]) == pytest.approx(0.01)  # the ratio itself is not floored


def test_additive_tau_squared_and_limits() -> None:
    rates, sizes = [0.2, 0.3, 0.4], [100, 100, 100]
    phi, tau2 = funnel.dispersion(rates, sizes, 0.3, funnel.ADDITIVE, 0.0)
    assert phi == 1.0
    assert tau2 == pytest.approx(0.0097479, abs=1e-7)
    assert funnel.limits(0.3, 100, funnel.Z998, tau2=tau2) == pytest.approx(
        (0.0554189, 0.6345592), abs=1e-6
    )
    # with no spread between providers beyond chance (kφ < k − 1), τ² is 0
    assert funnel.dispersion([0.3, 0.3], [100, 100], 0.3, funnel.ADDITIVE, 0.0) == (1.0, 0.0)


def test_method_none_leaves_the_plain_limits() -> None:
    assert funnel.dispersion([0.1, 0.5], [100, 100], 0.3, funnel.NONE, 0.1) == (1.0, 0.0)


def test_winsorising_pulls_the_tails_in_to_r_type_7_quantiles() -> None:
    # R: quantile(1:10, c(0.1, 0.9)) = 1.9, 9.1; quantile(1:10, c(0.25, 0.75)) = 3.25, 7.75
    values = [float(v) for v in range(1, 11)]
    assert funnel.winsorise(values, 0.1) == pytest.approx([1.9, 2, 3, 4, 5, 6, 7, 8, 9, 9.1])
    assert funnel.winsorise(values, 0.25) == pytest.approx(
        [3.25, 3.25, 3.25, 4, 5, 6, 7, 7.75, 7.75, 7.75]
    )
    assert funnel.winsorise(values, 0.0) == values
    # order is kept: each value is clamped where it stands
    assert funnel.winsorise([10.0, 1.0, 5.0, 2.0, 9.0], 0.25) == pytest.approx(
        [9.0, 2.0, 5.0, 2.0, 9.0]
    )


def test_cli_takes_choice_names(tmp_path: Path) -> None:
    db = build(tmp_path / "data")
    out = tmp_path / "funnel.csv"
    runner = CliRunner()
    ok = runner.invoke(
        app,
        ["flags", "--out", str(out), "--db", str(db), "--rule", "funnel",
         "--param", "funnel.overdispersion=none", "--param", "funnel.scale=proportion"],
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert (
        "wrote 1 flag on 1 provider" in ok.output
    )  # AA1 only: DD1's plain proportion funnel is below 0
    bad = runner.invoke(
        app, ["flags", "--out", str(out), "--db", str(db), "--param", "funnel.overdispersion=2"]
    )
    assert bad.exit_code != 0
    assert "must be one of additive, multiplicative, none" in str(bad.exception)
