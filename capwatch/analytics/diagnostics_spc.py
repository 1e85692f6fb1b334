"""Making Data Count on the published DM01 record: XmR charts of independent-sector activity.

The series is NHS-funded tests done by independent-sector organisations (sector `independent`
in `diagnostics_monthly`), month by month: nationally, by region (the 2019 map), by test, or for
one IS organisation (`ods_org_code`). The chart is the flags' own XmR (`flags.spc.xmr`, checked
against NHSRplotthedots' peer cases), with a pre-pandemic baseline: by default the 24 months up
to February 2020, as the NHS set its recovery baselines. Months not loaded are left out (a gap
joins its neighbours) and count towards neither the baseline nor the chart.

Special cause is marked from the first month after the baseline on; baseline months only set
the limits. Recovery is each month's activity against the baseline's mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import polars as pl

from capwatch.analytics.flags import spc
from capwatch.db import Database

Level = Literal["national", "region", "test", "organisation"]
BASELINE_END = date(2020, 2, 1)
BASELINE_MONTHS = 24
_KEY: dict[Level, str | None] = {
    "national": None,
    "region": "region",
    "test": "test",
    "organisation": "ods_org_code",
}


@dataclass(frozen=True)
class Baseline:
    """The months whose points set the limits: `months` months ending with `end`."""

    end: date = BASELINE_END
    months: int = BASELINE_MONTHS

    @property
    def start(self) -> date:
        index = self.end.year * 12 + self.end.month - 1 - (self.months - 1)
        return date(index // 12, index % 12 + 1, 1)


def is_series(db: Database, level: Level = "national", key: str | None = None) -> pl.DataFrame:
    """month, activity: the independent sector's tests done each loaded month, for one key."""
    column = _KEY[level]
    where, params = "sector = 'independent'", list[Any]()
    if column is not None:
        if key is None:
            raise ValueError(f"a {level} chart needs the {level} it is for")
        where += f" AND {column} = ?"
        params.append(key)
    frame = db.query(
        f"SELECT month, CAST(sum(activity) AS BIGINT) AS activity FROM diagnostics_monthly "
        f"WHERE {where} GROUP BY month ORDER BY month",
        params,
    )
    return frame.with_columns(pl.col("activity").cast(pl.Int64))


def chart(series: pl.DataFrame, baseline: Baseline | None = None) -> pl.DataFrame:
    """The XmR chart of a monthly series from the baseline's first month on.

    One row per month: month, activity, the chart's lines and signals (as `spc.xmr`),
    `special_cause` (a signal, after the baseline), `vs_baseline_mean` (activity ÷ the
    baseline's mean) and `baseline_months` (points in the baseline: fewer than 12 give trial
    limits). Empty when no loaded month falls in the baseline.
    """
    base = baseline or Baseline()
    points = series.filter(pl.col("month") >= base.start).sort("month")
    n_base = points.filter(pl.col("month") <= base.end).height
    if n_base == 0:
        return pl.DataFrame()
    xmr = spc.xmr([float(v) for v in points["activity"]], baseline=n_base)
    return pl.concat([points, xmr.drop("point", "value")], how="horizontal").with_columns(
        ((pl.col("point_type") != spc.COMMON) & ~pl.col("in_baseline")).alias("special_cause"),
        (pl.col("activity") / pl.col("mean")).alias("vs_baseline_mean"),
        pl.lit(n_base).alias("baseline_months"),
    )


def is_chart(
    db: Database,
    level: Level = "national",
    key: str | None = None,
    baseline: Baseline | None = None,
) -> pl.DataFrame:
    """`chart` of `is_series`: the independent sector's XmR chart at one level."""
    return chart(is_series(db, level, key), baseline)


def keys(db: Database, level: Level) -> list[str]:
    """The regions, tests or IS organisations a chart can be drawn for (codes, sorted)."""
    column = _KEY[level]
    if column is None:
        return []
    frame = db.query(
        f"SELECT DISTINCT {column} AS k FROM diagnostics_monthly "
        f"WHERE sector = 'independent' AND {column} IS NOT NULL ORDER BY k"
    )
    return [str(k) for k in frame["k"]]
