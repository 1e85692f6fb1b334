"""Serving the dashboard for `capwatch demo`: which address it listens on, and its shutdown.

- **Address.** The server listens on loopback (`127.0.0.1`) unless told otherwise: in local
  mode there is no sign-in, and anyone who can reach the address sees everything. A wider
  address without sign-in configured is refused (`check_address`) unless the user says,
  with `--allow-anyone`, that everyone who can reach it may see the data.
- **Shutdown.** `run_server` runs Streamlit as a child in its own process group, forwards
  SIGTERM and SIGINT to it and waits for it to stop (killing it after `STOP_GRACE_S`), so a
  service manager's stop or a Ctrl+C leaves no server running. On Linux the child also gets
  SIGTERM if this process dies without forwarding (e.g. SIGKILL).
"""

from __future__ import annotations

import ctypes
import ipaddress
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType

from capwatch.errors import CapwatchError

LOOPBACK = "127.0.0.1"
STOP_GRACE_S = 10.0
FORWARDED = (signal.SIGTERM, signal.SIGINT)
_PR_SET_PDEATHSIG = 1


class UnsafeAddress(CapwatchError):
    """The dashboard would be open to other machines without sign-in."""


def is_loopback(address: str) -> bool:
    """True when `address` (an IP or a host name) only ever reaches this machine."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(address, None)
    except OSError:
        return False  # unknown: treat as open
    ips = {info[4][0] for info in found}
    return bool(ips) and all(ipaddress.ip_address(str(ip)).is_loopback for ip in ips)


def secrets_files(folder: Path) -> list[Path]:
    """The secrets files Streamlit reads when served from `folder` (home, then the folder)."""
    return [Path.home() / ".streamlit" / "secrets.toml", folder / ".streamlit" / "secrets.toml"]


def sign_in_configured(folder: Path) -> bool:
    """True when a secrets file Streamlit will read has an `[auth]` section.

    An unreadable secrets file counts as not configured: the app then refuses everyone, but
    the address check should not rely on a broken file.
    """
    for path in secrets_files(folder):
        try:
            if "auth" in tomllib.loads(path.read_text(encoding="utf-8")):
                return True
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
    return False


def check_address(address: str, *, signed_in: bool, allow_anyone: bool) -> None:
    """Refuse a non-loopback address when there is no sign-in, unless `allow_anyone`."""
    if is_loopback(address) or signed_in or allow_anyone:
        return
    raise UnsafeAddress(
        f"refusing to serve on {address}: sign-in is not configured (no [auth] section in "
        ".streamlit/secrets.toml), so anyone who can reach this address would see everything. "
        "Configure sign-in, or pass --allow-anyone if that is intended."
    )


def shown_url(address: str, port: int) -> str:
    """The address to open in a browser (a wildcard address is reached as localhost)."""
    host = "localhost" if address in ("0.0.0.0", "::", "") or is_loopback(address) else address
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


def run_server(cmd: Sequence[str], env: Mapping[str, str]) -> int:
    """Run `cmd` until it exits; SIGTERM/SIGINT are forwarded and the child waited for.

    Returns the child's exit code, or 0 when it stopped because it was asked to.
    """
    stopping: list[int] = []
    child: subprocess.Popen[bytes] | None = None

    def forward(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    try:
        # Its own process group: a terminal's Ctrl+C reaches it once, through us.
        child = subprocess.Popen(
            list(cmd), env=dict(env), process_group=0, preexec_fn=_die_with_parent
        )
        if stopping:  # a signal came while it was starting
            child.send_signal(stopping[0])
        return _wait(child, stopping)
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _wait(child: subprocess.Popen[bytes], stopping: list[int]) -> int:
    deadline: float | None = None
    while True:
        try:
            code = child.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            if stopping and deadline is None:
                deadline = time.monotonic() + STOP_GRACE_S
            if deadline is not None and time.monotonic() > deadline:
                child.kill()
                child.wait()
                return 0
            continue
        return 0 if stopping else code
