"""One input for one setting (`capwatch.analytics.flags.params.Param`): the flag rules' and
the verdicts' settings editors both draw their inputs with `parameter_input`."""

from __future__ import annotations

from typing import Any

from capwatch.analytics.flags.params import Param, Value


def number_format(step: float) -> str:
    """The shown precision of a number box: whole, 4 places for small steps, else 2."""
    return "%.0f" if step >= 1 else "%.4f" if step < 0.01 else "%.2f"


def parameter_input(col: Any, p: Param, wkey: str) -> Value:
    """`p`'s input in `col` (a column or `st`) under widget key `wkey`: a select box of its
    names, or a number box within its bounds; its help gives the default and the range."""
    tip = f"{p.help} Default {p.describe_default()}; range {p.describe_range()}."
    if p.choices:
        choice: str = col.selectbox(
            p.label,
            options=list(p.choices),
            index=p.choices.index(str(p.default)),
            format_func=str.capitalize,
            key=wkey,
            help=tip,
        )
        return choice
    if p.integer:
        whole: int = col.number_input(
            p.label,
            min_value=int(p.minimum),
            max_value=int(p.maximum),
            value=int(p.default),
            step=1,
            key=wkey,
            help=tip,
        )
        return whole
    value: float = col.number_input(
        p.label,
        min_value=float(p.minimum),
        max_value=float(p.maximum),
        value=float(p.default),
        step=float(p.step),
        format=number_format(p.step),
        key=wkey,
        help=tip,
    )
    return value
