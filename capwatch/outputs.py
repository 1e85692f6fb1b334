"""Where a command may write its output (`--out`), and how it writes it.

- `check_output` refuses a path that is the database, its write-ahead log, the audit log or
  any file this process holds open: a CSV written there would destroy the data. Paths are
  compared after resolving links, and by file identity where the file exists (a hard link or
  a second name of the database is the database).
- `temp_beside` and `write_bytes` write a new file beside the target and rename it over the
  target in one step: a reader sees the old file or the new one, never half of either, and
  a failed write leaves the old file as it was. Something that is not a regular file (a
  device such as /dev/null, a pipe, a socket) is refused: a rename would replace it. A folder
  that cannot be written, or a write that fails (disk full), ends in `OutputFailed`: one
  line naming the path, and no partial file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from capwatch import config
from capwatch.errors import CapwatchError


class UnsafeOutput(CapwatchError):
    """An output path that must not be written."""


class OutputFailed(CapwatchError):
    """An output could not be written (the folder is read-only, the disk is full, ...)."""


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


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (after links; by identity where it exists)."""
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
        if same_file(out, path):
            raise UnsafeOutput(f"refusing to write to {out}: it is {what} ({path})")
    if out.exists() and any(same_file(out, held) for held in _open_files()):
        raise UnsafeOutput(f"refusing to write to {out}: capwatch has it open")
    if out.exists() and not stat.S_ISREG(out.stat().st_mode):
        raise UnsafeOutput(f"refusing to write to {out}: it is not a regular file")
    folder = _nearest_existing(out.parent)
    if not folder.is_dir():
        raise UnsafeOutput(f"cannot write {out}: {folder} is not a folder")
    try:  # a file can be made there: checked now, before the work, not after it
        fd, probe = tempfile.mkstemp(prefix=".capwatch-probe-", dir=folder)
    except OSError as exc:
        raise OutputFailed(f"cannot write {out}: {exc.strerror or exc} ({folder})") from None
    os.close(fd)
    Path(probe).unlink()


def _nearest_existing(folder: Path) -> Path:
    """`folder`, or its nearest ancestor that exists (the folders below it would be made)."""
    folder = folder.absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


@contextlib.contextmanager
def temp_beside(out: Path) -> Iterator[Path]:
    """A fresh temporary path in `out`'s folder; renamed over `out` if the block succeeds.

    An operating-system error (read-only folder, disk full) becomes `OutputFailed`, with the
    temporary file removed and `out` as it was."""
    if out.exists() and not stat.S_ISREG(out.stat().st_mode):  # also when check_output was not
        raise UnsafeOutput(f"refusing to write to {out}: it is not a regular file")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    except OSError as exc:
        raise OutputFailed(f"cannot write {out}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        tmp.chmod(0o666 & ~_umask())  # as an ordinary new file would be, not mkstemp's 0600
        tmp.replace(out)
    except OSError as exc:
        raise OutputFailed(f"cannot write {out}: {exc.strerror or exc}") from None
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
