"""What a commissioner sees at 1440 px, in a real browser (issue 25): the ranked tables show
their ranking column and money, no page shows `None`, raw JSON or a code beside its label, a
service line has one spelling, and every page passes axe-core's WCAG 2.1 AA rules.

Run with `pytest -m browser tests/test_house_style_browser.py` (Debian's Chromium; the axe-core
script ships inside the `axe-playwright-python` package, nothing is downloaded).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from capwatch.ui import format
from capwatch.ui.pages import DEFAULT
from capwatch.ui.pages import PAGES as REGISTRY
from tests import browser_support
from tests.browser_support import AppServer, assert_no_error, wait_for_app

app_server = browser_support.app_server
browser_page = browser_support.browser_page

pytestmark = pytest.mark.browser

WIDE = {"width": 1440, "height": 1100}
# Every page of the registry ("" is the default page, the Overview, at "/").
PAGES = ["", *(p.url_path for p in REGISTRY if p is not DEFAULT)]
# Codes that are never words: service lines and activity types with an underscore, and the
# old spelling "day-case" (one-word codes such as "diagnostics" read as their label).
RAW_LINE_CODES = (
    "day-case",
    *(c for c in (*format.SERVICE_LINE_LABELS, *format.ACTIVITY_TYPE_LABELS) if "_" in c),
)
# axe-core rule tags for WCAG 2.1 A and AA
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _open(page: Page, server: AppServer, path: str) -> None:
    page.set_viewport_size(WIDE)
    page.goto(f"{server.url}/{path}")
    wait_for_app(page)
    page.wait_for_timeout(1500)  # tables and charts draw after the script
    # a rerun (e.g. the filters written back to the URL) fades the page: wait until it is done
    page.wait_for_function("() => !document.querySelector('[data-stale=true]')")
    wait_for_app(page)
    assert_no_error(page)


def _headers(page: Page, key: str) -> list[str]:
    """The column headings of the table with `key` that the grid draws in its viewport.

    The grid (Glide) paints on a canvas and mirrors only the columns in view into an
    accessible `<table role=grid>`: a heading listed there is on screen without scrolling."""
    # a table with selections carries its key as a class; others: the page's first table
    selector = (
        f".st-key-{key} [data-testid='stDataFrame']" if key else "[data-testid='stDataFrame']"
    )
    grid = page.locator(selector).first
    grid.scroll_into_view_if_needed()
    grid.locator("th[role=columnheader]").first.wait_for(state="attached")
    return [
        h.strip() for h in grid.locator("th[role=columnheader]").all_text_contents() if h.strip()
    ]


@pytest.mark.parametrize(
    ("path", "key", "must_see"),
    [
        ("", "overview_worst", ["#", "Provider", "Unused cost", "Utilisation"]),
        ("providers", "providers_table", ["#", "Provider", "Utilisation", "Unused cost"]),
        ("providers?rank=unused_cost", "providers_table", ["#", "Provider", "Unused cost"]),
        ("regions", "", ["Region", "Utilisation", "Unused cost"]),
    ],
)
def test_ranked_tables_show_their_ranking_column_and_money_at_1440_px(
    app_server: AppServer, browser_page: Page, path: str, key: str, must_see: list[str]
) -> None:
    _open(browser_page, app_server, path)
    seen = _headers(browser_page, key)
    for heading in must_see:
        assert heading in seen, (heading, seen)


def test_rank_by_is_kept_in_the_url(app_server: AppServer, browser_page: Page) -> None:
    page = browser_page
    _open(page, app_server, "providers?rank=unused_cost")
    assert "rank=unused_cost" in page.url
    pressed = page.locator("[data-testid='stButtonGroup'] button[aria-checked='true']")
    assert pressed.first.text_content().strip() == "Most unused cost"
    assert "most unused capacity cost" in page.locator("[data-testid='stMain']").inner_text()


@pytest.mark.parametrize("path", PAGES)
def test_no_internals_on_screen(app_server: AppServer, browser_page: Page, path: str) -> None:
    page = browser_page
    _open(page, app_server, path)
    # canvas tables keep their cells off the DOM text: read them through the grid's cells
    text = page.inner_text("[data-testid='stMain']")
    cells = page.evaluate(
        "() => [...document.querySelectorAll('[role=gridcell]')].map(c => c.textContent)"
    )
    everything = text + "\n" + "\n".join(cells)
    assert not re.search(r"\bNone\b", everything), path
    assert not re.search(r"\{\s*\"[a-z_]+\"\s*:", everything), path  # raw JSON
    assert not re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", everything), path
    for code in RAW_LINE_CODES:
        assert code not in everything.replace("`", ""), (path, code)
    assert " 1 providers" not in everything and " 1 flags" not in everything


def test_one_spelling_per_service_line(app_server: AppServer, browser_page: Page) -> None:
    page = browser_page
    _open(page, app_server, "service_lines")
    text = page.locator("[data-testid='stMain']").text_content() or ""
    for label in ("Day case", "Diagnostics", "Chemotherapy", "Outpatients"):
        assert label in text
    assert "day_case" not in text and "Day Case" not in text


def test_overview_reconciles_the_three_contracted_figures(
    app_server: AppServer, browser_page: Page
) -> None:
    page = browser_page
    _open(page, app_server, "")
    text = page.inner_text("[data-testid='stMain']")
    assert "Three figures, three questions" in text
    assert "Contract value" in text and "Capacity value" in text
    # the synthetic world has no earlier period: the caption says so, no change is shown
    assert "No earlier period" in text
    assert "Changes compare" not in text
    money = re.findall(r"£[\d.,]+(?:bn|m|k)?", page.locator("[data-testid='stMetricValue']")
                       .all_inner_texts().__str__())  # fmt: skip
    assert money and all(re.fullmatch(r"£\d{1,3}(\.\d{1,2})?(bn|m|k)?", m) for m in money)


def test_overview_worst_provider_opens_its_profile(
    app_server: AppServer, browser_page: Page
) -> None:
    page = browser_page
    _open(page, app_server, "")
    # the grid paints on a canvas: click the first row's selection box (left of "#")
    grid = page.locator(".st-key-overview_worst [data-testid='stDataFrame']").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 15, box["y"] + 35 + 17)
    page.wait_for_url(re.compile(r"provider_profile\?.*p="), timeout=20_000)
    wait_for_app(page)
    assert_no_error(page)


def test_profile_without_a_provider_opens_the_worst(
    app_server: AppServer, browser_page: Page
) -> None:
    page = browser_page
    _open(page, app_server, "provider_profile")
    text = page.inner_text("[data-testid='stMain']")
    assert "most unused capacity cost" in text
    assert "p=" in page.url


def test_data_page_explains_rows_and_lists_rejections(
    app_server: AppServer, browser_page: Page
) -> None:
    page = browser_page
    _open(page, app_server, "data")
    text = page.inner_text("[data-testid='stMain']")
    assert "Rows read" in text and "summed to" in text
    assert "Files rejected" in text


def test_sql_page_opens_on_an_answer(app_server: AppServer, browser_page: Page) -> None:
    page = browser_page
    _open(page, app_server, "sql")
    page.get_by_text(re.compile(r"^[\d,]+ rows? · [\d.]+ s$")).first.wait_for()
    text = page.inner_text("[data-testid='stMain']")
    assert "do not apply here" in text
    assert "Tables and views" in text


@pytest.mark.parametrize("path", PAGES)
def test_every_page_passes_axe_wcag_21_aa(
    app_server: AppServer, browser_page: Page, path: str
) -> None:
    axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright")
    page = browser_page
    _open(page, app_server, path)
    results = axe_sync.Axe().run(
        page, options={"runOnly": {"type": "tag", "values": WCAG_AA}, "resultTypes": ["violations"]}
    )
    violations = results.response["violations"]
    summary = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
    assert not violations, summary


def test_money_format_matches_the_house_style() -> None:
    # the browser tests above compare shown text with these spellings
    assert format.gbp_compact(1_535_700_462) == "£1.54bn"
