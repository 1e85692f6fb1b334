"""The one utilisation function the flag rules share: NHS units ÷ capacity units, null
without capacity, the same whether given a Polars expression or two numbers."""

from __future__ import annotations

import polars as pl

from capwatch.analytics.utilisation import utilisation


def test_numbers_and_expressions_agree_and_no_capacity_is_null() -> None:
    weeks = pl.DataFrame({"nhs_units": [30, 0, 5, 12], "capacity_units": [120, 40, 0, 0]})
    by_expr = weeks.select(u=utilisation(pl.col("nhs_units"), pl.col("capacity_units")))
    assert by_expr["u"].to_list() == [0.25, 0.0, None, None]
    by_number = [utilisation(n, c) for n, c in weeks.iter_rows()]
    assert by_number == [0.25, 0.0, None, None]


def test_a_ratio_of_sums_never_a_mean_of_ratios() -> None:
    weeks = pl.DataFrame({"nhs_units": [10, 90], "capacity_units": [100, 100]})
    got = weeks.select(utilisation(pl.col("nhs_units").sum(), pl.col("capacity_units").sum()))
    assert got.item() == 0.5  # 100 / 200; the mean of 0.1 and 0.9 is also 0.5, so:
    skewed = pl.DataFrame({"nhs_units": [10, 90], "capacity_units": [100, 300]})
    got = skewed.select(utilisation(pl.col("nhs_units").sum(), pl.col("capacity_units").sum()))
    assert got.item() == 0.25  # 100 / 400, not (0.1 + 0.3) / 2 = 0.2
