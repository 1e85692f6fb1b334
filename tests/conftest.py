"""Shared fixtures: small databases built through the real pipeline, once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from capwatch.load import ingest
from capwatch.synthetic import generate

SYNTHETIC_SEED = 2020
SYNTHETIC_SCALE = 0.03


@pytest.fixture
def apptest_navigation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep Streamlit's AppTest on `app.py`'s `st.navigation` for every rerun.

    AppTest resets `PagesManager.uses_pages_directory` to None before each run, so with a
    `pages/` folder beside `app.py` every rerun after the first takes the legacy
    pages-directory path and runs the page script alone, skipping `app.py` (its sidebar, its
    badge). The real server sets the flag to False once `st.navigation` has run; this does the
    same before each run. Use it with `pytestmark = pytest.mark.usefixtures(...)`.
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self: PagesManager, *args: object, **kwargs: object) -> None:
        PagesManager.uses_pages_directory = False
        original(self, *args, **kwargs)

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture(scope="session")
def synthetic_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic 2020 dataset in the input contract (all regions, all lines)."""
    out = tmp_path_factory.mktemp("synthetic") / "inputs"
    generate(out, seed=SYNTHETIC_SEED, scale=SYNTHETIC_SCALE)
    return out


@pytest.fixture(scope="session")
def synthetic_db(synthetic_inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file loaded from `synthetic_inputs`. Read it only: it is shared."""
    path = tmp_path_factory.mktemp("db") / "capacity.duckdb"
    report = ingest([synthetic_inputs], path)
    assert report.ok, [str(p) for o in report.outcomes for p in o.problems]
    return path
