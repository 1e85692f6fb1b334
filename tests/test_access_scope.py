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
