"""`capwatch ingest --engine spark` without PySpark or Java: one plain line, exit 1, no load.

These need neither Spark nor Java (the quick tier runs them); the engine itself is tested in
tests/test_spark_engine.py.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import untidy_returns

_RUN = """
import sys
if sys.argv[1] == "no-pyspark":
    sys.modules["pyspark"] = None  # import pyspark now raises ImportError
    sys.modules["pyspark.sql"] = None
from capwatch.cli import main
sys.argv = ["capwatch", *sys.argv[2:]]
main()
"""


def _capwatch(
    mode: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _RUN, mode, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_spark_without_pyspark_is_one_plain_line_and_loads_nothing(tmp_path: Path) -> None:
    folder = untidy_returns.write(tmp_path / "in")
    database = tmp_path / "c.duckdb"
    result = _capwatch(
        "no-pyspark", "ingest", str(folder), "--db", str(database), "--engine", "spark"
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == ["capwatch: --engine spark needs PySpark: pip install 'capwatch[spark]'"]
    assert not database.exists()


def test_a_spark_master_without_the_spark_engine_is_refused(tmp_path: Path) -> None:
    folder = untidy_returns.write(tmp_path / "in")
    database = tmp_path / "c.duckdb"
    result = _capwatch(
        "plain", "ingest", str(folder), "--db", str(database), "--spark-master", "local[1]"
    )
    assert result.returncode == 1
    assert "--spark-master needs --engine spark" in result.stderr
    assert not database.exists()


@pytest.mark.skipif(importlib.util.find_spec("pyspark") is None, reason="needs PySpark")
def test_spark_without_java_is_one_plain_line(tmp_path: Path) -> None:
    folder = untidy_returns.write(tmp_path / "in")
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(Path(sys.executable).parent)  # this Python's folder only: no java
    result = _capwatch(
        "plain",
        "ingest",
        str(folder),
        "--db",
        str(tmp_path / "c.duckdb"),
        "--engine",
        "spark",
        env=env,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "capwatch: --engine spark needs Java 17 (Debian: apt-get install openjdk-17-jre-headless)"
    ]
