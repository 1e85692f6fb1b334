"""Print the pack's HTML to PDF with headless Chromium, driven by Playwright.

One `Printer` keeps one browser open for many packs. It loads plotly.js once into a page of
its own and draws every chart there as SVG (`Plotly.toImage`), which the pack's HTML then
carries inline, so the printed page is small and quick to lay out. No page reaches the
network: every request is refused. The PDF's creation and
modification dates are set to the time the pack says it was made, so the same data, version
and time give the same bytes (Chromium writes nothing else that changes between runs).

Chromium is found at `$CAPWATCH_CHROMIUM`, else `/usr/bin/chromium`, else `chromium` or
`google-chrome` on the PATH; when none is there, `RendererMissing` says how to install it.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pypdf import PdfReader, PdfWriter

from capwatch.errors import CapwatchError
from capwatch.pack.charts import plotly_js_path

CHROMIUM_ENV = "CAPWATCH_CHROMIUM"
_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
INSTALL_HINT = (
    "the review pack is printed by Chromium, which is not installed: run "
    "`sudo apt-get install chromium` (Debian/Ubuntu; scripts/install-pack-renderer.sh does it), "
    f"or set {CHROMIUM_ENV} to a Chromium or Chrome binary; `--format html` needs neither"
)
_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--mute-audio"]


class RendererMissing(CapwatchError):
    """Chromium (or Playwright) is not installed: the message says how to install it."""


def find_chromium() -> Path:
    """The Chromium binary to print with, or `RendererMissing`."""
    given = os.environ.get(CHROMIUM_ENV)
    if given:
        if Path(given).is_file():
            return Path(given)
        raise RendererMissing(f"{CHROMIUM_ENV}={given} is not a file; {INSTALL_HINT}")
    for candidate in _CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return Path(found)
    raise RendererMissing(INSTALL_HINT)


def pdf_date(at: datetime) -> str:
    """A PDF date string: D:20201201093000+00'00' (UTC)."""
    return f"D:{at.astimezone(UTC):%Y%m%d%H%M%S}+00'00'"


def fix_metadata(pdf: bytes, made: datetime, title: str) -> bytes:
    """The PDF with its dates set to `made`, its title and producer set: deterministic."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.add_metadata(
        {
            "/Title": title,
            "/Creator": "capwatch",
            "/Producer": "capwatch (Chromium print to PDF)",
            "/CreationDate": pdf_date(made),
            "/ModDate": pdf_date(made),
        }
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# Plotly draws with random clip-path ids; a seeded Math.random before each chart makes the SVG
# (and so the PDF) the same bytes every time.
_TO_SVG = """async ([spec, width, height]) => {
  let seed = 20200601;
  Math.random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const url = await Plotly.toImage(spec, {format: 'svg', width: width, height: height});
  return decodeURIComponent(url.slice(url.indexOf(',') + 1));
}"""


class Printer:
    """An open Chromium that draws plotly figures as SVG and prints HTML to PDF bytes."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self._charts: Any = None
        self._printing: Any = None
        self._shell: tempfile.TemporaryDirectory[str] | None = None

    def close(self) -> None:
        if self._shell is not None:
            self._shell.cleanup()

    def _chart_page(self) -> Any:
        """A page holding plotly.js (read from the plotly package's own file), loaded once for
        every chart of the run; it may read that one file and nothing else."""
        if self._charts is None:
            script = plotly_js_path().as_uri()
            self._shell = tempfile.TemporaryDirectory(prefix="capwatch-pack-")
            shell = Path(self._shell.name) / "charts.html"
            shell.write_text(
                f'<!doctype html><html><body><script src="{script}"></script></body></html>',
                encoding="utf-8",
            )
            allowed = {script, shell.as_uri()}
            page = self._browser.new_page()
            page.route(
                "**/*", lambda route: route.continue_() if route.request.url in allowed
                else route.abort()
            )  # fmt: skip
            # returns once the page starts loading: plotly.js compiles while the caller works
            page.goto(shell.as_uri(), wait_until="commit")
            self._charts = page
        return self._charts

    def warm_up(self) -> None:
        """Start loading plotly.js now (the first chart waits for it)."""
        self._chart_page()

    def svg(self, spec: Mapping[str, Any], width: int, height: int) -> str:
        """One plotly figure (as its JSON dict) drawn as SVG markup."""
        page = self._chart_page()
        page.wait_for_function("() => window.Plotly !== undefined", timeout=60_000)
        markup: str = page.evaluate(_TO_SVG, [spec, width, height])
        return markup

    def _print_page(self) -> Any:
        """The page packs are printed from (one for the run; the pack HTML has no script)."""
        if self._printing is None:
            page = self._browser.new_page()
            page.route("**/*", lambda route: route.abort())  # offline: nothing is fetched
            self._printing = page
        return self._printing

    def pdf(self, html: str, made: datetime, title: str) -> bytes:
        """Print one pack's HTML (A4 portrait, as its CSS says) to PDF bytes."""
        page = self._print_page()
        page.set_content(html, wait_until="load")
        raw: bytes = page.pdf(prefer_css_page_size=True, print_background=True)
        return fix_metadata(raw, made, title)


@contextmanager
def printer() -> Iterator[Printer]:
    """A `Printer` on a headless Chromium, closed on exit."""
    binary = find_chromium()
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dependency
        raise RendererMissing(
            "the review pack needs the Python package playwright: pip install capwatch"
        ) from None
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=str(binary), headless=True, args=_ARGS)
        except Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "no reason given"
            raise RendererMissing(
                f"Chromium at {binary} did not start ({first}); {INSTALL_HINT}"
            ) from None
        made = Printer(browser)
        made.warm_up()
        try:
            yield made
        finally:
            browser.close()
            made.close()
