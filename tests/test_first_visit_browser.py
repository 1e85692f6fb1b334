"""The first visit to a freshly started server, in headless Chromium: whatever the first
request, a signed-out visitor sees only the sign-in screen and never a list of pages, and in
local mode nobody ever sees Streamlit's raw list of page files.

Each case starts its own server (`streamlit run app.py`, as the README says) so that the
request under test is the server's very first. A script injected before the page loads
watches the sidebar for the whole visit and keeps every navigation list that was ever drawn,
so a list that flashes for a moment and goes is caught too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest

from capwatch import audit
from capwatch.db import Database
from tests import browser_support
from tests.browser_support import free_port, serve, stop, wait_for_app
from tests.test_auth_browser import _assert_nothing_shown, _sign_in_button
from tests.test_auth_browser import oidc as oidc  # the identity provider fixture

if TYPE_CHECKING:  # Playwright may be missing: `browser_page` then skips
    from playwright.sync_api import Page

browser_page = browser_support.browser_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning"),  # in the mock
]

TIMEOUT_MS = 60_000
FIRST_REQUESTS = (
    "/",
    "/sql?q=" + quote("SELECT * FROM providers"),
    "/audit",
    "/data",
    "/providers?region=London",
)
# Streamlit's legacy mode lists the entry script and the page files by file name; these
# entries are in that list and never in capwatch's own navigation ("Overview", "Ask the data
# (SQL)", "Audit trail", ...).
FILE_NAMES = ("app", "audit", "sql")

WATCH_NAVIGATION = """
window.__navSeen = [];
new MutationObserver(() => {
  for (const nav of document.querySelectorAll('[data-testid="stSidebarNav"]')) {
    const text = nav.innerText.trim();
    if (window.__navSeen[window.__navSeen.length - 1] !== text) window.__navSeen.push(text);
  }
}).observe(document, {childList: true, subtree: true, characterData: true});
"""


def _navigation_seen(page: Page) -> list[str]:
    """Every distinct navigation list drawn since the page started loading."""
    return list(page.evaluate("window.__navSeen"))


def _nav_items(text: str) -> set[str]:
    """The entries of a navigation list (Material icon names come through as words)."""
    return {line.strip().lower() for line in text.splitlines() if line.strip()}


@pytest.fixture
def fresh_server(oidc: str, synthetic_db: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A newly started dashboard with sign-in configured: (url, audit log)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "{url}/oauth2callback"\n'
        'cookie_secret = "test-cookie-secret-not-for-production-0123456789"\n'
        'client_id = "capwatch-test"\n'
        'client_secret = "capwatch-test-secret"\n'
        f'server_metadata_url = "{oidc}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    access = tmp_path / "access.toml"
    access.write_text('[users]\n"nw@example.nhs.uk" = ["national", "analyst"]\n', "utf-8")
    log = tmp_path / "streamlit.log"
    proc, url = serve(
        synthetic_db, log, {"access_file": str(access)}, port=port,
        args=["--secrets.files", str(secrets)], env={"AUTHLIB_INSECURE_TRANSPORT": "1"},
    )  # fmt: skip
    try:
        yield url, log.with_name("audit.jsonl")
    finally:
        stop(proc)


@pytest.mark.parametrize("first", FIRST_REQUESTS)
def test_first_signed_out_visit_sees_only_the_sign_in_screen(
    fresh_server: tuple[str, Path], synthetic_db: Path, browser_page: Page, first: str
) -> None:
    url, audit_log = fresh_server
    page = browser_page
    page.set_default_timeout(TIMEOUT_MS)
    page.add_init_script(WATCH_NAVIGATION)
    page.goto(url + first)
    _sign_in_button(page).first.wait_for(timeout=TIMEOUT_MS)
    wait_for_app(page, timeout_ms=TIMEOUT_MS)
    page.wait_for_timeout(1000)  # anything late would show now
    body = page.inner_text("body")
    assert "sign in with your organisation account" in body
    assert "not available to you" not in body
    db = Database(synthetic_db)
    try:
        _assert_nothing_shown(page, body, db)
    finally:
        db.close()
    assert _navigation_seen(page) == []  # no list of pages, not even for a moment
    # The same address again (the server is no longer fresh) gives the same screen.
    page.goto(url + first)
    _sign_in_button(page).first.wait_for(timeout=TIMEOUT_MS)
    assert _navigation_seen(page) == []
    assert not audit.read_records(audit_log).height  # nobody signed in: nothing recorded


@pytest.fixture
def fresh_local_server(synthetic_db: Path, tmp_path: Path) -> Iterator[str]:
    """A newly started dashboard in local mode (no secrets file, so no sign-in)."""
    proc, url = serve(synthetic_db, tmp_path / "streamlit.log")
    try:
        yield url
    finally:
        stop(proc)


@pytest.mark.parametrize("first", ["/sql?q=" + quote("SELECT 1 AS one"), "/data"])
def test_first_local_visit_never_shows_the_page_files(
    fresh_local_server: str, browser_page: Page, first: str
) -> None:
    page = browser_page
    page.set_default_timeout(TIMEOUT_MS)
    page.add_init_script(WATCH_NAVIGATION)
    page.goto(fresh_local_server + first)
    wait_for_app(page, timeout_ms=TIMEOUT_MS)
    page.wait_for_timeout(1000)
    seen = _navigation_seen(page)
    assert seen, "the app's own navigation is drawn"
    for text in seen:
        items = _nav_items(text)
        assert not items & set(FILE_NAMES), json.dumps(seen)
        assert {"overview", "ask the data (sql)", "data", "audit trail"} <= items, text
    assert "Local mode" in page.inner_text('[data-testid="stSidebar"]')
