"""Sign-in end to end through the real dashboard: an OIDC provider for tests
(`oidc-provider-mock`, on loopback, in this process), `streamlit run app.py` with a temporary
secrets file and access file, and headless Chromium.

Signed out → only the sign-in screen, whatever the address; a regional user → only their
region on the real pages (Overview headline, Providers CSV); a national user (by an
identity-provider group) → every region; an unknown user → "no access"; sign-out works.
Leaks tried on purpose: a shared link to another region's provider profile, a CSV download
after changing the address to another region, an SQL query naming another region. The audit
log records the sign-ins, each download (who, rows) and the national analyst's query.
Every figure is checked against plain SQL over `utilisation_weekly` / `providers`.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from capwatch import audit
from capwatch.db import Database
from tests import browser_support
from tests.browser_support import free_port, serve, stop, wait_for_app

if TYPE_CHECKING:  # Playwright may be missing: `browser_page` then skips
    from playwright.sync_api import Locator, Page

browser_page = browser_support.browser_page  # a fresh browser per test: each starts signed out

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning"),  # in the mock
]

REGION = "North West"
NW = "nw@example.nhs.uk"
BOSS = "boss@example.nhs.uk"
STRANGER = "stranger@example.com"
CONTACT = "capwatch-admins@example.nhs.uk"
ACCESS = f"""
contact = "{CONTACT}"
[users]
"{NW}" = ["region:{REGION}"]
[groups]
"cw-national" = ["national", "analyst"]
"""
LONDON_SQL = "SELECT * FROM providers WHERE region='London'"
SQL_PAGE = "Ask the data (SQL)"
TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class Served:
    """The dashboard behind sign-in, its database and its audit log."""

    url: str
    db: Database
    audit_log: Path


@pytest.fixture(scope="module")
def oidc() -> Iterator[str]:
    """The identity provider: three known subjects with e-mail (and group) claims."""
    provider = pytest.importorskip("oidc_provider_mock")
    users = [
        provider.User(sub="nw", claims={"email": NW}),
        provider.User(sub="boss", claims={"email": BOSS, "groups": ["cw-national"]}),
        provider.User(sub="stranger", claims={"email": STRANGER}),
    ]
    with provider.run_server_in_thread(port=0, user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def served(
    oidc: str, synthetic_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """`streamlit run app.py` with sign-in configured (one server for the module)."""
    pytest.importorskip("authlib")
    folder = tmp_path_factory.mktemp("auth_browser")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    secrets = folder / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "{url}/oauth2callback"\n'
        'cookie_secret = "test-cookie-secret-not-for-production-0123456789"\n'
        'client_id = "capwatch-test"\n'
        'client_secret = "capwatch-test-secret"\n'
        f'server_metadata_url = "{oidc}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    access = folder / "access.toml"
    access.write_text(ACCESS, encoding="utf-8")
    log = folder / "streamlit.log"
    proc, url = serve(
        synthetic_db,
        log,
        {"access_file": str(access)},
        port=port,
        args=["--secrets.files", str(secrets)],
        env={"AUTHLIB_INSECURE_TRANSPORT": "1"},  # plain http, on loopback only
    )
    db = Database(synthetic_db)
    try:
        yield Served(url, db, log.with_name("audit.jsonl"))
    finally:
        stop(proc)
        db.close()


# -- plain SQL: the independent answers --------------------------------------------------------


def _providers_in(db: Database, region: str | None) -> set[str]:
    """Providers with a row in `utilisation_weekly` at a site in `region` (None: anywhere)."""
    where, params = ("WHERE region = ?", [region]) if region else ("", [])
    frame = db.query(f"SELECT DISTINCT provider_code FROM utilisation_weekly {where}", params)
    return set(frame["provider_code"].to_list())


def _capacity_by_provider(db: Database, region: str) -> dict[str, int]:
    frame = db.query(
        "SELECT provider_code, sum(capacity_units)::BIGINT AS units FROM utilisation_weekly "
        "WHERE region = ? GROUP BY provider_code",
        [region],
    )
    return dict(frame.rows())


def _names(db: Database, codes: set[str]) -> list[str]:
    frame = db.query("SELECT provider_code, provider_name FROM providers")
    return [name for code, name in frame.rows() if code in codes]


def _other_region_provider(db: Database) -> tuple[str, str]:
    """A provider with London sites and none in the user's region: (code, name)."""
    code = sorted(_providers_in(db, "London") - _providers_in(db, REGION))[0]
    return code, _names(db, {code})[0]


