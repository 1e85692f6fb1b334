"""Time to interactive of every page in headless Chromium, beside a trivial Streamlit page.

    python -m bench.interactive                 # scale 1, 5 visits a page (median)
    python -m bench.interactive --scale 10 --repeats 5 --pages actions overview

Both apps are served the same way (`streamlit run`, headless, loopback, no file watcher), one
after the other, and visited from the same Debian Chromium (`/usr/bin/chromium`, through
Playwright; a browser is never downloaded). Each visit is a fresh browser context, so a new
Streamlit session. A page is *interactive* when Streamlit has finished running its script
(`data-test-script-state="notRunning"`, no status widget), its title is drawn and every plotly
chart on it has drawn its SVG, and that still holds 400 ms later (a page that reruns itself,
for example to write its state into the URL, is not done until the rerun is). The time is the
browser's own clock from navigation start (`performance.now()`), so Playwright's overhead is
not counted.

Each page's first visit is made from an empty browser (no cached scripts: plotly.js and
Streamlit's own bundle are fetched) and reported beside the median, which is of the visits
that follow, each in a new tab of one browser, as a commissioner opens the page again: a new
Streamlit session, the server's caches and the browser's cache warm. The trivial page is
measured the same way. The goal
(issue 24): every page within 1.2× of the trivial page. Results go to
`bench/results/interactive.json` and `.md`, with the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import machine as load_info
from bench.run import RESULTS, ROOT, loaded_db
from capwatch import config
from capwatch.ui.pages import PAGES

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
GOAL = 1.2
TRIVIAL_APP = """import streamlit as st

st.set_page_config(page_title="Trivial", layout="wide")
st.title("A trivial page")
st.write("One line of text.")
"""

# True once the script has finished, the title is drawn and every plotly chart has its SVG;
# returns the browser's milliseconds since navigation start.
_READY_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (!document.querySelector('[data-testid="stMainBlockContainer"] h1')) return false;
  for (const c of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    if (!c.querySelector('svg.main-svg')) return false;
  }
  return performance.now();
}"""
SETTLE_MS = 400
TIMEOUT_MS = 120_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(script: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """`streamlit run script` on a free loopback port, as the browser tests serve the app."""
    port = _free_port()
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=out,
                                stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{script.name} did not start: see {log}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def visit(context: Any, url: str) -> float:
    """Milliseconds from navigation start until the page at `url`, opened in a new tab (a new
    Streamlit session) of `context`, is interactive."""
    page = context.new_page()
    try:
        page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
        while True:
            ready = page.wait_for_function(_READY_JS, timeout=TIMEOUT_MS, polling=50)
            at = float(ready.json_value())
            page.wait_for_timeout(SETTLE_MS)
            if page.evaluate(_READY_JS) is not False:
                return at
    finally:
        page.close()


def timed(browser: Any, url: str, repeats: int) -> dict[str, Any]:
    """A cold visit (an empty browser cache), then `repeats` counted visits (median) in new
    tabs of one browser, as a returning user opens the page, with the load while they ran."""
    contexts = [browser.new_context(viewport={"width": 1440, "height": 1000}) for _ in "ab"]
    try:
        cold = visit(contexts[0], url)
        samples, loads = [], [load_info.load_1min()]
        for _ in range(repeats):
            samples.append(visit(contexts[1], url))
            loads.append(load_info.load_1min())
    finally:
        for context in contexts:
            context.close()
    return {
        "cold_ms": round(cold),
        "median_ms": round(statistics.median(samples)),
        "min_ms": round(min(samples)),
        "max_ms": round(max(samples)),
        "samples_ms": [round(s) for s in samples],
        "load_1min": round(max(loads), 2),
        "noisy": load_info.busy(max(loads)),
    }


def page_paths(names: list[str] | None) -> dict[str, str]:
    """URL path of each page of the registry (the first page is also served at `/`)."""
    chosen = [p for p in PAGES if names is None or p.name in names]
    return {p.name: f"/{p.url_path}" for p in chosen}


def run(db: Path, repeats: int, names: list[str] | None) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    results: dict[str, Any] = {"machine": load_info.info(), "repeats": repeats, "pages": {}}
    with tempfile.TemporaryDirectory() as tmp_name, sync_playwright() as p:
        tmp = Path(tmp_name)
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        trivial = tmp / "trivial.py"
        trivial.write_text(TRIVIAL_APP)
        print(f"trivial page ... ({load_info.describe()})", flush=True)
        with served(trivial, {}, tmp / "trivial.log") as url:
            results["trivial"] = timed(browser, url, repeats)
        env = {config.DB_ENV_VAR: str(db), config.env_var("audit_log"): str(tmp / "audit.jsonl")}
        with served(ROOT / "app.py", env, tmp / "app.log") as url:
            for name, path in page_paths(names).items():
                print(f"{name} ... ({load_info.describe()})", flush=True)
                figures = timed(browser, url + path, repeats)
                figures["ratio"] = figures["median_ms"] / results["trivial"]["median_ms"]
                results["pages"][name] = figures
        browser.close()
    return results


def report(results: dict[str, Any]) -> str:
    t = results["trivial"]
    lines = [
        load_info.header(results["machine"]),
        "",
        f"Time to interactive in headless Chromium, median of {results['repeats']} visits "
        "(each a new tab, so a new session) after a cold first visit from an empty browser; "
        f"goal: within {GOAL:.1f}× of the trivial page.",
        "",
        "| page | median | range | cold first visit | ÷ trivial | within goal | load |",
        "|---|---|---|---|---|---|---|",
        f"| a trivial Streamlit page | {t['median_ms']:,} ms | {t['min_ms']:,}–{t['max_ms']:,}"
        f" ms | {t['cold_ms']:,} ms | 1.00× | — | {t['load_1min']:.1f} |",
    ]
    titles = {p.name: p.title for p in PAGES}
    for name, r in results["pages"].items():
        ok = "yes" if r["ratio"] <= GOAL else "no"
        lines.append(
            f"| {titles[name]} | {r['median_ms']:,} ms | {r['min_ms']:,}–{r['max_ms']:,} ms | "
            f"{r['cold_ms']:,} ms | {r['ratio']:.2f}× | {ok} | {r['load_1min']:.1f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--db", type=Path, help="an existing database (default: bench data)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pages", nargs="*", help="page names (default: every page)")
    parser.add_argument("--out", type=Path, default=RESULTS / "interactive.json")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print(f"no Chromium at {CHROMIUM}: run `bash scripts/test.sh` once to install it")
        return 1
    db = args.db or loaded_db(args.scale)
    results = run(db, args.repeats, args.pages)
    results["scale"] = None if args.db else args.scale
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    table = report(results)
    args.out.with_suffix(".md").write_text(table + "\n")
    print()
    print(table)
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
