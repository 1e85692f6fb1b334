"""Support for the concurrent-sessions load test: dashboard sessions opened two ways, their
timings, and the sandbox worker processes of a server the test started.

- `overview_over_websocket`: a Streamlit session driven over its websocket protocol, exactly
  the messages a browser tab exchanges (connect to `/_stcore/stream`, send one `rerun_script`
  BackMsg with the page and query string, read ForwardMsgs until the script run finishes),
  without rendering. Cheap on the client, so many of them measure the server.
- `overview_in_browser`: the same in a real Chromium tab (Playwright's async API), checking
  what is drawn. About 3–8 CPU-seconds of Chromium per page on this machine.

Both return a `SessionResult` and never raise, so one failing session does not hide others.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from capwatch.db import Database
from capwatch.ui import format

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

METRIC = '[data-testid="stMetric"]'
METRIC_LABEL = '[data-testid="stMetricLabel"]'
METRIC_VALUE = '[data-testid="stMetricValue"]'
HEADING = '[data-testid="stMainBlockContainer"] h1'
HEADLINE_LABELS = ("Capacity contracted", "Utilisation", "Unused capacity cost")
OVERVIEW_HEADING = "Overview"
NO_STATUS_WIDGET = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
STREAM_PATH = "/_stcore/stream"


@dataclass(frozen=True)
class SessionResult:
    """One dashboard session: when it finished rendering, what it showed, or why it failed."""

    kind: str  # "websocket" or "browser"
    index: int
    seconds: float | None  # from the common start of the phase to a finished script run
    figures: dict[str, str]
    problem: str | None = None

    @property
    def name(self) -> str:
        return f"{self.kind} session {self.index}"


@dataclass(frozen=True)
class Timings:
    """Render times of a group of sessions."""

    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def worst(self) -> float:
        return max(self.seconds)

    def describe(self, label: str) -> str:
        return (
            f"{label}: {len(self.seconds)} sessions, median {self.median:.1f} s, "
            f"max {self.worst:.1f} s"
        )


def expected_headline(
    db_path: Path, where: str = "TRUE", params: list[object] | None = None
) -> dict[str, str]:
    """The Overview's headline figures by plain SQL over `utilisation_weekly`, as displayed."""
    db = Database(db_path)
    try:
        ((capacity, nhs, unused),) = db.query(
            "SELECT sum(capacity_units), sum(nhs_units), sum(unused_capacity_cost_gbp) "
            f"FROM utilisation_weekly WHERE {where}",
            params or [],
        ).rows()
    finally:
        db.close()
    return {
        "Capacity contracted": f"{format.units(capacity)} units",
        "Utilisation": format.pct(nhs / capacity),
        "Unused capacity cost": format.gbp_compact(unused),
    }


# -- over the websocket ---------------------------------------------------------------------