# -- the browser ---------------------------------------------------------------------------


def _ready(page: Page, target: Locator) -> str:
    """Wait for `target`, then for the script run to end; the page's text."""
    target.first.wait_for(timeout=TIMEOUT_MS)
    wait_for_app(page, timeout_ms=TIMEOUT_MS)
    return page.inner_text("body")


def _open(page: Page, served: Served, path: str, target: Callable[[Page], Locator]) -> str:
    page.goto(served.url + path)
    return _ready(page, target(page))


def _sign_in_button(page: Page) -> Locator:
    return page.get_by_role("button", name="Sign in")


def _metric(page: Page, label: str) -> Locator:
    return (
        page.locator('[data-testid="stMetric"]')
        .filter(has=page.locator('[data-testid="stMetricLabel"]', has_text=label))
        .first.locator('[data-testid="stMetricValue"]')
    )


def _providers_csv_button(page: Page) -> Locator:
    """The "Download CSV" button under the Providers table (key `dl_providers`)."""
    return page.locator(".st-key-dl_providers button")


def _sign_in(page: Page, served: Served, sub: str) -> None:
    """Sign in at the identity provider as `sub`; back on the app's default page."""
    page.set_default_timeout(TIMEOUT_MS)
    _open(page, served, "/", _sign_in_button)
    _sign_in_button(page).click()
    page.wait_for_url("**/oauth2/authorize**")
    page.fill("input[name=sub]", sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{served.url}/**")


def _sidebar(page: Page) -> str:
    return page.locator('[data-testid="stSidebar"]').inner_text()


def _navigation(page: Page) -> str:
    nav = page.locator('[data-testid="stSidebarNav"]')
    return nav.inner_text() if nav.count() else ""


def _grid_cells(page: Page) -> set[str]:
    """The text of every table cell drawn on the page (grids draw only the rows in view)."""
    cells = page.locator('[data-testid="stDataFrame"] [role="gridcell"]').all_inner_texts()
    return {c.strip() for c in cells}


def _drawn_cells(page: Page, wanted: set[str]) -> set[str]:
    """The cells among `wanted` once the grid has drawn any of them (it draws after the row
    count above it appears): wait on the cells asserted on, not on a neighbour."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:
        shown = _grid_cells(page) & wanted
        if shown or time.monotonic() > deadline:
            return shown
        page.wait_for_timeout(200)


def _download_providers_csv(page: Page) -> list[dict[str, str]]:
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        _providers_csv_button(page).click()
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _audit(served: Served) -> list[dict[str, Any]]:
    """The audit records so far; the hash chain must be intact every time it is read."""
    check = audit.verify(served.audit_log)
    assert check.ok, check.describe()
    records = audit.read_records(served.audit_log).sort("seq").to_dicts()
    return [{**r, "what": json.loads(r["what"])} for r in records]


def _last_seq(served: Served) -> int:
    return max((r["seq"] for r in _audit(served)), default=0)


def _await_audit(
    served: Served, match: Callable[[dict[str, Any]], bool], after: int, timeout_s: float = 15
) -> list[dict[str, Any]]:
    """Records after sequence number `after` matching `match`, waiting a little: a download's
    callback runs on the rerun after the click."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = [r for r in _audit(served) if r["seq"] > after and match(r)]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _assert_nothing_shown(page: Page, body: str, db: Database, *, nav: bool = False) -> None:
    """No figures, tables, charts, filters, downloads or provider names (and, unless `nav`, no
    page navigation): only a screen of words."""
    testids = ["stMetric", "stDownloadButton", "stDataFrame", "stPlotlyChart", "stMultiSelect"]
    for testid in testids if nav else [*testids, "stSidebarNav"]:
        assert page.locator(f'[data-testid="{testid}"]').count() == 0, testid
    everyone = _providers_in(db, None)
    assert not [n for n in _names(db, everyone) if n in body]
    assert not [c for c in everyone if re.search(rf"\b{c}\b", body)]
    assert "Traceback" not in body


# -- the checks ----------------------------------------------------------------------------


def test_signed_out_sees_only_the_sign_in_screen(browser_page: Page, served: Served) -> None:
    """Several addresses in one browser (test_first_visit_browser.py starts a fresh server for
    each first request)."""
    page = browser_page
    london, _ = _other_region_provider(served.db)
    for path in ("/providers?region=London", "/", f"/provider_profile?p={london}"):
        body = _open(page, served, path, _sign_in_button)
        assert "sign in with your organisation account" in body
        _assert_nothing_shown(page, body, served.db)
        assert _navigation(page) == ""


def test_regional_user_sees_only_their_region(browser_page: Page, served: Served) -> None:
    page, db = browser_page, served.db
    before = _last_seq(served)
    _sign_in(page, served, "nw")
    _ready(page, _metric(page, "Capacity contracted"))
    (regional,) = db.query(
        "SELECT sum(capacity_units) FROM utilisation_weekly WHERE region = ?", [REGION]
    ).row(0)
    national = db.scalar("SELECT sum(capacity_units) FROM utilisation_weekly")
    assert regional < national  # the scope makes a difference on this data
    assert _metric(page, "Capacity contracted").inner_text() == f"{int(regional):,} units"
    assert NW in _sidebar(page)
    nav = _navigation(page)
    assert "Providers" in nav and SQL_PAGE not in nav and "Audit trail" not in nav

    _open(page, served, "/providers", _providers_csv_button)
    mark = _last_seq(served)
    rows = _download_providers_csv(page)
    assert {r["provider_code"] for r in rows} == _providers_in(db, REGION)
    assert {r["provider_code"]: int(r["capacity_units"]) for r in rows} == _capacity_by_provider(
        db, REGION
    )
    signed_in = [r for r in _audit(served) if r["who"] == NW and r["action"] == "sign_in"]
    assert signed_in and signed_in[0]["what"]["regions"] == [REGION]
    # One sign-in, one record: the pages opened since (each a new session) add none.
    this_sign_in = [r for r in signed_in if r["seq"] > before]
    assert len(this_sign_in) == 1
    downloads = _await_audit(served, lambda r: r["who"] == NW and r["action"] == "download", mark)
    assert [r["rows"] for r in downloads] == [len(rows)]  # this download, recorded once
    assert downloads[0]["what"]["filters"]["scope_regions"] == [REGION]


def test_shared_link_to_another_regions_provider_shows_nothing(
    browser_page: Page, served: Served
) -> None:
    page, db = browser_page, served.db
    london, london_name = _other_region_provider(db)
    _sign_in(page, served, "nw")
    _ready(page, _metric(page, "Capacity contracted"))
    body = _open(
        page, served, f"/provider_profile?p={london}", lambda p: p.get_by_text("not in your area")
    )
    assert f"Provider {london} not found or not in your area." in body
    assert london_name not in body
    assert page.locator('[data-testid="stMetric"]').count() == 0
    # The same link to one of their own providers opens its profile.
    own = sorted(_providers_in(db, REGION))[0]
    (own_name,) = _names(db, {own})
    header = f"{own} · {own_name}"
    _open(page, served, f"/provider_profile?p={own}", lambda p: p.get_by_text(header))


def test_csv_after_changing_the_url_holds_only_their_region(
    browser_page: Page, served: Served
) -> None:
    page, db = browser_page, served.db
    _sign_in(page, served, "nw")
    _ready(page, _metric(page, "Capacity contracted"))
    body = _open(page, served, "/providers?region=London", _providers_csv_button)
    note = next(x for x in body.splitlines() if x.startswith("Ignored in the address"))
    assert "London" in note
    mark = _last_seq(served)
    rows = _download_providers_csv(page)
    assert {r["provider_code"] for r in rows} == _providers_in(db, REGION)
    assert not [n for n in _names(db, _providers_in(db, "London")) if n in body]
    downloads = _await_audit(served, lambda r: r["who"] == NW and r["action"] == "download", mark)
    assert [r["rows"] for r in downloads] == [len(rows)]
    (last,) = downloads
    assert last["what"]["filters"]["regions"] == []  # London was dropped, not applied
    assert last["what"]["filters"]["scope_regions"] == [REGION]


def test_sql_is_not_open_to_a_regional_user(browser_page: Page, served: Served) -> None:
    page, db = browser_page, served.db
    london = _providers_in(db, "London")
    _sign_in(page, served, "nw")
    _ready(page, _metric(page, "Capacity contracted"))
    assert SQL_PAGE not in _navigation(page)
    body = _open(
        page, served, f"/sql?q={quote(LONDON_SQL)}", lambda p: p.get_by_text("Page not found")
    )
    assert "Running the app's main page" in body  # the page is not theirs: Streamlit's answer
    body = _ready(page, _metric(page, "Capacity contracted"))  # their own Overview instead
    assert _metric(page, "Capacity contracted").count() == 1
    assert not re.search(r"\d rows ·", body)
    assert not _grid_cells(page) & london
    assert not [n for n in _names(db, london) if n in body]
    assert not [r for r in _audit(served) if r["action"] == "sql" and r["who"] == NW]


def test_sql_runs_for_a_national_analyst(browser_page: Page, served: Served) -> None:
    page, db = browser_page, served.db
    london = _providers_in(db, "London")
    _sign_in(page, served, "boss")
    _ready(page, _metric(page, "Capacity contracted"))
    assert SQL_PAGE in _navigation(page)
    mark = _last_seq(served)
    body = _open(
        page, served, f"/sql?q={quote(LONDON_SQL)}", lambda p: p.get_by_text(re.compile(r"rows · "))
    )
    expected = db.scalar("SELECT count(*) FROM providers WHERE region = 'London'")
    assert expected > 0
    assert f"{expected:,} rows ·" in body
    shown = _drawn_cells(page, _providers_in(db, None))  # the rows the grid has drawn
    assert shown and shown <= london
    queries = _await_audit(served, lambda r: r["who"] == BOSS and r["action"] == "sql", mark)
    assert [(r["rows"], r["what"]) for r in queries] == [(expected, {"query": LONDON_SQL})]


def test_national_user_by_group_sees_every_region(browser_page: Page, served: Served) -> None:
    page, db = browser_page, served.db
    _sign_in(page, served, "boss")
    _ready(page, _metric(page, "Capacity contracted"))
    assert BOSS in _sidebar(page)
    _open(page, served, "/providers", _providers_csv_button)
    mark = _last_seq(served)
    rows = _download_providers_csv(page)
    assert {r["provider_code"] for r in rows} == _providers_in(db, None)
    assert len(rows) == len(_providers_in(db, None))
    signed_in = [r for r in _audit(served) if r["who"] == BOSS and r["action"] == "sign_in"]
    assert signed_in and signed_in[0]["what"]["national"] is True
    downloads = _await_audit(served, lambda r: r["who"] == BOSS and r["action"] == "download", mark)
    assert [r["rows"] for r in downloads] == [len(rows)]
    assert downloads[0]["what"]["filters"]["scope_regions"] is None


def test_unknown_user_gets_no_access(browser_page: Page, served: Served) -> None:
    page = browser_page
    _sign_in(page, served, "stranger")
    body = _ready(page, page.get_by_role("heading", name="No access"))
    assert STRANGER in body and CONTACT in body
    _assert_nothing_shown(page, body, served.db)
    refused = [r for r in _audit(served) if r["who"] == STRANGER]
    assert [r["action"] for r in refused][:1] == ["sign_in"]
    assert refused[0]["what"]["refused"] is True


def test_sign_out_returns_to_the_sign_in_screen(browser_page: Page, served: Served) -> None:
    page = browser_page
    _sign_in(page, served, "nw")
    _ready(page, _metric(page, "Capacity contracted"))
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
    end_session = page.get_by_role("button", name="End session")
    end_session.wait_for()  # the identity provider's end-session page, then back to the app
    end_session.click()
    page.wait_for_url(f"{served.url}/**")
    body = _ready(page, _sign_in_button(page))
    _assert_nothing_shown(page, body, served.db)
    body = _open(page, served, "/providers", _sign_in_button)
    _assert_nothing_shown(page, body, served.db)
