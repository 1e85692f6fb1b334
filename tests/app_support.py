"""The dashboard under Streamlit's test harness (AppTest), opened as a browser would open it.

`open_app` runs the entry script with the URL's query parameters, then switches to a page:
what every page test did with its own `_app` helper. `assert_ok` is the check they share:
no exception and no error message on screen.
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from capwatch.ui.scripts import ENTRY_SCRIPT


def open_app(page: str | None = None, *, timeout: float = 60, **params: str) -> AppTest:
    """The app at `page` (a page file; the home page if None) with `params` in the URL."""
    at = AppTest.from_file(str(ENTRY_SCRIPT), default_timeout=timeout)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def assert_ok(at: AppTest) -> None:
    """Nothing went wrong on screen: no exception, no error message."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def open_page(page: str, *, timeout: float = 60, **params: str) -> AppTest:
    """`open_app` at `page`, checked with `assert_ok`."""
    at = open_app(page, timeout=timeout, **params)
    assert_ok(at)
    return at
