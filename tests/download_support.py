"""The files a page's download buttons would make, for AppTest page tests.

The buttons make their files when clicked, on the server's own thread and without a rerun
(Streamlit's deferred download), so AppTest never runs them: `deferred_files` catches the
callables the buttons register, by file name, to be run as the server would.
"""

from __future__ import annotations

from typing import Any

import pytest


def deferred_files(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """From now on, every deferred download registered: file name -> its callable."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    made: dict[str, Any] = {}
    register = MediaFileManager.add_deferred

    def catch(self, data_callable, mimetype, coordinates, file_name=None, **kw):  # type: ignore[no-untyped-def]
        made[str(file_name)] = data_callable
        return register(self, data_callable, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", catch)
    return made
