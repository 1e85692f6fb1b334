"""capwatch benchmark: `capwatch ingest` through the default engine and through Spark local mode.

    pip install -e '.[bench,spark]'
    python -m bench.spark                      # scales 1, 10 and 50 (50 ≈ 50 M events)
    python -m bench.spark --scales 1 10

Each run is one `capwatch ingest` of the whole synthetic data set (reference files, capacity
and the monthly activity files) into a new database, as a child process. Peak memory is the
largest sum of the resident memory (RSS) of the child and all its descendants, sampled every
0.1 s with psutil: for Spark that is the driver's Python, the JVM and the Python workers that
run the Polars rules. Spark's fixed cost (starting the JVM and a local session) is measured on
its own. One run per figure: the machine is shared. Results go to bench/results/spark.json
and spark.md; the README's Spark section quotes them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import machine as load_info
from bench.run import DATA, RESULTS, activity_files, activity_rows, dataset, machine

_SPARK_START = """
import time
t = time.perf_counter()
from capwatch.spark_engine import spark_session
spark = spark_session()
spark.range(1).collect()
print(time.perf_counter() - t)
spark.stop()
"""


def measure_tree(argv: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB of the process tree, stdout) of one child process."""
    import psutil

    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    root = psutil.Process(child.pid)
    peak = 0
    while child.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(_rss(p) for p in tree))
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.1)
    wall = time.perf_counter() - started
    out = child.stdout.read() if child.stdout else ""
    if child.returncode != 0:
        raise RuntimeError(f"{argv[:6]} exited {child.returncode}: {out[-500:]}")
    return wall, peak / 2**20, out


def _rss(process: Any) -> int:
    import psutil

    try:
        return int(process.memory_info().rss)
    except psutil.NoSuchProcess:
        return 0


def ingest(folder: Path, engine: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        argv = [sys.executable, "-m", "capwatch", "ingest", str(folder)]
        argv += ["--db", str(Path(tmp) / "c.duckdb"), "--engine", engine]
        run = load_info.steady(lambda: measure_tree(argv))  # repeated while the machine is busy
        wall, peak, out = run.value
    activity = [ln for ln in out.splitlines() if ln.startswith("loaded") and "activity" in ln]
    return {
        "wall_s": wall,
        "peak_rss_mib": peak,
        "activity_files": len(activity),
        # The machine is shared: how busy it was (1-minute load average) around the kept run
        "load_average": run.load,
        **run.as_dict(),
    }


def spark_start() -> float:
    out = subprocess.run(
        [sys.executable, "-c", _SPARK_START], capture_output=True, text=True, check=True
    ).stdout
    return float(out.split()[-1])


def growth(results: dict[str, Any], engine: str, what: str) -> dict[str, float]:
    """Each scale's figure divided by the smallest scale's."""
    scales = sorted(results["scales"], key=float)
    first = results["scales"][scales[0]][engine][what]
    return {s: results["scales"][s][engine][what] / first for s in scales}


def report(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"{load_info.header(m)} PySpark {results['pyspark']} (local mode, "
        f"Java 17). Spark session start-up alone: {results['spark_start_s']:.1f} s.",
        "",
        "| scale | activity rows | default engine | Spark local mode | Spark ÷ default |",
        "|---|---|---|---|---|",
    ]
    for key in sorted(results["scales"], key=float):
        r = results["scales"][key]
        cells = []
        for engine in ("default", "spark"):
            e = r[engine]
            cells.append(
                f"{e['wall_s']:.1f} s, {e['rows_per_s'] / 1e6:.2f} M rows/s, "
                f"{e['peak_rss_mib']:,.0f} MiB (load {e['load_average']:.1f})"
            )
        ratio = r["spark"]["wall_s"] / r["default"]["wall_s"]
        lines.append(f"| {key} | {r['activity_rows']:,} | {cells[0]} | {cells[1]} | {ratio:.1f}× |")
    lines += ["", "| growth from the smallest scale | rows | default time | Spark time |"]
    lines += ["|---|---|---|---|"]
    rows = {k: v["activity_rows"] for k, v in results["scales"].items()}
    first = min(results["scales"], key=float)
    dt, st = growth(results, "default", "wall_s"), growth(results, "spark", "wall_s")
    dm, sm = growth(results, "default", "peak_rss_mib"), growth(results, "spark", "peak_rss_mib")
    for key in sorted(results["scales"], key=float):
        lines.append(
            f"| scale {key} | {rows[key] / rows[first]:.1f}× | {dt[key]:.1f}× time, "
            f"{dm[key]:.1f}× memory | {st[key]:.1f}× time, {sm[key]:.1f}× memory |"
        )
    scales = sorted(results["scales"], key=float)
    if len(scales) > 1:
        low, high = results["scales"][scales[0]], results["scales"][scales[-1]]
        for engine in ("default", "spark"):
            extra_rows = high["activity_rows"] - low["activity_rows"]
            extra_s = high[engine]["wall_s"] - low[engine]["wall_s"]
            per_s = extra_rows / extra_s
            lines.append(
                f"\nMarginal throughput of the {engine} engine from scale {scales[0]} to "
                f"{scales[-1]} (the fixed costs taken out): {per_s / 1e6:.2f} M rows/s, "
                f"{per_s / m['cpus'] / 1e6:.2f} M rows/s per CPU."
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0, 50.0])
    parser.add_argument("--out", type=Path, default=RESULTS / "spark.json")
    args = parser.parse_args()
    import pyspark

    DATA.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": machine(), "pyspark": pyspark.__version__, "scales": {}}
    print("Spark start-up ...", flush=True)
    results["spark_start_s"] = spark_start()
    for scale in args.scales:
        key = f"{scale:g}"
        print(f"scale {key}: preparing data ...", flush=True)
        folder = dataset(scale)
        rows = activity_rows(folder)
        entry: dict[str, Any] = {
            "activity_rows": rows,
            "activity_csv_mib": sum(Path(f).stat().st_size for f in activity_files(folder)) / 2**20,
        }
        for engine in ("default", "spark"):
            print(f"scale {key}: ingest, {engine} engine ...", flush=True)
            figures = ingest(folder, engine)
            figures["rows_per_s"] = rows / figures["wall_s"]
            entry[engine] = figures
            print(f"    {figures}", flush=True)
        results["scales"][key] = entry
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")  # as it goes
    table = report(results)
    args.out.with_suffix(".md").write_text(table + "\n")
    print()
    print(table)
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
