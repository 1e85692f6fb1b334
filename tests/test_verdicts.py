"""Verdicts on constructed contracts: each verdict where it must and must not be given.

Every case is one provider with one site (unless said), 4 complete weeks (1–22 Jun 2020),
capacity worth £10,000 a week at reference prices, and a contract worth £10,000 a week
(price ratio 1.0) unless said. Window 4 weeks, at least 2 with data, materiality £10,000 a
month. Figures worked by hand:
- monthly value for £10,000 a week: 10,000 × 365 / 7 / 12 = £43,452.38;
- NHS work of £1,000 a week a month: 1,000 × 365 / 7 / 12 = £4,345.24, so the saving if
  released is 43,452.38 − 4,345.24 = £39,107.14 and use is 4,000 / 40,000 = 10%;
- money at stake at week 4: 4 × 10,000 − 4 × 1,000 = £36,000.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from capwatch.analytics.filters import Filters
from capwatch.analytics.verdicts import (
    VERDICTS,
    AsOfError,
    VerdictParamError,
    verdicts,
    verdicts_from,
)
from capwatch.analytics.verdicts.data import (
    CONTRACT_SCHEMA,
    CONTRACT_WEEKLY_SCHEMA,
    DEMAND_WEEKLY_SCHEMA,
    PROVIDER_WEEKLY_SCHEMA,
    VerdictInputs,
)
from capwatch.analytics.verdicts.params import describe, resolve
from capwatch.db import Database

WEEKS = tuple(date(2020, 6, 1) + timedelta(weeks=i) for i in range(4))
MONTHLY = 10_000 * 365 / 7 / 12  # £43,452.38
PARAMS = {"window_weeks": 4, "min_weeks": 2, "material_gbp_month": 10_000}


def provider(
    code: str,
    nhs: list[float] | float,
    *,
    region: str = "North",
    price: float = 1.0,
    private: float = 0.0,
    sites: int = 1,
    reporting: list[int] | None = None,
    monthly: float | None = None,
    removed: date | None = None,
) -> dict[str, object]:
    values = nhs if isinstance(nhs, list) else [nhs] * len(WEEKS)
    return {
        "code": code,
        "nhs": values,
        "region": region,
        "price": price,
        "private": private,
        "sites": sites,
        "reporting": reporting or [sites] * len(WEEKS),
        "monthly": MONTHLY * price if monthly is None else monthly,
        "removed": removed,
    }


def inputs(*cases: dict[str, object], flat_peers: int = 6) -> VerdictInputs:
    """The cases plus `flat_peers` providers at 50% use (so the nation is steady)."""
    cases = cases + tuple(provider(f"PEER{i}", 5_000.0) for i in range(flat_peers))
    contracts, weekly, value = [], [], []
    for c in cases:
        code = str(c["code"])
        contracts.append(
            {
                "contract_id": f"C-{code}",
                "provider_code": code,
                "provider_name": f"Provider {code}",
                "region": c["region"],
                "start_date": date(2020, 6, 1),
                "end_date": date(2020, 9, 30),
                "monthly_value_gbp": c["monthly"],
                "status": "removed" if c["removed"] else "active",
                "removed_date": c["removed"],
                "sites": c["sites"],
            }
        )
        for week, nhs, reporting in zip(WEEKS, c["nhs"], c["reporting"], strict=True):  # type: ignore[call-overload]
            weekly.append(
                {
                    "provider_code": code,
                    "week_start": week,
                    "capacity_value_gbp": 10_000.0 * reporting / c["sites"],
                    "nhs_value_gbp": nhs,
                    "capacity_units": 100.0,
                    "nhs_units": nhs / 100,
                    "private_units": float(c["private"]) * nhs / 100,  # type: ignore[arg-type]
                    "sites_reporting": reporting,
                }
            )
            value.append(
                {
                    "contract_id": f"C-{code}",
                    "week_start": week,
                    "contract_value_gbp": 10_000.0 * float(c["price"]),  # type: ignore[arg-type]
                }
            )
    demand = [
        {"region": r, "week_start": w, "patients_waiting": 1_000.0, "referrals_offered": ro}
        for w in WEEKS
        for r, ro in (("North", 100.0), ("South", 5.0))
    ]
    return VerdictInputs(
        WEEKS,
        pl.DataFrame(contracts, schema=CONTRACT_SCHEMA),
        pl.DataFrame(weekly, schema=PROVIDER_WEEKLY_SCHEMA),
        pl.DataFrame(value, schema=CONTRACT_WEEKLY_SCHEMA),
        pl.DataFrame(demand, schema=DEMAND_WEEKLY_SCHEMA),
    )


def verdict_of(code: str, *cases: dict[str, object], **params: float) -> dict[str, object]:
    frame = verdicts_from(inputs(*cases), params={**PARAMS, **params})
    rows = frame.filter(pl.col("provider_code") == code).to_dicts()
    assert len(rows) == 1
    return rows[0]


def test_release_low_use_with_its_money_worked_by_hand() -> None:
    r = verdict_of("A", provider("A", 1_000.0))
    assert r["verdict"] == "release"
    assert r["use"] == pytest.approx(0.10)
    assert r["monthly_value_gbp"] == pytest.approx(43_452.38, abs=0.01)
    assert r["saving_per_month_gbp"] == pytest.approx(39_107.14, abs=0.01)
    assert r["at_stake_gbp"] == pytest.approx(36_000.0)
    assert r["first_signal_week"] == date(2020, 6, 8)  # first week with 2 weeks of data
    assert "£39.1k a month" in str(r["sentence"]) and "10%" in str(r["sentence"])
    assert [x["rule"] for x in r["reasons"]] == ["low_use"]  # type: ignore[attr-defined]


def test_low_use_where_patients_wait_and_referrals_are_few_is_route_never_release() -> None:
    # South offers 5 referrals per 1,000 waiting; the nation (6 peers in North + South)
    # offers 105 per 2,000: 0.005 / 0.0525 = 9.5% of the national rate, under 50%.
    r = verdict_of("B", provider("B", 1_000.0, region="South"))
    assert r["verdict"] == "route"
    assert r["referral_gap"] == pytest.approx(0.005 / 0.0525)
    assert "South" in str(r["sentence"])
    # the same figures in a region referring normally are a release
    assert verdict_of("B", provider("B", 1_000.0, region="North"))["verdict"] == "release"


def test_missing_returns_are_not_enough_data_never_release() -> None:
    # two sites; one sends nothing in week 2: capacity and activity absent, not zero use
    case = provider("C", 1_000.0, sites=2, reporting=[2, 1, 2, 2])
    r = verdict_of("C", case)
    assert r["verdict"] == "not_enough_data"
    assert r["missing_site_weeks"] == 1
    assert r["first_signal_week"] is None
    # once the gap is out of the window (weeks 3-4) it is a release again
    assert verdict_of("C", case, window_weeks=2)["verdict"] == "release"


def test_too_few_weeks_is_not_enough_data() -> None:
    frame = verdicts_from(inputs(provider("A", 1_000.0)), as_of=WEEKS[0], params=PARAMS)
    assert set(frame["verdict"]) == {"not_enough_data"}


def test_challenge_between_the_release_and_challenge_lines() -> None:
    r = verdict_of("D", provider("D", 2_000.0))  # 20%: under 25%, not under 15%
    assert r["verdict"] == "challenge"
    assert r["use"] == pytest.approx(0.20)
    # the saving: 43,452.38 − 2,000 × 365 / 7 / 12 = 43,452.38 − 8,690.48
    assert r["saving_per_month_gbp"] == pytest.approx(34_761.90, abs=0.01)
    assert verdict_of("D", provider("D", 2_600.0))["verdict"] == "keep"  # 26%


def test_private_work_beside_low_use_is_challenged_not_released() -> None:
    r = verdict_of("P", provider("P", 1_000.0, private=2.0))  # 2 private units per NHS unit
    assert r["verdict"] == "challenge"
    assert "private work" in str(r["sentence"])
    assert verdict_of("P", provider("P", 1_000.0, private=1.0))["verdict"] == "release"


def test_price_far_above_reference_is_released_at_moderate_use() -> None:
    # 40% used, but the contract costs 2.5 × its capacity at reference prices
    r = verdict_of("F", provider("F", 4_000.0, price=2.5))
    assert r["verdict"] == "release"
    assert r["price_ratio"] == pytest.approx(2.5)
    # saving: 2.5 × 43,452.38 − 4,000 × 365 / 7 / 12 = 108,630.95 − 17,380.95
    assert r["saving_per_month_gbp"] == pytest.approx(91_250.0, abs=0.01)
    assert verdict_of("F", provider("F", 4_000.0, price=1.9))["verdict"] == "keep"
    # low use at 1.6 × is released, not challenged (the dear low-use line is 1.5)
    assert verdict_of("F", provider("F", 2_000.0, price=1.6))["verdict"] == "release"


def test_a_slow_start_is_kept_but_a_flat_low_use_is_not() -> None:
    # weeks 1-2 at 5%, weeks 3-4 at 20%: use 12.5% (under 15%), rising 4× against a flat nation
    r = verdict_of("G", provider("G", [500.0, 500.0, 2_000.0, 2_000.0]))
    assert r["use"] == pytest.approx(0.125)
    assert r["verdict"] == "keep"
    assert "rising" in str(r["sentence"])
    assert verdict_of("G", provider("G", 1_250.0))["verdict"] == "release"  # 12.5%, flat


def test_immaterial_unused_money_is_kept() -> None:
    # a contract of £8,000 a month at 10% use saves under the £10,000 a month test
    r = verdict_of("H", provider("H", 1_000.0, monthly=8_000.0))
    assert r["verdict"] == "keep"
    assert r["saving_per_month_gbp"] == pytest.approx(8_000.0 - 4_345.24, abs=0.01)
    assert any(x["rule"] == "not_material" for x in r["reasons"])  # type: ignore[attr-defined]


def test_a_removed_contract_gets_no_verdict_after_its_removal() -> None:
    removed = provider("R", 1_000.0, removed=date(2020, 6, 17))  # a Wednesday of week 3
    frame = verdicts_from(inputs(removed), params=PARAMS)
    assert "R" not in frame["provider_code"].to_list()
    early = verdicts_from(inputs(removed), as_of=WEEKS[1], params=PARAMS)
    assert early.filter(pl.col("provider_code") == "R")["verdict"].to_list() == ["release"]
    # at stake stops at the removal: weeks after it carry neither value nor work
    assert float(early.filter(pl.col("provider_code") == "R")["at_stake_gbp"][0]) == 18_000.0


def test_money_at_stake_never_exceeds_the_contract_value_to_date() -> None:
    frame = verdicts_from(inputs(provider("Z", 0.0), provider("A", 1_000.0)), params=PARAMS)
    assert (frame["at_stake_gbp"] <= frame["contract_value_to_date_gbp"] + 1e-9).all()
    z = frame.filter(pl.col("provider_code") == "Z").row(0, named=True)
    assert z["at_stake_gbp"] == pytest.approx(40_000.0)  # nothing delivered: all of it


def test_stable_order_verdict_then_money_then_contract() -> None:
    frame = verdicts_from(
        inputs(
            provider("A", 1_000.0),
            provider("A2", 500.0),
            provider("B", 1_000.0, region="South"),
            provider("D", 2_000.0),
        ),
        params=PARAMS,
    )
    order = [VERDICTS.index(v) for v in frame["verdict"]]
    assert order == sorted(order)
    assert frame["provider_code"].to_list()[:4] == ["A2", "A", "D", "B"]


def test_bad_as_of_and_parameters_are_clear_errors() -> None:
    with pytest.raises(AsOfError, match="outside the data"):
        verdicts_from(inputs(), as_of=date(2021, 1, 4))
    with pytest.raises(VerdictParamError, match="unknown verdict parameter"):
        resolve({"nope": 1})
    with pytest.raises(VerdictParamError, match="between"):
        resolve({"release_below": 2})
    with pytest.raises(VerdictParamError, match="release_below"):
        resolve({"release_below": 0.3, "challenge_below": 0.2})
    assert "`release_below`" in describe()


def test_no_data_gives_no_rows() -> None:
    empty = VerdictInputs(
        (),
        pl.DataFrame(schema=CONTRACT_SCHEMA),
        pl.DataFrame(schema=PROVIDER_WEEKLY_SCHEMA),
        pl.DataFrame(schema=CONTRACT_WEEKLY_SCHEMA),
        pl.DataFrame(schema=DEMAND_WEEKLY_SCHEMA),
    )
    assert verdicts_from(empty).is_empty()


def test_a_verdict_does_not_depend_on_who_is_looking(synthetic_db: Path) -> None:
    db = Database(synthetic_db)
    national = verdicts(db, Filters())
    assert national.height > 0
    regions = sorted(set(national["region"].drop_nulls()))
    for scope in (
        Filters(scope_regions=(regions[0],)),
        Filters(regions=(regions[-1],), service_lines=("day_case",)),
        Filters(week_from=date(2020, 7, 6), week_to=date(2020, 7, 27)),
    ):
        shown = verdicts(db, scope)
        if scope.week_from is None:
            assert set(shown["region"]) <= set(scope.scope_regions or scope.regions)
        same = national.join(shown, on="contract_id", how="semi")
        assert shown.drop("reasons").equals(same.drop("reasons"))
    # every active contract is shown once, nationally
    active = db.scalar(
        "SELECT count(*) FROM contracts WHERE removed_date IS NULL OR removed_date > ?",
        [national["as_of_week"][0] + timedelta(days=6)],
    )
    assert national.height == active


def test_the_docs_parameter_table_is_the_parameters_own() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "verdicts.md").read_text("utf-8")
    block = text.split("<!-- params:start -->\n")[1].split("<!-- params:end -->")[0]
    assert block.strip() == describe().strip(), "refresh docs/verdicts.md from describe()"


def _verdict_rows(*rows: tuple[str, str, int | None]) -> pl.DataFrame:
    """(verdict, region, patients waiting) rows; every release saves £1,000 a month."""
    return pl.DataFrame(
        {
            "verdict": [r[0] for r in rows],
            "region": [r[1] for r in rows],
            "patients_waiting": [r[2] for r in rows],
            "saving_per_month_gbp": [1000.0 if r[0] == "release" else 0.0 for r in rows],
        },
        schema_overrides={"patients_waiting": pl.Int64},
    )


def test_the_headline_is_one_clean_sentence_for_one_and_many() -> None:
    from capwatch.analytics.verdicts import headline

    one = _verdict_rows(("route", "London", 12000), ("keep", "London", None))
    assert headline(one) == (
        "Route work to 1 contract in London (12,000 patients waiting) and keep 1 contract."
    )
    many = _verdict_rows(
        ("release", "London", None),
        ("release", "London", None),
        ("challenge", "North", None),
        ("route", "South East", 5),
        ("route", "South East", 5),
        ("route", "London", 7),
        ("keep", "North", None),
        ("keep", "North", None),
    )
    assert headline(many) == (
        "Release 2 contracts (£2.0k a month), challenge 1 contract, route work to "
        "3 contracts across 2 regions (2 in South East, 1 in London) and keep 2 contracts."
    )
    assert headline(_verdict_rows(("keep", "North", None))) == "Keep the 1 active contract."
    assert headline(_verdict_rows(("keep", "North", None), ("keep", "London", None))) == (
        "Keep all 2 contracts."
    )
