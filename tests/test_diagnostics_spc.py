"""Making Data Count on the published DM01 record: the baseline window, special cause after it,
recovery against the baseline mean (hand-worked), and the national IS chart on the real months."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from capwatch.analytics import diagnostics_spc as spc_dm01
from capwatch.db import Database
from capwatch.load import ingest
from tests.published_support import REAL, REAL_DM01, needs_real


def _months(start: date, n: int) -> list[date]:
    return [
        date(start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1, 1)
        for i in range(n)
    ]


def test_the_default_baseline_is_the_24_months_to_february_2020() -> None:
    base = spc_dm01.Baseline()
    assert (base.start, base.end) == (date(2018, 3, 1), date(2020, 2, 1))
    assert len(_months(base.start, 24)) == 24 and _months(base.start, 24)[-1] == base.end


def _series(values: list[int], start: date) -> pl.DataFrame:
    return pl.DataFrame({"month": _months(start, len(values)), "activity": values})


def test_limits_and_recovery_on_hand_worked_figures() -> None:
    # Baseline Jan–Apr 2019 (4 months): 10, 12, 11, 13 → mean 11.5; moving ranges 2, 1, 2 →
    # mean 5/3; limits 11.5 ± 2.66 × 5/3 = 11.5 ± 4.4333 → 7.0667 … 15.9333.
    # A month before the baseline (Dec 2018, 100) is not on the chart.
    series = _series([100, 10, 12, 11, 13, 5, 12], date(2018, 12, 1))
    chart = spc_dm01.chart(series, spc_dm01.Baseline(end=date(2019, 4, 1), months=4))
    assert chart["month"].to_list() == _months(date(2019, 1, 1), 6)
    assert chart["mean"][0] == pytest.approx(11.5)
    assert chart["lower_limit"][0] == pytest.approx(11.5 - 2.66 * 5 / 3)
    assert chart["upper_limit"][0] == pytest.approx(11.5 + 2.66 * 5 / 3)
    # May 2019 (5) is below the lower limit: special cause; June (12) is inside: not.
    assert chart["special_cause"].to_list() == [False] * 4 + [True, False]
    assert chart["beyond_limit"][4] == -1
    assert chart["vs_baseline_mean"][4] == pytest.approx(5 / 11.5)
    assert chart["baseline_months"][0] == 4


def test_special_cause_is_marked_after_the_baseline_only() -> None:
    # The spike (40) inside the baseline is beyond the upper limit but only sets the limits; the
    # month after the baseline continues a run of 12+ points below the mean: special cause.
    values = [10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 40, 10]
    chart = spc_dm01.chart(
        _series(values, date(2019, 1, 1)), spc_dm01.Baseline(end=date(2019, 12, 1), months=12)
    )
    assert chart["beyond_limit"][11] == 1
    assert chart["special_cause"].to_list() == [False] * 12 + [True]


def test_a_missing_month_is_left_out_not_counted_as_zero() -> None:
    series = _series([10, 12, 11, 13], date(2019, 1, 1)).filter(pl.col("month") != date(2019, 2, 1))
    chart = spc_dm01.chart(series, spc_dm01.Baseline(end=date(2019, 4, 1), months=4))
    assert chart["baseline_months"][0] == 3
    assert chart["mean"][0] == pytest.approx((10 + 11 + 13) / 3)


def test_no_loaded_month_in_the_baseline_gives_no_chart() -> None:
    assert spc_dm01.chart(_series([5, 6], date(2020, 6, 1))).is_empty()


@pytest.fixture(scope="module")
def real_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not REAL_DM01.is_dir():
        pytest.skip(f"the 37 published DM01 months are not at {REAL_DM01} (../shared is absent)")
    path = tmp_path_factory.mktemp("spc") / "real.duckdb"
    report = ingest([REAL_DM01, REAL / "ods"], path)
    assert report.ok, [o.summary() for o in report.outcomes]
    return path


@needs_real
def test_national_is_chart_shows_april_2020_below_the_lower_limit(real_db: Path) -> None:
    db = Database(real_db)
    try:
        chart = spc_dm01.is_chart(db)
        series = spc_dm01.is_series(db)
    finally:
        db.close()
    # Independently: the baseline mean straight from the series (23 loaded months of the 24:
    # Oct 2018 is not published here).
    base = series.filter(pl.col("month").is_between(date(2018, 3, 1), date(2020, 2, 1)))
    assert base.height == 23
    assert chart["mean"][0] == pytest.approx(base["activity"].mean())
    april = chart.filter(pl.col("month") == date(2020, 4, 1)).row(0, named=True)
    assert april["activity"] < april["lower_limit"]
    assert april["beyond_limit"] == -1 and april["special_cause"]
    assert april["point_type"] == "special_cause_concern"
    assert not chart.filter(pl.col("month") <= date(2020, 2, 1))["special_cause"].any()


@needs_real
def test_charts_by_region_test_and_is_organisation_draw(real_db: Path) -> None:
    db = Database(real_db)
    try:
        regions = spc_dm01.keys(db, "region")
        assert len(regions) == 7
        by_region = {r: spc_dm01.is_chart(db, "region", r) for r in regions}
        mri = spc_dm01.is_chart(db, "test", "mri")
        nt4 = spc_dm01.is_chart(db, "organisation", "NT4")
        national = spc_dm01.is_chart(db)
    finally:
        db.close()
    # The regions (on the 2019 map, earlier months placed) add up to the nation each month,
    # less any organisation that could not be placed.
    april = date(2020, 4, 1)
    total = sum(c.filter(pl.col("month") == april)["activity"].item() for c in by_region.values())
    assert total <= national.filter(pl.col("month") == april)["activity"].item()
    assert mri.height > 0 and nt4.height > 0
