"""Verdicts on screen: the parameter form, the ranked table and one provider's verdict box.

`verdict_parameters(key=...)` draws the verdict parameters (from
`capwatch.analytics.verdicts.params.PARAMS`) and returns the overrides; `render_verdict_box`
shows one provider's verdicts with their reasons (provider profile); `ranked_table` the
Actions page's table, money columns first so they stay on screen at 1440 px.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import polars as pl
import streamlit as st

from capwatch.analytics.verdicts import VERDICT_LABELS
from capwatch.analytics.verdicts.params import DEFAULTS, PARAMS
from capwatch.ui import format, tables
from capwatch.ui.tables import show_table

BadgeColour = Literal["red", "orange", "blue", "green", "gray"]
VERDICT_COLOURS: dict[str, BadgeColour] = {
    "release": "red",
    "challenge": "orange",
    "route": "blue",
    "keep": "green",
    "not_enough_data": "gray",
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
            col = cols[i % 3]
            tip = f"{p.help} Default {p.describe_default()}; range {p.describe_range()}."
            wkey = f"{key}:{p.key}"
            if p.integer:
                value = float(
                    col.number_input(
                        p.label,
                        min_value=int(p.minimum),
                        max_value=int(p.maximum),
                        value=int(p.default),
                        step=1,
                        key=wkey,
                        help=tip,
                    )
                )
            else:
                value = float(
                    col.number_input(
                        p.label,
                        min_value=float(p.minimum),
                        max_value=float(p.maximum),
                        value=float(p.default),
                        step=float(p.step),
                        format="%.0f" if p.step >= 1 else "%.2f",
                        key=wkey,
                        help=tip,
                    )
                )
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
            "verdict_label": st.column_config.TextColumn("Verdict", width="small"),
            "provider_name": st.column_config.TextColumn("Provider", width="medium"),
            "provider_code": st.column_config.TextColumn("Code", width="small"),
            "saving_per_month_gbp": st.column_config.NumberColumn(
                "Saved a month if released", format=tables.GBP, width="small"
            ),
            "at_stake_gbp": st.column_config.NumberColumn(
                "At stake to date", format=tables.GBP, width="small"
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


def verdict_label(code: str) -> str:
    return VERDICT_LABELS.get(code, code)
