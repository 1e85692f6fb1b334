"""The rules registry: one module per rule, found on its own, and everything follows it
(parameters on the command line by name, the README's rules section, the evidence charts)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capwatch import docs
from capwatch.analytics.flags import FlagRuleError, parse_params, resolve_params
from capwatch.analytics.flags.base import CHART_KINDS, Rule
from capwatch.analytics.flags.rules import RULE_NAMES, RULES, discover, parse_param, rule
from capwatch.cli import app
from capwatch.ui import flag_charts
from tests.test_flags_rules import build

RULES_DIR = Path(__file__).resolve().parent.parent / "capwatch" / "analytics" / "flags" / "rules"


def test_every_module_in_the_rules_package_is_one_rule_named_like_its_file() -> None:
    modules = sorted(p.stem for p in RULES_DIR.glob("*.py") if p.stem != "__init__")
    assert sorted(RULE_NAMES) == modules
    assert RULE_NAMES == (
        "low_utilisation",
        "spc",
        "funnel",
        "value_for_money",
        "private_beside_unused",
    )  # display order (`Rule.order`)
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


def test_choice_parameters_take_names() -> None:
    assert parse_param("funnel.overdispersion=multiplicative") == (
        "funnel",
        "overdispersion",
        "multiplicative",
    )
    assert parse_param("funnel.scale = Proportion") == ("funnel", "scale", "proportion")
    with pytest.raises(FlagRuleError, match="one of additive, multiplicative, none, got '2'"):
        parse_param("funnel.overdispersion=2")
    with pytest.raises(FlagRuleError, match=r"RULE\.KEY=VALUE"):
        parse_param("overdispersion=none")
    with pytest.raises(FlagRuleError, match="needs a number"):
        parse_param("spc.run_length=seven")
    assert parse_params(["funnel.overdispersion=none", "spc.run_length=8"]) == {
        "funnel": {"overdispersion": "none"},
        "spc": {"run_length": 8},
    }
    resolved = resolve_params({"funnel": {"overdispersion": "none"}})
    assert resolved["funnel"] == {"overdispersion": "none", "scale": "arcsine", "winsor": 0.1}


def test_the_readme_rules_section_comes_from_the_registry() -> None:
    section = docs.flag_rules_markdown()
    for r in RULES:
        assert f"#### {r.title} (`{r.name}`)" in section
        assert r.severity in section
        for p in r.params:
            assert f"`{r.name}.{p.key}`" in section
    assert "| `funnel.overdispersion` | additive | additive / multiplicative / none |" in section
    readme = docs.README.read_text(encoding="utf-8")
    assert "--param RULE.KEY=VALUE" in readme
    assert "--param KEY=VALUE" not in readme


def test_cli_takes_choice_names(tmp_path: Path) -> None:
    db = build(tmp_path / "data")
    out = tmp_path / "funnel.csv"
    runner = CliRunner()
    ok = runner.invoke(
        app,
        ["flags", "--out", str(out), "--db", str(db), "--rule", "funnel",
         "--param", "funnel.overdispersion=none", "--param", "funnel.scale=proportion"],
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert (
        "wrote 1 flag on 1 provider" in ok.output
    )  # AA1 only: DD1's plain proportion funnel is below 0
    bad = runner.invoke(
        app, ["flags", "--out", str(out), "--db", str(db), "--param", "funnel.overdispersion=2"]
    )
    assert bad.exit_code != 0
    assert "must be one of additive, multiplicative, none" in str(bad.exception)


def test_rule_lookup() -> None:
    assert rule("spc").title == "Special cause variation (SPC)"
    with pytest.raises(FlagRuleError, match="unknown rule 'nope'; rules are: low_utilisation"):
        rule("nope")
