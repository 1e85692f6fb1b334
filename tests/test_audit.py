"""The audit log: append-only records in a SHA-256 chain that survives concurrent writers and
shows any rewrite."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from capwatch import audit


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1]


def test_records_are_appended_with_every_field(tmp_path: Path) -> None:
    log = tmp_path / "sub" / "audit.jsonl"
    audit.record("sign_in", "a@nhs.net", path=log)
    audit.record(
        "download", "a@nhs.net", page="providers",
        what={"file": "x.csv", "filters": "London"}, rows=12, path=log,
    )  # fmt: skip
    audit.record("sql", "b@nhs.net", page="sql", what={"query": "SELECT 1"}, rows=1, path=log)
    lines = _lines(log)
    assert len(lines) == 3
    entries = [json.loads(line) for line in lines]
    assert [e["seq"] for e in entries] == [1, 2, 3]
    assert [e["action"] for e in entries] == ["sign_in", "download", "sql"]
    assert entries[1]["what"] == {"file": "x.csv", "filters": "London"}
    assert entries[1]["rows"] == 12
    # the chain, computed independently with hashlib
    assert entries[0]["prev"] == "0" * 64
    assert entries[1]["prev"] == hashlib.sha256(lines[0]).hexdigest()
    assert entries[2]["prev"] == hashlib.sha256(lines[1]).hexdigest()
    when = datetime.fromisoformat(entries[0]["at"])
    assert when.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - when) < timedelta(minutes=5)
    result = audit.verify(log)
    assert result.ok and result.records == 3
    assert result.head == hashlib.sha256(lines[2]).hexdigest()


def test_an_existing_log_is_only_appended_to(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    audit.record("sign_in", "a@nhs.net", path=log)
    before = log.read_bytes()
    audit.record("sign_in", "b@nhs.net", path=log)
    assert log.read_bytes().startswith(before)


def test_unknown_action_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record("delete_everything", "a@nhs.net", path=tmp_path / "a.jsonl")


def test_unwritable_log_raises_audit_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(audit.AuditError, match="cannot be written"):
        audit.record("sign_in", "a@nhs.net", path=blocker / "audit.jsonl")


def _writer(path: str, who: str, count: int) -> None:
    for i in range(count):
        audit.record("download", who, page="p", what={"i": i}, rows=i, path=path)


def test_concurrent_appends_from_several_processes_keep_one_chain(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    writers, each = 4, 60
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(log), f"w{n}@nhs.net", each))
             for n in range(writers)]  # fmt: skip
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    lines = _lines(log)
    assert len(lines) == writers * each
    entries = [json.loads(line) for line in lines]
    assert [e["seq"] for e in entries] == list(range(1, writers * each + 1))
    for before, entry in zip(lines, entries[1:], strict=False):
        assert entry["prev"] == hashlib.sha256(before).hexdigest()
    for n in range(writers):  # every writer's records all arrived, in its own order
        mine = [e["what"]["i"] for e in entries if e["who"] == f"w{n}@nhs.net"]
        assert mine == list(range(each))
    assert audit.verify(log).ok


@pytest.fixture
def chained(tmp_path: Path) -> Path:
    log = tmp_path / "audit.jsonl"
    for i in range(5):
        audit.record("sql", f"u{i}@nhs.net", what={"query": f"SELECT {i}"}, rows=i, path=log)
    return log


def test_an_edited_line_is_detected(chained: Path) -> None:
    lines = _lines(chained)
    entry = json.loads(lines[1])
    entry["rows"] = 999  # someone hides how much was taken
    lines[1] = json.dumps(entry, sort_keys=True).encode()
    chained.write_bytes(b"\n".join(lines) + b"\n")
    result = audit.verify(chained)
    assert not result.ok
    assert result.line == 3  # the line after the edit no longer carries its hash
    assert "changed, removed or inserted" in (result.problem or "")


def test_a_removed_line_is_detected(chained: Path) -> None:
    lines = _lines(chained)
    del lines[2]
    chained.write_bytes(b"\n".join(lines) + b"\n")
    result = audit.verify(chained)
    assert not result.ok and result.line == 3


def test_swapped_lines_are_detected(chained: Path) -> None:
    lines = _lines(chained)
    lines[1], lines[2] = lines[2], lines[1]
    chained.write_bytes(b"\n".join(lines) + b"\n")
    assert not audit.verify(chained).ok


def test_a_truncated_tail_is_detected(chained: Path) -> None:
    data = chained.read_bytes()
    chained.write_bytes(data[:-10])
    result = audit.verify(chained)
    assert not result.ok and "incomplete" in (result.problem or "")


def test_an_empty_or_missing_log_verifies(tmp_path: Path) -> None:
    assert audit.verify(tmp_path / "none.jsonl").ok
    assert audit.read_records(tmp_path / "none.jsonl").height == 0


def test_read_records_newest_first_and_filtered(chained: Path) -> None:
    audit.record("sign_in", "U1@NHS.NET", path=chained)
    frame = audit.read_records(chained)
    assert frame["seq"].to_list() == [6, 5, 4, 3, 2, 1]
    assert audit.read_records(chained, who="u1@")["seq"].to_list() == [6, 2]
    assert audit.read_records(chained, actions=("sign_in",))["who"].to_list() == ["U1@NHS.NET"]
    assert audit.read_records(chained, limit=2)["seq"].to_list() == [6, 5]
    future = datetime.now(UTC) + timedelta(hours=1)
    assert audit.read_records(chained, since=future).height == 0
    first = audit.read_records(chained).filter(pl.col("seq") == 3).row(0, named=True)
    assert json.loads(first["what"]) == {"query": "SELECT 2"} and first["rows"] == 2


def test_log_path_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPWATCH_AUDIT_LOG", str(tmp_path / "elsewhere.jsonl"))
    audit.record("sign_in", "a@nhs.net")
    assert (tmp_path / "elsewhere.jsonl").exists()


def test_the_audit_page_shows_words_not_json() -> None:
    from datetime import UTC, datetime

    import polars as pl

    from capwatch.ui.audit_view import readable

    records = pl.DataFrame(
        {
            "at": [datetime(2026, 12, 2, 21, 13, 22, tzinfo=UTC)] * 3,
            "action": ["sql", "download", "sign_in"],
            "what": [
                '{"query": "SELECT 1\\n  FROM x", "error": "no table x"}',
                '{"file": "capwatch_flags.csv", "filters": {"regions": ["London"]}}',
                '{"provider": "nhs", "sign_in_id": "abc"}',
            ],
        }
    )
    shown = readable(records)
    assert shown["action"].to_list() == ["SQL query", "Download", "Sign-in"]
    assert shown["at"][0] == "2 Dec 2026, 21:13:22"
    assert shown["what"].to_list() == [
        "SELECT 1 FROM x (failed: no table x)",
        "capwatch_flags.csv",
        "provider nhs; sign in id abc",
    ]
