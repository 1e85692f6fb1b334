"""Export and CLI start-up benchmark: a large workbook, the same as CSV, and `sql "SELECT 1"`.

    python -m bench.exports                 # scale 1 (activity_daily: 266,334 rows), 3 runs
    python -m bench.exports --repeats 5

Each figure is the median wall time of `--repeats` runs of the real command in a fresh child
process (Python start-up included). `sql "SELECT 1"` is split into its parts: starting
Python and importing the CLI, and one sandboxed query (a fresh, locked-down worker process
that imports DuckDB, opens the database read-only and locks its settings). Results go to
`bench/results/exports.json` and `.md`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.run import RESULTS, loaded_db, machine

VIEW = "activity_daily"


def _wall(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def _median(repeats: int, argv: list[str]) -> float:
    return statistics.median(_wall(argv) for _ in range(repeats))


def _rows(db: Path) -> int:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        found = con.execute(f"SELECT count(*) FROM {VIEW}").fetchone()
    assert found is not None
    return int(found[0])


def run(scale: float, repeats: int) -> dict[str, Any]:
    db = loaded_db(scale)
    rows = _rows(db)
    cli = [sys.executable, "-m", "capwatch"]
    results: dict[str, Any] = {"scale": scale, "view": VIEW, "rows": rows, "repeats": repeats}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("xlsx", "csv"):
            out = Path(tmp) / f"{VIEW}.{fmt}"
            wall = _median(repeats, [*cli, "export", VIEW, "--out", str(out), "--db", str(db)])
            results[f"export_{fmt}"] = {
                "wall_s": wall,
                "rows_per_s": rows / wall,
                "file_mib": out.stat().st_size / 2**20,
            }
    results["sql_select_1_s"] = _median(repeats, [*cli, "sql", "SELECT 1", "--db", str(db)])
    results["cli_import_s"] = _median(repeats, [sys.executable, "-c", "import capwatch.cli"])
    results["python_start_s"] = _median(repeats, [sys.executable, "-c", "pass"])
    in_process = (
        "import sys, time; from pathlib import Path; from capwatch.sandbox import run_query; "
        "t = time.perf_counter(); run_query(Path(sys.argv[1]), 'SELECT 1').cleanup(); "
        "print(time.perf_counter() - t)"
    )
    sandbox = [
        float(
            subprocess.run(
                [sys.executable, "-c", in_process, str(db)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        for _ in range(repeats)
    ]
    results["sandbox_query_s"] = statistics.median(sandbox)
    return results


def report(results: dict[str, Any]) -> str:
    x, c = results["export_xlsx"], results["export_csv"]
    return "\n".join(
        [
            f"Exports of `{results['view']}` ({results['rows']:,} rows, scale "
            f"{results['scale']:g}), median of {results['repeats']} runs, wall time of the "
            "whole command:",
            "",
            "| what | wall | rows/s | file |",
            "|---|---|---|---|",
            f"| `capwatch export {results['view']} --out x.xlsx` | {x['wall_s']:.2f} s | "
            f"{x['rows_per_s']:,.0f} | {x['file_mib']:.1f} MiB |",
            f"| `capwatch export {results['view']} --out x.csv` | {c['wall_s']:.2f} s | "
            f"{c['rows_per_s']:,.0f} | {c['file_mib']:.1f} MiB |",
            "",
            '`capwatch sql "SELECT 1"` start-up:',
            "",
            "| part | wall |",
            "|---|---|",
            f"| the whole command | {results['sql_select_1_s']:.2f} s |",
            f"| Python start-up alone | {results['python_start_s']:.2f} s |",
            f"| Python + importing the CLI | {results['cli_import_s']:.2f} s |",
            f"| one sandboxed query (fresh worker process) | {results['sandbox_query_s']:.2f} s |",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    results = run(args.scale, args.repeats)
    results["machine"] = machine()
    results["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "exports.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    text = report(results)
    (RESULTS / "exports.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
