"""Warnings that do not stop a load: data that is allowed but worth a second look.

NHS units above capacity are allowed (a provider may deliver more than it contracted, or the
capacity return may be late), so the file loads; the load notes how many site-weeks it leaves
above capacity, and the `data_quality` view lists them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import cast

import polars as pl

from capwatch import db
from capwatch.contract import InputTable

WEEK_GRAIN = ["site_code", "service_line", "week_start"]
_EXAMPLES = 3
_SCHEMA = {
    "site_code": pl.String,
    "service_line": pl.String,
    "week_start": pl.Date,
    "nhs_units": pl.Int64,
    "capacity_units": pl.Int64,
}


def _week(column: str) -> pl.Expr:
    return pl.col(column).dt.truncate("1w").alias("week_start")  # weeks start on Monday


def _existing_nhs(writer: db.Writer, first: date, last: date) -> pl.DataFrame:
    return writer.query(
        "SELECT site_code, service_line, CAST(date_trunc('week', activity_date) AS DATE) "
        "AS week_start, sum(units) AS nhs_units FROM activity_daily "
        "WHERE funding = 'nhs' AND activity_date BETWEEN ? AND ? GROUP BY ALL",
        [first, last],
    )


def _existing_capacity(writer: db.Writer, first: date, last: date) -> pl.DataFrame:
    return writer.query(
        "SELECT site_code, service_line, week_start, sum(capacity_units) AS capacity_units "
        "FROM capacity WHERE week_start BETWEEN ? AND ? GROUP BY ALL",
        [first, last],
    )


def _sum_by_week(frames: list[pl.DataFrame], value: str) -> pl.DataFrame:
    stacked = pl.concat([f.select(*WEEK_GRAIN, pl.col(value).cast(pl.Int64)) for f in frames])
    return stacked.group_by(WEEK_GRAIN).agg(pl.col(value).sum())


def above_capacity(writer: db.Writer, table: InputTable, frame: pl.DataFrame) -> pl.DataFrame:
    """Site-weeks touched by `frame` where NHS units would exceed capacity once it is stored.

    `frame` is a checked capacity frame or activity summed to the day, not yet stored. Weeks
    are whole weeks: a week split across two monthly activity files counts both parts.
    """
    empty = pl.DataFrame(schema=_SCHEMA)
    if table.name == "activity":
        incoming = (
            frame.filter(pl.col("funding") == "nhs")
            .with_columns(_week("activity_date"))
            .group_by(WEEK_GRAIN)
            .agg(pl.col("units").sum().alias("nhs_units"))
        )
    elif table.name == "capacity":
        incoming = frame.group_by(WEEK_GRAIN).agg(pl.col("capacity_units").sum())
    else:
        return empty
    if incoming.is_empty():
        return empty
    first = cast(date, incoming["week_start"].min())  # not empty, so a date
    last = cast(date, incoming["week_start"].max())
    nhs = [_existing_nhs(writer, first, last + timedelta(days=6))]
    capacity = [_existing_capacity(writer, first, last)]
    (nhs if table.name == "activity" else capacity).append(incoming)
    totals = (
        incoming.select(WEEK_GRAIN)
        .join(_sum_by_week(nhs, "nhs_units"), on=WEEK_GRAIN, how="inner")
        .join(_sum_by_week(capacity, "capacity_units"), on=WEEK_GRAIN, how="inner")
    )
    return totals.filter(
        (pl.col("capacity_units") > 0) & (pl.col("nhs_units") > pl.col("capacity_units"))
    ).sort(WEEK_GRAIN)


def warnings(writer: db.Writer, table: InputTable, frame: pl.DataFrame) -> list[str]:
    """Plain-language warnings for the load log and the command's output (may be empty)."""
    over = above_capacity(writer, table, frame)
    if over.is_empty():
        return []
    examples = "; ".join(
        f"{r['site_code']} {r['service_line']} week of {r['week_start']}: "
        f"{r['nhs_units']:,} NHS units, capacity {r['capacity_units']:,}"
        for r in over.head(_EXAMPLES).iter_rows(named=True)
    )
    return [
        f"warning: NHS units above capacity in {over.height:,} site-week(s), e.g. {examples} "
        "(allowed; listed in the data_quality view)"
    ]
