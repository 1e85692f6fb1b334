"""The analytics layer: the only place that knows how utilisation, costs and flags are computed.

Functions take a `capwatch.db.Database` and `Filters` and return Polars frames or small
dataclasses. Pages and the CLI call them; they never write SQL for a metric themselves.
"""
