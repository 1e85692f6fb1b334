"""Benchmark: load all 37 published DM01 months (Jul 2017 – Sep 2020) and the ODS list.

    python -m bench.published     # 3 runs, median; writes bench/results/published.json and .md

Each run is `capwatch ingest ../shared/real/dm01_provider ../shared/real/ods` into a fresh
database, in a child process (so start-up and imports count, as a data manager sees them).
Also timed: one month alone (the last file), reading and checking the 37 workbooks alone (no
database), in this process, the published page's analytics on the loaded database, and the
Making Data Count charts (national, the seven regions, and one IS organisation). Target
(issue 22): ingest under 10 s, page under 1 s. CAPWATCH_SHARED_REAL points at another copy
of ../shared/real.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import machine

ROOT = Path(__file__).resolve().parent.parent
REAL = Path(os.environ.get("CAPWATCH_SHARED_REAL") or ROOT.parent / "shared" / "real")
RESULTS = ROOT / "bench" / "results"


def _ingest_once(db: Path, *paths: Path) -> float:
    """Wall seconds of one ingest of `paths` into `db` (removed first: a busy machine repeats
    it); all 37 months and the ODS list when no path is given."""
    db.unlink(missing_ok=True)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "capwatch", "ingest",
         *map(str, paths or (REAL / "dm01_provider", REAL / "ods")), "--db", str(db)],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - started


def markdown(r: dict[str, Any]) -> str:
    noisy = " (busy: more work than cores, figures are noisy)" if r["noisy"] else ""
    n = r["files"]
    rows = [
        (f"`capwatch ingest` of one month ({r['month']})", f"{r['month_ingest_s']:.1f} s"),
        (f"`capwatch ingest` of all {n} months and the ODS list ({r['rows']:,} rows)",
         f"{r['ingest_s']:.1f} s"),
        (f"reading and checking the {n} workbooks alone", f"{r['read_and_check_s']:.1f} s"),
        ("the Diagnostics page's analytics", f"{r['page_analytics_s'] * 1000:.0f} ms"),
        ("the Making Data Count charts (England, 7 regions, one organisation)",
         f"{r['spc_charts_s'] * 1000:.0f} ms"),
    ]  # fmt: skip
    head = (
        f"Published DM01, measured {r['when']} on {r['cpus']} CPUs, load {r['load_1min']:.1f}"
        f"{noisy}, median of {r['repeats']}:"
    )
    table = [f"| {what} | {value} |" for what, value in rows]
    return "\n".join([head, "", "| what | wall |", "|---|---|", *table])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not (REAL / "dm01_provider").is_dir():
        print(f"no published files at {REAL}: nothing to measure")
        return 1
    from capwatch.analytics import diagnostics, diagnostics_spc
    from capwatch.analytics.filters import Filters
    from capwatch.db import Database
    from pipelines.published import dm01

    files = sorted((REAL / "dm01_provider").rglob("*.xls"))
    print(machine.describe(), flush=True)
    ingest_s: list[float] = []
    month_s: list[float] = []
    loads: list[float] = []
    read_s: list[float] = []
    page_s: list[float] = []
    spc_s: list[float] = []
    rows = 0
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "bench.duckdb"
            run = machine.steady(lambda db=db: _ingest_once(db))  # type: ignore[misc]
            ingest_s.append(run.value)
            loads.append(run.load)
            one = Path(tmp) / "month.duckdb"
            month = machine.steady(lambda one=one: _ingest_once(one, files[-1]))  # type: ignore[misc]
            month_s.append(month.value)
            loads.append(month.load)
            started = time.perf_counter()
            rows = sum(dm01.read_dm01(f).frame.height for f in files)
            read_s.append(time.perf_counter() - started)
            reader = Database(db)
            diagnostics.diagnostics(reader, Filters())  # first query opens the file
            started = time.perf_counter()
            diagnostics.diagnostics(reader, Filters(), "mri")
            page_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            diagnostics_spc.is_chart(reader)
            for region in diagnostics_spc.keys(reader, "region"):
                diagnostics_spc.is_chart(reader, "region", region)
            diagnostics_spc.is_chart(reader, "organisation", "NT4")
            spc_s.append(time.perf_counter() - started)
            reader.close()
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "cpus": machine.cpus(),
        "load_1min": max(loads),  # the busiest kept ingest run
        "noisy": machine.busy(max(loads)),
        "files": len(files),
        "rows": rows,
        "repeats": args.repeats,
        "ingest_s": round(statistics.median(ingest_s), 2),
        "month": files[-1].stem,
        "month_ingest_s": round(statistics.median(month_s), 2),
        "read_and_check_s": round(statistics.median(read_s), 2),
        "page_analytics_s": round(statistics.median(page_s), 3),
        "spc_charts_s": round(statistics.median(spc_s), 3),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "published.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "published.md").write_text(markdown(result) + "\n")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
