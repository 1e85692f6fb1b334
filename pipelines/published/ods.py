"""ODS "Independent Sector Healthcare Providers" (`ephp`), read as NHS Digital publishes it.

A headerless sheet of 22 columns, one row per organisation: 1 code, 2 name, 3 national
grouping, 4 high-level health geography, 5–9 address, 10 postcode, 11 open date (YYYYMMDD),
12 close date, 22 amended-record flag. Recognised by that shape, not by its name.
capwatch uses it for one thing: an organisation in this list is independent sector.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from pipelines.problems import FileRejected, Problem
from pipelines.published.workbook import Sheet, read_sheets, sheet_names

READER = "ods_ephp"
TABLE = "ods_independent_orgs"
WIDTH = 22
_CODE = re.compile(r"^[A-Z0-9]{3}$")
_DAY = re.compile(r"^\d{8}$")


def _looks_like_ephp(sheet: Sheet) -> bool:
    frame = sheet.frame.filter(
        pl.any_horizontal(pl.col(c).is_not_null() for c in sheet.frame.columns)
    )
    if frame.width != WIDTH or frame.height == 0:
        return False
    head = frame.head(50)
    codes = head["c0"].cast(pl.String).fill_null("").str.contains(_CODE.pattern)
    opened = head["c10"].cast(pl.String).fill_null("").str.contains(_DAY.pattern)
    return bool(codes.mean() >= 0.9 and opened.mean() >= 0.9)  # type: ignore[operator]


def recognise(path: Path) -> bool:
    """True if a sheet has the ephp shape: 22 columns, 3-character codes, YYYYMMDD open dates."""
    try:
        sheets = read_sheets(path, sheet_names(path)[:1], n_rows=60)
    except FileRejected:
        return False
    return any(_looks_like_ephp(s) for s in sheets.values())


def read_ephp(path: Path) -> pl.DataFrame:
    """One row per organisation code. Raises FileRejected naming row and column."""
    sheet = next(iter(read_sheets(path, sheet_names(path)[:1]).values()))
    where = f"{path}, sheet {sheet.name!r}"
    raw = sheet.frame.with_row_index("_row", offset=1).with_columns(pl.col("_row").cast(pl.Int64))
    raw = raw.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in sheet.frame.columns))
    frame = raw.select(
        "_row",
        pl.col("c0").str.strip_chars().str.to_uppercase().alias("org_code"),
        pl.col("c1").str.strip_chars().alias("org_name"),
        pl.col("c2").str.strip_chars().alias("national_grouping"),
        pl.col("c3").str.strip_chars().alias("health_geography"),
        pl.col("c9").str.strip_chars().alias("postcode"),
        pl.col("c10").str.strip_chars().alias("_open"),
        pl.col("c11").str.strip_chars().alias("_close"),
    )
    problems: list[Problem] = []
    letter = sheet.letters
    for row, code in (
        frame.filter(~pl.col("org_code").str.contains(_CODE.pattern).fill_null(False))
        .select("_row", "org_code")
        .head(20)
        .iter_rows()
    ):
        problems.append(
            Problem(
                where,
                row,
                f"{letter[0]} (code)",
                f"{code!r} is not a 3-character organisation code",
            )
        )
    for row, code in (
        frame.filter(pl.col("org_code").is_duplicated())
        .select("_row", "org_code")
        .head(20)
        .iter_rows()
    ):
        problems.append(Problem(where, row, f"{letter[0]} (code)", f"a second row for {code}"))
    for row in frame.filter(pl.col("org_name").is_null())["_row"].head(20):
        problems.append(Problem(where, row, f"{letter[1]} (name)", "the name is empty"))
    for col, idx, label in (("_open", 10, "open date"), ("_close", 11, "close date")):
        parsed = pl.col(col).str.to_date("%Y%m%d", strict=False)
        bad = frame.filter(pl.col(col).is_not_null() & parsed.is_null())
        for row, value in bad.select("_row", col).head(20).iter_rows():
            problems.append(
                Problem(
                    where,
                    row,
                    f"{letter[idx]} ({label})",
                    f"{value!r} is not a date written YYYYMMDD",
                )
            )
    if problems:
        raise FileRejected(problems)
    return frame.select(
        "org_code",
        "org_name",
        "national_grouping",
        "health_geography",
        "postcode",
        pl.col("_open").str.to_date("%Y%m%d").alias("open_date"),
        pl.col("_close").str.to_date("%Y%m%d", strict=False).alias("close_date"),
        pl.col("_row").alias("source_row"),
    ).sort("org_code")
