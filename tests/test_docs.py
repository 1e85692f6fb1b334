"""The README, the templates and `--help` stay in step with the code that they describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from capwatch import docs
from capwatch.cli import app
from capwatch.contract import INPUT_TABLES, template_csv

ROOT = Path(__file__).resolve().parent.parent


def test_readme_generated_sections_are_up_to_date() -> None:
    text = docs.README.read_text(encoding="utf-8")
    assert docs.render(text) == text, "run `python -m capwatch.docs` to refresh the README"


@pytest.mark.parametrize("table", INPUT_TABLES, ids=lambda t: t.name)
def test_each_input_table_has_a_matching_template(table) -> None:
    template = ROOT / "data" / "templates" / f"{table.name}.csv"
    assert template.read_text(encoding="utf-8") == template_csv(table)


def test_the_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash scripts/test.sh" in readme
    assert "bash scripts/test.sh" in ci


@pytest.mark.parametrize(
    "command",
    [
        "generate",
        "ingest",
        "loads",
        "unload",
        "demo",
        "export",
        "flags",
        "backtest",
        "sql",
        "schema",
        "migrate",
        "pack",
    ],
)
def test_every_command_in_the_readme_has_help(command: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"capwatch {command}" in readme
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
