"""Region scope holds in the analytics layer: a regional user's figures, rankings, flags and
filter options contain nothing from other regions, even when the filters name another
region's provider or region. Expected figures come from plain SQL over the documented views.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from capwatch.analytics import dashboard, reference
from capwatch.analytics.filters import Filters
from capwatch.analytics.flags.engine import compute_flags
from capwatch.db import Database

SCOPE = ("North West", "Midlands")


@pytest.fixture(scope="module")
def db(synthetic_db: Path) -> Database:
    return Database(synthetic_db)


@pytest.fixture(scope="module")
def mine(db: Database) -> set[str]:
    """Providers with a site in the user's regions (independent of the analytics layer)."""
    return set(
        db.query(
            "SELECT DISTINCT provider_code FROM sites WHERE region IN (SELECT unnest(?))",
            [list(SCOPE)],
        )["provider_code"].to_list()
    )


@pytest.fixture(scope="module")
def foreign(db: Database, mine: set[str]) -> str:
    """A London provider with capacity: the one a leaked link would name."""
    codes = db.query(
        "SELECT provider_code FROM utilisation_weekly WHERE region = 'London' "
        "GROUP BY ALL HAVING sum(capacity_units) > 0 ORDER BY provider_code"
    )["provider_code"].to_list()
    return next(c for c in codes if c not in mine)


@pytest.fixture(scope="module")
def scoped() -> Filters:
    return Filters(scope_regions=SCOPE)


def _sql_totals(db: Database, where: str = "TRUE", params: list | None = None) -> dict:
    return db.query(
        "SELECT coalesce(sum(capacity_units), 0) AS capacity_units, "
        "coalesce(sum(nhs_units), 0) AS nhs_units, "
        "coalesce(sum(unused_capacity_cost_gbp), 0) AS unused_capacity_cost_gbp "
        f"FROM utilisation_weekly WHERE region IN (SELECT unnest(?)) AND {where}",
        [list(SCOPE), *(params or [])],
    ).row(0, named=True)


def leaks(scoped: Filters, foreign: str) -> list[Filters]:
    """Filters a crafted or shared URL could produce: another region, another's provider."""
    return [
        replace(scoped, providers=(foreign,)),
        replace(scoped, regions=("London",)),
        replace(scoped, regions=("London",), providers=(foreign,)),
    ]


# -- figures ------------------------------------------------------------------------------------


def test_overview_headline_is_the_scoped_regions_only(db, scoped, mine) -> None:
    view = dashboard.overview(db, scoped)
    expected = _sql_totals(db)
    assert view.headline.capacity_units == expected["capacity_units"]
    assert view.headline.nhs_units == expected["nhs_units"]
    assert view.headline.unused_capacity_cost_gbp == pytest.approx(
        expected["unused_capacity_cost_gbp"]
    )
    national = db.scalar("SELECT sum(capacity_units) FROM utilisation_weekly")
    assert 0 < view.headline.capacity_units < national  # the scope really narrows
    expected_contract = db.scalar(
        "SELECT coalesce(sum(cw.contract_value_gbp), 0) FROM contract_weekly cw "
        "JOIN providers p USING (provider_code) WHERE p.region IN (SELECT unnest(?))",
        [list(SCOPE)],
    )
    assert view.headline.contract_value_gbp == pytest.approx(expected_contract)
    assert set(view.worst_providers["provider_code"].to_list()) <= mine
    trend_total = view.trend.filter(pl.col("service_line") == "all")["capacity_units"].sum()
    assert trend_total == expected["capacity_units"]


def test_providers_ranking_lists_only_the_scoped_providers(db, scoped, mine) -> None:
    ranked = dashboard.providers(db, scoped).ranked
    assert set(ranked["provider_code"].to_list()) == {
        c for c in mine if db.scalar(
            "SELECT count(*) FROM utilisation_weekly WHERE provider_code = ? "
            "AND region IN (SELECT unnest(?))", [c, list(SCOPE)],
        )
    }  # fmt: skip
    assert set(ranked["region"].to_list()) <= set(SCOPE)
    assert ranked["capacity_units"].sum() == _sql_totals(db)["capacity_units"]


def test_service_lines_and_activity_types_are_scoped(db, scoped) -> None:
    view = dashboard.service_lines(db, scoped)
    assert view.lines["capacity_units"].sum() == _sql_totals(db)["capacity_units"]
    expected_nhs = db.scalar(
        "SELECT sum(a.nhs_units) FROM activity_weekly a JOIN sites s USING (site_code) "
        "WHERE s.region IN (SELECT unnest(?))",
        [list(SCOPE)],
    )
    assert view.activity_types["nhs_units"].sum() == expected_nhs


def test_regions_view_shows_only_the_scoped_regions(db, scoped, mine) -> None:
    view = dashboard.regions(db, scoped)
    assert set(view.regions["region"].to_list()) == set(SCOPE)
    assert set(view.providers["provider_code"].to_list()) <= mine


