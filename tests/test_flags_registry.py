"""The rules registry: one module per rule, found on its own, and everything follows it
(parameters on the command line by name, the README's rules section, the evidence charts)."""

from __future__ import annotations

import sys
import textwrap
from datetime import date
from pathlib import Path
from typing import get_type_hints

import polars as pl
import pytest

from capwatch import docs
from capwatch.analytics.flags import FlagRuleError, parse_params, resolve_params
from capwatch.analytics.flags.base import (
    CHART_KINDS,
    FLAG_COLUMNS,
    FLAG_SCHEMA,
    FlagRow,
    Rule,
    frame,
)
from capwatch.analytics.flags.params import Param
from capwatch.analytics.flags.rules import RULE_NAMES, RULES, discover, parse_param, rule
from capwatch.ui import flag_charts

RULES_DIR = Path(__file__).resolve().parent.parent / "capwatch" / "analytics" / "flags" / "rules"


def test_every_module_in_the_rules_package_is_one_rule_named_like_its_file() -> None:
    modules = sorted(p.stem for p in RULES_DIR.glob("*.py") if p.stem != "__init__")
    assert sorted(RULE_NAMES) == modules
    by_order = sorted(RULES, key=lambda r: (r.order, r.name))
    assert tuple(r.name for r in by_order) == RULE_NAMES  # display order (`Rule.order`)
    assert len({r.order for r in RULES}) == len(RULES)  # no tie left to the name
    for r in RULES:
        assert isinstance(r, Rule)
        assert r.title and r.description and r.severity and r.money
        assert r.chart in CHART_KINDS and r.chart in flag_charts.CHARTS
        assert len({p.key for p in r.params}) == len(r.params)
        for p in r.params:
            assert p.check(p.default) == p.default, f"{r.name}.{p.key}"


def _package(root: Path, name: str, modules: dict[str, str]) -> str:
    folder = root / name
    folder.mkdir()
    (folder / "__init__.py").write_text("", encoding="utf-8")
    for module, text in modules.items():
        (folder / f"{module}.py").write_text(textwrap.dedent(text), encoding="utf-8")
    return name


NEW_RULE = """
    import polars as pl
    from capwatch.analytics.flags.base import Evidence, Rule, empty_flags
    from capwatch.analytics.flags.params import whole

    RULE = Rule(
        name="{name}",
        title="Never fires",
        description="A rule added as one file.",
        params=(whole("weeks", "Weeks", 3, 1, 9, "How many weeks."),),
        severity="always low.",
        money="none.",
        chart="threshold",
        compute=lambda data, p: empty_flags(),
        evidence=lambda db, filters, flag, p: Evidence("threshold", "", {{}}),
        order=5,
    )
"""


def test_adding_a_rule_is_one_new_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    package = _package(tmp_path, "extra_rules_ok", {"never": NEW_RULE.format(name="never")})
    found = discover(package)
    assert [r.name for r in found] == ["never"]
    assert found[0].resolve({"weeks": "4"}) == {"weeks": 4}
    for name in list(sys.modules):
        if name.startswith(package):
            del sys.modules[name]


def test_a_module_without_a_rule_or_misnamed_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    empty = _package(tmp_path, "extra_rules_empty", {"helper": "X = 1\n"})
    with pytest.raises(TypeError, match="defines no RULE"):
        discover(empty)
    misnamed = _package(tmp_path, "extra_rules_misnamed", {"other": NEW_RULE.format(name="x")})
    with pytest.raises(TypeError, match="name it as its file"):
        discover(misnamed)


def _params(kind: str) -> list[tuple[Rule, Param]]:
    return [(r, p) for r in RULES for p in r.params if p.kind == kind]


def test_choice_parameters_take_names() -> None:
    choices = _params("choice")
    assert choices, "no rule has a choice parameter: this test checks nothing"
    for r, p in choices:
        for name in p.choices:
            assert parse_param(f"{r.name}.{p.key} = {name.upper()}") == (r.name, p.key, name)
        with pytest.raises(FlagRuleError, match=f"one of {', '.join(p.choices)}, got '2'"):
            parse_param(f"{r.name}.{p.key}=2")
        with pytest.raises(FlagRuleError, match=r"RULE\.KEY=VALUE"):
            parse_param(f"{p.key}={p.default}")
        other = next(c for c in p.choices if c != p.default)
        resolved = resolve_params({r.name: {p.key: other}})
        assert resolved[r.name] == {**r.defaults, p.key: other}
        assert all(resolved[n] == rule(n).defaults for n in RULE_NAMES if n != r.name)
    r, p = _params("integer")[0]
    with pytest.raises(FlagRuleError, match="needs a number"):
        parse_param(f"{r.name}.{p.key}=seven")
    assert parse_params([f"{r.name}.{p.key}={p.minimum:g}"]) == {r.name: {p.key: p.minimum}}


def test_the_readme_rules_section_comes_from_the_registry() -> None:
    section = docs.flag_rules_markdown()
    for r in RULES:
        assert f"#### {r.title} (`{r.name}`)" in section
        assert r.severity in section
        for p in r.params:
            assert f"`{r.name}.{p.key}`" in section
    for r, p in _params("choice"):
        row = f"| `{r.name}.{p.key}` | {p.default} | {' / '.join(p.choices)} |"
        assert row in section
    readme = docs.README.read_text(encoding="utf-8")
    assert "--param RULE.KEY=VALUE" in readme
    assert "--param KEY=VALUE" not in readme


def test_rule_lookup() -> None:
    for r in RULES:
        assert rule(r.name) is r
    with pytest.raises(FlagRuleError) as refused:
        rule("nope")
    assert str(refused.value) == f"unknown rule 'nope'; rules are: {', '.join(RULE_NAMES)}"


def test_a_flag_row_is_typed_in_the_export_columns_order() -> None:
    assert tuple(get_type_hints(FlagRow)) == FLAG_COLUMNS
    assert FLAG_SCHEMA["rule"] == pl.String and FLAG_SCHEMA["weeks"] == pl.Int64
    assert FLAG_SCHEMA["period_start"] == pl.Date and FLAG_SCHEMA["value"] == pl.Float64
    row: FlagRow = {"rule": "r", "weeks": 3, "period_start": date(2020, 6, 1), "value": 0.5}
    built = frame([row])
    assert built.columns == list(FLAG_COLUMNS) and built.schema == pl.Schema(FLAG_SCHEMA)
    assert built.row(0, named=True) == {
        **dict.fromkeys(FLAG_COLUMNS),
        "rule": "r",
        "weeks": 3,
        "period_start": date(2020, 6, 1),
        "value": 0.5,
    }
