"""Shared fixtures: small databases built through the real pipeline, once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from capwatch.load import ingest
from capwatch.synthetic import generate

SYNTHETIC_SEED = 2020
SYNTHETIC_SCALE = 0.03


@pytest.fixture(scope="session", autouse=True)
def own_audit_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each test process (each pytest-xdist worker) appends to its own audit log, never the
    checkout's data/audit.jsonl: the log is hash-chained, so two writers would break it. A
    test that sets CAPWATCH_AUDIT_LOG itself still wins (monkeypatch runs later)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CAPWATCH_AUDIT_LOG", str(tmp_path_factory.mktemp("audit") / "audit.jsonl"))
        yield


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
