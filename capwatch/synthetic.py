"""Deterministic synthetic 2020 dataset in the capwatch input contract, held to the record.

The data imitate the 2020 national independent-sector contract: 40 providers in 15 parent
groups, 200 sites in all seven NHS England regions, about £400m a month of contracts from June
to September, and NHS use of about a third of the contracted capacity (day case just over 30%
in June and July, over 40% in August, under 30% in September). Eleven providers holding 22
sites (14 in London) and a quarter of the capacity are released at the end of August and on
8 September. docs/synthetic-world.md gives the sources.

Behind the figures is a hidden truth (`answer_key.csv`, read only by the backtest): each
provider's delivery ability, price ratio, referral propensity and private workload, the
confounder that makes it look other than it is (a demand shortfall, a slow start, a high price,
missing returns, private work) and what should have been done with it. Releases are decided
from those traits, as NHS England did: the expensive, under-used central-London providers
first. `demand.csv` gives the NHS side: patients waiting and referrals offered.

Everything is derived from one seed. The "world" (providers, roles, sites, base capacity
rates) depends on the seed only, so `expected_poor_providers` can be computed without writing
files; `scale` multiplies capacity units, activity events, demand and contract values. Activity
is drawn as Poisson counts per day × site × activity type × funding and expanded to one row per
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
NHS_AFTER_REMOVAL = 0.03  # late-recorded NHS activity after removal, share of the usual rate

# Structure: group providers are regional companies of multi-provider groups; London
# independents are single-provider groups, two sites each, that did little NHS work before.
GROUP_SIZES: tuple[int, ...] = (9, 7, 6, 5, 3)
N_LONDON_INDEPENDENTS = 10
SITES_PER_LONDON_INDEPENDENT = 2
N_SITES_GROUP_PROVIDERS = 180
SITES_PER_RELEASED_GROUP_PROVIDER = 2
SITE_SIZE_SD = 0.45  # lognormal spread of site sizes
LINE_SIZE_SD = 0.30  # lognormal spread of a site's lines around the usual mix

# Roles: who each provider really is (the answer key). London independents: five expensive
# and under-used (released for cost and low use), two expensive with moderate use (released
# for price: confounder c), one doing private work beside unused NHS capacity (f), two fair.
LONDON_ROLES: tuple[str, ...] = (
    ("london_low",) * 5
    + ("expensive",) * 2
    + (
        "private_work",
        "london_fair",
        "london_fair",
    )
)
N_POOR_GROUP = 4  # group providers outside London that could not deliver: released
N_SLOW_STARTERS = 2  # (b)
N_MISSING_RETURNS = 2  # (d)
N_PRIVATE_WORK_GROUP = 1  # (f), besides the London one
N_GOOD = 12

# Latent traits per role: (delivery ability, referral propensity, private units per
# contracted unit, price ratio), each drawn uniformly from its range.
ROLE_TRAITS: dict[str, tuple[tuple[float, float], ...]] = {
    "good": ((0.82, 0.95), (0.85, 1.00), (0.04, 0.09), (1.04, 1.20)),
    "mid": ((0.60, 0.78), (0.70, 0.90), (0.04, 0.09), (1.04, 1.24)),
    "poor": ((0.14, 0.24), (0.75, 0.95), (0.04, 0.09), (1.04, 1.24)),
    "london_low": ((0.30, 0.45), (0.35, 0.50), (0.16, 0.30), (1.60, 2.20)),
    "expensive": ((0.75, 0.88), (0.75, 0.90), (0.16, 0.30), (2.60, 3.20)),
    "london_fair": ((0.60, 0.72), (0.65, 0.80), (0.16, 0.30), (1.20, 1.40)),
    "demand_shortfall": ((0.78, 0.92), (0.14, 0.24), (0.04, 0.09), (1.04, 1.20)),
    "slow_starter": ((0.78, 0.92), (0.80, 1.00), (0.04, 0.09), (1.04, 1.20)),
    "missing_returns": ((0.65, 0.85), (0.75, 0.95), (0.04, 0.09), (1.04, 1.20)),
    "private_work": ((0.28, 0.38), (0.80, 1.00), (0.45, 0.70), (1.10, 1.30)),
}
# role -> (confounder, true action, release reason or "" if kept)
ROLE_TRUTH: dict[str, tuple[str, str, str]] = {
    "good": ("none", "keep", ""),
    "mid": ("none", "keep", ""),
    "poor": ("none", "release", "poor utilisation"),
    "london_low": ("none", "release", "cost and poor utilisation"),
    "expensive": ("expensive", "release", "cost: price far above the reference"),
    "london_fair": ("none", "keep", ""),
    "demand_shortfall": ("demand_shortfall", "route", ""),
    "slow_starter": ("slow_starter", "keep", ""),
    "missing_returns": ("missing_returns", "keep", ""),
    "private_work": ("private_work", "challenge", ""),
}
LONDON_RELEASE_DATE = date(2020, 9, 8)  # central London, as HSJ reported
RELEASE_WINDOW = (date(2020, 8, 24), date(2020, 9, 4))  # the others: the end of August
RELEASED_CAPACITY_SHARE = 0.25  # of the capacity value before the releases

# Published record (see docs/synthetic-world.md): NHS units ÷ capacity per service line over
# the period, and for day case per month (the month a week's Thursday falls in).
LINE_UTILISATION_TARGET: dict[str, float] = {
    "diagnostics": 1 / 3,
    "chemotherapy": 1 / 3,
    "outpatients": 1 / 3,
}
DAY_CASE_MONTHLY_TARGET: dict[int, float] = {6: 0.325, 7: 0.325, 8: 0.43, 9: 0.265}
SITE_UTILISATION_SD = 0.08  # lognormal spread of sites around their provider
SITE_PRIVATE_SD = 0.25

# Weekly shape of NHS use (before calibration): June ramp-up, the August holiday dip (weeks of
# 10, 17 and 24 August, and the bank holiday), September recovery.
_NHS_SHAPE: tuple[float, ...] = (0.62, 0.74, 0.84, 0.92, 0.97, 1.00, 1.00, 1.02, 1.02)  # Jun-Jul
_NHS_SHAPE += (1.00, 0.80, 0.78, 0.80, 0.96, 1.04, 1.06, 1.06)  # August, September
NHS_WEEKLY_SHAPE = np.array(_NHS_SHAPE) / np.mean(_NHS_SHAPE)
_PRIVATE_SHAPE = (0.95,) * 9 + (0.95, 0.80, 0.78, 0.80) + (1.0,) * 4
PRIVATE_WEEKLY_SHAPE = np.array(_PRIVATE_SHAPE) / np.mean(_PRIVATE_SHAPE)
HOLIDAY_WEEKS: tuple[date, ...] = (date(2020, 8, 10), date(2020, 8, 17), date(2020, 8, 24))
HOLIDAY_WEEK_CAPACITY = 0.92  # capacity offered in the holiday weeks
# Slow starters: share of their rate reached per week; good from the week of 27 July.
SLOW_START_RAMP: tuple[float, ...] = (0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.75, 0.9) + (1.0,) * 8
MISSING_WEEKS = (2, 3)  # a site with missing returns sends nothing for 2 or 3 weeks
MISSING_FIRST_WEEK = (4, 6)  # ... starting in the 5th to 7th week (29 Jun – 13 Jul)
WEEKLY_NOISE_SD = 0.10
CAPACITY_NOISE_SD = 0.04
DAY_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 1.0, 0.30, 0.08)  # Monday .. Sunday
BANK_HOLIDAY_DAY_WEIGHT = 0.08
# Demand: patients waiting per unit of weekly capacity in a region (range), growing weekly.
WAITING_PER_CAPACITY_UNIT = (2.5, 4.0)
WAITING_GROWTH_PER_WEEK = 0.012

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


def _draw_roles(rng: np.random.Generator, regions: list[str]) -> list[str]:
    """Role of each group provider (given their regions), then of each London independent.

    One region outside London is the demand shortfall: its NHS referred little, so every group
    provider there has that role. The poor (released) group providers are outside London and
    outside that region; the other confounders and the good providers are drawn from the rest.
    """
    n_group = len(regions)
    roles = np.full(n_group, "mid", dtype=object)
    shortfall_region = str(rng.choice([r for r in REGIONS if r != "London"]))
    in_region = np.array([r == shortfall_region for r in regions])
    roles[in_region] = "demand_shortfall"
    free = np.flatnonzero(~in_region)
    outside_london = np.flatnonzero([r != "London" for r in regions])
    for role, n, pool in (
        ("poor", N_POOR_GROUP, np.intersect1d(free, outside_london)),
        ("slow_starter", N_SLOW_STARTERS, None),
        ("missing_returns", N_MISSING_RETURNS, None),
        ("private_work", N_PRIVATE_WORK_GROUP, None),
        ("good", N_GOOD, None),
    ):
        chosen = rng.choice(free if pool is None else pool, size=n, replace=False)
        roles[chosen] = role
        free = np.setdiff1d(free, chosen)
    return [str(r) for r in roles] + [str(r) for r in rng.permutation(LONDON_ROLES)]


def _draw_providers(rng: np.random.Generator) -> pl.DataFrame:
    """Providers with group, region, role, latent traits and release date."""
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

    roles = _draw_roles(rng, regions)
    group_of += london_brands
    names += london_brands
    regions += ["London"] * N_LONDON_INDEPENDENTS
    independent = [False] * n_group + [True] * N_LONDON_INDEPENDENTS
    traits = np.array([[rng.uniform(lo, hi) for lo, hi in ROLE_TRAITS[r]] for r in roles])
    released = [ROLE_TRUTH[r][1] == "release" for r in roles]
    removed = [
        (LONDON_RELEASE_DATE if ind else _release_date(rng)) if rel else None
        for rel, ind in zip(released, independent, strict=True)
    ]
    return pl.DataFrame(
        {
            "provider_code": codes,
            "provider_name": names,
            "group": group_of,
            "region": regions,
            "london_independent": independent,
            "role": roles,
            "delivery_ability": traits[:, 0],
            "referral_propensity": traits[:, 1],
            "private_rate": traits[:, 2],
            "price_ratio": traits[:, 3],
            "released": released,
            "removed_date": removed,
        },
        schema_overrides={"removed_date": pl.Date},
    ).sort("provider_code")


def _release_date(rng: np.random.Generator) -> date:
    """A weekday at the end of August or in the first days of September 2020."""
    first, last = RELEASE_WINDOW
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    weekdays = [d for d in days if d.weekday() < 5]
    return weekdays[int(rng.integers(len(weekdays)))]


def _draw_sites(rng: np.random.Generator, providers: pl.DataFrame) -> pl.DataFrame:
    """Sites of each provider, in the provider's region, with a relative size.

    London independents and released group providers have two sites each (the 22 released
    hospitals); the other group providers share the rest."""
    independent = providers["london_independent"].to_numpy()
    released_group = providers["released"].to_numpy() & ~independent
    others = ~independent & ~released_group
    counts = np.empty(providers.height, dtype=np.int64)
    counts[independent] = SITES_PER_LONDON_INDEPENDENT
    counts[released_group] = SITES_PER_RELEASED_GROUP_PROVIDER
    rest = N_SITES_GROUP_PROVIDERS - SITES_PER_RELEASED_GROUP_PROVIDER * int(released_group.sum())
    counts[others] = _partition(rng, rest, int(others.sum()), minimum=3)
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
    size = rng.lognormal(0.0, SITE_SIZE_SD, n_sites)
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
    """Capacity keys (with weekly rate) and activity keys (with behaviour), in output order.

    A key's relative NHS use is the provider's delivery ability × referral propensity (with
    a spread per site and a line factor); `_calibrate` later sets its level to the record."""
    offered = _site_lines(rng, sites.height)
    prov = sites.select("site_code", "provider_code", "region", "size").join(
        providers.select(
            "provider_code",
            "delivery_ability",
            "referral_propensity",
            "private_rate",
            "removed_date",
            "released",
            "role",
        ),
        on="provider_code",
        how="left",
        maintain_order="left",
    )
    cap_rows: list[dict[str, object]] = []
    act_rows: list[dict[str, object]] = []
    for s, site in enumerate(prov.iter_rows(named=True)):
        propensity = site["delivery_ability"] * site["referral_propensity"]
        site_util = propensity * rng.lognormal(0.0, SITE_UTILISATION_SD)
        site_private = site["private_rate"] * rng.lognormal(0.0, SITE_PRIVATE_SD)
        for li, line in enumerate(SERVICE_LINES):
            if not offered[s, li]:
                continue
            types = ACTIVITY_TYPES[line]
            mix = rng.dirichlet(np.array([TYPE_MIX[t] for t in types]) * TYPE_MIX_CONCENTRATION)
            line_rate = site["size"] * LINE_CAPACITY_WEIGHT[line] * rng.lognormal(0.0, LINE_SIZE_SD)
            by_type = line in CAPACITY_BY_TYPE
            for t, share in zip(types, mix, strict=True):
                if by_type or t == types[0]:
                    cap_rows.append(
                        {
                            "site_code": site["site_code"],
                            "provider_code": site["provider_code"],
                            "region": site["region"],
                            "service_line": line,
                            "activity_type": t if by_type else None,
                            "rate": line_rate * (share if by_type else 1.0),
                            "removed_date": site["removed_date"],
                            "released": site["released"],
                        }
                    )
                act_rows.append(
                    {
                        "site_code": site["site_code"],
                        "provider_code": site["provider_code"],
                        "service_line": line,
                        "activity_type": t,
                        "cap_idx": len(cap_rows) - 1,
                        "share": 1.0 if by_type else float(share),
                        "utilisation": site_util * LINE_UTILISATION_FACTOR[line],
                        "delivery_ability": site["delivery_ability"],
                        "slow_starter": site["role"] == "slow_starter",
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
    """Capacity factor per week: lower in a week with a bank holiday and in the holidays."""
    bank_holiday = [
        any(w <= d <= w + timedelta(days=6) for d in BANK_HOLIDAYS) for w in WEEK_STARTS
    ]
    holiday = [w in HOLIDAY_WEEKS for w in WEEK_STARTS]
    return np.where(bank_holiday, BANK_HOLIDAY_WEEK_CAPACITY, 1.0) * np.where(
        holiday, HOLIDAY_WEEK_CAPACITY, 1.0
    )


def _normalise_rates(providers: pl.DataFrame, capacity_keys: pl.DataFrame) -> pl.DataFrame:
    """Add unit prices; give the released providers their share of the capacity value; scale
    capacity rates so contracts total the 2020 monthly value."""
    prices = [
        _price_of(line, t)
        for line, t in zip(
            capacity_keys["service_line"], capacity_keys["activity_type"], strict=True
        )
    ]
    keys = capacity_keys.with_columns(price=pl.Series(prices, dtype=pl.Float64))
    released = keys["released"].to_numpy()
    value = (keys["rate"] * keys["price"]).to_numpy()
    share = RELEASED_CAPACITY_SHARE
    boost = share / (1 - share) * value[~released].sum() / value[released].sum()
    keys = keys.with_columns(rate=pl.Series(np.where(released, boost, 1.0)) * pl.col("rate"))
    ratio = keys.join(
        providers.select("provider_code", "price_ratio"), on="provider_code", how="left"
    )["price_ratio"]
    monthly = float((keys["rate"] * keys["price"] * ratio).sum()) * WEEKS_PER_MONTH
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
    """Providers built to be under-used by their own failing and released for it (the poor
    group providers and the expensive, under-used London independents)."""
    providers = _draw_providers(np.random.default_rng(seed))
    poor = pl.col("role").is_in(["poor", "london_low"])
    return frozenset(providers.filter(poor)["provider_code"].to_list())


def expected_good_providers(seed: int = 2020) -> frozenset[str]:
    """Providers built to be good: high delivery and referrals, no confounder, kept."""
    providers = _draw_providers(np.random.default_rng(seed))
    return frozenset(providers.filter(pl.col("role") == "good")["provider_code"].to_list())


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


def _reported(
    rng: np.random.Generator, providers: pl.DataFrame, capacity_keys: pl.DataFrame
) -> np.ndarray:
    """Boolean (capacity key, week): the site sent its returns. One site of each provider
    with missing returns sends nothing (no capacity, no activity) for two or three weeks."""
    reported = np.ones((capacity_keys.height, N_WEEKS), dtype=bool)
    missing = providers.filter(pl.col("role") == "missing_returns")["provider_code"]
    site_of = capacity_keys["site_code"].to_numpy()
    for code in missing.to_list():
        sites = sorted(set(site_of[capacity_keys["provider_code"].to_numpy() == code]))
        site = sites[int(rng.integers(len(sites)))]
        first = int(rng.integers(MISSING_FIRST_WEEK[0], MISSING_FIRST_WEEK[1] + 1))
        n = int(rng.integers(MISSING_WEEKS[0], MISSING_WEEKS[1] + 1))
        reported[site_of == site, first : first + n] = False
    return reported


def _capacity_frame(
    capacity_keys: pl.DataFrame, units: np.ndarray, kept: np.ndarray
) -> pl.DataFrame:
    """capacity.csv rows: planned units in the weeks `kept` (before removal, returns sent)."""
    key_idx, week_idx = np.nonzero(kept)
    keys = capacity_keys.select("site_code", "service_line", "activity_type")
    return keys[key_idx].with_columns(
        week_start=pl.Series(np.array(WEEK_STARTS)[week_idx].tolist(), dtype=pl.Date),
        capacity_units=pl.Series(units[key_idx, week_idx], dtype=pl.Int64),
    )


def _lognormal_noise(rng: np.random.Generator, shape: tuple[int, int], sd: float) -> np.ndarray:
    """Multiplicative noise with mean 1."""
    return rng.lognormal(-sd * sd / 2, sd, shape)


def _thursday_months() -> np.ndarray:
    """The month each week belongs to: the month of its Thursday."""
    return np.array([(w + timedelta(days=3)).month for w in WEEK_STARTS])


def _ramp(keys: pl.DataFrame) -> np.ndarray:
    """(activity key, week): share of its rate a slow starter reaches; 1 for the others."""
    slow = keys["slow_starter"].to_numpy()[:, None]
    return np.where(slow, np.array(SLOW_START_RAMP)[None, :], 1.0)


def _weekly_expected(
    rng: np.random.Generator,
    world: _World,
    capacity_units: np.ndarray,
    scale: float,
) -> np.ndarray:
    """Expected events per (activity key, week, funding) before calibration, day split and
    removal."""
    keys = world.activity_keys
    cap_idx = keys["cap_idx"].to_numpy()
    share = keys["share"].to_numpy()[:, None]
    shape = (keys.height, N_WEEKS)
    nhs = (
        capacity_units[cap_idx]
        * share
        * keys["utilisation"].to_numpy()[:, None]
        * NHS_WEEKLY_SHAPE[None, :]
        * _ramp(keys)
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


def _calibrate(
    world: _World, weekly: np.ndarray, capacity_units: np.ndarray, kept: np.ndarray
) -> np.ndarray:
    """Scale expected NHS events so that, over the capacity rows written, each service line
    uses the share of its capacity the published record gives (day case: per month)."""
    keys = world.activity_keys
    cap_idx = keys["cap_idx"].to_numpy()
    lines = world.capacity_keys["service_line"].to_numpy()
    months = _thursday_months()
    nhs = weekly[:, :, 0] * kept[cap_idx]
    capacity = capacity_units * kept
    factor = np.ones((len(lines), N_WEEKS))
    for line in SERVICE_LINES:
        rows = lines == line
        groups = (
            [(months == m, t) for m, t in DAY_CASE_MONTHLY_TARGET.items()]
            if line == "day_case"
            else [(np.ones(N_WEEKS, dtype=bool), LINE_UTILISATION_TARGET[line])]
        )
        for weeks, target in groups:
            used = nhs[rows[cap_idx]][:, weeks].sum()
            offered = capacity[rows][:, weeks].sum()
            factor[np.ix_(rows, weeks)] = target * offered / used
    out = weekly.copy()
    out[:, :, 0] *= factor[cap_idx]
    return out


def _demand_frame(
    rng: np.random.Generator,
    world: _World,
    weekly: np.ndarray,
    capacity_units: np.ndarray,
    active: np.ndarray,
) -> pl.DataFrame:
    """demand.csv: per region × service line × week, the patients waiting (a multiple of the
    region's planned capacity, growing week by week) and the referrals offered to the
    independent sector (the NHS work each site was sent: its expected NHS units ÷ what it could
    deliver, while its contract ran)."""
    keys = world.activity_keys
    cap_idx = keys["cap_idx"].to_numpy()
    delivered_share = keys["delivery_ability"].to_numpy()[:, None] * _ramp(keys)
    offered = weekly[:, :, 0] / delivered_share * active[cap_idx]
    cap = world.capacity_keys.select("region", "service_line")

    def long(frame: pl.DataFrame, values: np.ndarray) -> pl.DataFrame:
        """(key, week) values as rows: the key's columns, week_start and v."""
        return frame.select(
            pl.all().gather(np.repeat(np.arange(frame.height), N_WEEKS))
        ).with_columns(
            week_start=pl.Series(
                np.tile(np.array(WEEK_STARTS), frame.height).tolist(), dtype=pl.Date
            ),
            v=pl.Series(values.astype(np.float64).ravel()),
        )

    long_offered = long(cap[cap_idx], offered)
    long_capacity = long(cap, capacity_units)
    grain = ["region", "service_line", "week_start"]
    referrals = long_offered.group_by(grain).agg(referrals=pl.col("v").sum())
    capacity = long_capacity.group_by(grain).agg(capacity=pl.col("v").sum())
    per_unit = dict(
        zip(REGIONS, rng.uniform(*WAITING_PER_CAPACITY_UNIT, size=len(REGIONS)), strict=True)
    )
    growth = {w: 1 + WAITING_GROWTH_PER_WEEK * i for i, w in enumerate(WEEK_STARTS)}
    return (
        capacity.join(referrals, on=grain, how="left")
        .with_columns(
            activity_type=pl.lit(None, pl.String),
            patients_waiting=(
                pl.col("capacity")
                * pl.col("region").replace_strict(per_unit, return_dtype=pl.Float64)
                * pl.col("week_start").replace_strict(growth, return_dtype=pl.Float64)
            )
            .round(0)
            .cast(pl.Int64),
            referrals_offered=pl.col("referrals").fill_null(0.0).round(0).cast(pl.Int64),
        )
        .select(
            "region",
            "service_line",
            "activity_type",
            "week_start",
            "patients_waiting",
            "referrals_offered",
        )
        .sort(grain)
    )


def _answer_key(world: _World, weekly: np.ndarray, active: np.ndarray) -> pl.DataFrame:
    """answer_key.csv: each provider's hidden traits and what should have been done."""
    keys = world.activity_keys
    live = active[keys["cap_idx"].to_numpy()]
    work = (
        pl.DataFrame(
            {
                "provider_code": keys["provider_code"],
                "nhs": (weekly[:, :, 0] * live).sum(axis=1),
                "private": (weekly[:, :, 1] * live).sum(axis=1),
            }
        )
        .group_by("provider_code")
        .agg(pl.col("nhs").sum(), pl.col("private").sum())
    )
    truth = pl.DataFrame(
        [(r, *t) for r, t in ROLE_TRUTH.items()],
        schema=["role", "confounder", "true_action", "release_reason"],
        orient="row",
    )
    return (
        world.providers.join(work, on="provider_code", how="left")
        .join(truth, on="role", how="left")
        .select(
            "provider_code",
            pl.col("delivery_ability").round(3),
            pl.col("price_ratio").round(3),
            pl.col("referral_propensity").round(3),
            private_share=(pl.col("private") / (pl.col("private") + pl.col("nhs"))).round(3),
            confounder="confounder",
            true_action="true_action",
            released="released",
            released_date="removed_date",
            release_reason=pl.when(pl.col("released")).then("release_reason"),
        )
        .sort("provider_code")
    )


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
    """One contract per provider, valued at its planned capacity at unit prices × its price
    ratio (what it charged against the reference price).

    The value uses the full planned period, so a released provider keeps its contract value.
    """
    weekly_value = capacity_keys.select(
        "provider_code", value=pl.Series(units.mean(axis=1)) * pl.col("price")
    )
    value = weekly_value.group_by("provider_code").agg(pl.col("value").sum() * WEEKS_PER_MONTH)
    removed = pl.col("removed_date").is_not_null()
    reasons = {role: truth[2] for role, truth in ROLE_TRUTH.items()}
    return providers.join(value, on="provider_code", how="left", maintain_order="left").select(
        contract_id=pl.lit("C-2020-") + pl.col("provider_code"),
        provider_code="provider_code",
        start_date=pl.lit(CONTRACT_START),
        end_date=pl.lit(CONTRACT_END),
        monthly_value_gbp=(pl.col("value") * pl.col("price_ratio")).round(0).cast(pl.Int64),
        status=pl.when(removed).then(pl.lit("removed")).otherwise(pl.lit("active")),
        removed_date="removed_date",
        removal_reason=pl.when(removed).then(
            pl.col("role").replace_strict(reasons, return_dtype=pl.String)
        ),
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
    active = _week_active(world.capacity_keys["removed_date"])
    kept = active & _reported(rng, world.providers, world.capacity_keys)
    reference = world.providers.select("provider_code", "provider_name", "group", "region")
    contracts = _contracts_frame(world.providers, world.capacity_keys, capacity_units)
    files = [
        _write(reference, out_dir / "providers.csv"),
        _write(world.sites.drop("size"), out_dir / "sites.csv"),
        _write(contracts, out_dir / "contracts.csv"),
        _write(_unit_prices_frame(), out_dir / "unit_prices.csv"),
        _write(
            _capacity_frame(world.capacity_keys, capacity_units, kept), out_dir / "capacity.csv"
        ),
    ]
    weekly = _calibrate(
        world, _weekly_expected(rng, world, capacity_units, scale), capacity_units, kept
    )
    files.append(
        _write(_demand_frame(rng, world, weekly, capacity_units, active), out_dir / "demand.csv")
    )
    files.append(_write(_answer_key(world, weekly, active), out_dir / "answer_key.csv"))
    # A site that sent no returns for a week has no activity rows for it (absent, not zero).
    weekly *= kept[world.activity_keys["cap_idx"].to_numpy()][:, :, None]
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
