"""capwatch ingest against DuckDB's bare load, side by side: the ratio that is meaningful on a
busy machine.

    nice -n 10 python -m bench.ingest_ratio --scale 10 --repeats 5

Runs, interleaved in rounds so that both see the same load: `capwatch ingest` of the whole
synthetic folder, DuckDB's bare `CREATE TABLE AS SELECT * FROM read_csv(...)` of its activity
files (the floor), and both again with the storage format flipped (capwatch in DuckDB's
default format; the floor in storage version 1.0, as capwatch writes), to price the format
the DuckDB 1.x tools need. Each figure is the median of the rounds; the ratio is the median
of the per-round ratios. Every run records the machine's load (bench/machine.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import machine
from bench.run import DATA, RESULTS, activity_files, activity_rows, dataset

# Runs argv as a child; prints its wall seconds, peak RSS KiB, CPU seconds (user + system)
# and exit code. CPU time is much less disturbed by other work on the machine than wall time.
_MEASURE = """
import resource, subprocess, sys, time
t = time.perf_counter()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
wall = time.perf_counter() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(wall, r.ru_maxrss, r.ru_utime + r.ru_stime, rc)
"""


def measure(argv: list[str]) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MiB, CPU seconds) of one child process."""
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *argv], capture_output=True, text=True, check=True
    ).stdout.split()
    if int(out[3]) != 0:
        raise RuntimeError(f"{argv[:4]} exited {out[3]}")
    return float(out[0]), int(out[1]) / 1024, float(out[2])


_FLOOR = """
import sys, duckdb
config = {"storage_compatibility_version": sys.argv[2]} if sys.argv[2] != "default" else {}
con = duckdb.connect(sys.argv[1], config=config)
con.execute("CREATE TABLE activity AS SELECT * FROM read_csv(?)", [sys.argv[3:]])
con.close()
"""

# capwatch ingest with the database written in DuckDB's own default storage format
_CAPWATCH_DEFAULT_STORAGE = """
import sys
import capwatch.db
capwatch.db.STORAGE_VERSION = "latest"
from capwatch.cli import main
sys.argv = ["capwatch", *sys.argv[1:]]
main()
"""


def _variants(folder: Path, files: list[str], baseline: Path | None = None) -> dict[str, Any]:
    py = sys.executable
    extra: dict[str, Any] = {}
    if baseline is not None:  # an older capwatch's source tree (e.g. from `git archive`)
        env = ["env", f"PYTHONPATH={baseline}"]
        extra["capwatch_baseline"] = lambda db: [
            *env, py, "-m", "capwatch", "ingest", str(folder), "--db", db,
        ]  # fmt: skip
    return extra | {
        "capwatch": lambda db: [py, "-m", "capwatch", "ingest", str(folder), "--db", db],
        "floor": lambda db: [py, "-c", _FLOOR, db, "default", *files],
        "capwatch_default_storage": lambda db: [
            py, "-c", _CAPWATCH_DEFAULT_STORAGE, "ingest", str(folder), "--db", db,
        ],
        "floor_storage_v1": lambda db: [py, "-c", _FLOOR, db, "v1.0.0", *files],
    }  # fmt: skip


def run(
    scale: float, repeats: int, only: list[str] | None, baseline: Path | None = None
) -> dict[str, Any]:
    folder = dataset(scale)
    files = activity_files(folder)
    variants = _variants(folder, files, baseline)
    names = [n for n in variants if not only or n in only]
    samples: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    for round_ in range(repeats):
        for name in names:

            def once(name: str = name) -> tuple[float, float, float]:
                with tempfile.TemporaryDirectory(dir=DATA) as tmp:
                    return measure(variants[name](str(Path(tmp) / "x.duckdb")))

            got = machine.steady(once)
            wall, peak, cpu = got.value
            samples[name].append(
                {"wall_s": wall, "peak_rss_mib": peak, "cpu_s": cpu, **got.as_dict()}
            )
            print(
                f"round {round_ + 1} {name:26} {wall:6.2f} s {peak:7.0f} MiB {cpu:6.2f} CPU s "
                f"(load {got.load:.1f}, {got.attempts} attempt(s))",
                flush=True,
            )
    out: dict[str, Any] = {
        "scale": scale,
        "activity_rows": activity_rows(folder),
        "repeats": repeats,
        "machine": machine.info(),
    }
    for name, runs in samples.items():
        out[name] = {
            "wall_s": statistics.median(r["wall_s"] for r in runs),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
            "cpu_s": statistics.median(r["cpu_s"] for r in runs),
            "loads": [r["load_1min"] for r in runs],
            "runs": runs,
        }
    for num, den in (
        ("capwatch", "floor"),
        ("capwatch_default_storage", "floor"),
        ("floor_storage_v1", "floor"),
        ("capwatch", "capwatch_default_storage"),
        ("capwatch_baseline", "floor"),
        ("capwatch", "capwatch_baseline"),
    ):
        if num in samples and den in samples:
            pairs = list(zip(samples[num], samples[den], strict=True))
            out[f"{num} / {den}"] = statistics.median(a["wall_s"] / b["wall_s"] for a, b in pairs)
            out[f"{num} / {den} (CPU time)"] = statistics.median(
                a["cpu_s"] / b["cpu_s"] for a, b in pairs
            )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", nargs="*", help="variants to run (default: all four)")
    parser.add_argument(
        "--baseline", type=Path, help="an older capwatch source tree to run beside this one"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "ingest_ratio.json")
    args = parser.parse_args()
    print(machine.describe(), flush=True)
    result = run(args.scale, args.repeats, args.only, args.baseline)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(machine.header(result["machine"]))
    for key, value in result.items():
        if " / " in key:
            print(f"{key}: {value:.2f}×")
    for name in _variants(Path(), [], args.baseline):
        if name in result:
            r = result[name]
            print(
                f"{name}: {r['wall_s']:.2f} s median, {r['cpu_s']:.2f} CPU s, "
                f"{r['peak_rss_mib']:.0f} MiB peak"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
