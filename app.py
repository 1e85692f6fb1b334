"""capwatch dashboard: `streamlit run app.py` (or `capwatch demo`) serves the app.

The app's entry script is `capwatch/ui/entry.py`. It is served through Streamlit's `st.App`
rather than run from here because Streamlit treats a script with a `pages/` folder beside it
as an old-style multipage app (listing the folder's files in the sidebar and running a page
file on its own, outside the sign-in gate) until `st.navigation` first runs. The entry script
has no `pages/` folder beside it, so that mode never starts, whatever the first request.
"""

import streamlit as st

from capwatch.ui.scripts import ENTRY_SCRIPT

app = st.App(ENTRY_SCRIPT)
