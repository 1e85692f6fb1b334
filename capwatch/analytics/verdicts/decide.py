"""The verdict rules: pure functions from the inputs to one verdict per contract and week.

`weekly_verdicts` replays every complete week at once (the backtest reads all of it, the
Actions page one week): for each contract × week it sums the window of `window_weeks`
complete weeks ending that week, clipped to the contract's own dates, and applies the rules in
this order (the first that holds decides):

1. **not enough data**: fewer than `min_weeks` weeks of the contract in the window, or any of
   the provider's sites sent no return in a week of the window (missing returns are missing
   data, never zero use, so they can never lead to a release);
2. **keep** (not material): the saving if released is under `material_gbp_month` or under
   `material_share` of the monthly value;
3. **route**: use below `challenge_below` in a region whose referrals per patient waiting are
   under `demand_gap_ratio` of the national rate (capacity there, patients waiting, the NHS
   not sending them: low use where need is high is never a release);
4. **release** for price: contract value ÷ capacity at reference prices ≥ `price_release_ratio`;
5. **keep** (rising): use below `challenge_below` but rising, relative to the nation, by at
   least `rising_ratio` from the window's first half to its second (a slow start);
6. **release** for low use: use below `release_below` without private work beside it, or use
   below `challenge_below` at a price ratio ≥ `price_low_use_ratio`;
7. **challenge**: use below `challenge_below` (on delivery; private units ≥ `private_ratio` ×
   NHS units say the sites were busy with private work);
8. **keep** otherwise.

Use is value-weighted: NHS units delivered × their reference unit price ÷ capacity units ×
the same prices, over the window (a ratio of sums). The saving if released, £ a month, is
exactly: monthly value − (NHS work in the window at reference prices ÷ weeks of the contract
in the window × 365 ÷ 7 ÷ 12), floored at 0: what the contract costs a month less what its
delivered NHS work would cost a month bought at reference prices elsewhere. The money at
stake is the contract value from its start to the week less the NHS work delivered in the
same weeks at reference prices, floored at 0, so it never exceeds what the contract was worth
over the period.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import polars as pl

from capwatch.analytics.verdicts.data import VerdictInputs

VERDICTS: tuple[str, ...] = ("release", "challenge", "route", "keep", "not_enough_data")
VERDICT_LABELS: dict[str, str] = {
    "release": "Release",
    "challenge": "Challenge",
    "route": "Route work to it",
    "keep": "Keep",
    "not_enough_data": "Not enough data",
}
DAYS_PER_MONTH = 365 / 12

_SUMS = (
    "in_contract",
    "with_data",
    "missing_site_weeks",
    "capacity_value_gbp",
    "nhs_value_gbp",
    "private_units",
    "nhs_units",
    "contract_value_gbp",
)


def _grid(inputs: VerdictInputs) -> pl.DataFrame:
    """One row per contract × complete week, with the week's figures (zeros outside the
    contract's dates) and whether the contract is active for the whole week."""
    weeks = pl.DataFrame({"week_start": list(inputs.weeks)}, schema={"week_start": pl.Date})
    contracts = inputs.contracts.with_columns(
        last_day=pl.min_horizontal(
            "end_date", pl.col("removed_date") - pl.duration(days=1)
        ).fill_null(pl.col("end_date"))
    )
    grid = (
        contracts.join(weeks, how="cross")
        .join(inputs.provider_weekly, on=["provider_code", "week_start"], how="left")
        .join(inputs.contract_weekly, on=["contract_id", "week_start"], how="left")
        .with_columns(
            pl.col(c).fill_null(0.0)
            for c in (
                "capacity_value_gbp",
                "nhs_value_gbp",
                "capacity_units",
                "nhs_units",
                "private_units",
                "contract_value_gbp",
            )
        )
        .with_columns(
            in_contract=(pl.col("week_start") <= pl.col("last_day"))
            & (pl.col("week_start") + pl.duration(days=6) >= pl.col("start_date")),
            active=(
                pl.col("removed_date").is_null()
                | (pl.col("removed_date") > pl.col("week_start") + pl.duration(days=6))
            )
            & (pl.col("start_date") <= pl.col("week_start") + pl.duration(days=6))
            & (pl.col("end_date") >= pl.col("week_start")),
            sites_reporting=pl.col("sites_reporting").fill_null(0),
        )
    )
    inside = pl.col("in_contract")
    return grid.with_columns(
        missing_site_weeks=pl.when(inside)
        .then((pl.col("sites") - pl.col("sites_reporting")).clip(lower_bound=0))
        .otherwise(0)
        .cast(pl.Float64),
        with_data=(inside & (pl.col("sites_reporting") > 0)).cast(pl.Float64),
        **{
            c: pl.when(inside).then(pl.col(c)).otherwise(0.0)
            for c in (
                "capacity_value_gbp",
                "nhs_value_gbp",
                "nhs_units",
                "private_units",
                "contract_value_gbp",
            )
        },
    ).with_columns(pl.col("in_contract").cast(pl.Float64))


