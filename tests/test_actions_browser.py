"""The Actions page in a real browser (headless Chromium): the ranked table with its money on
screen at 1440 px, a drill to the provider profile at its verdict, CSV and Excel downloads,
and a shared link (region and as-of week) that reopens the same view."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page

from capwatch.analytics.filters import Filters
from capwatch.analytics.verdicts import headline, verdicts
from capwatch.db import Database
from tests import browser_support
from tests.browser_support import AppServer, assert_no_error, wait_for_app

browser_page = browser_support.browser_page
pytestmark = pytest.mark.browser
PORT = 8761  # this port range (8760-8769)


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    from capwatch.load import ingest
    from capwatch.synthetic import generate

    folder = tmp_path_factory.mktemp("actions_browser")
    generate(folder / "synthetic", seed=2020, scale=0.03)
    db_path = folder / "capacity.duckdb"
    assert ingest([folder / "synthetic"], db_path).ok
    browser_support.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    proc, url = browser_support.serve(db_path, folder / "streamlit.log", port=PORT)
    try:
        yield AppServer(url=url, db_path=db_path, screenshots=browser_support.SCREENSHOTS)
    finally:
        browser_support.stop(proc)


def _verdicts(path: Path, filters: Filters, as_of: date | None = None):  # type: ignore[no-untyped-def]
    db = Database(path)
    try:
        return verdicts(db, filters, as_of)
    finally:
        db.close()


def test_actions_table_drill_downloads_and_shared_link(
    app_server: AppServer, browser_page: Page
) -> None:
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 1000})
    national = _verdicts(app_server.db_path, Filters())
    region = national["region"].value_counts(sort=True)["region"][0]
    shown = _verdicts(app_server.db_path, Filters(regions=(region,)))

    # Actions is first in the navigation
    page.goto(app_server.url)
    wait_for_app(page)
    nav = page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
    assert nav[0].split()[-1] == "Actions"

    # a shared link: region and as-of week
    page.goto(f"{app_server.url}/actions?region={region.replace(' ', '+')}")
    wait_for_app(page)
    assert_no_error(page)
    assert headline(shown) in page.inner_text("body")
    grid = page.locator(".st-key-actions_table [data-testid='stDataFrame']")
    box = grid.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1440  # the table fits the screen
    page.screenshot(path=str(app_server.screenshots / "actions.png"), full_page=True)

    # CSV: the rows shown, in their ranked order, every field
    with page.expect_download() as info:
        page.locator(".st-key-dl_actions button").click()
    rows = list(csv.DictReader(io.StringIO(info.value.path().read_bytes().decode("utf-8-sig"))))
    assert [r["contract_id"] for r in rows] == shown["contract_id"].to_list()
    assert [r["verdict"] for r in rows] == shown["verdict"].to_list()
    assert float(rows[0]["saving_per_month_gbp"]) == pytest.approx(
        float(shown["saving_per_month_gbp"][0])
    )
    # Excel: the same rows and an About sheet
    with page.expect_download() as info:
        page.locator(".st-key-dl_actions_xlsx button").click()
    book = openpyxl.load_workbook(io.BytesIO(info.value.path().read_bytes()))
    assert book.sheetnames == ["verdicts", "About"]
    sheet = list(book["verdicts"].iter_rows(values_only=True))
    assert [r[0] for r in sheet[1:]] == shown["contract_id"].to_list()

    # drill: select the first row; the profile opens at that provider's verdict
    first = shown.row(0, named=True)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first row's selection box
    page.wait_for_url("**/provider_profile?**", timeout=30_000)
    wait_for_app(page)
    assert_no_error(page)
    body = page.inner_text("body")
    assert first["provider_code"] in body and first["sentence"] in body

    # a shared link with an as-of week reopens that week's verdicts
    week = date(2020, 7, 6)
    then = _verdicts(app_server.db_path, Filters(regions=(region,)), week)
    page.goto(f"{app_server.url}/actions?asof={week.isoformat()}&region={region.replace(' ', '+')}")
    wait_for_app(page)
    assert_no_error(page)
    assert "asof=2020-07-06" in page.url
    assert headline(then) in page.inner_text("body")
    assert headline(then) != headline(shown)  # 6 Jul: nothing released yet
