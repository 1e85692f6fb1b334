"""Polars pipelines from raw files to validated frames: read → normalise → validate.

A top-level package of its own (`import pipelines`), where the design puts it, shipped in the
wheel beside `capwatch`. Nothing here imports Streamlit or opens the database: the loader that
writes the frames is `capwatch.load`.
"""