def test_every_leak_attempt_returns_nothing(db, scoped, foreign) -> None:
    for filters in leaks(scoped, foreign):
        assert dashboard.overview(db, filters).headline.capacity_units == 0
        assert dashboard.overview(db, filters).headline.contract_value_gbp == 0
        assert dashboard.overview(db, filters).worst_providers.height == 0
        assert dashboard.providers(db, filters).ranked.height == 0
        assert dashboard.service_lines(db, filters).lines["capacity_units"].sum() == 0
        assert dashboard.service_lines(db, filters).activity_types["nhs_units"].sum() == 0
        assert dashboard.regions(db, filters).providers.height == 0
        assert compute_flags(db, filters).height == 0


def test_without_scope_the_same_leak_filters_do_show_data(db, foreign) -> None:
    """The leak tests above would catch a leak: unscoped, those filters find figures."""
    for filters in leaks(Filters(), foreign):
        assert dashboard.overview(db, filters).headline.capacity_units > 0
        assert dashboard.providers(db, filters).ranked.height > 0


# -- provider profile (a shared link: ?p=<code>) -------------------------------------------------


def test_profile_of_another_regions_provider_shows_nothing(db, scoped, foreign) -> None:
    profile = dashboard.provider_profile(db, scoped, foreign)
    assert not profile.exists  # no name, group or region of a provider the user may not see
    assert profile.headline.capacity_units == 0
    assert profile.sites.height == 0
    assert profile.contracts.height == 0
    assert profile.weekly.height == 0


def test_profile_of_an_own_provider_works_within_scope(db, scoped, mine) -> None:
    code = sorted(mine)[0]
    profile = dashboard.provider_profile(db, scoped, code)
    assert profile.exists
    expected = _sql_totals(db, "provider_code = ?", [code])
    assert profile.headline.capacity_units == expected["capacity_units"]
    assert set(profile.sites["region"].to_list()) <= set(SCOPE)
    assert profile.peers <= len(dashboard.providers(db, scoped).ranked)


# -- flags ---------------------------------------------------------------------------------------


def test_flags_name_only_scoped_providers_and_sites(db, scoped, mine) -> None:
    flags = compute_flags(db, scoped)
    assert flags.height > 0
    assert set(flags["provider_code"].drop_nulls().to_list()) <= mine
    sites = flags["site_code"].drop_nulls().to_list()
    if sites:
        regions = db.query(
            "SELECT DISTINCT region FROM sites WHERE site_code IN (SELECT unnest(?))", [sites]
        )["region"].to_list()
        assert set(regions) <= set(SCOPE)
    everyone = compute_flags(db, Filters())
    assert set(everyone["provider_code"].drop_nulls().to_list()) - mine  # others exist


# -- what the filters offer, and the Data page ---------------------------------------------------


def test_filter_options_offer_only_the_scoped_regions_and_providers(db, scoped, mine) -> None:
    options = reference.filter_options(db, scoped)
    assert set(options.regions) <= set(SCOPE)
    assert set(options.providers) <= mine
    assert set(options.provider_names) <= mine


def test_data_page_quality_findings_are_scoped(db, scoped, mine) -> None:
    view = dashboard.data(db, scoped)
    codes = set(view.quality_findings["provider_code"].drop_nulls().to_list())
    assert codes <= mine


def test_flag_evidence_funnel_shows_only_scoped_providers(db, scoped, mine) -> None:
    from capwatch.analytics.flags import evidence

    # what pages/flags.py → capwatch.ui.flags_view.evidence_figure asks for a funnel flag
    points, _ = evidence.funnel_data(db, scoped, "day_case")
    assert set(points["provider_code"].to_list()) <= mine


def test_funnel_verdicts_do_not_depend_on_who_looks(db, scoped, mine) -> None:
    """The funnel compares with the national rate for every user (the chart says so): a
    regional user's funnel flags are exactly the national user's flags on their providers,
    and the evidence's rate is the same national one."""
    from capwatch.analytics.flags import evidence

    # On this small data set only the funnel without over-dispersion flags providers in scope:
    # the released and demand-shortfall providers widen the spread so much that the
    # over-dispersed funnels (φ or τ² estimated from every provider in the country) flag none
    phi = {"funnel": {"overdispersion": "none"}}
    regional = compute_flags(db, scoped, rules=["funnel"], params=phi)
    national = compute_flags(db, Filters(), rules=["funnel"], params=phi)
    assert national.height > 0
    theirs = national.filter(pl.col("provider_code").is_in(list(mine))).sort("subject_code")
    regional = regional.sort("subject_code")
    assert regional.height > 0
    assert regional["subject_code"].to_list() == theirs["subject_code"].to_list()
    for column in ("value", "threshold", "money_at_stake_gbp"):
        assert regional[column].to_list() == pytest.approx(theirs[column].to_list())
    mine_points, _ = evidence.funnel_data(db, scoped, "day_case")
    all_points, _ = evidence.funnel_data(db, Filters(), "day_case")
    assert set(all_points["provider_code"].to_list()) - mine  # others exist, and are not shown
    assert mine_points["national_rate"][0] == pytest.approx(all_points["national_rate"][0])


