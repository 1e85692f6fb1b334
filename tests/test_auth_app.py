"""Sign-in gate and audit records under Streamlit's test harness, with simulated users."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from capwatch.ui import auth
from tests.download_support import deferred_files

ACCESS = """
contact = "capwatch-admins@example.nhs.uk"
[users]
"lon@example.nhs.uk" = ["region:London"]
"boss@example.nhs.uk" = ["national", "analyst"]
[groups]
"cw-national" = ["national"]
"""
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-long-random-test-secret-value",
    "client_id": "capwatch",
    "client_secret": "secret",
    "server_metadata_url": "http://localhost:9/.well-known/openid-configuration",
}


def gated_app() -> None:
    import polars as pl
    import streamlit as st

    from capwatch.analytics.filters import Filters
    from capwatch.ui.auth import gate, scope
    from capwatch.ui.download import download_table

    access = gate()
    st.markdown(f"scope={scope(Filters(regions=('London',))).scope_regions!r}")
    st.markdown(f"sql={access.may_use_sql}")
    download_table(pl.DataFrame({"a": [1, 2, 3]}), "test", Filters(), key="dl")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    access = tmp_path / "access.toml"
    access.write_text(ACCESS, encoding="utf-8")
    monkeypatch.setenv("CAPWATCH_ACCESS", str(access))
    log = tmp_path / "audit.jsonl"
    monkeypatch.setenv("CAPWATCH_AUDIT_LOG", str(log))
    auth._sign_ins.clear()  # sign-ins this "server" (the test process) has recorded
    return log


def _records(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def _app(user: dict | None = None, auth: bool = True) -> AppTest:
    at = AppTest.from_function(gated_app, default_timeout=30)
    if auth:
        at.secrets["auth"] = AUTH
    if user is not None:
        at.user = user
    return at.run()


def _text(at: AppTest) -> str:
    parts = (
        [m.value for m in at.markdown] + [e.value for e in at.error] + [t.value for t in at.title]
    )
    return "\n".join(str(p) for p in parts)


def test_local_mode_without_auth_is_open_and_says_so(env: Path) -> None:
    at = _app(auth=False)
    assert not at.exception
    assert any("Local mode" in i.value for i in at.sidebar.info)
    assert "scope=None" in _text(at) and "sql=True" in _text(at)
    assert _records(env) == []  # nobody signed in


def test_signed_out_sees_only_the_sign_in_screen(env: Path) -> None:
    at = _app({"is_logged_in": False})
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert "scope=" not in _text(at)
    assert len(at.get("download_button")) == 0
    assert _records(env) == []


def test_regional_user_is_scoped_and_the_sign_in_is_recorded_once(env: Path) -> None:
    at = _app({"is_logged_in": True, "email": "LON@example.nhs.uk"})
    assert not at.exception
    assert "scope=('London',)" in _text(at)
    assert "sql=False" in _text(at)
    assert any("LON@example.nhs.uk" in c.value for c in at.sidebar.caption)
    assert any(b.label == "Sign out" for b in at.sidebar.button)
    at.run()
    records = _records(env)
    assert [(r["action"], r["who"]) for r in records] == [("sign_in", "LON@example.nhs.uk")]
    assert records[0]["what"]["regions"] == ["London"]


def test_one_sign_in_is_recorded_once_however_many_sessions_it_opens(env: Path) -> None:
    """Each page opened, tab or reload is a new Streamlit session carrying the same sign-in
    (the same ID token claims); signing in again (a new token) is a new record."""
    claims = {"is_logged_in": True, "email": "lon@example.nhs.uk", "sub": "lon",
              "iss": "https://idp.example", "iat": 1_780_000_000, "nonce": "n-1"}  # fmt: skip
    for _ in range(3):  # three page loads of one signed-in browser
        at = _app(dict(claims))
        assert "scope=('London',)" in _text(at)
        at.run()  # and a rerun within the session
    sign_ins = [r for r in _records(env) if r["action"] == "sign_in"]
    assert len(sign_ins) == 1
    again = _app({**claims, "iat": 1_780_003_600, "nonce": "n-2"})  # signed out and in again
    assert "scope=('London',)" in _text(again)
    sign_ins = [r for r in _records(env) if r["action"] == "sign_in"]
    assert len(sign_ins) == 2
    assert sign_ins[0]["what"]["sign_in_id"] != sign_ins[1]["what"]["sign_in_id"]


def test_group_claim_gives_national_access(env: Path) -> None:
    at = _app({"is_logged_in": True, "email": "new@example.nhs.uk", "groups": ["cw-national"]})
    assert "scope=None" in _text(at) and "sql=False" in _text(at)


def test_unknown_user_gets_no_access_page_and_is_recorded(env: Path) -> None:
    at = _app({"is_logged_in": True, "email": "stranger@example.com"})
    assert not at.exception
    text = _text(at)
    assert "No access" in text
    assert "stranger@example.com" in text and "capwatch-admins@example.nhs.uk" in text
    assert "scope=" not in text
    assert [b.label for b in at.button] == ["Sign out"]
    records = _records(env)
    assert len(records) == 1 and records[0]["what"]["refused"] is True


def test_missing_access_file_fails_closed(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPWATCH_ACCESS", str(env.parent / "nope.toml"))
    at = _app({"is_logged_in": True, "email": "boss@example.nhs.uk"})
    assert not at.exception
    assert "not found" in _text(at) and "scope=" not in _text(at)


def test_malformed_access_file_fails_closed_naming_the_file(env: Path) -> None:
    bad = env.parent / "access.toml"
    bad.write_text('[users]\n"boss@example.nhs.uk" = ["region:Atlantis"]\n')
    at = _app({"is_logged_in": True, "email": "boss@example.nhs.uk"})
    assert not at.exception
    assert str(bad) in _text(at) and "Atlantis" in _text(at)
    assert "scope=" not in _text(at)


def test_download_is_recorded_with_rows_and_filters(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The files are made when clicked, on the server's own thread and without a rerun
    # (Streamlit's deferred download): catch the callables the buttons register and run
    # them as the server would, after the page has run.
    made = deferred_files(monkeypatch)
    at = _app({"is_logged_in": True, "email": "lon@example.nhs.uk"})
    assert not at.exception
    csv_name = next(n for n in made if n.endswith(".csv"))
    assert not [r for r in _records(env) if r["action"] == "download"]  # nothing until clicked
    csv = made[csv_name]()  # type: ignore[operator]
    assert csv.decode("utf-8-sig").count("\n") == 4  # header and the 3 rows shown
    downloads = [r for r in _records(env) if r["action"] == "download"]
    assert len(downloads) == 1
    record = downloads[0]
    assert record["who"] == "lon@example.nhs.uk" and record["rows"] == 3
    assert record["what"]["file"] == csv_name
    # The Excel button beside it is audited the same way, as its own download.
    made[csv_name.removesuffix(".csv") + ".xlsx"]()  # type: ignore[operator]
    downloads = [r for r in _records(env) if r["action"] == "download"]
    assert [r["what"]["file"].rsplit(".", 1)[1] for r in downloads] == ["csv", "xlsx"]
    assert downloads[1]["rows"] == 3


def _audit_page(user: dict) -> AppTest:
    at = AppTest.from_file(str(Path(__file__).parent.parent / "pages" / "audit.py"))
    at.secrets["auth"] = AUTH
    at.user = user
    return at.run(timeout=30)


def test_audit_page_refuses_regional_users(env: Path) -> None:
    from capwatch import audit

    audit.record("sql", "boss@example.nhs.uk", what={"query": "SELECT secret"}, rows=1)
    at = _audit_page({"is_logged_in": True, "email": "lon@example.nhs.uk"})
    assert not at.exception
    assert any("not available" in e.value for e in at.error)
    assert len(at.dataframe) == 0


def test_audit_page_shows_national_users_the_trail_and_the_chain(env: Path) -> None:
    from capwatch import audit

    audit.record("sql", "boss@example.nhs.uk", what={"query": "SELECT 42"}, rows=1)
    audit.record("download", "lon@example.nhs.uk", what={"file": "x.csv"}, rows=7)
    at = _audit_page({"is_logged_in": True, "email": "boss@example.nhs.uk"})
    assert not at.exception
    assert any("Chain intact: 2 records" in s.value for s in at.success)
    frame = at.dataframe[0].value
    assert list(frame["who"]) == ["lon@example.nhs.uk", "boss@example.nhs.uk"]  # newest first
    # tamper: the page says the chain is broken
    lines = env.read_text().splitlines()
    env.write_text("\n".join([lines[0].replace("42", "43"), lines[1]]) + "\n")
    at.run()
    assert any("Chain broken at line 2" in e.value for e in at.error)
