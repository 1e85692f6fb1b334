"""Print (A4) and phone (390 px) in a real browser (issue 25): the print styles hide the
sidebar, keep the flags table whole and the synthetic badge unclipped; at 390 px the first
screen of the Overview and the Actions page is usable (sidebar closed, headline and tiles in
view, nothing wider than the screen).

Run with `pytest -m browser tests/test_print_and_phone_browser.py` (Debian's Chromium).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests import browser_support
from tests.browser_support import AppServer, assert_no_error, wait_for_app

app_server = browser_support.app_server
browser_page = browser_support.browser_page

pytestmark = pytest.mark.browser

A4 = {"width": 794, "height": 1123}  # A4 at 96 dpi, the page box Chromium prints
PHONE = {"width": 390, "height": 844}
BADGE = "Synthetic data — fictional providers"


def _open(page: Page, server: AppServer, path: str) -> None:
    page.goto(f"{server.url}/{path}")
    wait_for_app(page)
    page.wait_for_function("() => !document.querySelector('[data-stale=true]')")
    wait_for_app(page)
    assert_no_error(page)


def test_printing_the_flags_page_on_a4(app_server: AppServer, browser_page: Page) -> None:
    page = browser_page
    page.set_viewport_size(A4)
    page.emulate_media(media="print")
    _open(page, app_server, "flags")
    page.locator("[data-testid='stDataFrame']").first.wait_for(state="attached")
    assert not page.locator("[data-testid='stSidebar']").is_visible()
    main = page.locator("[data-testid='stMain']").bounding_box()
    assert main is not None and main["x"] < 20  # the content starts at the page's margin
    # the flags table whole: the canvas grid (cut to the columns that fit) gives way to a
    # printed copy with every column, as wide as the page and no wider
    assert not page.locator("[data-testid='stDataFrame']").first.is_visible()
    table = page.locator("table.capwatch-print-only").first
    assert table.is_visible()
    headers = [h.strip() for h in table.locator("th").all_inner_texts()]
    assert headers[:2] == ["Severity", "Rule"] and "Money at stake" in headers, headers
    assert headers[-1] == "Explanation", headers
    box = table.bounding_box()
    assert box is not None and box["x"] + box["width"] <= A4["width"] + 1
    assert box["width"] >= 0.9 * main["width"]
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= A4["width"], overflow
    # the synthetic badge whole: its text not cut to "fictional prov…"
    badge = page.get_by_text(BADGE).first
    assert badge.inner_text().strip().endswith(BADGE)  # after its icon
    clipped = badge.evaluate(
        "el => { for (let e = el; e; e = e.parentElement) {"
        " if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflow !== 'visible')"
        " return true; if (e.dataset.testid === 'stMain') break; } return false; }"
    )
    assert not clipped


@pytest.mark.parametrize(("path", "headline"), [("", "Overview"), ("actions", "Actions")])
def test_first_screen_at_390_px(
    app_server: AppServer, browser_page: Page, path: str, headline: str
) -> None:
    page = browser_page
    page.set_viewport_size(PHONE)
    _open(page, app_server, path)
    # the sidebar closed (moved off the screen to the left), not over the content
    sidebar = page.locator("[data-testid='stSidebar']").bounding_box()
    assert sidebar is None or sidebar["x"] + sidebar["width"] <= 1, sidebar
    title = page.locator("[data-testid='stMainBlockContainer'] h1").first
    assert title.inner_text().strip() == headline
    assert page.locator("[data-testid='stMetric']").first.is_visible()
    first_tile = page.locator("[data-testid='stMetric']").first.bounding_box()
    assert first_tile is not None and first_tile["y"] < PHONE["height"] * 1.5
    assert first_tile["x"] >= 0 and first_tile["x"] + first_tile["width"] <= PHONE["width"]
    # nothing wider than the screen: no sideways scrolling of the page
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= PHONE["width"], overflow
