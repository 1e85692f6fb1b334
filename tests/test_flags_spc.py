"""XmR / Making Data Count calculations against hand-worked examples.

Example A: x = 5, 7, 6, 8, 7, 6, 5, 7. Σx = 51, mean = 6.375. Moving ranges 2, 1, 2, 1, 1, 1, 2:
Σ = 10, mean mR = 10/7. None reaches 3.267 × 10/7 = 4.667, so screening drops nothing.
Limits 6.375 ± 2.66 × 10/7 = 6.375 ± 3.8 → 2.575 and 10.175.
Near limits 6.375 ± (2/3)(2.66)(10/7) = 6.375 ± 2.5333… → 3.841667 and 8.908333.
"""

from __future__ import annotations

import pytest

from capwatch.analytics.flags import spc

EXAMPLE_A = [5.0, 7.0, 6.0, 8.0, 7.0, 6.0, 5.0, 7.0]


def test_limits_of_the_hand_worked_example() -> None:
    lim = spc.limits(EXAMPLE_A)
    assert lim.mean == pytest.approx(6.375)
    assert lim.mean_moving_range == pytest.approx(10 / 7)
    assert lim.lower == pytest.approx(2.575)
    assert lim.upper == pytest.approx(10.175)
    assert lim.lower_near == pytest.approx(6.375 - 2 * 2.66 / 3 * 10 / 7)
    assert lim.lower_near == pytest.approx(3.841667, abs=1e-6)
    assert lim.upper_near == pytest.approx(8.908333, abs=1e-6)


def test_stable_series_is_common_cause_throughout() -> None:
    chart = spc.xmr(EXAMPLE_A)
    assert set(chart["point_type"]) == {spc.COMMON}
    assert spc.variation_icon(chart) == "common_cause"


def test_point_below_the_fixed_baseline_limit_is_concern() -> None:
    chart = spc.xmr([*EXAMPLE_A, 2.5], baseline=8)
    assert chart["lower_limit"][0] == pytest.approx(2.575)  # baseline is the first 8 only
    assert chart["beyond_limit"].to_list()[-1] == -1
    assert chart["point_type"].to_list()[-1] == spc.CONCERN
    assert spc.variation_icon(chart) == "special_cause_concern_low"
    # 2.6 sits just inside the limit: no point beyond it
    inside = spc.xmr([*EXAMPLE_A, 2.6], baseline=8)
    assert inside["beyond_limit"].to_list()[-1] == 0


def test_point_above_the_upper_limit_is_improvement_when_higher_is_better() -> None:
    chart = spc.xmr([*EXAMPLE_A, 10.2], baseline=8)
    assert chart["point_type"].to_list()[-1] == spc.IMPROVEMENT
    assert spc.variation_icon(chart) == "special_cause_improvement_high"
    lower_better = spc.xmr([*EXAMPLE_A, 10.2], baseline=8, higher_is_better=False)
    assert spc.variation_icon(lower_better, higher_is_better=False) == "special_cause_concern_high"


def test_large_moving_ranges_are_screened_out() -> None:
    # x = 0, 1, 0, 1, 0, 10: mRs 1, 1, 1, 1, 10 (mean 2.8); 10 ≥ 3.267 × 2.8 = 9.15 is dropped,
    # leaving mean mR 1. Mean 12/6 = 2, limits 2 ± 2.66.
    values = [0.0, 1.0, 0.0, 1.0, 0.0, 10.0]
    lim = spc.limits(values)
    assert lim.mean_moving_range == pytest.approx(1.0)
    assert (lim.lower, lim.upper) == pytest.approx((-0.66, 4.66))
    unscreened = spc.limits(values, screen_outliers=False)
    assert unscreened.mean_moving_range == pytest.approx(2.8)
    assert unscreened.upper == pytest.approx(2 + 2.66 * 2.8)


