"""Sign-in end to end: a real OIDC provider (`oidc-provider-mock`, on loopback, in this
process), `streamlit run` with a temporary secrets file, and headless Chromium.

Signed out → only the sign-in screen; a regional user → only their region; a national user
(by an identity-provider group) → every region; an unknown user → "no access"; sign-out works.
Leak attempts: a shared link naming another region's provider, and a CSV download after
changing the URL to another region. Every sign-in and download lands in the audit log.
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from capwatch.db import Database

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning"),  # in the mock
]

ROOT = Path(__file__).resolve().parent.parent
APP = Path(__file__).resolve().parent / "gated_app.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REGION = "North West"
ACCESS = f"""
contact = "capwatch-admins@example.nhs.uk"
[users]
"nw@example.nhs.uk" = ["region:{REGION}"]
[groups]
"cw-national" = ["national", "analyst"]
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Served:
    url: str
    db: Database
    audit_log: Path
    log: Path


@pytest.fixture(scope="module")
def oidc() -> Iterator[str]:
    """The identity provider: three known subjects with e-mail (and group) claims."""
    provider = pytest.importorskip("oidc_provider_mock")
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # plain http on loopback only
    users = [
        provider.User(sub="nw", claims={"email": "nw@example.nhs.uk"}),
        provider.User(sub="boss", claims={"email": "boss@example.nhs.uk",
                                          "groups": ["cw-national"]}),
        provider.User(sub="stranger", claims={"email": "stranger@example.com"}),
    ]  # fmt: skip
    with provider.run_server_in_thread(port=0, user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def served(
    oidc: str, synthetic_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    pytest.importorskip("authlib")
    folder = tmp_path_factory.mktemp("auth_browser")
    port = _free_port()
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
    audit_log = folder / "audit.jsonl"
    env = {
        **os.environ,
        "CAPWATCH_DB": str(synthetic_db),
        "CAPWATCH_ACCESS": str(access),
        "CAPWATCH_AUDIT_LOG": str(audit_log),
        "AUTHLIB_INSECURE_TRANSPORT": "1",
    }
    log = folder / "streamlit.log"
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none", "--secrets.files", str(secrets),
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited early:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("streamlit did not start within 60 s")
                time.sleep(0.3)
        yield Served(url, Database(synthetic_db), audit_log, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page with no cookies: every test starts signed out."""
    context = browser.new_context(viewport={"width": 1300, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def _settled(page: Any, text: str) -> str:
    """Wait until `text` is on the page and the script has finished; return the body text."""
    page.get_by_text(text, exact=False).first.wait_for()
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000
    )
    page.wait_for_timeout(300)
    return page.inner_text("body")


def _sign_in(page: Any, served: Served, sub: str, expect: str) -> str:
    page.goto(served.url)
    _settled(page, "Sign in")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/oauth2/authorize**")
    page.fill("input[name=sub]", sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{served.url}/**")
    return _settled(page, expect)


def _codes(body: str) -> set[str]:
    line = next(x for x in body.splitlines() if x.startswith("Provider codes:"))
    value = line.split(":", 1)[1].strip()
    return set() if value == "none" else {c.strip() for c in value.split(",")}


def _providers_in(db: Database, region: str | None) -> set[str]:
    where, params = ("WHERE region = ?", [region]) if region else ("", [])
    return set(
        db.query(f"SELECT DISTINCT provider_code FROM utilisation_weekly {where}", params)[
            "provider_code"
        ].to_list()
    )


def _audit(served: Served) -> list[dict]:
    if not served.audit_log.exists():
        return []
    return [json.loads(x) for x in served.audit_log.read_text().splitlines()]


def test_signed_out_sees_only_the_sign_in_screen(page: Any, served: Served) -> None:
    for path in ("/", "/?provider=NX1&region=London"):
        page.goto(served.url + path)
        body = _settled(page, "Sign in")
        assert "Provider codes" not in body
        assert page.locator('[data-testid="stDownloadButton"]').count() == 0
        assert "Traceback" not in body


def test_regional_user_sees_only_their_region(page: Any, served: Served) -> None:
    body = _sign_in(page, served, "nw", "Provider codes")
    assert _codes(body) == _providers_in(served.db, REGION)
    assert f"Regions: {REGION}" in body
    assert "nw@example.nhs.uk" in body  # who is signed in
    records = [r for r in _audit(served) if r["who"] == "nw@example.nhs.uk"]
    assert [r["action"] for r in records][:1] == ["sign_in"]


def test_shared_link_to_another_regions_provider_shows_nothing(page: Any, served: Served) -> None:
    london = sorted(_providers_in(served.db, "London") - _providers_in(served.db, REGION))[0]
    _sign_in(page, served, "nw", "Provider codes")
    page.goto(f"{served.url}/?provider={london}")
    body = _settled(page, "Provider codes")
    assert _codes(body) == set()
    assert london not in body


def test_csv_after_changing_the_url_has_nothing_from_other_regions(
    page: Any, served: Served
) -> None:
    _sign_in(page, served, "nw", "Provider codes")
    page.goto(f"{served.url}/?region=London")
    _settled(page, "Provider codes")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    assert rows == []
    page.goto(served.url)
    _settled(page, "Provider codes")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    assert {r["provider_code"] for r in rows} == _providers_in(served.db, REGION)
    assert {r["region"] for r in rows} == {REGION}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the callback runs on the rerun after the click
        downloads = [r for r in _audit(served) if r["action"] == "download"]
        if len(downloads) >= 2:
            break
        time.sleep(0.2)
    assert [r["rows"] for r in downloads[-2:]] == [0, len(rows)]
    assert all(r["who"] == "nw@example.nhs.uk" for r in downloads)
    assert downloads[-2]["what"]["filters"]["scope_regions"] == [REGION]


def test_national_user_by_group_sees_every_region(page: Any, served: Served) -> None:
    body = _sign_in(page, served, "boss", "Provider codes")
    assert _codes(body) == _providers_in(served.db, None)
    assert "boss@example.nhs.uk" in body


def test_unknown_user_gets_no_access(page: Any, served: Served) -> None:
    body = _sign_in(page, served, "stranger", "No access")
    assert "stranger@example.com" in body and "capwatch-admins@example.nhs.uk" in body
    assert "Provider codes" not in body
    refused = [r for r in _audit(served) if r["who"] == "stranger@example.com"]
    assert refused and refused[0]["what"]["refused"] is True


def test_sign_out_returns_to_the_sign_in_screen(page: Any, served: Served) -> None:
    _sign_in(page, served, "nw", "Provider codes")
    page.get_by_role("button", name="Sign out").click()
    end_session = page.get_by_role("button", name="End session")
    end_session.wait_for()  # the provider's end-session page, then back to the app
    end_session.click()
    page.wait_for_url(f"{served.url}/**")
    body = _settled(page, "Sign in")
    assert "Provider codes" not in body
    page.goto(served.url)
    assert "Provider codes" not in _settled(page, "Sign in")
