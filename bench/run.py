"""capwatch benchmark: ingest against two baselines, page analytics, flags, generation and demo
start-up.

    python -m bench.run                    # scales 1 and 10, 3 runs each (about 15 minutes)
    python -m bench.run --scales 1 --repeats 2 --skip demo

Every figure is the median of `--repeats` runs on this machine. Each ingest runs in a fresh
child process whose peak RSS is read from `getrusage(RUSAGE_CHILDREN)` in a wrapper process
of its own, so the figures are the child's alone. Results are printed as a table and written
to `bench/results/latest.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"

# Runs `argv` as a child and prints "<wall seconds> <peak RSS KiB>" of that child alone.
_MEASURE = """
import resource, subprocess, sys, time
t = time.perf_counter()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
wall = time.perf_counter() - t
print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)
"""

_DUCKDB_FLOOR = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
files = sys.argv[2:]
con.execute("CREATE TABLE activity AS SELECT * FROM read_csv(?)", [files])
con.close()
"""

_PANDAS_SQLITE = """
import sqlite3, sys
import pandas as pd
con = sqlite3.connect(sys.argv[1])
for f in sys.argv[2:]:
    pd.read_csv(f).to_sql("activity", con, if_exists="append", index=False)
con.commit()
con.close()
"""


def measure(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one child process."""
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *argv], capture_output=True, text=True, check=True
    ).stdout.split()
    wall, rss_kib, rc = float(out[0]), int(out[1]), int(out[2])
    if rc != 0:
        raise RuntimeError(f"{argv[:4]} exited {rc}")
    return wall, rss_kib / 1024


def dataset(scale: float) -> Path:
    """The synthetic data at `scale`, generated once and kept under bench/data/."""
    folder = DATA / f"scale-{scale:g}"
    if not (folder / "capacity.csv").exists():
        from capwatch.synthetic import generate

        generate(folder, seed=2020, scale=scale)
    return folder


def activity_files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.glob("activity_*.csv"))


def activity_rows(folder: Path) -> int:
    import polars as pl

    return int(pl.scan_csv(activity_files(folder)).select(pl.len()).collect().item())


def median_run(repeats: int, argv_for: Callable[[Path], list[str]]) -> dict[str, float]:
    walls, peaks = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(dir=DATA) as tmp:
            wall, peak = measure(argv_for(Path(tmp)))
        walls.append(wall)
        peaks.append(peak)
    return {"wall_s": statistics.median(walls), "peak_rss_mib": max(peaks)}


def bench_ingest(scale: float, repeats: int, pandas_repeats: int) -> dict[str, Any]:
    folder = dataset(scale)
    rows = activity_rows(folder)
    files = activity_files(folder)
    capwatch = median_run(
        repeats,
        lambda tmp: [sys.executable, "-m", "capwatch", "ingest", str(folder),
                     "--db", str(tmp / "c.duckdb")],
    )  # fmt: skip
    floor = median_run(
        repeats, lambda tmp: [sys.executable, "-c", _DUCKDB_FLOOR, str(tmp / "f.duckdb"), *files]
    )
    pandas = median_run(
        pandas_repeats,
        lambda tmp: [sys.executable, "-c", _PANDAS_SQLITE, str(tmp / "p.sqlite"), *files],
    )
    for figures in (capwatch, floor, pandas):
        figures["rows_per_s"] = rows / figures["wall_s"]
    return {
        "activity_rows": rows,
        "activity_csv_mib": sum(Path(f).stat().st_size for f in files) / 2**20,
        "capwatch_ingest": capwatch,
        "duckdb_floor": floor,
        "pandas_sqlite": pandas,
        "ratio_vs_floor": capwatch["wall_s"] / floor["wall_s"],
        "speedup_vs_pandas": pandas["wall_s"] / capwatch["wall_s"],
    }


def bench_generate(scale: float, repeats: int) -> dict[str, Any]:
    """`capwatch generate` of the synthetic 2020 world at `scale`, in a child process."""
    return median_run(
        repeats,
        lambda tmp: [sys.executable, "-m", "capwatch", "generate", "--out", str(tmp / "g"),
                     "--scale", f"{scale:g}"],
    )  # fmt: skip


def loaded_db(scale: float) -> Path:
    path = DATA / f"scale-{scale:g}.duckdb"
    if not path.exists():
        from capwatch.load import ingest

        report = ingest([dataset(scale)], path)
        if not report.ok:
            raise RuntimeError("benchmark data did not load")
    return path


def _filter_sets(db: Any, runs: int) -> list[Any]:
    """Varied filters: whole period, a 4-week window, a region, a group, a line, a provider."""
    from capwatch.analytics import reference
    from capwatch.analytics.filters import Filters

    opts = reference.filter_options(db)
    weeks = sorted(opts.weeks)
    rng = random.Random(7)
    out: list[Filters] = []
    for i in range(runs):
        start = rng.randrange(0, max(1, len(weeks) - 4))
        f = Filters()
        if i % 2:
            f = replace(f, week_from=weeks[start], week_to=weeks[start + 3])
        kind = i % 5
        if kind == 1:
            f = replace(f, regions=(rng.choice(list(opts.regions)),))
        elif kind == 2:
            f = replace(f, groups=(rng.choice(list(opts.groups)),))
        elif kind == 3:
            f = replace(f, service_lines=(rng.choice(list(opts.service_lines)),))
        elif kind == 4:
            f = replace(f, providers=(rng.choice(list(opts.providers)),))
        out.append(f)
    return out


def _percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": statistics.median(ordered), "p95_ms": p95, "runs": len(ordered)}


def bench_pages(scale: float, runs: int) -> dict[str, Any]:
    """Uncached analytics of each page, as the page calls them, over varied filters."""
    from capwatch.analytics import dashboard
    from capwatch.db import Database

    db = Database(loaded_db(scale))
    filter_sets = _filter_sets(db, runs)
    provider = db.scalar("SELECT min(provider_code) FROM providers")
    pages: dict[str, Callable[[Any], object]] = {
        "overview": lambda f: dashboard.overview(db, f),
        "providers": lambda f: dashboard.providers(db, f),
        "provider_profile": lambda f: dashboard.provider_profile(db, f, provider),
        "service_lines": lambda f: dashboard.service_lines(db, f),
        "regions": lambda f: dashboard.regions(db, f),
        "data": lambda f: dashboard.data(db),
    }
    out: dict[str, Any] = {}
    for page, call in pages.items():
        call(filter_sets[0])  # warm the connection, not the results (nothing is cached here)
        samples = []
        for f in filter_sets:
            t = time.perf_counter()
            call(f)
            samples.append((time.perf_counter() - t) * 1000)
        out[page] = _percentiles(samples)
    return out


def bench_flags(scale: float, repeats: int) -> dict[str, Any]:
    from capwatch.analytics.filters import Filters
    from capwatch.analytics.flags.engine import compute_flags
    from capwatch.db import Database

    db = Database(loaded_db(scale))
    compute_flags(db, Filters())
    samples = []
    flags = None
    for _ in range(repeats):
        t = time.perf_counter()
        flags = compute_flags(db, Filters())
        samples.append((time.perf_counter() - t) * 1000)
    return {**_percentiles(samples), "flags": 0 if flags is None else flags.height}


def bench_first_render(scale: float, repeats: int) -> dict[str, Any]:
    """Time to first render of the overview through Streamlit's AppTest (a cold cache)."""
    from streamlit.testing.v1 import AppTest

    os.environ["CAPWATCH_DB"] = str(loaded_db(scale))
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
        samples.append((time.perf_counter() - t) * 1000)
        if at.exception:
            raise RuntimeError(f"overview failed to render: {at.exception}")
        from streamlit.runtime.caching import cache_data_api

        cache_data_api.CacheDataAPI.clear(None)  # type: ignore[arg-type]
    return _percentiles(samples)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_demo(scale: float) -> dict[str, Any]:
    """From an empty data folder to an overview served over HTTP by `capwatch demo`."""
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        port = _free_port()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "capwatch", "demo", "--db",
             str(Path(tmp) / "data" / "capacity.duckdb"), "--port", str(port),
             "--scale", str(scale)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = started + 300
            while time.perf_counter() < deadline:
                try:
                    with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/_stcore/health", timeout=1
                    ):
                        break
                except OSError:
                    time.sleep(0.1)
            healthy = time.perf_counter() - started
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return {"seconds_to_served": healthy}


