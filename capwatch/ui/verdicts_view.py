"""Verdicts on screen: the parameter form, the ranked table and one provider's verdict box.

`verdict_parameters(key=...)` draws the verdict parameters (from
`capwatch.analytics.verdicts.params.PARAMS`) and returns the overrides; `render_verdict_box`
shows one provider's verdicts with their reasons (provider profile); `ranked_table` the
Actions page's table, money columns first so they stay on screen at 1440 px.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

import polars as pl
import streamlit as st

from capwatch.analytics.verdicts import VERDICT_LABELS
from capwatch.analytics.verdicts.params import DEFAULTS, PARAMS
from capwatch.ui import format, tables
from capwatch.ui.parameter_input import parameter_input
from capwatch.ui.tables import show_table

BadgeColour = Literal["red", "orange", "blue", "green", "gray"]
VERDICT_COLOURS: dict[str, BadgeColour] = {
    "release": "red",
    "challenge": "orange",
    "route": "blue",
    "keep": "green",
    "not_enough_data": "gray",
}
# The verdict backtest's tests (`capwatch.analytics.verdicts.backtest.RULE_TESTS`) in words.
RULE_TEST_LABELS = {
    "low_use": "Use below the challenge line",
    "very_low_use": "Use below the release line",
    "price": "Price far above the reference",
    "dear": "Price above the reference, with low use",
    "private_work": "Private work beside unused NHS capacity",
    "demand_shortfall": "Few referrals where capacity is unused",
    "rising": "Use rising faster than nationally",
    "missing_returns": "Weekly returns missing",
}
TABLE_COLUMNS = (
    "verdict_label",
    "provider_name",
    "provider_code",
    "saving_per_month_gbp",
    "at_stake_gbp",
    "region",
    "strength",
    "first_signal_week",
    "profile",
    "sentence",
)


def uk_day(d: date | None) -> str:
    return "–" if d is None else f"{d.day} {d:%b %Y}"


def verdict_parameters(*, key: str) -> dict[str, float]:
    """The verdict parameter form in an expander; returns only the changed values."""
    changed: dict[str, float] = {}
    with st.expander("Verdict settings (the defaults were chosen on the default data)"):
        cols = st.columns(3)
        for i, p in enumerate(PARAMS):
            value = float(parameter_input(cols[i % 3], p, f"{key}:{p.key}"))
            if value != DEFAULTS[p.key]:
                changed[p.key] = value
    return changed


def ranked_table(frame: pl.DataFrame, links: list[str], *, key: str) -> list[int]:
    """The ranked verdicts, one row per contract; returns the selected row numbers."""
    shown = frame.with_columns(profile=pl.Series(links, dtype=pl.String)).select(TABLE_COLUMNS)
    event = show_table(
        shown,
        key=key,
        on_select="rerun",
        selection_mode="single-row",
        overrides={
            "verdict_label": st.column_config.TextColumn("Verdict", width=130),
            "provider_name": st.column_config.TextColumn("Provider", width="medium"),
            "provider_code": st.column_config.TextColumn("Code", width=60),
            # headers that fit at 1440 px; the help says the rest
            "saving_per_month_gbp": st.column_config.NumberColumn(
                "Saving a month",
                format=tables.GBP,
                width=120,
                help="Saved a month if released: the monthly contract value less the NHS work "
                "it delivered a month, at reference prices.",
            ),
            "at_stake_gbp": st.column_config.NumberColumn(
                "At stake",
                format=tables.GBP,
                width=110,
                help="At stake to date.",
            ),
            "region": st.column_config.TextColumn("Region", width="small"),
            "strength": st.column_config.TextColumn("Strength", width="small"),
            "first_signal_week": st.column_config.DateColumn(
                "Since week of", format="D MMM YYYY", width="small"
            ),
            "profile": st.column_config.LinkColumn("Evidence", display_text="Open", width="small"),
            "sentence": st.column_config.TextColumn("Why", width="large"),
        },
    )
    return list(event.selection.rows) if event is not None else []


def render_verdict_box(frame: pl.DataFrame, *, has_contract: bool) -> None:
    """One provider's verdicts (one per active contract) with their reasons."""
    if not has_contract:
        st.info("This provider has no contract on record, so there is no verdict.")
        return
    if frame.is_empty():
        st.info(
            "No contract of this provider is active in the last complete week, so there is "
            "no verdict (removed or ended contracts are listed under Contracts)."
        )
        return
    for r in frame.iter_rows(named=True):
        with st.container(border=True):
            st.badge(
                f"{r['verdict_label']} · {r['strength']}",
                color=VERDICT_COLOURS.get(r["verdict"], "gray"),
            )
            st.markdown(f"**{r['sentence']}**")
            st.caption(
                f"Contract {r['contract_id']} · week of {uk_day(r['as_of_week'])} · "
                f"saved a month if released {format.gbp(r['saving_per_month_gbp'])} · at "
                f"stake to date {format.gbp(r['at_stake_gbp'])}"
                + (
                    f" · since the week of {uk_day(r['first_signal_week'])}"
                    if r["first_signal_week"]
                    else ""
                )
            )
            for reason in r["reasons"]:
                st.markdown(f"- {reason['sentence']}")


def labelled_tests(rules: pl.DataFrame) -> pl.DataFrame:
    """The backtest's per-test table with each test's label instead of its code."""
    return rules.with_columns(
        pl.col("rule").replace_strict(RULE_TEST_LABELS, default=pl.col("rule"))
    )


def labelled_scores(scores: pl.DataFrame) -> pl.DataFrame:
    """The backtest's scores with verdict labels, also inside "wrongly given to"
    ("C12 (keep, seasonal_dip)" → "C12 (Keep; seasonal dip)")."""

    def words(listed: str | None) -> str:
        return re.sub(
            r"\((\w+), (\w+)\)",
            lambda m: (
                f"({verdict_label(m[1])}"
                + ("" if m[2] == "none" else f"; {m[2].replace('_', ' ')}")
                + ")"
            ),
            listed or "",
        )

    return scores.with_columns(
        pl.col("verdict").replace_strict(VERDICT_LABELS, default=pl.col("verdict")),
        pl.col("wrong").map_elements(words, return_dtype=pl.String),
    )


def verdict_label(code: str) -> str:
    return VERDICT_LABELS.get(code, code)
