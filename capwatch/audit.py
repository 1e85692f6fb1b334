"""The audit trail: who signed in, downloaded a CSV, ran SQL or made a review pack, when, what
and how many rows.

One JSON object per line in an append-only file (setting `audit_log`, `$CAPWATCH_AUDIT_LOG`,
default `data/audit.jsonl`). Each record carries `prev`, the SHA-256 of the previous line's
bytes (64 zeros for the first), so changing, removing or reordering any earlier line breaks
the chain and `verify()` says where. Appends open the file with `O_APPEND` and take an
exclusive `flock` while they read the last line and write the new one in a single `write()`,
so concurrent processes keep one unbroken chain. Nothing in capwatch opens it any other way.

Someone with write access to the file could rebuild the whole chain; to detect that, keep the
head hash (`verify().head`) somewhere else from time to time, or make the file append-only
at the operating-system level (`chattr +a`). Nothing here imports Streamlit.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from capwatch import config

AUDIT_SETTING = "audit_log"
GENESIS = "0" * 64
ACTIONS: tuple[str, ...] = ("sign_in", "download", "sql", "pack")
_TAIL_CHUNK = 8192

READ_SCHEMA: dict[str, Any] = {
    "seq": pl.Int64,
    "at": pl.Datetime("us", "UTC"),
    "who": pl.String,
    "action": pl.String,
    "page": pl.String,
    "what": pl.String,
    "rows": pl.Int64,
}


class AuditError(Exception):
    """The audit log cannot be written (the action must not go unrecorded)."""


def audit_log_path() -> Path:
    """The audit log: the `audit_log` setting (`$CAPWATCH_AUDIT_LOG`), else its default."""
    return Path(config.setting(AUDIT_SETTING))


def line_hash(line: bytes) -> str:
    """SHA-256 (hex) of one record's bytes, without its newline."""
    return hashlib.sha256(line).hexdigest()


def _last_line(fd: int) -> bytes | None:
    """The last complete line of the file (without newline), reading back from the end."""
    end = os.lseek(fd, 0, os.SEEK_END)
    if end == 0:
        return None
    tail = b""
    pos = end
    while pos > 0:
        step = min(_TAIL_CHUNK, pos)
        pos -= step
        tail = os.pread(fd, step, pos) + tail
        body = tail[:-1] if tail.endswith(b"\n") else tail
        cut = body.rfind(b"\n")
        if cut >= 0:
            return body[cut + 1 :]
    return tail[:-1] if tail.endswith(b"\n") else tail


@contextlib.contextmanager
def _locked_append(path: Path) -> Iterator[int]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # closing releases the lock


def record(
    action: str,
    who: str,
    *,
    page: str | None = None,
    what: Mapping[str, Any] | None = None,
    rows: int | None = None,
    path: Path | str | None = None,
) -> dict[str, Any]:
    """Append one record and return it. Raises `AuditError` if it cannot be written."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r} (one of {', '.join(ACTIONS)})")
    file = Path(path) if path is not None else audit_log_path()
    try:
        with _locked_append(file) as fd:
            last = _last_line(fd)
            seq = 1
            if last is not None:
                with contextlib.suppress(ValueError, TypeError, KeyError):
                    seq = int(json.loads(last)["seq"]) + 1
            entry = {
                "seq": seq,
                "at": datetime.now(UTC).isoformat(timespec="microseconds"),
                "who": who,
                "action": action,
                "page": page,
                "what": dict(what or {}),
                "rows": rows,
                "prev": GENESIS if last is None else line_hash(last),
            }
            line = json.dumps(entry, ensure_ascii=False, sort_keys=True, default=str).encode()
            written = os.write(fd, line + b"\n")
            if written != len(line) + 1:
                raise AuditError(f"audit log {file}: short write ({written} bytes)")
    except OSError as exc:
        raise AuditError(f"audit log {file} cannot be written: {exc.strerror or exc}") from exc
    return entry


@dataclass(frozen=True)
class Verification:
    """The result of walking the chain."""

    ok: bool
    records: int
    head: str  # hash of the last good line (GENESIS for an empty log)
    problem: str | None = None
    line: int | None = None  # 1-based line of the first problem

    def describe(self) -> str:
        if self.ok:
            return f"Chain intact: {self.records:,} records, head {self.head[:12]}…"
        return f"Chain broken at line {self.line}: {self.problem}"


def verify(path: Path | str | None = None) -> Verification:
    """Walk the hash chain from the first line; report the first line that does not follow."""
    file = Path(path) if path is not None else audit_log_path()
    if not file.exists():
        return Verification(True, 0, GENESIS)
    data = file.read_bytes()
    if data and not data.endswith(b"\n"):
        lines = data.split(b"\n")
        return Verification(False, len(lines) - 1, GENESIS, "the last line is incomplete",
                            len(lines))  # fmt: skip
    prev, seq = GENESIS, 0
    for number, line in enumerate(data.split(b"\n")[:-1], start=1):
        try:
            entry = json.loads(line)
            entry_prev, entry_seq = entry["prev"], entry["seq"]
        except (ValueError, KeyError, TypeError):
            return Verification(False, number - 1, prev, "not a valid audit record", number)
        if entry_prev != prev:
            return Verification(
                False, number - 1, prev,
                "it does not carry the hash of the line before (a line was changed, removed "
                "or inserted)", number,
            )  # fmt: skip
        if entry_seq != seq + 1:
            return Verification(False, number - 1, prev, f"sequence {entry_seq} after {seq}",
                                number)  # fmt: skip
        prev, seq = line_hash(line), entry_seq
    return Verification(True, seq, prev)


def read_records(
    path: Path | str | None = None,
    *,
    who: str | None = None,
    actions: tuple[str, ...] = (),
    since: datetime | None = None,
    limit: int | None = None,
) -> pl.DataFrame:
    """Records newest first (columns `READ_SCHEMA`; `what` as JSON text), optionally filtered
    by who (case-insensitive substring), actions and time. Unreadable lines are skipped here;
    `verify()` reports them."""
    file = Path(path) if path is not None else audit_log_path()
    rows: list[dict[str, Any]] = []
    if file.exists():
        for line in file.read_bytes().split(b"\n"):
            try:
                entry = json.loads(line)
                rows.append(
                    {
                        "seq": int(entry["seq"]),
                        "at": datetime.fromisoformat(entry["at"]),
                        "who": str(entry["who"]),
                        "action": str(entry["action"]),
                        "page": entry.get("page"),
                        "what": json.dumps(entry.get("what") or {}, ensure_ascii=False),
                        "rows": entry.get("rows"),
                    }
                )
            except (ValueError, KeyError, TypeError):
                continue
    frame = pl.DataFrame(rows, schema=READ_SCHEMA)
    if who:
        frame = frame.filter(
            pl.col("who").str.to_lowercase().str.contains(who.lower(), literal=True)
        )
    if actions:
        frame = frame.filter(pl.col("action").is_in(list(actions)))
    if since is not None:
        aware = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
        frame = frame.filter(pl.col("at") >= aware)
    frame = frame.sort("seq", descending=True)
    return frame.head(limit) if limit is not None else frame
