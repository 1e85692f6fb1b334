"""The Actions page (and the verdict on the profile and Overview) through `AppTest`, on the
small synthetic world; counts checked against plain SQL over `contracts`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from capwatch import config
from capwatch.analytics.filters import Filters
from capwatch.analytics.verdicts import VERDICT_LABELS, headline, verdicts
from capwatch.db import Database
from capwatch.ui.scripts import page_file
from tests.app_support import open_page


@pytest.fixture
def db_env(synthetic_db: Path) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(config.DB_ENV_VAR, str(synthetic_db))
        yield synthetic_db


def _app(page: str, **params: str) -> AppTest:
    return open_page(page, timeout=90, **params)


def _active_at_last_week(db: Database) -> int:
    """Contracts active for the whole last complete week, by plain SQL."""
    last_day = db.scalar("SELECT max(activity_date) FROM activity_daily")
    last_week = last_day - timedelta(days=(last_day.weekday() + 1) % 7 + 6)
    return int(
        db.scalar(
            "SELECT count(*) FROM contracts WHERE start_date <= ? AND end_date >= ? "
            "AND (removed_date IS NULL OR removed_date > ?)",
            [last_week + timedelta(days=6), last_week, last_week + timedelta(days=6)],
        )
    )


def test_actions_counts_headline_table_and_downloads(db_env: Path) -> None:
    at = _app(page_file("actions"))
    db = Database(db_env)
    counts = {m.label: int(m.value) for m in at.metric}
    assert list(counts) == list(VERDICT_LABELS.values())
    assert sum(counts.values()) == _active_at_last_week(db)
    assert any(headline(verdicts(db, Filters())) in m.value for m in at.markdown)
    table = at.dataframe(key="actions_table").value
    assert len(table) == sum(counts.values())
    assert list(table.columns[:5]) == [
        "verdict_label",
        "provider_name",
        "provider_code",
        "saving_per_month_gbp",
        "at_stake_gbp",
    ]
    assert all("#verdict" in link and "p=" in link for link in table["profile"])
    labels = [b.label for b in at.get("download_button")]
    assert any(label.startswith("Download CSV") for label in labels)


def test_actions_in_a_region_lists_only_it_with_the_national_verdicts(db_env: Path) -> None:
    db = Database(db_env)
    national = verdicts(db, Filters())
    region = national["region"].value_counts(sort=True)["region"][0]
    at = _app(page_file("actions"), region=region, line="day_case")
    table = at.dataframe(key="actions_table").value
    expected = national.filter(national["region"] == region)
    assert sorted(table["provider_code"]) == sorted(expected["provider_code"])
    got = dict(zip(table["provider_code"], table["verdict_label"], strict=True))
    assert got == dict(zip(expected["provider_code"], expected["verdict_label"], strict=True))


def test_an_as_of_week_in_the_link_is_used_and_a_bad_one_is_refused(db_env: Path) -> None:
    at = _app(page_file("actions"), asof="2020-07-06")
    assert at.selectbox(key="actions_as_of").value == "2020-07-06"
    at = _app(page_file("actions"), asof="2031-01-06")
    assert any("outside the data" in w.value for w in at.warning)


def test_the_profile_shows_the_verdict_and_the_overview_the_headline(db_env: Path) -> None:
    db = Database(db_env)
    first = verdicts(db, Filters()).row(0, named=True)
    at = _app(page_file("provider_profile"), p=first["provider_code"])
    assert any(first["sentence"] in m.value for m in at.markdown)
    at = _app(page_file("overview"))
    assert any(headline(verdicts(db, Filters())) in m.value for m in at.markdown)


def test_flags_page_shows_active_contracts_by_default_removed_one_click_away(
    db_env: Path,
) -> None:
    at = _app(page_file("flags"))
    table = at.dataframe(key="flags:table").value
    assert set(table["contract_status"]) <= {"Active", "No contract"}
    caption = " ".join(c.value for c in at.caption)
    assert "Money at stake per rule" in caption and "not added up" in caption
    at.toggle(key="flags:active_only").set_value(False).run()
    assert not at.exception
    everything = at.dataframe(key="flags:table").value
    assert "Removed" in set(everything["contract_status"])
    # the removed contracts' flags, by plain SQL: providers whose only contracts were removed
    removed = Database(db_env).query(
        "SELECT provider_code FROM contracts GROUP BY 1 HAVING bool_and(removed_date IS NOT NULL)"
    )["provider_code"]
    shown_removed = set(everything.loc[everything["contract_status"] == "Removed", "provider_code"])
    assert shown_removed <= set(removed)


def test_a_flag_named_in_the_url_opens_with_its_evidence(db_env: Path) -> None:
    at = _app(page_file("flags"))
    table = at.dataframe(key="flags:table").value
    assert len(table) > 1
    first_link = at.query_params.get("flag")
    assert first_link  # the selected (first) flag is in the URL
    from capwatch.analytics.flags.evidence import flag_run_with_status
    from capwatch.ui.flags_view import flag_id

    flags = flag_run_with_status(Database(db_env), Filters()).flags
    active = flags.filter(flags["contract_status"] != "removed")
    second = active.row(1, named=True)
    at = _app(page_file("flags"), flag=flag_id(second))
    assert at.query_params.get("flag") == flag_id(second)
    assert any(second["explanation"] in m.value for m in at.markdown)


def test_the_backtest_tables_show_labels_not_codes() -> None:
    import polars as pl

    from capwatch.ui.verdicts_view import labelled_scores, labelled_tests

    tests = labelled_tests(pl.DataFrame({"rule": ["low_use", "very_low_use"], "hits": [1, 2]}))
    assert tests["rule"].to_list() == ["Use below the challenge line", "Use below the release line"]
    scores = labelled_scores(
        pl.DataFrame(
            {"verdict": ["release"], "wrong": ["C7 (keep, seasonal_dip), C9 (route, none)"]}
        )
    )
    assert scores.row(0) == ("Release", "C7 (Keep; seasonal dip), C9 (Route work to it)")
