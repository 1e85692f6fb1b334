"""Verdicts: one decision per active contract (release, challenge, route, keep, not enough
data), with the money and the evidence. See `decide` for the rules, `params` for their
parameters, `backtest` for how they score, and docs/verdicts.md.

The verdicts never read the answer key; only the backtest does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

import polars as pl

from capwatch.analytics.filters import Filters
from capwatch.analytics.flags.explain import day, gbp, units
from capwatch.analytics.verdicts.data import VerdictInputs, load_inputs
from capwatch.analytics.verdicts.decide import VERDICT_LABELS, VERDICTS, weekly_verdicts
from capwatch.analytics.verdicts.explain import reasons, sentence, strength
from capwatch.analytics.verdicts.params import PARAMS, VerdictParamError, resolve
from capwatch.db import Database
from capwatch.errors import CapwatchError

__all__ = [
    "PARAMS",
    "VERDICTS",
    "VERDICT_COLUMNS",
    "VERDICT_LABELS",
    "VERDICT_SCHEMA",
    "AsOfError",
    "VerdictParamError",
    "flat",
    "headline",
    "select",
    "verdicts",
    "verdicts_from",
]

REASON = pl.Struct({"rule": pl.String, "sentence": pl.String})
VERDICT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "contract_id": pl.String,
    "provider_code": pl.String,
    "provider_name": pl.String,
    "region": pl.String,
    "verdict": pl.String,
    "verdict_label": pl.String,
    "strength": pl.String,
    "sentence": pl.String,
    "saving_per_month_gbp": pl.Float64,
    "at_stake_gbp": pl.Float64,
    "first_signal_week": pl.Date,
    "reasons": pl.List(REASON),
    "as_of_week": pl.Date,
    "monthly_value_gbp": pl.Float64,
    "nhs_work_per_month_gbp": pl.Float64,
    "contract_value_to_date_gbp": pl.Float64,
    "use": pl.Float64,
    "price_ratio": pl.Float64,
    "private_ratio": pl.Float64,
    "referral_gap": pl.Float64,
    "patients_waiting": pl.Float64,
    "weeks_in_window": pl.Int64,
    "missing_site_weeks": pl.Int64,
    "weeks_held": pl.Int64,
}
VERDICT_COLUMNS: tuple[str, ...] = tuple(VERDICT_SCHEMA)


class AsOfError(CapwatchError):
    """An as-of week outside the complete weeks of the data."""


def _as_of_week(weeks: tuple[date, ...], as_of: date | None) -> date | None:
    if not weeks:
        return None
    if as_of is None:
        return weeks[-1]
    monday = date.fromordinal(as_of.toordinal() - as_of.weekday())
    if not weeks[0] <= monday <= weeks[-1]:
        raise AsOfError(
            f"as-of week {day(monday)} is outside the data: complete weeks run from "
            f"{day(weeks[0])} to {day(weeks[-1])}"
        )
    return monday


def verdicts_from(
    inputs: VerdictInputs, as_of: date | None = None, params: Mapping[str, object] | None = None
) -> pl.DataFrame:
    """`verdicts` over already-fetched inputs (national: no filter applied)."""
    resolved = resolve(params)
    week = _as_of_week(inputs.weeks, as_of)
    if week is None:
        return pl.DataFrame(schema=VERDICT_SCHEMA)
    weekly = weekly_verdicts(inputs, resolved).filter(
        (pl.col("week_start") == week) & pl.col("active")
    )
    rows = []
    for r in weekly.iter_rows(named=True):
        rows.append(
            {
                **{k: r.get(k) for k in VERDICT_SCHEMA if k in r},
                "verdict_label": VERDICT_LABELS[r["verdict"]],
                "strength": strength(r),
                "sentence": sentence(r),
                "reasons": reasons(r, resolved),
                "as_of_week": week,
                "first_signal_week": None
                if r["verdict"] in ("keep", "not_enough_data")
                else r["first_signal_week"],
            }
        )
    frame = pl.DataFrame(rows, schema=VERDICT_SCHEMA)
    order = {v: i for i, v in enumerate(VERDICTS)}
    return (
        frame.with_columns(_order=pl.col("verdict").replace_strict(order, return_dtype=pl.Int64))
        .sort(
            ["_order", "saving_per_month_gbp", "contract_id"],
            descending=[False, True, False],
            nulls_last=True,
        )
        .drop("_order")
    )


def verdicts(
    db: Database,
    filters: Filters,
    as_of: date | None = None,
    params: Mapping[str, float] | None = None,
) -> pl.DataFrame:
    """One row per contract active for the whole as-of week (default: the last complete week).

    The verdict is computed nationally and then only *selected* by the filters' regions,
    groups, providers and access scope (a provider's region), so it never depends on who is
    looking; the period and service-line filters do not change it either (a contract is not
    split by line; its window ends at `as_of`).

    Columns (stable order: verdict in `VERDICTS` order, then saving desc, then contract_id):
    - contract_id, provider_code, provider_name, region (the provider's);
    - verdict (a code in `VERDICTS`), verdict_label (words);
    - strength: words, e.g. "strong: held 6 weeks" (how long the verdict has held);
    - sentence: the verdict read aloud with its numbers;
    - saving_per_month_gbp: monthly value − NHS work delivered a month at reference prices
      (see `decide`), floored at 0;
    - at_stake_gbp: contract value from its start to the as-of week − NHS work delivered in
      those weeks at reference prices, floored at 0 (never above the contract's value);
    - first_signal_week: Monday of the first week of the unbroken run with this verdict
      (empty for keep and not enough data);
    - reasons: list of {rule, sentence}, every test that held;
    - as_of_week, monthly_value_gbp, nhs_work_per_month_gbp, contract_value_to_date_gbp,
      use (value-weighted, over the window), price_ratio (contract value ÷ capacity at
      reference prices), private_ratio (private ÷ NHS units), referral_gap (region's
      referrals per patient waiting ÷ national), patients_waiting (in the region, the
      as-of week), weeks_in_window, missing_site_weeks,
      weeks_held.
    Raises `AsOfError` for a week outside the data, `VerdictParamError` for a bad parameter.
    """
    frame = verdicts_from(load_inputs(db), as_of, params)
    return select(db, frame, filters)


def select(db: Database, frame: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """The rows of the contracts the filters and the access scope show (verdicts unchanged)."""
    if (
        not filters.regions
        and not filters.groups
        and not filters.providers
        and filters.scope_regions is None
    ):
        return frame
    scope, values = replace(filters, week_from=None, week_to=None).where(service_line=None)
    shown = db.query(f"SELECT provider_code FROM providers WHERE {scope}", values)["provider_code"]
    return frame.filter(pl.col("provider_code").is_in(shown.implode()))


def flat(frame: pl.DataFrame) -> pl.DataFrame:
    """The verdicts for a download: every column, reasons as one text cell
    ("rule: sentence" joined by " | ") so CSV and Excel can hold them."""
    return frame.with_columns(
        reasons=pl.col("reasons")
        .list.eval(pl.element().struct.field("rule") + ": " + pl.element().struct.field("sentence"))
        .list.join(" | ")
    )


def headline(frame: pl.DataFrame) -> str:
    """The plain sentence at the top of the Actions page and the Overview, e.g. "Release 2
    contracts (£12k a month), route work to 3 contracts across 2 regions (2 in London, 1 in
    South East) and keep 30 contracts." """
    if frame.is_empty():
        return "No active contracts to decide on."
    parts: list[str] = []
    counts = {v: frame.filter(pl.col("verdict") == v) for v in VERDICTS}

    def n(k: int) -> str:
        return f"{k:,} contract{'s' if k != 1 else ''}"

    release = counts["release"]
    if release.height:
        saving = gbp(float(release["saving_per_month_gbp"].sum()))
        parts.append(f"release {n(release.height)} ({saving} a month)")
    if counts["challenge"].height:
        parts.append(f"challenge {n(counts['challenge'].height)}")
    route = counts["route"]
    if route.height:
        regions = route.group_by("region").agg(pl.len(), pl.col("patients_waiting").max())
        rows = regions.sort(["len", "region"], descending=[True, False]).rows(named=True)
        if len(rows) == 1:
            waiting = rows[0]["patients_waiting"]
            where = f" in {rows[0]['region']}" + (
                f" ({units(waiting)} patients waiting)" if waiting is not None else ""
            )
        else:
            each = ", ".join(f"{r['len']:,} in {r['region']}" for r in rows)
            where = f" across {len(rows)} regions ({each})"
        parts.append(f"route work to {n(route.height)}{where}")
    if counts["not_enough_data"].height:
        parts.append(f"wait for data on {n(counts['not_enough_data'].height)}")
    keep = counts["keep"].height
    if not parts:
        return f"Keep all {n(keep)}." if keep != 1 else "Keep the 1 active contract."
    if keep:
        parts.append(f"keep {n(keep)}")
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return text[0].upper() + text[1:] + "."


def verdict_weeks(db: Database) -> tuple[date, ...]:
    """The complete weeks a verdict can be asked for (the as-of choices)."""
    return load_inputs(db).weeks


def backtest_scores(
    db: Database, params: Mapping[str, float] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame, str]:
    """The verdict backtest's per-verdict and per-test tables and what it scored against
    (for the page; computed once per data load through the page cache)."""
    from capwatch.analytics.verdicts.backtest import backtest_verdicts

    result = backtest_verdicts(db, params)
    return result.scores, result.rules, result.truth
