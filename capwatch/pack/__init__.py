"""The contract review pack on paper: HTML laid out for A4, printed to PDF by Chromium.

`capwatch.analytics.pack` gathers the content; `charts` draws the static charts with the
dashboard's own figure code (`capwatch.ui.charts`, `capwatch.ui.flag_charts`), `html` lays the
pack out, `render` prints it with Chromium (through Playwright) and fixes the PDF's dates so
the same data gives the same bytes, and `make` ties them together with the access scope and
the audit log. Nothing in this package imports Streamlit: the CLI uses it as the app does.
"""
