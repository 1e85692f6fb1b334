"""A verdict read aloud: one sentence with its numbers, its reasons and its strength."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from capwatch.analytics.flags.explain import day, gbp, pct, units, weeks

Row = Mapping[str, Any]


def _period(r: Row) -> str:
    return f"the {weeks(r['weeks_in_window'])} to {day(r['week_start'] + timedelta(days=6))}"


def _use(r: Row) -> str:
    return f"{pct(r['use'])} of its capacity used over {_period(r)}"


def reasons(r: Row, p: Mapping[str, float]) -> list[dict[str, str]]:
    """Every test that held for the contract this week, each with its sentence."""
    out: list[dict[str, str]] = []

    def add(rule: str, sentence: str) -> None:
        out.append({"rule": rule, "sentence": sentence})

    if r["is_few_weeks"]:
        add(
            "few_weeks",
            f"Only {weeks(r['weeks_with_data'])} of returns in the window; "
            f"{int(p['min_weeks'])} are needed.",
        )
    if r["is_missing_returns"]:
        add(
            "missing_returns",
            f"{r['missing_site_weeks']} site-week(s) with no return in {_period(r)}: "
            "missing data, not zero use.",
        )
    if r["use"] is not None and r["is_low_use"]:
        line = p["release_below"] if r["is_very_low_use"] else p["challenge_below"]
        add("low_use", f"{_use(r)}, below {pct(line)}.")
    if r["is_demand_shortfall"] and r["referral_gap"] is not None:
        add(
            "demand_shortfall",
            f"{r['region']} offered {pct(r['referral_gap'])} of the national rate of referrals "
            f"per patient waiting ({units(r['patients_waiting'])} waiting).",
        )
    if r["is_dear"] and r["price_ratio"] is not None:
        add(
            "price",
            f"The contract costs {r['price_ratio']:.2f}× its capacity at reference prices.",
        )
    if r["is_rising"] and r["relative_rise"] is not None:
        add(
            "rising",
            f"Use rose {r['relative_rise']:.1f}× as fast as the nation's within the window.",
        )
    if r["is_private_work"] and r["private_ratio"] is not None:
        ratio = r["private_ratio"]
        text = "only private work" if ratio == float("inf") else f"{ratio:.1f} private units"
        add("private_work", f"Its sites did {text} per NHS unit beside the unused capacity.")
    if not r["is_material"]:
        add(
            "not_material",
            f"Releasing would save {gbp(r['saving_per_month_gbp'])} a month, under the "
            f"materiality test ({gbp(p['material_gbp_month'])} and "
            f"{pct(p['material_share'])} of the {gbp(r['monthly_value_gbp'])} monthly value).",
        )
    return out


def sentence(r: Row) -> str:
    """The verdict in one sentence with its numbers."""
    who = f"{r['provider_name']} ({r['provider_code']})"
    saving = gbp(r["saving_per_month_gbp"])
    monthly = gbp(r["monthly_value_gbp"])
    verdict = r["verdict"]
    if verdict == "not_enough_data":
        if r["is_missing_returns"]:
            return (
                f"Not enough data on {who}: {r['missing_site_weeks']} site-week(s) without a "
                f"return in {_period(r)}; no verdict until the returns are in."
            )
        return (
            f"Not enough data on {who}: {weeks(r['weeks_with_data'])} of returns in the "
            "window so far."
        )
    if verdict == "release":
        why = (
            f"it costs {r['price_ratio']:.2f}× its capacity at reference prices"
            if r["is_price"]
            else _use(r)
        )
        return (
            f"Release {who}: {why}; releasing saves {saving} a month of its {monthly} "
            "monthly value."
        )
    if verdict == "route":
        return (
            f"Route work to {who}: {_use(r)} while {r['region']} offered "
            f"{pct(r['referral_gap'])} of the national referral rate with "
            f"{units(r['patients_waiting'])} patients waiting; {saving} a month sits unused."
        )
    if verdict == "challenge":
        extra = (
            " while its sites did more private work than NHS work" if r["is_private_work"] else ""
        )
        return f"Challenge {who} on delivery: {_use(r)}{extra}; {saving} a month unused."
    if not r["is_material"]:
        return f"Keep {who}: {pct(r['use'])} used; releasing would save only {saving} a month."
    if r["is_low_use"] and r["is_rising"]:
        return (
            f"Keep {who}: {_use(r)}, but rising {r['relative_rise']:.1f}× as fast as the "
            "nation's (a slow start)."
        )
    return f"Keep {who}: {_use(r)}."


def strength(r: Row) -> str:
    """How firm the verdict is, in words, from how long it has held."""
    if r["verdict"] == "not_enough_data":
        return "no verdict yet"
    held = r["weeks_held"]
    word = "strong" if held >= 4 else "moderate" if held >= 2 else "new"
    return f"{word}: held {weeks(held)}"
