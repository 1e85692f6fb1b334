"""Polars pipelines from raw files to validated frames, and the loader into DuckDB.

read → normalise → validate → load. Nothing here imports Streamlit.
"""
