"""Safe ad hoc SQL: one read-only statement per worker process, locked down and time-limited.

`run_query` is the whole API for the SQL page and `capwatch sql`; see `client` for the layers
of defence and `worker` for what runs in the child process.
"""

from capwatch.sandbox.client import Limits, QueryFailed, QueryResult, run_query
from capwatch.sandbox.screen import screen_sql

__all__ = ["Limits", "QueryFailed", "QueryResult", "run_query", "screen_sql"]
