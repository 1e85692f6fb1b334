"""A reusable list of flags with their explanations and evidence charts (Flags page, profiles).

`render_flags(flags, key=..., filters=...)` takes a frame from `capwatch.analytics.flags` and
the filters it was computed under, and draws: filters by rule and severity, a sort, a table
(one row per flag), the selected flag's sentence and evidence chart (within the filters' access
scope), and a CSV download of every field. `rule_parameters(key=...)` draws the rule
parameter form and returns the overrides to pass to the engine.
"""

from __future__ import annotations

import json
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from capwatch.analytics.filters import Filters
from capwatch.analytics.flags import RULES
from capwatch.analytics.flags import evidence as ev
from capwatch.analytics.flags.engine import SEVERITY_ORDER
from capwatch.analytics.flags.evidence import Overrides
from capwatch.ui import flag_charts, format, tables
from capwatch.ui.context import cached
from capwatch.ui.download import download_table
from capwatch.ui.tables import show_table

SORTS = {
    "Money at stake (largest first)": (["money_at_stake_gbp"], [True]),
    "Severity, then money at stake": (["_severity", "money_at_stake_gbp"], [False, True]),
    "Provider": (["provider_code", "rule"], [False, False]),
}
_SEVERITY_COLOURS = {"high": "red", "medium": "orange", "low": "gray"}
_SHOWN = (
    "severity",
    "rule_title",
    "provider_code",
    "provider_name",
    "site_code",
    "service_line",
    "period_start",
    "period_end",
    "utilisation",
    "money_at_stake_gbp",
    "explanation",
)


# --------------------------------------------------------------------------------------------
# rule parameters
# --------------------------------------------------------------------------------------------


def _widget_key(key: str, rule_name: str, param: str) -> str:
    return f"{key}:param:{rule_name}.{param}"


def _reset(key: str) -> None:
    for r in RULES:
        for p in r.params:
            st.session_state.pop(_widget_key(key, r.name, p.key), None)


def rule_parameters(*, key: str) -> Overrides:
    """The rule parameter form (in an expander); returns the values that differ from defaults."""
    with st.expander("Rule settings", icon=":material/tune:"):
        st.caption("Each rule's defaults are shown in its help. Apply to re-run the rules.")
        with st.form(f"{key}:params", border=False):
            columns = st.columns(len(RULES))
            for col, r in zip(columns, RULES, strict=True):
                col.markdown(f"**{r.title}**", help=r.description)
                for p in r.params:
                    wkey = _widget_key(key, r.name, p.key)
                    tip = f"{p.help} Default {p.default:g}; from {p.minimum:g} to {p.maximum:g}."
                    if p.choices:
                        col.selectbox(
                            p.label.split(" (")[0],
                            options=list(range(len(p.choices))),
                            index=int(p.default),
                            format_func=lambda i, c=p.choices: c[i].capitalize(),
                            key=wkey,
                            help=tip,
                        )
                    elif p.integer:
                        col.number_input(
                            p.label,
                            min_value=int(p.minimum),
                            max_value=int(p.maximum),
                            value=int(p.default),
                            step=1,
                            key=wkey,
                            help=tip,
                        )
                    else:
                        col.number_input(
                            p.label,
                            min_value=float(p.minimum),
                            max_value=float(p.maximum),
                            value=float(p.default),
                            step=float(p.step),
                            format="%.4f" if p.step < 0.01 else "%.2f",
                            key=wkey,
                            help=tip,
                        )
            apply, reset = st.columns(2)
            apply.form_submit_button("Apply", icon=":material/check:", type="primary")
            reset.form_submit_button(
                "Reset to defaults", icon=":material/restart_alt:", on_click=_reset, args=(key,)
            )
    overrides: list[tuple[str, str, float]] = []
    for r in RULES:
        for p in r.params:
            value = st.session_state.get(_widget_key(key, r.name, p.key), p.default)
            if float(value) != float(p.default):
                overrides.append((r.name, p.key, float(value)))
    return tuple(overrides)


# --------------------------------------------------------------------------------------------
# flag list
# --------------------------------------------------------------------------------------------


def _filtered(flags: pl.DataFrame, key: str) -> pl.DataFrame:
    left, middle, right = st.columns([2, 2, 2])
    titles = dict(zip(flags["rule"], flags["rule_title"], strict=True))
    rules = left.multiselect(
        "Rule",
        sorted(titles),
        format_func=lambda r: titles.get(r, r),
        placeholder="All rules",
        key=f"{key}:rules",
    )
    severities = middle.multiselect(
        "Severity",
        list(SEVERITY_ORDER),
        format_func=str.capitalize,
        placeholder="All severities",
        key=f"{key}:severity",
    )
    sort = right.selectbox("Sort by", list(SORTS), key=f"{key}:sort")
    shown = flags
    if rules:
        shown = shown.filter(pl.col("rule").is_in(rules))
    if severities:
        shown = shown.filter(pl.col("severity").is_in(severities))
    by, descending = SORTS[sort]
    return (
        shown.with_columns(_severity=pl.col("severity").replace_strict(SEVERITY_ORDER, default=9))
        .sort(by, descending=descending, nulls_last=True)
        .drop("_severity")
    )


