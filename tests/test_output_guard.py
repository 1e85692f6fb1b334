"""No command writes its output over the database (or its WAL, or the audit log), and every
output replaces an old file by rename: the old file is whole until the new one is complete."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capwatch.cli import app
from capwatch.outputs import UnsafeOutput, check_output

# Every command that writes a file, with `OUT` where the output path goes.
WRITERS = {
    "export csv": ["export", "activity_daily", "--out", "OUT"],
    "export xlsx": ["export", "providers", "--out", "OUT", "--format", "xlsx"],
    "flags csv": ["flags", "--out", "OUT"],
    "flags xlsx": ["flags", "--out", "OUT", "--format", "xlsx"],
    "sql table": ["sql", "SELECT 1 AS x", "--out", "OUT"],
    "sql csv": ["sql", "SELECT 1 AS x", "--format", "csv", "--out", "OUT"],
    "sql json": ["sql", "SELECT 1 AS x", "--format", "json", "--out", "OUT"],
    "sql xlsx": ["sql", "SELECT 1 AS x", "--format", "xlsx", "--out", "OUT"],
    "backtest": ["backtest", "--out", "OUT"],
    "backtest summary": ["backtest", "--out", "ELSEWHERE", "--summary", "OUT"],
}


@pytest.fixture
def db(synthetic_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "capacity.duckdb"
    shutil.copyfile(synthetic_db, copy)
    return copy


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(args: list[str], db: Path, out: Path, elsewhere: Path):
    filled = [str(out) if a == "OUT" else str(elsewhere) if a == "ELSEWHERE" else a for a in args]
    return CliRunner().invoke(app, [*filled, "--db", str(db)])


@pytest.mark.parametrize("command", WRITERS, ids=list(WRITERS))
def test_no_command_writes_over_the_database(command: str, db: Path, tmp_path: Path) -> None:
    before = _digest(db)
    result = _run(WRITERS[command], db, db, tmp_path / "other.csv")
    assert result.exit_code != 0
    assert isinstance(result.exception, UnsafeOutput), result.output
    assert "it is the database" in str(result.exception)
    assert _digest(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["capacity.duckdb"]  # nothing else


@pytest.mark.parametrize("command", WRITERS, ids=list(WRITERS))
def test_nor_over_its_wal_or_another_name_for_it(command: str, db: Path, tmp_path: Path) -> None:
    before = _digest(db)
    wal = db.with_name(db.name + ".wal")
    linked = tmp_path / "report.csv"
    os.link(db, linked)  # the same file under another name
    symlinked = tmp_path / "shortcut.csv"
    symlinked.symlink_to(db)
    for out in (wal, linked, symlinked, tmp_path / "sub" / ".." / db.name):
        result = _run(WRITERS[command], db, out, tmp_path / "other.csv")
        assert isinstance(result.exception, UnsafeOutput), (out, result.output)
    assert _digest(db) == before
    assert not wal.exists()


def test_the_audit_log_and_folders_are_refused(tmp_path: Path, monkeypatch) -> None:
    log = tmp_path / "audit.jsonl"
    monkeypatch.setenv("CAPWATCH_AUDIT_LOG", str(log))
    with pytest.raises(UnsafeOutput, match="audit log"):
        check_output(log, tmp_path / "capacity.duckdb")
    with pytest.raises(UnsafeOutput, match="folder"):
        check_output(tmp_path, tmp_path / "capacity.duckdb")
    check_output(tmp_path / "fine.csv", tmp_path / "capacity.duckdb")  # the look-alike


def test_a_file_this_process_holds_open_is_refused(tmp_path: Path) -> None:
    held = tmp_path / "held.csv"
    held.write_text("x\n", encoding="utf-8")
    with held.open("rb"), pytest.raises(UnsafeOutput, match="has it open"):
        check_output(held, tmp_path / "capacity.duckdb")
    check_output(held, tmp_path / "capacity.duckdb")  # closed again: allowed


@pytest.mark.parametrize("command", WRITERS, ids=list(WRITERS))
def test_an_old_output_is_replaced_by_rename_never_rewritten(
    command: str, db: Path, tmp_path: Path
) -> None:
    out = tmp_path / ("old.xlsx" if "xlsx" in command else "old.csv")
    out.write_bytes(b"old contents")
    keep = tmp_path / "keep"
    os.link(out, keep)  # a second name for the old file's data
    result = _run(WRITERS[command], db, out, tmp_path / "other.csv")
    assert result.exit_code == 0, result.output
    assert keep.read_bytes() == b"old contents"  # the old file was not written into
    assert out.read_bytes() != b"old contents"
    assert not out.samefile(keep)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_a_failed_query_leaves_the_old_output_as_it_was(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "result.csv"
    out.write_bytes(b"yesterday's result")
    result = CliRunner().invoke(
        app,
        [
            "sql",
            "SELECT * FROM no_such_table",
            "--format",
            "csv",
            "--out",
            str(out),
            "--db",
            str(db),
        ],
    )
    assert result.exit_code != 0
    assert out.read_bytes() == b"yesterday's result"
