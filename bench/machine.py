"""How busy the machine is, beside every benchmark figure, and measurements repeated when busy.

The benchmark machine is shared, so a figure means little without the load it was measured
under. `steady` runs one measurement and, while the 1-minute load average exceeds the number of
CPUs (the machine is oversubscribed), waits a little and measures again, up to `retries` more
times; it keeps the attempt that ran under the lowest load and records every load seen, so a
figure that could only be measured on a busy machine says so (`noisy`).

    CAPWATCH_BENCH_RETRIES=0 python -m bench.run    # never repeat (record the load only)
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")

RETRIES = int(os.environ.get("CAPWATCH_BENCH_RETRIES", "2"))
RETRY_WAIT_S = float(os.environ.get("CAPWATCH_BENCH_RETRY_WAIT_S", "15"))


def cpus() -> int:
    return os.cpu_count() or 1


def load_1min() -> float:
    return os.getloadavg()[0]


def busy(load: float | None = None) -> bool:
    """The 1-minute load average exceeds the CPU count: more work than cores."""
    return (load_1min() if load is None else load) > cpus()


def describe() -> str:
    """The load right now, e.g. 'load 6.3 / 5.2 / 4.1 (1/5/15 min) on 2 CPUs'."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f} / {five:.1f} / {fifteen:.1f} (1/5/15 min) on {cpus()} CPUs"


@dataclass(frozen=True)
class Measured(Generic[T]):
    """One measurement's value with the machine's load while it ran."""

    value: T
    load: float  # the higher 1-minute load average of the start and end of the kept attempt
    loads_seen: tuple[float, ...]  # that figure for every attempt, in order
    attempts: int

    @property
    def noisy(self) -> bool:
        return busy(self.load)

    def as_dict(self) -> dict[str, Any]:
        return {
            "load_1min": round(self.load, 2),
            "loads_seen": [round(x, 2) for x in self.loads_seen],
            "attempts": self.attempts,
            "noisy": self.noisy,
        }


def steady(
    measure: Callable[[], T],
    *,
    retries: int = RETRIES,
    wait_s: float = RETRY_WAIT_S,
    load: Callable[[], float] = load_1min,
    sleep: Callable[[float], None] = time.sleep,
) -> Measured[T]:
    """Run `measure`; while the machine was busy during it, wait `wait_s` and run it again, up
    to `retries` more times. Keeps the attempt measured under the lowest load."""
    attempts: list[tuple[float, T]] = []
    for attempt in range(retries + 1):
        before = load()
        value = measure()
        seen = max(before, load())
        attempts.append((seen, value))
        if not busy(seen) or attempt == retries:
            break
        sleep(wait_s)
    best = min(range(len(attempts)), key=lambda i: attempts[i][0])
    return Measured(
        value=attempts[best][1],
        load=attempts[best][0],
        loads_seen=tuple(seen for seen, _ in attempts),
        attempts=len(attempts),
    )


def info() -> dict[str, Any]:
    """The machine a run was measured on, with its load at the start."""
    import duckdb
    import polars

    one, five, fifteen = os.getloadavg()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": cpus(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "polars": polars.__version__,
        "duckdb": duckdb.__version__,
        "platform": platform.platform(),
        "load_at_start": [round(one, 2), round(five, 2), round(fifteen, 2)],
    }


def header(m: dict[str, Any]) -> str:
    """The first line of every benchmark report: when, on what, and how busy it was."""
    load = m.get("load_at_start")
    busy_note = ""
    if load is not None:
        busy_note = f", load {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) at start"
        if load[0] > m["cpus"]:
            busy_note += " (busy: more work than cores, figures are noisy)"
    return (
        f"Measured {m['date']} on {m['cpus']} CPUs, {m['memory_gib']} GiB, Python {m['python']}, "
        f"Polars {m['polars']}, DuckDB {m['duckdb']}{busy_note}."
    )
