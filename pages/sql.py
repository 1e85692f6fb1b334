"""Ad hoc SQL page (being built: see issue 5)."""

import streamlit as st

st.title("Ask the data (SQL)")
st.info("The SQL page is being built.")