def _rolling(
    frame: pl.DataFrame, by: str, columns: tuple[str, ...], size: int, suffix: str
) -> pl.DataFrame:
    return frame.sort([by, "week_start"]).with_columns(
        pl.col(c).rolling_sum(window_size=size, min_samples=1).over(by).alias(f"{c}{suffix}")
        for c in columns
    )


def _national(inputs: VerdictInputs, window: int, half: int) -> pl.DataFrame:
    """The nation's use per week, in the window and its second half, and its demand rate."""
    nation = (
        inputs.provider_weekly.group_by("week_start")
        .agg(pl.col("capacity_value_gbp", "nhs_value_gbp").sum())
        .with_columns(key=pl.lit("all"))
    )
    nation = _rolling(nation, "key", ("capacity_value_gbp", "nhs_value_gbp"), window, "_w")
    nation = _rolling(nation, "key", ("capacity_value_gbp", "nhs_value_gbp"), half, "_h")
    nation = nation.select(
        "week_start",
        national_rise=_rise(
            pl.col("nhs_value_gbp_w"),
            pl.col("capacity_value_gbp_w"),
            pl.col("nhs_value_gbp_h"),
            pl.col("capacity_value_gbp_h"),
        ),
    )
    demand = inputs.demand_weekly
    national_demand = _rolling(
        demand.group_by("week_start")
        .agg(pl.col("patients_waiting", "referrals_offered").sum())
        .with_columns(key=pl.lit("all")),
        "key",
        ("patients_waiting", "referrals_offered"),
        window,
        "_w",
    ).select(
        "week_start",
        national_referral_rate=pl.col("referrals_offered_w") / pl.col("patients_waiting_w"),
    )
    return nation.join(national_demand, on="week_start", how="left")


def _rise(nhs_w: pl.Expr, cap_w: pl.Expr, nhs_h: pl.Expr, cap_h: pl.Expr) -> pl.Expr:
    """Use in the window's second half ÷ use in its first half (null if either is empty)."""
    early = (nhs_w - nhs_h) / (cap_w - cap_h)
    recent = nhs_h / cap_h
    return pl.when((cap_w - cap_h > 0) & (cap_h > 0) & (early > 0)).then(recent / early)


