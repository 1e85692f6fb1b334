"""Streamlit helpers shared by the pages: connection, shared filters, formatting, downloads.

Only `app.py` and `pages/` import this package; the analytics layer never does.
"""
