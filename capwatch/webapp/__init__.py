"""The dashboard's files, shipped inside the package: the Streamlit entry script and its pages.

`app.py`, `pages/` and `streamlit_config.toml` here are links to the checkout's top-level
`app.py`, `pages/` and `.streamlit/config.toml`: an editable install serves the checkout's
files, and a wheel carries copies of them, so `capwatch demo` works from any folder.
"""

from __future__ import annotations

import tomllib
from importlib.resources import files
from pathlib import Path


def _shipped(name: str) -> Path:
    resource = files(__name__).joinpath(name)
    if not isinstance(resource, Path):  # a zip import: Streamlit needs real files
        raise RuntimeError(f"capwatch's {name} is not a file on disk: install capwatch unzipped")
    return resource


def entry_script() -> Path:
    """The script `streamlit run` serves (its pages are found beside it)."""
    return _shipped("app.py")


def streamlit_options() -> list[str]:
    """The shipped Streamlit settings (theme, no error details, ...) as command-line options.

    Streamlit reads `.streamlit/config.toml` only from the current folder (and the user's home),
    so an installed app served from another folder would lose them otherwise.
    """
    settings = tomllib.loads(_shipped("streamlit_config.toml").read_text(encoding="utf-8"))
    return [
        f"--{section}.{key}={value if not isinstance(value, bool) else str(value).lower()}"
        for section, values in settings.items()
        for key, value in values.items()
    ]
