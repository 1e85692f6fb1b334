"""Real-browser test support: serve the app with `streamlit run` and drive headless Chromium.

Reuse from any test module:

    from tests import browser_support
    from tests.browser_support import AppServer, assert_no_error, wait_for_app

    app_server = browser_support.app_server  # make the fixtures visible to this module
    browser_page = browser_support.browser_page

    @pytest.mark.browser
    def test_my_page(app_server: AppServer, browser_page: Page) -> None:
        browser_page.goto(f"{app_server.url}/my_page")
        wait_for_app(browser_page)
        ...

- `app_server` (session-scoped): generates a small synthetic dataset (seed 2020, scale 0.03)
  through the real pipeline, starts `streamlit run app.py` on a free loopback port with
  `CAPWATCH_DB` pointing at it, waits for `/_stcore/health`, yields an `AppServer` (url,
  db_path, screenshots folder) and stops the server at the end.
- `browser_page` (function-scoped): a fresh Playwright page in Debian's headless Chromium
  (`/usr/bin/chromium`; a browser is never downloaded). Tests are skipped when either
  Playwright or the browser is missing.
- `wait_for_app(page)`: wait until Streamlit has finished running the script.
- `assert_no_error(page)`: no exception element and no traceback text on the page.

Screenshots go to `test-output/screenshots/` (gitignored).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from capwatch import config

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class AppServer:
    """A running dashboard."""

    url: str
    db_path: Path
    screenshots: Path


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"streamlit did not become healthy within {timeout_s:.0f} s")


def serve(
    db_path: Path,
    log_path: Path,
    settings: dict[str, str] | None = None,
    *,
    port: int | None = None,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `streamlit run app.py` against `db_path` on a loopback port (`port`, else a free
    one).

    The audit log goes beside `log_path` (never the developer's data/audit.jsonl); `settings`
    maps further setting names (see `capwatch.config.SETTINGS`) to values for the server;
    `args` are further `streamlit run` options (e.g. `--secrets.files`), `env` further
    environment variables.
    """
    port = port or free_port()
    environ = {
        **os.environ,
        config.DB_ENV_VAR: str(db_path),
        config.env_var("audit_log"): str(log_path.with_name("audit.jsonl")),
        **{config.env_var(name): value for name, value in (settings or {}).items()},
        **(env or {}),
    }
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none", *args,
    ]  # fmt: skip
    with log_path.open("wb") as log:  # the server keeps its own handle
        proc = subprocess.Popen(cmd, cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, START_TIMEOUT_S)
    except RuntimeError:
        stop(proc)
        raise
    return proc, url


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server started by `serve` (and only it)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The dashboard served on a free port against a small synthetic database."""
    from capwatch.load import ingest
    from capwatch.synthetic import generate

    folder = tmp_path_factory.mktemp("browser")
    inputs = folder / "synthetic"
    generate(inputs, seed=2020, scale=0.03)
    db_path = folder / "capacity.duckdb"
    report = ingest([inputs], db_path)
    assert report.ok
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    proc, url = serve(db_path, folder / "streamlit.log")
    try:
        yield AppServer(url=url, db_path=db_path, screenshots=SCREENSHOTS)
    finally:
        stop(proc)


@pytest.fixture
def browser_page() -> Iterator[Page]:
    """A fresh page in headless Debian Chromium (skips if Playwright or Chromium is missing)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, accept_downloads=True
        )
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def wait_for_app(page: Page, timeout_ms: int = 30_000) -> None:
    """Wait until the app has rendered and Streamlit has stopped running the script."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=timeout_ms)
    # The status widget shows while the script runs; wait for it to go.
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms
    )
    page.wait_for_timeout(300)


def assert_no_error(page: Page) -> None:
    """No exception element and no traceback anywhere on the page."""
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Traceback" not in page.inner_text("body")
