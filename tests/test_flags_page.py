"""The Flags page through Streamlit's test harness, on the constructed dataset of
`tests/test_flags_rules.py` (flags there are checked against hand-worked figures)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from capwatch import config
from capwatch.analytics.filters import Filters
from capwatch.analytics.flags import compute_flags
from capwatch.db import Database
from capwatch.ui.scripts import page_file
from tests.app_support import assert_ok, open_app
from tests.test_flags_rules import build

PAGE = page_file("flags")
ALL = Filters()


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("flags_page"))


@pytest.fixture
def app(db_path: Path) -> Iterator[AppTest]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(config.DB_ENV_VAR, str(db_path))
        yield open_app(PAGE)


_ok = assert_ok


def _table_rules(at: AppTest) -> set[str]:
    return set(at.dataframe[0].value["rule_title"])


def test_page_lists_every_flag_with_the_top_one_explained(app: AppTest, db_path: Path) -> None:
    _ok(app)
    expected = compute_flags(Database(db_path), Filters())
    table = app.dataframe[0].value
    assert len(table) == expected.height
    assert list(table["explanation"]) == expected["explanation"].to_list()  # money order
    markdown = [m.value for m in app.markdown]
    assert expected["explanation"][0] in markdown
    assert app.get("plotly_chart"), "an evidence chart is drawn"
    assert app.get("download_button")


def test_filter_by_rule_and_severity(app: AppTest) -> None:
    app.multiselect(key="flags:rules").set_value(["private_beside_unused"]).run()
    _ok(app)
    assert _table_rules(app) == {"Private work beside unused NHS capacity"}
    app.multiselect(key="flags:severity").set_value(["high"]).run()
    table = app.dataframe[0].value
    assert set(table["site_code"]) == {"DD101"}  # AA101's flag is medium


def test_parameters_change_the_flags_and_reset_restores_them(app: AppTest) -> None:
    before = len(app.dataframe[0].value)
    app.number_input(key="flags:param:low_utilisation.min_capacity_share").set_value(0.005)
    app.button[0].click().run()  # Apply
    _ok(app)
    table = app.dataframe[0].value
    low = table[table["rule_title"] == "Low utilisation"]
    assert "DD1" not in set(low["provider_code"])
    assert len(table) == before - 1
    reset = next(b for b in app.button if b.label == "Reset to defaults")
    reset.click().run()
    _ok(app)
    assert len(app.dataframe[0].value) == before
    assert app.number_input(key="flags:param:low_utilisation.min_capacity_share").value == 0.001


def test_choice_parameters_are_picked_by_name(app: AppTest) -> None:
    box = app.selectbox(key="flags:param:funnel.overdispersion")
    assert list(box.options) == ["Additive", "Multiplicative", "None"]
    assert box.value == "additive"
    assert "Below the funnel" not in _table_rules(app)  # 3 day-case providers: τ² is large
    box.set_value("none")
    app.button[0].click().run()  # Apply
    _ok(app)
    table = app.dataframe[0].value
    assert set(table[table["rule_title"] == "Below the funnel"]["provider_code"]) == {"AA1", "DD1"}


def test_notes_say_what_spc_could_not_assess(app: AppTest) -> None:
    notes = [i.value for i in app.info]
    assert any(n.startswith("SPC: 4 provider service lines had fewer than 12") for n in notes)


def test_no_flags_is_a_plain_message(db_path: Path) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(config.DB_ENV_VAR, str(db_path))
        at = open_app(PAGE, provider="BB1")  # 50% utilisation, fair price: no rule fires
    _ok(at)
    assert not at.dataframe
    assert any("No flags" in s.value for s in at.success)


def test_evidence_frames_agree_with_their_flags_and_draw(db_path: Path) -> None:
    from capwatch.analytics.flags import evidence as ev
    from capwatch.ui import flag_charts

    reader = Database(db_path)
    flags = compute_flags(reader, Filters(), params={"spc": {"min_weeks": 6}})
    overrides = (("spc", "min_weeks", 6.0),)
    spc_flag = flags.filter(flags["rule"] == "spc").row(0, named=True)
    chart = ev.spc_chart_data(reader, ALL, "EE1", "diagnostics", overrides=overrides)
    assert chart["lower_limit"][-1] == pytest.approx(spc_flag["threshold"])
    assert chart["point_type"].to_list()[-1] == "special_cause_concern"
    figure = flag_charts.spc_chart(chart, "EE1")
    concern = [t for t in figure.data if t.name == "Special cause: concern"]
    assert concern and concern[0].marker.color == "#e46c0a"

    weekly = ev.weekly_against_threshold(reader, ALL, "AA1", "day_case")
    assert weekly["utilisation"].to_list() == pytest.approx([0.1, 0.0] + [0.1] * 6)
    assert flag_charts.threshold_chart(weekly, 0.15, "AA1").data

    no_dispersion = (("funnel", "overdispersion", "none"), ("funnel", "scale", "proportion"))
    points, curve = ev.funnel_data(reader, ALL, "day_case", overrides=no_dispersion)
    aa1 = points.filter(points["provider_code"] == "AA1").row(0, named=True)
    p = aa1["national_rate"]
    assert aa1["lower_998"] == pytest.approx(p - 3.090232 * (p * (1 - p) / 800) ** 0.5, rel=1e-6)
    assert curve.height > 10
    assert flag_charts.funnel_chart(points, curve, "day case", highlight="AA1").data

    value = ev.value_for_money_weekly(reader, ALL, "AA1")
    assert value["contract_value_gbp"].sum() == pytest.approx(56 * 120_000)
    assert flag_charts.value_chart(value, 5.0, "AA1").data


def test_every_flag_s_evidence_comes_from_its_rule_and_draws(db_path: Path) -> None:
    """The page asks the flag's rule for its evidence (no chain of `if rule == ...`)."""
    from capwatch.analytics.flags import evidence as ev
    from capwatch.analytics.flags.rules import rule
    from capwatch.ui import flag_charts

    reader = Database(db_path)
    flags = compute_flags(reader, Filters(), params={"spc": {"min_weeks": 6}})
    assert set(flags["rule"]) >= {"low_utilisation", "spc", "value_for_money"}
    for flag in flags.iter_rows(named=True):
        evidence = ev.evidence_for(reader, ALL, tuple(flag.items()))
        assert evidence.chart == rule(flag["rule"]).chart
        figure = flag_charts.draw(evidence)
        assert figure is not None and figure.data, flag["rule"]
        if flag["rule"] == "spc":  # 8 weeks: trial limits, said on the chart and in a note
            assert evidence.note and "Trial limits" in evidence.note
            names = {t.name for t in figure.data}
            assert "Lower process limit (trial)" in names


def test_download_holds_every_field_of_the_flags_shown(app: AppTest, db_path: Path) -> None:
    from capwatch.export import csv_bytes

    app.multiselect(key="flags:rules").set_value(["value_for_money"]).run()
    _ok(app)
    expected = compute_flags(Database(db_path), Filters(), rules=["value_for_money"])
    button = app.get("download_button")[0]
    assert expected.height >= 1
    noun = "row" if expected.height == 1 else "rows"
    assert button.proto.label == f"Download CSV ({expected.height:,} {noun})"
    assert csv_bytes(expected).decode("utf-8-sig").splitlines()[0].split(",") == list(
        expected.columns
    )


def test_flag_card_settings_are_a_sentence_of_labelled_values() -> None:
    from capwatch.ui.flags_view import settings_sentence

    assert settings_sentence("value_for_money", '{"multiple": 5.0}') == (
        "Rule settings: price multiple 5×."
    )
    text = settings_sentence("low_utilisation", '{"threshold": 0.15, "window_weeks": 6}')
    assert text == "Rule settings: utilisation threshold 15.0%; window 6 weeks."
    assert settings_sentence("value_for_money", None) == ""
