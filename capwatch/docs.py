"""Generated documentation: the README's pages, layout and command line, and docs/ sections.

The page table comes from the page registry, the layout tree from each module's first
docstring line, the command line from its own help; in docs/: the input contract, the data
dictionary, the flag rules, the settings and the benchmark figures. Each file holds a section
between `<!-- BEGIN name -->` and `<!-- END name -->` markers; a test fails when one drifts from
the code. Refresh them with `python -m capwatch.docs`.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from capwatch.config import SETTINGS
from capwatch.contract import INPUT_TABLES, template_csv
from capwatch.schema import dictionary_markdown

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
TEMPLATES = ROOT / "data" / "templates"
BENCHMARK_RESULTS = ROOT / "bench" / "results" / "latest.md"
SPARK_BENCHMARK_RESULTS = BENCHMARK_RESULTS.with_name("spark.md")


def input_contract_markdown() -> str:
    """Every input table and column, with the template to copy."""
    lines: list[str] = []
    for t in INPUT_TABLES:
        lines += [
            f"#### `{t.name}` ({t.layer}) — template [`data/templates/{t.name}.csv`]"
            f"(data/templates/{t.name}.csv)",
            "",
            t.description
            + (f" Unique key: {', '.join(t.key)}." if t.key else "")
            + "".join(
                f" Every {r.column} must name one of the {r.table}."
                for r in t.declaration.references
            ),
            "",
            "| column | required | meaning | example |",
            "|---|---|---|---|",
        ]
        for c in t.columns:
            aka = f" (also read as {', '.join(c.aliases)})" if c.aliases else ""
            lines.append(
                f"| `{c.name}` | {'yes' if c.required else 'no'} | {c.guidance}{aka} "
                f"| {c.example or '(empty)'} |"
            )
        lines.append("")
    return "\n".join(lines)


def flag_rules_markdown() -> str:
    """Every flag rule of the registry: what it looks for, its parameters (defaults, bounds or
    named choices), how it grades a flag, the money it puts at stake and its evidence chart."""
    from capwatch.analytics.flags.rules import RULES

    charts = {
        "spc": "the XmR chart of the provider's weekly utilisation",
        "funnel": "the funnel plot of the service line, the provider highlighted",
        "threshold": "weekly NHS utilisation against the threshold, flagged weeks shaded",
        "value": "weekly contract value against the reference value of the NHS work",
    }
    lines: list[str] = []
    for r in RULES:
        lines += [f"#### {r.title} (`{r.name}`)", "", r.description, ""]
        lines += ["| parameter | default | range | meaning |", "|---|---|---|---|"]
        for p in r.params:
            lines.append(
                f"| `{r.name}.{p.key}` | {p.describe_default()} | {p.describe_range()} | {p.help} |"
            )
        lines += [
            "",
            f"Severity: {r.severity} Money at stake: {r.money} Evidence: {charts[r.chart]}.",
            "",
        ]
    return "\n".join(lines)


def settings_markdown() -> str:
    lines = ["| setting | environment variable | default | meaning |", "|---|---|---|---|"]
    lines += [f"| {s.name} | `{s.env}` | `{s.default}` | {s.help} |" for s in SETTINGS]
    return "\n".join(lines) + "\n"


# The benchmark's parts after `bench.run`, as `python -m bench.all` runs them: (title, tables).
BENCHMARK_PARTS = (
    ("Time to interactive in a browser (`python -m bench.interactive`)", "interactive.md"),
    ("Exports and the command line's start-up (`python -m bench.exports`)", "exports.md"),
    ("Published DM01 (`python -m bench.published`)", "published.md"),
    ("The contract review pack (`python -m bench.pack`)", "pack.md"),
)


def benchmark_markdown() -> str:
    """The latest benchmark tables, as `python -m bench.all` wrote them."""
    if not BENCHMARK_RESULTS.exists():
        return "No benchmark results yet: run `python -m bench.all`.\n"
    parts = [BENCHMARK_RESULTS.read_text(encoding="utf-8")]
    for title, name in BENCHMARK_PARTS:
        path = BENCHMARK_RESULTS.with_name(name)
        if path.exists():
            parts.append(f"### {title}\n\n" + path.read_text(encoding="utf-8"))
    return "\n".join(parts)


def _results(name: str) -> dict[str, Any]:
    path = BENCHMARK_RESULTS.with_name(name)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def speed_markdown() -> str:
    """The README's few headline figures, from the benchmark's latest results."""
    latest, pages = _results("latest.json"), _results("interactive.json")
    exports, pack = _results("exports.json"), _results("pack.json")
    lines: list[str] = []
    ingest = latest.get("ingest", {})
    if "10" in ingest:
        r = ingest["10"]
        c = r["capwatch_ingest"]
        lines.append(
            f"- `capwatch ingest` of {r['activity_rows'] / 1e6:.1f} million activity events "
            f"(scale 10): {c['wall_s']:.1f} s, {r['ratio_vs_floor']:.2f}× DuckDB's bare load "
            f"of the same files and {r['speedup_vs_pandas']:.1f}× faster than pandas + SQLite; "
            f"peak memory {c['peak_rss_mib']:,.0f} MiB"
            + (
                f" ({ingest['50']['capwatch_ingest']['peak_rss_mib']:,.0f} MiB at scale 50)"
                if "50" in ingest
                else ""
            )
            + "."
        )
    ratio = _results("ingest_ratio.json")
    if "capwatch / floor (CPU time)" in ratio:
        storage = ratio["capwatch / capwatch_default_storage (CPU time)"]
        lines.append(
            f"- Interleaved with the bare load at scale {ratio['scale']:g} (`bench.ingest_ratio`):"
            f" {ratio['capwatch / floor']:.2f}× its wall time and "
            f"{ratio['capwatch / floor (CPU time)']:.2f}× its CPU time; writing storage version "
            "1.0 (so that DuckDB 1.x tools open the file) takes "
            f"{storage:.2f}× the CPU of DuckDB's default format"
            + (" (no measurable cost)." if storage <= 1.05 else ".")
        )
    if pages.get("pages"):
        worst = max(pages["pages"].values(), key=lambda r: r["median_ms"])
        ratio = max(r["ratio"] for r in pages["pages"].values())
        lines.append(
            f"- Every page interactive in headless Chromium in {worst['median_ms']:,} ms or less "
            f"(median), at most {ratio:.2f}× a trivial Streamlit page "
            f"({pages['trivial']['median_ms']:,} ms)."
        )
    if exports:
        x = exports["export_xlsx"]
        lines.append(
            f"- A {exports['rows']:,}-row workbook export in {x['wall_s']:.1f} s "
            f"({x['rows_per_s']:,.0f} rows/s)"
            + (f"; one review pack in {pack['one_pack_s']:.1f} s" if pack else "")
            + "."
        )
    if not lines:
        return "No benchmark results yet: run `python -m bench.all`.\n"
    when = latest.get("machine", {}).get("date", "")
    head = f"Measured {when} on {latest.get('machine', {}).get('cpus', '?')} CPUs"
    return (
        head
        + " ([docs/benchmark.md](docs/benchmark.md) has every figure):\n\n"
        + "\n".join(lines)
        + "\n"
    )


def spark_benchmark_markdown() -> str:
    """The latest Spark benchmark tables, as `python -m bench.spark` wrote them."""
    if not SPARK_BENCHMARK_RESULTS.exists():
        return "No Spark benchmark results yet: run `python -m bench.spark`.\n"
    return SPARK_BENCHMARK_RESULTS.read_text(encoding="utf-8")


def page_table_markdown() -> str:
    from capwatch.ui.pages import page_table_markdown as table

    return table()


def cli_markdown() -> str:
    """Every command with its arguments and options, and the first line of its help."""
    from capwatch.cli import app

    group = typer.main.get_command(app)  # Typer's (vendored) Click group
    ctx = group.context_class(group, info_name="capwatch")
    lines = ["| command | what it does |", "|---|---|"]
    for name, command in getattr(group, "commands", {}).items():
        own = command.context_class(command, info_name=name, parent=ctx)
        pieces = " ".join(command.collect_usage_pieces(own))
        options = " ".join(
            f"`{p.opts[0]}{' ' + p.metavar if p.metavar else ''}`"
            for p in command.params
            if p.param_type_name == "option" and p.opts and p.opts[0] != "--help"
        )
        args = pieces.replace("[OPTIONS]", "").strip()
        usage = f"`capwatch {name}{' ' + args if args else ''}` {options}".strip()
        lines.append(f"| {usage} | {command.get_short_help_str(limit=120)} |")
    return "\n".join(lines) + "\n"


LAYOUT_TOP = {
    "app.py": None,  # its docstring
    "pages/": "one file per page (registry: capwatch/ui/pages.py); they only render",
    "capwatch/": None,
    "pipelines/": None,
    "data/templates/": "a CSV template per input table",
    "data/published/": "real published DM01 data for the demo (OGL v3.0, with its attribution)",
    "docs/": "everything the README leaves out: contract, dictionary, flags, Spark, development",
    "tests/": "pytest: unit, views, CLI, AppTest pages, browser (headless Chromium)",
    "bench/": "the benchmark (speed is measured there, never in tests)",
    "scripts/test.sh": "installs what the tests need, runs ruff, mypy, lint-imports and pytest",
}
LAYOUT_OPEN = ("capwatch", "capwatch/analytics", "pipelines")
"""The packages whose modules the tree lists one by one (the others: one line each)."""


def _first_line(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return doc.split("\n", 1)[0]


def layout_markdown() -> str:
    """The layout tree: each folder and module with the first line of its docstring."""
    rows: list[tuple[str, str]] = []

    def package(folder: Path, depth: int) -> None:
        rel = folder.relative_to(ROOT).as_posix()
        for child in sorted(folder.iterdir()):
            if child.suffix == ".py" and child.name not in {"__init__.py", "__main__.py"}:
                rows.append(("  " * depth + child.name, _first_line(child)))
            elif (child / "__init__.py").is_file():
                rows.append(("  " * depth + child.name + "/", _first_line(child / "__init__.py")))
                if f"{rel}/{child.name}" in LAYOUT_OPEN:
                    package(child, depth + 1)

    for name, text in LAYOUT_TOP.items():
        if name in {"capwatch/", "pipelines/"}:
            rows.append((name, _first_line(ROOT / name / "__init__.py")))
            package(ROOT / name, 1)
        else:
            rows.append((name, text if text is not None else _first_line(ROOT / name)))
    width = max(len(n) for n, _ in rows) + 2
    return "```\n" + "".join(f"{n.ljust(width)}{t}\n" for n, t in rows) + "```\n"


SECTIONS: dict[str, tuple[Path, Callable[[], str]]] = {
    "pages": (README, page_table_markdown),
    "layout": (README, layout_markdown),
    "cli": (README, cli_markdown),
    "settings": (DOCS / "settings.md", settings_markdown),
    "input-contract": (DOCS / "loading-data.md", input_contract_markdown),
    "data-dictionary": (DOCS / "data-dictionary.md", dictionary_markdown),
    "flag-rules": (DOCS / "flags.md", flag_rules_markdown),
    "benchmark": (DOCS / "benchmark.md", benchmark_markdown),
    "speed": (README, speed_markdown),
    "spark-benchmark": (DOCS / "spark.md", spark_benchmark_markdown),
}


def render(text: str, file: Path = README) -> str:
    """`file`'s text with every generated section it holds brought up to date."""
    for name, (where, make) in SECTIONS.items():
        if where != file:
            continue
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", flags=re.DOTALL)
        if not pattern.search(text):
            raise ValueError(f"{file.name} has no {name} section markers")
        text = _fill(pattern, text, make())
    return text


def _fill(pattern: re.Pattern[str], readme: str, body: str) -> str:
    """Put `body` between the markers `pattern` matches (taken literally, not as a template)."""
    return pattern.sub(lambda m: m.group(1) + body + m.group(2), readme)


def generated_files() -> list[Path]:
    return sorted({where for where, _ in SECTIONS.values()})


def templates() -> dict[Path, str]:
    """The template file of every input table in the catalogue, and its text."""
    return {TEMPLATES / f"{t.name}.csv": template_csv(t) for t in INPUT_TABLES}


def main() -> int:
    for path, text in templates().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8", newline="")
            print(f"updated {path}")
    for file in generated_files():
        text = file.read_text(encoding="utf-8")
        new = render(text, file)
        if new != text:
            file.write_text(new, encoding="utf-8")
            print(f"updated {file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
