"""Same data, same bytes: build the demo database with two checkouts and compare every export.

    python scripts/compare_exports.py --before /path/to/main --after . --work /tmp/cmp

Each checkout builds the default demo data with its own command line (`python -m capwatch
demo --build-only`, run from the checkout so its own code is imported), then exports every
documented table and view (`capwatch export`), the flags, the verdicts and the backtest. The
SHA-256 of each output is compared; the exit code is 1 if any differs or is missing. An export
the command line refuses is recorded with its reason (NAME.refused.txt) and compared too.

Columns that record *when* or *where* a load ran differ between any two builds and are
removed, by name, before hashing (EXCLUDED below); nothing else is. A checkout's step is
skipped if its output is already in the work folder (rerun with a fresh --work to rebuild).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

# (table or view, column): values that depend on the clock or the folder of the run.
EXCLUDED: dict[str, tuple[str, ...]] = {
    "load_log": ("file_path", "loaded_at", "duration_ms"),
    "load_history": ("loaded_at",),
    "load_changes": ("changed_at",),
    "rejected_files": ("file_path", "rejected_at"),
}
OUTPUTS = ("flags", "verdicts", "backtest")
# Significant figures a float is compared to when its bytes differ: `capwatch flags` on main
# gives different last digits run to run on one database (DuckDB sums doubles in parallel, in
# no fixed order), so a byte difference is reported together with this comparison.
FIGURES = 12


def _capwatch(repo: Path, *args: str, refusal: Path | None = None) -> str:
    """Run the checkout's own command line; a failure stops the check, unless `refusal` is
    given: then the one-line reason is written there (compared like an export)."""
    env = {**os.environ, "PYTHONPATH": str(repo)}
    env.pop("CAPWATCH_DB", None)
    done = subprocess.run(
        [sys.executable, "-m", "capwatch", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 and refusal is not None:
        refusal.write_text(done.stderr, encoding="utf-8")
    elif done.returncode != 0:
        raise SystemExit(f"capwatch {' '.join(args)} failed in {repo}:\n{done.stderr}")
    return done.stdout


def _relations(repo: Path) -> list[str]:
    code = "from capwatch import schema; print('\\n'.join(r.name for r in schema.RELATIONS))"
    env = {**os.environ, "PYTHONPATH": str(repo)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.split()


def build(repo: Path, out: Path, scale: float) -> None:
    """The demo database from `repo` and every export of it, in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    db = out / "capacity.duckdb"
    if not db.exists():
        _capwatch(repo, "demo", "--build-only", "--db", str(db), "--scale", str(scale))
    for name in _relations(repo):
        target = out / f"{name}.csv"
        refused = out / f"{name}.refused.txt"
        if not target.exists() and not refused.exists():
            _capwatch(repo, "export", name, "--out", str(target), "--db", str(db), refusal=refused)
    for name in OUTPUTS:
        target = out / f"{name}.csv"
        if not target.exists():
            _capwatch(repo, name, "--out", str(target), "--db", str(db))


def digest(path: Path) -> str:
    """SHA-256 of a CSV with its EXCLUDED columns removed (of the bytes as written if none)."""
    drop = EXCLUDED.get(path.stem, ())
    data = path.read_bytes()
    if drop:
        text = data.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        keep = [i for i, name in enumerate(rows[0]) if name not in drop] if rows else []
        buffer = io.StringIO(newline="")
        csv.writer(buffer, lineterminator="\n").writerows([r[i] for i in keep] for r in rows)
        data = buffer.getvalue().encode()
    return hashlib.sha256(data).hexdigest()


def _outputs(folder: Path) -> list[Path]:
    """Every export, and every export refused (its reason, e.g. a name export will not take)."""
    return [*folder.glob("*.csv"), *folder.glob("*.refused.txt")]


def rounded_digest(path: Path) -> str:
    """SHA-256 of a CSV with every float written to FIGURES significant figures."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))

    def cell(value: str) -> str:
        if "." not in value and "e" not in value.lower():
            return value
        try:
            return f"{float(value):.{FIGURES}g}"
        except ValueError:
            return value

    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\n").writerows([cell(v) for v in r] for r in rows)
    return hashlib.sha256(buffer.getvalue().encode()).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="checkout before the change")
    parser.add_argument("--after", type=Path, required=True, help="checkout after the change")
    parser.add_argument("--work", type=Path, required=True, help="folder for databases, CSVs")
    parser.add_argument("--scale", type=float, default=1.0, help="demo volume (default 1)")
    parser.add_argument(
        "--repeat", type=int, default=0, help="rerun the before checkout's outputs N times"
    )
    parser.add_argument("--only", choices=("before", "after"), help="build one side only")
    args = parser.parse_args()
    sides = {"before": args.before.resolve(), "after": args.after.resolve()}
    for side, repo in sides.items():
        if args.only in (None, side):
            build(repo, args.work / side, args.scale)
    if args.only:
        return 0
    before = {p.name: p for p in _outputs(args.work / "before")}
    after = {p.name: p for p in _outputs(args.work / "after")}
    differ = 0
    for name in sorted(before.keys() | after.keys()):
        if name not in before or name not in after:
            print(f"MISSING  {name} ({'after' if name in before else 'before'} has none)")
            differ += 1
            continue
        a, b = digest(before[name]), digest(after[name])
        excluded = EXCLUDED.get(Path(name).stem, ())
        if name.endswith(".refused.txt"):
            excluded = ()
        note = f"  (without {', '.join(excluded)})" if excluded else ""
        if (
            a != b
            and name.endswith(".csv")
            and rounded_digest(before[name]) == rounded_digest(after[name])
        ):
            note += f"  (bytes differ; same to {FIGURES} significant figures)"
        print(f"{'same   ' if a == b else 'DIFFERS'}  {a[:16]}  {name}{note}")
        differ += a != b
    print(f"{len(before.keys() | after.keys())} outputs compared, {differ} differ")
    if args.repeat:
        for name in OUTPUTS:  # is the before checkout itself stable on its own database?
            seen = {digest(args.work / "before" / f"{name}.csv")}
            for i in range(args.repeat):
                again = args.work / f"{name}.before.repeat{i}.csv"
                again.unlink(missing_ok=True)
                db = str(args.work / "before" / "capacity.duckdb")
                _capwatch(sides["before"], name, "--out", str(again), "--db", db)
                seen.add(digest(again))
            runs = args.repeat + 1
            print(f"before, {name} run {runs} times on one database: {len(seen)} distinct hash(es)")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
