"""The one read-only database handle the app shares between sessions, and cached analytics.

API used by every page (keep it stable):
- `get_db() -> Database`: the shared reader for the configured database.
- `cached(fn, *args)`: `fn(get_db(), *args)` through `st.cache_data`, keyed on the function,
  its arguments (e.g. `Filters`) and the database file's identity (`Database.version()`), so a
  new load shows without a restart. `fn` must be a module-level analytics function.
- `show_errors()`: a context manager that turns errors into a plain `st.error` message.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast

import streamlit as st

from capwatch import config
from capwatch.db import Database
from capwatch.errors import CapwatchError, DatabaseMissing

T = TypeVar("T")
CACHE_TTL_S = 15 * 60
CACHE_MAX_ENTRIES = 512
NO_DATA_MESSAGE = "No data loaded yet: run `capwatch demo` or `capwatch ingest`."

log = logging.getLogger("capwatch.ui")


@st.cache_resource(show_spinner=False)
def _database(path: str) -> Database:
    return Database(path)


def get_db() -> Database:
    """The shared reader for the configured database (`$CAPWATCH_DB` or data/capacity.duckdb).

    `Database` hands each query its own cursor, so one handle serves every session safely,
    and it reopens the file when a load has swapped a new one in.
    """
    return _database(str(config.resolve_db_path().resolve()))


@st.cache_data(ttl=CACHE_TTL_S, max_entries=CACHE_MAX_ENTRIES, show_spinner=False)
def _cached_call(
    target: str, path: str, version: tuple[int, int, int] | None, args: tuple[Any, ...]
) -> Any:
    del version  # part of the cache key only: a new file means new results
    module, name = target.split(":")
    fn = getattr(importlib.import_module(module), name)
    return fn(_database(path), *args)


def cached(fn: Callable[..., T], *args: Any) -> T:
    """`fn(get_db(), *args)`, cached on the function, the arguments and the database file."""
    db = get_db()
    key = f"{fn.__module__}:{fn.__qualname__}"
    return cast(T, _cached_call(key, str(db.path), db.version(), args))  # fn's own result


@contextlib.contextmanager
def show_errors() -> Iterator[None]:
    """Show a plain message instead of a traceback (Streamlit's own control flow passes)."""
    try:
        yield
    except DatabaseMissing:
        st.error(NO_DATA_MESSAGE, icon=":material/database:")
    except CapwatchError as exc:
        st.error(str(exc), icon=":material/error:")
    except Exception:
        log.exception("page failed")
        st.error(
            "Something went wrong while preparing this view. Try other filters or reload the "
            "page; if it keeps happening, tell the capwatch maintainers.",
            icon=":material/error:",
        )
