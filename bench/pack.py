"""Benchmark of the contract review pack: one pack, and every pack of the default data.

    python -m bench.pack                 # the default data (seed 2020, scale 1)
    python -m bench.pack --db FILE       # an existing database

"One pack" is what `capwatch pack CODE --out FILE.pdf` does after start-up: open Chromium, load
plotly.js, gather the figures, draw the charts, print and fix the PDF (median of `--repeats`).
"All packs" prints every provider with figures in one Chromium, as `capwatch pack --verdict`
does. Wall and CPU seconds (this process and its children: Chromium) are reported, with the
load average, because the machine is shared. Results go to bench/results/pack.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from capwatch.analytics.filters import Filters
from capwatch.db import Database
from capwatch.load import ingest
from capwatch.pack.make import batch, make_pack, make_packs
from capwatch.synthetic import generate

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _default_db(folder: Path) -> Path:
    inputs = folder / "synthetic"
    generate(inputs, seed=2020, scale=1.0)
    db_path = folder / "capacity.duckdb"
    assert ingest([inputs], db_path).ok
    return db_path


def run(db_path: Path, repeats: int, audit: Path) -> dict[str, Any]:
    db = Database(db_path)
    codes = db.query(
        "SELECT DISTINCT provider_code FROM utilisation_weekly ORDER BY provider_code"
    )["provider_code"].to_list()
    one: list[float] = []
    one_cpu: list[float] = []
    for _ in range(repeats):
        t, cpu = time.perf_counter(), _cpu()
        with batch("pdf") as printer:
            make_pack(db, Filters(), codes[0], who="bench", page="bench", with_printer=printer,
                      audit_path=audit)  # fmt: skip
        one.append(time.perf_counter() - t)
        one_cpu.append(_cpu() - cpu)
    cpu, t = _cpu(), time.perf_counter()
    sizes = []
    with batch("pdf") as printer:
        for made in make_packs(db, Filters(), codes, fmt="pdf", who="bench", page="bench",
                               with_printer=printer, audit_path=audit):  # fmt: skip
            sizes.append(len(made.content))
    every = time.perf_counter() - t
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average_1m": os.getloadavg()[0],
        "one_pack_s": statistics.median(one),
        "one_pack_runs_s": one,
        "one_pack_cpu_s": statistics.median(one_cpu),
        "packs": len(codes),
        "all_packs_s": every,
        "all_packs_cpu_s": _cpu() - cpu,
        "mean_pdf_bytes": int(statistics.mean(sizes)),
    }


def markdown(r: dict[str, Any]) -> str:
    return (
        "| measure | value |\n|---|---|\n"
        f"| one pack (open Chromium, gather, draw, print), median of "
        f"{len(r['one_pack_runs_s'])} | {r['one_pack_s']:.1f} s wall, "
        f"{r['one_pack_cpu_s']:.1f} s CPU |\n"
        f"| all {r['packs']} packs of the default data, one Chromium | {r['all_packs_s']:.1f} s "
        f"wall, {r['all_packs_cpu_s']:.1f} s CPU |\n"
        f"| mean PDF size | {r['mean_pdf_bytes'] / 1024:.0f} KiB |\n"
        f"| load average (1 min) when measured | {r['load_average_1m']:.1f} on "
        f"{r['machine']} |\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="An existing database (default: build one).")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="capwatch-bench-pack-") as tmp:
        db_path = args.db or _default_db(Path(tmp))
        result = run(db_path, args.repeats, Path(tmp) / "audit.jsonl")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "pack.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "pack.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))


if __name__ == "__main__":
    main()
