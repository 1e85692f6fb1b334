"""Numbers as people read them on screen. CSV downloads keep the raw numbers."""

from __future__ import annotations

import math


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def gbp(x: float | None, *, short: bool = False) -> str:
    """£1,234,567 or, short, £1.2m / £340k."""
    if _missing(x):
        return "–"
    assert x is not None
    if short:
        for size, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
            if abs(x) >= size:
                return f"£{x / size:,.1f}{suffix}"
    return f"£{x:,.0f}"


def pct(x: float | None, digits: int = 1) -> str:
    """0.3333 → 33.3%."""
    if _missing(x):
        return "–"
    assert x is not None
    return f"{x * 100:.{digits}f}%"


def units(x: float | None) -> str:
    """Whole units with thousands separators."""
    if _missing(x):
        return "–"
    assert x is not None
    return f"{x:,.0f}"


def line_label(service_line: str) -> str:
    """day_case → Day case (service lines and activity types as people write them)."""
    if not service_line:
        return "(whole line)"
    return service_line.replace("_", " ").capitalize()


def signed_pct_points(x: float | None, digits: int = 1) -> str | None:
    """A change in a ratio as percentage points: +2.5 pp (None if unknown)."""
    if _missing(x):
        return None
    assert x is not None
    return f"{x * 100:+.{digits}f} pp"


def signed_gbp(x: float | None) -> str | None:
    """A change in money: +£1.2m / -£340k (None if unknown)."""
    if _missing(x):
        return None
    assert x is not None
    return ("+" if x >= 0 else "-") + gbp(abs(x), short=True)


def signed_units(x: float | None) -> str | None:
    """A change in units: +1,234 (None if unknown)."""
    if _missing(x):
        return None
    assert x is not None
    return f"{x:+,.0f}"
