"""capwatch dashboard: `streamlit run app.py` (or `capwatch demo`) serves the app.

The app's entry script is `capwatch/ui/entry.py`, served here through Streamlit's ASGI `App`
(which `streamlit run` finds in this file). It is not run from here because Streamlit treats
a script with a `pages/` folder beside it as an old-style multipage app until `st.navigation`
first runs in the process: it lists the folder's files in the sidebar and runs a page file
on its own, outside the sign-in gate, for whoever comes first. The entry script has no
`pages/` folder beside it, so that mode never starts, whatever the first request.
"""

from streamlit.starlette import App

from capwatch.ui.scripts import ENTRY_SCRIPT

app = App(ENTRY_SCRIPT)
