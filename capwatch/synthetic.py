"""Deterministic synthetic 2020 dataset in the capwatch input contract.

The data imitate the 2020 national independent-sector contract: about 40 providers in about
15 parent groups, about 200 sites in all seven NHS England regions, about £400m a month of
contracts from June to September, and NHS utilisation of about a third of the contracted
capacity, with ten poor (mostly London) providers taken off the contract for poor utilisation.

Everything is derived from one seed. The "world" (providers, sites, tiers, base capacity
rates) depends on the seed only, so `expected_poor_providers` can be computed without writing
files; `scale` multiplies capacity units, activity events and contract values. Activity is
drawn as Poisson counts per day × site × activity type × funding and expanded to one row per
event month by month, so memory stays bounded by the largest month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from capwatch.contract import REGIONS, SERVICE_LINES

ACTIVITY_TYPES: dict[str, tuple[str, ...]] = {
    "diagnostics": ("mri", "ct", "non_obstetric_ultrasound", "endoscopy"),
    "day_case": ("trauma_orthopaedics", "ophthalmology", "general_surgery", "urology"),
    "chemotherapy": ("chemotherapy_delivery",),
    "outpatients": ("outpatient_first", "outpatient_follow_up"),
}

# (service_line, activity_type) -> illustrative GBP price; activity_type "" is the line default.
UNIT_PRICES: dict[tuple[str, str], int] = {
    ("diagnostics", ""): 150,
    ("diagnostics", "mri"): 140,
    ("diagnostics", "ct"): 100,
    ("diagnostics", "non_obstetric_ultrasound"): 55,
    ("diagnostics", "endoscopy"): 450,
    ("day_case", ""): 1_100,
    ("day_case", "trauma_orthopaedics"): 1_500,
    ("day_case", "ophthalmology"): 900,
    ("day_case", "general_surgery"): 1_200,
    ("day_case", "urology"): 1_000,
    ("chemotherapy", ""): 350,
    ("chemotherapy", "chemotherapy_delivery"): 350,
    ("outpatients", ""): 120,
    ("outpatients", "outpatient_first"): 160,
    ("outpatients", "outpatient_follow_up"): 80,
}

# Service lines whose capacity is given per activity type; the others per service line.
CAPACITY_BY_TYPE: frozenset[str] = frozenset({"diagnostics"})

# Average share of a service line's units taken by each activity type.
TYPE_MIX: dict[str, float] = {
    "mri": 0.28,
    "ct": 0.24,
    "non_obstetric_ultrasound": 0.36,
    "endoscopy": 0.12,
    "trauma_orthopaedics": 0.34,
    "ophthalmology": 0.30,
    "general_surgery": 0.20,
    "urology": 0.16,
    "chemotherapy_delivery": 1.0,
    "outpatient_first": 0.40,
    "outpatient_follow_up": 0.60,
}
TYPE_MIX_CONCENTRATION = 40.0  # Dirichlet concentration of a site's mix around TYPE_MIX

# Relative weekly capacity units of a site per service line, and the chance a site offers it.
LINE_CAPACITY_WEIGHT: dict[str, float] = {
    "diagnostics": 0.28,
    "day_case": 0.48,
    "chemotherapy": 0.12,
    "outpatients": 0.26,
}
LINE_OFFER_PROBABILITY: dict[str, float] = {
    "diagnostics": 0.92,
    "day_case": 0.85,
    "chemotherapy": 0.40,
    "outpatients": 0.95,
}
LINE_UTILISATION_FACTOR: dict[str, float] = {
    "diagnostics": 1.08,
    "day_case": 0.92,
    "chemotherapy": 1.05,
    "outpatients": 1.00,
}

PERIOD_START = date(2020, 6, 1)
N_WEEKS = 17
WEEK_STARTS: tuple[date, ...] = tuple(PERIOD_START + timedelta(weeks=i) for i in range(N_WEEKS))
PERIOD_END = WEEK_STARTS[-1] + timedelta(days=6)  # Sunday 2020-09-27
ACTIVITY_MONTHS: tuple[tuple[int, int], ...] = ((2020, 6), (2020, 7), (2020, 8), (2020, 9))
CONTRACT_START = date(2020, 6, 1)
CONTRACT_END = date(2020, 9, 30)
BANK_HOLIDAYS: frozenset[date] = frozenset({date(2020, 8, 31)})
BANK_HOLIDAY_WEEK_CAPACITY = 0.82  # capacity in a week with a bank holiday Monday
WEEKS_PER_MONTH = 365.25 / 12 / 7

MONTHLY_CONTRACT_TOTAL_GBP = 400_000_000  # at scale 1
CONTRACT_MARKUP = (1.04, 1.24)  # contract value ÷ value of capacity at unit prices
REMOVAL_REASON = "poor utilisation"
REMOVAL_WINDOW = (date(2020, 8, 12), date(2020, 9, 18))
NHS_AFTER_REMOVAL = 0.03  # late-recorded NHS activity after removal, share of the usual rate

# Structure: group providers are regional companies of multi-provider groups; London
# independents are small single-provider groups that did little NHS work before 2020.
GROUP_SIZES: tuple[int, ...] = (9, 7, 6, 5, 3)
N_LONDON_INDEPENDENTS = 10
N_SITES_LONDON_INDEPENDENTS = 20
N_SITES_GROUP_PROVIDERS = 180
N_POOR_LONDON = 8
N_POOR_GROUP = 2
N_GOOD = 12
LONDON_SITE_SIZE = 0.45  # relative to a group provider's site
SITE_SIZE_SD = 0.45  # lognormal spread of site sizes
LINE_SIZE_SD = 0.30  # lognormal spread of a site's lines around the usual mix

# Provider-level NHS utilisation (NHS units ÷ capacity, period average) per tier.
TIER_UTILISATION: dict[str, tuple[float, float]] = {
    "poor": (0.08, 0.16),
    "fair": (0.21, 0.27),
    "mid": (0.22, 0.32),
    "good": (0.41, 0.48),
}
SITE_UTILISATION_SD = 0.08  # lognormal spread of sites around their provider
# Privately funded units per contracted unit (London independents are private-first).
PRIVATE_RATE_LONDON = (0.16, 0.30)
PRIVATE_RATE_GROUP = (0.04, 0.09)
SITE_PRIVATE_SD = 0.25

# Weekly shape of NHS use: June ramp-up, August holiday dip, September recovery.
# Each is normalised to mean 1 so tier utilisations are period averages.
_NHS_SHAPE: tuple[float, ...] = (0.50, 0.60, 0.70, 0.80, 0.90, 0.97, 1.00, 1.02, 1.00)  # June, July
_NHS_SHAPE += (0.90, 0.86, 0.86, 0.90, 0.97, 1.05, 1.08, 1.08)  # August, September
NHS_WEEKLY_SHAPE = np.array(_NHS_SHAPE) / np.mean(_NHS_SHAPE)
_PRIVATE_SHAPE = (0.95,) * 9 + (0.88, 0.85, 0.85, 0.88) + (1.0,) * 4
PRIVATE_WEEKLY_SHAPE = np.array(_PRIVATE_SHAPE) / np.mean(_PRIVATE_SHAPE)
WEEKLY_NOISE_SD = 0.10
CAPACITY_NOISE_SD = 0.04
DAY_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 1.0, 0.30, 0.08)  # Monday .. Sunday
BANK_HOLIDAY_DAY_WEIGHT = 0.08

FUNDING: tuple[str, ...] = ("nhs", "private")

GROUP_BRANDS: tuple[str, ...] = (
    "Harbourside Health",
    "Meridian Clinics",
    "Larkspur Hospitals",
    "Bramblewood Healthcare",
    "Kestrel Vale Medical",
    "Silverbrook Care",
    "Oakhollow Health Partners",
)
LONDON_BRANDS: tuple[str, ...] = (
    "Lantern Row Clinic",
    "Quayside Surgical",
    "Bluebell Wharf Hospital",
    "Foxglove Medical",
    "Cobalt Square Clinic",
    "Willowmere Hospital",
    "Amberleigh Clinic",
    "Juniper House Medical",
    "Kingfisher Court Hospital",
    "Copperbeech Clinic",
    "Saffron Terrace Medical",
    "Tidewater Clinic",
)
PLACE_PREFIXES: tuple[str, ...] = (
    "Ash", "Bram", "Cold", "Elder", "Fern", "Hazel", "Lark", "Mill", "Oak", "Rook",
    "Thorn", "Wren", "Heron", "Holly", "Marsh", "Birch", "Alder", "Moss", "Linden", "Sorrel",
    "Teal", "Plover", "Bracken", "Tansy",
)  # fmt: skip
PLACE_SUFFIXES: tuple[str, ...] = (
    "combe", "ford", "ley", "field", "bury", "wick", "mere", "dale", "gate", "brook",
)  # fmt: skip
SITE_KINDS: tuple[str, ...] = ("Hospital", "Clinic", "Diagnostic Centre", "Treatment Centre")
SITE_KIND_WEIGHTS: tuple[float, ...] = (0.50, 0.25, 0.15, 0.10)
CODE_LETTERS = "PQRSTUVWXYZ"

# Approximate region centres (latitude, longitude) and jitter in degrees.
REGION_CENTRES: dict[str, tuple[float, float, float]] = {
    "London": (51.51, -0.12, 0.10),
    "South East": (51.25, -0.75, 0.45),
    "South West": (50.85, -3.20, 0.55),
    "East of England": (52.25, 0.45, 0.45),
    "Midlands": (52.65, -1.65, 0.50),
    "North East and Yorkshire": (54.05, -1.45, 0.50),
    "North West": (53.60, -2.65, 0.35),
}


@dataclass(frozen=True)
class GenerationSummary:
    """What `generate` wrote."""

    files: list[Path]
    activity_rows: int
    providers: int
    sites: int
    weeks: int


@dataclass(frozen=True)
class _World:
    """Seed-only structure of the dataset, before any scale is applied."""

    providers: pl.DataFrame  # reference columns + tier, utilisation, private_rate, markup, ...
    sites: pl.DataFrame  # reference columns + size
    capacity_keys: pl.DataFrame  # site_code, service_line, activity_type, rate (units/week)
    activity_keys: pl.DataFrame  # site_code, service_line, activity_type, cap_idx, share, ...


# --------------------------------------------------------------------------------------------
# World: providers, sites, tiers, base capacity rates (seed only)
# --------------------------------------------------------------------------------------------


def _provider_codes(rng: np.random.Generator, n: int) -> list[str]:
    """Distinct fictional ODS-style codes: N, a letter, a digit."""
    pool = [f"N{letter}{digit}" for letter in CODE_LETTERS for digit in range(1, 10)]
    return sorted(str(code) for code in rng.choice(pool, size=n, replace=False))


def _place_names(rng: np.random.Generator, n: int) -> list[str]:
    """Distinct fictional place names."""
    pool = [p + s for p in PLACE_PREFIXES for s in PLACE_SUFFIXES]
    return [str(name) for name in rng.choice(pool, size=n, replace=False)]


def _partition(rng: np.random.Generator, total: int, parts: int, minimum: int) -> np.ndarray:
    """Random positive sizes of `parts` pieces summing to `total`, each at least `minimum`."""
    weights = rng.dirichlet(np.full(parts, 3.0))
    return minimum + rng.multinomial(total - minimum * parts, weights)


def _draw_tiers(rng: np.random.Generator, n_group: int) -> list[str]:
    """Utilisation tier of each group provider, then of each London independent."""
    tiers = np.full(n_group, "mid", dtype=object)
    poor = rng.choice(n_group, size=N_POOR_GROUP, replace=False)
    good = rng.choice(np.setdiff1d(np.arange(n_group), poor), size=N_GOOD, replace=False)
    tiers[poor] = "poor"
    tiers[good] = "good"
    london = ["poor"] * N_POOR_LONDON + ["fair"] * (N_LONDON_INDEPENDENTS - N_POOR_LONDON)
    return [str(t) for t in tiers] + [str(t) for t in rng.permutation(london)]


def _draw_providers(rng: np.random.Generator) -> pl.DataFrame:
    """Providers with group, region, tier and behaviour parameters."""
    n_group = sum(GROUP_SIZES)
    n = n_group + N_LONDON_INDEPENDENTS
    codes = rng.permutation(_provider_codes(rng, n)).tolist()
    brands = rng.permutation(GROUP_BRANDS)[: len(GROUP_SIZES)].tolist()
    london_brands = rng.permutation(LONDON_BRANDS)[:N_LONDON_INDEPENDENTS].tolist()
    localities = _place_names(rng, n_group)

    group_of = [b for b, size in zip(brands, GROUP_SIZES, strict=True) for _ in range(size)]
    # Every region gets group providers; London gets a few besides the independents.
    regions = [REGIONS[i % len(REGIONS)] for i in range(n_group)]
    regions = rng.permutation(regions).tolist()
    names = [f"{g} {loc}" for g, loc in zip(group_of, localities, strict=True)]

    tiers = _draw_tiers(rng, n_group)
    group_of += london_brands
    names += london_brands
    regions += ["London"] * N_LONDON_INDEPENDENTS
    independent = [False] * n_group + [True] * N_LONDON_INDEPENDENTS
    lo = np.array([TIER_UTILISATION[t][0] for t in tiers])
    hi = np.array([TIER_UTILISATION[t][1] for t in tiers])
    utilisation = rng.uniform(lo, hi)
    ind = np.array(independent)
    private_rate = np.where(
        ind, rng.uniform(*PRIVATE_RATE_LONDON, size=n), rng.uniform(*PRIVATE_RATE_GROUP, size=n)
    )
    markup = rng.uniform(*CONTRACT_MARKUP, size=n)
    removed = [_removal_date(rng) if t == "poor" else None for t in tiers]
    return pl.DataFrame(
        {
            "provider_code": codes,
            "provider_name": names,
            "group": group_of,
            "region": regions,
            "london_independent": independent,
            "tier": tiers,
            "utilisation": utilisation,
            "private_rate": private_rate,
            "markup": markup,
            "removed_date": removed,
        },
        schema_overrides={"removed_date": pl.Date},
    ).sort("provider_code")


def _removal_date(rng: np.random.Generator) -> date:
    """A weekday in mid/late August or September 2020."""
    first, last = REMOVAL_WINDOW
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    weekdays = [d for d in days if d.weekday() < 5]
    return weekdays[int(rng.integers(len(weekdays)))]


def _draw_sites(rng: np.random.Generator, providers: pl.DataFrame) -> pl.DataFrame:
    """Sites of each provider, in the provider's region, with a relative size."""
    independent = providers["london_independent"].to_numpy()
    counts = np.empty(providers.height, dtype=np.int64)
    counts[independent] = _partition(
        rng, N_SITES_LONDON_INDEPENDENTS, int(independent.sum()), minimum=1
    )
    counts[~independent] = _partition(
        rng, N_SITES_GROUP_PROVIDERS, int((~independent).sum()), minimum=3
    )
    n_sites = int(counts.sum())
    provider_idx = np.repeat(np.arange(providers.height), counts)
    within = np.concatenate([np.arange(1, c + 1) for c in counts])
    codes = providers["provider_code"].to_numpy()[provider_idx]
    regions = providers["region"].to_numpy()[provider_idx]
    brands = providers["provider_name"].to_numpy()[provider_idx]
    single = independent[provider_idx]
    places = _place_names(rng, n_sites)
    kinds = rng.choice(SITE_KINDS, size=n_sites, p=SITE_KIND_WEIGHTS)
    centre = np.array([REGION_CENTRES[r] for r in regions])
    latitude = centre[:, 0] + rng.uniform(-1, 1, n_sites) * centre[:, 2]
    # a degree of longitude is about 0.6 of a degree of latitude at English latitudes
    longitude = centre[:, 1] + rng.uniform(-1, 1, n_sites) * centre[:, 2] / 0.6
    size = rng.lognormal(0.0, SITE_SIZE_SD, n_sites) * np.where(
        independent[provider_idx], LONDON_SITE_SIZE, 1.0
    )
    return pl.DataFrame(
        {
            "site_code": [f"{c}{i:02d}" for c, i in zip(codes, within, strict=True)],
            "provider_code": codes,
            "site_name": _site_names(brands, places, kinds, single),
            "region": regions,
            "latitude": np.round(latitude, 5),
            "longitude": np.round(longitude, 5),
            "size": size,
        }
    )


