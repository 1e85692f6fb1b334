"""bench/machine.py: a measurement is repeated while the machine is busy, and says so."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from bench import machine


def _loads(*values: float) -> Iterator[float]:
    yield from values


@pytest.fixture
def two_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)


@pytest.mark.usefixtures("two_cpus")
def test_a_quiet_machine_measures_once() -> None:
    loads = _loads(0.5, 1.5)  # before, after: never above 2 CPUs
    calls: list[int] = []

    def measure() -> int:
        calls.append(1)
        return len(calls)

    got = machine.steady(measure, load=lambda: next(loads), sleep=lambda s: None)
    assert calls == [1]
    assert (got.value, got.attempts, got.load, got.noisy) == (1, 1, 1.5, False)


@pytest.mark.usefixtures("two_cpus")
def test_a_busy_machine_is_measured_again_and_the_quietest_attempt_kept() -> None:
    # attempt 1 sees 6.0 (busy), attempt 2 sees 3.0 (busy), attempt 3 sees 2.5 (busy, last)
    loads = _loads(6.0, 1.0, 3.0, 2.0, 2.5, 1.0)
    values = iter([10.0, 20.0, 30.0])
    slept: list[float] = []
    got = machine.steady(
        lambda: next(values), retries=2, wait_s=7, load=lambda: next(loads), sleep=slept.append
    )
    assert got.loads_seen == (6.0, 3.0, 2.5)
    assert (got.value, got.load, got.attempts) == (30.0, 2.5, 3)
    assert got.noisy  # even the quietest attempt had more work than cores
    assert slept == [7, 7]


@pytest.mark.usefixtures("two_cpus")
def test_the_retries_stop_once_the_load_falls() -> None:
    loads = _loads(5.0, 5.0, 1.0, 1.9)
    values = iter(["busy run", "quiet run"])
    got = machine.steady(
        lambda: next(values), retries=5, load=lambda: next(loads), sleep=lambda s: None
    )
    assert (got.value, got.attempts, got.noisy) == ("quiet run", 2, False)
    assert got.as_dict() == {
        "load_1min": 1.9,
        "loads_seen": [5.0, 1.9],
        "attempts": 2,
        "noisy": False,
    }


@pytest.mark.usefixtures("two_cpus")
def test_the_report_header_marks_a_busy_start() -> None:
    m = {
        "date": "2026-12-02 14:00 UTC",
        "cpus": 2,
        "memory_gib": 23.5,
        "python": "3.11.7",
        "polars": "2.1.0",
        "duckdb": "2.0.1",
    }
    assert "noisy" in machine.header({**m, "load_at_start": [7.2, 6.0, 5.0]})
    quiet = machine.header({**m, "load_at_start": [1.2, 1.0, 0.9]})
    assert "load 1.2 / 1.0 / 0.9" in quiet and "noisy" not in quiet