def test_a_run_of_seven_below_the_mean_is_a_shift_and_a_point_on_the_mean_breaks_it() -> None:
    # mean of 1×7, 2, 3×7 is 30/15 = 2: the 2 is exactly on the mean
    chart = spc.xmr([1.0] * 7 + [2.0] + [3.0] * 7)
    assert chart["mean"][0] == 2.0
    assert chart["shift"].to_list() == [-1] * 7 + [0] + [1] * 7
    # 1×6, 2, 3×6: runs of six either side of the tie; nothing with run length 7
    short = spc.xmr([1.0] * 6 + [2.0] + [3.0] * 6)
    assert short["mean"][0] == 2.0
    assert set(short["shift"]) == {0}
    assert set(spc.xmr([1.0] * 6 + [2.0] + [3.0] * 6, run_length=6)["shift"]) == {-1, 0, 1}


def test_seven_consecutive_rises_are_a_trend_and_an_equal_value_breaks_it() -> None:
    rising = spc.xmr([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    assert rising["trend"].to_list() == [1] * 7
    broken = spc.xmr([1.0, 2.0, 3.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    assert set(broken["trend"]) == {0}
    falling = spc.xmr([7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0, 1.0])
    assert falling["trend"].to_list() == [-1] * 7 + [0]
    assert falling["point_type"].to_list()[:7] == [spc.CONCERN] * 7
    six = [6.0, 5.0, 4.0, 3.0, 2.0, 1.0]
    assert set(spc.xmr(six)["trend"]) == {0}
    assert spc.xmr(six, trend_length=6)["trend"].to_list() == [-1] * 6


def test_two_of_three_beyond_the_near_limit_on_the_same_side() -> None:
    # Baseline example A: lower near limit 3.8417, lower limit 2.575.
    chart = spc.xmr([*EXAMPLE_A, 3.0, 5.0, 3.5], baseline=8)
    assert chart["beyond_limit"].to_list()[-3:] == [0, 0, 0]
    assert chart["two_of_three"].to_list()[-3:] == [-1, 0, -1]
    assert chart["point_type"].to_list()[-3:] == [spc.CONCERN, spc.COMMON, spc.CONCERN]
    # The middle point above the mean: the three are not on one side, no signal.
    mixed = spc.xmr([*EXAMPLE_A, 3.0, 7.0, 3.5], baseline=8)
    assert mixed["two_of_three"].to_list()[-3:] == [0, 0, 0]
    # Only one of three beyond the near limit: no signal.
    one = spc.xmr([*EXAMPLE_A, 3.0, 5.0, 4.0], baseline=8)
    assert one["two_of_three"].to_list()[-3:] == [0, 0, 0]


def test_rising_trend_starting_below_the_lower_limit_is_concern_where_it_is_below() -> None:
    values = [*EXAMPLE_A, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    chart = spc.xmr(values, baseline=8)
    assert chart["trend"].to_list()[-7:] == [1] * 7
    types = chart["point_type"].to_list()[-7:]
    assert types[0] == spc.CONCERN  # 1.0 is below the lower limit 2.575
    assert types[-1] == spc.IMPROVEMENT  # 7.0 is only part of the rising trend
    assert spc.variation_icon(chart) == "special_cause_improvement_high"


def test_single_point_and_empty_series() -> None:
    one = spc.xmr([0.4])
    assert one["mean"][0] == pytest.approx(0.4)
    assert one["lower_limit"][0] is None
    assert one["point_type"].to_list() == [spc.COMMON]
    empty = spc.xmr([])
    assert empty.height == 0
    assert spc.variation_icon(empty) == "common_cause"


def test_flat_series_has_zero_width_limits_and_no_signal_on_the_mean() -> None:
    chart = spc.xmr([0.3] * 10)
    assert chart["lower_limit"][0] == pytest.approx(0.3)
    assert set(chart["side"]) == {0}
    assert set(chart["point_type"]) == {spc.COMMON}
