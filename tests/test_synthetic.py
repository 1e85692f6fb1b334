"""Tests of the synthetic 2020 dataset: contract shape, determinism and calibration.

Expectations are recomputed from the written CSVs with Polars, independently of the
generator's internals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from capwatch.synthetic import (
    ACTIVITY_TYPES,
    REGIONS,
    SERVICE_LINES,
    UNIT_PRICES,
    expected_good_providers,
    expected_poor_providers,
    generate,
)

SEED = 2020
SCALE = 0.05
ACTIVITY_FILES = [f"activity_2020-{m:02d}.csv" for m in (6, 7, 8, 9)]
HEADERS = {
    "providers.csv": "provider_code,provider_name,group,region",
    "sites.csv": "site_code,provider_code,site_name,region,latitude,longitude",
    "contracts.csv": (
        "contract_id,provider_code,start_date,end_date,monthly_value_gbp,status,"
        "removed_date,removal_reason"
    ),
    "unit_prices.csv": "service_line,activity_type,unit_price_gbp",
    "capacity.csv": "site_code,service_line,activity_type,week_start,capacity_units",
    **dict.fromkeys(ACTIVITY_FILES, "site_code,service_line,activity_type,activity_date,funding"),
    "demand.csv": (
        "region,service_line,activity_type,week_start,patients_waiting,referrals_offered"
    ),
    "answer_key.csv": (
        "provider_code,delivery_ability,price_ratio,referral_propensity,private_share,"
        "confounder,true_action,released,released_date,release_reason"
    ),
}
NHS_REGIONS = {
    "London",
    "South East",
    "South West",
    "East of England",
    "Midlands",
    "North East and Yorkshire",
    "North West",
}
FIRST_WEEK = date(2020, 6, 1)
LAST_WEEK = date(2020, 9, 21)
LAST_DAY = date(2020, 9, 27)
DATES = {
    "start_date": pl.Date,
    "end_date": pl.Date,
    "removed_date": pl.Date,
    "week_start": pl.Date,
    "activity_date": pl.Date,
    "released_date": pl.Date,
}


@dataclass(frozen=True)
class Data:
    dir: Path
    providers: pl.DataFrame
    sites: pl.DataFrame
    contracts: pl.DataFrame
    prices: pl.DataFrame
    capacity: pl.DataFrame
    activity: pl.DataFrame
    answer_key: pl.DataFrame
    demand: pl.DataFrame


def _read(path: Path) -> pl.DataFrame:
    header = path.read_text(encoding="utf-8").split("\n", 1)[0].split(",")
    overrides = {c: t for c, t in DATES.items() if c in header}
    return pl.read_csv(path, schema_overrides=overrides)


def _load(out: Path) -> Data:
    return Data(
        dir=out,
        providers=_read(out / "providers.csv"),
        sites=_read(out / "sites.csv"),
        contracts=_read(out / "contracts.csv"),
        prices=_read(out / "unit_prices.csv"),
        capacity=_read(out / "capacity.csv"),
        activity=pl.concat([_read(out / f) for f in ACTIVITY_FILES]),
        answer_key=_read(out / "answer_key.csv"),
        demand=_read(out / "demand.csv"),
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Data:
    out = tmp_path_factory.mktemp("synthetic")
    generate(out, seed=SEED, scale=SCALE)
    return _load(out)


def _nhs_units(activity: pl.DataFrame, *by: str) -> pl.DataFrame:
    return activity.filter(pl.col("funding") == "nhs").group_by(*by).agg(nhs=pl.len())


def _provider_utilisation(d: Data) -> pl.DataFrame:
    site_provider = d.sites.select("site_code", "provider_code")
    cap = (
        d.capacity.join(site_provider, on="site_code")
        .group_by("provider_code")
        .agg(cap=pl.col("capacity_units").sum())
    )
    nhs = _nhs_units(d.activity.join(site_provider, on="site_code"), "provider_code")
    return (
        cap.join(nhs, on="provider_code", how="left")
        .fill_null(0)
        .with_columns(util=pl.col("nhs") / pl.col("cap"))
    )


def _london_independents(providers: pl.DataFrame) -> set[str]:
    """Providers that are alone in their group and based in London."""
    sizes = providers.group_by("group").agg(n=pl.len())
    single = providers.join(sizes, on="group").filter(pl.col("n") == 1)
    return set(single.filter(pl.col("region") == "London")["provider_code"])


def _weekly_nhs_utilisation(d: Data) -> pl.DataFrame:
    nhs = _nhs_units(
        d.activity.with_columns(week_start=pl.col("activity_date").dt.truncate("1w")),
        "week_start",
    )
    cap = d.capacity.group_by("week_start").agg(cap=pl.col("capacity_units").sum())
    return cap.join(nhs, on="week_start").with_columns(util=pl.col("nhs") / pl.col("cap"))


# ---------------------------------------------------------------- files and determinism


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    summary = generate(a, seed=7, scale=0.02)
    generate(b, seed=7, scale=0.02)
    generate(c, seed=8, scale=0.02)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    differing = [n for n in names if (a / n).read_bytes() != (c / n).read_bytes()]
    assert "capacity.csv" in differing
    assert set(ACTIVITY_FILES) <= set(differing)
    assert sorted(p.name for p in summary.files) == names


def test_files_and_headers_exactly_as_contracted(data: Data) -> None:
    assert sorted(p.name for p in data.dir.iterdir()) == sorted(HEADERS)
    for name, header in HEADERS.items():
        first = (data.dir / name).read_bytes().split(b"\n", 1)[0].decode("utf-8")
        assert first == header, name


def test_summary_matches_files(tmp_path: Path) -> None:
    summary = generate(tmp_path, seed=SEED, scale=0.02)
    d = _load(tmp_path)
    assert summary.activity_rows == d.activity.height
    assert summary.providers == d.providers.height
    assert summary.sites == d.sites.height
    assert summary.weeks == d.capacity["week_start"].n_unique() == 17


def test_invalid_scale_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale"):
        generate(tmp_path, scale=0)


# ---------------------------------------------------------------- codes and vocabulary


def test_code_formats(data: Data) -> None:
    codes = data.providers["provider_code"]
    assert codes.is_unique().all()
    assert all(re.fullmatch(r"N[A-Z][0-9]", c) for c in codes)
    assert data.sites["site_code"].is_unique().all()
    for site, provider in data.sites.select("site_code", "provider_code").iter_rows():
        assert re.fullmatch(r"N[A-Z][0-9][0-9]{2}", site)
        assert site[:3] == provider
    assert set(data.sites["provider_code"]) == set(codes)
    contracts = data.contracts
    assert contracts["provider_code"].sort().to_list() == codes.sort().to_list()
    assert (contracts["contract_id"] == "C-2020-" + contracts["provider_code"]).all()


def test_all_seven_regions_present(data: Data) -> None:
    assert set(data.providers["region"]) == NHS_REGIONS
    assert set(data.sites["region"]) == NHS_REGIONS
    assert set(REGIONS) == NHS_REGIONS
    # a site lies in its provider's region, and its coordinates are in England
    joined = data.sites.join(data.providers, on="provider_code", suffix="_p")
    assert (joined["region"] == joined["region_p"]).all()
    assert data.sites["latitude"].is_between(49.9, 55.9).all()
    assert data.sites["longitude"].is_between(-5.8, 1.8).all()


def test_vocabulary_of_lines_types_and_funding(data: Data) -> None:
    valid = {(line, t) for line, types in ACTIVITY_TYPES.items() for t in types}
    pairs = set(data.activity.select("service_line", "activity_type").unique().iter_rows())
    assert pairs <= valid
    assert {line for line, _ in pairs} == set(SERVICE_LINES)
    assert set(data.activity["funding"]) == {"nhs", "private"}
    for column in ("site_code", "service_line", "activity_type", "activity_date", "funding"):
        assert data.activity[column].null_count() == 0, column
    assert set(data.activity["site_code"]) <= set(data.sites["site_code"])


def test_unit_prices_one_default_per_line_and_one_per_type(data: Data) -> None:
    prices = data.prices
    defaults = prices.filter(pl.col("activity_type").is_null())
    assert sorted(defaults["service_line"]) == sorted(SERVICE_LINES)
    typed = prices.filter(pl.col("activity_type").is_not_null())
    expected = {(line, t) for line, types in ACTIVITY_TYPES.items() for t in types}
    assert set(typed.select("service_line", "activity_type").iter_rows()) == expected
    assert typed.height == len(expected)
    assert (prices["unit_price_gbp"] > 0).all()
    lookup = {(s, t or ""): p for s, t, p in prices.iter_rows()}
    assert lookup == UNIT_PRICES
    assert lookup[("diagnostics", "mri")] == 140
    assert lookup[("outpatients", "outpatient_follow_up")] == 80


def test_capacity_grain_and_values(data: Data) -> None:
    cap = data.capacity
    diag = cap.filter(pl.col("service_line") == "diagnostics")
    assert set(diag["activity_type"]) == set(ACTIVITY_TYPES["diagnostics"])
    other = cap.filter(pl.col("service_line") != "diagnostics")
    assert other["activity_type"].null_count() == other.height > 0
    assert cap["capacity_units"].dtype.is_integer()
    assert (cap["capacity_units"] >= 1).all()
    keys = ["site_code", "service_line", "activity_type", "week_start"]
    assert cap.select(keys).is_duplicated().sum() == 0
    assert set(cap["site_code"]) == set(data.sites["site_code"])


# ---------------------------------------------------------------- structure calibration


def test_provider_group_and_site_counts(data: Data) -> None:
    assert 35 <= data.providers.height <= 45
    assert 12 <= data.providers["group"].n_unique() <= 18
    assert 180 <= data.sites.height <= 220
    shared = data.providers.group_by("group").agg(n=pl.len()).filter(pl.col("n") > 1)
    assert shared.height >= 3
    assert 8 <= len(_london_independents(data.providers)) <= 12


def test_contracts_sum_to_400m_a_month_times_scale(data: Data) -> None:
    c = data.contracts
    total = c["monthly_value_gbp"].sum()
    assert total == pytest.approx(400e6 * SCALE, rel=0.10)
    assert (c["start_date"] == date(2020, 6, 1)).all()
    assert (c["end_date"] == date(2020, 9, 30)).all()
    assert (c["monthly_value_gbp"] > 0).all()


def test_contract_value_consistent_with_capacity_value(data: Data) -> None:
    """Contract ÷ monthly value of capacity at unit prices is the provider's price ratio in
    the answer key (within the spread of weekly capacity, removals and missing weeks)."""
    defaults = data.prices.filter(pl.col("activity_type").is_null()).select(
        "service_line", default="unit_price_gbp"
    )
    typed = data.prices.filter(pl.col("activity_type").is_not_null())
    value = (
        data.capacity.join(typed, on=["service_line", "activity_type"], how="left")
        .join(defaults, on="service_line")
        .join(data.sites.select("site_code", "provider_code"), on="site_code")
        .group_by("provider_code")
        .agg(
            weekly=(
                pl.col("capacity_units") * pl.col("unit_price_gbp").fill_null(pl.col("default"))
            ).sum()
            / pl.col("week_start").n_unique()
        )
        .join(data.contracts, on="provider_code")
        .join(data.answer_key.select("provider_code", "price_ratio"), on="provider_code")
        .with_columns(ratio=pl.col("monthly_value_gbp") / (pl.col("weekly") * 365.25 / 12 / 7))
    )
    assert (value["ratio"] / value["price_ratio"]).is_between(0.9, 1.1).all(), value
    assert value["price_ratio"].is_between(1.0, 3.5).all()


def test_removed_contracts_are_the_released_providers(data: Data) -> None:
    c = data.contracts
    removed = c.filter(pl.col("status") == "removed")
    active = c.filter(pl.col("status") == "active")
    assert removed.height + active.height == c.height
    assert 10 <= removed.height <= 12
    reasons = {
        "poor utilisation",
        "cost and poor utilisation",
        "cost: price far above the reference",
    }
    assert set(removed["removal_reason"]) == reasons
    assert removed["removed_date"].is_between(date(2020, 8, 24), date(2020, 9, 8)).all()
    assert active["removed_date"].null_count() == active.height
    assert active["removal_reason"].null_count() == active.height
    released = data.answer_key.filter(pl.col("released"))
    assert set(removed["provider_code"]) == set(released["provider_code"])
    # the under-used ones built to be poor are all released; so are the expensive ones
    assert expected_poor_providers(SEED) < set(removed["provider_code"])
    expensive = data.answer_key.filter(pl.col("confounder") == "expensive")["provider_code"]
    assert len(expensive) > 0 and set(expensive) <= set(removed["provider_code"])


# ---------------------------------------------------------------- weeks and dates


def test_weeks_are_the_17_mondays(data: Data) -> None:
    weeks = data.capacity["week_start"].unique().sort().to_list()
    assert weeks == [FIRST_WEEK + timedelta(weeks=i) for i in range(17)]
    assert all(w.weekday() == 0 for w in weeks)
    assert weeks[-1] == LAST_WEEK


def test_activity_dates_in_weeks_months_and_sorted(data: Data) -> None:
    for name in ACTIVITY_FILES:
        month = int(name[14:16])
        frame = _read(data.dir / name)
        assert frame.height > 0
        assert frame["activity_date"].is_between(FIRST_WEEK, LAST_DAY).all()
        assert (frame["activity_date"].dt.month() == month).all()
        order = frame.select("activity_date", "site_code")
        assert order.equals(order.sort("activity_date", "site_code", maintain_order=True))
    weekday = data.activity["activity_date"].dt.weekday()  # 1 = Monday .. 7 = Sunday
    assert (weekday <= 5).sum() / 5 > 2 * ((weekday >= 6).sum() / 2)


def test_weekly_shape_ramp_dip_recovery(data: Data) -> None:
    weekly = _weekly_nhs_utilisation(data).sort("week_start")
    util = dict(zip(weekly["week_start"], weekly["util"], strict=True))

    def mean(first: date, n: int) -> float:
        return sum(util[first + timedelta(weeks=i)] for i in range(n)) / n

    first, july, august, september = (
        util[FIRST_WEEK],
        mean(date(2020, 7, 6), 4),
        mean(date(2020, 8, 3), 4),
        mean(date(2020, 9, 7), 3),
    )
    assert first < 0.7 * september
    assert august < july
    assert september > august


# ---------------------------------------------------------------- utilisation calibration


def test_overall_utilisation_about_a_third(data: Data) -> None:
    nhs = data.activity.filter(pl.col("funding") == "nhs").height
    util = nhs / data.capacity["capacity_units"].sum()
    assert 0.30 <= util <= 0.36


def test_london_independents_released_for_low_use_use_less(data: Data) -> None:
    util = _provider_utilisation(data)
    london = _london_independents(data.providers) & expected_poor_providers(SEED)
    assert len(london) == 5
    is_london = pl.col("provider_code").is_in(list(london))
    lon = util.filter(is_london)
    rest = util.filter(~is_london)
    lon_util = lon["nhs"].sum() / lon["cap"].sum()
    rest_util = rest["nhs"].sum() / rest["cap"].sum()
    assert 0.08 <= lon_util <= 0.2
    assert rest_util > lon_util + 0.1


def test_poor_and_good_providers_as_built(data: Data) -> None:
    util = _provider_utilisation(data)
    poor, good = expected_poor_providers(SEED), expected_good_providers(SEED)
    assert poor.isdisjoint(good)
    assert 8 <= len(poor) <= 12
    assert len(good) >= 8
    poor_util = util.filter(pl.col("provider_code").is_in(list(poor)))["util"]
    good_util = util.filter(pl.col("provider_code").is_in(list(good)))["util"]
    assert poor_util.max() < 0.2
    assert good_util.min() > 0.38
    assert 0.4 <= good_util.mean() <= 0.5
    # most London independents are poor
    assert len(poor & _london_independents(data.providers)) >= len(poor) // 2
    assert expected_poor_providers(SEED) == poor
    assert expected_poor_providers(SEED + 1) != poor


def test_capacity_stops_after_removal(data: Data) -> None:
    removed = data.contracts.filter(pl.col("status") == "removed").select(
        "provider_code", "removed_date"
    )
    cap = data.capacity.join(data.sites.select("site_code", "provider_code"), on="site_code")
    last = cap.group_by("provider_code").agg(last=pl.col("week_start").max())
    rem = last.join(removed, on="provider_code")
    assert rem.height == removed.height
    assert (rem["last"] <= rem["removed_date"]).all()
    assert (rem["last"] > rem["removed_date"] - timedelta(days=7)).all()
    active = last.join(removed, on="provider_code", how="anti")
    assert (active["last"] == LAST_WEEK).all()
    # NHS activity mostly stops too
    act = data.activity.join(data.sites.select("site_code", "provider_code"), on="site_code")
    nhs = act.filter(pl.col("funding") == "nhs").join(removed, on="provider_code")
    after = nhs.filter(pl.col("activity_date") > pl.col("removed_date")).height
    assert after < 0.05 * nhs.height


def test_private_work_while_nhs_capacity_unused(data: Data) -> None:
    site_cap = data.capacity.group_by("site_code").agg(cap=pl.col("capacity_units").sum())
    counts = data.activity.group_by("site_code").agg(
        nhs=(pl.col("funding") == "nhs").sum(), private=(pl.col("funding") == "private").sum()
    )
    sites = site_cap.join(counts, on="site_code").with_columns(util=pl.col("nhs") / pl.col("cap"))
    idle_but_private = sites.filter(pl.col("util") < 0.2, pl.col("private") > pl.col("nhs"))
    assert idle_but_private.height >= 3
    private_share = (data.activity["funding"] == "private").mean()
    assert 0.15 <= private_share <= 0.32
    # each provider's private share of its work is the one the answer key holds
    by_provider = (
        data.activity.join(data.sites.select("site_code", "provider_code"), on="site_code")
        .group_by("provider_code")
        .agg(observed=(pl.col("funding") == "private").mean())
        .join(data.answer_key, on="provider_code")
    )
    assert ((by_provider["observed"] - by_provider["private_share"]).abs() < 0.04).all()


# ---------------------------------------------------------------- scale


def test_rows_proportional_to_scale(tmp_path: Path) -> None:
    small = generate(tmp_path / "small", seed=SEED, scale=0.05)
    large = generate(tmp_path / "large", seed=SEED, scale=0.2)
    assert large.activity_rows / small.activity_rows == pytest.approx(4, rel=0.08)
    small_cap = pl.read_csv(tmp_path / "small" / "capacity.csv")["capacity_units"].sum()
    large_cap = pl.read_csv(tmp_path / "large" / "capacity.csv")["capacity_units"].sum()
    assert large_cap / small_cap == pytest.approx(4, rel=0.08)


def test_tiny_scale_is_valid(tmp_path: Path) -> None:
    summary = generate(tmp_path, seed=SEED, scale=0.01)
    d = _load(tmp_path)
    assert set(d.capacity["site_code"]) == set(d.sites["site_code"])
    assert set(d.sites["region"]) == NHS_REGIONS
    assert (d.capacity["capacity_units"] >= 1).all()
    assert d.activity.height == summary.activity_rows > 0
    assert set(d.activity["service_line"]) == set(SERVICE_LINES)


def _nhs_over_capacity_share(out: Path) -> float:
    """Share of capacity rows (at their own grain) whose NHS units exceed capacity."""
    keys = ["site_code", "service_line", "activity_type", "week_start"]
    nhs = (
        pl.scan_csv(out / "activity_*.csv", schema_overrides=DATES)
        .filter(pl.col("funding") == "nhs")
        .with_columns(
            week_start=pl.col("activity_date").dt.truncate("1w"),
            activity_type=pl.when(pl.col("service_line") == "diagnostics").then("activity_type"),
        )
        .group_by(keys)
        .agg(nhs=pl.len())
        .collect()
    )
    cap = _read(out / "capacity.csv")
    joined = cap.join(nhs, on=keys, how="left", nulls_equal=True).fill_null(0)
    return (joined["nhs"] > joined["capacity_units"]).mean()


def test_scale_one_calibration(tmp_path: Path) -> None:
    summary = generate(tmp_path, seed=SEED, scale=1.0)
    assert 800_000 <= summary.activity_rows <= 1_200_000
    cap = pl.read_csv(tmp_path / "capacity.csv")["capacity_units"].sum()
    nhs = (
        pl.scan_csv(tmp_path / "activity_*.csv")
        .filter(pl.col("funding") == "nhs")
        .select(pl.len())
        .collect()
        .item()
    )
    assert 0.30 <= nhs / cap <= 0.36
    total = pl.read_csv(tmp_path / "contracts.csv")["monthly_value_gbp"].sum()
    assert total == pytest.approx(400e6, rel=0.10)
    # NHS units above capacity happen, but rarely
    assert 0 < _nhs_over_capacity_share(tmp_path) < 0.01


@pytest.mark.parametrize("seed", [1, 99, 12345])
def test_other_seeds_stay_in_range(tmp_path: Path, seed: int) -> None:
    generate(tmp_path, seed=seed, scale=0.05)
    d = _load(tmp_path)
    util = (d.activity["funding"] == "nhs").sum() / d.capacity["capacity_units"].sum()
    assert 0.28 <= util <= 0.38
    assert set(d.sites["region"]) == NHS_REGIONS
    assert d.contracts["monthly_value_gbp"].sum() == pytest.approx(400e6 * 0.05, rel=0.10)


# ---------------------------------------------------------------- confounders and demand


def _role(d: Data, confounder: str) -> set[str]:
    return set(d.answer_key.filter(pl.col("confounder") == confounder)["provider_code"])


def test_demand_covers_every_region_line_and_week(data: Data) -> None:
    dem = data.demand
    assert dem.height == 7 * 4 * 17
    assert set(dem["region"]) == NHS_REGIONS
    assert set(dem["service_line"]) == set(SERVICE_LINES)
    assert dem["activity_type"].null_count() == dem.height  # the whole line
    assert (dem["patients_waiting"] > 0).all() and (dem["referrals_offered"] >= 0).all()
    keys = ["region", "service_line", "week_start"]
    assert dem.select(keys).is_duplicated().sum() == 0


def test_a_demand_shortfall_region_refers_little_although_patients_wait(data: Data) -> None:
    """(a) The providers with a demand shortfall are all of one region's group providers;
    there the NHS offered the fewest referrals per patient waiting, and they used little
    capacity although they could deliver."""
    shortfall = _role(data, "demand_shortfall")
    assert 3 <= len(shortfall) <= 6
    regions = set(data.providers.filter(pl.col("provider_code").is_in(list(shortfall)))["region"])
    (region,) = regions
    assert region != "London"
    per_region = (
        data.demand.group_by("region")
        .agg(offered=pl.col("referrals_offered").sum(), waiting=pl.col("patients_waiting").sum())
        .with_columns(rate=pl.col("offered") / pl.col("waiting"))
        .sort("rate")
    )
    assert per_region["region"][0] == region
    assert per_region["rate"][0] < 0.5 * per_region["rate"][1]
    util = _provider_utilisation(data).filter(pl.col("provider_code").is_in(list(shortfall)))
    assert (util["util"] < 0.2).all()
    key = data.answer_key.filter(pl.col("provider_code").is_in(list(shortfall)))
    assert (key["delivery_ability"] >= 0.75).all() and (key["true_action"] == "route").all()


def _monthly_provider_utilisation(d: Data, codes: set[str]) -> pl.DataFrame:
    sites = d.sites.filter(pl.col("provider_code").is_in(list(codes))).select(
        "site_code", "provider_code"
    )
    cap = (
        d.capacity.join(sites, on="site_code")
        .with_columns(month=(pl.col("week_start") + timedelta(days=3)).dt.month())
        .group_by("provider_code", "month")
        .agg(cap=pl.col("capacity_units").sum())
    )
    nhs = (
        d.activity.filter(pl.col("funding") == "nhs")
        .join(sites, on="site_code")
        .with_columns(
            month=(pl.col("activity_date").dt.truncate("1w") + timedelta(days=3)).dt.month()
        )
        .group_by("provider_code", "month")
        .agg(nhs=pl.len())
    )
    return cap.join(nhs, on=["provider_code", "month"]).with_columns(
        util=pl.col("nhs") / pl.col("cap")
    )


def test_slow_starters_reach_a_good_rate_by_august(data: Data) -> None:
    """(b) Under 20% in June, over 30% from August, and kept."""
    slow = _role(data, "slow_starter")
    assert len(slow) == 2
    util = _monthly_provider_utilisation(data, slow)
    assert (util.filter(pl.col("month") == 6)["util"] < 0.2).all()
    assert (util.filter(pl.col("month") >= 8)["util"] > 0.3).all()
    key = data.answer_key.filter(pl.col("provider_code").is_in(list(slow)))
    assert (key["true_action"] == "keep").all()


def test_expensive_providers_with_moderate_use_are_released_for_price(data: Data) -> None:
    """(c) Cost per NHS unit far above the reference price, yet utilisation above 25%."""
    expensive = _role(data, "expensive")
    assert len(expensive) == 2
    util = _provider_utilisation(data).filter(pl.col("provider_code").is_in(list(expensive)))
    assert (util["util"] > 0.25).all()
    key = data.answer_key.filter(pl.col("provider_code").is_in(list(expensive)))
    assert (key["price_ratio"] > 2.5).all() and key["released"].all()


def test_private_work_beside_unused_nhs_capacity(data: Data) -> None:
    """(f) At every site of the providers doing private work, more private than NHS units,
    while under 30% of the NHS capacity is used."""
    private = _role(data, "private_work")
    assert len(private) == 2
    site_cap = data.capacity.group_by("site_code").agg(cap=pl.col("capacity_units").sum())
    counts = data.activity.group_by("site_code").agg(
        nhs=(pl.col("funding") == "nhs").sum(), private=(pl.col("funding") == "private").sum()
    )
    sites = (
        data.sites.filter(pl.col("provider_code").is_in(list(private)))
        .join(site_cap, on="site_code")
        .join(counts, on="site_code")
    )
    assert sites.height >= 2
    assert (sites["private"] > sites["nhs"]).all()
    assert (sites["nhs"] / sites["cap"] < 0.3).all()
