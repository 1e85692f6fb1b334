"""Polars pipelines from raw files to validated frames: read → normalise → validate.

Installed as `capwatch.pipelines` (the top-level `pipelines/` folder is the source; see
`capwatch/pipelines`, a link to it). Nothing here imports Streamlit or opens the database:
the loader that writes the frames is `capwatch.load`.
"""
