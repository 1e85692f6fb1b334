"""Flags page (being built: see issue 4)."""

import streamlit as st

st.title("Flags")
st.info("The flags page is being built.")
