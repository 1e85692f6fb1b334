"""Headline figures as rows of bordered `st.metric` tiles. Pages compute and format the
values; this only lays them out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import streamlit as st


@dataclass(frozen=True)
class Metric:
    """One tile: `st.metric`'s label, value, delta, delta colour and help."""

    label: str
    value: str | int | float | None
    delta: str | None = None
    delta_color: Literal["normal", "inverse", "off"] = "normal"
    help: str | None = None


def show_metrics(metrics: Sequence[Metric], *, per_row: int | None = None) -> None:
    """The tiles in rows of `per_row` columns (all in one row by default), each with a border."""
    width = per_row or max(1, len(metrics))
    for start in range(0, len(metrics), width):
        row = st.columns(width)
        for col, m in zip(row, metrics[start : start + width], strict=False):
            col.metric(
                m.label, m.value, m.delta, delta_color=m.delta_color, border=True, help=m.help,
                # an uncoloured delta is a note (e.g. "£1.4m a month"), not a change: no arrow
                delta_arrow="off" if m.delta_color == "off" else "auto",
            )  # fmt: skip