def _site_names(
    brands: np.ndarray, places: list[str], kinds: np.ndarray, single: np.ndarray
) -> list[str]:
    """Group sites: brand, place and kind; London independents: their name and a place."""
    return [
        f"{b} {p}" if one else f"{b.split(' ')[0]} {p} {k}"
        for b, p, k, one in zip(brands, places, kinds, single, strict=True)
    ]


def _site_lines(rng: np.random.Generator, n_sites: int) -> np.ndarray:
    """Boolean (site, service line) matrix of lines offered; every site offers at least one."""
    probs = np.array([LINE_OFFER_PROBABILITY[line] for line in SERVICE_LINES])
    offered = rng.random((n_sites, len(SERVICE_LINES))) < probs
    offered[~offered.any(axis=1), SERVICE_LINES.index("outpatients")] = True
    return offered


def _draw_keys(
    rng: np.random.Generator, providers: pl.DataFrame, sites: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Capacity keys (with weekly rate) and activity keys (with behaviour), in output order."""
    offered = _site_lines(rng, sites.height)
    prov = sites.select("site_code", "provider_code", "size").join(
        providers.select("provider_code", "utilisation", "private_rate", "removed_date"),
        on="provider_code",
        how="left",
        maintain_order="left",
    )
    cap_rows: list[dict[str, object]] = []
    act_rows: list[dict[str, object]] = []
    for s, site in enumerate(prov.iter_rows(named=True)):
        site_util = site["utilisation"] * rng.lognormal(0.0, SITE_UTILISATION_SD)
        site_private = site["private_rate"] * rng.lognormal(0.0, SITE_PRIVATE_SD)
        for li, line in enumerate(SERVICE_LINES):
            if not offered[s, li]:
                continue
            types = ACTIVITY_TYPES[line]
            mix = rng.dirichlet(np.array([TYPE_MIX[t] for t in types]) * TYPE_MIX_CONCENTRATION)
            line_rate = site["size"] * LINE_CAPACITY_WEIGHT[line] * rng.lognormal(0.0, LINE_SIZE_SD)
            util = min(0.9, site_util * LINE_UTILISATION_FACTOR[line])
            by_type = line in CAPACITY_BY_TYPE
            for t, share in zip(types, mix, strict=True):
                if by_type or t == types[0]:
                    cap_rows.append(
                        {
                            "site_code": site["site_code"],
                            "provider_code": site["provider_code"],
                            "service_line": line,
                            "activity_type": t if by_type else None,
                            "rate": line_rate * (share if by_type else 1.0),
                            "removed_date": site["removed_date"],
                        }
                    )
                act_rows.append(
                    {
                        "site_code": site["site_code"],
                        "service_line": line,
                        "activity_type": t,
                        "cap_idx": len(cap_rows) - 1,
                        "share": 1.0 if by_type else float(share),
                        "utilisation": util,
                        "private_rate": site_private,
                        "removed_date": site["removed_date"],
                    }
                )
    capacity_keys = pl.DataFrame(cap_rows, schema_overrides={"removed_date": pl.Date})
    activity_keys = pl.DataFrame(act_rows, schema_overrides={"removed_date": pl.Date})
    return capacity_keys, activity_keys


def _price_of(service_line: str, activity_type: str | None) -> int:
    return UNIT_PRICES[(service_line, activity_type or "")]


def _week_capacity_factor() -> np.ndarray:
    """Capacity factor per week: lower in a week with a bank holiday."""
    bank_holiday = [
        any(w <= d <= w + timedelta(days=6) for d in BANK_HOLIDAYS) for w in WEEK_STARTS
    ]
    return np.where(bank_holiday, BANK_HOLIDAY_WEEK_CAPACITY, 1.0)


def _normalise_rates(providers: pl.DataFrame, capacity_keys: pl.DataFrame) -> pl.DataFrame:
    """Add unit prices and scale capacity rates so contracts total the 2020 monthly value."""
    prices = [
        _price_of(line, t)
        for line, t in zip(
            capacity_keys["service_line"], capacity_keys["activity_type"], strict=True
        )
    ]
    keys = capacity_keys.with_columns(price=pl.Series(prices, dtype=pl.Float64))
    markup = keys.join(providers.select("provider_code", "markup"), on="provider_code", how="left")[
        "markup"
    ]
    monthly = float((keys["rate"] * keys["price"] * markup).sum()) * WEEKS_PER_MONTH
    factor = MONTHLY_CONTRACT_TOTAL_GBP / (monthly * _week_capacity_factor().mean())
    return keys.with_columns(pl.col("rate") * factor)


def _build_world(seed: int) -> _World:
    rng = np.random.default_rng(seed)
    providers = _draw_providers(rng)
    sites = _draw_sites(rng, providers)
    capacity_keys, activity_keys = _draw_keys(rng, providers, sites)
    capacity_keys = _normalise_rates(providers, capacity_keys)
    return _World(providers, sites, capacity_keys, activity_keys)


def expected_poor_providers(seed: int = 2020) -> frozenset[str]:
    """Provider codes built to be poor (utilisation about 0.08–0.16, removed from contract)."""
    providers = _draw_providers(np.random.default_rng(seed))
    return frozenset(providers.filter(pl.col("tier") == "poor")["provider_code"].to_list())


def expected_good_providers(seed: int = 2020) -> frozenset[str]:
    """Provider codes built to be good (utilisation about 0.42–0.49)."""
    providers = _draw_providers(np.random.default_rng(seed))
    return frozenset(providers.filter(pl.col("tier") == "good")["provider_code"].to_list())


# --------------------------------------------------------------------------------------------
# Scaled tables: capacity and weekly expected activity
# --------------------------------------------------------------------------------------------


def _weekly_capacity(
    rng: np.random.Generator, capacity_keys: pl.DataFrame, scale: float
) -> np.ndarray:
    """Planned integer capacity units per (capacity key, week), ignoring removals."""
    noise = rng.lognormal(0.0, CAPACITY_NOISE_SD, (capacity_keys.height, N_WEEKS))
    rate = capacity_keys["rate"].to_numpy()[:, None] * scale
    units = rate * _week_capacity_factor()[None, :] * noise
    return np.asarray(np.maximum(1, np.rint(units)), dtype=np.int64)


def _week_active(removed: pl.Series) -> np.ndarray:
    """Boolean (key, week): the week starts on or before the provider's removed_date."""
    starts = np.array(WEEK_STARTS, dtype="datetime64[D]")
    removed_days = removed.fill_null(date(9999, 12, 31)).to_numpy().astype("datetime64[D]")
    return starts[None, :] <= removed_days[:, None]


def _capacity_frame(capacity_keys: pl.DataFrame, units: np.ndarray) -> pl.DataFrame:
    """capacity.csv rows: planned units, dropping weeks after a provider's removal."""
    active = _week_active(capacity_keys["removed_date"])
    key_idx, week_idx = np.nonzero(active)
    keys = capacity_keys.select("site_code", "service_line", "activity_type")
    return keys[key_idx].with_columns(
        week_start=pl.Series(np.array(WEEK_STARTS)[week_idx].tolist(), dtype=pl.Date),
        capacity_units=pl.Series(units[key_idx, week_idx], dtype=pl.Int64),
    )


def _lognormal_noise(rng: np.random.Generator, shape: tuple[int, int], sd: float) -> np.ndarray:
    """Multiplicative noise with mean 1."""
    return rng.lognormal(-sd * sd / 2, sd, shape)


def _weekly_expected(
    rng: np.random.Generator,
    world: _World,
    capacity_units: np.ndarray,
    scale: float,
) -> np.ndarray:
    """Expected events per (activity key, week, funding) before day split and removal."""
    keys = world.activity_keys
    cap_idx = keys["cap_idx"].to_numpy()
    share = keys["share"].to_numpy()[:, None]
    shape = (keys.height, N_WEEKS)
    nhs = (
        capacity_units[cap_idx]
        * share
        * keys["utilisation"].to_numpy()[:, None]
        * NHS_WEEKLY_SHAPE[None, :]
        * _lognormal_noise(rng, shape, WEEKLY_NOISE_SD)
    )
    rate = world.capacity_keys["rate"].to_numpy()[cap_idx][:, None] * scale
    private = (
        rate
        * share
        * keys["private_rate"].to_numpy()[:, None]
        * PRIVATE_WEEKLY_SHAPE[None, :]
        * _lognormal_noise(rng, shape, WEEKLY_NOISE_SD)
    )
    return np.stack([nhs, private], axis=2)


# --------------------------------------------------------------------------------------------
# Events, month by month
# --------------------------------------------------------------------------------------------


def _month_days(year: int, month: int) -> list[date]:
    """Days of a calendar month that fall in the 17 contract weeks."""
    first = date(year, month, 1)
    days = [first + timedelta(days=i) for i in range(31)]
    return [d for d in days if d.month == month and PERIOD_START <= d <= PERIOD_END]


def _day_weight(day: date) -> float:
    return BANK_HOLIDAY_DAY_WEIGHT if day in BANK_HOLIDAYS else DAY_WEIGHTS[day.weekday()]


def _week_weight_totals() -> np.ndarray:
    return np.array(
        [sum(_day_weight(w + timedelta(days=i)) for i in range(7)) for w in WEEK_STARTS]
    )


def _month_events(
    rng: np.random.Generator,
    keys: pl.DataFrame,
    weekly: np.ndarray,
    days: list[date],
) -> pl.DataFrame:
    """One row per event for the given days, sorted by date, site, line, type, funding."""
    week_idx = np.array([(d - PERIOD_START).days // 7 for d in days])
    weight = np.array([_day_weight(d) for d in days]) / _week_weight_totals()[week_idx]
    # (day, key, funding) expected counts; keys are already in site/line/type order.
    lam = weekly[:, week_idx, :].transpose(1, 0, 2) * weight[:, None, None]
    day_np = np.array(days, dtype="datetime64[D]")
    removed = keys["removed_date"].fill_null(date(9999, 12, 31)).to_numpy()
    after = day_np[:, None] > removed.astype("datetime64[D]")[None, :]
    lam[:, :, 0] *= np.where(after, NHS_AFTER_REMOVAL, 1.0)
    counts = rng.poisson(lam).ravel()
    cells = np.flatnonzero(counts)
    n_keys, n_funding = keys.height, len(FUNDING)
    day_i = cells // (n_keys * n_funding)
    key_i = (cells // n_funding) % n_keys
    fund_i = cells % n_funding
    cell_frame = keys.select("site_code", "service_line", "activity_type")[key_i].with_columns(
        activity_date=pl.Series(day_np[day_i]).cast(pl.Date),
        funding=pl.Series(np.array(FUNDING)[fund_i]),
    )
    repeat = pl.Series(np.repeat(np.arange(cells.size), counts[cells]))
    return cell_frame.select(pl.all().gather(repeat))


# --------------------------------------------------------------------------------------------
# Reference tables and writing
# --------------------------------------------------------------------------------------------


def _unit_prices_frame() -> pl.DataFrame:
    rows = [(line, t or None, price) for (line, t), price in UNIT_PRICES.items()]
    return pl.DataFrame(
        rows,
        schema={
            "service_line": pl.String,
            "activity_type": pl.String,
            "unit_price_gbp": pl.Int64,
        },
        orient="row",
    )


def _contracts_frame(
    providers: pl.DataFrame, capacity_keys: pl.DataFrame, units: np.ndarray
) -> pl.DataFrame:
    """One contract per provider, valued at its planned capacity at unit prices plus markup.

    The value uses the full planned period, so a removed provider keeps its contract value.
    """
    weekly_value = capacity_keys.select(
        "provider_code", value=pl.Series(units.mean(axis=1)) * pl.col("price")
    )
    value = weekly_value.group_by("provider_code").agg(pl.col("value").sum() * WEEKS_PER_MONTH)
    removed = pl.col("removed_date").is_not_null()
    return providers.join(value, on="provider_code", how="left", maintain_order="left").select(
        contract_id=pl.lit("C-2020-") + pl.col("provider_code"),
        provider_code="provider_code",
        start_date=pl.lit(CONTRACT_START),
        end_date=pl.lit(CONTRACT_END),
        monthly_value_gbp=(pl.col("value") * pl.col("markup")).round(0).cast(pl.Int64),
        status=pl.when(removed).then(pl.lit("removed")).otherwise(pl.lit("active")),
        removed_date="removed_date",
        removal_reason=pl.when(removed).then(pl.lit(REMOVAL_REASON)),
    )


def _write(frame: pl.DataFrame, path: Path) -> Path:
    frame.write_csv(path, date_format="%Y-%m-%d")
    return path


def generate(out_dir: Path, seed: int = 2020, scale: float = 1.0) -> GenerationSummary:
    """Write the synthetic 2020 dataset as CSV files into `out_dir`.

    Same seed and scale give byte-identical files. Scale 1 is calibrated to 2020 (about
    £400m a month, about a million activity events); scale multiplies capacity units,
    activity events and contract values.
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    world = _build_world(seed)
    rng = np.random.default_rng([seed, 1])

    capacity_units = _weekly_capacity(rng, world.capacity_keys, scale)
    reference = world.providers.select("provider_code", "provider_name", "group", "region")
    contracts = _contracts_frame(world.providers, world.capacity_keys, capacity_units)
    files = [
        _write(reference, out_dir / "providers.csv"),
        _write(world.sites.drop("size"), out_dir / "sites.csv"),
        _write(contracts, out_dir / "contracts.csv"),
        _write(_unit_prices_frame(), out_dir / "unit_prices.csv"),
        _write(_capacity_frame(world.capacity_keys, capacity_units), out_dir / "capacity.csv"),
    ]
    weekly = _weekly_expected(rng, world, capacity_units, scale)
    activity_rows = 0
    for year, month in ACTIVITY_MONTHS:
        events = _month_events(rng, world.activity_keys, weekly, _month_days(year, month))
        activity_rows += events.height
        files.append(_write(events, out_dir / f"activity_{year}-{month:02d}.csv"))
        del events
    return GenerationSummary(
        files=files,
        activity_rows=activity_rows,
        providers=world.providers.height,
        sites=world.sites.height,
        weeks=N_WEEKS,
    )
