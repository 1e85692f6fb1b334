"""The Diagnostics (published) page in a real browser, on the demo's data: synthetic contract
data beside the shipped extract of real DM01 months. Run with `pytest -m browser`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from capwatch.db import Database
from tests import browser_support
from tests.browser_support import SCREENSHOTS, AppServer, assert_no_error, serve, stop, wait_for_app
from tests.published_support import ROOT

browser_page = browser_support.browser_page
pytestmark = pytest.mark.browser
EXTRACT = ROOT / "data" / "published"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    from capwatch.load import ingest
    from capwatch.synthetic import generate

    folder = tmp_path_factory.mktemp("diag_browser")
    generate(folder / "synthetic", seed=2020, scale=0.03)
    db_path = folder / "capacity.duckdb"
    assert ingest([folder / "synthetic", EXTRACT], db_path).ok
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    proc, url = serve(db_path, folder / "streamlit.log")
    try:
        yield AppServer(url=url, db_path=db_path, screenshots=SCREENSHOTS)
    finally:
        stop(proc)


def test_published_page_is_labelled_and_its_csv_matches_sql(
    demo_server: AppServer, browser_page: Page
) -> None:
    page = browser_page
    page.goto(f"{demo_server.url}/diagnostics")
    wait_for_app(page)
    assert_no_error(page)
    body = page.inner_text("body")
    assert "Real published data — NHS England DM01" in body
    assert "Open Government Licence v3.0" in body
    assert "Synthetic data" in body  # the contract data's badge stays, and says what it is
    assert "No profile links: the contract data loaded is synthetic" in body
    page.screenshot(path=str(demo_server.screenshots / "diagnostics.png"), full_page=True)
    button = page.locator('[data-testid="stDownloadButton"]').filter(has_text="Download CSV")
    with page.expect_download() as info:
        button.last.click()  # the IS organisations table, for the latest month
    download = info.value
    assert "is_organisations_2020-09" in download.suggested_filename
    raw = download.path().read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    db = Database(demo_server.db_path)
    try:
        expected = db.query(
            "SELECT org_code, sum(activity) AS activity FROM diagnostics_vs_baseline "
            "WHERE sector = 'independent' AND month = DATE '2020-09-01' "
            "GROUP BY org_code ORDER BY org_code"
        ).rows()
    finally:
        db.close()
    assert [(r["org_code"], int(r["activity"])) for r in rows] == expected
    # N-coded organisations, September 2020: 87,562 tests (../shared/real/README.md)
    assert sum(int(r["activity"]) for r in rows if r["org_code"].startswith("N")) == 87_562
