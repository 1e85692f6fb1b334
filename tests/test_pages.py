"""Every dashboard page through Streamlit's own test harness (`AppTest`), on the tiny dataset
whose figures are worked out by hand and on plain SQL over the documented views."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from capwatch import config
from capwatch.analytics.filters import Filters
from capwatch.analytics.flags import compute_flags
from capwatch.db import Database
from capwatch.synthetic import expected_good_providers, expected_poor_providers
from capwatch.ui import format
from capwatch.ui.pages import PAGES as REGISTRY
from capwatch.ui.scripts import page_file
from tests import hand_worked
from tests.app_support import assert_ok, open_app
from tests.conftest import SYNTHETIC_SEED

ROOT = Path(__file__).resolve().parent.parent
PAGES = [page_file(p.name) for p in REGISTRY]  # every page of the registry


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hand_worked.build(tmp_path_factory.mktemp("pages"))


@pytest.fixture
def db_env(tiny_path: Path) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(config.DB_ENV_VAR, str(tiny_path))
        yield tiny_path


_app = open_app
_ok = assert_ok


def _url(at: AppTest, key: str) -> list[str]:
    """A query parameter's values as the app left them (AppTest keeps one value as a str)."""
    value = at.query_params.get(key, [])
    return [value] if isinstance(value, str) else list(value)


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _sql(db_path: Path, sql: str, params: list | None = None) -> dict:
    db = Database(db_path)
    try:
        return db.query(sql, params).row(0, named=True)
    finally:
        db.close()


TOTALS_SQL = (
    "SELECT CAST(sum(capacity_units) AS BIGINT) AS c, CAST(sum(nhs_units) AS BIGINT) AS n, "
    "CAST(sum(private_units) AS BIGINT) AS p, "
    "CAST(sum(unused_capacity_cost_gbp) AS DOUBLE) AS x, "
    "CAST(sum(capacity_value_gbp) AS DOUBLE) AS v FROM utilisation_weekly WHERE {where}"
)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(db_env: Path, page: str) -> None:
    at = _app(page)
    _ok(at)
    assert at.title, "every page has a title"


def test_overview_headline_equals_sql(db_env: Path) -> None:
    at = _app()
    _ok(at)
    sql = _sql(db_env, TOTALS_SQL.format(where="TRUE"))
    contract = _sql(db_env, "SELECT sum(contract_value_gbp) AS v FROM contract_weekly")["v"]
    shown = _metrics(at)
    assert shown["Capacity contracted"] == f"{format.units(sql['c'])} units" == "188 units"
    assert shown["NHS units used"] == format.units(sql["n"]) == "72"
    assert shown["Utilisation"] == format.pct(sql["n"] / sql["c"]) == "38.3%"
    # tiles are compact money (house style): £34,300 → £34.3k, £11,100 → £11.1k
    assert shown["Unused capacity cost"] == format.gbp_compact(sql["x"]) == "£34.3k"
    assert shown["Contract value"] == format.gbp_compact(contract) == "£11.1k"
    assert shown["Private units at contracted sites"] == format.units(sql["p"])
    sentence = " ".join(m.value for m in at.markdown)
    assert f"Of {format.gbp_compact(sql['v'])} of capacity contracted" in sentence
    unused = f"{format.gbp_compact(sql['x'])} went unused ({format.pct(sql['x'] / sql['v'])})"
    assert unused in sentence


def test_filters_in_the_url_change_the_figures(db_env: Path) -> None:
    at = _app(region="London", **{"from": "2020-06-08"})
    _ok(at)
    sql = _sql(
        db_env,
        TOTALS_SQL.format(where="region = 'London' AND week_start >= DATE '2020-06-08'"),
    )
    shown = _metrics(at)
    assert shown["Capacity contracted"] == f"{format.units(sql['c'])} units" == "45 units"
    assert shown["NHS units used"] == format.units(sql["n"])
    assert _url(at, "region") == ["London"]
    assert _url(at, "from") == ["2020-06-08"]


def test_sidebar_filter_updates_figures_and_url(db_env: Path) -> None:
    at = _app()
    assert at.sidebar.multiselect(key="cw_lines").value == []
    at.multiselect(key="cw_lines").set_value(["outpatients"]).run()
    _ok(at)
    assert _metrics(at)["Capacity contracted"] == "80 units"
    assert _url(at, "line") == ["outpatients"]
    # The filter persists onto another page.
    at.switch_page(page_file("service_lines")).run()
    _ok(at)
    assert [m.label for m in at.metric] == ["Outpatients"]


def test_bad_query_parameters_are_ignored_with_a_note(db_env: Path) -> None:
    at = _app(region="Atlantis,London", provider="ZZ9", to="not-a-date", **{"from": "2019-01-07"})
    _ok(at)
    note = " ".join(w.value for w in at.warning)
    for named in ("Atlantis", "ZZ9", "not-a-date", "2019-01-07"):
        assert named in note
    sql = _sql(db_env, TOTALS_SQL.format(where="region = 'London'"))
    assert _metrics(at)["Capacity contracted"] == f"{format.units(sql['c'])} units"
    assert _url(at, "region") == ["London"]
    assert _url(at, "provider") == []


