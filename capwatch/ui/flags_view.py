"""A reusable list of flags with their explanations and evidence charts (Flags page, profiles).

`render_flags(flags, key=..., filters=...)` takes a frame from `capwatch.analytics.flags` and
the filters it was computed under, and draws: filters by rule and severity, a sort, a table
(one row per flag), the selected flag's sentence and evidence chart (within the filters' access
scope), and CSV and Excel downloads of every field. `rule_parameters(key=...)` draws the rule
parameter form (from the rules registry: number boxes, and select boxes for named choices) and
returns the overrides to pass to the engine. `render_notes` shows what the rules could not
assess; `render_backtest` the backtest against the contracts actually removed. Evidence charts
follow each flag's own rule (`Rule.evidence` → `flag_charts.draw`), never a chain of ifs.
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
from capwatch.analytics.flags.backtest import MAX_WARMUP_WEEKS
from capwatch.analytics.flags.base import SEVERITY_ORDER, Evidence
from capwatch.analytics.flags.evidence import Overrides
from capwatch.analytics.flags.money import money_by_rule
from capwatch.analytics.flags.params import Param, Value
from capwatch.ui import flag_charts, format, tables
from capwatch.ui.context import cached
from capwatch.ui.download import download_table
from capwatch.ui.parameter_input import parameter_input
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
    "contract_status",
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
                    parameter_input(col, p, _widget_key(key, r.name, p.key))
            apply, reset = st.columns(2)
            apply.form_submit_button("Apply", icon=":material/check:", type="primary")
            reset.form_submit_button(
                "Reset to defaults", icon=":material/restart_alt:", on_click=_reset, args=(key,)
            )
    overrides: list[tuple[str, str, Value]] = []
    for r in RULES:
        for p in r.params:
            value = p.check(st.session_state.get(_widget_key(key, r.name, p.key), p.default))
            if value != p.default:
                overrides.append((r.name, p.key, value))
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


FLAG_URL_KEY = "flag"


def flag_id(flag: dict[str, Any]) -> str:
    """A flag's name in the URL: rule, subject, line and first week (stable across runs)."""
    return "~".join(
        str(flag.get(k) or "") for k in ("rule", "subject_code", "service_line", "period_start")
    )


_PRINT_LABELS = {
    "severity": "Severity",
    "rule_title": "Rule",
    "contract_status": "Contract",
    "provider_code": "Provider",
    "provider_name": "Name",
    "site_code": "Site",
    "service_line": "Service line",
    "period_start": "From",
    "period_end": "To",
    "utilisation": "Utilisation",
    "money_at_stake_gbp": "Money at stake",
    "explanation": "Explanation",
}


