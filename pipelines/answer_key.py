"""The synthetic world's answer key (`answer_key.csv`, written by `capwatch generate`).

Not part of the input contract: real returns have no answer key. Discovery recognises the file
by its name; it is read with a fixed set of columns, checked, and stored in `answer_key`, which
only the backtest reads (see docs/synthetic-world.md).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.problems import FileRejected, Problem

READER = "synthetic_answer_key"
TABLE = "answer_key"
CONFOUNDERS = (
    "none",
    "demand_shortfall",
    "slow_starter",
    "expensive",
    "missing_returns",
    "private_work",
)
ACTIONS = ("release", "challenge", "route", "keep")
SCHEMA: dict[str, pl.DataType] = {
    "provider_code": pl.String(),
    "delivery_ability": pl.Float64(),
    "price_ratio": pl.Float64(),
    "referral_propensity": pl.Float64(),
    "private_share": pl.Float64(),
    "confounder": pl.String(),
    "true_action": pl.String(),
    "released": pl.Boolean(),
    "released_date": pl.Date(),
    "release_reason": pl.String(),
}
_SHARES = ("delivery_ability", "referral_propensity", "private_share")


def recognise(path: Path) -> bool:
    """An answer key is a CSV whose name starts with answer_key."""
    return (
        path.is_file()
        and path.suffix.lower() == ".csv"
        and path.name.lower().startswith("answer_key")
    )


MAX_PRICE_RATIO = 100.0  # a price a hundred times the tariff is a typing error, not a trait


def read_answer_key(path: Path, known_providers: set[str] | None = None) -> pl.DataFrame:
    """One row per provider, typed. Raises FileRejected naming row and column; with
    `known_providers`, a provider not among them is a problem too (load providers first)."""
    try:
        text = pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        message = f"cannot read the answer key (columns {', '.join(SCHEMA)}): {first}"
        raise FileRejected([Problem(str(path), None, None, message)]) from exc
    missing = [c for c in SCHEMA if c not in text.columns]
    if missing:
        raise FileRejected(
            [Problem(str(path), 1, c, f"required column {c} is missing") for c in missing]
        )
    if text.is_empty():
        raise FileRejected([Problem(str(path), None, None, "no data rows below the header")])
    frame = text.select(
        *(_typed(c, kind) for c, kind in SCHEMA.items()), _date_text="released_date"
    )
    frame = frame.with_row_index("_row", offset=2).with_columns(pl.col("_row").cast(pl.Int64))
    checks = {
        "provider_code": pl.col("provider_code").is_null()
        | pl.col("provider_code").is_duplicated(),
        **{c: ~pl.col(c).is_between(0.0, 1.0).fill_null(False) for c in _SHARES},
        "price_ratio": ~pl.col("price_ratio")
        .is_between(0.0, MAX_PRICE_RATIO, closed="right")
        .fill_null(False),
        "confounder": ~pl.col("confounder").is_in(CONFOUNDERS).fill_null(False),
        "true_action": ~pl.col("true_action").is_in(ACTIONS).fill_null(False),
        "released": pl.col("released").is_null(),
        "released_date": (pl.col("_date_text").is_not_null() & pl.col("released_date").is_null())
        | (pl.col("released") != pl.col("released_date").is_not_null()),
    }
    problems = [
        Problem(str(path), int(row), column, _advice(column))
        for column, bad in checks.items()
        for row in frame.filter(bad)["_row"].to_list()
    ]
    if known_providers is not None:
        unknown = frame.filter(
            pl.col("provider_code").is_not_null()
            & ~pl.col("provider_code").is_in(sorted(known_providers))
        )
        problems += [
            Problem(str(path), int(row), "provider_code", f"unknown provider {code!r}; load it "
                    "in providers first")
            for row, code in unknown.select("_row", "provider_code").rows()
        ]  # fmt: skip
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.column or ""))
        raise FileRejected(problems, total=len(problems))
    return frame.drop("_row", "_date_text")


def _typed(column: str, kind: pl.DataType) -> pl.Expr:
    """A text column as its type: unparseable text becomes null (and is named as a problem)."""
    text = pl.col(column).str.strip_chars()
    if kind == pl.Boolean():
        lowered = text.str.to_lowercase()
        return (
            pl.when(lowered == "true").then(True).when(lowered == "false").then(False)
            .otherwise(None).alias(column)
        )  # fmt: skip
    if kind == pl.Date():
        return text.str.to_date("%Y-%m-%d", strict=False).alias(column)
    if kind == pl.Float64():
        number = text.cast(pl.Float64, strict=False)
        return pl.when(number.is_finite()).then(number).alias(column)
    return pl.col(column).alias(column)


def _advice(column: str) -> str:
    if column == "provider_code":
        return "provider_code is empty or repeats an earlier row"
    if column in _SHARES:
        return f"{column} must be a number from 0 to 1"
    if column == "price_ratio":
        return f"price_ratio must be a number above 0, at most {MAX_PRICE_RATIO:g}"
    if column == "confounder":
        return "confounder must be one of " + ", ".join(CONFOUNDERS)
    if column == "true_action":
        return "true_action must be one of " + ", ".join(ACTIONS)
    if column == "released":
        return "released must be true or false"
    return "released_date must be a date (YYYY-MM-DD) given exactly when released is true"