def test_providers_page_ranks_like_sql(db_env: Path) -> None:
    at = _app(page_file("providers"))
    _ok(at)
    table = at.dataframe[0].value
    expected = Database(db_env).query(
        "SELECT provider_code, sum(nhs_units) / sum(capacity_units) AS u "
        "FROM utilisation_weekly GROUP BY provider_code ORDER BY u"
    )
    assert table["provider_code"].tolist() == expected["provider_code"].to_list()
    # the table shows percentages as numbers × 100 with one decimal place (22.7%)
    shown_pct = [v / 100 for v in table["utilisation"]]
    assert shown_pct == pytest.approx(expected["u"].to_list())
    assert all(link.startswith("provider_profile?") for link in table["profile"])
    at.segmented_control(key="providers_order").set_value("unused_cost").run()
    _ok(at)
    assert at.dataframe[0].value["provider_code"].tolist() == ["NA1", "NB2", "NB1"]


def test_provider_profile_by_link(db_env: Path) -> None:
    at = _app(p="NB2")
    at.switch_page(page_file("provider_profile")).run()
    _ok(at)
    assert any("NB2 · Beta Care, Leeds" in h.value for h in at.header)
    sql = _sql(db_env, TOTALS_SQL.format(where="provider_code = 'NB2'"))
    shown = _metrics(at)
    assert shown["Capacity"] == format.units(sql["c"]) == "16"
    assert shown["Utilisation"] == format.pct(sql["n"] / sql["c"])
    assert "Ranked 1 of 3" in " ".join(c.value for c in at.caption)


def test_provider_profile_unknown_provider(db_env: Path) -> None:
    at = _app(p="XX1")
    at.switch_page(page_file("provider_profile")).run()
    _ok(at)
    assert any("Provider `XX1` not found or not in your area" in w.value for w in at.warning)
    assert not at.main.header and not at.metric and not at.dataframe  # nothing in its place
    assert at.selectbox(key="profile_provider").value is None  # another may be chosen
    at.selectbox(key="profile_provider").set_value("NB2").run()
    _ok(at)
    assert any("NB2 · Beta Care, Leeds" in h.value for h in at.header)


def _profile(db_path: Path, code: str) -> AppTest:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(config.DB_ENV_VAR, str(db_path))
        at = _app(p=code)
        at.switch_page(page_file("provider_profile")).run()
    _ok(at)
    assert any(h.value.startswith(f"{code} · ") for h in at.header)
    return at


def test_profile_of_a_provider_built_poor_shows_its_flags(synthetic_db: Path) -> None:
    code = sorted(expected_poor_providers(SYNTHETIC_SEED))[0]
    at = _profile(synthetic_db, code)
    table = next(d.value for d in at.dataframe if "rule_title" in d.value.columns)
    assert "Low utilisation" in set(table["rule_title"])  # built under-used, then released
    assert set(table["provider_code"]) == {code}  # its own flags, no one else's
    assert table["explanation"].iloc[0] in [m.value for m in at.markdown]  # first one explained
    assert not at.success


def test_profile_of_a_provider_built_good_shows_no_flags(synthetic_db: Path) -> None:
    # a good provider that no rule flags (at this small scale a 1-unit weekly line, or the
    # September fall in day case that SPC sees, can flag one built good)
    flagged = set(compute_flags(Database(synthetic_db), Filters())["provider_code"])
    code = next(c for c in sorted(expected_good_providers(SYNTHETIC_SEED)) if c not in flagged)
    at = _profile(synthetic_db, code)
    assert not any("rule_title" in d.value.columns for d in at.dataframe)
    assert any("No flags" in s.value for s in at.success)


def test_service_lines_page_equals_sql(db_env: Path) -> None:
    at = _app(page_file("service_lines"))
    _ok(at)
    expected = Database(db_env).query(
        "SELECT service_line, sum(nhs_units) / sum(capacity_units) AS u "
        "FROM utilisation_weekly GROUP BY service_line"
    )
    wanted = {format.line_label(s): format.pct(v) for s, v in expected.iter_rows()}
    assert _metrics(at) == wanted


def test_regions_page_equals_sql(db_env: Path) -> None:
    at = _app(page_file("regions"))
    _ok(at)
    table = at.dataframe[0].value
    expected = Database(db_env).query(
        "SELECT region, sum(private_units) / (sum(nhs_units) + sum(private_units)) AS s "
        "FROM utilisation_weekly GROUP BY region ORDER BY region"
    )
    assert table["region"].tolist() == expected["region"].to_list()
    shown_share = [v / 100 for v in table["private_share"]]  # shown × 100 (22.7%)
    assert shown_share == pytest.approx(expected["s"].to_list())


def test_data_page_shows_the_load_log(db_env: Path) -> None:
    at = _app(page_file("data"))
    _ok(at)
    files = Database(db_env).query("SELECT file_name FROM load_log")["file_name"].to_list()
    assert sorted(at.dataframe[0].value["file_name"].tolist()) == sorted(files)
    assert not any("Synthetic data" in m.value for m in at.markdown)


def test_synthetic_data_is_labelled(synthetic_db: Path) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(config.DB_ENV_VAR, str(synthetic_db))
        at = _app()
    _ok(at)
    assert any("Synthetic data — fictional providers" in m.value for m in at.markdown)


def test_missing_database_is_a_plain_message(tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(config.DB_ENV_VAR, str(tmp_path / "none.duckdb"))
        at = _app()
    assert not at.exception
    assert any("No data loaded yet" in e.value for e in at.error)