def _table(shown: pl.DataFrame, key: str) -> int:
    """The table of flags; returns the index of the selected row (else the flag named in the
    URL, else the first)."""
    table = shown.select(c for c in _SHOWN if c in shown.columns).with_columns(
        pl.col("severity").str.to_titlecase(),
        *(
            [pl.col("contract_status").str.to_titlecase()]
            if "contract_status" in shown.columns
            else []
        ),
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
            "contract_status": st.column_config.TextColumn("Contract", width="small"),
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
    tables.print_table(table, _PRINT_LABELS)  # the whole table on paper
    rows = event.selection.rows if event is not None and hasattr(event, "selection") else []
    if rows:
        return int(rows[0])
    linked = st.query_params.get(FLAG_URL_KEY, "")
    ids = [flag_id(r) for r in shown.iter_rows(named=True)]
    return ids.index(linked) if linked in ids else 0


def evidence_of(flag: dict[str, Any], filters: Filters) -> Evidence:
    """The evidence of one flag under the filters it was computed with (their access scope
    included): the flag's own rule decides what it shows and which chart draws it."""
    return cached(ev.evidence_for, filters, tuple(flag.items()))


def evidence_figure(flag: dict[str, Any], filters: Filters) -> go.Figure | None:
    """The evidence chart of one flag, or None when there is nothing to draw."""
    return flag_charts.draw(evidence_of(flag, filters))


def render_flags(flags: pl.DataFrame, *, key: str, filters: Filters) -> None:
    """Flags with filters, sort, table, the selected flag's explanation and chart, and CSV.

    `filters` are those the flags were computed under: the evidence charts and the CSV's name
    follow them, and their access scope keeps the charts within the user's regions."""
    if flags.is_empty():
        st.success("No flags under these filters and rule settings.", icon=":material/check:")
        return
    if "contract_status" in flags.columns and st.toggle(
        "Active contracts only",
        value=True,
        key=f"{key}:active_only",
        help="Flags on contracts already removed are hidden; switch off to see them.",
    ):
        flags = flags.filter(pl.col("contract_status") != "removed")
    if flags.is_empty():
        st.success("No flags on active contracts.", icon=":material/check:")
        return
    shown = _filtered(flags, key)
    per_rule = money_by_rule(shown).select("rule_title", "money_at_stake_gbp")
    st.caption(
        f"{shown.height:,} of {format.plural(flags.height, 'flag')} on "
        f"{format.plural(shown['provider_code'].n_unique(), 'provider')}. Money at stake "
        "per rule (rules overlap, so these are not added up): "
        + "; ".join(f"{r} {format.gbp(m, short=True)}" for r, m in per_rule.iter_rows())
        + ". Select a row to see its evidence."
    )
    if shown.is_empty():
        st.info("No flags match the rule and severity chosen.", icon=":material/filter_alt_off:")
        return
    index = min(_table(shown, key), shown.height - 1)
    flag = shown.row(index, named=True)
    if key == "flags":  # the Flags page: the selected flag goes in the URL, for a shared link
        st.query_params[FLAG_URL_KEY] = flag_id(flag)
    with st.container(border=True):
        colour = _SEVERITY_COLOURS.get(flag["severity"], "gray")
        st.markdown(
            f":{colour}-badge[{flag['severity'].capitalize()}] "
            f"**{flag['rule_title']} · {flag['subject_code']}**"
        )
        st.markdown(flag["explanation"])
        evidence = evidence_of(flag, filters)
        figure = flag_charts.draw(evidence)
        if figure is None:
            st.info("No weekly figures to chart for this flag.")
        else:
            st.plotly_chart(figure, key=f"{key}:chart", config={"displaylogo": False})
            if evidence.note:
                st.caption(evidence.note)
        st.caption(
            f"Severity {flag['severity']}. Money at stake "
            f"{format.gbp(flag['money_at_stake_gbp'])}; contract value apportioned to these "
            f"weeks {format.gbp(flag['contract_value_gbp'])}. "
            + settings_sentence(flag["rule"], flag["parameters"])
        )
    st.caption("The downloads have every field of the flags shown, with the figures behind them.")
    download_table(shown, "flags", filters, key=f"{key}:download")


def setting_value(p: Param, value: Value) -> str:
    """One setting's value as a reader wants it: a name, a whole number, 5×, 15% or 0.25."""
    if p.choices:
        return str(value).capitalize()
    if p.integer:
        return f"{int(value):,}"
    number = float(value)
    if "multiple" in p.label.lower():
        return f"{number:g}×"
    return format.pct(number) if p.maximum <= 1 else f"{number:g}"


def _in_sentence(label: str) -> str:
    """ "Price multiple" → "price multiple"; "NHS utilisation threshold" stays."""
    return label if label[:2].isupper() else label[0].lower() + label[1:]


def _setting(p: Param, value: Value) -> str:
    """One setting in words: "window 6 weeks" (a one-word unit in the label goes after the
    value), "price multiple 5×"."""
    label, unit = _in_sentence(p.label), ""
    if label.endswith(")") and " (" in label and " " not in label.rsplit(" (", 1)[1]:
        label, unit = label[:-1].rsplit(" (", 1)
    return f"{label} {setting_value(p, value)}" + (f" {unit}" if unit else "")


def settings_sentence(rule_name: str, parameters: str | None) -> str:
    """A flag's rule settings (stored as JSON) as a sentence of labelled, formatted values,
    e.g. "Rule settings: price multiple 5×." (nothing when the rule has none)."""
    values = json.loads(parameters or "{}")
    rule = next((r for r in RULES if r.name == rule_name), None)
    params = {p.key: p for p in rule.params} if rule is not None else {}
    shown = [_setting(params[k], v) for k, v in sorted(values.items()) if k in params]
    return f"Rule settings: {'; '.join(shown)}." if shown else ""


def render_notes(notes: tuple[str, ...]) -> None:
    """What the rules could not assess (e.g. SPC series too short for limits), said plainly."""
    for note in notes:
        st.info(note, icon=":material/info:")


# --------------------------------------------------------------------------------------------
# backtest
# --------------------------------------------------------------------------------------------


def _weeks(x: float | None) -> str:
    return "–" if x is None else f"{x:g} week{'' if x == 1 else 's'}"


def render_backtest(filters: Filters, overrides: Overrides, *, key: str) -> None:
    """The backtest under the filters' subjects and scope (every loaded week is replayed):
    a sentence, the per-rule hit rates and lead times, the removed contracts each rule called,
    the active contracts that look like them, and the CSV."""
    st.caption(
        "The rules are replayed week by week, each time with only the data up to that week, "
        "against the contracts commissioners actually removed. A hit is a removed contract the "
        "rule flagged before its removal date; the lead time counts the whole weeks from the "
        "end of that week to the removal. Rule settings above apply; the period filter does not "
        "(every loaded week is replayed)."
    )
    warmup = st.number_input(
        "Start the replay after this many weeks of data",
        min_value=1,
        max_value=MAX_WARMUP_WEEKS,
        value=1,
        step=1,
        key=f"{key}:warmup",
        help="1 replays from the first week, exactly as this page would have shown it then. "
        "More leaves out the first weeks, when a rule's window is cut to the data there is.",
    )
    with st.spinner("Replaying the rules week by week…"):
        result = cached(ev.backtest_for, filters, overrides, int(warmup))
    summary = result.summary
    removed = int(summary["removed_contracts"][0]) if summary.height else 0
    if removed == 0:
        st.info(
            "No contract under these filters has a removal date, so there is nothing to backtest.",
            icon=":material/history:",
        )
        return
    anyrule = summary.filter(pl.col("rule") == "any").row(0, named=True)
    st.markdown(
        f"Of **{removed}** removed contract{'s' if removed != 1 else ''}, the rules flagged "
        f"**{anyrule['hits']}** before removal, a median of "
        f"**{_weeks(anyrule['median_lead_weeks'])}** ahead; "
        f"{format.gbp(anyrule['contract_value_to_removal_gbp'], short=True)} of contract value "
        f"was paid between the first flag and the removal. {anyrule['active_flagged']} of "
        f"{anyrule['active_contracts']} active contracts were flagged at some point too."
    )
    show_table(
        summary.drop("rule"),
        key=f"{key}:summary",
        overrides={
            "rule_title": "Rule",
            "removed_contracts": "Removed",
            "hits": "Hits",
            "misses": "Misses",
            "hit_rate": st.column_config.NumberColumn("Hit rate", format="percent"),
            "median_lead_weeks": st.column_config.NumberColumn("Median lead (weeks)"),
            "longest_lead_weeks": st.column_config.NumberColumn("Longest lead (weeks)"),
            "money_at_stake_gbp": st.column_config.NumberColumn(
                "At stake at first flag", format=tables.GBP
            ),
            "contract_value_to_removal_gbp": st.column_config.NumberColumn(
                "Paid to removal", format=tables.GBP, help="Paid from the first flag to removal."
            ),
            "active_contracts": "Active contracts",
            "active_flagged": "Active flagged",
            "truth_contracts": "Contracts in the answer key",
            "truth_hits": "Hits (answer key)",
            "truth_misses": "Misses (answer key)",
            "false_alarms": "False alarms (answer key)",
            "false_alarm_confounders": "False alarms by confounder",
        },
    )
    st.subheader("Removed contracts: which rule called them, and when")
    called = result.detail.filter(pl.col("outcome") == "removed").select(
        "contract_id",
        "provider_code",
        "provider_name",
        "removed_date",
        "rule_title",
        "fired",
        "first_fired_week",
        "lead_weeks",
        "money_at_stake_gbp",
        "contract_value_to_removal_gbp",
    )
    show_table(
        called,
        key=f"{key}:removed",
        overrides={
            "contract_id": "Contract",
            "provider_code": "Provider",
            "provider_name": "Name",
            "removed_date": st.column_config.DateColumn("Removed", format="D MMM YYYY"),
            "rule_title": "Rule",
            "fired": "Flagged before removal",
            "first_fired_week": st.column_config.DateColumn(
                "First flagged (week of)", format="D MMM YYYY"
            ),
            "lead_weeks": "Weeks of warning",
            "money_at_stake_gbp": st.column_config.NumberColumn("At stake then", format=tables.GBP),
            "contract_value_to_removal_gbp": st.column_config.NumberColumn(
                "Paid until removal", format=tables.GBP
            ),
        },
    )
    st.subheader("Active contracts that look like the removed ones")
    if result.lookalikes.is_empty():
        st.success(
            "No active contract was flagged by a rule that called a removal.",
            icon=":material/check:",
        )
    else:
        show_table(
            result.lookalikes,
            key=f"{key}:lookalikes",
            overrides={
                "contract_id": "Contract",
                "provider_code": "Provider",
                "provider_name": "Name",
                "rules_fired": "Rules",
                "rules": "Which",
                "first_fired_week": st.column_config.DateColumn(
                    "First flagged (week of)", format="D MMM YYYY"
                ),
                "largest_money_at_stake_gbp": st.column_config.NumberColumn(
                    "Largest at stake", format=tables.GBP
                ),
            },
        )
    st.caption("The downloads have one row per contract and rule, removed and active, every field.")
    download_table(result.detail, "backtest", filters, key=f"{key}:download")
