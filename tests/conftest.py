"""Shared fixtures: small databases built through the real pipeline, once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from capwatch.load import ingest
from capwatch.synthetic import generate

SYNTHETIC_SEED = 2020
SYNTHETIC_SCALE = 0.03


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
