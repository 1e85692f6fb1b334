"""The house style for numbers, dates and names on screen: every page formats through here.

Money: compact in tiles, sentences and chart axes (`gbp_compact`: £1.54bn, £932m, £726k, three
significant figures), exact in tables (`gbp`: £1,535,700,462). Percentages: one decimal place
everywhere (`pct`: 22.7%). Dates: UK style, no leading zero (`uk_date`: 1 Jun 2020; `uk_month`:
Apr 2020). Service lines and activity types: one label each (`line_label`, `activity_label`).
Downloads keep the raw numbers and the codes.
"""

from __future__ import annotations

import math
from datetime import date, datetime

MISSING = "–"
"""What a cell or tile shows for an unknown value (never `None`)."""

PCT_DIGITS = 1

SERVICE_LINE_LABELS: dict[str, str] = {
    "diagnostics": "Diagnostics",
    "day_case": "Day case",
    "chemotherapy": "Chemotherapy",
    "outpatients": "Outpatients",
    "all": "All service lines",
}
"""The one on-screen label of each service line code."""

ACTIVITY_TYPE_LABELS: dict[str, str] = {
    "ct": "CT",
    "mri": "MRI",
    "non_obstetric_ultrasound": "Non-obstetric ultrasound",
    "endoscopy": "Endoscopy",
    "general_surgery": "General surgery",
    "ophthalmology": "Ophthalmology",
    "trauma_orthopaedics": "Trauma and orthopaedics",
    "urology": "Urology",
    "chemotherapy_delivery": "Chemotherapy delivery",
    "outpatient_first": "Outpatient first",
    "outpatient_follow_up": "Outpatient follow-up",
}
"""On-screen labels of the activity type codes the contract names; others are tidied."""

WHOLE_LINE = "(whole line)"


def _missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def gbp(x: float | None, *, short: bool = False) -> str:
    """Exact money for tables: £1,234,567 (`short=True` is `gbp_compact`)."""
    if short:
        return gbp_compact(x)
    if _missing(x):
        return MISSING
    assert x is not None
    return f"-£{abs(x):,.0f}" if x < 0 else f"£{x:,.0f}"


def _three_figures(value: float) -> str:
    """Three significant figures without trailing zeros: 1.54, 932, 72.6, 5."""
    digits = max(0, 2 - math.floor(math.log10(abs(value)))) if value else 0
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def gbp_compact(x: float | None) -> str:
    """Compact money for tiles, sentences and axes: £1.54bn, £932m, £726k, £940."""
    if _missing(x):
        return MISSING
    assert x is not None
    sign, size = ("-" if x < 0 else ""), abs(x)
    steps = ((1e9, "bn"), (1e6, "m"), (1e3, "k"))
    for i, (scale, suffix) in enumerate(steps):
        if size >= scale:
            text = _three_figures(size / scale)
            if i > 0 and float(text) >= 1000:  # 999,950 is £1m, not £1000k
                scale, suffix = steps[i - 1]
                text = _three_figures(size / scale)
            return f"{sign}£{text}{suffix}"
    return f"{sign}£{size:,.0f}"


def pct(x: float | None, digits: int = PCT_DIGITS) -> str:
    """0.3333 → 33.3% (one decimal place everywhere)."""
    if _missing(x):
        return MISSING
    assert x is not None
    return f"{x * 100:.{digits}f}%"


def units(x: float | None) -> str:
    """Whole units with thousands separators."""
    if _missing(x):
        return MISSING
    assert x is not None
    return f"{x:,.0f}"


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """1 flag, 2 flags, 1 provider, 3 activities (`plural_noun` where -s is wrong)."""
    word = noun if count == 1 else (plural_noun or noun + "s")
    return f"{count:,} {word}"


def uk_date(day: date | datetime | None) -> str:
    """1 Jun 2020 (no leading zero, no time)."""
    if day is None:
        return MISSING
    return f"{day.day} {day:%b %Y}"


def uk_datetime(moment: datetime | None) -> str:
    """1 Jun 2020 14:05 (a time of day, where it matters: loads, audit)."""
    if moment is None:
        return MISSING
    return f"{uk_date(moment)} {moment:%H:%M}"


def uk_month(day: date | datetime | None) -> str:
    """Apr 2020."""
    if day is None:
        return MISSING
    return f"{day:%b %Y}"


def line_label(service_line: str | None) -> str:
    """day_case → Day case: the one label of a service line everywhere on screen."""
    if not service_line:
        return WHOLE_LINE
    code = service_line.strip().lower().replace("-", "_").replace(" ", "_")
    return SERVICE_LINE_LABELS.get(code, code.replace("_", " ").capitalize())


def activity_label(activity_type: str | None) -> str:
    """trauma_orthopaedics → Trauma and orthopaedics; an empty type is the whole line. A label
    as a provider wrote it (`T&O`, `Gastroscopy (OGD)`) is kept as it is."""
    if not activity_type:
        return WHOLE_LINE
    code = activity_type.strip()
    if code.lower() in ACTIVITY_TYPE_LABELS:
        return ACTIVITY_TYPE_LABELS[code.lower()]
    if code.islower() and " " not in code and "_" in code:  # an unknown code: tidy it
        return code.replace("_", " ").capitalize()
    return code


def signed_pct_points(x: float | None, digits: int = PCT_DIGITS) -> str | None:
    """A change in a ratio as percentage points: +2.5 pp (None if unknown: no delta shown)."""
    if _missing(x):
        return None
    assert x is not None
    return f"{x * 100:+.{digits}f} pp"


def signed_gbp(x: float | None) -> str | None:
    """A change in money: +£1.2m / -£340k (None if unknown: no delta shown)."""
    if _missing(x):
        return None
    assert x is not None
    return ("+" if x >= 0 else "-") + gbp_compact(abs(x))


def signed_units(x: float | None) -> str | None:
    """A change in units: +1,234 (None if unknown: no delta shown)."""
    if _missing(x):
        return None
    assert x is not None
    return f"{x:+,.0f}"
