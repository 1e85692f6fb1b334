"""The dashboard works offline: every request a page makes stays on this machine (the page
icon too), and tables offer no download of their own (every download is capwatch's audited
one)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from tests import browser_support
from tests.browser_support import AppServer, assert_no_error, wait_for_app

if TYPE_CHECKING:
    from playwright.sync_api import Page, Request

app_server = browser_support.app_server
browser_page = browser_support.browser_page

PAGES = ["overview", "providers", "provider_profile", "service_lines", "regions", "flags",
         "diagnostics", "sql", "data"]  # fmt: skip
TABLE = '[data-testid="stDataFrame"]'
TIMEOUT_MS = 120_000  # a page on a loaded shared machine can take a minute to run


@pytest.mark.browser
def test_no_request_leaves_the_machine(app_server: AppServer, browser_page: Page) -> None:
    page = browser_page
    requests: list[str] = []

    def record(request: Request) -> None:
        requests.append(request.url)

    page.set_default_timeout(TIMEOUT_MS)
    page.on("request", record)
    served = urlsplit(app_server.url).netloc
    for name in PAGES:
        page.goto(f"{app_server.url}/{name}")
        wait_for_app(page, timeout_ms=TIMEOUT_MS)
        assert_no_error(page)
        page.mouse.wheel(0, 4000)  # draw what is below the fold too
        page.wait_for_timeout(500)
    icon = page.locator("link[rel='shortcut icon']").get_attribute("href") or ""
    assert icon.startswith("data:") or urlsplit(icon).netloc in ("", served), icon
    assert len(requests) > len(PAGES)  # the recorder saw the pages load
    outside = sorted(
        {u for u in requests if urlsplit(u).scheme not in ("data", "blob")
         and urlsplit(u).netloc != served}
    )  # fmt: skip
    assert outside == [], outside


@pytest.mark.browser
def test_tables_have_no_download_of_their_own(app_server: AppServer, browser_page: Page) -> None:
    page = browser_page
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{app_server.url}/providers")
    wait_for_app(page, timeout_ms=TIMEOUT_MS)
    table = page.locator(TABLE).first
    table.wait_for()
    table.hover()
    toolbar = page.locator('[data-testid="stElementToolbar"]').first
    toolbar.wait_for(state="visible")  # the toolbar is drawn (search, full screen) ...
    assert toolbar.locator("button").count() >= 1
    assert page.get_by_role("button", name="Download as CSV").count() == 0  # ... without it
    assert page.locator(".st-key-dl_providers button").count() == 1  # capwatch's own is there
