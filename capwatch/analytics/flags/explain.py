"""Numbers as a contract manager reads them aloud, for flag explanations.

Kept here, not in `capwatch.ui.format`, because the analytics layer never imports the UI.
"""

from __future__ import annotations

import math
from datetime import date

LINE_WORDS: dict[str, str] = {
    "diagnostics": "diagnostics",
    "day_case": "day-case",
    "chemotherapy": "chemotherapy",
    "outpatients": "outpatient",
}


def line(service_line: str | None) -> str:
    """`day_case` → `day-case` (adjective form)."""
    if not service_line:
        return ""
    return LINE_WORDS.get(service_line, service_line.replace("_", " "))


def pct(x: float | None, digits: int | None = None) -> str:
    """0.1412 → 14%; below 1% one decimal (0.4%) unless `digits` says otherwise."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if digits is None:
        digits = 1 if abs(x) < 0.01 and x != 0 else 0
    return f"{x * 100:.{digits}f}%"


def pct_pair(value: float, limit: float) -> tuple[str, str]:
    """Both as percentages, with enough decimals that a value below a limit does not read as
    equal to it (14.96% against 15%, not 15% against 15%)."""
    for digits in (0, 1, 2, 3):
        a, b = pct(value, digits), pct(limit, digits)
        if a != b or value == limit:
            return (pct(value), pct(limit)) if digits == 0 else (a, b)
    return pct(value, 3), pct(limit, 3)


def gbp(x: float | None) -> str:
    """£1.2m, £340k, £950."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    for size, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(x) >= size:
            return f"£{x / size:,.1f}{suffix}"
    return f"£{x:,.0f}"


def gbp_exact(x: float | None) -> str:
    """£1,234 (whole pounds)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"£{x:,.0f}"


def units(x: float | None) -> str:
    """2210 → 2,210."""
    if x is None:
        return "–"
    return f"{x:,.0f}"


def day(d: date) -> str:
    """2020-08-23 → 23 Aug 2020."""
    return f"{d.day} {d:%b %Y}"


def weeks(n: int) -> str:
    return "1 week" if n == 1 else f"{n} weeks"
