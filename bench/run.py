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
import functools
import inspect
import json
import os
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
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import machine as load_info

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


def median_run(repeats: int, argv_for: Callable[[Path], list[str]]) -> dict[str, Any]:
    """Median wall time and largest peak memory of `repeats` runs, each repeated while the
    machine is busy (bench/machine.py), with the highest load any kept run saw."""
    walls, peaks, loads = [], [], []
    for _ in range(repeats):

        def once() -> tuple[float, float]:
            with tempfile.TemporaryDirectory(dir=DATA) as tmp:
                return measure(argv_for(Path(tmp)))

        run = load_info.steady(once)
        walls.append(run.value[0])
        peaks.append(run.value[1])
        loads.append(run.load)
    return {
        "wall_s": statistics.median(walls),
        "peak_rss_mib": max(peaks),
        "load_1min": max(loads),
        "noisy": load_info.busy(max(loads)),
    }


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
    return {
        "p50_ms": statistics.median(ordered),
        "p95_ms": p95,
        "runs": len(ordered),
        "load_1min": load_info.load_1min(),  # at the end of the samples
    }


def _call(analytics: Callable[..., object], args: dict[str, Any], filters: Any) -> object:
    """The page's analytics call with the filters and what else it names (db, provider_code)."""
    names = inspect.signature(analytics).parameters
    return analytics(**{k: v for k, v in args.items() if k in names}, filters=filters)


