"""The dashboard in a real browser: `streamlit run app.py` driven by headless Debian Chromium.

Run with `pytest -m browser tests/test_browser.py`. Screenshots of every page are saved to
test-output/screenshots/.
"""

from __future__ import annotations

import ast
import csv
import io
import re

import openpyxl
import pytest
from playwright.sync_api import Page

from capwatch.db import Database
from capwatch.ui import format
from capwatch.ui.pages import DEFAULT
from capwatch.ui.pages import PAGES as REGISTRY
from tests import browser_support
from tests.browser_support import ROOT, AppServer, assert_no_error, wait_for_app

app_server = browser_support.app_server  # fixtures, shared with other browser tests
browser_page = browser_support.browser_page

pytestmark = pytest.mark.browser


# Every page of the registry at its own path; the default page (Overview) at "/" as well
# (Streamlit serves it there, and the entry script's hidden alias answers "/overview").
def _heading(name: str) -> str:
    """The `st.title(...)` a page file writes (Diagnostics' differs from its navigation title)."""
    tree = ast.parse((ROOT / "pages" / f"{name}.py").read_text(encoding="utf-8"))
    return next(
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and ast.unparse(node.func) == "st.title"
        and isinstance(node.args[0], ast.Constant)
    )


PAGES = {"": _heading(DEFAULT.name)} | {p.url_path: _heading(p.name) for p in REGISTRY}


def _query(server: AppServer, sql: str) -> list[tuple]:
    db = Database(server.db_path)
    try:
        return db.query(sql).rows()
    finally:
        db.close()


def _metric(page: Page, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=label)
    )
    return metric.first.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_every_page_renders_without_error(app_server: AppServer, browser_page: Page) -> None:
    page = browser_page
    for path, title in PAGES.items():
        page.goto(f"{app_server.url}/{path}")
        wait_for_app(page)
        assert_no_error(page)
        heading = page.locator('[data-testid="stMainBlockContainer"] h1').first.inner_text()
        assert title in heading
        assert "Page not found" not in page.inner_text("body"), path
        assert "Synthetic data" in page.inner_text("body")
        shot = app_server.screenshots / f"{path or 'overview'}.png"
        page.screenshot(path=str(shot), full_page=True)


def test_headline_figures_equal_sql(app_server: AppServer, browser_page: Page) -> None:
    page = browser_page
    page.goto(f"{app_server.url}/?region=London")
    wait_for_app(page)
    assert_no_error(page)
    ((capacity, nhs, unused),) = _query(
        app_server,
        "SELECT sum(capacity_units), sum(nhs_units), sum(unused_capacity_cost_gbp) "
        "FROM utilisation_weekly WHERE region = 'London'",
    )
    assert _metric(page, "Capacity contracted") == f"{format.units(capacity)} units"
    assert _metric(page, "Utilisation") == format.pct(nhs / capacity)
    assert _metric(page, "Unused capacity cost") == format.gbp_compact(unused)
    assert "region=London" in page.url


def test_click_through_providers_to_profile(app_server: AppServer, browser_page: Page) -> None:
    page = browser_page
    page.goto(f"{app_server.url}/providers")
    wait_for_app(page)
    ((lowest,),) = _query(
        app_server,
        "SELECT provider_code FROM utilisation_weekly GROUP BY provider_code "
        "ORDER BY sum(nhs_units) / sum(capacity_units) LIMIT 1",
    )
    page.get_by_role("link", name=re.compile("Open profile")).click()
    page.wait_for_url(re.compile(r"/provider_profile\?.*p=" + lowest))
    wait_for_app(page)
    assert_no_error(page)
    header = page.locator('[data-testid="stMainBlockContainer"] h2').first.inner_text()
    assert header.startswith(f"{lowest} · ")
    assert "Ranked 1 of" in page.inner_text("body")


def test_changing_a_filter_updates_the_url_and_figures(
    app_server: AppServer, browser_page: Page
) -> None:
    page = browser_page
    page.goto(f"{app_server.url}/")
    wait_for_app(page)
    region = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(
        has_text="Region"
    )
    region.first.click()
    page.keyboard.type("North West")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.wait_for_url(re.compile(r"region=North(\+|%20)West"))
    wait_for_app(page)
    ((capacity,),) = _query(
        app_server, "SELECT sum(capacity_units) FROM utilisation_weekly WHERE region = 'North West'"
    )
    page.wait_for_function(
        "(want) => document.body.innerText.includes(want)", arg=f"{format.units(capacity)} units"
    )
    assert _metric(page, "Capacity contracted") == f"{format.units(capacity)} units"
    # The filter follows the user to another page and stays in the address.
    page.locator('[data-testid="stSidebarNav"] a', has_text="Regions").click()
    page.wait_for_url(re.compile(r"/regions\?.*region=North(\+|%20)West"))
    wait_for_app(page)
    assert_no_error(page)