def _table(shown: pl.DataFrame, key: str) -> int:
    """The table of flags; returns the index of the selected row (the first if none)."""
    table = shown.select(_SHOWN).with_columns(
        pl.col("severity").str.to_titlecase(),
        pl.col("site_code").fill_null("all sites"),
        pl.col("service_line")
        .map_elements(format.line_label, return_dtype=pl.String)
        .fill_null("all lines"),
    )
    event: Any = show_table(
        table,
        key=f"{key}:table",
        height=min(420, 38 + 35 * shown.height),
        on_select="rerun",
        selection_mode="single-row",
        overrides={
            "severity": st.column_config.TextColumn("Severity", width="small"),
            "rule_title": "Rule",
            "provider_code": "Provider",
            "provider_name": "Name",
            "period_start": st.column_config.DateColumn("From", format="D MMM YYYY"),
            "period_end": st.column_config.DateColumn("To", format="D MMM YYYY"),
            "money_at_stake_gbp": st.column_config.NumberColumn(
                "Money at stake", format=tables.GBP
            ),
            "explanation": st.column_config.TextColumn("Explanation", width="large"),
        },
    )
    rows = event.selection.rows if event is not None and hasattr(event, "selection") else []
    return int(rows[0]) if rows else 0


def _overrides_of(flag: dict[str, Any]) -> Overrides:
    params = json.loads(flag["parameters"] or "{}")
    defaults = {r.name: r.defaults for r in RULES}[flag["rule"]]
    return tuple(
        (flag["rule"], k, float(v)) for k, v in params.items() if float(v) != defaults.get(k)
    )


def evidence_figure(flag: dict[str, Any], filters: Filters) -> go.Figure | None:
    """The evidence chart of one flag under the filters it was computed with (their access
    scope included), or None when there is nothing to draw."""
    rule_name = flag["rule"]
    code, line = flag["provider_code"], flag["service_line"]
    start, end = flag["evidence_from"], flag["evidence_to"]
    who = f"{code} · {format.line_label(line) if line else 'all service lines'}"
    if rule_name == "spc":
        chart = cached(ev.spc_chart_data, filters, code, line, start, end, _overrides_of(flag))
        if chart.is_empty():
            return None
        return flag_charts.spc_chart(chart, f"{who}: weekly utilisation (XmR chart)")
    if rule_name == "funnel":
        points, curve = cached(ev.funnel_data, filters, line, start, end, _overrides_of(flag))
        if points.is_empty():
            return None
        whose = "Providers" if filters.scope_regions is None else "Providers in your area"
        return flag_charts.funnel_chart(
            points, curve, f"{format.line_label(line)}: {whose.lower()} against the national rate",
            highlight=code,
        )  # fmt: skip
    if rule_name == "value_for_money":
        weekly = cached(ev.value_for_money_weekly, filters, code, start, end)
        multiple = json.loads(flag["figures"]).get("multiple") or 1.0
        return flag_charts.value_chart(weekly, multiple, f"{code}: contract value against work")
    site = flag["site_code"]
    weekly = cached(ev.weekly_against_threshold, filters, code, line, site, start, end)
    subject = f"{site} · {format.line_label(line)}" if site else who
    return flag_charts.threshold_chart(
        weekly,
        flag["threshold"],
        f"{subject}: weekly NHS utilisation against the threshold",
        period_start=flag["period_start"],
        period_end=flag["period_end"],
    )


FUNNEL_SCOPE_NOTE = (
    "Only providers in your area are plotted. The rate and the limits are national, the same "
    "as for every user, so a provider's flag does not depend on who is looking."
)


def render_flags(flags: pl.DataFrame, *, key: str, filters: Filters) -> None:
    """Flags with filters, sort, table, the selected flag's explanation and chart, and CSV.

    `filters` are those the flags were computed under: the evidence charts and the CSV's name
    follow them, and their access scope keeps the charts within the user's regions."""
    if flags.is_empty():
        st.success("No flags under these filters and rule settings.", icon=":material/check:")
        return
    shown = _filtered(flags, key)
    money = shown["money_at_stake_gbp"].sum()
    st.caption(
        f"{shown.height:,} of {flags.height:,} flags on {shown['provider_code'].n_unique()} "
        f"providers; {format.gbp(money, short=True)} at stake summed over the flags shown "
        "(flags on the same provider overlap). Select a row to see its evidence."
    )
    if shown.is_empty():
        st.info("No flags match the rule and severity chosen.", icon=":material/filter_alt_off:")
        return
    index = min(_table(shown, key), shown.height - 1)
    flag = shown.row(index, named=True)
    with st.container(border=True):
        colour = _SEVERITY_COLOURS.get(flag["severity"], "gray")
        st.markdown(
            f":{colour}-badge[{flag['severity'].capitalize()}] "
            f"**{flag['rule_title']} · {flag['subject_code']}**"
        )
        st.markdown(flag["explanation"])
        figure = evidence_figure(flag, filters)
        if figure is None:
            st.info("No weekly figures to chart for this flag.")
        else:
            st.plotly_chart(figure, key=f"{key}:chart", config={"displaylogo": False})
            if flag["rule"] == "funnel" and filters.scope_regions is not None:
                st.caption(FUNNEL_SCOPE_NOTE)
        st.caption(
            f"Severity {flag['severity']}. Money at stake "
            f"{format.gbp(flag['money_at_stake_gbp'])}; contract value apportioned to these "
            f"weeks {format.gbp(flag['contract_value_gbp'])}. Rule settings: "
            f"{flag['parameters']}."
        )
    st.caption("The downloads have every field of the flags shown, with the figures behind them.")
    download_table(shown, "flags", filters, key=f"{key}:download")
