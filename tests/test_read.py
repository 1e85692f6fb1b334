"""One read of a file gives its content hash and whether it is UTF-8."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pipelines.read import fingerprint

MIB = 1 << 20


@pytest.mark.parametrize(
    ("data", "is_utf8"),
    [
        (b"site_code,units\nNX101,1\n", True),
        ("name\nCaf\u00e9 \u00a3\n".encode(), True),
        ("name\nCaf\u00e9 \u00a3\n".encode("cp1252"), False),
        (b"x" * (MIB - 1) + "\u00e9".encode() + b"abc", True),  # a character across chunks
        (b"x" * MIB + "\u00e9".encode()[:1], False),  # cut inside the last character
        (b"x" * MIB + b"\xff" + b"y" * MIB, False),  # a bad byte after an ASCII chunk
    ],
    ids=["ascii", "utf8", "cp1252", "split-char", "truncated-char", "bad-byte-later"],
)
def test_fingerprint_hashes_and_checks_utf8(tmp_path: Path, data: bytes, is_utf8: bool) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    found = fingerprint(path)
    assert found.sha256 == hashlib.sha256(data).hexdigest()
    assert found.is_utf8 is is_utf8
