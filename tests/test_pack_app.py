"""The review pack button in the real app with a simulated regional user: scope and audit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from capwatch.db import Database
from capwatch.ui.scripts import ENTRY_SCRIPT, page_file
from tests.test_access_app import AUTH, NW, env  # noqa: F401  (the fixture, shared)

CHROMIUM = Path("/usr/bin/chromium")


def _profile(code: str) -> AppTest:
    at = AppTest.from_file(str(ENTRY_SCRIPT), default_timeout=180)
    at.secrets["auth"] = AUTH
    at.user = NW
    at.query_params["p"] = code
    at.run()
    at.switch_page(page_file("provider_profile")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _only_in(db: Path, region: str, other: str) -> str:
    rows = Database(db).query(
        "SELECT provider_code FROM providers p WHERE region = ? AND provider_code NOT IN "
        "(SELECT provider_code FROM sites WHERE region = ?) ORDER BY 1",
        [region, other],
    )
    return str(rows["provider_code"][0])


def test_no_pack_of_another_regions_provider(env: Path) -> None:  # noqa: F811
    at = _profile(_only_in(env, "London", "North West"))
    assert not [b for b in at.button if b.key == "profile_pack"]


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}")
def test_a_regional_user_makes_their_providers_pack(env: Path, tmp_path: Path) -> None:  # noqa: F811
    code = _only_in(env, "North West", "London")
    at = _profile(code)
    at.button(key="profile_pack").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    packs = [r for r in records if r["action"] == "pack"]
    assert len(packs) == 1
    assert packs[0]["who"] == NW["email"] and packs[0]["what"]["provider"] == code
    assert packs[0]["page"] == "provider_profile"
