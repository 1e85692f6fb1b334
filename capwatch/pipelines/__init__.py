"""Polars pipelines from raw files to validated frames: read → normalise → validate.

One folder, one name: `capwatch.pipelines` (it lived at the top level behind a link until
issue 23; see docs/development.md). Nothing here imports Streamlit or opens the database:
the loader that writes the frames is `capwatch.load`.
"""
