"""The dashboard as installed: its ASGI app, its Streamlit settings and the demo's published data.

`app.py` here serves the same app as the checkout's top-level `app.py`. The settings
(`.streamlit/config.toml`) and `data/published/` (the demo's extract of published DM01 data)
are the checkout's own files in a checkout or an editable install, and copies a wheel carries
(see `capwatch.ui.scripts.shipped`), so `capwatch demo` works from any folder.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from capwatch.ui.scripts import shipped


def entry_script() -> Path:
    """The script `streamlit run` serves (`capwatch.ui.scripts` finds the pages)."""
    return Path(__file__).resolve().parent / "app.py"


def streamlit_options() -> list[str]:
    """The shipped Streamlit settings (theme, no error details, ...) as command-line options.

    Streamlit reads `.streamlit/config.toml` only from the current folder (and the user's home),
    so an installed app served from another folder would lose them otherwise.
    """
    config = shipped("settings/config.toml", ".streamlit/config.toml")
    settings = tomllib.loads(config.read_text(encoding="utf-8"))
    return [
        f"--{section}.{key}={value if not isinstance(value, bool) else str(value).lower()}"
        for section, values in settings.items()
        for key, value in values.items()
    ]


def published_data() -> Path:
    """The folder of published NHS data the demo loads (the DM01 extract and its attribution)."""
    return shipped("published", "data/published")
