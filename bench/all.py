"""The whole benchmark, in the order the figures are published, then the docs regenerated.

    python -m bench.all            # about 40 minutes on 2 quiet cores
    python -m bench.all --quick    # scale 1 only, fewer repeats: a check that every part runs

Runs, each in a child process: `bench.run` (ingest at scales 1, 10 and 50 against DuckDB's
bare load and pandas + SQLite, page analytics, flags, verdicts and their backtest, `--replace`
and `unload` at scale 10, generation, first render, demo start-up); `bench.ingest_ratio`
(capwatch and the bare load interleaved, wall and CPU time, and the price of storage version
1.0); `bench.exports` (CSV and workbook of the largest view); `bench.published` (one DM01 month
and all 37); `bench.pack` (one review pack and all of them); `bench.interactive` (every page's
time to interactive in Chromium against a trivial Streamlit page). Then `python -m
capwatch.docs` puts their tables into docs/benchmark.md and the headline figures into the
README. Each part prints the machine's load beside its figures; a part that fails stops the
run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from bench import machine

FULL = [
    ["bench.run", "--scales", "1", "10", "--ingest-only-scales", "50"],
    ["bench.ingest_ratio", "--scale", "10", "--repeats", "3"],
    ["bench.exports"],
    ["bench.published"],
    ["bench.pack"],
    ["bench.interactive"],
]
QUICK = [
    ["bench.run", "--scales", "1", "--repeats", "1", "--page-runs", "5",
     "--ingest-only-scales", "--replace-scales", "1", "--skip", "demo"],
    ["bench.ingest_ratio", "--scale", "1", "--repeats", "1"],
    ["bench.exports", "--repeats", "1"],
    ["bench.published", "--repeats", "1"],
    ["bench.pack", "--repeats", "1"],
    ["bench.interactive", "--repeats", "2"],
]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip", nargs="*", default=[], help="parts to leave out, e.g. bench.pack")
    args = parser.parse_args()
    for part in QUICK if args.quick else FULL:
        if part[0] in args.skip:
            continue
        print(f"== {' '.join(part)} ({machine.describe()})", flush=True)
        if subprocess.run([sys.executable, "-m", *part]).returncode != 0:
            print(f"{part[0]} failed: stopping", file=sys.stderr)
            return 1
    return subprocess.run([sys.executable, "-m", "capwatch.docs"]).returncode


if __name__ == "__main__":
    sys.exit(main())
