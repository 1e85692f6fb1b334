"""Generated README sections: the input contract, the data dictionary, the flag rules (from
the rules registry) and the settings.

The README holds each between `<!-- BEGIN name -->` and `<!-- END name -->` markers; a test
fails when they drift from the code. Refresh them with `python -m capwatch.docs`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from capwatch.config import SETTINGS
from capwatch.contract import INPUT_TABLES
from capwatch.schema import dictionary_markdown

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
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
            t.description + (f" Unique key: {', '.join(t.key)}." if t.key else ""),
            "",
            "| column | required | meaning | example |",
            "|---|---|---|---|",
        ]
        for c in t.columns:
            aka = f" (also read as {', '.join(c.aliases)})" if c.aliases else ""
            lines.append(
                f"| `{c.name}` | {'yes' if c.required else 'no'} | {c.description}{aka} "
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


def benchmark_markdown() -> str:
    """The latest benchmark tables, as `python -m bench.run` wrote them."""
    if not BENCHMARK_RESULTS.exists():
        return "No benchmark results yet: run `python -m bench.run`.\n"
    return BENCHMARK_RESULTS.read_text(encoding="utf-8")


def spark_benchmark_markdown() -> str:
    """The latest Spark benchmark tables, as `python -m bench.spark` wrote them."""
    if not SPARK_BENCHMARK_RESULTS.exists():
        return "No Spark benchmark results yet: run `python -m bench.spark`.\n"
    return SPARK_BENCHMARK_RESULTS.read_text(encoding="utf-8")


SECTIONS = {
    "input-contract": input_contract_markdown,
    "data-dictionary": dictionary_markdown,
    "settings": settings_markdown,
    "flag-rules": flag_rules_markdown,
    "benchmark": benchmark_markdown,
    "spark-benchmark": spark_benchmark_markdown,
}


def render(readme: str) -> str:
    """The README text with every generated section brought up to date."""
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", flags=re.DOTALL)
        if not pattern.search(readme):
            raise ValueError(f"README has no {name} section markers")
        readme = _fill(pattern, readme, make())
    return readme


def _fill(pattern: re.Pattern[str], readme: str, body: str) -> str:
    """Put `body` between the markers `pattern` matches (taken literally, not as a template)."""
    return pattern.sub(lambda m: m.group(1) + body + m.group(2), readme)


def main() -> int:
    text = README.read_text(encoding="utf-8")
    new = render(text)
    if new != text:
        README.write_text(new, encoding="utf-8")
        print(f"updated {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