def test_download_providers_csv(app_server: AppServer, browser_page: Page) -> None:
    page = browser_page
    page.goto(f"{app_server.url}/providers")
    wait_for_app(page)
    button = page.locator('[data-testid="stDownloadButton"]').filter(has_text="Download CSV")
    with page.expect_download() as info:
        button.first.click()
    download = info.value
    # The browser tests' data are synthetic: the file name says so.
    assert download.suggested_filename.startswith("capwatch-synthetic_providers_by_utilisation")
    data = download.path().read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    expected = _query(
        app_server,
        "SELECT provider_code, sum(nhs_units) / sum(capacity_units) AS u "
        "FROM utilisation_weekly GROUP BY provider_code ORDER BY u",
    )
    assert [r["provider_code"] for r in rows] == [code for code, _ in expected]
    assert [float(r["utilisation"]) for r in rows] == pytest.approx([u for _, u in expected])
    assert rows[0]["rank"] == "1"


def test_download_providers_excel(app_server: AppServer, browser_page: Page) -> None:
    page = browser_page
    page.goto(f"{app_server.url}/providers")
    wait_for_app(page)
    with page.expect_download() as info:
        page.locator(".st-key-dl_providers_xlsx button").click()  # built on the click
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    assert download.suggested_filename.startswith("capwatch-synthetic_providers_by_utilisation")
    book = openpyxl.load_workbook(io.BytesIO(download.path().read_bytes()))
    assert book.sheetnames == ["providers_by_utilisation", "About"]
    rows = list(book["providers_by_utilisation"].iter_rows(values_only=True))
    header, values = rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert "utilisation" in header
    expected = _query(
        app_server,
        "SELECT provider_code, sum(nhs_units) / sum(capacity_units) AS u "
        "FROM utilisation_weekly GROUP BY provider_code ORDER BY u",
    )
    assert [v["provider_code"] for v in values] == [code for code, _ in expected]
    assert [v["utilisation"] for v in values] == pytest.approx([u for _, u in expected])
    loads = _query(app_server, "SELECT min(load_id), max(load_id) FROM load_log")[0]
    about = dict(r[:2] for r in book["About"].iter_rows(min_row=3, values_only=True) if r[0])
    assert about["Data"].startswith(f"load ids {loads[0]}-{loads[1]} ")
    assert about["Synthetic data"].startswith("SYNTHETIC: fictional providers")


def test_excel_clicked_just_after_a_csv_arrives_too(
    app_server: AppServer, browser_page: Page
) -> None:
    # A CSV click used to rerun the page, which revoked the Excel button's deferred file id:
    # an Excel clicked before the browser had the new id got nothing ("Deferred file ...
    # not found" in the server log).
    page = browser_page
    page.goto(f"{app_server.url}/providers")
    wait_for_app(page)
    csv_button = page.locator(".st-key-dl_providers button")
    excel_button = page.locator(".st-key-dl_providers_xlsx button")
    excel_button.wait_for()
    files = []
    page.on("download", lambda d: files.append(d))
    csv_button.click()
    page.wait_for_timeout(300)
    excel_button.click()
    deadline = 60_000
    while len(files) < 2 and deadline > 0:
        page.wait_for_timeout(250)
        deadline -= 250
    names = sorted(f.suggested_filename for f in files)
    assert [n.rsplit(".", 1)[1] for n in names] == ["csv", "xlsx"], names
    by_kind = {
        n.rsplit(".", 1)[1]: f
        for n, f in zip(names, sorted(files, key=lambda f: f.suggested_filename), strict=True)
    }
    expected = [
        code
        for code, _ in _query(
            app_server,
            "SELECT provider_code, sum(nhs_units) / sum(capacity_units) AS u "
            "FROM utilisation_weekly GROUP BY provider_code ORDER BY u",
        )
    ]
    rows = list(csv.DictReader(io.StringIO(by_kind["csv"].path().read_bytes().decode("utf-8-sig"))))
    assert [r["provider_code"] for r in rows] == expected
    book = openpyxl.load_workbook(io.BytesIO(by_kind["xlsx"].path().read_bytes()))
    sheet = list(book["providers_by_utilisation"].iter_rows(values_only=True))
    code_at = sheet[0].index("provider_code")
    assert [r[code_at] for r in sheet[1:]] == expected
