"""The README, the templates and `--help` stay in step with the code that they describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from capwatch import docs
from capwatch.cli import app
from capwatch.contract import INPUT_TABLES, template_csv

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("file", docs.generated_files(), ids=lambda p: p.name)
def test_generated_sections_are_up_to_date(file: Path) -> None:
    text = file.read_text(encoding="utf-8")
    assert docs.render(text, file) == text, f"run `python -m capwatch.docs` to refresh {file.name}"


def test_every_generated_section_has_its_markers() -> None:
    for name, (file, _) in docs.SECTIONS.items():
        text = file.read_text(encoding="utf-8")
        assert f"<!-- BEGIN {name} -->" in text and f"<!-- END {name} -->" in text, name


def test_the_readme_is_short_enough_for_a_newcomer() -> None:
    assert len(docs.README.read_text(encoding="utf-8").splitlines()) < 250


def test_the_page_table_lists_every_page_of_the_registry() -> None:
    from capwatch.ui.pages import PAGES

    readme = docs.README.read_text(encoding="utf-8")
    for page in PAGES:
        assert f"| **{page.title}** | `/{page.url_path}` |" in readme
        assert (ROOT / "pages" / f"{page.name}.py").is_file()
    assert {p.stem for p in (ROOT / "pages").glob("*.py")} == {p.name for p in PAGES}


def test_the_layout_tree_names_every_module_by_its_docstring() -> None:
    tree = docs.layout_markdown()
    assert "  load.py" in tree and "The loader: each file is read" in tree
    assert "\npipelines/" in tree and "\n  read.py" in tree


def test_every_doc_the_readme_links_to_exists() -> None:
    import re

    readme = docs.README.read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\((docs/[\w-]+\.md)", readme))
    assert linked and all((ROOT / d).is_file() for d in linked), linked


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