def weekly_verdicts(inputs: VerdictInputs, params: Mapping[str, float]) -> pl.DataFrame:
    """One row per contract × complete week: the window's figures, each test and the verdict.

    Rows exist for every week; `active` says whether the contract is live for the whole week
    (only those rows are verdicts a commissioner would see).
    """
    window = int(params["window_weeks"])
    half = max(1, window // 2)
    if not inputs.weeks or inputs.contracts.is_empty():
        return pl.DataFrame(schema=_EMPTY)
    grid = _grid(inputs)
    grid = _rolling(grid, "contract_id", _SUMS, window, "_w")
    grid = _rolling(grid, "contract_id", ("capacity_value_gbp", "nhs_value_gbp"), half, "_h")
    grid = grid.sort(["contract_id", "week_start"]).with_columns(
        contract_to_date_gbp=pl.col("contract_value_gbp").cum_sum().over("contract_id"),
        nhs_to_date_gbp=pl.col("nhs_value_gbp").cum_sum().over("contract_id"),
    )
    demand = _rolling(
        inputs.demand_weekly,
        "region",
        ("patients_waiting", "referrals_offered"),
        window,
        "_w",
    ).select(
        "region",
        "week_start",
        "patients_waiting",
        region_referral_rate=pl.when(pl.col("patients_waiting_w") > 0).then(
            pl.col("referrals_offered_w") / pl.col("patients_waiting_w")
        ),
    )
    grid = grid.join(_national(inputs, window, half), on="week_start", how="left").join(
        demand, on=["region", "week_start"], how="left"
    )
    p = params
    use = pl.col("nhs_value_gbp_w") / pl.col("capacity_value_gbp_w")
    nhs_month = (pl.col("nhs_value_gbp_w") / pl.col("in_contract_w") / 7 * DAYS_PER_MONTH).fill_nan(
        0.0
    )
    frame = grid.with_columns(
        weeks_in_window=pl.col("in_contract_w").cast(pl.Int64),
        weeks_with_data=pl.col("with_data_w").cast(pl.Int64),
        missing_site_weeks=pl.col("missing_site_weeks_w").cast(pl.Int64),
        use=pl.when(pl.col("capacity_value_gbp_w") > 0).then(use),
        price_ratio=pl.when(pl.col("capacity_value_gbp_w") > 0).then(
            pl.col("contract_value_gbp_w") / pl.col("capacity_value_gbp_w")
        ),
        private_ratio=pl.when(pl.col("nhs_units_w") > 0)
        .then(pl.col("private_units_w") / pl.col("nhs_units_w"))
        .when(pl.col("private_units_w") > 0)
        .then(float("inf")),
        rise=_rise(
            pl.col("nhs_value_gbp_w"),
            pl.col("capacity_value_gbp_w"),
            pl.col("nhs_value_gbp_h"),
            pl.col("capacity_value_gbp_h"),
        ),
        nhs_work_per_month_gbp=pl.when(pl.col("in_contract_w") > 0).then(nhs_month),
        at_stake_gbp=(pl.col("contract_to_date_gbp") - pl.col("nhs_to_date_gbp")).clip(
            lower_bound=0.0
        ),
        contract_value_to_date_gbp=pl.col("contract_to_date_gbp"),
        referral_gap=pl.col("region_referral_rate") / pl.col("national_referral_rate"),
    ).with_columns(
        saving_per_month_gbp=(
            pl.col("monthly_value_gbp") - pl.col("nhs_work_per_month_gbp").fill_null(0.0)
        ).clip(lower_bound=0.0),
        relative_rise=pl.col("rise") / pl.col("national_rise"),
    )
    low = pl.col("use") < p["challenge_below"]
    tests = {
        "few_weeks": pl.col("weeks_with_data") < p["min_weeks"],
        "missing_returns": pl.col("missing_site_weeks") > 0,
        "material": (pl.col("saving_per_month_gbp") >= p["material_gbp_month"])
        & (pl.col("saving_per_month_gbp") >= p["material_share"] * pl.col("monthly_value_gbp")),
        "low_use": low.fill_null(False),
        "very_low_use": (pl.col("use") < p["release_below"]).fill_null(False),
        "demand_shortfall": (pl.col("referral_gap") < p["demand_gap_ratio"]).fill_null(False),
        "price": (pl.col("price_ratio") >= p["price_release_ratio"]).fill_null(False),
        "dear": (pl.col("price_ratio") >= p["price_low_use_ratio"]).fill_null(False),
        "rising": (pl.col("relative_rise") >= p["rising_ratio"]).fill_null(False),
        "private_work": (pl.col("private_ratio") >= p["private_ratio"]).fill_null(False),
    }
    frame = frame.with_columns(**{f"is_{k}": v for k, v in tests.items()})
    t = {k: pl.col(f"is_{k}") for k in tests}
    verdict = (
        pl.when(t["few_weeks"] | t["missing_returns"])
        .then(pl.lit("not_enough_data"))
        .when(~t["material"])
        .then(pl.lit("keep"))
        .when(t["low_use"] & t["demand_shortfall"])
        .then(pl.lit("route"))
        .when(t["price"])
        .then(pl.lit("release"))
        .when(t["low_use"] & t["rising"])
        .then(pl.lit("keep"))
        .when((t["very_low_use"] & ~t["private_work"]) | (t["low_use"] & t["dear"]))
        .then(pl.lit("release"))
        .when(t["low_use"])
        .then(pl.lit("challenge"))
        .otherwise(pl.lit("keep"))
    )
    frame = frame.with_columns(verdict=verdict)
    return _with_runs(frame).select(_EMPTY.keys())


def _with_runs(frame: pl.DataFrame) -> pl.DataFrame:
    """`first_signal_week`: first week of the unbroken run of active weeks, ending this week,
    with this same verdict; `weeks_held` its length."""
    frame = frame.sort(["contract_id", "week_start"])
    change = (
        (pl.col("verdict") != pl.col("verdict").shift(1))
        | (pl.col("active") != pl.col("active").shift(1))
    ).fill_null(True)
    frame = frame.with_columns(run=change.cast(pl.Int64).cum_sum().over("contract_id"))
    return frame.with_columns(
        first_signal_week=pl.col("week_start").min().over(["contract_id", "run"]),
        weeks_held=pl.col("week_start").rank("ordinal").over(["contract_id", "run"]).cast(pl.Int64),
    )


_EMPTY: dict[str, type[pl.DataType] | pl.DataType] = {
    "contract_id": pl.String,
    "provider_code": pl.String,
    "provider_name": pl.String,
    "region": pl.String,
    "week_start": pl.Date,
    "active": pl.Boolean,
    "start_date": pl.Date,
    "end_date": pl.Date,
    "removed_date": pl.Date,
    "status": pl.String,
    "monthly_value_gbp": pl.Float64,
    "weeks_in_window": pl.Int64,
    "weeks_with_data": pl.Int64,
    "missing_site_weeks": pl.Int64,
    "capacity_value_gbp_w": pl.Float64,
    "nhs_value_gbp_w": pl.Float64,
    "contract_value_gbp_w": pl.Float64,
    "use": pl.Float64,
    "price_ratio": pl.Float64,
    "private_ratio": pl.Float64,
    "relative_rise": pl.Float64,
    "referral_gap": pl.Float64,
    "patients_waiting": pl.Float64,
    "nhs_work_per_month_gbp": pl.Float64,
    "saving_per_month_gbp": pl.Float64,
    "at_stake_gbp": pl.Float64,
    "contract_value_to_date_gbp": pl.Float64,
    "is_few_weeks": pl.Boolean,
    "is_missing_returns": pl.Boolean,
    "is_material": pl.Boolean,
    "is_low_use": pl.Boolean,
    "is_very_low_use": pl.Boolean,
    "is_demand_shortfall": pl.Boolean,
    "is_price": pl.Boolean,
    "is_dear": pl.Boolean,
    "is_rising": pl.Boolean,
    "is_private_work": pl.Boolean,
    "verdict": pl.String,
    "first_signal_week": pl.Date,
    "weeks_held": pl.Int64,
}


def window_start(week: date, weeks: int) -> date:
    return week - timedelta(weeks=weeks - 1)