def test_flag_evidence_of_another_regions_provider_is_empty(db, scoped, foreign) -> None:
    from capwatch.analytics.flags import evidence

    line = db.scalar(
        "SELECT service_line FROM utilisation_weekly WHERE provider_code = ? "
        "GROUP BY ALL ORDER BY sum(capacity_units) DESC LIMIT 1",
        [foreign],
    )
    for filters, empty in ((scoped, True), (Filters(), False)):  # unscoped: there is evidence
        spc = evidence.spc_chart_data(db, filters, foreign, line)
        weekly = evidence.weekly_against_threshold(db, filters, foreign, line)
        value = evidence.value_for_money_weekly(db, filters, foreign)
        assert spc.is_empty() is empty
        assert (weekly["capacity_units"].sum() == 0) is empty
        assert value.is_empty() is empty


# -- exact figures on the hand-made tiny dataset --------------------------------------------------
# NA1 (Alpha Health) is a London provider with one London site (NA101: 10 MRI + 5 day case a
# week) and one South East site (NA102: 20 outpatients a week); contract C1 is NA1's. NB1 is the
# North West provider (site NB101) whose first week is above capacity (a data-quality finding).


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Database:
    from tests import hand_worked

    return Database(hand_worked.build(tmp_path_factory.mktemp("scope_tiny")))


def test_a_provider_seen_through_one_of_its_sites(tiny) -> None:
    """A South East user sees NA1 (its site NA102 is there): that site's figures only, and no
    contracts, which belong to NA1's own region, London."""
    profile = dashboard.provider_profile(tiny, Filters(scope_regions=("South East",)), "NA1")
    assert (profile.provider_name, profile.region) == ("Alpha Health", "London")
    assert profile.sites["site_code"].to_list() == ["NA102"]
    assert profile.headline.capacity_units == 80  # 20 a week × 4 weeks
    assert profile.contracts.height == 0
    assert profile.headline.contract_value_gbp == 0
    assert (profile.rank, profile.peers) == (1, 1)
    london = dashboard.provider_profile(tiny, Filters(scope_regions=("London",)), "NA1")
    assert london.sites["site_code"].to_list() == ["NA101"]
    assert london.headline.capacity_units == 60  # 15 a week × 4 weeks
    assert london.contracts["contract_id"].to_list() == ["C1"]
    assert london.contracts["contract_value_in_period_gbp"].to_list() == pytest.approx([3360])


def test_a_provider_out_of_scope_looks_exactly_like_an_unknown_one(tiny) -> None:
    south_east = Filters(scope_regions=("South East",))
    hidden = dashboard.provider_profile(tiny, south_east, "NB1")
    unknown = dashboard.provider_profile(tiny, south_east, "NB1X")
    for profile in (hidden, unknown):
        assert not profile.exists
        assert (profile.provider_name, profile.group, profile.region) == (None, None, None)
        assert profile.headline.capacity_units == profile.headline.nhs_units == 0
        assert profile.headline.contract_value_gbp == 0
        for frame in (profile.contracts, profile.sites, profile.weekly, profile.service_lines):
            assert frame.height == 0
        assert profile.activity_types.height == 0
        assert profile.rank is None
    assert hidden.peers == unknown.peers == 1


def test_filter_options_follow_the_sites(tiny) -> None:
    options = reference.filter_options(tiny, Filters(scope_regions=("South East",)))
    assert options.regions == ("South East",)
    assert options.providers == ("NA1",)
    assert options.provider_names == {"NA1": "Alpha Health"}
    assert options.groups == ("Alpha Group",)
    assert options.service_lines == ("outpatients",)
    assert len(options.weeks) == 4
    everything = reference.filter_options(tiny)
    assert everything.providers == ("NA1", "NB1", "NB2")
    assert len(everything.regions) == 4


def test_data_view_is_scoped_and_keeps_the_load_log_national(tiny) -> None:
    north_west = dashboard.data(tiny, Filters(scope_regions=("North West",)))
    assert north_west.load_log is None
    assert north_west.last_loaded is not None
    assert north_west.quality_findings["site_code"].to_list() == ["NB101"]
    assert north_west.quality_summary["findings"].to_list() == [1]
    cov = north_west.coverage
    assert (cov.providers, cov.sites, cov.contracts) == (1, 1, 1)
    assert cov.capacity_rows == 4  # NB101 diagnostics, four weeks
    expected_days = tiny.scalar("SELECT count(*) FROM activity_daily WHERE site_code = 'NB101'")
    assert cov.activity_days == expected_days
    south_east = dashboard.data(tiny, Filters(scope_regions=("South East",)))
    assert south_east.quality_findings.height == 0
    assert (south_east.coverage.providers, south_east.coverage.contracts) == (1, 0)
    national = dashboard.data(tiny, Filters(week_from=None, regions=("London",)))
    assert national.load_log is not None and national.load_log.height == 6  # filters ignored
    assert national.quality_findings.height == 1
