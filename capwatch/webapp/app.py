"""The installed dashboard, as `capwatch demo` serves it: the same ASGI `App` as `app.py`.

`streamlit run` finds an `App` by reading the file (not importing it), so this module says it
again rather than importing the top-level `app.py`, which a wheel does not carry;
tests/test_packaging.py checks that the two stay the same.
"""

from streamlit.starlette import App

from capwatch.ui.scripts import ENTRY_SCRIPT

app = App(ENTRY_SCRIPT)
