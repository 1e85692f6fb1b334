"""Colours used on every page, so a service line or a measure looks the same everywhere."""

from __future__ import annotations

NHS_BLUE = "#005EB8"
NHS_DARK_BLUE = "#003087"
NHS_GREY = "#425563"

# Okabe–Ito (colour-blind safe) for the four service lines.
SERVICE_LINE_COLOURS: dict[str, str] = {
    "diagnostics": "#0072B2",
    "day_case": "#E69F00",
    "chemotherapy": "#009E73",
    "outpatients": "#CC79A7",
}

# Used / unused / private: blue, light grey, orange (distinct for every common colour blindness).
USED = NHS_BLUE
UNUSED = "#C8CDD2"
# Money lost to unused capacity, where a bar must stand out on white: NHS mid grey.
UNUSED_COST = "#768692"
PRIVATE = "#D55E00"

# Making Data Count, as NHSRplotthedots sets them.
SPC_COMMON = "#a6a6a6"
SPC_IMPROVEMENT = "#00b0f0"
SPC_CONCERN = "#e46c0a"
SPC_MEAN = "#000000"
SPC_TARGET = "#de1b1b"
