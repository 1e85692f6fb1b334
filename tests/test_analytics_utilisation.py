"""The dashboard's analytics against hand-worked figures (tiny dataset) and against plain SQL
over the documented views (small synthetic dataset)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from capwatch.analytics import dashboard, reference
from capwatch.analytics import utilisation as u
from capwatch.analytics.filters import Filters
from capwatch.db import Database
from tests import hand_worked

ALL = Filters()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Database:
    db = Database(hand_worked.build(tmp_path_factory.mktemp("tiny")))
    yield db
    db.close()


@pytest.fixture(scope="module")
def synth(synthetic_db: Path) -> Database:
    db = Database(synthetic_db)
    yield db
    db.close()


# --- hand-worked figures on the tiny dataset ---------------------------------------------


def test_headline_matches_hand_worked_totals(tiny: Database) -> None:
    h = u.headline(tiny, ALL)
    for name, expected in hand_worked.EXPECTED.items():
        assert getattr(h, name) == pytest.approx(expected), name
    assert h.utilisation == pytest.approx(72 / 188)
    assert h.unused_share == pytest.approx(34_300 / 51_200)
    assert h.private_share == pytest.approx(14 / (72 + 14))


def test_region_filter_uses_site_region_and_provider_region_for_contracts(tiny: Database) -> None:
    h = u.headline(tiny, Filters(regions=("London",)))
    # Only NA101 is in London (NA102, also NA1's, is in the South East).
    assert (h.capacity_units, h.nhs_units, h.private_units) == (60, 27, 7)
    # NA1 is a London provider: its whole contract counts (not split by site).
    assert h.contract_value_gbp == pytest.approx(28 * 120)


def test_group_and_period_filters(tiny: Database) -> None:
    beta = u.headline(tiny, Filters(groups=("Beta Group",)))
    assert (beta.capacity_units, beta.nhs_units) == (48, 27)
    assert beta.contract_value_gbp == pytest.approx(28 * 240 + 17 * 60)
    two_weeks = u.headline(tiny, Filters(week_from=date(2020, 6, 8), week_to=date(2020, 6, 15)))
    assert (two_weeks.capacity_units, two_weeks.nhs_units) == (94, 22)
    # C1 2 weeks × £840, C2 2 × £1,680, C3 7 days + 3 days (removed on Thursday 18th) × £60
    assert two_weeks.contract_value_gbp == pytest.approx(1680 + 3360 + 600)


def test_service_line_filter_leaves_contract_value_whole(tiny: Database) -> None:
    h = u.headline(tiny, Filters(service_lines=("outpatients",)))
    assert (h.capacity_units, h.nhs_units, h.unused_capacity_cost_gbp) == (80, 18, 3100)
    assert h.contract_value_gbp == pytest.approx(hand_worked.EXPECTED["contract_value_gbp"])


def test_providers_ranked_both_ways(tiny: Database) -> None:
    by_util = u.providers_ranked(tiny, ALL, "utilisation")
    assert by_util["provider_code"].to_list() == ["NB2", "NA1", "NB1"]
    assert by_util["rank"].to_list() == [1, 2, 3]
    assert by_util["utilisation"].to_list() == pytest.approx([3 / 16, 45 / 140, 24 / 32])
    assert by_util["provider_name"].to_list()[0] == "Beta Care, Leeds"
    by_cost = u.providers_ranked(tiny, ALL, "unused cost")
    assert by_cost["provider_code"].to_list() == ["NA1", "NB2", "NB1"]
    assert by_cost["unused_capacity_cost_gbp"].to_list() == pytest.approx([20_100, 13_000, 1_200])
    assert by_cost["contract_value_gbp"].to_list() == pytest.approx([3360, 1020, 6720])


def test_activity_types_split_typed_and_whole_line_capacity(tiny: Database) -> None:
    types = u.activity_types(tiny, ALL)
    mri = types.filter(pl.col("activity_type") == "mri").row(0, named=True)
    assert (mri["capacity_units"], mri["nhs_units"], mri["utilisation"]) == (40, 20, 0.5)
    ct = types.filter(pl.col("activity_type") == "ct").row(0, named=True)
    assert (ct["nhs_units"], ct["private_units"], ct["capacity_units"]) == (24, 5, None)
    whole_diag = types.filter(
        (pl.col("service_line") == "diagnostics") & (pl.col("activity_type") == "")
    ).row(0, named=True)
    # NB101's ct activity meets its whole-line capacity: 12 + 4 + 8 against 32 units.
    assert whole_diag["nhs_units_meeting_capacity"] == 24
    assert whole_diag["unused_capacity_cost_gbp"] == pytest.approx(1200)


def test_overview_previous_period_only_when_wholly_loaded(tiny: Database) -> None:
    late = dashboard.overview(tiny, Filters(week_from=date(2020, 6, 15), week_to=date(2020, 6, 22)))
    assert late.previous is not None
    assert (late.previous.capacity_units, late.previous.nhs_units) == (94, 50)
    assert (late.headline.capacity_units, late.headline.nhs_units) == (94, 22)
    early = dashboard.overview(tiny, Filters(week_from=date(2020, 6, 8), week_to=date(2020, 6, 15)))
    assert early.previous is None  # 25 May is before the first loaded week


def test_overview_trend_and_worst_providers(tiny: Database) -> None:
    o = dashboard.overview(tiny, Filters(week_from=date(2020, 6, 1), week_to=date(2020, 6, 22)))
    total = o.trend.filter(pl.col("service_line") == "all").sort("week_start")
    assert total["nhs_units"].to_list() == [32, 18, 4, 18]
    assert total["utilisation"].to_list() == pytest.approx([32 / 47, 18 / 47, 4 / 47, 18 / 47])
    assert o.worst_providers["provider_code"].to_list() == ["NA1", "NB2", "NB1"]


def test_provider_profile(tiny: Database) -> None:
    # A region filter is ignored by the profile: it shows the whole provider.
    p = dashboard.provider_profile(tiny, Filters(regions=("North West",)), "NA1")
    assert (p.provider_name, p.group, p.region) == ("Alpha Health", "Alpha Group", "London")
    assert (p.headline.capacity_units, p.headline.nhs_units) == (140, 45)
    assert p.contracts["contract_id"].to_list() == ["C1"]
    assert p.contracts["contract_value_in_period_gbp"].to_list() == pytest.approx([3360])
    assert p.sites["site_code"].to_list() == ["NA101", "NA102"]
    assert p.sites["capacity_units"].to_list() == [60, 80]
    assert (p.rank, p.peers) == (2, 3)
    lines = dict(zip(p.service_lines["service_line"], p.service_lines["nhs_units"], strict=True))
    assert lines == {"day_case": 7, "diagnostics": 20, "outpatients": 18}
    assert not dashboard.provider_profile(tiny, ALL, "NOPE").exists


def test_regions_private_share(tiny: Database) -> None:
    r = dashboard.regions(tiny, ALL).regions
    london = r.filter(pl.col("region") == "London").row(0, named=True)
    assert (london["capacity_units"], london["nhs_units"], london["private_units"]) == (60, 27, 7)
    assert london["private_share"] == pytest.approx(7 / 34)
    assert r.height == 4


def test_reference_options_and_data_page(tiny: Database) -> None:
    opts = reference.filter_options(tiny)
    assert opts.weeks == tuple(date(2020, 6, d) for d in (1, 8, 15, 22))
    assert opts.service_lines == ("diagnostics", "day_case", "outpatients")
    assert opts.groups == ("Alpha Group", "Beta Group")
    view = dashboard.data(tiny)
    assert view.load_log.height == 6
    assert not view.synthetic
    checks = dict(zip(view.quality_summary["check_name"], view.quality_summary["findings"],
                      strict=True))  # fmt: skip
    assert checks == {"nhs_above_capacity": 1}  # NB101 week 1: 12 NHS units on 8 of capacity
    assert set(view.templates["table_name"]) >= {"providers", "capacity", "activity"}


def test_unknown_dimension_is_refused(tiny: Database) -> None:
    with pytest.raises(ValueError, match="cannot break figures down"):
        u.weekly(tiny, ALL, ["week_start; DROP TABLE x"])


# --- the synthetic dataset against plain SQL over the documented views ---------------------


def _sql_totals(db: Database, where: str, params: list) -> dict:
    return db.query(
        "SELECT CAST(sum(capacity_units) AS BIGINT) AS c, CAST(sum(nhs_units) AS BIGINT) AS n, "
        "CAST(sum(private_units) AS BIGINT) AS p, CAST(sum(unused_capacity_cost_gbp) AS DOUBLE) "
        "AS x, CAST(sum(capacity_value_gbp) AS DOUBLE) AS v "
        f"FROM utilisation_weekly WHERE {where}",
        params,
    ).row(0, named=True)


def test_synthetic_headline_equals_sql(synth: Database) -> None:
    f = Filters(week_from=date(2020, 7, 6), week_to=date(2020, 8, 31), regions=("London",))
    h = u.headline(synth, f)
    sql = _sql_totals(
        synth,
        "week_start BETWEEN ? AND ? AND region = 'London'",
        [date(2020, 7, 6), date(2020, 8, 31)],
    )
    assert (h.capacity_units, h.nhs_units, h.private_units) == (sql["c"], sql["n"], sql["p"])
    assert h.unused_capacity_cost_gbp == pytest.approx(sql["x"])
    assert h.utilisation == pytest.approx(sql["n"] / sql["c"])
    contract = synth.scalar(
        "SELECT sum(contract_value_gbp) FROM contract_weekly WHERE week_start BETWEEN ? AND ? "
        "AND provider_code IN (SELECT provider_code FROM providers WHERE region = 'London')",
        [date(2020, 7, 6), date(2020, 8, 31)],
    )
    assert h.contract_value_gbp == pytest.approx(contract)


def test_synthetic_provider_figures_equal_sql(synth: Database) -> None:
    ours = (
        u.providers_ranked(synth, ALL, "utilisation")
        .select("provider_code", "capacity_units", "nhs_units", "utilisation")
        .sort("provider_code")
    )
    theirs = synth.query(
        "SELECT provider_code, CAST(sum(capacity_units) AS BIGINT) AS capacity_units, "
        "CAST(sum(nhs_units) AS BIGINT) AS nhs_units, "
        "sum(nhs_units) / sum(capacity_units) AS utilisation "
        "FROM utilisation_provider GROUP BY provider_code ORDER BY provider_code"
    )
    assert_frame_equal(ours, theirs, check_dtypes=False)
    # rank 1 is the lowest utilisation
    ranked = u.providers_ranked(synth, ALL, "utilisation")["utilisation"].to_list()
    assert ranked == sorted(ranked)


def test_synthetic_breakdowns_add_up(synth: Database) -> None:
    f = Filters(week_from=date(2020, 6, 1), week_to=date(2020, 9, 21))
    total = u.headline(synth, f)
    lines = dashboard.service_lines(synth, f).lines
    regions = dashboard.regions(synth, f).regions
    for frame in (lines, regions):
        assert frame["capacity_units"].sum() == total.capacity_units
        assert frame["unused_capacity_cost_gbp"].sum() == pytest.approx(
            total.unused_capacity_cost_gbp
        )
    # utilisation is a ratio of sums, not a mean of the lines' ratios
    assert total.utilisation == pytest.approx(
        lines["nhs_units"].sum() / lines["capacity_units"].sum()
    )
    assert reference.is_synthetic(synth)


def test_filters_narrow_the_figures(synth: Database) -> None:
    base = Filters(week_from=date(2020, 6, 1), week_to=date(2020, 9, 21))
    everything = u.headline(synth, base)
    one_line = u.headline(synth, replace(base, service_lines=("diagnostics",)))
    diag_sql = _sql_totals(
        synth, "service_line = 'diagnostics' AND week_start BETWEEN ? AND ?",
        [base.week_from, base.week_to],
    )  # fmt: skip
    assert one_line.capacity_units == diag_sql["c"] < everything.capacity_units
    assert one_line.contract_value_gbp == pytest.approx(everything.contract_value_gbp)
