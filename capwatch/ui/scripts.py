"""Where the dashboard's scripts live: the entry script Streamlit serves and the page files.

The entry script is kept apart from the `pages/` folder on purpose: Streamlit treats a main
script with a `pages/` folder beside it as an old-style multipage app until `st.navigation`
first runs in the process, listing that folder's files to whoever comes first and running a
page file on its own, outside the sign-in gate. Nothing here imports Streamlit.
"""

from __future__ import annotations

from pathlib import Path

ENTRY_SCRIPT = Path(__file__).resolve().parent / "entry.py"
"""The dashboard's entry script: sign-in gate, navigation, shared filters, the chosen page."""

PAGES_DIR = Path(__file__).resolve().parent.parent / "webapp" / "pages"
"""One file per page (`capwatch.webapp`: a link to the checkout's `pages/`, or the copy a
wheel carries); `st.Page` is given each file's absolute path."""


def page_file(name: str) -> str:
    """The absolute path of `pages/<name>.py`, as `st.Page` takes it."""
    return str(PAGES_DIR / f"{name}.py")