def bench_pages(scale: float, runs: int) -> dict[str, Any]:
    """Uncached analytics of each page, as the page calls them, over varied filters."""
    from capwatch.db import Database
    from capwatch.ui.pages import PAGES

    db = Database(loaded_db(scale))
    filter_sets = _filter_sets(db, runs)
    provider = db.scalar("SELECT min(provider_code) FROM providers")
    # Every page of the registry that renders an analytics call, called as the page calls it.
    args = {"db": db, "provider_code": provider}
    pages: dict[str, Callable[[Any], object]] = {
        p.name: functools.partial(_call, p.analytics, args)
        for p in PAGES
        if p.analytics is not None
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


def bench_verdicts(scale: float, repeats: int) -> dict[str, Any]:
    """Every active contract's verdict (as the Actions page asks), and the verdict backtest
    (every week replayed against the answer key, as `capwatch backtest` prints it)."""
    from capwatch.analytics.filters import Filters
    from capwatch.analytics.verdicts import verdicts
    from capwatch.analytics.verdicts.backtest import backtest_verdicts
    from capwatch.db import Database

    db = Database(loaded_db(scale))
    out: dict[str, Any] = {}
    for name, call in (
        ("verdicts", lambda: verdicts(db, Filters())),
        ("verdict_backtest", lambda: backtest_verdicts(db)),
    ):
        call()
        samples = []
        for _ in range(repeats):
            t = time.perf_counter()
            call()
            samples.append((time.perf_counter() - t) * 1000)
        out[name] = _percentiles(samples)
    out["verdicts"]["contracts"] = verdicts(db, Filters()).height
    return out


def _one_week(folder: Path, out: Path) -> int:
    """The second Monday-to-Sunday week of the activity files, written as a resubmission file;
    returns its rows."""
    import polars as pl

    frame = pl.scan_csv(activity_files(folder), try_parse_dates=True)
    start = frame.select(pl.col("activity_date").min()).collect().item()
    monday = start + timedelta(days=(7 - start.weekday()) % 7 + 7)
    sunday = monday + timedelta(days=6)
    week = frame.filter(pl.col("activity_date").is_between(monday, sunday)).collect()
    week.write_csv(out)
    return week.height


def bench_replace(scale: float, repeats: int) -> dict[str, Any]:
    """`ingest --replace` of one week of activity, then `unload` of that load (the old week put
    back), on a copy of the loaded database: each should cost a small part of a full load."""
    import shutil

    import duckdb

    cli = [sys.executable, "-m", "capwatch"]
    kept: list[Any] = []
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        week = Path(tmp) / "activity_resubmitted.csv"
        rows = _one_week(dataset(scale), week)
        db = Path(tmp) / "c.duckdb"

        def once() -> tuple[tuple[float, float], tuple[float, float]]:
            """Both steps on a fresh copy (the copy is not timed), so a repeat starts alike."""
            shutil.copyfile(loaded_db(scale), db)
            replaced = measure([*cli, "ingest", str(week), "--db", str(db), "--replace"])
            with duckdb.connect(str(db), read_only=True) as con:  # closed before the unload
                load_id = con.execute("SELECT max(load_id) FROM load_log").fetchall()[0][0]
            unloaded = measure([*cli, "unload", str(load_id), "--db", str(db), "--reason", "bench"])
            return replaced, unloaded

        for _ in range(repeats):
            kept.append(load_info.steady(once))

    def summary(step: int) -> dict[str, Any]:
        load = max(r.load for r in kept)
        return {
            "wall_s": statistics.median(r.value[step][0] for r in kept),
            "peak_rss_mib": max(r.value[step][1] for r in kept),
            "load_1min": load,
            "noisy": load_info.busy(load),
        }

    return {"week_rows": rows, "replace": summary(0), "unload": summary(1)}


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
    return load_info.info()


def _load_note(figures: dict[str, Any]) -> str:
    """' (load 7.1, noisy)' beside a figure measured on a busy machine."""
    if "load_1min" not in figures:
        return ""
    noisy = ", noisy" if figures.get("noisy") else ""
    return f" (load {figures['load_1min']:.1f}{noisy})"


def report(results: dict[str, Any]) -> str:
    """The results as Markdown tables (also pasted into the README)."""
    m = results["machine"]
    lines = [load_info.header(m), ""]
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
                f"{r[k]['peak_rss_mib']:,.0f} MiB{_load_note(r[k])}"
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
    for scale, r in results.get("verdicts", {}).items():
        v, b = r["verdicts"], r["verdict_backtest"]
        extra.append(
            f"| verdicts of every active contract, scale {scale} | {v['p50_ms']:.0f} ms p50, "
            f"{v['p95_ms']:.0f} ms p95 ({v['contracts']} contracts) |"
        )
        extra.append(
            f"| verdict backtest (every week against the answer key), scale {scale} | "
            f"{b['p50_ms']:.0f} ms p50, {b['p95_ms']:.0f} ms p95 |"
        )
    for scale, r in results.get("replace", {}).items():
        full = ingest.get(scale, {}).get("capwatch_ingest", {}).get("wall_s")
        labels = {"replace": "`ingest --replace` of one week", "unload": "its `unload`"}
        for what, label in labels.items():
            share = f", {r[what]['wall_s'] / full:.0%} of the full load" if full else ""
            extra.append(
                f"| {label} ({r['week_rows']:,} activity rows), scale {scale} | "
                f"{r[what]['wall_s']:.1f} s, {r[what]['peak_rss_mib']:,.0f} MiB{share}"
                f"{_load_note(r[what])} |"
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
        choices=["ingest", "pages", "flags", "verdicts", "replace", "render", "generate", "demo"],
    )
    parser.add_argument(
        "--ingest-only-scales",
        type=float,
        nargs="*",
        default=[50.0],
        help="scales measured for ingest (and its peak memory) alone",
    )
    parser.add_argument("--replace-scales", type=float, nargs="*", default=[10.0])
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": machine()}
    for scale in args.scales:
        key = f"{scale:g}"
        print(f"scale {key}: preparing data ... ({load_info.describe()})", flush=True)
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
        if "verdicts" not in args.skip:
            print(f"scale {key}: verdicts and their backtest ...", flush=True)
            results.setdefault("verdicts", {})[key] = bench_verdicts(scale, args.repeats)
        if "replace" not in args.skip and scale in args.replace_scales:
            print(f"scale {key}: --replace of one week, then unload ...", flush=True)
            results.setdefault("replace", {})[key] = bench_replace(scale, args.repeats)
        if "generate" not in args.skip:
            print(f"scale {key}: generate ...", flush=True)
            results.setdefault("generate", {})[key] = bench_generate(scale, args.repeats)
        if "render" not in args.skip:
            print(f"scale {key}: first render ...", flush=True)
            results.setdefault("first_render", {})[key] = bench_first_render(scale, args.repeats)
    for scale in args.ingest_only_scales if "ingest" not in args.skip else []:
        key = f"{scale:g}"
        print(f"scale {key}: ingest only ... ({load_info.describe()})", flush=True)
        results.setdefault("ingest", {})[key] = bench_ingest(
            scale, args.repeats, args.pandas_repeats
        )
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
