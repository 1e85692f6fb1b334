"""The wheel works like any Python tool: built, installed into a fresh environment with only its
declared dependencies, then `capwatch demo` run from an unrelated folder serves the dashboard.
Then the same environment takes an editable install (`pip install -e`) of a checkout written
with `core.symlinks=false` (as on Windows) and serves the demo again from that checkout.

The app's script and pages must travel inside the package (`capwatch.webapp`, mapped from the
top-level folders, no links); a missing file or an undeclared dependency fails here, not on a
user's machine. Slow: it installs Polars,
DuckDB and Streamlit into the new environment (from the configured package index).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.browser_support import free_port
from tests.load_support import HEADLINE_LABELS, expected_headline, overview_over_websocket

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 180.0  # generates and loads the synthetic data first

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path) -> None:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(cmd)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, resp.read().decode("utf-8", "replace")


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"capwatch demo exited early:\n{log.read_text()[-3000:]}"
        try:
            if _get(f"{url}/_stcore/health") == (200, "ok"):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"capwatch demo was not serving after {START_TIMEOUT_S:.0f} s")


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop `capwatch demo` and the server it started (its own process group, and only it)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.mark.timeout(1200)
def test_the_wheel_installs_into_a_fresh_environment_and_serves_the_demo(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    python = venv / "bin" / "python"
    dist = tmp_path / "dist"
    _run(
        [str(python), "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(ROOT)],
        ROOT,
    )
    (wheel,) = dist.glob("capwatch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    pages = sorted(p.name for p in (ROOT / "pages").glob("*.py"))
    assert {"capwatch/webapp/app.py", "pipelines/read.py", "capwatch/load.py"} <= names
    assert {f"capwatch/webapp/pages/{p}" for p in pages} <= names
    assert "capwatch/webapp/settings/config.toml" in names
    assert "capwatch/webapp/published/README.md" in names
    # pipelines/ is a package of its own in the wheel; the checkout-only files are not
    assert not any(n.startswith(("app.py", "pages/", "tests/")) for n in names)
    _run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], tmp_path)
    _serve_the_demo(venv, tmp_path / "from-wheel", expect_files_under=venv)

    checkout = tmp_path / "checkout"  # every tracked file, as a checkout without symlinks
    _run(["git", "-c", "core.symlinks=false", "checkout-index", "--all", f"--prefix={checkout}/"],
         ROOT)  # fmt: skip
    _run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(checkout)], tmp_path
    )
    _serve_the_demo(venv, tmp_path / "from-checkout", expect_files_under=checkout)


def _serve_the_demo(venv: Path, tmp_path: Path, expect_files_under: Path) -> None:
    """`capwatch demo` from an unrelated folder serves the Overview with the right figures."""
    probe = "import capwatch.webapp as w; print(w.entry_script())"
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe],
        cwd=venv.parent, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert Path(where).is_relative_to(expect_files_under), where
    elsewhere = tmp_path / "elsewhere"  # no app.py, no pages/, no .streamlit/ here
    elsewhere.mkdir(parents=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "demo.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAPWATCH_", "PYTHON"))}
    env["CAPWATCH_AUDIT_LOG"] = str(tmp_path / "audit.jsonl")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(venv / "bin" / "capwatch"), "demo", "--port", str(port), "--scale", "0.02"],
            cwd=elsewhere,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # demo and the Streamlit server it starts, stopped together
        )
    try:
        _wait_healthy(url, proc, log)
        status, html = _get(url)
        assert status == 200
        assert '<div id="root">' in html  # Streamlit's page, served by the installed package
        db_path = elsewhere / "data" / "capacity.duckdb"  # the default, under the current folder
        assert db_path.is_file()
        session = asyncio.run(overview_over_websocket(url, "", 0, time.monotonic(), 120))
        assert session.problem is None, f"{session.problem}\n{log.read_text()[-3000:]}"
        # The Overview's headline, rendered by the installed app.py and pages/overview.py,
        # against the same figures by plain SQL over the database the demo built.
        assert session.figures == expected_headline(db_path)
        assert set(session.figures) == set(HEADLINE_LABELS)
    finally:
        _stop_group(proc)
    assert "File does not exist" not in log.read_text()
