"""Page-wide CSS the theme cannot set: readable captions (WCAG 2.1 AA contrast), print
styles (no sidebar, tables at full width, the synthetic badge whole) and a first screen that
works on a phone (390 px: the sidebar starts closed there and the content is not squeezed).

`apply()` is called once per run by the entry script.
"""

from __future__ import annotations

import streamlit as st

CAPTION_GREY = "#4C6272"  # NHS dark grey: 6.2:1 on white, 5.7:1 on the sidebar's grey

CSS = f"""
<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p,
[data-testid="stWidgetLabel"] p, [data-testid="stMetricLabel"] p,
[data-testid="stSliderTickBarMin"], [data-testid="stSliderTickBarMax"] {{
  color: {CAPTION_GREY} !important;
}}
/* Streamlit fades captions to 60% opacity: grey on white at 2.6:1, below AA's 4.5:1 */
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] * {{
  opacity: 1 !important;
}}
[data-testid="stMetricValue"] {{ font-size: 2rem; }}
.capwatch-print-only {{ display: none; }}
@media (max-width: 640px) {{
  [data-testid="stMainBlockContainer"] {{ padding: 1rem 0.75rem 3rem; }}
  [data-testid="stMetricValue"] {{ font-size: 1.5rem; }}
  [data-testid="stHorizontalBlock"] {{ flex-wrap: wrap; gap: 0.5rem; }}
  [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] {{
    min-width: calc(50% - 0.5rem) !important; flex: 1 1 calc(50% - 0.5rem) !important;
  }}
}}
@media print {{
  @page {{ size: A4; margin: 12mm; }}
  [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
  [data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDownloadButton"],
  [data-testid="stElementToolbar"], [data-testid="stStatusWidget"] {{ display: none !important; }}
  [data-testid="stMain"], [data-testid="stMainBlockContainer"] {{
    margin: 0 !important; padding: 0 !important; max-width: none !important; width: 100% !important;
  }}
  [data-testid="stHorizontalBlock"] {{ flex-wrap: wrap !important; }}
  [data-testid="stDataFrame"], [data-testid="stDataFrame"] > div {{
    width: 100% !important; max-width: none !important; height: auto !important;
  }}
  [data-testid="stBadge"], .stBadge, [data-testid="stBadge"] * {{
    max-width: none !important; overflow: visible !important; white-space: normal !important;
    text-overflow: clip !important;
  }}
  .js-plotly-plot, [data-testid="stPlotlyChart"] {{ break-inside: avoid; }}
  /* a table with a printed copy: the copy, whole, instead of the canvas grid cut to the paper */
  [data-testid="stElementContainer"]:has(+ [data-testid="stElementContainer"] .capwatch-print-only)
    [data-testid="stDataFrame"] {{ display: none !important; }}
  table.capwatch-print-only {{
    display: table !important; width: 100%; border-collapse: collapse; font-size: 8pt;
  }}
  .capwatch-print-only th, .capwatch-print-only td {{
    border: 1px solid #AEB7BD; padding: 2px 4px; text-align: left; vertical-align: top;
  }}
  .capwatch-print-only thead {{ display: table-header-group; }}
  .capwatch-print-only tr {{ break-inside: avoid; }}
}}
</style>
"""


def apply() -> None:
    """Add the page-wide CSS (no visible element of its own)."""
    st.html(CSS)
