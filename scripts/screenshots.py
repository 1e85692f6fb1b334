"""Screenshots of every page at 1440 px in the project's own Chromium (/usr/bin/chromium).

    python scripts/screenshots.py [--db FILE] [--out DIR] [--port N] [--width 1440]

Without `--db` it generates the synthetic demo (seed 2020, scale 0.1) in a temporary folder.
The server is started with `streamlit run app.py` and stopped at the end; a browser is never
downloaded. Every page of `capwatch.ui.pages.PAGES` is saved as OUT/<page>.png (full page),
ready to look at.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from capwatch.ui.pages import DEFAULT  # noqa: E402
from capwatch.ui.pages import PAGES as REGISTRY  # noqa: E402
from tests.browser_support import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    serve,
    stop,
    wait_for_app,
)

PAGES = [p.name for p in REGISTRY]  # every page of the registry, in navigation order


def _demo_db(folder: Path, scale: float) -> Path:
    from capwatch.load import ingest
    from capwatch.synthetic import generate

    inputs = folder / "synthetic"
    generate(inputs, seed=2020, scale=scale)
    db_path = folder / "capacity.duckdb"
    if not ingest([inputs], db_path).ok:
        raise SystemExit("the synthetic demo did not load")
    return db_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "test-output" / "screenshots-1440")
    parser.add_argument("--port", type=int)
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=2600)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--pages", nargs="*", default=PAGES)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db_path = args.db or _demo_db(folder, args.scale)
        proc, url = serve(db_path, folder / "streamlit.log", port=args.port)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
                )
                page = browser.new_page(viewport={"width": args.width, "height": args.height})
                for name in args.pages:
                    # the default page lives at "/" (see tests/test_browser.py)
                    page.goto(f"{url}/{'' if name == DEFAULT.name else name}")
                    wait_for_app(page)
                    page.wait_for_timeout(1500)  # charts draw after the script ends
                    page.wait_for_function(
                        "() => !document.querySelector('[data-stale=true]')", timeout=30_000
                    )
                    for grid in page.locator("[data-testid='stDataFrame']").all():
                        grid.scroll_into_view_if_needed()  # grids paint once in view
                        page.wait_for_timeout(150)
                    page.mouse.wheel(0, -100_000)
                    page.wait_for_timeout(500)
                    shot = args.out / f"{name}.png"
                    page.screenshot(path=str(shot), full_page=True)
                    print(shot)
                browser.close()
        finally:
            stop(proc)


if __name__ == "__main__":
    main()
