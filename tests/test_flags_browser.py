"""The Flags page in a real browser (headless Chromium): flags, rule settings with named
choices, the SPC note and the backtest section, on the small synthetic dataset whose poor
providers were removed from their contracts."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from capwatch.analytics.flags.backtest import backtest
from capwatch.db import Database
from tests import browser_support
from tests.browser_support import AppServer, assert_no_error, wait_for_app

app_server = browser_support.app_server
browser_page = browser_support.browser_page

pytestmark = pytest.mark.browser


def test_flags_page_with_backtest(app_server: AppServer, browser_page: Page) -> None:
    db = Database(app_server.db_path)
    try:
        expected = backtest(db).summary.filter(rule="any").row(0, named=True)
    finally:
        db.close()
    page = browser_page
    page.goto(f"{app_server.url}/flags")
    wait_for_app(page)
    assert_no_error(page)
    body = page.inner_text("body")
    assert "Would the flags have called the removals?" in body
    removed = expected["removed_contracts"]
    assert f"Of {removed} removed contracts, the rules flagged {expected['hits']}" in body
    assert "Active contracts that look like the removed ones" in body
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=30_000)  # evidence
    page.get_by_test_id("stExpander").get_by_text("Rule settings").click()
    page.get_by_text("Over-dispersion").first.wait_for(timeout=30_000)  # the asserted text
    assert "Over-dispersion" in page.inner_text("body")
    page.screenshot(path=str(app_server.screenshots / "flags_backtest.png"), full_page=True)
    heading = page.get_by_role("heading", name="Would the flags have called the removals?")
    heading.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.screenshot(path=str(app_server.screenshots / "flags_backtest_section.png"))
