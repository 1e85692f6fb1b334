"""Where the dashboard's files live: the entry script Streamlit serves, the pages, the settings.

The entry script is kept apart from the `pages/` folder on purpose: Streamlit treats a main
script with a `pages/` folder beside it as an old-style multipage app until `st.navigation`
first runs in the process, listing that folder's files to whoever comes first and running a
page file on its own, outside the sign-in gate. Nothing here imports Streamlit.

No links: a checkout (and an editable install of it) serves the top-level `pages/`,
`.streamlit/config.toml` and `data/published/`; a wheel carries them as the data packages
`capwatch/webapp/pages`, `capwatch/webapp/settings` and `capwatch/webapp/published` (the
mapping is `[tool.setuptools.package-dir]` in pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent
_CHECKOUT = _PACKAGE.parent

ENTRY_SCRIPT = Path(__file__).resolve().parent / "entry.py"
"""The dashboard's entry script: sign-in gate, navigation, shared filters, the chosen page."""


def shipped(packaged: str, in_checkout: str) -> Path:
    """`capwatch/webapp/<packaged>` in a wheel, else the checkout's `<in_checkout>`."""
    copy = _PACKAGE / "webapp" / packaged
    return copy if copy.exists() else _CHECKOUT / in_checkout


PAGES_DIR = shipped("pages", "pages")
"""One file per page; `st.Page` is given each file's absolute path."""


def page_file(name: str) -> str:
    """The absolute path of `pages/<name>.py`, as `st.Page` takes it."""
    return str(PAGES_DIR / f"{name}.py")