def machine() -> dict[str, Any]:
    import duckdb
    import polars

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "polars": polars.__version__,
        "duckdb": duckdb.__version__,
        "platform": platform.platform(),
    }


def report(results: dict[str, Any]) -> str:
    """The results as Markdown tables (also pasted into the README)."""
    m = results["machine"]
    lines = [
        f"Measured {m['date']} on {m['cpus']} CPUs, {m['memory_gib']} GiB, Python {m['python']}, "
        f"Polars {m['polars']}, DuckDB {m['duckdb']}.",
        "",
    ]
    ingest = results.get("ingest", {})
    if ingest:
        lines += [
            "| ingest | activity rows | capwatch (all files) | DuckDB bare load (floor) "
            "| pandas + SQLite | capwatch ÷ floor | pandas ÷ capwatch |",
            "|---|---|---|---|---|---|---|",
        ]
        for scale, r in ingest.items():
            cells = [
                f"{r[k]['wall_s']:.1f} s, {r[k]['rows_per_s'] / 1e6:.2f} M rows/s, "
                f"{r[k]['peak_rss_mib']:,.0f} MiB"
                for k in ("capwatch_ingest", "duckdb_floor", "pandas_sqlite")
            ]
            lines.append(
                f"| scale {scale} | {r['activity_rows']:,} | "
                + " | ".join(cells)
                + f" | {r['ratio_vs_floor']:.2f}× | {r['speedup_vs_pandas']:.1f}× |"
            )
        lines.append("")
    pages = results.get("pages", {})
    if pages:
        scales = list(pages)
        lines += [
            "| page analytics (uncached) | "
            + " | ".join(f"scale {s} p50 / p95" for s in scales)
            + " |",
            "|---|" + "---|" * len(scales),
        ]
        for page in pages[scales[0]]:
            cells = [
                f"{pages[s][page]['p50_ms']:.0f} / {pages[s][page]['p95_ms']:.0f} ms"
                for s in scales
            ]
            lines.append(f"| {page} | " + " | ".join(cells) + " |")
        lines.append("")
    extra = []
    for scale, r in results.get("flags", {}).items():
        extra.append(
            f"| all flag rules, scale {scale} | {r['p50_ms']:.0f} ms p50, {r['p95_ms']:.0f} ms "
            f"p95 ({r['flags']} flags) |"
        )
    for scale, r in results.get("generate", {}).items():
        extra.append(
            f"| `capwatch generate`, scale {scale} | {r['wall_s']:.1f} s, "
            f"{r['peak_rss_mib']:,.0f} MiB |"
        )
    for scale, r in results.get("first_render", {}).items():
        extra.append(
            f"| overview first render (AppTest, cold), scale {scale} | {r['p50_ms']:.0f} ms p50 |"
        )
    for scale, r in results.get("demo", {}).items():
        extra.append(
            f"| `capwatch demo` from an empty folder to a served app, scale {scale} "
            f"| {r['seconds_to_served']:.1f} s |"
        )
    if extra:
        lines += ["| other | result |", "|---|---|", *extra, ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pandas-repeats", type=int, default=1)
    parser.add_argument("--page-runs", type=int, default=40)
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["ingest", "pages", "flags", "render", "generate", "demo"],
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": machine()}
    for scale in args.scales:
        key = f"{scale:g}"
        print(f"scale {key}: preparing data ...", flush=True)
        dataset(scale)
        if "ingest" not in args.skip:
            print(f"scale {key}: ingest (capwatch, DuckDB floor, pandas + SQLite) ...", flush=True)
            results.setdefault("ingest", {})[key] = bench_ingest(
                scale, args.repeats, args.pandas_repeats
            )
        if "pages" not in args.skip:
            print(f"scale {key}: page analytics ...", flush=True)
            results.setdefault("pages", {})[key] = bench_pages(scale, args.page_runs)
        if "flags" not in args.skip:
            print(f"scale {key}: flags ...", flush=True)
            results.setdefault("flags", {})[key] = bench_flags(scale, args.repeats)
        if "generate" not in args.skip:
            print(f"scale {key}: generate ...", flush=True)
            results.setdefault("generate", {})[key] = bench_generate(scale, args.repeats)
        if "render" not in args.skip:
            print(f"scale {key}: first render ...", flush=True)
            results.setdefault("first_render", {})[key] = bench_first_render(scale, args.repeats)
    if "demo" not in args.skip:
        print("demo start-up (scale 1) ...", flush=True)
        results["demo"] = {"1": bench_demo(1.0)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    table = report(results)
    args.out.with_suffix(".md").write_text(table + "\n")
    print()
    print(table)
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
