"""The layout has no links: one folder, one name, and the packaging maps the rest.

A checkout made without symlink support (`core.symlinks=false`, as on Windows) must serve the
same app, pages, settings and published data as any other; every package folder must be in
the wheel's package list; the installed `capwatch/webapp/app.py` must serve the same app as the
top-level `app.py`; and the page files, which sit outside the package import-linter checks,
must keep to the dashboard's layer (the wheel itself: tests/test_wheel.py, slow).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Modules at or above the dashboard's layer (pyproject's layers contract), and DuckDB.
ABOVE_THE_PAGES = ("capwatch.__main__", "capwatch.cli", "capwatch.docs", "capwatch.spark_engine")


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout


def test_git_tracks_no_symlink() -> None:
    links = [line for line in _git("ls-files", "-s").splitlines() if line.startswith("120000")]
    assert links == []


def test_every_package_folder_is_in_the_wheel_list() -> None:
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    listed = set(settings["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("capwatch", "pipelines")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    mapped = settings["setuptools"]["package-dir"]
    for package in listed - found:  # the data packages: each maps an existing folder
        assert (ROOT / mapped[package]).is_dir(), package


def _body(path: Path) -> str:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return ast.unparse(tree.body[1:])  # after the docstring


def test_the_installed_app_module_serves_the_same_app_as_app_py() -> None:
    assert ast.get_docstring(ast.parse((ROOT / "app.py").read_text(encoding="utf-8")))
    assert _body(ROOT / "capwatch" / "webapp" / "app.py") == _body(ROOT / "app.py")
    assert "App(ENTRY_SCRIPT)" in _body(ROOT / "app.py")


@pytest.mark.parametrize(
    "script", sorted([*(ROOT / "pages").glob("*.py"), ROOT / "app.py"]), ids=lambda p: p.name
)
def test_page_files_import_nothing_above_the_dashboard_layer(script: Path) -> None:
    imported: set[str] = set()
    for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
    assert any(name.startswith("capwatch.") for name in imported)  # the walk sees imports
    bad = {n for n in imported if n.startswith(ABOVE_THE_PAGES) or n.split(".")[0] == "duckdb"}
    assert bad == set()


def test_a_checkout_without_symlinks_serves_the_same_files(tmp_path: Path) -> None:
    """Every tracked file written out as a checkout with `core.symlinks=false` would write it."""
    plain = tmp_path / "checkout"
    _git("-c", "core.symlinks=false", "checkout-index", "--all", f"--prefix={plain}/")
    probe = (
        "import pipelines.read, capwatch.webapp as w, capwatch.ui.scripts as s\n"
        "print(pipelines.read.__file__)\n"
        "print(w.entry_script()); print(w.published_data()); print(s.page_file('overview'))\n"
        "print(len(w.streamlit_options()))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(plain)}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    read, entry, published, overview, n_options = done.stdout.splitlines()
    for shown in (read, entry, published, overview):
        assert Path(shown).exists() and Path(shown).is_relative_to(plain), shown
    assert (Path(published) / "README.md").is_file()
    assert int(n_options) > 0  # the settings were read from the checkout's .streamlit/
