"""Where a command may write its output (`--out`), and how it writes it.

- `check_output` refuses a path that is the database, its write-ahead log, the audit log or
  any file this process holds open: a CSV written there would destroy the data. Paths are
  compared after resolving links, and by file identity where the file exists (a hard link or
  a second name of the database is the database).
- `temp_beside` and `write_bytes` write a new file beside the target and rename it over the
  target in one step: a reader sees the old file or the new one, never half of either, and
  a failed write leaves the old file as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from capwatch import config
from capwatch.errors import CapwatchError


class UnsafeOutput(CapwatchError):
    """An output path that must not be written."""


def _protected(db_path: Path) -> dict[Path, str]:
    db = Path(db_path)
    wal = db.with_name(db.name + ".wal")
    return {
        db: "the database",
        wal: "the database's write-ahead log",
        Path(config.setting("audit_log")): "the audit log",
    }


def _open_files() -> set[Path]:
    """Files this process holds open (Linux: /proc/self/fd; elsewhere none are known)."""
    found: set[Path] = set()
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():
        return found
    for fd in fd_dir.iterdir():
        with contextlib.suppress(OSError):
            target = fd.readlink()
            if target.is_absolute():
                found.add(target)
    return found


def _same(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return a.samefile(b)
    except OSError:
        return False


def check_output(out: Path, db_path: Path) -> None:
    """Raise `UnsafeOutput` unless `out` is a file a command may write (see the module)."""
    if out.is_dir():
        raise UnsafeOutput(f"--out {out} is a folder: name a file")
    for path, what in _protected(db_path).items():
        if _same(out, path):
            raise UnsafeOutput(f"refusing to write to {out}: it is {what} ({path})")
    if out.exists() and any(_same(out, held) for held in _open_files()):
        raise UnsafeOutput(f"refusing to write to {out}: capwatch has it open")


@contextlib.contextmanager
def temp_beside(out: Path) -> Iterator[Path]:
    """A fresh temporary path in `out`'s folder; renamed over `out` if the block succeeds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        tmp.chmod(0o666 & ~_umask())  # as an ordinary new file would be, not mkstemp's 0600
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_bytes(out: Path, data: bytes) -> None:
    """Write `data` to `out` through a temporary file renamed over it."""
    with temp_beside(out) as tmp:
        tmp.write_bytes(data)


def move_into(src: Path, out: Path) -> None:
    """Put the finished file `src` at `out`: copied beside `out` first when on another disk,
    then renamed over it."""
    import shutil

    with temp_beside(out) as tmp:
        shutil.move(src, tmp)