async def overview_over_websocket(
    base_url: str, query_string: str, index: int, started: float, timeout_s: float
) -> SessionResult:
    """Open the default page (the Overview) with `query_string` as a new Streamlit session
    over the websocket; collect the headline metrics it sends until its script run ends."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.asyncio.client import connect
    from websockets.typing import Subprotocol

    stream = base_url.replace("http://", "ws://", 1) + STREAM_PATH
    figures: dict[str, str] = {}
    headings: list[str] = []
    problem: str | None = None
    try:
        async with (
            asyncio.timeout(timeout_s),
            connect(stream, subprotocols=[Subprotocol("streamlit")], max_size=None) as ws,
        ):
            request = BackMsg()
            request.rerun_script.query_string = query_string
            request.rerun_script.page_name = ""  # the default page, as a tab opening "/"
            await ws.send(request.SerializeToString())
            while True:
                msg = ForwardMsg()
                msg.ParseFromString(await ws.recv())
                kind = msg.WhichOneof("type")
                if kind == "page_not_found":
                    return SessionResult("websocket", index, None, {}, "page not found")
                if kind == "script_finished":
                    if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                        figures, headings, problem = {}, [], None  # the rerun sends it all again
                        continue
                    if msg.script_finished != ForwardMsg.FINISHED_SUCCESSFULLY:
                        problem = f"script finished with status {msg.script_finished}"
                    break
                if kind != "delta" or msg.delta.WhichOneof("type") != "new_element":
                    continue
                element = msg.delta.new_element
                what = element.WhichOneof("type")
                if what == "metric" and element.metric.label in HEADLINE_LABELS:
                    figures[element.metric.label] = element.metric.body
                elif what == "heading" and element.heading.tag == "h1":
                    headings.append(element.heading.body)
                if what == "exception":
                    problem = problem or "an exception element was sent"
                elif "Traceback" in str(element):
                    problem = problem or "a traceback was sent"
    except Exception as exc:  # report, don't raise: see the module docstring
        return SessionResult("websocket", index, None, figures, _one_line(exc))
    seconds = time.monotonic() - started
    if problem is None and OVERVIEW_HEADING not in headings:
        problem = f"headings {headings}, not the Overview"
    return SessionResult("websocket", index, seconds, figures, problem)


# -- in a browser ---------------------------------------------------------------------------


async def wait_for_app(page: Page, timeout_ms: float) -> None:
    """`browser_support.wait_for_app`, awaited: the app is up and the script run has ended."""
    await page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    await page.wait_for_selector(HEADING, timeout=timeout_ms)
    await page.wait_for_function(NO_STATUS_WIDGET, timeout=timeout_ms)


async def page_problem(page: Page) -> str | None:
    """An exception element or traceback on the page, if any (else None)."""
    if await page.locator('[data-testid="stException"]').count():
        return "an exception element is shown"
    if "Traceback" in await page.inner_text("body"):
        return "a traceback is shown"
    return None


async def headline_figures(page: Page) -> dict[str, str]:
    """The Overview's headline metric values, by label."""
    figures: dict[str, str] = {}
    for label in HEADLINE_LABELS:
        metric = page.locator(METRIC).filter(has=page.locator(METRIC_LABEL, has_text=label))
        figures[label] = (await metric.first.locator(METRIC_VALUE).inner_text()).strip()
    return figures


async def overview_in_browser(
    browser: Browser, url: str, index: int, started: float, timeout_ms: float
) -> SessionResult:
    """Open `url` in a fresh browser context (its own Streamlit session) and wait for the
    Overview's headline metrics and the end of the script run."""
    # Reduced motion: fewer animation frames while waiting, less CPU taken from the server.
    context = await browser.new_context(
        viewport={"width": 1400, "height": 1000}, reduced_motion="reduce"
    )
    try:
        page = await context.new_page()
        page.set_default_timeout(timeout_ms)
        try:
            await page.goto(url, timeout=timeout_ms)
            await wait_for_app(page, timeout_ms)
            last = page.locator(METRIC_LABEL, has_text=HEADLINE_LABELS[-1])
            await page.locator(METRIC).filter(has=last).first.wait_for(timeout=timeout_ms)
            await page.wait_for_function(NO_STATUS_WIDGET, timeout=timeout_ms)
            seconds = time.monotonic() - started
            problem = await page_problem(page)
            heading = await page.locator(HEADING).first.inner_text()
            if problem is None and OVERVIEW_HEADING not in heading:
                problem = f"heading is {heading!r}, not the Overview"
            return SessionResult("browser", index, seconds, await headline_figures(page), problem)
        except Exception as exc:  # report, don't raise: see the module docstring
            text = ""
            with contextlib.suppress(Exception):
                text = (await page.inner_text("body"))[:300]
            return SessionResult("browser", index, None, {}, f"{_one_line(exc)}; page: {text!r}")
    finally:
        await context.close()


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


# -- processes ------------------------------------------------------------------------------


def child_pids(pid: int) -> list[int]:
    """Direct children of process `pid` (Linux /proc), e.g. a server's sandbox workers."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            children += [int(c) for c in (task / "children").read_text().split()]
    return children


def sandbox_workers(server_pid: int) -> list[int]:
    """The SQL sandbox worker processes started by the server `server_pid`."""
    workers = []
    for pid in child_pids(server_pid):
        with contextlib.suppress(OSError):
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if b"capwatch.sandbox.worker" in cmdline:
                workers.append(pid)
    return workers


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by process `pid`."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def kill_group(pid: int) -> None:
    """Kill a sandbox worker and its process group (it leads its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
