"""The real app with a simulated signed-in user: scope reaches the pages, pages refuse."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from capwatch.db import Database
from capwatch.ui.scripts import ENTRY_SCRIPT, page_file

ROOT = Path(__file__).resolve().parent.parent
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-long-random-test-secret-value",
    "client_id": "capwatch",
    "client_secret": "secret",
    "server_metadata_url": "http://localhost:9/.well-known/openid-configuration",
}
NW = {"is_logged_in": True, "email": "nw@example.nhs.uk"}


@pytest.fixture(autouse=True)
def env(synthetic_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    access = tmp_path / "access.toml"
    access.write_text('[users]\n"nw@example.nhs.uk" = ["region:North West", "analyst"]\n')
    monkeypatch.setenv("CAPWATCH_DB", str(synthetic_db))
    monkeypatch.setenv("CAPWATCH_ACCESS", str(access))
    monkeypatch.setenv("CAPWATCH_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    yield synthetic_db


def _codes(db: Path, region: str | None) -> set[str]:
    where, params = ("WHERE region = ?", [region]) if region else ("", [])
    return set(
        Database(db).query(f"SELECT DISTINCT provider_code FROM utilisation_weekly {where}",
                           params)["provider_code"].to_list()
    )  # fmt: skip


def _with_a_site_in(db: Path, region: str) -> set[str]:
    return set(
        Database(db).query("SELECT DISTINCT provider_code FROM sites WHERE region = ?",
                           [region])["provider_code"].to_list()
    )  # fmt: skip


def _providers_page(**params: str) -> AppTest:
    at = AppTest.from_file(str(ENTRY_SCRIPT), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = NW
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page_file("providers")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _shown(at: AppTest) -> set[str]:
    frames = [d.value for d in at.dataframe if "provider_code" in d.value.columns]
    return {c for f in frames for c in f["provider_code"].tolist()}


def test_regional_user_sees_only_their_providers(env: Path) -> None:
    at = _providers_page()
    shown = _shown(at)
    assert shown and shown <= _codes(env, "North West")


def test_a_link_naming_another_regions_provider_shows_none_of_it(env: Path) -> None:
    """The sidebar offers only the user's regions and providers, so another region's values
    in the address are ignored as unknown (the same words as for a made-up code) and the user
    sees their own area."""
    london = sorted(_codes(env, "London") - _codes(env, "North West"))[0]
    at = AppTest.from_file(str(ENTRY_SCRIPT), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = NW
    at.query_params.update({"provider": london, "region": "London"})
    at.run()  # the address is read (and rewritten) on the first run
    ignored = " ".join(w.value for w in at.warning)
    assert f"unknown provider `{london}`" in ignored
    assert "unknown region `London`" in ignored
    at.switch_page(page_file("providers")).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = _shown(at)
    assert london not in shown
    assert shown and shown <= _codes(env, "North West")
    assert list(at.multiselect(key="cw_regions").options) == ["North West"]
    offered = {o.split(" · ")[0] for o in at.multiselect(key="cw_providers").options}
    assert offered == _with_a_site_in(env, "North West")


def test_regional_analyst_is_refused_sql() -> None:
    at = AppTest.from_file(str(ROOT / "pages" / "sql.py"), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = NW
    at.run()
    assert not at.exception
    assert any("not available" in e.value for e in at.error)
    assert len(at.dataframe) == 0


def test_regional_user_sees_their_areas_data_page_without_the_load_log(env: Path) -> None:
    """The Data page is open to regional users: coverage and data-quality findings of their
    region only; the list of files loaded (names, paths, warnings) stays national."""
    at = AppTest.from_file(str(ENTRY_SCRIPT), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = NW
    at.run()
    at.switch_page(page_file("data")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    frames = [d.value for d in at.dataframe]
    assert not any("file_name" in f.columns for f in frames)  # no load log
    assert any("national users only" in i.value for i in at.info)
    db = Database(env)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Sites"] == str(
        db.scalar("SELECT count(*) FROM sites WHERE region = 'North West'")
    )
    findings = [f for f in frames if "detail" in f.columns]
    expected = db.query(
        "SELECT q.provider_code FROM data_quality q JOIN sites s USING (site_code) "
        "WHERE s.region = 'North West'"
    )["provider_code"].to_list()
    assert expected, "the synthetic set has findings in the North West to show"
    assert findings and sorted(findings[0]["provider_code"]) == sorted(expected)


def _profile_as_north_west(code: str) -> AppTest:
    at = AppTest.from_file(str(ENTRY_SCRIPT), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = NW
    at.query_params["p"] = code
    at.run()
    at.switch_page(page_file("provider_profile")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def test_profile_link_to_another_regions_provider_reads_as_unknown(env: Path) -> None:
    london = sorted(_codes(env, "London") - _codes(env, "North West"))[0]
    name = Database(env).scalar(
        "SELECT provider_name FROM providers WHERE provider_code = ?", [london]
    )
    pages = {"hidden": _profile_as_north_west(london), "unknown": _profile_as_north_west("ZZ9")}
    for code, at in zip((london, "ZZ9"), pages.values(), strict=True):
        warnings = [w.value for w in at.warning]
        assert warnings == [f"Provider `{code}` not found or not in your area."]
        assert not at.main.header and not at.metric and not at.dataframe
        text = " ".join(e.value for e in (*at.markdown, *at.caption) if isinstance(e.value, str))
        assert name not in text
        offered = {o.split(" · ")[0] for o in at.selectbox(key="profile_provider").options}
        assert offered == _with_a_site_in(env, "North West")


def test_profile_of_an_own_provider_shows_its_sites_and_flags(env: Path) -> None:
    from capwatch.analytics.filters import Filters
    from capwatch.analytics.flags import compute_flags

    own = sorted(_codes(env, "North West"))[0]
    at = _profile_as_north_west(own)
    assert any(h.value.startswith(f"{own} · ") for h in at.main.header)
    sites = next(d.value for d in at.dataframe if "site_name" in d.value.columns)
    assert set(sites["region"]) == {"North West"}
    expected = compute_flags(Database(env), Filters(providers=(own,)))  # as a national user
    tables = [d.value for d in at.dataframe if "rule_title" in d.value.columns]
    if expected.height:
        assert sorted(tables[0]["explanation"]) == sorted(expected["explanation"].to_list())
    else:
        assert not tables and any("No flags" in m.value for m in at.success)
