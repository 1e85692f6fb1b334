"""The review pack from the provider profile, in a real browser: make it, download it, read it.

Run with `pytest -m browser tests/test_pack_browser.py`.
"""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from playwright.sync_api import Page
from pypdf import PdfReader

from capwatch.db import Database
from tests import browser_support
from tests.browser_support import AppServer, assert_no_error, wait_for_app

app_server = browser_support.app_server
browser_page = browser_support.browser_page

pytestmark = pytest.mark.browser


def test_download_a_pack_from_the_profile(app_server: AppServer, browser_page: Page) -> None:
    db = Database(app_server.db_path)
    try:
        code, name, nhs, capacity = db.query(
            "SELECT provider_code, provider_name, sum(nhs_units), sum(capacity_units) "
            "FROM utilisation_weekly GROUP BY ALL ORDER BY provider_code LIMIT 1"
        ).row(0)
    finally:
        db.close()
    page = browser_page
    page.goto(f"{app_server.url}/provider_profile?p={code}")
    wait_for_app(page)
    page.get_by_role("button", name="Make the review pack (PDF)").click()
    download_button = page.locator('[data-testid="stDownloadButton"]').filter(
        has_text=f"Download the review pack of {code}"
    )
    download_button.wait_for(timeout=120_000)
    assert_no_error(page)
    with page.expect_download() as info:
        download_button.click()
    download = info.value
    assert download.suggested_filename == f"review_pack_{code}.pdf"
    content = download.path().read_bytes()
    assert content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert f"{code} · {name}" in text
    assert "Synthetic data (fictional providers)" in text
    assert f"Page 1 of {len(reader.pages)}" in text
    total = f"All service lines {capacity:,} {nhs:,} {nhs / capacity * 100:.1f}%"
    assert total in text
    page.screenshot(path=str(app_server.screenshots / "provider_profile_pack.png"))
    records = [
        json.loads(line)
        for line in (app_server.db_path.parent / "audit.jsonl").read_text().splitlines()
    ]
    packs = [r for r in records if r["action"] == "pack"]
    assert packs and packs[-1]["what"]["provider"] == code
    assert packs[-1]["what"]["sha256"] == hashlib.sha256(content).hexdigest()
