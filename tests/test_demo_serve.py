"""`capwatch demo` listens on loopback by default, refuses an open address without sign-in,
and stops its Streamlit server on SIGTERM (nothing left running or listening).

Reachability is checked by what the server binds (the kernel's socket table), never by
traffic to other hosts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capwatch import serve
from capwatch.cli import app

PORTS = (8771, 8772)  # this ports


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_addresses_are_loopback(address: str) -> None:
    assert serve.is_loopback(address)


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "no.such.host."])
def test_other_addresses_are_not(address: str) -> None:
    assert not serve.is_loopback(address)


def test_an_open_address_is_refused_without_sign_in_and_allowed_with_it() -> None:
    with pytest.raises(serve.UnsafeAddress, match="--allow-anyone"):
        serve.check_address("0.0.0.0", signed_in=False, allow_anyone=False)
    serve.check_address("0.0.0.0", signed_in=True, allow_anyone=False)
    serve.check_address("0.0.0.0", signed_in=False, allow_anyone=True)
    serve.check_address("127.0.0.1", signed_in=False, allow_anyone=False)


def test_sign_in_is_found_in_the_folders_secrets(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert not serve.sign_in_configured(tmp_path)
    secrets = tmp_path / ".streamlit" / "secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text("[other]\nx = 1\n", encoding="utf-8")
    assert not serve.sign_in_configured(tmp_path)
    secrets.write_text('[auth]\nredirect_uri = "http://x/oauth2callback"\n', encoding="utf-8")
    assert serve.sign_in_configured(tmp_path)


def test_demo_refuses_an_open_address_before_building_anything(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "data" / "capacity.duckdb"
    result = CliRunner().invoke(app, ["demo", "--db", str(db), "--address", "0.0.0.0"])
    assert result.exit_code != 0
    assert "refusing to serve on 0.0.0.0" in str(result.exception)
    assert not db.exists() and not (tmp_path / "data").exists()


def test_the_setting_opens_the_address_too(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CAPWATCH_ADDRESS", "0.0.0.0")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["demo", "--db", str(tmp_path / "x.duckdb")])
    assert result.exit_code != 0
    assert "refusing to serve on 0.0.0.0" in str(result.exception)


# --- the real server -------------------------------------------------------------------------


def _listening(port: int) -> set[str]:
    """Local addresses with a socket in LISTEN state on `port` (from /proc/net/tcp{,6})."""
    found: set[str] = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            host, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(
                    "127.0.0.1" if host == "0100007F" else "any" if set(host) == {"0"} else host
                )
                assert len(host) == width
    return found


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start_demo(tmp_path: Path, port: int, *extra: str) -> subprocess.Popen[bytes]:
    db = tmp_path / "capacity.duckdb"
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "CAPWATCH_AUDIT_LOG": str(tmp_path / "a.jsonl"),
    }
    env.pop("CAPWATCH_ADDRESS", None)
    subprocess.run(
        [sys.executable, "-m", "capwatch", "migrate", "--db", str(db)],
        check=True,
        env=env,
        capture_output=True,
    )
    cmd = [sys.executable, "-m", "capwatch", "demo", "--db", str(db), "--port", str(port), *extra]
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"demo exited with {proc.returncode}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise AssertionError("the demo did not start")


def _stop_and_check(proc: subprocess.Popen[bytes], port: int, sig: int) -> None:
    servers = _children(proc.pid)
    assert servers, "the demo runs Streamlit as its child"
    proc.send_signal(sig)
    assert proc.wait(timeout=30) == 0
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in servers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in servers), "the Streamlit child is still running"
    assert _listening(port) == set(), "something still listens on the port"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_demo_listens_on_loopback_only_and_stops_on_a_signal(tmp_path: Path, sig: int) -> None:
    port = PORTS[0]
    proc = _start_demo(tmp_path, port)
    try:
        assert _listening(port) == {"127.0.0.1"}  # not 0.0.0.0, not ::
        _stop_and_check(proc, port, sig)
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_allow_anyone_opens_the_address_and_still_stops_cleanly(tmp_path: Path) -> None:
    port = PORTS[1]
    proc = _start_demo(tmp_path, port, "--address", "0.0.0.0", "--allow-anyone")
    try:
        assert _listening(port) == {"any"}
        _stop_and_check(proc, port, signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
